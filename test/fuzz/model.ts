/**
 * Random SQLite databases for the generative fidelity suite: a schema drawn from the declared
 * types ORMs emit (and odd ones), constraints, defaults of every form, identifiers of every shape,
 * and values of every storage class in any column (SQLite lets any column hold any type).
 *
 * A generated DbSpec is a proposal: writeDb() runs it through SQLite and keeps exactly the
 * statements SQLite accepted (a CHECK or UNIQUE may refuse a row, a STRICT table a value), so the
 * file always is one "SQLite opens" and the returned statements are its repro.
 */
import * as fc from "fast-check";
import Database from "better-sqlite3";
import { anyAppsOn, appsArb, finishWal, writeApps, type AppsBuilt, type AppsSpec, type AppTable } from "./gen-apps";

export type Value =
  | { t: "null" }
  | { t: "int"; v: bigint }
  | { t: "real"; v: number }
  | { t: "text"; v: string }
  | { t: "blob"; v: Uint8Array };

export interface ColSpec {
  name: string;
  type: string;
  notNull: boolean;
  unique: boolean;
  check?: string;
  default?: string;
  collate?: string;
}

export interface TableSpec {
  name: string;
  cols: ColSpec[];
  /** ipk: INTEGER PRIMARY KEY on cols[0] (type forced to INTEGER); cols: PRIMARY KEY(...) */
  pk: { kind: "none" } | { kind: "ipk"; autoincrement: boolean } | { kind: "cols"; cols: number[] };
  withoutRowid: boolean;
  strict: boolean;
  /** Foreign keys to an earlier table (by index into DbSpec.tables) or to a table that does not exist. */
  fks: { col: number; ref: { table: number; col: number } | { missing: string } }[];
  rows: Value[][];
}

export interface DbSpec {
  tables: TableSpec[];
  views: { name: string; table: number; kind: "star" | "count" | "where" }[];
  /** The categories of files apps make (gen-apps.ts), when any of their switches is on. */
  apps?: AppsSpec;
}

/**
 * What the generator may produce. Each switch turns a category off, so a category the engine still
 * fails can be excluded by name (the CI test lists the switches it uses).
 */
export interface GenOptions {
  /** Values of a storage class foreign to the column's declared type (text in INTEGER, blob in TEXT, ...). */
  offTypeValues: boolean;
  /** NaN (stored as NULL), +-Infinity, -0.0, subnormals. */
  specialFloats: boolean;
  /** Identifiers longer than PostgreSQL's 63 bytes, and pairs equal after truncation to 63 bytes. */
  longIdentifiers: boolean;
  /** Quotes, dots, spaces, unicode, reserved words, mixed case. */
  oddIdentifiers: boolean;
  /** Foreign keys to missing tables and child rows without a parent (foreign_keys was off). */
  orphanForeignKeys: boolean;
  /** DEFAULT clauses of every form SQLite accepts. */
  defaults: boolean;
  /** CHECK constraints. */
  checks: boolean;
  strictTables: boolean;
  withoutRowid: boolean;
  views: boolean;
  /** Text with U+0000 inside (SQLite stores it; PostgreSQL text cannot). */
  nulInText: boolean;
  /** Declared types outside the common ORM vocabulary (UUID, TIME, MONEY, STRING, ...). */
  weirdTypes: boolean;
  /** Values that a declared length cannot hold (VARCHAR(2) with 'abc'). */
  overlongText: boolean;
  /** NULL in PRIMARY KEY columns of rowid tables (SQLite allows it outside INTEGER PRIMARY KEY). */
  nullableKeys: boolean;
  /** INTEGER PRIMARY KEY values at the int64 edges (2^63-1) and below 1 (0, negative). */
  edgeRowids: boolean;
  /**
   * In PRIMARY KEY and UNIQUE columns, values SQLite keeps apart that PostgreSQL's type may equate
   * ('no' and 'f' in a BOOLEAN, ISO text and Unix time in a TIMESTAMP, off-type values).
   */
  keyCollisions: boolean;
  /** Dates and timestamps in years 1-99 (ISO text such as '0006-03-05 23:59:01+02:00'). */
  earlyYears: boolean;
  /** Tables that are both STRICT and WITHOUT ROWID (in either order of the two options). */
  strictWithoutRowid: boolean;
  /** Identifiers spelled like SQL literals (true, false, null, current_timestamp). */
  literalNames: boolean;
  /** FTS3/4/5 and R*Tree virtual tables with rows, so their real shadow tables exist (gen-apps.ts). */
  virtualTables: boolean;
  /** Columns declared COLLATE <a collation the app registers> (unicase, my_coll, ...), some in keys. */
  appCollations: boolean;
  /** VIRTUAL and STORED generated columns from an expression vocabulary (one that cannot translate). */
  generatedColumns: boolean;
  /** Files in journal_mode=WAL, with and without a leftover (un-checkpointed) -wal. */
  walMode: boolean;
  /** Mixed-case tables with views over them written in other case, unquoted, with SQLite functions. */
  mixedCaseViews: boolean;
  /** Core Data-shaped stores (Z_METADATA, Z_PRIMARYKEY, TIMESTAMP as seconds since 2001), and the shape without them. */
  coreData: boolean;
  maxTables: number;
  maxRows: number;
}

export const ALL_ON: GenOptions = {
  offTypeValues: true,
  specialFloats: true,
  longIdentifiers: true,
  oddIdentifiers: true,
  orphanForeignKeys: true,
  defaults: true,
  checks: true,
  strictTables: true,
  withoutRowid: true,
  views: true,
  nulInText: true,
  weirdTypes: true,
  overlongText: true,
  nullableKeys: true,
  edgeRowids: true,
  keyCollisions: true,
  earlyYears: true,
  strictWithoutRowid: true,
  literalNames: true,
  virtualTables: true,
  appCollations: true,
  generatedColumns: true,
  walMode: true,
  mixedCaseViews: true,
  coreData: true,
  maxTables: 4,
  maxRows: 8,
};

/**
 * MySQL spellings with a suffix after the length (INT(11) UNSIGNED, VARCHAR(255) BINARY) are a
 * syntax error in SQLite, so no file can hold them; their SQLite-accepted forms are listed.
 */
const COMMON_TYPES = [
  "INTEGER", "INT", "INT(11)", "INT UNSIGNED", "BIGINT UNSIGNED", "BIGINT", "SMALLINT", "TINYINT(1)", "BOOLEAN", "BOOL",
  "DECIMAL(10, 2)", "DECIMAL(5,0)", "NUMERIC", "NUMERIC(12,4)", "REAL", "DOUBLE", "DOUBLE PRECISION", "FLOAT",
  "VARCHAR(255)", "VARCHAR BINARY(255)", "VARCHAR(8)", "NVARCHAR(40)", "CHAR(2)", "CHARACTER(10)", "TEXT", "CLOB",
  "BLOB", "DATE", "DATETIME", "TIMESTAMP", "JSON", "",
];
const WEIRD_TYPES = [
  "TIMESTAMP WITH TIME ZONE", "TIME", "UUID", "JSONB", "MONEY", "STRING", "VARCHAR2(20)", "MEDIUMTEXT", "LONGBLOB",
  "UNSIGNED BIG INT", "INT8", "SERIAL", "CHARACTER VARYING(30)", "BIT", "TIMESTAMPTZ", "FLOATING POINT", "NUMBER(3)", "ANYTHING GOES",
];
const STRICT_TYPES = ["INT", "INTEGER", "REAL", "TEXT", "BLOB", "ANY"];

const RESERVED = ["select", "order", "user", "group", "table", "from", "where", "Limit", "offset", "default", "check", "primary", "end"];
/** Names spelled like SQL literals: SQLite reads a double-quoted "true" as a string when no such column exists. */
const LITERAL_NAMES = ["true", "false", "null", "TRUE", "current_timestamp"];
const ODD = ["with space", "dot.ted", 'dq"uote', "sq'uote", "café", "日本語", "emoji🙂", "MixedCase", "UPPER", "back\\slash", "semi;colon", "-dash", "1digit", "tab\tname", "pct%s"];

function identifier(opts: GenOptions): fc.Arbitrary<string> {
  const plain = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);
  const parts: fc.Arbitrary<string>[] = [plain, plain, plain];
  if (opts.literalNames) parts.push(fc.constantFrom(...LITERAL_NAMES));
  if (opts.oddIdentifiers) parts.push(fc.constantFrom(...RESERVED), fc.constantFrom(...ODD), fc.tuple(fc.constantFrom(...ODD), plain).map(([a, b]) => `${a} ${b}`));
  if (opts.longIdentifiers) {
    // > 63 bytes, and pairs sharing their first 63 bytes (PostgreSQL truncates both to the same name).
    parts.push(fc.tuple(fc.integer({ min: 64, max: 90 }), plain).map(([n, s]) => (s + "_" + "x".repeat(n)).slice(0, n)));
    parts.push(fc.constantFrom("a".repeat(63) + "_one", "a".repeat(63) + "_two", "é".repeat(32) + "tail", "é".repeat(32) + "other"));
  }
  return fc.oneof(...parts);
}

/** Lower-cases ASCII only, as SQLite compares identifiers. */
export function sqliteFold(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function uniqueNames(names: string[], taken: Set<string>, fallback: string): string[] {
  return names.map((n, i) => {
    let name = n;
    if (name.toLowerCase().startsWith("sqlite_") || taken.has(sqliteFold(name))) name = `${fallback}${i}_${taken.size}`;
    taken.add(sqliteFold(name));
    return name;
  });
}

const INT_EDGES = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n - 2n, -(2n ** 63n) + 1n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 53n + 1n, 1700000000n, 1700000000123n];

function intValue(): fc.Arbitrary<Value> {
  return fc.oneof(fc.constantFrom(...INT_EDGES), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer({ min: -1000, max: 1000 }).map(BigInt)).map((v) => ({ t: "int" as const, v }));
}

function realValue(opts: GenOptions): fc.Arbitrary<Value> {
  const plain = fc.oneof(fc.constantFrom(0.1, 1.5, -2.25, 1e300, 123456.789, 0.30000000000000004, 1e-7, 100.0, 2 ** 53 + 2), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }));
  const special = fc.constantFrom(NaN, Infinity, -Infinity, -0, 5e-324, Number.MAX_VALUE, -Number.MIN_VALUE);
  return (opts.specialFloats ? fc.oneof(plain, plain, special, fc.double()) : plain).map((v) => ({ t: "real" as const, v }));
}

function textValue(opts: GenOptions, maxLen?: number): fc.Arbitrary<Value> {
  const samples = ["", "  padded  ", "O'Brien", 'say "hi"', "back\\slash", "tab\there\nnew\rret", "日本語テキスト", "🙂👍🏽", "007", "1.50", "1e3", "true", "NULL", "\\N", "x".repeat(3000)];
  let s: fc.Arbitrary<string> = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "grapheme", maxLength: 12 }), fc.constantFrom(...samples));
  if (opts.nulInText) s = fc.oneof({ arbitrary: s, weight: 12 }, { arbitrary: fc.constantFrom("a\u0000b", "\u0000"), weight: 1 });
  else s = s.map((x) => x.replaceAll("\u0000", ""));
  if (maxLen !== undefined && !opts.overlongText) s = s.map((x) => [...x].slice(0, maxLen).join(""));
  return s.map((v) => ({ t: "text" as const, v }));
}

function blobValue(): fc.Arbitrary<Value> {
  return fc.uint8Array({ maxLength: 40 }).map((v) => ({ t: "blob" as const, v }));
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

function isoDate(opts: GenOptions): fc.Arbitrary<{ y: number; m: number; d: number }> {
  return fc.record({ y: fc.integer({ min: opts.earlyYears ? 1 : 100, max: 9999 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }) });
}

function dateValue(opts: GenOptions): fc.Arbitrary<Value> {
  return fc.oneof(
    isoDate(opts).map(({ y, m, d }) => ({ t: "text" as const, v: `${pad(y, 4)}-${pad(m)}-${pad(d)}` })),
    fc.integer({ min: -100000, max: 100000 }).map((days) => ({ t: "int" as const, v: BigInt(days) * 86400n })),
  );
}

function timestampValue(opts: GenOptions): fc.Arbitrary<Value> {
  const time = fc.record({ h: fc.integer({ min: 0, max: 23 }), mi: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }), f: fc.constantFrom("", ".5", ".123", ".123456", ".000") });
  const sep = fc.constantFrom(" ", "T");
  const zone = fc.constantFrom("", "", "Z", "+02:00", "-05:30", "+00:00");
  return fc.oneof(
    fc.tuple(isoDate(opts), sep, time, zone).map(([d, sp, t, z]) => ({ t: "text" as const, v: `${pad(d.y, 4)}-${pad(d.m)}-${pad(d.d)}${sp}${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}${t.f}${z}` })),
    fc.tuple(fc.integer({ min: 1970, max: 2100 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })).map(([y, m, d]) => ({ t: "text" as const, v: `${y}-${pad(m)}-${pad(d)} 00:00:00` })),
    fc.integer({ min: 0, max: 4102444800 }).map((s) => ({ t: "int" as const, v: BigInt(s) })),
    fc.integer({ min: 0, max: 4102444800 }).map((s) => ({ t: "int" as const, v: BigInt(s) * 1000n + 7n })),
  );
}

function boolValue(): fc.Arbitrary<Value> {
  return fc.oneof(fc.constantFrom(0n, 1n).map((v) => ({ t: "int" as const, v })), fc.constantFrom("true", "false", "t", "f", "yes", "no").map((v) => ({ t: "text" as const, v })));
}

function decimalValue(scale: number, precision: number): fc.Arbitrary<Value> {
  const max = 10 ** (precision - scale) - 1;
  return fc.oneof(
    fc.integer({ min: -max, max }).map((v) => ({ t: "int" as const, v: BigInt(v) })),
    fc.tuple(fc.integer({ min: -Math.min(max, 1e6), max: Math.min(max, 1e6) }), fc.integer({ min: 0, max: 10 ** scale - 1 })).map(([i, f]) => ({ t: "real" as const, v: Number(`${i}${scale ? "." + String(f).padStart(scale, "0") : ""}`) })),
  );
}

function uuidValue(): fc.Arbitrary<Value> {
  return fc.uuid().map((v) => ({ t: "text" as const, v }));
}

function jsonValue(): fc.Arbitrary<Value> {
  return fc.oneof(fc.json({ maxDepth: 2 }), fc.constantFrom('{"b":1,"a":2}', '{"a":1,"a":2}', "[1, 2.50, 1e3]", '"s"', "{}", "[]")).map((v) => ({ t: "text" as const, v }));
}

/** Values a column of this declared type typically holds. */
function homeValue(type: string, opts: GenOptions): fc.Arbitrary<Value> {
  const t = type.toUpperCase();
  const p = /\((\d+)(?:\s*,\s*(\d+))?\)/.exec(t);
  if (/BOOL|TINYINT\(1\)|^BIT$/.test(t)) return boolValue();
  if (/^(DECIMAL|NUMERIC|NUMBER)/.test(t) && p) return decimalValue(p[2] ? Number(p[2]) : 0, Number(p[1]));
  if (/INT|SERIAL/.test(t)) return intValue();
  if (/^(DATE)$/.test(t)) return dateValue(opts);
  if (/DATETIME|TIMESTAMP/.test(t)) return timestampValue(opts);
  if (t === "TIME") return fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => ({ t: "text" as const, v: `${pad(h)}:${pad(m)}:00` }));
  if (t === "UUID") return uuidValue();
  if (/JSON/.test(t)) return jsonValue();
  if (/REAL|FLOA|DOUB|MONEY/.test(t)) return realValue(opts);
  if (/CHAR|TEXT|CLOB|STRING/.test(t)) return textValue(opts, p ? Number(p[1]) : undefined);
  if (/BLOB/.test(t)) return blobValue();
  if (/NUMERIC|DECIMAL/.test(t)) return fc.oneof(intValue(), realValue({ ...opts, specialFloats: false }));
  return fc.oneof(intValue(), realValue(opts), textValue(opts), blobValue());
}

function anyValue(opts: GenOptions): fc.Arbitrary<Value> {
  return fc.oneof(intValue(), realValue(opts), textValue(opts), blobValue());
}

/** role: "ipk" for the INTEGER PRIMARY KEY, "pk" for other key columns, "unique", or "plain". */
/** dirty: the column may hold values foreign to its type (a quarter of the columns, when offTypeValues is on). */
function cellValue(type: string, opts: GenOptions, role: "ipk" | "pk" | "unique" | "plain", dirty: boolean): fc.Arbitrary<Value> {
  // SQLite stores a NaN as NULL, so a NaN in a key column is a NULL key too.
  const v = cellValueOf(type, opts, role, dirty);
  return role === "pk" && !opts.nullableKeys ? v.filter((x) => !(x.t === "real" && Number.isNaN(x.v))) : v;
}

function cellValueOf(type: string, opts: GenOptions, role: "ipk" | "pk" | "unique" | "plain", dirty: boolean): fc.Arbitrary<Value> {
  let home = homeValue(type, opts);
  let nul = fc.constant<Value>({ t: "null" });
  // A lone integer key of a WITHOUT ROWID table is copied in key ranges just like a rowid alias.
  if ((role === "ipk" || (role === "pk" && /INT|SERIAL/i.test(type))) && !opts.edgeRowids) home = fc.bigInt({ min: 1n, max: 2n ** 62n }).map((v) => ({ t: "int" as const, v }));
  if (role !== "plain" && !opts.keyCollisions) {
    const t = type.toUpperCase();
    if (/BOOL|TINYINT\(1\)|^BIT$/.test(t)) home = fc.constantFrom(0n, 1n).map((v) => ({ t: "int" as const, v }));
    else if (/DATE|TIME/.test(t)) home = fc.tuple(isoDate(opts), fc.integer({ min: 0, max: 86399 })).map(([d, s]) => ({ t: "text" as const, v: `${pad(d.y, 4)}-${pad(d.m)}-${pad(d.d)} ${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}` }));
  }
  if (role === "pk" && !opts.nullableKeys) nul = home;
  if (role !== "plain" && !opts.keyCollisions) return fc.oneof({ arbitrary: home, weight: 8 }, { arbitrary: nul, weight: 1 });
  if (!opts.offTypeValues || !dirty) return fc.oneof({ arbitrary: home, weight: 8 }, { arbitrary: nul, weight: 1 });
  return fc.oneof({ arbitrary: home, weight: 7 }, { arbitrary: nul, weight: 1 }, { arbitrary: anyValue(opts), weight: 2 });
}

function defaultFor(opts: GenOptions): fc.Arbitrary<string | undefined> {
  if (!opts.defaults) return fc.constant(undefined);
  const forms = ["0", "42", "-7", "+3", "0x1F", "1e3", "-2.5", "'str'", "''", "'it''s'", '"dq"', "X'0A1B'", "TRUE", "FALSE", "NULL", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "(datetime('now'))", "(datetime('now', 'localtime'))", "(strftime('%s','now'))", "(1 + 2)", "(lower('ABC'))", "(random())", "('2020-01-01')"];
  return fc.option(fc.constantFrom(...forms), { freq: 3 }).map((x) => x ?? undefined);
}

function checkFor(col: string, opts: GenOptions): fc.Arbitrary<string | undefined> {
  if (!opts.checks) return fc.constant(undefined);
  const q = quoteIdent(col);
  return fc.option(fc.constantFrom(`length(${q}) < 1000`, `${q} IS NULL OR ${q} <> 'forbidden'`, `typeof(${q}) <> 'blob' OR length(${q}) < 30`, `${q} IS NOT 999`), { freq: 5 }).map((x) => x ?? undefined);
}

/**
 * A column's part in the keys. PRIMARY KEY (c) on a lone INTEGER column of a rowid table makes c
 * the rowid alias exactly as an inline INTEGER PRIMARY KEY does.
 */
function roleOf(t: Pick<TableSpec, "pk" | "cols" | "withoutRowid">, ci: number): "ipk" | "pk" | "unique" | "plain" {
  if (t.pk.kind === "ipk" && ci === 0) return "ipk";
  if (t.pk.kind === "cols" && t.pk.cols.includes(ci)) return t.pk.cols.length === 1 && !t.withoutRowid && t.cols[ci].type.toUpperCase() === "INTEGER" ? "ipk" : "pk";
  return t.cols[ci].unique ? "unique" : "plain";
}

export function dbSpecArb(opts: GenOptions = ALL_ON): fc.Arbitrary<DbSpec> {
  const base = baseSpecArb(opts);
  return anyAppsOn(opts) ? fc.tuple(base, appsArb(opts)).map(([spec, apps]) => ({ ...spec, apps })) : base;
}

function baseSpecArb(opts: GenOptions): fc.Arbitrary<DbSpec> {
  const types = opts.weirdTypes ? [...COMMON_TYPES, ...WEIRD_TYPES] : COMMON_TYPES;
  const colProto = fc.record({
    name: identifier(opts),
    type: fc.constantFrom(...types),
    strictType: fc.constantFrom(...STRICT_TYPES),
    notNull: fc.boolean(),
    unique: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
    default: defaultFor(opts),
    collate: fc.oneof({ arbitrary: fc.constant<string | undefined>(undefined), weight: 6 }, { arbitrary: fc.constantFrom("NOCASE", "RTRIM", "BINARY"), weight: 1 }),
    checkSeed: fc.nat(),
    dirty: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
  });
  const tableProto = fc.record({
    name: identifier(opts),
    cols: fc.array(colProto, { minLength: 1, maxLength: 6 }),
    pk: fc.oneof(fc.constant({ kind: "none" as const }), fc.record({ kind: fc.constant("ipk" as const), autoincrement: fc.boolean() }), fc.record({ kind: fc.constant("cols" as const), n: fc.integer({ min: 1, max: 3 }) })),
    withoutRowid: opts.withoutRowid ? fc.boolean() : fc.constant(false),
    strict: opts.strictTables ? fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }) : fc.constant(false),
    fkSeeds: fc.array(fc.record({ col: fc.nat(), table: fc.nat(), refCol: fc.nat(), missing: fc.boolean() }), { maxLength: 2 }),
    rowCount: fc.integer({ min: 0, max: opts.maxRows }),
    seed: fc.nat(),
  });
  return fc
    .record({
      tables: fc.array(tableProto, { minLength: 1, maxLength: opts.maxTables }),
      views: fc.array(fc.record({ name: identifier(opts), table: fc.nat(), kind: fc.constantFrom("star" as const, "count" as const, "where" as const) }), { maxLength: opts.views ? 2 : 0 }),
    })
    .chain((proto) => {
      const taken = new Set<string>();
      const tnames = uniqueNames(proto.tables.map((t) => t.name), taken, "t");
      const vnames = uniqueNames(proto.views.map((v) => v.name), taken, "v");
      const tables = proto.tables.map((tp, ti) => {
        const cnames = uniqueNames(tp.cols.map((c) => c.name), new Set(), "c");
        const strict = tp.strict && (opts.strictWithoutRowid || !tp.withoutRowid);
        // WITHOUT ROWID needs a PRIMARY KEY that is not an INTEGER PRIMARY KEY alias.
        let pk: TableSpec["pk"] = tp.pk.kind === "cols" ? { kind: "cols", cols: [...Array(Math.min(tp.pk.n, tp.cols.length)).keys()] } : tp.pk;
        const withoutRowid = tp.withoutRowid && pk.kind !== "none";
        if (withoutRowid && pk.kind === "ipk") pk = { kind: "cols", cols: [0] };
        const cols: (ColSpec & { dirty: boolean })[] = tp.cols.map((c, ci) => {
          let type = strict ? c.strictType : c.type;
          if (pk.kind === "ipk" && ci === 0) type = "INTEGER";
          return { name: cnames[ci], type, dirty: c.dirty, notNull: c.notNull, unique: c.unique, ...(c.default !== undefined ? { default: c.default } : {}), ...(c.collate ? { collate: c.collate } : {}) };
        });
        const fks: TableSpec["fks"] = [];
        for (const f of tp.fkSeeds) {
          const col = f.col % cols.length;
          if (opts.orphanForeignKeys && f.missing) fks.push({ col, ref: { missing: "missing_" + (f.table % 3) } });
          else if (ti > 0) {
            const table = f.table % ti;
            fks.push({ col, ref: { table, col: f.refCol % proto.tables[table].cols.length } });
          }
        }
        return { name: tnames[ti], cols, pk, withoutRowid, strict, fks, rowCount: tp.rowCount, checkSeed: tp.seed };
      });
      const rowArbs = tables.map((t) =>
        fc.tuple(
          fc.array(fc.tuple(...t.cols.map((c, ci) => cellValue(c.type, opts, roleOf(t, ci), c.dirty))), { minLength: t.rowCount, maxLength: t.rowCount }),
          fc.tuple(...t.cols.map((c) => checkFor(c.name, opts))),
        ),
      );
      return fc.tuple(...rowArbs).map((perTable): DbSpec => ({
        tables: tables.map((t, i) => ({
          name: t.name,
          cols: t.cols.map(({ dirty: _dirty, ...c }, ci) => ({ ...c, ...(perTable[i][1][ci] ? { check: perTable[i][1][ci] } : {}) })),
          pk: t.pk,
          withoutRowid: t.withoutRowid,
          strict: t.strict,
          fks: t.fks,
          rows: perTable[i][0],
        })),
        views: proto.views.map((v, i) => ({ name: vnames[i], table: v.table % tables.length, kind: v.kind })),
      }));
    });
}

export function quoteIdent(s: string): string {
  return '"' + s.replace(/"/g, '""') + '"';
}

/** SQL literal for a value, for repro scripts (the file itself is written with bound parameters). */
export function sqlLiteral(v: Value): string {
  switch (v.t) {
    case "null":
      return "NULL";
    case "int":
      return v.v.toString();
    case "real":
      if (Number.isNaN(v.v)) return "NULL";
      if (v.v === Infinity) return "1e999";
      if (v.v === -Infinity) return "-1e999";
      if (Object.is(v.v, -0)) return "-0.0";
      return /[.e]/.test(String(v.v)) ? String(v.v) : String(v.v) + ".0";
    case "text":
      return v.v.includes("\u0000") ? `CAST(X'${Buffer.from(v.v, "utf8").toString("hex")}' AS TEXT)` : "'" + v.v.replace(/'/g, "''") + "'";
    case "blob":
      return `X'${Buffer.from(v.v).toString("hex")}'`;
  }
}

function bind(v: Value): null | bigint | number | string | Buffer {
  switch (v.t) {
    case "null":
      return null;
    case "int":
      return v.v;
    case "real":
      return v.v;
    case "text":
      return v.v;
    case "blob":
      return Buffer.from(v.v);
  }
}

export function createTableSql(t: TableSpec, all: TableSpec[]): string {
  const defs = t.cols.map((c, i) => {
    let d = quoteIdent(c.name) + (c.type ? " " + c.type : "");
    if (t.pk.kind === "ipk" && i === 0) d += " PRIMARY KEY" + (t.pk.autoincrement ? " AUTOINCREMENT" : "");
    if (c.notNull) d += " NOT NULL";
    if (c.unique) d += " UNIQUE";
    if (c.default !== undefined) d += " DEFAULT " + c.default;
    if (c.collate) d += " COLLATE " + c.collate;
    if (c.check) d += ` CHECK (${c.check})`;
    return d;
  });
  if (t.pk.kind === "cols") defs.push(`PRIMARY KEY (${t.pk.cols.map((i) => quoteIdent(t.cols[i].name)).join(", ")})`);
  for (const f of t.fks) {
    const ref = "missing" in f.ref ? `${quoteIdent(f.ref.missing)} ("id")` : `${quoteIdent(all[f.ref.table].name)} (${quoteIdent(all[f.ref.table].cols[f.ref.col].name)})`;
    defs.push(`FOREIGN KEY (${quoteIdent(t.cols[f.col].name)}) REFERENCES ${ref}`);
  }
  const opts = [t.withoutRowid ? "WITHOUT ROWID" : "", t.strict ? "STRICT" : ""].filter(Boolean).join(", ");
  return `CREATE TABLE ${quoteIdent(t.name)} (\n  ${defs.join(",\n  ")}\n)${opts ? " " + opts : ""}`;
}

export function viewSql(v: DbSpec["views"][number], t: TableSpec): string {
  const q = quoteIdent(t.name);
  const body = v.kind === "star" ? `SELECT * FROM ${q}` : v.kind === "count" ? `SELECT count(*) AS n FROM ${q}` : `SELECT ${quoteIdent(t.cols[0].name)} AS c FROM ${q} WHERE ${quoteIdent(t.cols[0].name)} IS NOT NULL`;
  return `CREATE VIEW ${quoteIdent(v.name)} AS ${body}`;
}

/** What SQLite accepted: the tables and rows actually in the file, and the statements that made it. */
export interface BuiltDb {
  tables: { name: string; cols: ColSpec[]; rows: Value[][] }[];
  views: { name: string; table: string }[];
  statements: string[];
  /** What gen-apps.ts wrote (checked by check-apps.ts). */
  apps?: AppsBuilt;
}

export function writeDb(spec: DbSpec, file: string): BuiltDb {
  const db = new Database(file);
  const built: BuiltDb = { tables: [], views: [], statements: [] };
  const appTables: AppTable[] = [];
  try {
    // Real files hold orphan rows written while foreign_keys was off (SQLite's default).
    db.pragma("foreign_keys = OFF");
    const ok = new Set<number>();
    spec.tables.forEach((t, i) => {
      const sql = createTableSql(t, spec.tables);
      try {
        db.exec(sql);
      } catch {
        return;
      }
      ok.add(i);
      built.statements.push(sql + ";");
      const rows: Value[][] = [];
      const ins = db.prepare(`INSERT INTO ${quoteIdent(t.name)} VALUES (${t.cols.map(() => "?").join(", ")})`);
      for (const r of t.rows) {
        try {
          ins.run(...r.map(bind));
        } catch {
          continue;
        }
        rows.push(r);
        built.statements.push(`INSERT INTO ${quoteIdent(t.name)} VALUES (${r.map(sqlLiteral).join(", ")});`);
      }
      built.tables.push({ name: t.name, cols: t.cols, rows });
    });
    for (const v of spec.views) {
      if (!ok.has(v.table)) continue;
      const sql = viewSql(v, spec.tables[v.table]);
      try {
        db.exec(sql);
      } catch {
        continue;
      }
      built.statements.push(sql + ";");
      built.views.push({ name: v.name, table: spec.tables[v.table].name });
    }
    if (spec.apps) built.apps = writeApps(db, spec.apps, appTables, built.statements);
  } finally {
    db.close();
  }
  if (spec.apps) finishWal(file, spec.apps.wal, appTables, built.statements);
  // The app's ordinary tables are compared like every generated one (their rows are read from the file).
  for (const t of appTables) built.tables.push({ ...t, rows: [] });
  return built;
}
