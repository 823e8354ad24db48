/**
 * The migration plan: introspection + type mapping + DDL text (+ value profile for `plan`).
 * Deterministic from the declared schema so the same source always yields the same DDL;
 * data problems are reported as findings, not silently papered over by changing types.
 */
import { createHash } from "crypto";
import { decisionLines, withDecisions, type DecisionOptions, type TypeDecision } from "./decide";
import { fkName, renderCreateTable, type ColumnNote, type GeneratedColumn, renderForeignKey, renderIndex, renderPrimaryKey, renderUnique, type IndexSpec } from "./ddl";
import { caseInsensitiveKeyCollisions, keyCollisionError } from "./collations";
import { introspect, type SourceSchema, type SourceTable } from "./introspect";
import { nameSchema, namesOf, renameColumnsIn, type NameChange } from "./names";
import { profileTable, type Finding, type TableProfile } from "./profile";
import { withSource } from "./sqlite";
import { caseInsensitiveCollationDdl, mapTable, usesCaseInsensitiveCollation, type ColumnMapping, type MappingOptions } from "./typemap";
import { planViews, type ViewPlan } from "./views";

export type { ViewPlan } from "./views";

export interface TablePlan {
  table: string;
  columns: ColumnMapping[];
  primaryKey: string[];
  createTable: string;
  /** PK, UNIQUE then FK statements, added after the load. */
  constraints: string[];
  /** SQLite defaults with no faithful PostgreSQL default (the column has none). */
  droppedDefaults: ColumnNote[];
  /** Defaults carried with a caveat (e.g. 'localtime'). */
  defaultNotes: ColumnNote[];
  /** SQLite generated columns: generated in PostgreSQL too, or plain columns holding the copied values. */
  generatedColumns: GeneratedColumn[];
}

export interface MigrationPlan {
  tables: TablePlan[];
  /** Types decided from the data before any DDL (decide.ts), with the rows that forced them. */
  decisions: TypeDecision[];
  /** Columns `run` would refuse before any DDL (TYPE_MISMATCH), as code, message and meta. */
  refusals: { code: string; message: string; meta: Record<string, unknown> }[];
  views: ViewPlan[];
  indexes: IndexSpec[];
  skipped: { name: string; type: string; reason: string }[];
  profiles: TableProfile[];
  findings: Finding[];
  /** Names that differ in PostgreSQL from the source's (names.ts); empty for most sources. */
  names: NameChange[];
  /** The whole DDL script, as `plan` prints it. */
  ddl: string;
  schema: string;
}

export interface SchemaFingerprint {
  hash: string;
  tables: Record<string, { hash: string; columns: string[] }>;
  /**
   * The data's type decisions as `plan` prints them, so the schema resource's preview shows them.
   * Not part of `hash`: their row counts move with the data, the types they decide do not.
   */
  decisions?: string[];
  /** Hash of the views' translated DDL: a change re-creates the views in place. */
  views?: string;
}

export function resolveTable(tables: SourceTable[], name: string): SourceTable | undefined {
  return tables.find((t) => t.name === name) ?? tables.find((t) => t.name.toLowerCase() === name.toLowerCase());
}

export function buildTablePlan(schemaName: string, t: SourceTable, all: SourceTable[], opts: MappingOptions = {}): TablePlan {
  const columns = mapTable(t, { ...opts, collationSchema: schemaName });
  const { sql, droppedDefaults, defaultNotes, generated } = renderCreateTable(schemaName, t, columns);
  const constraints: string[] = [];
  const pk = renderPrimaryKey(schemaName, t);
  if (pk) constraints.push(pk);
  for (const u of t.uniques) constraints.push(renderUnique(schemaName, t, u));
  for (const fk of t.foreignKeys) {
    const parent = resolveTable(all, fk.refTable);
    if (parent) constraints.push(renderForeignKey(schemaName, t, fk, parent));
  }
  return { table: t.name, columns, primaryKey: t.primaryKey, createTable: sql, constraints, droppedDefaults, defaultNotes, generatedColumns: generated };
}

/** The report lines of a table's defaults and generated columns, as plan and run print them. */
export function columnWarnings(t: Pick<TablePlan, "table" | "droppedDefaults" | "defaultNotes" | "generatedColumns">): string[] {
  return [
    ...t.droppedDefaults.map((d) => `${t.table}.${d.column}: default dropped: ${d.reason}`),
    ...t.defaultNotes.map((d) => `${t.table}.${d.column}: default: ${d.reason}`),
    ...t.generatedColumns.flatMap((g) =>
      g.status === "copied" ? [`${t.table}.${g.column}: generated column (${g.sqlite.toUpperCase()} AS (${g.expression ?? "?"})) is a plain column in PostgreSQL holding SQLite's computed values: ${g.reason}; new rows need it set by the application or a trigger`] : [],
    ),
  ];
}

export function sourceIndexesOf(schema: SourceSchema, opts: MappingOptions = {}): IndexSpec[] {
  const names = nameSchema(schema, opts.renames);
  const out: IndexSpec[] = [];
  for (const t of schema.tables) {
    let bools: string[] | null = null;
    for (const ix of t.indexes) {
      if (ix.origin !== "c" || ix.expression) continue;
      let where = ix.where;
      if (where) {
        bools ??= mapTable(t, opts).filter((c) => c.pgType === "boolean").map((c) => c.column);
        where = booleanPredicate(where, bools);
      }
      if (where) where = renameColumnsIn(where, t);
      const tn = namesOf(t);
      out.push({ name: names.index(ix.name), table: tn.table, columns: ix.columns.map((c) => tn.column(c)), unique: ix.unique, ...(where ? { where } : {}) });
    }
  }
  return out;
}

/**
 * SQLite stores booleans as 0/1, so partial indexes say `active = 1`; PostgreSQL has no
 * boolean = integer operator. For each column that becomes boolean, comparisons with 0/1 (or
 * '0'/'1', true/false, 't'/'f') become comparisons with FALSE/TRUE, and the column is quoted so
 * a mixed-case name keeps its case. Anything else in the predicate is left as it is.
 */
export function booleanPredicate(where: string, boolColumns: string[]): string {
  let out = where;
  for (const col of boolColumns) {
    const name = col.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const quoted = `"${col.replace(/"/g, '""')}"`.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`(?<![\\w"])(?:${quoted}|${name})(?![\\w"])\\s*(==|=|!=|<>|\\bIS\\s+NOT\\b|\\bIS\\b)\\s*('?)(1|0|true|false|t|f)\\2(?![\\w'])`, "gi");
    out = out.replace(re, (_m, op: string, _q: string, v: string) => {
      const o = op === "==" ? "=" : op === "!=" ? "<>" : op.toUpperCase().replace(/\s+/g, " ");
      return `"${col.replace(/"/g, '""')}" ${o} ${/^(1|true|t)$/i.test(v) ? "TRUE" : "FALSE"}`;
    });
  }
  return out;
}

export function fkCoveringIndexesOf(schema: SourceSchema): IndexSpec[] {
  const out: IndexSpec[] = [];
  for (const t of schema.tables) {
    const existing: string[][] = [t.primaryKey, ...t.uniques, ...t.indexes.filter((i) => !i.where && !i.expression).map((i) => i.columns)].filter((c) => c.length > 0);
    for (const fk of t.foreignKeys) {
      const covered = existing.some((cols) => fk.columns.every((c, i) => cols[i] === c));
      if (covered) continue;
      existing.push(fk.columns);
      const tn = namesOf(t);
      out.push({ name: tn.fkIndex(fk.columns), table: tn.table, columns: fk.columns.map((c) => tn.column(c)), unique: false });
    }
  }
  return out;
}

export function planFromSchema(schema: SourceSchema, schemaName: string, opts: MappingOptions = {}): Omit<MigrationPlan, "profiles" | "findings" | "decisions" | "refusals"> {
  const names = nameSchema(schema, opts.renames);
  const tables = schema.tables.map((t) => buildTablePlan(schemaName, t, schema.tables, opts));
  // In dependency order (a view after the views it reads), translated by views/, every name as created (names.ts).
  const views = planViews(schema, schemaName, opts, {
    table: (n) => {
      const t = resolveTable(schema.tables, n);
      return t ? namesOf(t).table : names.view(n);
    },
    column: (tbl, col) => {
      const t = resolveTable(schema.tables, tbl);
      return t ? namesOf(t).column(col) : col;
    },
  });
  const indexes = sourceIndexesOf(schema, opts);
  const ddl = [
    ...(tables.some((t) => usesCaseInsensitiveCollation(t.columns)) ? [caseInsensitiveCollationDdl(schemaName) + ";"] : []),
    ...tables.map((t) => t.createTable + ";"),
    ...tables.flatMap((t) => t.constraints.filter((c) => !c.includes("FOREIGN KEY")).map((c) => c + ";")),
    ...tables.flatMap((t) => t.constraints.filter((c) => c.includes("FOREIGN KEY")).map((c) => c + ";")),
    ...indexes.map((i) => renderIndex(schemaName, i) + ";"),
    ...views.map((v) => (v.sql ? v.sql + ";" : `-- view ${v.name} skipped: ${v.reason}`)),
    ...schema.skipped.map((s) => `-- ${s.type} ${s.name} skipped: ${s.reason}`),
  ].join("\n");
  return { tables, views, indexes, skipped: schema.skipped, names: names.changes, ddl, schema: schemaName };
}

/**
 * The source's schema and the mapping options with the data's type decisions (decide.ts), from one
 * open of the file. Every step that renders DDL or predicates starts here, so they all agree.
 */
export function readDecided<T extends DecisionOptions>(sourcePath: string, opts: T): { schema: SourceSchema; opts: ReturnType<typeof withDecisions<T>> } {
  return withSource(sourcePath, (db) => {
    const schema = introspect(db);
    // Names are checked (CONFIG_INVALID) and attached to the schema here, before any DDL.
    nameSchema(schema, opts.renames);
    return { schema, opts: withDecisions(db, sourcePath, schema, opts) };
  });
}

export function planMigration(sourcePath: string, opts: DecisionOptions & { schema?: string } = {}): MigrationPlan {
  return withSource(sourcePath, (db) => {
    const schema = introspect(db);
    const o = withDecisions(db, sourcePath, schema, opts, true);
    const base = planFromSchema(schema, opts.schema ?? "public", o);
    const profiles: TableProfile[] = [];
    const findings: Finding[] = [];
    for (const [i, t] of schema.tables.entries()) {
      const r = profileTable(db, t, base.tables[i].columns, schema.tables);
      profiles.push(r.profile);
      findings.push(...r.findings);
      for (const c of caseInsensitiveKeyCollisions(db, t, base.tables[i].columns)) {
        findings.push({ table: t.name, column: c.columns[0], kind: "case-fold-collision", rows: c.rows, blocking: true, decision: keyCollisionError(c).message, sampleKey: c.values[0] });
      }
    }
    return { ...base, decisions: o.decisions, refusals: o.refusals.map((e) => e.toJSON()), profiles, findings };
  });
}

export function fingerprintSchema(sourcePath: string, opts: DecisionOptions = {}): SchemaFingerprint {
  return withSource(sourcePath, (db) => {
    const schema = introspect(db);
    const o = withDecisions(db, sourcePath, schema, opts);
    const plan = planFromSchema(schema, "public", o);
    const tables: SchemaFingerprint["tables"] = {};
    const all = createHash("sha256");
    for (const t of plan.tables) {
      const h = createHash("sha256").update(t.createTable).update("\n").update(t.constraints.join("\n")).digest("hex");
      tables[t.table] = { hash: h, columns: t.columns.map((c) => c.column) };
      all.update(`${t.table}\0${h}\n`);
    }
    all.update(plan.ddl);
    // The epoch a column's numbers are read with changes the data, not the DDL (decide.ts).
    const epochs = Object.entries(o.decided).flatMap(([k, d]) => (d.epoch ? [`${k}=${d.epoch}`] : []));
    if (epochs.length > 0) all.update(`epochs\0${epochs.join("\n")}`);
    const views = createHash("sha256").update(plan.views.map((v) => `${v.name}\0${v.sql ?? `skipped: ${v.reason}`}`).join("\n")).digest("hex");
    return { hash: all.digest("hex"), tables, views, ...(o.decisions.length > 0 ? { decisions: decisionLines(o.decisions) } : {}) };
  });
}

export function sourceIndexes(sourcePath: string, opts: DecisionOptions = {}): IndexSpec[] {
  const { schema, opts: o } = readDecided(sourcePath, opts);
  return sourceIndexesOf(schema, o);
}

export function fkCoveringIndexes(sourcePath: string, opts: Pick<MappingOptions, "renames"> = {}): IndexSpec[] {
  return withSource(sourcePath, (db) => {
    const schema = introspect(db);
    nameSchema(schema, opts.renames);
    return fkCoveringIndexesOf(schema);
  });
}

export { fkName };
