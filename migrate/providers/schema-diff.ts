/**
 * MigrationSchema's view of a change: which tables and columns differ between the fingerprint
 * recorded in state and the one computed by this program run, and whether PostgreSQL can take
 * the change in place (new table, new column → ALTER) or needs the tables rebuilt (anything
 * removed or redefined → replace, delete-before-replace).
 */
import type { SchemaFingerprint } from "../engine";
import { diffProperties, replaceOnChange, updateOnChange, type PropertyRule, type ProviderDiff, type Verdict } from "./diff";
import { targetIdentity } from "./target";
import { sameValue } from "./wire-values";

export interface SchemaChange {
  readonly addTables: string[];
  readonly addColumns: { table: string; column: string }[];
  /** Why the change cannot be applied in place, one line per table: empty when compatible. */
  readonly incompatible: string[];
}

/** The name of a fingerprint column entry (entries are column names; see fingerprintSchema). */
export function columnName(entry: string): string {
  return entry;
}

export function planSchemaChange(olds: SchemaFingerprint, news: SchemaFingerprint): SchemaChange {
  const addTables: string[] = [];
  const addColumns: { table: string; column: string }[] = [];
  const incompatible: string[] = [];
  for (const table of Object.keys(olds.tables).sort()) {
    if (!(table in news.tables)) incompatible.push(`table ${table} was removed from the source`);
  }
  for (const table of Object.keys(news.tables).sort()) {
    const n = news.tables[table];
    const o = olds.tables[table];
    if (!o) {
      addTables.push(table);
      continue;
    }
    if (o.hash === n.hash) continue;
    const removed = o.columns.filter((c) => !n.columns.includes(c));
    const added = n.columns.filter((c) => !o.columns.includes(c));
    if (removed.length > 0) incompatible.push(`table ${table}: column(s) ${removed.map(columnName).join(", ")} removed or redefined`);
    else if (added.length === 0) incompatible.push(`table ${table}: column definitions changed`);
    else for (const c of added) addColumns.push({ table, column: columnName(c) });
  }
  return { addTables, addColumns, incompatible };
}

export function fingerprintVerdict(olds: SchemaFingerprint, news: SchemaFingerprint): Verdict {
  if (olds.hash === news.hash) return "none";
  const change = planSchemaChange(olds, news);
  if (change.incompatible.length > 0) return "replace";
  if (change.addTables.length + change.addColumns.length > 0) return "update";
  // Only the views changed (or state from before views were recorded): re-created in place.
  return olds.views !== news.views ? "update" : "none";
}

/** Password rotation changes the URL but not the database: update in place, not replace. */
export const targetUrlRule: PropertyRule<string> = {
  unknown: "replace",
  compare: (o, n) => (o === n ? "none" : targetIdentity(o, "") === targetIdentity(n, "") ? "update" : "replace"),
};

/** Renames (names.ts); state from before the option holds none, which means no renames. */
export function sameRenames(o: Record<string, string> | undefined, n: Record<string, string> | undefined): boolean {
  return sameValue(o ?? {}, n ?? {});
}

/** Renames change every statement that names a renamed object: the resource is rebuilt. */
export const renamesReplace = { unknown: "replace", compare: (o, n) => (sameRenames(o, n) ? "none" : "replace") } as PropertyRule<Record<string, string> | undefined>;

/** For resources that follow the schema's identity: they only need the current renames recorded. */
export const renamesUpdate = { unknown: "update", compare: (o, n) => (sameRenames(o, n) ? "none" : "update") } as PropertyRule<Record<string, string> | undefined>;

export const schemaRules = {
  targetUrl: targetUrlRule,
  targetSchema: replaceOnChange,
  schemaFingerprint: { unknown: "replace", compare: fingerprintVerdict } as PropertyRule<SchemaFingerprint>,
  // The mapping options shape the fingerprint's column entries; a change the fingerprint does not
  // show would still change column types, which cannot be altered in place.
  castOverrides: replaceOnChange,
  timestamptz: replaceOnChange,
  // Epochs change column types (the fingerprint shows it); strict only refuses, so it changes nothing built.
  epochs: { unknown: "replace", compare: (o, n) => (JSON.stringify(o ?? {}) === JSON.stringify(n ?? {}) ? "none" : "replace") } as PropertyRule<Record<string, string> | undefined>,
  strictTypes: { unknown: "update", compare: (o, n) => ((o ?? false) === (n ?? false) ? "none" : "update") } as PropertyRule<boolean | undefined>,
  // State from before the option holds none: its tables have the database's collation.
  textCollation: { unknown: "replace", compare: (o, n) => ((o ?? "database") === (n ?? "database") ? "none" : "replace") } as PropertyRule<string | undefined>,
  renames: renamesReplace,
  sourcePath: updateOnChange,
};

/** Outputs the provider adds; not inputs, so they never drive a diff. */
export const schemaOutputOnly = ["tables", "views"] as const;

export function diffSchema(olds: Record<string, unknown>, news: Record<string, unknown>): ProviderDiff {
  return diffProperties(olds, news, schemaRules, schemaOutputOnly);
}
