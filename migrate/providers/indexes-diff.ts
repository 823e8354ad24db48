/**
 * MigrationIndexes' view of a change: index specs keyed by name, so an update drops and builds
 * only the difference. Indexes live on the schema resource's tables; when those are rebuilt
 * (`schemaId` changes or is unknown) the indexes went with them and must be replaced too.
 */
import type { IndexSpec } from "../engine";
import { diffProperties, replaceOnChange, updateOnChange, type ProviderDiff } from "./diff";
import { targetUrlRule } from "./schema-diff";
import { sameValue } from "./wire-values";

export const indexesRules = {
  targetUrl: targetUrlRule,
  targetSchema: replaceOnChange,
  schemaId: replaceOnChange,
  sourceIndexes: updateOnChange,
  fkIndexes: updateOnChange,
  extraIndexes: updateOnChange,
};

export const indexesOutputOnly = ["indexNames"] as const;

export function diffIndexes(olds: Record<string, unknown>, news: Record<string, unknown>): ProviderDiff {
  return diffProperties(olds, news, indexesRules, indexesOutputOnly);
}

/** Normalises a spec so specs that differ only in absent-vs-undefined fields compare equal. */
function normalise(s: IndexSpec): IndexSpec {
  return s.where === undefined || s.where === null
    ? { name: s.name, table: s.table, columns: [...s.columns], unique: Boolean(s.unique) }
    : { name: s.name, table: s.table, columns: [...s.columns], unique: Boolean(s.unique), where: s.where };
}

/**
 * All indexes the resource owns, in a stable order: source, FK-covering, then extra. A later
 * list never overrides an earlier spec of the same name (the source's own definition wins) —
 * duplicates by name are dropped, so one name is created once.
 */
export function desiredIndexes(lists: { sourceIndexes: IndexSpec[]; fkIndexes: IndexSpec[]; extraIndexes: IndexSpec[] }): IndexSpec[] {
  const byName = new Map<string, IndexSpec>();
  for (const s of [...lists.sourceIndexes, ...lists.fkIndexes, ...lists.extraIndexes]) {
    if (!byName.has(s.name)) byName.set(s.name, normalise(s));
  }
  return [...byName.values()];
}

/** What an update must do: drop indexes gone or redefined, create new or redefined ones. */
export function planIndexChange(olds: IndexSpec[], news: IndexSpec[]): { drop: string[]; create: IndexSpec[] } {
  const oldByName = new Map(olds.map((s) => [s.name, normalise(s)]));
  const newByName = new Map(news.map((s) => [s.name, normalise(s)]));
  const drop = [...oldByName.keys()].filter((n) => !newByName.has(n) || !sameValue(oldByName.get(n), newByName.get(n)));
  const create = [...newByName.values()].filter((s) => !oldByName.has(s.name) || !sameValue(oldByName.get(s.name), s));
  return { drop: drop.sort(), create };
}
