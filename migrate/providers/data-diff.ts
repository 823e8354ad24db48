/**
 * MigrationData's view of a change. The data follows the schema resource's identity, and only
 * that identity: a new `schemaId` (the schema was replaced, its tables rebuilt empty) means the
 * copy must be redone from scratch, so `schemaId` forces a replacement, also when unknown (that
 * is how the engine asks "must this go when the schema is replaced?"). Everything else updates
 * in place. In particular `tables` comes from the schema's outputs, which are unknown in preview
 * whenever the schema is merely *updated* (new table, new column): treating that as a replace
 * would show a full re-copy the following `up` never does.
 */
import type { DataFingerprint } from "../engine";
import { diffProperties, replaceOnChange, updateOnChange, type PropertyRule, type ProviderDiff } from "./diff";
import { renamesUpdate, targetUrlRule } from "./schema-diff";
import { sameValue } from "./wire-values";

export const dataRules = {
  targetUrl: targetUrlRule,
  // Identity: another database or schema holds other tables; a new schema id means new tables.
  targetSchema: replaceOnChange,
  schemaId: replaceOnChange,
  tables: { unknown: "update", compare: (o, n) => (sameValue([...o].sort(), [...n].sort()) ? "none" : "update") } as PropertyRule<string[]>,
  dataFingerprint: updateOnChange,
  // Parallelism and the file's path do not change what is in the target; they are recorded only.
  jobs: updateOnChange,
  sourcePath: updateOnChange,
  // Capture switched on, off or reinstalled: the next update decides between re-copy and sync.
  captureId: updateOnChange,
  renames: renamesUpdate,
};

export const dataOutputOnly = ["copiedTables", "copyReport", "syncReport"] as const;

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

/**
 * The tables an update copies. With the same capture installed as at the last create/update,
 * every write since is in the changelog, so only tables new to the list need a copy (sync
 * replays the rest). Without capture — or when capture was just switched on or reinstalled, so
 * writes before its install are in no changelog — changed tables are re-copied as before.
 */
export function tablesToCopyOnUpdate(
  olds: { tables: string[]; dataFingerprint: DataFingerprint; captureId?: string },
  news: { tables: string[]; dataFingerprint: DataFingerprint; captureId?: string },
): string[] {
  if (news.captureId && olds.captureId === news.captureId) return news.tables.filter((t) => !olds.tables.includes(t)).sort();
  return tablesToRecopy(olds, news);
}
