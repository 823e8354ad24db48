/**
 * MigrationVerification holds no database objects, so nothing about it ever needs replacing:
 * any change to what it watches (the data copy, the index set, the trigger, the target) is an
 * update, and update re-runs the verification.
 *
 * One change comes from the state rather than the inputs: a `pulumi refresh` (or
 * `up --refresh`) re-verifies in read() and records a failing report when the target drifted.
 * That recorded failure must not sit quietly in state, so it also forces an update, whose
 * re-verification fails `pulumi up` with the per-table report.
 */
import { diffProperties, updateOnChange, type ProviderDiff } from "./diff";
import { renamesUpdate } from "./schema-diff";
import { reveal } from "./wire-values";

export const verificationRules = {
  targetUrl: updateOnChange,
  targetSchema: updateOnChange,
  renames: renamesUpdate,
};

export const verificationOutputOnly = ["report"] as const;

/** True when the recorded report says the target did not match (only a refresh records one). */
export function recordedMismatch(olds: Record<string, unknown>): boolean {
  const report = reveal<{ ok?: unknown } | undefined>(olds.report);
  return typeof report === "object" && report !== null && report.ok === false;
}

export function diffVerification(olds: Record<string, unknown>, news: Record<string, unknown>): ProviderDiff {
  const byInputs = diffProperties(olds, news, verificationRules, verificationOutputOnly);
  return recordedMismatch(olds) ? { ...byInputs, changes: true } : byInputs;
}
