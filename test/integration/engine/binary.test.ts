/**
 * COPY BINARY from the armp_copy extension (armp_copy_bin, native.ts, copy-segments.ts): every
 * field it writes must be byte for byte what PostgreSQL's own send function gives for the value the
 * text path sends, values that are not real calendar dates must go back to JavaScript, a table must
 * load as binary tuples with the handed-back rows in text COPY statements between them, and a row
 * PostgreSQL rejects in binary must be reported exactly as the text path reports it.
 */
import * as path from "path";
import Database from "better-sqlite3";
import { prng } from "../../../bench/armp-data";
import { sourceSelect, type TargetColumn } from "../../../migrate/engine/copy";
import { introspect } from "../../../migrate/engine/introspect";
import { binaryColumn, loadNative, nativePlan, nativeSpec } from "../../../migrate/engine/native";
import { openSource } from "../../../migrate/engine/sqlite";
import { kindOfPgType } from "../../../migrate/engine/typemap";
import { MigrationError, runMigration } from "../../../migrate/engine";
import { CopySegments, type CopyFormat } from "../../../migrate/engine/copy-segments";
import { createTestDatabase, withClient } from "../../support/db";
import { restoringEnv, sha256File, tempDir } from "./helpers";

/** Column, SQLite declared type, PostgreSQL type as format_type() names it, its send function. */
const TYPED: [string, string, string, string][] = [
  ["i", "INTEGER", "bigint", "int8send"],
  ["f", "REAL", "double precision", "float8send"],
  ["n2", "NUMERIC(12,2)", "numeric(12,2)", "numeric_send"],
  ["n4", "NUMERIC(20,4)", "numeric(20,4)", "numeric_send"],
  ["n", "NUMERIC", "numeric", "numeric_send"],
  ["b", "BOOLEAN", "boolean", "boolsend"],
  ["d", "DATE", "date", "date_send"],
  ["ts", "DATETIME", "timestamp without time zone", "timestamp_send"],
  ["tz", "TIMESTAMP", "timestamp with time zone", "timestamptz_send"],
];

const col = (column: string, pgType: string): TargetColumn => ({ column, target: column, pgType, ...kindOfPgType(pgType) });

/** Random values for a column (SQLite applies the column's affinity on insert). */
function valueFor(c: string, rnd: () => number): unknown {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const ms = (): number => Math.floor(rnd() * 8.5e12) - 1e11;
  switch (c) {
    case "i":
      return pick([0n, -1n, 9223372036854775807n, -9223372036854775808n, BigInt(Math.floor((rnd() - 0.5) * 2 ** 53))]);
    case "f":
      return pick([rnd() * 1e6, -rnd(), 5e-324, 1e300, 42n, 9007199254740993n, 0.1]);
    case "n2":
      return pick([Math.round(rnd() * 1e8) / 100, -Math.round(rnd() * 1e6) / 100, 0, 0.01, -0.05, 10000, 99999999.99, 1234.5, 17n, -100000000n]);
    case "n4":
      return pick([Math.round(rnd() * 1e8) / 10000, -Math.round(rnd() * 1e6) / 100, 0, 0.0001, -0.05, 10000, 99999999.99, 1234.5, 17n, -100000000n, 0.1]);
    case "n":
      return pick([0n, 10000n, -123456789012345n, 1n, 9999n]);
    case "b":
      return pick([1n, 0n, "true", "off", " Yes "]);
    case "d":
      return pick(["2000-01-01", "1999-12-31", "2024-02-29", "0001-01-01", "9999-12-31", "1970-01-01", new Date(Math.abs(ms())).toISOString().slice(0, 10)]);
    case "ts":
    case "tz":
      return pick([
        BigInt(Math.floor(Math.abs(ms()) / 1000)),
        BigInt(Math.abs(ms())),
        new Date(Math.abs(ms())).toISOString(),
        new Date(Math.abs(ms())).toISOString().slice(0, 19).replace("T", " "),
        "2000-01-01 00:00:00",
        "1999-12-31T23:59:59.999999Z",
        "2020-01-02T03:04:05.123456789Z",
        "2020-01-02 03:04:05.1",
      ]);
  }
  throw new Error(`no values for ${c}`);
}

/** The fields of COPY BINARY tuples (no header): one hex string per field, null for NULL. */
function binaryFields(data: Buffer): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let p = 0;
  while (p < data.length) {
    const n = data.readInt16BE(p);
    p += 2;
    const row: (string | null)[] = [];
    for (let k = 0; k < n; k++) {
      const len = data.readInt32BE(p);
      p += 4;
      if (len < 0) row.push(null);
      else {
        row.push(data.subarray(p, p + len).toString("hex"));
        p += len;
      }
    }
    rows.push(row);
  }
  return rows;
}

/** One call of the extension over the whole table: [sum, rows, handed back rowids, payload]. */
function callExtension(db: Database.Database, fn: "armp_copy" | "armp_copy_bin", spec: string, table: string, columns: string[]): { rows: number; handedBack: bigint[]; payload: Buffer } {
  const blob = db.prepare(`SELECT ${fn}(rowid, ?, ${columns.join(", ")}) FROM ${table}`).pluck().get(spec) as Buffer;
  if (fn === "armp_copy") return { rows: Number(blob.readBigUInt64LE(8)), handedBack: [], payload: blob.subarray(16) };
  const n = Number(blob.readBigUInt64LE(16));
  return { rows: Number(blob.readBigUInt64LE(8)), handedBack: Array.from({ length: n }, (_, k) => blob.readBigInt64LE(24 + 8 * k)), payload: blob.subarray(24 + 8 * n) };
}

describe("COPY BINARY from armp_copy_bin", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("binary");
  });

  it("takes a table in binary only when every column's type has the binary form the extension writes", () => {
    expect(["bigint", "double precision", "numeric(12,2)", "numeric", "boolean", "date", "timestamp without time zone", "timestamp with time zone", "bytea", "jsonb", "json", "text", "character varying(40)", "character varying"].map((t) => binaryColumn(col("c", t)))).toEqual(Array(14).fill(true));
    expect(["integer", "smallint", "real", "character(3)", "uuid", "timestamp(3) without time zone", "varchar(40)", "time without time zone"].map((t) => binaryColumn(col("c", t)))).toEqual(Array(8).fill(false));
    const file = path.join(dir, "plan.sqlite");
    const w = new Database(file);
    w.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER); INSERT INTO t VALUES (1, 2)");
    w.close();
    const db = openSource(file);
    try {
      const t = introspect(db).tables[0];
      const sel = sourceSelect(t, [col("id", "bigint"), col("a", "bigint")]);
      expect(nativePlan(db, t, [col("id", "bigint"), col("a", "bigint")], "h64", sel)!.binary).toBe(true);
      expect(nativePlan(db, t, [col("id", "bigint"), col("a", "integer")], "h64", sel)!.binary).toBe(false);
      expect(nativePlan(db, t, [col("id", "bigint"), col("a", "bigint")], "h64", sel, { binary: false })!.binary).toBe(false);
    } finally {
      db.close();
    }
  });

  it("writes every field exactly as PostgreSQL's send function renders the value the text path sends (4,000 rows)", async () => {
    const file = path.join(dir, "fields.sqlite");
    const rnd = prng(77);
    const w = new Database(file);
    w.exec(`CREATE TABLE v (id INTEGER PRIMARY KEY, ${TYPED.map(([c, t]) => `${c} ${t}`).join(", ")})`);
    const ins = w.prepare(`INSERT INTO v VALUES (${["?", ...TYPED.map(() => "?")].join(", ")})`);
    w.transaction(() => {
      for (let r = 1; r <= 4000; r++) ins.run(r, ...TYPED.map(([c]) => (rnd() < 0.08 ? null : valueFor(c, rnd))));
    })();
    w.close();
    const db = openSource(file);
    const a = await createTestDatabase("bin_fields");
    try {
      expect(loadNative(db)).toBe(true);
      const cols = [col("id", "bigint"), ...TYPED.map(([c, , t]) => col(c, t))];
      const spec = nativeSpec(cols);
      const names = cols.map((c) => c.column);
      const text = callExtension(db, "armp_copy", spec, "v", names);
      const bin = callExtension(db, "armp_copy_bin", spec, "v", names);
      // Every generated value is one the text path converts, so binary converts the same rows.
      expect([text.rows, bin.rows, bin.handedBack.length, text.payload.includes(0)]).toEqual([4000, 4000, 0, false]);
      const lines = text.payload.toString("utf8").split("\n").slice(0, -1).map((l) => l.split("\t"));
      const tuples = binaryFields(bin.payload);
      expect(tuples.length).toBe(4000);
      let compared = 0;
      await withClient(a.url, async (c) => {
        for (let k = 0; k < cols.length; k++) {
          const send = k === 0 ? "int8send" : TYPED[k - 1][3];
          const texts = lines.map((l) => (l[k] === "\\N" ? null : l[k]));
          const r = await c.query<{ h: string | null }>(`SELECT encode(${send}(x::${cols[k].pgType}), 'hex') AS h FROM unnest($1::text[]) WITH ORDINALITY AS u(x, i) ORDER BY i`, [texts]);
          const expected = r.rows.map((x) => x.h);
          expect({ column: cols[k].column, fields: tuples.map((t) => t[k]) }).toEqual({ column: cols[k].column, fields: expected });
          compared += expected.filter((x) => x !== null).length;
        }
      });
      expect(compared).toBeGreaterThan(9 * 3500);
    } finally {
      db.close();
      await a.drop();
    }
  });

  it("hands back dates that are not real calendar dates (the text path passes them to PostgreSQL to judge)", () => {
    const file = path.join(dir, "dates.sqlite");
    const w = new Database(file);
    w.exec("CREATE TABLE d (id INTEGER PRIMARY KEY, d DATE, ts DATETIME)");
    const rows: [number, string | null, string | null][] = [
      [1, "2023-02-29", null],
      [2, "2024-02-29", "2024-02-29 23:59:59"],
      [3, "0000-01-01", null],
      [4, "2023-13-01", null],
      [5, "2023-04-31", null],
      [6, null, "2023-01-01 24:00:00"],
      [7, null, "2023-01-01 23:60:00"],
      [8, null, "2023-06-30 23:59:60"],
      [9, "2023-00-10", null],
      [10, "2023-01-31", "2023-01-31T12:00:00.000001Z"],
    ];
    const ins = w.prepare("INSERT INTO d VALUES (?, ?, ?)");
    for (const r of rows) ins.run(...r);
    w.close();
    const db = openSource(file);
    try {
      loadNative(db);
      const spec = nativeSpec([col("id", "bigint"), col("d", "date"), col("ts", "timestamp without time zone")]);
      const text = callExtension(db, "armp_copy", spec, "d", ["id", "d", "ts"]);
      const bin = callExtension(db, "armp_copy_bin", spec, "d", ["id", "d", "ts"]);
      expect(text.rows).toBe(10);
      expect(bin.handedBack).toEqual([1n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
      expect(bin.rows).toBe(2);
      // 2024-02-29 is 8825 days after 2000-01-01; 2023-01-31T12:00:00.000001 is 728,481,600,000,001 µs.
      expect(binaryFields(bin.payload)).toEqual([
        ["0000000000000002", (8825).toString(16).padStart(8, "0"), (((8825 * 86400 + 86399) * 1e6).toString(16)).padStart(16, "0")],
        ["000000000000000a", (8431).toString(16).padStart(8, "0"), (728481600000001).toString(16).padStart(16, "0")],
      ]);
    } finally {
      db.close();
    }
  });

  it("loads binary tuples with the handed-back rows in text COPY statements between them, frozen, equal to COPY text", async () => {
    const file = path.join(dir, "mixed.sqlite");
    const w = new Database(file);
    w.exec("CREATE TABLE m (id INTEGER PRIMARY KEY, d DATE, note TEXT, amount NUMERIC(12,2))");
    const ins = w.prepare("INSERT INTO m VALUES (?, ?, ?, ?)");
    const rnd = prng(5);
    let textRows = 0;
    w.transaction(() => {
      for (let r = 1; r <= 20000; r++) {
        // A timestamp in a DATE column is left to JavaScript (values.ts converts it), about 1 row in 50.
        const odd = rnd() < 0.02;
        if (odd) textRows++;
        ins.run(r, odd ? "2021-03-04T00:00:00Z" : "2021-03-04", `${"n".repeat(200)} ${r}`, Math.round(rnd() * 1e6) / 100);
      }
    })();
    w.close();
    const hash = sha256File(file);
    const a = await createTestDatabase("bin_mixed");
    const b = await createTestDatabase("bin_text");
    try {
      await restoringEnv(["ARMP_MIGRATE_BINARY"], async () => {
        const on = await runMigration(file, { url: a.url });
        process.env.ARMP_MIGRATE_BINARY = "0";
        const off = await runMigration(file, { url: b.url });
        expect([on.ok, off.ok]).toEqual([true, true]);
        const m = on.copy.tables[0];
        const t = off.copy.tables[0];
        // 20,000 rows of ~220 bytes: the handed-back rows (about 400, ~95 KB of text) fit one text batch.
        expect([m.format, m.rowsWritten, m.copyStatements, t.format, t.copyStatements]).toEqual(["binary", 20000, 2, "text", 1]);
        expect(textRows).toBeGreaterThan(300);
        expect(on.tables[0].sourceChecksum).toBe(off.tables[0].sourceChecksum);
        expect(on.tables[0].targetChecksum).toBe(off.tables[0].targetChecksum);
        const dump = (url: string): Promise<string> => withClient(url, async (c) => (await c.query<{ x: string }>("SELECT string_agg(m::text, E'\\n' ORDER BY id) AS x FROM m")).rows[0].x);
        expect(await dump(a.url)).toBe(await dump(b.url));
        const frozen = await withClient(a.url, async (c) => {
          await c.query("CREATE EXTENSION IF NOT EXISTS pageinspect");
          const pages = Number((await c.query("SELECT pg_relation_size('m') / 8192 AS n")).rows[0].n);
          return (await c.query("SELECT count(*) FILTER (WHERE t_infomask & 768 = 768)::int AS f, count(*)::int AS n FROM generate_series(0, $1::int - 1) p, heap_page_items(get_raw_page('m', p))", [pages])).rows[0] as { f: number; n: number };
      });
      expect(frozen).toEqual({ f: 20000, n: 20000 });
      });
    } finally {
      await a.drop();
      await b.drop();
    }
    expect(sha256File(file)).toBe(hash);
  });

  it("loads a WITHOUT ROWID table through the extension by ranges of its first key column, equal to the JavaScript-only load", async () => {
    const file = path.join(dir, "without-rowid.sqlite");
    const w = new Database(file);
    // Like ARMP's project_publication: a composite key, ~40 rows per first-key value, some
    // timestamps only JavaScript converts (offsets), and a first key column with gaps.
    w.exec("CREATE TABLE pp (project_id INTEGER NOT NULL, publication_id INTEGER NOT NULL, added_at DATETIME, PRIMARY KEY (project_id, publication_id)) WITHOUT ROWID");
    w.exec("CREATE TABLE odd (k INTEGER NOT NULL, v TEXT, PRIMARY KEY (k)) WITHOUT ROWID");
    const ins = w.prepare("INSERT INTO pp VALUES (?, ?, ?)");
    const rnd = prng(11);
    let offsets = 0;
    w.transaction(() => {
      for (let p = 1; p <= 600; p++) {
        if (p % 50 === 0) continue;
        for (let q = 0; q < 40; q++) {
          const off = rnd() < 0.03;
          if (off) offsets++;
          ins.run(p * 7, 100000 - q * 13, off ? "2022-05-06T07:08:09+02:00" : rnd() < 0.1 ? null : "2022-05-06 07:08:09.25");
        }
      }
      // Text in an INTEGER key column: ranges of integers would miss it, so this table stays on JavaScript.
      w.prepare("INSERT INTO odd VALUES (?, ?)").run(1, "a");
      w.prepare("INSERT INTO odd VALUES (?, ?)").run("two", "b");
    })();
    w.close();
    const hash = sha256File(file);
    const db = openSource(file);
    try {
      const [pp, odd] = ["pp", "odd"].map((n) => introspect(db).tables.find((t) => t.name === n)!);
      const ppCols = [col("project_id", "bigint"), col("publication_id", "bigint"), col("added_at", "timestamp without time zone")];
      expect(nativePlan(db, pp, ppCols, "h64", sourceSelect(pp, ppCols))!.blockRowsSql).toContain("WHERE \"project_id\" >= ? AND \"project_id\" < ?");
      expect(nativePlan(db, odd, [col("k", "bigint"), col("v", "text")], "h64", sourceSelect(odd, [col("k", "bigint"), col("v", "text")]))).toBeNull();
    } finally {
      db.close();
    }
    const a = await createTestDatabase("wr_native");
    const b = await createTestDatabase("wr_js");
    try {
      await restoringEnv(["ARMP_MIGRATE_NATIVE"], async () => {
        const on = await runMigration(file, { url: a.url }, { castOverrides: { "odd.k": "text" } });
        process.env.ARMP_MIGRATE_NATIVE = "0";
        const off = await runMigration(file, { url: b.url }, { castOverrides: { "odd.k": "text" } });
        expect([on.ok, off.ok]).toEqual([true, true]);
        const rep = (r: typeof on): string[] => r.copy.tables.map((t) => `${t.table}:${t.rowsWritten}:${t.format}`);
        expect(rep(on).sort()).toEqual(["odd:2:text", `pp:${588 * 40}:binary`]);
        expect(offsets).toBeGreaterThan(400);
        expect(on.tables.map((t) => t.targetChecksum)).toEqual(off.tables.map((t) => t.targetChecksum));
        const dump = (url: string): Promise<string> => withClient(url, async (c) => (await c.query<{ x: string }>("SELECT string_agg(pp::text, E'\\n' ORDER BY project_id, publication_id) AS x FROM pp")).rows[0].x);
        expect(await dump(a.url)).toBe(await dump(b.url));
      });
    } finally {
      await a.drop();
      await b.drop();
    }
    expect(sha256File(file)).toBe(hash);
  });

  it("reports a row PostgreSQL rejects in binary (too long for varchar(5), too many digits for numeric(5,2)) as the text path does, keeping nothing", async () => {
    const cases: [string, string, unknown[][]][] = [
      ["CREATE TABLE r (id INTEGER PRIMARY KEY, v VARCHAR(5))", "INSERT INTO r VALUES (?, ?)", [[1, "ok"], [2, "fine"], [3, "far too long"], [4, "ok"]]],
      ["CREATE TABLE r (id INTEGER PRIMARY KEY, v NUMERIC(5,2))", "INSERT INTO r VALUES (?, ?)", [[1, 12.5], [2, 999.99], [3, 123456], [4, 0]]],
    ];
    for (const [k, [ddl, insert, rows]] of cases.entries()) {
      const file = path.join(dir, `reject${k}.sqlite`);
      const w = new Database(file);
      w.exec(ddl);
      const ins = w.prepare(insert);
      for (const r of rows) ins.run(...r);
      w.close();
      const hash = sha256File(file);
      const errors: MigrationError[] = [];
      const formats: CopyFormat[][] = [];
      await restoringEnv(["ARMP_MIGRATE_BINARY"], async () => {
        for (const binary of ["1", "0"]) {
          process.env.ARMP_MIGRATE_BINARY = binary;
          const a = await createTestDatabase("bin_reject");
          const seen: CopyFormat[] = [];
          const write = CopySegments.prototype.write;
          const spy = jest.spyOn(CopySegments.prototype, "write").mockImplementation(function (this: CopySegments, chunk: Buffer, format: CopyFormat) {
            seen.push(format);
            return write.call(this, chunk, format);
          });
          try {
            // Declared as a cast, the type is the user's: the profile keeps it and PostgreSQL judges the rows.
            const e = await runMigration(file, { url: a.url }, { castOverrides: { "r.v": k === 0 ? "varchar(5)" : "numeric(5,2)" } }).then(
              () => null,
              (x: unknown) => x,
            );
            expect(e).toBeInstanceOf(MigrationError);
            errors.push(e as MigrationError);
            const left = await withClient(a.url, async (c) => Number((await c.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n));
            expect(left).toBe(0);
          } finally {
            spy.mockRestore();
            formats.push([...new Set(seen)]);
            await a.drop();
          }
        }
      });
      // The binary attempt was made, rejected, and the table loaded again as text.
      expect(formats).toEqual([["binary", "text"], ["text"]]);
      const [bin, txt] = errors.map((e) => ({ code: e.code, table: e.meta.table, column: e.meta.column, key: e.meta.key, pgCode: e.meta.pgCode, message: e.message }));
      expect(bin).toEqual(txt);
      expect([bin.code, bin.table, bin.column, bin.key]).toEqual(["ROW_REJECTED", "r", "v", { id: 3 }]);
      expect(sha256File(file)).toBe(hash);
    }
  });
});
