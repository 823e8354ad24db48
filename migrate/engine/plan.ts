/**
 * The migration plan: introspection + type mapping + DDL text (+ value profile for `plan`).
 * Deterministic from the declared schema so the same source always yields the same DDL;
 * data problems are reported as findings, not silently papered over by changing types.
 */
import { createHash } from "crypto";
import { constraintName, fkName, renderCreateTable, renderForeignKey, renderIndex, renderPrimaryKey, renderUnique, type IndexSpec } from "./ddl";
import { introspect, type SourceSchema, type SourceTable } from "./introspect";
import { profileTable, type Finding, type TableProfile } from "./profile";
import { withSource } from "./sqlite";
import { mapTable, type ColumnMapping, type MappingOptions } from "./typemap";
import { planViews, type ViewPlan } from "./views";

export type { ViewPlan } from "./views";

export interface TablePlan {
  table: string;
  columns: ColumnMapping[];
  primaryKey: string[];
  createTable: string;
  /** PK, UNIQUE then FK statements, added after the load. */
  constraints: string[];
  droppedDefaults: { column: string; reason: string }[];
  generatedColumnsSkipped: string[];
}

export interface MigrationPlan {
  tables: TablePlan[];
  views: ViewPlan[];
  indexes: IndexSpec[];
  skipped: { name: string; type: string; reason: string }[];
  profiles: TableProfile[];
  findings: Finding[];
  /** The whole DDL script, as `plan` prints it. */
  ddl: string;
  schema: string;
}

export interface SchemaFingerprint {
  hash: string;
  tables: Record<string, { hash: string; columns: string[] }>;
  /** Hash of the views' translated DDL: a change re-creates the views in place. */
  views?: string;
}

export function resolveTable(tables: SourceTable[], name: string): SourceTable | undefined {
  return tables.find((t) => t.name === name) ?? tables.find((t) => t.name.toLowerCase() === name.toLowerCase());
}

export function buildTablePlan(schemaName: string, t: SourceTable, all: SourceTable[], opts: MappingOptions = {}): TablePlan {
  const columns = mapTable(t, opts);
  const { sql, droppedDefaults } = renderCreateTable(schemaName, t, columns);
  const constraints: string[] = [];
  const pk = renderPrimaryKey(schemaName, t);
  if (pk) constraints.push(pk);
  for (const u of t.uniques) constraints.push(renderUnique(schemaName, t, u));
  for (const fk of t.foreignKeys) {
    const parent = resolveTable(all, fk.refTable);
    if (parent) constraints.push(renderForeignKey(schemaName, t, fk, parent.name));
  }
  return { table: t.name, columns, primaryKey: t.primaryKey, createTable: sql, constraints, droppedDefaults, generatedColumnsSkipped: t.columns.filter((c) => c.generated).map((c) => c.name) };
}

export function sourceIndexesOf(schema: SourceSchema, opts: MappingOptions = {}): IndexSpec[] {
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
      out.push({ name: ix.name, table: t.name, columns: ix.columns, unique: ix.unique, ...(where ? { where } : {}) });
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
      out.push({ name: constraintName(t.name, ...fk.columns, "idx"), table: t.name, columns: fk.columns, unique: false });
    }
  }
  return out;
}

export function planFromSchema(schema: SourceSchema, schemaName: string, opts: MappingOptions = {}): Omit<MigrationPlan, "profiles" | "findings"> {
  const tables = schema.tables.map((t) => buildTablePlan(schemaName, t, schema.tables, opts));
  // In dependency order (a view after the views it reads), translated by views/.
  const views = planViews(schema, schemaName, opts);
  const indexes = sourceIndexesOf(schema, opts);
  const ddl = [
    ...tables.map((t) => t.createTable + ";"),
    ...tables.flatMap((t) => t.constraints.filter((c) => !c.includes("FOREIGN KEY")).map((c) => c + ";")),
    ...tables.flatMap((t) => t.constraints.filter((c) => c.includes("FOREIGN KEY")).map((c) => c + ";")),
    ...indexes.map((i) => renderIndex(schemaName, i) + ";"),
    ...views.map((v) => (v.sql ? v.sql + ";" : `-- view ${v.name} skipped: ${v.reason}`)),
    ...schema.skipped.map((s) => `-- ${s.type} ${s.name} skipped: ${s.reason}`),
  ].join("\n");
  return { tables, views, indexes, skipped: schema.skipped, ddl, schema: schemaName };
}

export function planMigration(sourcePath: string, opts: MappingOptions & { schema?: string } = {}): MigrationPlan {
  return withSource(sourcePath, (db) => {
    const schema = introspect(db);
    const base = planFromSchema(schema, opts.schema ?? "public", opts);
    const profiles: TableProfile[] = [];
    const findings: Finding[] = [];
    for (const [i, t] of schema.tables.entries()) {
      const r = profileTable(db, t, base.tables[i].columns, schema.tables);
      profiles.push(r.profile);
      findings.push(...r.findings);
    }
    return { ...base, profiles, findings };
  });
}

export function fingerprintSchema(sourcePath: string, opts: MappingOptions = {}): SchemaFingerprint {
  return withSource(sourcePath, (db) => {
    const schema = introspect(db);
    const plan = planFromSchema(schema, "public", opts);
    const tables: SchemaFingerprint["tables"] = {};
    const all = createHash("sha256");
    for (const t of plan.tables) {
      const h = createHash("sha256").update(t.createTable).update("\n").update(t.constraints.join("\n")).digest("hex");
      tables[t.table] = { hash: h, columns: t.columns.map((c) => c.column) };
      all.update(`${t.table}\0${h}\n`);
    }
    all.update(plan.ddl);
    const views = createHash("sha256").update(plan.views.map((v) => `${v.name}\0${v.sql ?? `skipped: ${v.reason}`}`).join("\n")).digest("hex");
    return { hash: all.digest("hex"), tables, views };
  });
}

export function sourceIndexes(sourcePath: string, opts: MappingOptions = {}): IndexSpec[] {
  return withSource(sourcePath, (db) => sourceIndexesOf(introspect(db), opts));
}

export function fkCoveringIndexes(sourcePath: string): IndexSpec[] {
  return withSource(sourcePath, (db) => fkCoveringIndexesOf(introspect(db)));
}

export { fkName };
