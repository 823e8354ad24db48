/**
 * Generator categories for the files applications make (issue 20): virtual tables with their real
 * shadow tables, collations the app registers, generated columns, WAL-mode files, mixed-case
 * tables with views written in another case, and Core Data-shaped stores. Each category is a
 * GenOptions switch (model.ts); this file draws its part of a DbSpec (AppsSpec) and writes it into
 * the file beside the base tables (writeApps), returning what the checker (check-apps.ts) needs.
 *
 * Every name here is at least 13 characters long or contains a capital after a prefix the base
 * generator cannot produce (its plain names are [a-z][a-z0-9_]{0,11}), so app tables never
 * collide with generated ones.
 */
import * as fc from "fast-check";
import * as fs from "fs";
import Database from "better-sqlite3";
import { quoteIdent, type ColSpec } from "./model";

/** The switches of this file (a subset of GenOptions). */
export interface AppsOptions {
  virtualTables: boolean;
  appCollations: boolean;
  generatedColumns: boolean;
  walMode: boolean;
  mixedCaseViews: boolean;
  coreData: boolean;
}

export type VirtualModule = "fts5" | "fts4" | "fts3" | "rtree";

export interface VirtualSpec {
  module: VirtualModule;
  /** FTS only: content='<name>_content', an ordinary table of the app's named like a shadow table. */
  externalContent: boolean;
  rows: number;
  seed: number;
}

/** Collation names an app registers: the case-folding ones map to ICU case-insensitive, the rest to the default. */
export const APP_COLLATIONS = ["unicase", "UNICASE", "nocase", "my_coll", "LOCALIZED"] as const;
export const CASE_FOLDING = new Set(["unicase", "nocase"]);

export interface CollationSpec {
  cols: { coll: string; key: "unique" | "pk" | "none" }[];
  rows: (string | null)[][];
}

/** Generated-column expressions over a INTEGER, b TEXT, j TEXT (JSON). */
export const GENERATED_VOCAB: Record<string, { type: string; expr: string }> = {
  arith: { type: "INTEGER", expr: "a * 3 + 1" },
  concat: { type: "TEXT", expr: "b || '-' || a" },
  lower: { type: "TEXT", expr: "lower(b)" },
  upper: { type: "TEXT", expr: "upper(b)" },
  substr: { type: "TEXT", expr: "substr(b, 2, 3)" },
  coalesce: { type: "TEXT", expr: "coalesce(b, 'none')" },
  case: { type: "TEXT", expr: "CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END" },
  json: { type: "INTEGER", expr: "json_extract(j, '$.n')" },
  /** No PostgreSQL function computes SQLite's printf: a plain column holding the values. */
  untranslatable: { type: "TEXT", expr: "printf('%08.2f|%s', a, b)" },
};

export interface GeneratedSpec {
  cols: { kind: string; stored: boolean }[];
  rows: { a: number | null; b: string | null; j: string | null }[];
}

export type WalKind = "off" | "wal" | "hot";

/**
 * Views over AppCategories / AppOrderLines, written in other case and unquoted, using what the
 * view translator supports. unordered: columns whose value is a list in no defined order
 * (group_concat), compared as sorted lists.
 */
export const VIEW_TEMPLATES: { sql: string; unordered?: number[] }[] = [
  { sql: "SELECT categoryname, datetime(createdat) AS dt FROM appcategories" },
  { sql: "SELECT CATEGORYID, date(CreatedAt) AS d, strftime('%Y-%m', createdat) AS ym FROM APPCATEGORIES" },
  { sql: "SELECT ifnull(categoryname, 'none') AS n FROM AppCategories" },
  { sql: "SELECT l.categoryid, group_concat(l.productname) AS names FROM apporderlines l GROUP BY l.categoryid", unordered: [1] },
  { sql: "SELECT productname || ' x' || quantity AS label FROM apporderlines" },
  { sql: "SELECT lineid, productname FROM apporderlines ORDER BY lineid LIMIT -1 OFFSET 1" },
  { sql: "SELECT lineid FROM apporderlines WHERE quantity > '2'" },
  { sql: "SELECT categoryname FROM appcategories WHERE code = 7" },
  { sql: "SELECT c.categoryname, count(l.lineid) AS n FROM appcategories c LEFT JOIN apporderlines l ON l.categoryid = c.categoryid GROUP BY c.categoryid, c.categoryname" },
  { sql: "SELECT n FROM (SELECT count(*) AS n FROM apporderlines)" },
  { sql: "SELECT unitprice * quantity AS total FROM AppOrderLines WHERE unitprice IS NOT NULL" },
];

/**
 * Templates switched off, each with its finding: 3 (group_concat -> string_agg): the run reports
 * the view as "mismatch" (finding A1, CI seed 623928310: a list's order differs between SQLite's
 * group_concat and PostgreSQL's string_agg; the engine's view digest compares the lists as text).
 */
export const VIEWS_OFF = new Set([3]);

export interface MixedSpec {
  views: number[];
  cats: { name: string | null; created: string | null; code: string | null }[];
  lines: { cat: number; product: string | null; price: number | null; qty: number | null }[];
}

export interface CoreDataSpec {
  /** false: the same shape without Z_METADATA / Z_PRIMARYKEY, whose numbers nothing dates. */
  withMetadata: boolean;
  entities: { tsCols: number; rows: { title: string | null; ts: (number | null)[] }[] }[];
}

export interface AppsSpec {
  virtual: VirtualSpec[];
  collations: CollationSpec | null;
  generated: GeneratedSpec | null;
  wal: WalKind;
  mixed: MixedSpec | null;
  coreData: CoreDataSpec | null;
}

export function anyAppsOn(o: AppsOptions): boolean {
  return o.virtualTables || o.appCollations || o.generatedColumns || o.walMode || o.mixedCaseViews || o.coreData;
}

const COLL_VALUES = ["Apple", "apple", "APPLE", "Ämter", "ämter", "b", "B", "straße", "STRASSE", "x y", "", "Zebra", null];

function maybe<T>(on: boolean, arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return on ? fc.option(arb, { freq: 2, nil: null }) : fc.constant(null);
}

export function appsArb(o: AppsOptions): fc.Arbitrary<AppsSpec> {
  const virtual: fc.Arbitrary<VirtualSpec[]> = o.virtualTables
    ? fc.array(fc.record({ module: fc.constantFrom<VirtualModule>("fts5", "fts4", "fts3", "rtree"), externalContent: fc.boolean(), rows: fc.integer({ min: 0, max: 6 }), seed: fc.nat() }), { maxLength: 3 })
    : fc.constant<VirtualSpec[]>([]);
  const collations = maybe(
    o.appCollations,
    fc.array(fc.record({ coll: fc.constantFrom(...APP_COLLATIONS), key: fc.constantFrom<"unique" | "pk" | "none">("unique", "pk", "none", "none") }), { minLength: 1, maxLength: 4 }).chain((cols) =>
      fc.array(fc.tuple(...cols.map(() => fc.constantFrom(...COLL_VALUES))), { maxLength: 8 }).map((rows) => ({ cols, rows })),
    ),
  );
  const generated = maybe(
    o.generatedColumns,
    fc.record({
      cols: fc.array(fc.record({ kind: fc.constantFrom(...Object.keys(GENERATED_VOCAB)), stored: fc.boolean() }), { minLength: 1, maxLength: 5 }),
      rows: fc.array(
        fc.record({
          a: fc.option(fc.integer({ min: -1000, max: 1000 }), { freq: 6, nil: null }),
          b: fc.constantFrom("Apple", "ÄBC", "straße", "x", "", "hello world", "日本語", null),
          j: fc.constantFrom('{"n": 5}', '{"n": -2}', '{"m": 1}', "[1]", null),
        }),
        { maxLength: 8 },
      ),
    }),
  );
  const wal = o.walMode ? fc.constantFrom<WalKind>("off", "wal", "hot") : fc.constant<WalKind>("off");
  const iso = fc.constantFrom("2020-03-04 05:06:07", "2021-12-31T23:59:59", "2019-01-01", "1999-07-08 09:10:11.250", null);
  const mixed = maybe(
    o.mixedCaseViews,
    fc.record({
      views: fc.uniqueArray(fc.integer({ min: 0, max: VIEW_TEMPLATES.length - 1 }).filter((k) => !VIEWS_OFF.has(k)), { minLength: 1, maxLength: 5 }),
      cats: fc.array(fc.record({ name: fc.constantFrom("Beverages", "Condiments", "Dairy", "ünïcode", null), created: iso, code: fc.constantFrom("7", "007", "8", null) }), { minLength: 1, maxLength: 4 }),
      lines: fc.array(
        fc.record({
          cat: fc.integer({ min: 1, max: 5 }),
          product: fc.constantFrom("Chai", "Chang", "Tofu", "Ikura", null),
          // Multiples of 1/4: SQLite's REAL arithmetic and PostgreSQL's numeric agree exactly.
          price: fc.option(fc.integer({ min: 0, max: 400 }).map((q) => q / 4), { freq: 6, nil: null }),
          qty: fc.option(fc.integer({ min: 0, max: 12 }), { freq: 6, nil: null }),
        }),
        { maxLength: 8 },
      ),
    }),
  );
  // Seconds since 2001 with fractions a double holds exactly, before and after the origin.
  const cdSeconds = fc.tuple(fc.integer({ min: -40_000_000, max: 900_000_000 }), fc.constantFrom(0, 0.5, 0.25, 0.125, 0.0625)).map(([s, f]) => s + f);
  const coreData = maybe(
    o.coreData,
    fc.record({
      withMetadata: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
      entities: fc.array(
        fc.integer({ min: 1, max: 2 }).chain((tsCols) =>
          fc.record({
            tsCols: fc.constant(tsCols),
            rows: fc.array(fc.record({ title: fc.constantFrom("new year", "noon", null, "日本"), ts: fc.array(fc.option(cdSeconds, { freq: 6, nil: null }), { minLength: tsCols, maxLength: tsCols }) }), { maxLength: 6 }),
          }),
        ),
        { minLength: 1, maxLength: 2 },
      ),
    }),
  );
  return fc.record({ virtual, collations, generated, wal, mixed, coreData });
}

/** What writeApps put in the file, for the checker. */
export interface AppsBuilt {
  /** Virtual tables created, with the rows inserted. */
  virtual: { name: string; module: VirtualModule; rows: number; externalContent: string | null }[];
  collations: { table: string; cols: { name: string; coll: string; key: boolean }[] } | null;
  generated: { table: string; cols: { name: string; kind: string; stored: boolean }[] } | null;
  wal: WalKind;
  views: { name: string; unordered: number[] }[];
  coreData: { withMetadata: boolean; tables: { name: string; tsCols: string[] }[] } | null;
}

export interface AppTable {
  name: string;
  cols: ColSpec[];
}

const col = (name: string, type: string): ColSpec => ({ name, type, notNull: false, unique: false });

/** Runs one statement, recording it; false when SQLite refused it (the piece is then left out). */
function exec(db: Database.Database, statements: string[], sql: string): boolean {
  try {
    db.exec(sql);
  } catch {
    return false;
  }
  statements.push(sql + ";");
  return true;
}

function literal(v: string | number | null): string {
  if (v === null) return "NULL";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(v);
  return "'" + v.replace(/'/g, "''") + "'";
}

function insertRows(db: Database.Database, statements: string[], table: string, cols: string[], rows: (string | number | null)[][]): number {
  let n = 0;
  for (const r of rows) if (exec(db, statements, `INSERT INTO ${quoteIdent(table)} (${cols.map(quoteIdent).join(", ")}) VALUES (${r.map(literal).join(", ")})`)) n++;
  return n;
}

const WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "Ärger", "日本"];

/**
 * Writes the app categories into an open database. tables receives the ordinary tables the run
 * must copy exactly (compared by check.ts like every generated table); statements the repro.
 */
export function writeApps(db: Database.Database, spec: AppsSpec, tables: AppTable[], statements: string[]): AppsBuilt {
  const built: AppsBuilt = { virtual: [], collations: null, generated: null, wal: spec.wal, views: [], coreData: null };
  if (spec.wal !== "off") exec(db, statements, "PRAGMA journal_mode = WAL");

  spec.virtual.forEach((v, i) => {
    const name = `AppVirtual${i}_${v.module}`;
    const ext = v.externalContent && v.module !== "rtree" ? `${name}_content` : null;
    if (ext) {
      if (!exec(db, statements, `CREATE TABLE ${quoteIdent(ext)} (id INTEGER PRIMARY KEY, title TEXT, body TEXT)`)) return;
      tables.push({ name: ext, cols: [col("id", "INTEGER"), col("title", "TEXT"), col("body", "TEXT")] });
    }
    const using =
      v.module === "rtree" ? "rtree(id, minX, maxX, minY, maxY)" : v.module === "fts5" ? `fts5(title, body${ext ? `, content=${literal(ext)}, content_rowid=id` : ""})` : `${v.module}(title, body${ext ? `, content=${literal(ext)}` : ""})`;
    if (!exec(db, statements, `CREATE VIRTUAL TABLE ${quoteIdent(name)} USING ${using}`)) return;
    let n = 0;
    for (let r = 0; r < v.rows; r++) {
      const w = (k: number): string => WORDS[(v.seed + r * 3 + k) % WORDS.length];
      if (v.module === "rtree") {
        const x = (v.seed % 100) + r;
        if (exec(db, statements, `INSERT INTO ${quoteIdent(name)} VALUES (${r + 1}, ${x}, ${x + 1.5}, ${-x}, ${-x + 2})`)) n++;
      } else if (ext) {
        // External content: the app writes its table and the index (SQLite keeps them apart). The
        // table's name is a shadow name, which better-sqlite3's defensive mode refuses to write; apps
        // (no defensive mode) write it.
        db.unsafeMode(true);
        const ok = exec(db, statements, `INSERT INTO ${quoteIdent(ext)} (id, title, body) VALUES (${r + 1}, '${w(0)}', '${w(1)} ${w(2)}')`);
        db.unsafeMode(false);
        if (ok && exec(db, statements, `INSERT INTO ${quoteIdent(name)} (rowid, title, body) VALUES (${r + 1}, '${w(0)}', '${w(1)} ${w(2)}')`)) n++;
      } else if (exec(db, statements, `INSERT INTO ${quoteIdent(name)} (title, body) VALUES ('${w(0)}', '${w(1)} ${w(2)}')`)) n++;
    }
    built.virtual.push({ name, module: v.module, rows: n, externalContent: ext });
  });

  if (spec.generated) {
    const g = spec.generated;
    const table = "AppGeneratedCols";
    const cols = g.cols.map((c, i) => ({ name: `g${i}_${c.kind}`, kind: c.kind, stored: c.stored }));
    const defs = ["id INTEGER PRIMARY KEY", "a INTEGER", "b TEXT", "j TEXT", ...cols.map((c) => `${quoteIdent(c.name)} ${GENERATED_VOCAB[c.kind].type} GENERATED ALWAYS AS (${GENERATED_VOCAB[c.kind].expr}) ${c.stored ? "STORED" : "VIRTUAL"}`)];
    if (exec(db, statements, `CREATE TABLE ${table} (${defs.join(", ")})`)) {
      insertRows(db, statements, table, ["a", "b", "j"], g.rows.map((r) => [r.a, r.b, r.j]));
      tables.push({ name: table, cols: [col("id", "INTEGER"), col("a", "INTEGER"), col("b", "TEXT"), col("j", "TEXT"), ...cols.map((c) => col(c.name, GENERATED_VOCAB[c.kind].type))] });
      built.generated = { table, cols };
    }
  }

  if (spec.mixed) {
    const m = spec.mixed;
    const ok =
      exec(db, statements, "CREATE TABLE AppCategories (CategoryID INTEGER PRIMARY KEY, CategoryName TEXT, CreatedAt TEXT, Code TEXT)") &&
      exec(db, statements, "CREATE TABLE AppOrderLines (LineID INTEGER PRIMARY KEY, CategoryID INTEGER REFERENCES AppCategories (CategoryID), ProductName TEXT, UnitPrice NUMERIC, Quantity INTEGER)");
    if (ok) {
      insertRows(db, statements, "AppCategories", ["CategoryName", "CreatedAt", "Code"], m.cats.map((c) => [c.name, c.created, c.code]));
      insertRows(db, statements, "AppOrderLines", ["CategoryID", "ProductName", "UnitPrice", "Quantity"], m.lines.map((l) => [l.cat, l.product, l.price, l.qty]));
      tables.push({ name: "AppCategories", cols: [col("CategoryID", "INTEGER"), col("CategoryName", "TEXT"), col("CreatedAt", "TEXT"), col("Code", "TEXT")] });
      tables.push({ name: "AppOrderLines", cols: [col("LineID", "INTEGER"), col("CategoryID", "INTEGER"), col("ProductName", "TEXT"), col("UnitPrice", "NUMERIC"), col("Quantity", "INTEGER")] });
      for (const k of m.views) {
        const name = `AppView${k}_Mixed`;
        if (exec(db, statements, `CREATE VIEW ${name} AS ${VIEW_TEMPLATES[k].sql}`)) built.views.push({ name, unordered: VIEW_TEMPLATES[k].unordered ?? [] });
      }
    }
  }

  if (spec.coreData) {
    const cd = spec.coreData;
    const tables0: { name: string; tsCols: string[] }[] = [];
    let ok = true;
    if (cd.withMetadata) {
      ok =
        exec(db, statements, "CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER)") &&
        exec(db, statements, "CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB)") &&
        exec(db, statements, "INSERT INTO Z_METADATA VALUES (1, 'C0FFEE00-0000-4000-8000-000000000001', x'62706c6973743030')");
      if (ok) {
        tables.push({ name: "Z_PRIMARYKEY", cols: [col("Z_ENT", "INTEGER"), col("Z_NAME", "VARCHAR"), col("Z_SUPER", "INTEGER"), col("Z_MAX", "INTEGER")] });
        tables.push({ name: "Z_METADATA", cols: [col("Z_VERSION", "INTEGER"), col("Z_UUID", "VARCHAR(255)"), col("Z_PLIST", "BLOB")] });
      }
    }
    if (ok)
      cd.entities.forEach((e, i) => {
        const name = cd.withMetadata ? `ZAPPENTITYNO${i}` : `AppPlainStamps${i}`;
        const ts = [...Array(e.tsCols).keys()].map((k) => (cd.withMetadata ? `ZDATE${k}` : `StampedAt${k}`));
        const defs = cd.withMetadata ? ["Z_PK INTEGER PRIMARY KEY", "Z_ENT INTEGER", "Z_OPT INTEGER", "ZTITLE VARCHAR", ...ts.map((c) => `${c} TIMESTAMP`)] : ["Z_PK INTEGER PRIMARY KEY", "ZTITLE VARCHAR", ...ts.map((c) => `${c} TIMESTAMP`)];
        if (!exec(db, statements, `CREATE TABLE ${name} (${defs.join(", ")})`)) return;
        if (cd.withMetadata) exec(db, statements, `INSERT INTO Z_PRIMARYKEY VALUES (${i + 1}, 'Entity${i}', 0, ${e.rows.length})`);
        // REAL as Core Data stores it (an integral value is still a REAL: 1.0 is bound as a double).
        const ins = db.prepare(`INSERT INTO ${name} (${[...(cd.withMetadata ? ["Z_ENT", "Z_OPT"] : []), "ZTITLE", ...ts].join(", ")}) VALUES (${[...(cd.withMetadata ? ["?", "?"] : []), "?", ...ts.map(() => "CAST(? AS REAL)")].join(", ")})`);
        for (const r of e.rows) {
          ins.run(...(cd.withMetadata ? [i + 1, 1] : []), r.title, ...r.ts);
          statements.push(`INSERT INTO ${name} (${[...(cd.withMetadata ? ["Z_ENT", "Z_OPT"] : []), "ZTITLE", ...ts].join(", ")}) VALUES (${[...(cd.withMetadata ? [String(i + 1), "1"] : []), literal(r.title), ...r.ts.map((x) => (x === null ? "NULL" : `CAST(${x} AS REAL)`))].join(", ")});`);
        }
        tables0.push({ name, tsCols: ts });
        // Entity tables are compared by check-apps.ts (instants), plain-stamp tables like any table.
        if (!cd.withMetadata) tables.push({ name, cols: [col("Z_PK", "INTEGER"), col("ZTITLE", "VARCHAR"), ...ts.map((c) => col(c, "TIMESTAMP"))] });
      });
    built.coreData = { withMetadata: cd.withMetadata, tables: tables0 };
  }

  // Last: the collation rename rewrites the schema, after which this connection cannot compare on those columns.
  if (spec.collations) {
    const cs = spec.collations;
    const table = "AppCollationCols";
    const cols = cs.cols.map((c, i) => ({ name: `c${i}_${c.coll}`, coll: c.coll, key: c.key !== "none" }));
    const pk = cs.cols.findIndex((c) => c.key === "pk");
    // Created as NOCASE (the stand-in's order for reading), then renamed as the app's own collation.
    const defs = cols.map((c, i) => `${quoteIdent(c.name)} TEXT COLLATE NOCASE /*armp:${i}*/${cs.cols[i].key === "unique" ? " UNIQUE" : ""}`);
    if (pk >= 0) defs.push(`PRIMARY KEY (${quoteIdent(cols[pk].name)})`);
    if (exec(db, statements, `CREATE TABLE ${table} (${defs.join(", ")})`)) {
      insertRows(db, statements, table, cols.map((c) => c.name), cs.rows);
      db.unsafeMode(true);
      db.pragma("writable_schema = ON");
      const upd = db.prepare("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE name = ?");
      cols.forEach((c, i) => upd.run(`COLLATE NOCASE /*armp:${i}*/`, `COLLATE ${c.coll}`, table));
      const v = db.pragma("schema_version", { simple: true }) as number;
      db.pragma(`schema_version = ${v + 1}`);
      db.pragma("writable_schema = OFF");
      db.unsafeMode(false);
      statements.push(`-- then, through writable_schema, each COLLATE NOCASE /*armp:i*/ of ${table} renamed to ${cols.map((c) => c.coll).join(", ")}`);
      tables.push({ name: table, cols: cols.map((c) => col(c.name, "TEXT")) });
      built.collations = { table, cols };
    }
  }
  return built;
}

/**
 * After the file is closed: for "hot", leaves a WAL the app never checkpointed beside it — a table
 * whose rows exist only in that -wal (SQLite checkpoints and deletes the -wal when the last
 * connection closes, so the files are copied while one is still open).
 */
export function finishWal(file: string, kind: WalKind, tables: AppTable[], statements: string[]): void {
  if (kind !== "hot") return;
  const db = new Database(file);
  const tmp = file + ".hot";
  try {
    db.pragma("wal_autocheckpoint = 0");
    db.exec("CREATE TABLE AppWalOnlyRows (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO AppWalOnlyRows (note) VALUES ('only in the wal'), ('second');");
    statements.push("-- hot WAL: CREATE TABLE AppWalOnlyRows (id INTEGER PRIMARY KEY, note TEXT) and 2 rows, left in the -wal (not checkpointed)");
    tables.push({ name: "AppWalOnlyRows", cols: [col("id", "INTEGER"), col("note", "TEXT")] });
    fs.copyFileSync(file, tmp);
    fs.copyFileSync(file + "-wal", tmp + "-wal");
  } finally {
    db.close();
  }
  fs.renameSync(tmp, file);
  fs.renameSync(tmp + "-wal", file + "-wal");
  for (const f of [file + "-shm", tmp + "-shm"]) fs.rmSync(f, { force: true });
}
