/**
 * Source name -> PostgreSQL name, for every object the migration creates. PostgreSQL cuts
 * identifiers at 63 bytes (NAMEDATALEN - 1), so two long names sharing their first 63 bytes would
 * become one; tables, views, indexes, sequences and the indexes behind PRIMARY KEY / UNIQUE share
 * one namespace per schema, where SQLite only keeps tables, views and indexes apart from each
 * other (a table "t_pkey" and the primary key of "t" collide in PostgreSQL only). Every statement
 * that names a target object takes the name from here.
 *
 * Names PostgreSQL can take stay as they are (names are always quoted, so case is kept). Others
 * get a deterministic name: the first 54 bytes, "_" and 8 hex digits of a SHA-1 of the full name,
 * which depends on the object's own name only, so adding an unrelated table changes no other
 * name. Renames (`--rename table=new`, `table.column=new`) override any of them.
 */
import { createHash } from "crypto";
import { MigrationError } from "./errors";
import type { SourceForeignKey, SourceSchema, SourceTable } from "./introspect";

/** "table" or "table.column" (source names, matched as SQLite does: case-insensitively) -> PostgreSQL name. */
export type Renames = Record<string, string>;

export const MAX_IDENT_BYTES = 63;

/** Column names PostgreSQL reserves for system columns (CREATE TABLE refuses them). */
const SYSTEM_COLUMNS = new Set(["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"]);

export type NameKind = "table" | "view" | "column" | "index" | "constraint" | "sequence";

/** One name that differs from the source (or from PostgreSQL's own choice, for derived names). */
export interface NameChange {
  kind: NameKind;
  /** The source name; columns as table.column, derived names as what they belong to. */
  source: string;
  target: string;
  reason: string;
}

/** PostgreSQL names of one table and everything that hangs off it. */
export interface TableNames {
  table: string;
  column(source: string): string;
  /** The primary key constraint (and its index). */
  pk: string;
  /** UNIQUE constraint (and its index) over these source columns. */
  unique(columns: string[]): string;
  fk(fk: SourceForeignKey): string;
  /** The index run adds on a foreign key's columns when no key or index covers them. */
  fkIndex(columns: string[]): string;
  /**
   * The identity column's sequence name when PostgreSQL's own choice (<table>_<column>_seq, cut to
   * fit) would collide with another object: the DDL then names it; null: PostgreSQL's choice.
   */
  sequence: string | null;
}

export interface NameMap {
  table(source: string): string;
  column(sourceTable: string, sourceColumn: string): string;
  view(source: string): string;
  index(source: string): string;
  of(t: SourceTable): TableNames;
  /** Every table's names, in the schema's table order. */
  tables: TableNames[];
  /**
   * Every name that is not the source's own: tables and views, then indexes, then per table (in
   * name order) its columns and derived names.
   */
  changes: NameChange[];
}

export function byteLength(s: string): number {
  return Buffer.byteLength(s);
}

/** The longest prefix of s that fits in max UTF-8 bytes, never splitting a character. */
export function clipBytes(s: string, max: number): string {
  if (byteLength(s) <= max) return s;
  let out = "";
  let n = 0;
  for (const ch of s) {
    const b = byteLength(ch);
    if (n + b > max) break;
    out += ch;
    n += b;
  }
  return out;
}

/** 54 bytes of the name, "_", 8 hex digits of SHA-1(seed): 63 bytes at most, unique per seed. */
export function hashedName(name: string, seed: string = name): string {
  return `${clipBytes(name, MAX_IDENT_BYTES - 9)}_${createHash("sha1").update(seed).digest("hex").slice(0, 8)}`;
}

/** A derived name (parts joined with "_"), hashed when longer than PostgreSQL keeps. */
export function derivedName(...parts: string[]): string {
  const name = parts.join("_");
  return byteLength(name) <= MAX_IDENT_BYTES ? name : hashedName(name);
}

/**
 * The name PostgreSQL itself gives an identity column's sequence (makeObjectName in its
 * backend/commands/indexcmds.c): table and column cut, the longer one first, until
 * "<table>_<column>_seq" fits in 63 bytes.
 */
export function pgSequenceName(table: string, column: string): string {
  const avail = MAX_IDENT_BYTES - "_seq".length - 1;
  let a = byteLength(table);
  let b = byteLength(column);
  while (a + b > avail) {
    if (a > b) a--;
    else b--;
  }
  return `${clipBytes(table, a)}_${clipBytes(column, b)}_seq`;
}

/** Why a source name cannot be used as it is in PostgreSQL, or null when it can. */
function problemOf(name: string, kind: NameKind): string | null {
  if (name === "") return "empty names are not allowed in PostgreSQL";
  if (byteLength(name) > MAX_IDENT_BYTES) return `${byteLength(name)} bytes; PostgreSQL keeps 63`;
  if (kind === "column" && SYSTEM_COLUMNS.has(name)) return `${name} is a PostgreSQL system column`;
  return null;
}

function lower(s: string): string {
  return s.toLowerCase();
}

interface Parsed {
  tables: Map<string, string>;
  columns: Map<string, Map<string, string>>;
}

/** Renames keyed by the source objects they name; unknown names are CONFIG_INVALID. */
function parseRenames(schema: SourceSchema, renames: Renames): Parsed {
  const relations = new Map<string, string>();
  for (const t of schema.tables) relations.set(lower(t.name), t.name);
  for (const v of schema.views) relations.set(lower(v.name), v.name);
  for (const t of schema.tables) for (const ix of t.indexes) if (ix.origin === "c") relations.set(lower(ix.name), ix.name);
  const out: Parsed = { tables: new Map(), columns: new Map() };
  for (const [key, to] of Object.entries(renames)) {
    if (to === "" || byteLength(to) > MAX_IDENT_BYTES) {
      throw new MigrationError("CONFIG_INVALID", `Rename ${key}=${to}: a PostgreSQL name must be 1 to 63 bytes (this one is ${byteLength(to)}). Choose a shorter name.`, { rename: key, name: to });
    }
    const rel = relations.get(lower(key));
    if (rel !== undefined) {
      out.tables.set(rel, to);
      continue;
    }
    let hit: { table: SourceTable; column: string } | null = null;
    for (let i = key.indexOf("."); i > 0 && !hit; i = key.indexOf(".", i + 1)) {
      const table = schema.tables.find((t) => lower(t.name) === lower(key.slice(0, i)));
      const column = table?.columns.find((c) => lower(c.name) === lower(key.slice(i + 1)));
      if (table && column) hit = { table, column: column.name };
    }
    if (!hit) {
      throw new MigrationError("CONFIG_INVALID", `Rename ${key}=${to}: ${key} is not a table, view, index or table.column of the SQLite source. Check the name (tables: ${schema.tables.map((t) => t.name).join(", ")}).`, { rename: key });
    }
    const cols = out.columns.get(hit.table.name) ?? new Map<string, string>();
    cols.set(hit.column, to);
    out.columns.set(hit.table.name, cols);
  }
  return out;
}

/** Names in one PostgreSQL namespace: a name is taken once; who took it says who collided. */
class Namespace {
  private readonly owners = new Map<string, string>();
  constructor(private readonly what: string) {}
  has(name: string): boolean {
    return this.owners.has(name);
  }
  /** Takes a name the user chose or that must stay as it is: a second owner is a config error. */
  claim(name: string, owner: string, meta: Record<string, unknown>): void {
    const other = this.owners.get(name);
    if (other !== undefined) {
      throw new MigrationError("CONFIG_INVALID", `${owner} and ${other} would both be named "${name}" in PostgreSQL (${this.what}). Give one of them another name with --rename (renames option).`, { ...meta, name, collidesWith: other });
    }
    this.owners.set(name, owner);
  }
}

function buildTableNames(t: SourceTable, pgTable: string, colRenames: Map<string, string> | undefined, changes: NameChange[]): Omit<TableNames, "pk" | "unique" | "fk" | "fkIndex" | "sequence"> {
  const cols = new Map<string, string>();
  const ns = new Namespace(`columns of ${pgTable}`);
  // Renamed columns first, so an automatic name never takes a name the user chose.
  const ordered = [...t.columns.filter((c) => colRenames?.has(c.name)), ...t.columns.filter((c) => !colRenames?.has(c.name))];
  for (const c of ordered) {
    const to = colRenames?.get(c.name);
    const problem = problemOf(c.name, "column");
    const pg = to ?? (problem ? hashedName(c.name === "" ? "column" : c.name, c.name) : c.name);
    ns.claim(pg, `column ${t.name}.${c.name}`, { table: t.name, column: c.name });
    cols.set(c.name, pg);
    if (pg !== c.name) changes.push({ kind: "column", source: `${t.name}.${c.name}`, target: pg, reason: to !== undefined ? "renamed" : problem! });
  }
  return {
    table: pgTable,
    column: (source) => {
      const pg = cols.get(source) ?? [...cols.entries()].find(([k]) => lower(k) === lower(source))?.[1];
      if (pg === undefined) throw new MigrationError("INTERNAL", `Column ${t.name}.${source} is not in the source table. This is a bug; report it.`, { table: t.name, column: source });
      return pg;
    },
  };
}

export function buildNameMap(schema: SourceSchema, renames: Renames = {}): NameMap {
  const parsed = parseRenames(schema, renames);
  const changes: NameChange[] = [];
  const relations = new Namespace(`tables, views, indexes and sequences share one namespace per schema`);
  const pgOf = (name: string, kind: NameKind, owner: string, meta: Record<string, unknown>): string => {
    const to = parsed.tables.get(name);
    const problem = problemOf(name, kind);
    const pg = to ?? (problem ? hashedName(name === "" ? kind : name, name) : name);
    relations.claim(pg, owner, meta);
    if (pg !== name) changes.push({ kind, source: name, target: pg, reason: to !== undefined ? "renamed" : problem! });
    return pg;
  };
  // Tables and views keep their names (applications query them); user renames are claimed
  // first so an automatic name cannot take one.
  const relOrder = <T extends { name: string }>(xs: T[]): T[] => [...xs.filter((x) => parsed.tables.has(x.name)), ...xs.filter((x) => !parsed.tables.has(x.name))];
  const tableNames = new Map<string, string>();
  const views = new Map<string, string>();
  const rels = [...schema.tables.map((t) => ({ name: t.name, view: false })), ...schema.views.map((v) => ({ name: v.name, view: true }))];
  for (const r of relOrder(rels)) {
    if (r.view) views.set(r.name, pgOf(r.name, "view", `view ${r.name}`, { view: r.name }));
    else tableNames.set(r.name, pgOf(r.name, "table", `table ${r.name}`, { table: r.name }));
  }
  // Source indexes next: one named like a table's derived key name keeps its own name.
  const indexes = new Map<string, string>();
  const allIndexes = schema.tables.flatMap((t) => t.indexes.filter((ix) => ix.origin === "c").map((ix) => ({ t, ix })));
  for (const { t, ix } of relOrder(allIndexes.map((x) => ({ ...x, name: x.ix.name })))) {
    const to = parsed.tables.get(ix.name);
    const problem = problemOf(ix.name, "index");
    let pg = to ?? (problem ? hashedName(ix.name, ix.name) : ix.name);
    let reason = to !== undefined ? "renamed" : problem;
    if (to === undefined && relations.has(pg)) {
      // The name already belongs to a table or view in PostgreSQL (a renamed one).
      pg = hashedName(ix.name, `index\0${ix.name}`);
      reason = "a table or view has this name in PostgreSQL";
    }
    relations.claim(pg, `index ${ix.name}`, { table: t.name, index: ix.name });
    indexes.set(ix.name, pg);
    if (reason) changes.push({ kind: "index", source: ix.name, target: pg, reason });
  }
  // Derived names: PostgreSQL's conventions over the target names; one that is taken gets a
  // hashed name instead. Tables in name order, so the outcome does not depend on FK order.
  const perTable = new Map<string, TableNames>();
  const sorted = [...schema.tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of sorted) {
    const base = buildTableNames(t, tableNames.get(t.name)!, parsed.columns.get(t.name), changes);
    const tn = base.table;
    const colsOf = (cols: string[]): string[] => cols.map((c) => (c === "rowid" && !t.columns.some((x) => lower(x.name) === "rowid") ? c : base.column(c)));
    // Constraint names are per table; PK/UNIQUE ones also name an index (schema namespace).
    const constraints = new Namespace(`constraints of ${tn}`);
    const keyed = new Map<string, string>();
    const claimKey = (kind: string, cols: string[], label: string, indexBacked: boolean): string => {
      const k = `${kind}\0${cols.join("\0")}`;
      const known = keyed.get(k);
      if (known !== undefined) return known;
      // PostgreSQL's conventions: <table>_pkey, <table>_<columns>_key / _fkey / _idx.
      const full = (kind === "primary key" ? [tn, label] : [tn, ...colsOf(cols), label]).join("_");
      const name = derivedName(full);
      const source = `${t.name}(${cols.join(", ")}) ${kind}`;
      const changeKind: NameKind = kind === "fk index" ? "index" : "constraint";
      let pg = name;
      if (constraints.has(pg) || (indexBacked && relations.has(pg))) {
        pg = hashedName(name, `${kind}\0${t.name}\0${cols.join("\0")}`);
        changes.push({ kind: changeKind, source, target: pg, reason: `"${name}" is taken by another object in PostgreSQL` });
      } else if (name !== full && kind !== "fk index") changes.push({ kind: changeKind, source, target: pg, reason: `"${full}" is ${byteLength(full)} bytes; PostgreSQL keeps 63` });
      if (kind !== "fk index") constraints.claim(pg, source, { table: t.name });
      if (indexBacked) relations.claim(pg, source, { table: t.name });
      keyed.set(k, pg);
      return pg;
    };
    const pk = t.primaryKey.length > 0 ? claimKey("primary key", t.primaryKey, "pkey", true) : derivedName(tn, "pkey");
    for (const u of t.uniques) claimKey("unique", u, "key", true);
    for (const fk of t.foreignKeys) claimKey("foreign key", fk.columns, "fkey", false);
    for (const fk of t.foreignKeys) claimKey("fk index", fk.columns, "idx", true);
    let sequence: string | null = null;
    if (t.rowidAlias) {
      const own = pgSequenceName(tn, base.column(t.rowidAlias));
      if (relations.has(own)) {
        sequence = hashedName(own, `sequence\0${t.name}\0${t.rowidAlias}`);
        changes.push({ kind: "sequence", source: `${t.name}.${t.rowidAlias} identity`, target: sequence, reason: `"${own}", PostgreSQL's own choice, is taken by another object` });
        relations.claim(sequence, `sequence of ${t.name}.${t.rowidAlias}`, { table: t.name, column: t.rowidAlias });
      } else relations.claim(own, `sequence of ${t.name}.${t.rowidAlias}`, { table: t.name, column: t.rowidAlias });
    }
    perTable.set(t.name, {
      ...base,
      pk,
      unique: (cols) => claimKey("unique", cols, "key", true),
      fk: (fk) => claimKey("foreign key", fk.columns, "fkey", false),
      fkIndex: (cols) => claimKey("fk index", cols, "idx", true),
      sequence,
    });
  }
  const tableOf = (source: string): TableNames => {
    const tn = perTable.get(source) ?? [...perTable.entries()].find(([k]) => lower(k) === lower(source))?.[1];
    if (!tn) throw new MigrationError("INTERNAL", `Table ${source} is not in the source schema. This is a bug; report it.`, { table: source });
    return tn;
  };
  const map: NameMap = {
    table: (source) => tableOf(source).table,
    column: (table, column) => tableOf(table).column(column),
    view: (source) => views.get(source) ?? source,
    index: (source) => indexes.get(source) ?? source,
    of: (t) => tableOf(t.name),
    tables: schema.tables.map((t) => perTable.get(t.name)!),
    changes,
  };
  for (const t of schema.tables) registry.set(t, perTable.get(t.name)!);
  schemaRegistry.set(schema, map);
  return map;
}

const registry = new WeakMap<SourceTable, TableNames>();
const schemaRegistry = new WeakMap<SourceSchema, NameMap>();

/**
 * The PostgreSQL names of a table of a schema that buildNameMap (nameSchema) named. A table
 * outside any named schema (a caller holding one table) is named on its own: its table and column
 * names are the same as in its schema (they depend on their own names only), its derived names
 * have nothing to collide with. Renames apply only through nameSchema.
 */
export function namesOf(t: SourceTable): TableNames {
  return registry.get(t) ?? buildNameMap({ tables: [t], views: [], skipped: [] }).of(t);
}

/** The schema's name map, built (and remembered for its tables) on first use with these renames. */
export function nameSchema(schema: SourceSchema, renames?: Renames): NameMap {
  const known = schemaRegistry.get(schema);
  if (known && !renames) return known;
  return buildNameMap(schema, renames ?? {});
}

/**
 * A SQL expression of a table (a partial index's WHERE) with its column names as PostgreSQL has
 * them: identifiers (quoted or bare) naming a renamed column become the quoted new name; strings
 * and everything else stay as written.
 */
export function renameColumnsIn(expr: string, t: SourceTable): string {
  const names = namesOf(t);
  const renamed = new Map(t.columns.filter((c) => names.column(c.name) !== c.name).map((c) => [lower(c.name), names.column(c.name)]));
  if (renamed.size === 0) return expr;
  const quote = (s: string): string => '"' + s.replace(/"/g, '""') + '"';
  let out = "";
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i];
    if (ch === "'") {
      let j = i + 1;
      while (j < expr.length && !(expr[j] === "'" && expr[j + 1] !== "'")) j += expr[j] === "'" ? 2 : 1;
      out += expr.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '"') {
      let j = i + 1;
      let name = "";
      while (j < expr.length && !(expr[j] === '"' && expr[j + 1] !== '"')) {
        name += expr[j];
        j += expr[j] === '"' ? 2 : 1;
      }
      const to = renamed.get(lower(name));
      out += to !== undefined ? quote(to) : expr.slice(i, j + 1);
      i = j + 1;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      let j = i + 1;
      while (j < expr.length && /[\w$\u0080-\uffff]/.test(expr[j])) j++;
      const word = expr.slice(i, j);
      const to = renamed.get(lower(word));
      out += to !== undefined ? quote(to) : word;
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

function renameOf(key: string, renames: Renames | undefined): string | undefined {
  if (!renames) return undefined;
  return renames[key] ?? Object.entries(renames).find(([k]) => lower(k) === lower(key))?.[1];
}

/**
 * A table's PostgreSQL name from its source name and the renames alone (no source file: a
 * provider deleting what it created): the same name buildNameMap gives it, since a table's name
 * depends on its own name only.
 */
export function tableNameOf(source: string, renames?: Renames): string {
  return renameOf(source, renames) ?? (problemOf(source, "table") ? hashedName(source === "" ? "table" : source, source) : source);
}

/** A column's PostgreSQL name from its table's and its own source name and the renames alone. */
export function columnNameOf(table: string, column: string, renames?: Renames): string {
  return renameOf(`${table}.${column}`, renames) ?? (problemOf(column, "column") ? hashedName(column === "" ? "column" : column, column) : column);
}
