/**
 * MigrationRollbackGuard's view of a change. The guard is PostgreSQL-side capture in one target
 * schema, replayed into one SQLite file: another database, schema or file is another guard, so
 * those replace (delete-before-replace: the old guard's replay and trigger removal must finish
 * before the new one installs, or removing the old triggers would remove the new ones too).
 * A rotated password is the same database: update, so state holds the URL delete will need.
 */
import { diffProperties, replaceOnChange, type ProviderDiff } from "./diff";
import { renamesUpdate, targetUrlRule } from "./schema-diff";

export const rollbackGuardRules = {
  targetUrl: targetUrlRule,
  targetSchema: replaceOnChange,
  sourcePath: replaceOnChange,
  renames: renamesUpdate,
};

export const rollbackGuardOutputOnly = ["capturedTables"] as const;

export function diffRollbackGuard(olds: Record<string, unknown>, news: Record<string, unknown>): ProviderDiff {
  return diffProperties(olds, news, rollbackGuardRules, rollbackGuardOutputOnly);
}
