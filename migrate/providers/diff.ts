/**
 * The shared shape of every provider's diff: per-property verdicts folded into the one
 * DiffResult the engine reads. Only `changes`, `replaces` and `deleteBeforeReplace` reach the
 * engine from a dynamic provider (see the host's diffRPC), so that is all we return — always all
 * three, so tests can compare whole objects.
 */
import { containsUnknown, reveal, sameValue, withoutProviderKey } from "./wire-values";

export type Verdict = "none" | "update" | "replace";

export interface ProviderDiff {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly deleteBeforeReplace: boolean;
}

export interface PropertyRule<T = unknown> {
  /**
   * What an unknown value (preview) means. Properties whose change forces a replacement say
   * "replace": the engine relies on that when it decides which dependents of a
   * delete-before-replace resource must go first (it diffs them with the dependency unknown).
   */
  readonly unknown: Verdict;
  /** Verdict for two known, revealed values. Defaults to "update" when they differ. */
  readonly compare?: (olds: T, news: T) => Verdict;
}

export type Rules = Record<string, PropertyRule<never>>;

export const replaceOnChange: PropertyRule = { unknown: "replace", compare: (o, n) => (sameValue(o, n) ? "none" : "replace") };
export const updateOnChange: PropertyRule = { unknown: "update", compare: (o, n) => (sameValue(o, n) ? "none" : "update") };

/**
 * Diffs old outputs against new inputs. Properties without a rule update on change. Outputs the
 * provider added itself (listed in `outputOnly`) are not inputs and are ignored. Never touches a
 * database: previews call this with unknowns, and the answer must come from the values alone.
 */
export function diffProperties(
  rawOlds: Record<string, unknown>,
  rawNews: Record<string, unknown>,
  rules: Rules,
  outputOnly: readonly string[],
): ProviderDiff {
  const olds = withoutProviderKey(rawOlds);
  const news = withoutProviderKey(rawNews);
  // Sorted: Struct round-trips reorder keys, and `replaces` should read the same every time.
  const keys = [...new Set([...Object.keys(news), ...Object.keys(olds)])].filter((k) => !outputOnly.includes(k)).sort();
  const replaces: string[] = [];
  let changes = false;
  for (const key of keys) {
    const rule = (rules[key] ?? updateOnChange) as PropertyRule;
    let verdict: Verdict;
    if (containsUnknown(news[key])) verdict = rule.unknown;
    else {
      const o = reveal(olds[key]);
      const n = reveal(news[key]);
      verdict = rule.compare ? rule.compare(o, n) : sameValue(o, n) ? "none" : "update";
    }
    if (verdict !== "none") changes = true;
    if (verdict === "replace") replaces.push(key);
  }
  // Replacements are delete-before-replace for every migration resource: two copies of the same
  // tables/indexes cannot coexist in one target schema, and deleting the old copy after creating
  // the new one would truncate or drop what the new one just built.
  return { changes, replaces, deleteBeforeReplace: replaces.length > 0 };
}
