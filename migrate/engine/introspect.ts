/**
 * Reads the SQLite schema through PRAGMAs (not by parsing CREATE statements, which SQLite accepts
 * in many dialects) so odd names, composite keys and foreign-key actions come out exactly.
 */
import type { SqliteDb } from "./sqlite";

export interface SourceColumn {
  name: string;
  /** Declared type as written, e.g. "NVARCHAR(160)"; "" when none. */
  declType: string;
  notNull: boolean;
  /** Default as SQL text from PRAGMA table_xinfo (e.g. "CURRENT_TIMESTAMP", "'x'"), or null. */
  defaultSql: string | null;
  /** Generated columns are computed by SQLite (VIRTUAL or STORED); see generatedSql. */
  generated: boolean;
  /** A generated column's expression as written in CREATE TABLE (no PRAGMA reports it); null when it could not be read. */
  generatedSql?: string | null;
  generatedKind?: "virtual" | "stored";
  /**
   * The column's collation as declared (COLLATE x in CREATE TABLE), upper-cased for SQLite's own
   * (BINARY, NOCASE, RTRIM); "BINARY" when none is declared, which is SQLite's default.
   */
  collation: string;
}

export interface SourceIndex {
  name: string;
  columns: string[];
  desc: boolean[];
  unique: boolean;
  /** "c" = CREATE INDEX, "u" = UNIQUE constraint, "pk" = PRIMARY KEY. */
  origin: "c" | "u" | "pk";
  where?: string;
  /** Expression indexes cannot be expressed as column lists; they are reported, not recreated. */
  expression: boolean;
}

export interface SourceForeignKey {
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface SourceTable {
  name: string;
  columns: SourceColumn[];
  primaryKey: string[];
  /** The INTEGER PRIMARY KEY column that aliases the rowid (becomes an identity column). */
  rowidAlias: string | null;
  autoincrement: boolean;
  withoutRowid: boolean;
  uniques: string[][];
  indexes: SourceIndex[];
  foreignKeys: SourceForeignKey[];
}

export interface SourceView {
  name: string;
  sql: string;
  /**
   * The view's column names as SQLite reports them (PRAGMA table_info): the names PostgreSQL's
   * view gets. null when SQLite itself cannot read the view (it names a missing table); the
   * message says why.
   */
  columns: string[] | null;
  error?: string;
}

export interface SourceSchema {
  /** Parents before children (FK order), then by name; cycles keep name order. */
  tables: SourceTable[];
  views: SourceView[];
  /** Objects we cannot migrate (virtual tables), with the reason: never silently dropped. */
  skipped: SkippedObject[];
}

export interface SkippedObject {
  name: string;
  type: string;
  reason: string;
  /** A virtual table's module (fts5, rtree, ...), as written after USING. */
  module?: string;
  /** The tables SQLite keeps a virtual table's data in, skipped with it. */
  shadowTables?: string[];
}

interface MasterRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

export function quoteSqliteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function introspect(db: SqliteDb): SourceSchema {
  const master = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all() as MasterRow[];
  const tables: SourceTable[] = [];
  const views: SourceView[] = [];
  const { skipped, shadows } = virtualTables(db, master);
  for (const m of master) {
    if (m.type === "view") {
      views.push({ name: m.name, sql: m.sql ?? "", ...viewColumns(db, m.name) });
      continue;
    }
    if (m.type !== "table" || m.name.startsWith("sqlite_")) continue;
    // Capture's own bookkeeping (capture.ts: changelog, install record) is not application data.
    if (m.name.startsWith("_armp_")) continue;
    if (isVirtual(m) || shadows.has(m.name)) continue;
    tables.push(readTable(db, m, master));
  }
  return { tables: dependencyOrder(tables), views, skipped };
}

function isVirtual(m: { sql: string | null }): boolean {
  return /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(m.sql ?? "");
}

/** The module after USING in CREATE VIRTUAL TABLE name USING module(args), lower-cased. */
export function virtualModule(createSql: string): string {
  const toks = sqlTokens(createSql);
  const using = toks.findIndex((t) => t.kind === "word" && t.text.toUpperCase() === "USING");
  return using >= 0 && toks[using + 1] ? toks[using + 1].text.toLowerCase() : "";
}

/**
 * Tables each module keeps its data in, named <virtual table>_<suffix>. Used for modules this
 * reader may not have; PRAGMA table_list (SQLite 3.37+) also marks shadow tables of loaded ones.
 */
const SHADOW_SUFFIXES: Record<string, string[]> = {
  fts3: ["content", "segments", "segdir", "docsize", "stat"],
  fts4: ["content", "segments", "segdir", "docsize", "stat"],
  fts5: ["data", "idx", "content", "docsize", "config"],
  rtree: ["node", "rowid", "parent"],
  rtree_i32: ["node", "rowid", "parent"],
  geopoly: ["node", "rowid", "parent"],
};

const FTS = new Set(["fts3", "fts4", "fts5"]);
const RTREE = new Set(["rtree", "rtree_i32", "geopoly"]);

/**
 * Virtual tables and their shadow tables, one skipped entry per virtual table naming its shadow
 * tables: copying a shadow table as an ordinary table moves SQLite's internal index format,
 * which nothing in PostgreSQL can read (and an FTS index is often the largest part of a file).
 */
function virtualTables(db: SqliteDb, master: MasterRow[]): { skipped: SkippedObject[]; shadows: Set<string> } {
  const virtuals = master.filter((m) => m.type === "table" && isVirtual(m));
  const tableNames = new Set(master.filter((m) => m.type === "table").map((m) => m.name));
  let marked: string[] = [];
  try {
    marked = (db.prepare("PRAGMA table_list").all() as { schema: string; name: string; type: string }[]).filter((r) => r.schema === "main" && r.type === "shadow").map((r) => r.name);
  } catch {
    // SQLite before 3.37 has no table_list; the module suffixes still apply.
  }
  const shadows = new Set<string>();
  const skipped = virtuals.map((v): SkippedObject => {
    const module = virtualModule(v.sql ?? "");
    const prefix = v.name.toLowerCase() + "_";
    const own = new Set<string>();
    // With content=<table> (external content) or content='' SQLite keeps no <name>_content table:
    // a table of that name is the application's own.
    const appContent = FTS.has(module) && /\bcontent\s*=/i.test(v.sql ?? "") ? prefix + "content" : null;
    for (const suffix of SHADOW_SUFFIXES[module] ?? []) {
      const name = [...tableNames].find((n) => n.toLowerCase() === prefix + suffix);
      if (name && name.toLowerCase() !== appContent) own.add(name);
    }
    for (const name of marked) {
      // Longest matching virtual table name: "a_b_data" belongs to "a_b", not to "a".
      const owner = virtuals.filter((x) => name.toLowerCase().startsWith(x.name.toLowerCase() + "_")).sort((a, b) => b.name.length - a.name.length)[0];
      if (owner === v && name.toLowerCase() !== appContent) own.add(name);
    }
    const shadowTables = [...own].sort();
    for (const n of shadowTables) shadows.add(n);
    let rows: number | null = null;
    try {
      rows = Number((db.prepare(`SELECT count(*) AS n FROM ${quoteSqliteIdent(v.name)}`).get() as { n: number }).n);
    } catch {
      // The module is not compiled into this reader (or the table cannot be read): no count.
    }
    const holds = rows === null ? `module ${module || "?"} is not available to this reader` : `${rows} row(s)`;
    const with_ = shadowTables.length ? `; its shadow tables ${shadowTables.join(", ")} are skipped with it` : "";
    let advice: string;
    if (FTS.has(module)) advice = "PostgreSQL's full-text search is a tsvector column (or expression) with a GIN index: recreate it by hand over the migrated text";
    else if (RTREE.has(module)) advice = "PostgreSQL's spatial index is a GiST index (PostGIS geometry, or box/range columns): recreate it by hand";
    else advice = "PostgreSQL has no equivalent: recreate what it provides by hand";
    return { name: v.name, type: "virtual table", module, shadowTables, reason: `${module || "virtual"} virtual table (${holds}) not copied${with_}; ${advice}` };
  });
  return { skipped, shadows };
}

function viewColumns(db: SqliteDb, name: string): { columns: string[] | null; error?: string } {
  try {
    return { columns: (db.prepare(`PRAGMA table_info(${quoteSqliteIdent(name)})`).all() as { name: string }[]).map((c) => c.name) };
  } catch (e) {
    return { columns: null, error: e instanceof Error ? e.message : String(e) };
  }
}

function readTable(db: SqliteDb, m: MasterRow, master: MasterRow[]): SourceTable {
  const q = quoteSqliteIdent(m.name);
  const info = db.prepare(`PRAGMA table_xinfo(${q})`).all() as { cid: number; name: string; type: string; notnull: number; dflt_value: string | null; pk: number; hidden: number }[];
  const collations = declaredCollations(m.sql ?? "");
  let generatedExprs: Map<string, string> | undefined;
  const columns: SourceColumn[] = info
    .filter((c) => c.hidden !== 1) // hidden=1 are virtual-table hidden columns
    .map((c) => {
      const col: SourceColumn = { name: c.name, declType: c.type ?? "", notNull: c.notnull === 1, defaultSql: c.dflt_value, generated: c.hidden === 2 || c.hidden === 3, collation: collations.get(c.name.toLowerCase()) ?? "BINARY" };
      if (col.generated) col.generatedKind = c.hidden === 3 ? "stored" : "virtual";
      if (col.generated) col.generatedSql = (generatedExprs ??= declaredGenerated(m.sql ?? "")).get(c.name.toLowerCase()) ?? null;
      return col;
    });
  const primaryKey = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
  const sql = m.sql ?? "";
  // Table options after the closing parenthesis, in any order: WITHOUT ROWID, STRICT.
  const withoutRowid = /\)\s*(?:(?:WITHOUT\s+ROWID|STRICT)\s*,\s*)*WITHOUT\s+ROWID(?:\s*,\s*(?:WITHOUT\s+ROWID|STRICT))*\s*;?\s*$/i.test(sql);
  const rowidAlias = !withoutRowid && primaryKey.length === 1 && (info.find((c) => c.name === primaryKey[0])?.type ?? "").toUpperCase() === "INTEGER" ? primaryKey[0] : null;
  const autoincrement = rowidAlias !== null && /\bAUTOINCREMENT\b/i.test(sql);

  const indexes: SourceIndex[] = [];
  const uniques: string[][] = [];
  const list = db.prepare(`PRAGMA index_list(${q})`).all() as { name: string; unique: number; origin: "c" | "u" | "pk"; partial: number }[];
  for (const ix of list) {
    const cols = (db.prepare(`PRAGMA index_xinfo(${quoteSqliteIdent(ix.name)})`).all() as { cid: number; name: string | null; desc: number; key: number }[]).filter((c) => c.key === 1);
    const expression = cols.some((c) => c.cid === -2);
    const spec: SourceIndex = {
      name: ix.name,
      columns: cols.map((c) => c.name ?? (c.cid === -1 ? "rowid" : "<expr>")),
      desc: cols.map((c) => c.desc === 1),
      unique: ix.unique === 1,
      origin: ix.origin,
      expression,
    };
    if (ix.partial === 1) {
      const isql = master.find((x) => x.type === "index" && x.name === ix.name)?.sql ?? "";
      const w = /\bWHERE\b([\s\S]*)$/i.exec(isql);
      if (w) spec.where = sqliteExprToPg(w[1].trim().replace(/;$/, ""));
    }
    if (ix.origin === "u" && !expression) uniques.push(spec.columns);
    indexes.push(spec);
  }
  // PRAGMA index_list is newest-first; keep declaration order for stable DDL.
  indexes.reverse();
  uniques.reverse();

  const fkRows = db.prepare(`PRAGMA foreign_key_list(${q})`).all() as { id: number; seq: number; table: string; from: string; to: string | null; on_update: string; on_delete: string }[];
  const byId = new Map<number, typeof fkRows>();
  for (const r of fkRows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  const foreignKeys: SourceForeignKey[] = [...byId.keys()]
    .sort((a, b) => b - a) // ids count down from the last declared FK
    .map((id) => {
      const rows = byId.get(id)!.sort((a, b) => a.seq - b.seq);
      let refColumns = rows.map((r) => r.to);
      if (refColumns.some((c) => c === null)) {
        // "REFERENCES parent" without columns means the parent's primary key.
        const parentInfo = db.prepare(`PRAGMA table_info(${quoteSqliteIdent(rows[0].table)})`).all() as { name: string; pk: number }[];
        refColumns = parentInfo.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      }
      return { columns: rows.map((r) => r.from), refTable: rows[0].table, refColumns: refColumns as string[], onDelete: rows[0].on_delete, onUpdate: rows[0].on_update };
    });
  return { name: m.name, columns, primaryKey, rowidAlias, autoincrement, withoutRowid, uniques, indexes, foreignKeys };
}

interface SqlToken {
  text: string;
  /** "word" (keyword or bare name), "name" (quoted identifier, unquoted in text), "string", "punct". */
  kind: "word" | "name" | "string" | "punct";
  /** Offsets of the token in the statement (end exclusive). */
  start: number;
  end: number;
}

/** SQLite's lexical tokens, enough to walk a CREATE TABLE: comments dropped, quotes undone. */
function sqlTokens(sql: string): SqlToken[] {
  const out: SqlToken[] = [];
  let i = 0;
  const quoted = (close: string, doubled: boolean): string => {
    let text = "";
    i++;
    while (i < sql.length) {
      if (sql[i] === close) {
        if (doubled && sql[i + 1] === close) {
          text += close;
          i += 2;
          continue;
        }
        i++;
        return text;
      }
      text += sql[i++];
    }
    return text;
  };
  const push = (start: number, t: Omit<SqlToken, "start" | "end">): void => void out.push({ ...t, start, end: i });
  while (i < sql.length) {
    const ch = sql[i];
    const at = i;
    if (/\s/.test(ch)) i++;
    else if (ch === "-" && sql[i + 1] === "-") i = sql.indexOf("\n", i) < 0 ? sql.length : sql.indexOf("\n", i);
    else if (ch === "/" && sql[i + 1] === "*") i = sql.indexOf("*/", i + 2) < 0 ? sql.length : sql.indexOf("*/", i + 2) + 2;
    else if (ch === "'") push(at, { text: quoted("'", true), kind: "string" });
    else if (ch === '"') push(at, { text: quoted('"', true), kind: "name" });
    else if (ch === "`") push(at, { text: quoted("`", true), kind: "name" });
    else if (ch === "[") push(at, { text: quoted("]", false), kind: "name" });
    else if (ch === "(" || ch === ")" || ch === ",") {
      i++;
      push(at, { text: ch, kind: "punct" });
    } else {
      let j = i;
      while (j < sql.length && !/[\s(),'"`[]/.test(sql[j])) j++;
      const text = sql.slice(i, j);
      i = j;
      push(at, { text, kind: "word" });
    }
  }
  return out;
}

const TABLE_CONSTRAINT = new Set(["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]);
const BUILTIN_COLLATIONS = new Set(["BINARY", "NOCASE", "RTRIM"]);

/**
 * Column name (lower case) -> collation declared in a CREATE TABLE statement (COLLATE x among the
 * column's constraints; COLLATE inside CHECK or DEFAULT expressions does not count). No PRAGMA
 * reports it. SQLite's built-in names are upper-cased, others kept as written.
 */
export function declaredCollations(createSql: string): Map<string, string> {
  const out = new Map<string, string>();
  const toks = sqlTokens(createSql);
  const open = toks.findIndex((t) => t.kind === "punct" && t.text === "(");
  // CREATE TABLE ... AS SELECT: the columns have no declared collations.
  if (open < 0 || toks.slice(0, open).some((t) => t.kind === "word" && t.text.toUpperCase() === "AS")) return out;
  let depth = 1;
  let seg: SqlToken[] = [];
  const finish = (): void => {
    const first = seg[0];
    if (first && !(first.kind === "word" && TABLE_CONSTRAINT.has(first.text.toUpperCase()))) {
      for (let k = 1; k + 1 < seg.length; k++) {
        if (seg[k].kind === "word" && seg[k].text.toUpperCase() === "COLLATE") {
          const name = seg[k + 1].text;
          out.set(first.text.toLowerCase(), BUILTIN_COLLATIONS.has(name.toUpperCase()) ? name.toUpperCase() : name);
        }
      }
    }
    seg = [];
  };
  for (let k = open + 1; k < toks.length && depth > 0; k++) {
    const t = toks[k];
    if (t.kind === "punct" && t.text === "(") depth++;
    else if (t.kind === "punct" && t.text === ")") {
      depth--;
      if (depth === 0) finish();
    } else if (depth === 1 && t.kind === "punct" && t.text === ",") finish();
    else if (depth === 1) seg.push(t);
  }
  return out;
}

/**
 * Column name (lower case) -> generated column expression as written in a CREATE TABLE statement
 * (`[GENERATED ALWAYS] AS (expr) [VIRTUAL|STORED]` among the column's constraints).
 */
export function declaredGenerated(createSql: string): Map<string, string> {
  const out = new Map<string, string>();
  const toks = sqlTokens(createSql);
  const open = toks.findIndex((t) => t.kind === "punct" && t.text === "(");
  if (open < 0) return out;
  let depth = 1;
  let name: string | null = null;
  let first = true;
  for (let k = open + 1; k < toks.length && depth > 0; k++) {
    const t = toks[k];
    if (t.kind === "punct" && t.text === "(") depth++;
    else if (t.kind === "punct" && t.text === ")") depth--;
    else if (depth === 1 && t.kind === "punct" && t.text === ",") {
      first = true;
      name = null;
      continue;
    }
    if (depth === 1 && first) {
      first = false;
      if (!(t.kind === "word" && TABLE_CONSTRAINT.has(t.text.toUpperCase()))) name = t.text.toLowerCase();
      continue;
    }
    // AS directly followed by "(" at the column's level starts the expression.
    if (depth === 1 && name !== null && t.kind === "word" && t.text.toUpperCase() === "AS" && toks[k + 1]?.kind === "punct" && toks[k + 1].text === "(") {
      let d = 0;
      let j = k + 1;
      for (; j < toks.length; j++) {
        if (toks[j].kind === "punct" && toks[j].text === "(") d++;
        else if (toks[j].kind === "punct" && toks[j].text === ")" && --d === 0) break;
      }
      if (j < toks.length) out.set(name, createSql.slice(toks[k + 1].end, toks[j].start).trim());
      k = j;
    }
  }
  return out;
}

/**
 * Every use of a collation that is not SQLite's own (one the application registers, like Anki's
 * unicase): table columns' COLLATE clauses and index keys (PRAGMA index_xinfo names the collation
 * of each key, also for COLLATE written in CREATE INDEX). Reads only the schema, so it works on a
 * connection that has no such collation.
 */
export function appCollationUses(db: SqliteDb): { collation: string; table: string; column: string; index?: string }[] {
  const out: { collation: string; table: string; column: string; index?: string }[] = [];
  const seen = new Set<string>();
  const add = (u: { collation: string; table: string; column: string; index?: string }): void => {
    const k = JSON.stringify([u.collation.toLowerCase(), u.table, u.column]);
    if (BUILTIN_COLLATIONS.has(u.collation.toUpperCase()) || seen.has(k)) return;
    seen.add(k);
    out.push(u);
  };
  const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL ORDER BY name").all() as { name: string; sql: string }[];
  for (const t of tables) {
    for (const [col, coll] of declaredCollations(t.sql)) {
      const info = db.prepare(`PRAGMA table_info(${quoteSqliteIdent(t.name)})`).all() as { name: string }[];
      add({ collation: coll, table: t.name, column: info.find((c) => c.name.toLowerCase() === col)?.name ?? col });
    }
    if (/^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(t.sql)) continue;
    for (const ix of db.prepare(`PRAGMA index_list(${quoteSqliteIdent(t.name)})`).all() as { name: string }[]) {
      for (const k of db.prepare(`PRAGMA index_xinfo(${quoteSqliteIdent(ix.name)})`).all() as { name: string | null; coll: string | null; key: number }[]) {
        if (k.key === 1 && k.coll) add({ collation: k.coll, table: t.name, column: k.name ?? "<expr>", index: ix.name });
      }
    }
  }
  return out;
}

/** SQLite accepts [x] and `x` identifiers; PostgreSQL only "x". Strings are left alone. */
export function sqliteExprToPg(expr: string): string {
  let out = "";
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === "'") {
      const end = expr.indexOf("'", i + 1);
      const stop = end < 0 ? expr.length : end;
      out += expr.slice(i, stop + 1);
      i = stop;
    } else if (ch === "[" || ch === "`") {
      const close = ch === "[" ? "]" : "`";
      const end = expr.indexOf(close, i + 1);
      const stop = end < 0 ? expr.length : end;
      out += '"' + expr.slice(i + 1, stop).replace(/"/g, '""') + '"';
      i = stop;
    } else {
      out += ch;
    }
  }
  return out;
}

function dependencyOrder(tables: SourceTable[]): SourceTable[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: SourceTable[] = [];
  const visit = (t: SourceTable): void => {
    if (done.has(t.name) || visiting.has(t.name)) return;
    visiting.add(t.name);
    for (const fk of t.foreignKeys) {
      const p = byName.get(fk.refTable) ?? [...byName.values()].find((x) => x.name.toLowerCase() === fk.refTable.toLowerCase());
      if (p && p !== t) visit(p);
    }
    visiting.delete(t.name);
    done.add(t.name);
    out.push(t);
  };
  for (const t of tables) visit(t);
  return out;
}
