/**
 * Schema operations on the target, each one transaction so a failure leaves the target as it
 * was before the step.
 */
import type { Client } from "pg";
import { qualified, quoteIdent, renderColumn, renderIndex, type ColumnReport, type IndexSpec } from "./ddl";
import { MigrationError } from "./errors";
import { introspect, type SourceSchema } from "./introspect";
import type { DecisionOptions } from "./decide";
import { nameSchema, namesOf } from "./names";
import { buildTablePlan, columnWarnings, readDecided, resolveTable } from "./plan";
import { inTransaction, pgErr, schemaOf, tableExists, useSortMemory, withTarget, type TargetRef } from "./pg";
import { withSource } from "./sqlite";
import { epochComment, type Epoch } from "./values";
import { caseInsensitiveCollationDdl, mapColumn, mapTable, usesCaseInsensitiveCollation, type ColumnMapping } from "./typemap";

/** The source schema, its tables named for PostgreSQL with these renames (names.ts). */
export function readSchema(sourcePath: string, renames?: Record<string, string>): SourceSchema {
  return withSource(sourcePath, (db) => {
    const schema = introspect(db);
    nameSchema(schema, renames);
    return schema;
  });
}

export function pickTables(schema: SourceSchema, names?: string[]): SourceSchema["tables"] {
  if (!names) return schema.tables;
  return names.map((n) => {
    const t = resolveTable(schema.tables, n);
    if (!t) throw new MigrationError("CONFIG_INVALID", `Table ${n} is not in the SQLite source (tables: ${schema.tables.map((x) => x.name).join(", ")}). Check the table name.`, { table: n });
    return t;
  });
}

async function ensureSchema(c: Client, schema: string): Promise<void> {
  if (schema !== "public") await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
}

/** The case-insensitive collation NOCASE/unicase columns use (typemap.ts), when any table needs it. */
async function ensureCollations(c: Client, schema: string, tables: { columns: ColumnMapping[] }[]): Promise<void> {
  if (tables.some((t) => usesCaseInsensitiveCollation(t.columns))) await c.query(caseInsensitiveCollationDdl(schema));
}

export async function createTables(sourcePath: string, target: TargetRef, mapping: DecisionOptions & { tables?: string[] } = {}): Promise<{ tables: string[] }> {
  // Decided before the transaction opens: a value no type can hold refuses here, before any DDL.
  const { schema, opts } = readDecided(sourcePath, mapping);
  const s = schemaOf(target);
  const tables = pickTables(schema, opts.tables);
  return withTarget(target, "create tables", (c) =>
    inTransaction(c, async () => {
      await ensureSchema(c, s);
      await ensureCollations(c, s, tables.map((t) => buildTablePlan(s, t, schema.tables, opts)));
      for (const t of tables) {
        if (await tableExists(c, s, namesOf(t).table)) {
          throw new MigrationError("TARGET_NOT_EMPTY", `Table ${s}.${namesOf(t).table} already exists in the target. Re-run with --replace to drop and reload it, or point at an empty database/schema.`, { table: t.name, step: "create tables" });
        }
        await c.query(buildTablePlan(s, t, schema.tables, opts).createTable);
        await markInstantColumns(c, s, t, opts.decided);
      }
      return { tables: tables.map((t) => t.name) };
    }),
  );
}

/**
 * Adds tables and columns to the target. Returns the report lines of their defaults and generated
 * columns (dropped defaults, caveats, generated columns kept as plain columns), as plan prints them.
 */
export async function alterTables(sourcePath: string, target: TargetRef, change: { addTables?: string[]; addColumns?: { table: string; column: string }[] }, mapping: DecisionOptions = {}): Promise<{ warnings: string[] }> {
  const { schema, opts } = readDecided(sourcePath, mapping);
  const s = schemaOf(target);
  const warnings: string[] = [];
  await withTarget(target, "alter tables", (c) =>
    inTransaction(c, async () => {
      await ensureSchema(c, s);
      const added = pickTables(schema, change.addTables ?? []).map((t) => buildTablePlan(s, t, schema.tables, opts));
      const addedColumns = (change.addColumns ?? []).flatMap((ac) => {
        const [t] = pickTables(schema, [ac.table]);
        const col = t.columns.find((x) => x.name === ac.column);
        return col ? [mapColumn(t, col, { ...opts, collationSchema: s })] : [];
      });
      await ensureCollations(c, s, [...added, { columns: addedColumns }]);
      for (const [i, p] of added.entries()) {
        await c.query(p.createTable);
        await markInstantColumns(c, s, pickTables(schema, change.addTables ?? [])[i], opts.decided);
        warnings.push(...columnWarnings(p));
      }
      for (const ac of change.addColumns ?? []) {
        const [t] = pickTables(schema, [ac.table]);
        const col = t.columns.find((x) => x.name === ac.column);
        if (!col) throw new MigrationError("CONFIG_INVALID", `Column ${ac.table}.${ac.column} is not in the SQLite source.`, { table: ac.table, column: ac.column });
        const cols = mapTable(t, { ...opts, collationSchema: s });
        const report: ColumnReport = { droppedDefaults: [], defaultNotes: [], generated: [] };
        const sql = `ALTER TABLE ${qualified(s, namesOf(t).table)} ADD COLUMN ${renderColumn(t, cols.find((m) => m.column === col.name)!, cols, report, s)}`;
        warnings.push(...columnWarnings({ table: t.name, ...report, generatedColumns: report.generated }));
        try {
          await c.query(sql);
          await markInstantColumns(c, s, t, opts.decided, col.name);
        } catch (e) {
          throw new MigrationError("TYPE_MISMATCH", `Cannot add column ${t.name}.${col.name} (${pgErr(e).message}). A NOT NULL column needs a default when the table has rows.`, { table: t.name, column: col.name, step: "alter tables" }, e);
        }
      }
    }),
  );
  return { warnings };
}

/**
 * Columns whose numbers the copy reads as instants get a comment naming the epoch (values.ts
 * epochComment): every later step (copy, sync, verification) reads it with the column's type.
 */
async function markInstantColumns(c: Client, s: string, t: SourceSchema["tables"][number], decided: Record<string, { epoch?: Epoch }>, only?: string): Promise<void> {
  for (const col of t.columns) {
    const epoch = decided[`${t.name}.${col.name}`]?.epoch;
    if (!epoch || (only !== undefined && col.name !== only)) continue;
    await c.query(`COMMENT ON COLUMN ${qualified(s, namesOf(t).table)}.${quoteIdent(namesOf(t).column(col.name))} IS ${quoteLiteral(epochComment(epoch))}`);
  }
}

function quoteLiteral(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}

/** `tables`: PostgreSQL table names (names.ts maps source names to them). */
export async function dropTables(target: TargetRef, tables: string[]): Promise<void> {
  if (tables.length === 0) return;
  const s = schemaOf(target);
  await withTarget(target, "drop tables", (c) => inTransaction(c, async () => void (await c.query(`DROP TABLE IF EXISTS ${tables.map((t) => qualified(s, t)).join(", ")} CASCADE`))));
}

/** `tables`: PostgreSQL table names. */
export async function truncateTables(target: TargetRef, tables: string[]): Promise<void> {
  if (tables.length === 0) return;
  const s = schemaOf(target);
  await withTarget(target, "truncate tables", (c) => inTransaction(c, async () => void (await c.query(`TRUNCATE ${tables.map((t) => qualified(s, t)).join(", ")}`))));
}

export async function createIndexes(target: TargetRef, indexes: IndexSpec[], opts: { concurrently?: boolean } = {}): Promise<string[]> {
  return withTarget(target, "create indexes", async (c) => {
    await useSortMemory(c);
    return createIndexesOn(c, schemaOf(target), indexes, opts);
  });
}

/** createIndexes on a session the caller holds (its maintenance_work_mem as the caller set it). */
export async function createIndexesOn(c: Client, s: string, indexes: IndexSpec[], opts: { concurrently?: boolean } = {}): Promise<string[]> {
  const created: string[] = [];
  for (const ix of indexes) {
    try {
      await c.query(renderIndex(s, ix, opts));
    } catch (e) {
      throw new MigrationError("CONFIG_INVALID", `Index ${ix.name} on ${ix.table}(${ix.columns.join(", ")}) could not be created: ${pgErr(e).message}. Fix or drop the index definition (partial WHERE clauses must be PostgreSQL SQL).`, { table: ix.table, index: ix.name, step: "create indexes", created }, e);
    }
    created.push(ix.name);
  }
  return created;
}

export async function dropIndexes(target: TargetRef, names: string[], opts: { concurrently?: boolean } = {}): Promise<void> {
  const s = schemaOf(target);
  await withTarget(target, "drop indexes", async (c) => {
    for (const n of names) await c.query(`DROP INDEX ${opts.concurrently ? "CONCURRENTLY " : ""}IF EXISTS ${qualified(s, n)}`);
  });
}
