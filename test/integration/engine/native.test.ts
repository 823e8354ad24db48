/**
 * The armp_copy SQLite extension (migrate/native/armp_copy.c, loaded by native.ts) must give the
 * same COPY text and the same checksum as the JavaScript encoder for every value it converts, and
 * hand every other value back (fallback rows) so the JavaScript encoder produces it — and its
 * errors — exactly as before. `npm run build` (part of `npm test`) compiles it; .ci/run makes a
 * failed compile an error, so these tests never run without it.
 */
import * as path from "path";
import Database from "better-sqlite3";
import { prng } from "../../../bench/armp-data";
import { hashText64 } from "../../../migrate/engine/hash64";
import { RowSum } from "../../../migrate/engine/checksum";
import { sourceSelect, type TargetColumn } from "../../../migrate/engine/copy";
import { TableEncoder } from "../../../migrate/engine/encode";
import { rowidBlocks } from "../../../migrate/engine/encode-thread";
import { introspect } from "../../../migrate/engine/introspect";
import { loadNative, NativeBlockEncoder, nativeExtensionPath, nativePlan, nativeRange } from "../../../migrate/engine/native";
import { openSource } from "../../../migrate/engine/sqlite";
import { kindOfPgType } from "../../../migrate/engine/typemap";
import { runMigration, verify } from "../../../migrate/engine";
import { createTestDatabase, withClient } from "../../support/db";
import { sha256File, tempDir } from "./helpers";

/** jsonb text the JavaScript encoder passes on but PostgreSQL rejects (left out of the PostgreSQL test). */
const LONE_SURROGATE = '{"lone": "\\ud800"}';
const NOT_JSON = "not json";

/** Column name, SQLite declared type, target type. */
const COLUMNS: [string, string, string][] = [
  ["i", "INTEGER", "bigint"],
  ["f", "REAL", "double precision"],
  ["n2", "NUMERIC(12,2)", "numeric(12,2)"],
  ["n", "NUMERIC", "numeric"],
  ["b", "BOOLEAN", "boolean"],
  ["d", "DATE", "date"],
  ["ts", "DATETIME", "timestamp"],
  ["tz", "TIMESTAMP", "timestamptz"],
  ["y", "BLOB", "bytea"],
  ["s", "TEXT", "text"],
  ["v", "VARCHAR(40)", "varchar(40)"],
  ["j", "JSON", "jsonb"],
];

/**
 * Values per column: [value, the extension converts it]. Only values the JavaScript encoder accepts
 * (rejected values are bad-input.test.ts's business); `false` marks the ones it must hand back.
 * Column affinity applies on insert: 1 in a BOOLEAN column is stored as INTEGER, 2.5 in TEXT as '2.5'.
 */
function valuePools(rnd: () => number): Record<string, [unknown, boolean][]> {
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  const randomDouble = (): number => {
    for (;;) {
      u32[0] = Math.floor(rnd() * 2 ** 32);
      u32[1] = Math.floor(rnd() * 2 ** 32);
      if (Number.isFinite(f64[0])) return f64[0];
    }
  };
  const text = (): string => {
    const parts = ["a", "Zürich", "数据", "🚀", "\t", "\n", "\r", "\\", "\\N", "O'Brien", '"q"', "\uFFFD", " ", "x".repeat(50)];
    return Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => parts[Math.floor(rnd() * parts.length)]).join("");
  };
  return {
    i: [[0n, true], [-1n, true], [9223372036854775807n, true], [-9223372036854775808n, true], [() => BigInt(Math.floor((rnd() - 0.5) * 1e12)), true]] as [unknown, boolean][],
    f: [[() => randomDouble(), true], [() => rnd() * 10, true], [-0, true], [5e-324, true], [1e300, true], [42n, true], [9007199254740993n, true], [Infinity, false], [-Infinity, false]],
    n2: [[() => Math.round(rnd() * 1e6) / 100, true], [() => -Math.round(rnd() * 1e6) / 100, true], [17n, true], [0.1, true], [0, true], [-0, true], [1.005, false], [0.125, false], [1234567.125, false], [0.001, false]],
    n: [[123n, true], [-5n, true], [1.5, false]],
    b: [[1n, true], [0n, true], ["true", true], [" FALSE ", true], ["yes", true], ["Off", true], ["\tt", true], ["N", true], [1, true]],
    d: [["2024-02-29", true], ["1999-12-31", true], ["2024-02-29T00:00:00Z", false], [1699920000n, false]],
    ts: [
      [() => BigInt(Math.floor(rnd() * 4e9)), true],
      [() => BigInt(Math.floor(rnd() * 4e12)), true],
      [() => new Date(Math.floor(rnd() * 4e12)).toISOString(), true],
      [() => new Date(Math.floor(rnd() * 4e12)).toISOString().slice(0, 19).replace("T", " "), true],
      ["2020-01-02T03:04:05.123456789Z", true],
      ["2020-01-02 03:04:05.100", true],
      ["2020-01-02T03:04:05.000Z", true],
      ["2020-01-02T03:04:05Z", true],
      ["2020-01-02T03:04:05", true],
      [-1n, false],
      ["2020-01-02T03:04:05+02:00", false],
      ["2020-01-02t03:04:05z", false],
      ["2020-01-02", false],
      [253402300799999n, true],
    ],
    tz: [[() => BigInt(Math.floor(rnd() * 4e12)), true], ["2020-01-02T03:04:05.5Z", true], ["2020-01-02 03:04:05-05:00", false]],
    y: [[() => Buffer.from(Array.from({ length: Math.floor(rnd() * 20) }, () => Math.floor(rnd() * 256))), true], [Buffer.alloc(0), true], ["text in a blob column", false]],
    s: [[() => text(), true], [12345n, true], [2.5, true]],
    v: [[() => text().slice(0, 40), true], [() => `v${Math.floor(rnd() * 1000)}`, true]],
    j: [
      [null, true],
      ['{"b": 1, "a": [1, 2.50, "x"], "aa": {"z": null}, "b": -0.0}', true],
      ['[1e2, "\\u00e9\\ud83d\\ude00\\n", true, {"": 1E-3}]', true],
      [LONE_SURROGATE, false],
      [NOT_JSON, false],
    ],
  };
}

/** Writes `rows` random rows (about a tenth NULL per column); returns how many rows hold a value the extension hands back. */
function makeSource(file: string, rows: number, seed: number, forPostgres = false, withoutRowid = false): number {
  const rnd = prng(seed);
  const pools = valuePools(rnd);
  if (forPostgres) pools.j = pools.j.filter(([v]) => v !== LONE_SURROGATE && v !== NOT_JSON);
  const db = new Database(file);
  let handedBack = 0;
  try {
    db.exec(`CREATE TABLE q (id INTEGER PRIMARY KEY, ${COLUMNS.map(([c, t]) => `${c} ${t}`).join(", ")})${withoutRowid ? " WITHOUT ROWID" : ""}`);
    const ins = db.prepare(`INSERT INTO q (id, ${COLUMNS.map(([c]) => c).join(", ")}) VALUES (${["?", ...COLUMNS.map(() => "?")].join(", ")})`);
    db.transaction(() => {
      for (let r = 1; r <= rows; r++) {
        let handBack = false;
        const vals = COLUMNS.map(([c]) => {
          if (rnd() < 0.1) return null;
          // Values the extension hands back are rarer (3 %), so most rows take the native path.
          const all = pools[c];
          const back = all.filter(([, ok]) => !ok);
          const pool = back.length > 0 && rnd() < 0.03 ? back : all.filter(([, ok]) => ok);
          const [v, ok] = pool[Math.floor(rnd() * pool.length)];
          if (!ok) handBack = true;
          return typeof v === "function" ? (v as () => unknown)() : v;
        });
        if (handBack) handedBack++;
        // Gaps in the rowids, as deletes leave them.
        ins.run(r * 3, ...vals);
      }
    })();
  } finally {
    db.close();
  }
  return handedBack;
}

const cols: TargetColumn[] = [["id", "", "bigint"] as [string, string, string], ...COLUMNS].map(([column, , pgType]) => ({ column, target: column, pgType, ...kindOfPgType(pgType) }));

/** Reads a COPY float field: decimal (JavaScript) or C99 hex float (extension). */
function parseFloatField(s: string): number {
  const m = /^(-?)0x([01])(?:\.([0-9a-f]+))?p([+-]\d+)$/.exec(s);
  if (!m) return Number(s);
  const frac = m[3] ?? "";
  const mant = Number(`0x${m[2]}${frac}`) / 16 ** frac.length;
  const v = mant * 2 ** Number(m[4]);
  return m[1] === "-" ? -v : v;
}

function jsEncode(db: Database.Database, t: ReturnType<typeof introspect>["tables"][number]): { lines: string[]; sum: string } {
  const sel = sourceSelect(t, cols);
  const sum = new RowSum("h64");
  const enc = new TableEncoder(db, t, cols, sel.keyIdx, sel.keyNames, sum);
  const lines: string[] = [];
  for (const row of db.prepare(sel.sql).raw(true).safeIntegers(true).iterate() as Iterable<unknown[]>) lines.push(enc.encode(row));
  return { lines, sum: sum.finish().checksum };
}

function nativeEncode(db: Database.Database, t: ReturnType<typeof introspect>["tables"][number]): { lines: string[]; sum: string; fallbackRows: number; rows: number } {
  const sel = sourceSelect(t, cols);
  const plan = nativePlan(db, t, cols, "h64", sel);
  if (plan === null) throw new Error("no native plan");
  const sum = new RowSum("h64");
  const enc = new NativeBlockEncoder(db, plan, new TableEncoder(db, t, cols, sel.keyIdx, sel.keyNames, sum), t.name);
  const state = { rows: 0, problem: null };
  let text = "";
  if (plan.byRowidSql === null) {
    // WITHOUT ROWID: the whole range of the first key column, as copy.ts runs it.
    const range = nativeRange(db, plan)!;
    for (const chunk of enc.chunks(range.from, range.to, state)) text += chunk.toString("utf8");
  } else {
    const blocks = rowidBlocks(db, t)!;
    for (let i = 0; i < blocks.count; i++) {
      const from = BigInt(blocks.base) + BigInt(i) * BigInt(blocks.width);
      for (const chunk of enc.chunks(from, from + BigInt(blocks.width), state)) text += chunk.toString("utf8");
    }
  }
  expect(state.problem).toBeNull();
  return { lines: text.split(/(?<=\n)/), sum: enc.sum(sum)!.checksum, fallbackRows: enc.fallbackRows, rows: state.rows };
}

describe("armp_copy SQLite extension", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("native");
  });

  it("is built and loads into a read-only source connection", () => {
    expect(nativeExtensionPath()).toMatch(/dist\/native\/armp_copy\.so$/);
    const file = path.join(dir, "empty.sqlite");
    new Database(file).close();
    const db = openSource(file);
    try {
      expect(loadNative(db)).toBe(true);
    } finally {
      db.close();
    }
  });

  it("hashes exactly like hash64.ts (hashtextextended) at every tail length and in multi-byte UTF-8", () => {
    const db = new Database(":memory:");
    expect(loadNative(db)).toBe(true);
    const base = "armp naïve 学习 😀 \t 0123456789abcdefghijklmnopqrstuvwxyz";
    const chars = Array.from(base);
    const inputs = ["", ...chars.map((_, i) => chars.slice(0, i + 1).join(""))];
    const st = db.prepare("SELECT armp_hash64(?) AS h").pluck().safeIntegers(true);
    for (const s of inputs) expect([s, BigInt.asUintN(64, st.get(s) as bigint).toString(16).padStart(16, "0")]).toEqual([s, hashText64(s)]);
    db.close();
  });

  it.each([
    ["a rowid table", false],
    ["a WITHOUT ROWID table (rows named by position in their key range)", true],
  ])("gives the JavaScript encoder's lines and checksum for 6,000 quirky rows of %s, handing back exactly the rows it does not convert", (_kind, withoutRowid) => {
    const file = path.join(dir, `quirks-${withoutRowid ? "wr" : "rowid"}.sqlite`);
    const handedBack = makeSource(file, 6000, 5, false, withoutRowid);
    const hash = sha256File(file);
    const db = openSource(file);
    try {
      const t = introspect(db).tables.find((x) => x.name === "q")!;
      const js = jsEncode(db, t);
      const nat = nativeEncode(db, t);
      expect(nat.rows).toBe(6000);
      expect(nat.fallbackRows).toBe(handedBack);
      expect(handedBack).toBeGreaterThan(300);
      expect(handedBack).toBeLessThan(3000);
      expect(nat.lines.length).toBe(js.lines.length);
      expect(nat.sum).toBe(js.sum);
      const fi = cols.findIndex((c) => c.kind === "float");
      let hexFloats = 0;
      for (let r = 0; r < js.lines.length; r++) {
        const a = js.lines[r].split("\t");
        const b = nat.lines[r].split("\t");
        // Floats: the extension writes exact hex floats; the same double either way.
        if (b[fi].startsWith("0x") || b[fi].startsWith("-0x")) hexFloats++;
        if (a[fi] !== "\\N") {
          const x = parseFloatField(a[fi]);
          const y = parseFloatField(b[fi]);
          // Compared as doubles, sign of zero included.
          expect([r, Object.is(x, y) ? "same" : `${a[fi]} vs ${b[fi]}`]).toEqual([r, "same"]);
          a[fi] = b[fi] = "";
        }
        expect([r, b.join("\t")]).toEqual([r, a.join("\t")]);
      }
      expect(hexFloats).toBeGreaterThan(1000);
    } finally {
      db.close();
    }
    expect(sha256File(file)).toBe(hash);
  });

  it("refuses rows that do not arrive in rowid order instead of sending them reordered", () => {
    const db = new Database(":memory:");
    expect(loadNative(db)).toBe(true);
    db.exec("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2), (3)");
    expect(() => db.prepare("SELECT armp_copy(r, 'i', a) FROM (SELECT rowid AS r, a FROM t ORDER BY rowid DESC)").pluck().get()).toThrow("armp_copy: rows did not arrive in rowid order");
    const ok = db.prepare("SELECT armp_copy(rowid, 'i', a) FROM t WHERE rowid >= 1 AND rowid < 4").pluck().get() as Buffer;
    expect([ok.readBigUInt64LE(8), ok.subarray(16).toString()]).toEqual([3n, "1\n2\n3\n"]);
    db.close();
  });

  it("hands back what it must not judge: a NUL inside a boolean spelling, a bad spec, too few arguments", () => {
    const db = new Database(":memory:");
    expect(loadNative(db)).toBe(true);
    db.exec("CREATE TABLE t (b BOOLEAN); INSERT INTO t VALUES ('yes' || char(0)), ('t'), (' no ')");
    const out = db.prepare("SELECT armp_copy(rowid, 'b', b) FROM t WHERE rowid >= 1 AND rowid < 4").pluck().safeIntegers(true).get() as Buffer;
    // Row 1 comes back as a marker (JavaScript rejects "yes\0"); rows 2 and 3 are converted.
    expect([out.readBigUInt64LE(8), out.subarray(16).toString("hex")]).toEqual([2n, "00" + "0100000000000000" + Buffer.from("t\nf\n").toString("hex")]);
    expect(() => db.prepare("SELECT armp_copy(rowid, 'n99999', b) FROM t").pluck().get()).toThrow("armp_copy: invalid column spec");
    expect(() => db.prepare("SELECT armp_copy(rowid, 'b') FROM t").pluck().get()).toThrow("armp_copy: expected (rowid, spec, column, ...)");
    db.close();
  });

  /** Table q (the quirk columns) in a new file, with only id, i and s set, per row of `rows`. */
  const writeQ = (name: string, rows: [bigint | number, bigint | number, string][]): string => {
    const file = path.join(dir, name);
    const w = new Database(file);
    w.exec("CREATE TABLE q (id INTEGER PRIMARY KEY, " + COLUMNS.map(([c, t]) => `${c} ${t}`).join(", ") + ")");
    const ins = w.prepare("INSERT INTO q (id, i, s) VALUES (?, ?, ?)");
    for (const r of rows) ins.run(...r);
    w.close();
    return file;
  };

  /** q encoded by the extension and by JavaScript alone. */
  const encodeBoth = (file: string): { js: ReturnType<typeof jsEncode>; nat: ReturnType<typeof nativeEncode> } => {
    const db = openSource(file);
    try {
      const t = introspect(db).tables.find((x) => x.name === "q")!;
      return { js: jsEncode(db, t), nat: nativeEncode(db, t) };
    } finally {
      db.close();
    }
  };

  it("walks sparse rowids by the rows present (1..300 and 2^62..2^62+299 in one table)", () => {
    const rows: [bigint, bigint, string][] = [];
    for (let r = 0n; r < 300n; r++) rows.push([1n + r, r, `low ${r}`], [2n ** 62n + r, r, `high ${r}`]);
    // Before rows were counted, 256-rowid steps across the gap meant ~1.8e16 extension calls.
    const { js, nat } = encodeBoth(writeQ("sparse.sqlite", rows));
    expect(nat.rows).toBe(600);
    expect(nat.fallbackRows).toBe(0);
    expect(nat.lines).toEqual(js.lines);
    expect(nat.sum).toBe(js.sum);
  });

  it("hands rows past 4 MB of output in one block back to JavaScript, keeping order and sums", () => {
    const { js, nat } = encodeBoth(writeQ("big.sqlite", [1, 2, 3, 4, 5, 6].map((r) => [r, r, `${r}`.repeat(1_500_000)])));
    // 1.5 MB per row: rows 1-3 fill the 4 MB block output, rows 4-6 come back as markers.
    expect(nat.fallbackRows).toBe(3);
    expect(nat.lines).toEqual(js.lines);
    expect(nat.sum).toBe(js.sum);
  });

  it("loads the quirky rows into PostgreSQL frozen, with verification passing, equal to the JavaScript-only run", async () => {
    const file = path.join(dir, "quirks-pg.sqlite");
    makeSource(file, 3000, 9, true);
    const hash = sha256File(file);
    const a = await createTestDatabase("native_on");
    const b = await createTestDatabase("native_off");
    const prev = process.env.ARMP_MIGRATE_NATIVE;
    try {
      // q.y mixes BLOBs and text: bytea by an explicit cast (the default refuses that mix).
      const casts = { castOverrides: { "q.y": "bytea" } };
      const on = await runMigration(file, { url: a.url }, { timestamptz: false, ...casts });
      process.env.ARMP_MIGRATE_NATIVE = "0";
      const off = await runMigration(file, { url: b.url }, casts);
      delete process.env.ARMP_MIGRATE_NATIVE;
      expect([on.ok, off.ok, JSON.stringify(on.tables.map((t) => t.differingKeys)), JSON.stringify(off.tables.map((t) => t.differingKeys))]).toEqual([true, true, "[[]]", "[[]]"]);
      const sums = (r: typeof on): string[] => r.tables.map((t) => `${t.table}:${t.rowsWritten}:${t.sourceChecksum}:${t.targetChecksum}`);
      expect(sums(on)).toEqual(sums(off));
      // Subnormals survive the hex floats exactly (the sums above already compare IEEE bits).
      // (-0.0 never reaches us: SQLite stores whole REAL values as integers and reads back +0.0.)
      const count = async (url: string): Promise<number> => withClient(url, async (c) => Number((await c.query("SELECT count(*) FILTER (WHERE f = '5e-324'::float8) AS n FROM q")).rows[0].n));
      const [x, y] = [await count(a.url), await count(b.url)];
      expect(x).toBe(y);
      expect(x).toBeGreaterThan(100);
      // COPY FREEZE (copy.ts): the loaded tuples are frozen (HEAP_XMIN_FROZEN = 0x0300 in t_infomask).
      const frozen = await withClient(a.url, async (c) => {
        await c.query("CREATE EXTENSION IF NOT EXISTS pageinspect");
        return (await c.query("SELECT count(*) FILTER (WHERE t_infomask & 768 = 768)::int AS f, count(*)::int AS n FROM heap_page_items(get_raw_page('q', 0))")).rows[0] as { f: number; n: number };
      });
      expect(frozen.n).toBeGreaterThan(5);
      expect(frozen.f).toBe(frozen.n);
      const again = await verify(file, { url: a.url });
      expect(again.ok).toBe(true);
    } finally {
      if (prev === undefined) delete process.env.ARMP_MIGRATE_NATIVE;
      else process.env.ARMP_MIGRATE_NATIVE = prev;
      await a.drop();
      await b.drop();
    }
    expect(sha256File(file)).toBe(hash);
  });
});
