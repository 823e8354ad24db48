/**
 * MigrationVerification holds no database objects, so nothing about it ever needs replacing:
 * any change to what it watches (the data copy, the index set, the trigger, the target) is an
 * update, and update re-runs the verification.
 */
import { diffProperties, updateOnChange, type ProviderDiff } from "./diff";

export const verificationRules = {
  targetUrl: updateOnChange,
  targetSchema: updateOnChange,
};

export const verificationOutputOnly = ["report"] as const;

export function diffVerification(olds: Record<string, unknown>, news: Record<string, unknown>): ProviderDiff {
  return diffProperties(olds, news, verificationRules, verificationOutputOnly);
}
