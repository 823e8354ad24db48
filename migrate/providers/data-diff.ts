/**
 * MigrationData's view of a change. The data follows the schema resource's identity: a new
 * schema (replaced tables) means the copy must be redone from scratch, so `schemaId` and the
 * `tables` list that comes from the schema's outputs force a replacement when they are unknown
 * (that is how the engine asks "must this go when the schema is replaced?"). Source edits only
 * update: the changed tables are re-copied in place.
 */
import type { DataFingerprint } from "../engine";
import { diffProperties, replaceOnChange, updateOnChange, type PropertyRule, type ProviderDiff } from "./diff";
import { targetUrlRule } from "./schema-diff";
import { sameValue } from "./wire-values";

export const dataRules = {
  targetUrl: targetUrlRule,
  targetSchema: replaceOnChange,
  schemaId: replaceOnChange,
  tables: { unknown: "replace", compare: (o, n) => (sameValue([...o].sort(), [...n].sort()) ? "none" : "update") } as PropertyRule<string[]>,
  dataFingerprint: updateOnChange,
  // Parallelism and the file's path do not change what is in the target; they are recorded only.
  jobs: updateOnChange,
  sourcePath: updateOnChange,
};

export const dataOutputOnly = ["copiedTables", "copyReport"] as const;

export function diffData(olds: Record<string, unknown>, news: Record<string, unknown>): ProviderDiff {
  return diffProperties(olds, news, dataRules, dataOutputOnly);
}

/**
 * The tables an update must re-copy: tables new to the list, and tables whose rows, max rowid or
 * content hash moved since the recorded fingerprint. Sorted for a stable order in reports.
 */
export function tablesToRecopy(
  olds: { tables: string[]; dataFingerprint: DataFingerprint },
  news: { tables: string[]; dataFingerprint: DataFingerprint },
): string[] {
  return news.tables
    .filter((t) => {
      if (!olds.tables.includes(t)) return true;
      return !sameValue(olds.dataFingerprint.tables[t] ?? null, news.dataFingerprint.tables[t] ?? null);
    })
    .sort();
}
