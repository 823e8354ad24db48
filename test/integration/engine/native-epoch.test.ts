/**
 * Date/time columns whose numbers are read as instants (TargetColumn.epoch: unix, unix-ms,
 * coredata) take the armp_copy extension too: its COPY text and its h64 checksum (the stored
 * numbers, values.ts instantCanonical) must equal the JavaScript encoder's exactly.
 */
import * as path from "path";
import Database from "better-sqlite3";
import { RowSum } from "../../../migrate/engine/checksum";
import { sourceSelect, type TargetColumn } from "../../../migrate/engine/copy";
import { TableEncoder } from "../../../migrate/engine/encode";
import { introspect, type SourceTable } from "../../../migrate/engine/introspect";
import { NativeBlockEncoder, nativePlan, nativeSpec } from "../../../migrate/engine/native";
import { openSource } from "../../../migrate/engine/sqlite";
import { kindOfPgType } from "../../../migrate/engine/typemap";
import type { Epoch } from "../../../migrate/engine/values";
import { sha256File, tempDir } from "./helpers";

const col = (column: string, pgType: string, epoch?: Epoch): TargetColumn => ({ column, target: column, pgType, ...kindOfPgType(pgType), ...(epoch ? { epoch } : {}) });
const cols: TargetColumn[] = [col("id", "bigint"), col("u", "timestamp without time zone", "unix"), col("m", "timestamp with time zone", "unix-ms"), col("c", "timestamp without time zone", "coredata"), col("cd", "date", "coredata"), col("ud", "date", "unix")];

/** Values per epoch column, cycled through the rows (plus a NULL every seventh row). */
const POOLS: Record<string, unknown[]> = {
  u: [1700000000n, 1700000000123n, -86400n, -1n, 0n, 1700000000.25, -1.5, 1e11 + 0.5, 0.0078125, 1699999999.9999995, -62135596800n, 253402300799n, "2020-01-02 03:04:05.123456", "2020-01-02T03:04:05Z", "1969-12-31 23:59:59.5"],
  m: [1700000000123n, -1n, 5n, 1700000000123.5, -0.0005, 0.0625, "2021-05-06 07:08:09", "2021-05-06T07:08:09.7Z"],
  c: [0n, 700000000n, -978307200n, -1000n, 700000000.123456, -0.5, 1e-7, 3.0000005, "2001-01-01 00:00:00", "2024-02-29T12:00:00.5Z", "1990-06-15 08:30:00"],
  cd: [0n, 8640000n, -86400n, 86400.0, "2024-02-29", "2001-01-01"],
  ud: [0n, 1700006400n, 1700006400000n, -86400n, "2024-02-29"],
};

function writeSource(file: string, rows: number, extra: Record<string, unknown>[] = []): void {
  const db = new Database(file);
  try {
    db.exec("CREATE TABLE e (id INTEGER PRIMARY KEY, u, m, c, cd, ud)");
    const ins = db.prepare("INSERT INTO e (id, u, m, c, cd, ud) VALUES (?, ?, ?, ?, ?, ?)");
    db.transaction(() => {
      for (let r = 0; r < rows; r++) ins.run(r * 2 + 1, ...["u", "m", "c", "cd", "ud"].map((k, i) => ((r + i) % 7 === 6 ? null : POOLS[k][(r * (i + 1)) % POOLS[k].length])));
      extra.forEach((x, k) => ins.run(rows * 2 + 1 + k, x.u ?? null, x.m ?? null, x.c ?? null, x.cd ?? null, x.ud ?? null));
    })();
  } finally {
    db.close();
  }
}

function jsEncode(db: Database.Database, t: SourceTable): { lines: string[]; sum: string } {
  const sel = sourceSelect(t, cols);
  const sum = new RowSum("h64");
  const enc = new TableEncoder(db, t, cols, sel.keyIdx, sel.keyNames, sum);
  const lines: string[] = [];
  for (const row of db.prepare(sel.sql).raw(true).safeIntegers(true).iterate() as Iterable<unknown[]>) lines.push(enc.encode(row));
  return { lines, sum: sum.finish().checksum };
}

function nativeEncode(db: Database.Database, t: SourceTable, binary: boolean): { text: string; sum: string; fallbackRows: number; rows: number; binary: boolean } {
  const sel = sourceSelect(t, cols);
  const plan = nativePlan(db, t, cols, "h64", sel, { binary });
  if (plan === null) throw new Error("no native plan for a table with epoch columns");
  const sum = new RowSum("h64");
  const enc = new NativeBlockEncoder(db, plan, new TableEncoder(db, t, cols, sel.keyIdx, sel.keyNames, sum), t.name);
  const state = { rows: 0, problem: null };
  let text = "";
  for (const chunk of enc.chunks(0n, 1n << 40n, state)) text += binary ? chunk.toString("hex") : chunk.toString("utf8");
  expect(state.problem).toBeNull();
  return { text, sum: enc.sum(sum)!.checksum, fallbackRows: enc.fallbackRows, rows: state.rows, binary: plan.binary };
}

describe("armp_copy and epoch columns (unix, unix-ms, coredata)", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("native-epoch");
  });

  it("carries each column's epoch (unit, offset, origin) in the spec", () => {
    expect(nativeSpec(cols)).toBe("i,t:a:0:0,z:m:0:0,t:s:978307200:978307200000000,d:s:978307200:978307200000000,d:a:0:0");
  });

  it("converts ints, doubles with fractions, negatives, ms magnitudes and text timestamps exactly as JavaScript does, text and binary", () => {
    const file = path.join(dir, "epoch.sqlite");
    writeSource(file, 2000);
    const hash = sha256File(file);
    const db = openSource(file);
    try {
      const t = introspect(db).tables.find((x) => x.name === "e")!;
      const js = jsEncode(db, t);
      const nat = nativeEncode(db, t, false);
      expect([nat.rows, nat.fallbackRows, nat.binary]).toEqual([2000, 0, false]);
      expect(nat.text).toBe(js.lines.join(""));
      expect(nat.sum).toBe(js.sum);
      // Spot checks of the shared result (JavaScript's values).
      expect(js.lines.slice(0, 3)).toEqual([
        "1\t2023-11-14 22:13:20\t2023-11-14 22:13:20.123+00\t2001-01-01 00:00:00\t2001-01-01\t1970-01-01\n",
        "3\t2023-11-14 22:13:20.123\t1970-01-01 00:00:00.005+00\t2000-12-31 23:43:20\t2024-02-29\t1970-01-01\n",
        // -0.0005 ms: its exact double is just above the tie, so -1 microsecond (toFixed(3) = "-0.001").
        "5\t1969-12-31 00:00:00\t1969-12-31 23:59:59.999999+00\t2001-01-01 00:00:00\t2000-12-31\t\\N\n",
      ]);
      const bin = nativeEncode(db, t, true);
      expect([bin.rows, bin.fallbackRows, bin.binary]).toEqual([2000, 0, true]);
      expect(bin.sum).toBe(js.sum);
    } finally {
      db.close();
    }
    expect(sha256File(file)).toBe(hash);
  });

  it("hands back the shapes it leaves to JavaScript (numeric text, offsets, 24:00:00, no calendar date), with the same text and sum", () => {
    const file = path.join(dir, "epoch-back.sqlite");
    writeSource(file, 50, [{ u: "1700000000" }, { c: "2020-01-02T03:04:05+02:00" }, { u: "2020-01-01 24:00:00" }, { m: "2020-02-30 00:00:00" }]);
    const db = openSource(file);
    try {
      const t = introspect(db).tables.find((x) => x.name === "e")!;
      const js = jsEncode(db, t);
      const nat = nativeEncode(db, t, false);
      expect([nat.rows, nat.fallbackRows]).toEqual([54, 4]);
      expect(nat.text).toBe(js.lines.join(""));
      expect(nat.sum).toBe(js.sum);
      expect(js.lines.slice(50)).toEqual(["101\t2023-11-14 22:13:20\t\\N\t\\N\t\\N\t\\N\n", "102\t\\N\t\\N\t2020-01-02 01:04:05\t\\N\t\\N\n", "103\t2020-01-01 24:00:00\t\\N\t\\N\t\\N\t\\N\n", "104\t\\N\t2020-02-30 00:00:00+00\t\\N\t\\N\t\\N\n"]);
    } finally {
      db.close();
    }
  });
});
