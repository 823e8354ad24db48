/**
 * MigrationCapture's view of a change. The capture lives in one SQLite file, so another file is
 * another capture: `sourcePath` replaces (remove from the old file, install in the new one).
 * A changed table list updates in place: install is idempotent and recreates the triggers, so a
 * table added to the source is covered before the data resource copies it.
 */
import { diffProperties, replaceOnChange, type PropertyRule, type ProviderDiff } from "./diff";
import { sameValue } from "./wire-values";

export const captureRules = {
  sourcePath: replaceOnChange,
  tables: { unknown: "update", compare: (o, n) => (sameValue([...o].sort(), [...n].sort()) ? "none" : "update") } as PropertyRule<string[]>,
};

export const captureOutputOnly = ["captureId", "capturedTables"] as const;

export function diffCapture(olds: Record<string, unknown>, news: Record<string, unknown>): ProviderDiff {
  return diffProperties(olds, news, captureRules, captureOutputOnly);
}
