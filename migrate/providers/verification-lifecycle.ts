/**
 * MigrationVerification's CRUD: compares source and target (counts, checksums, sequences) each
 * time what it watches changes. A mismatch fails the operation with the per-table report, which
 * fails `pulumi up`; a match becomes the resource's `report` output (and the stack's).
 *
 * read() (refresh) re-verifies too, so drift in the target is noticed without any input change:
 * it records the fresh report, failing or not, and diff() turns a recorded failure into an
 * update whose re-verification fails `pulumi up`.
 */
import { verify, type VerifyReport } from "../engine";
import { MigrationError } from "../engine/errors";
import type { ProviderDiff } from "./diff";
import { checkShape, guarded, newId, readProps, targetOf, urlsOf, type CheckFailure } from "./lifecycle-support";
import { diffVerification } from "./verification-diff";
import { secret, type SecretEnvelope } from "./wire-values";

export interface VerificationInputs {
  readonly sourcePath: string;
  /** Secret. */
  readonly targetUrl: string;
  readonly targetSchema: string;
  /** Tables to compare (the data resource's `copiedTables`). */
  readonly tables: string[];
  /** The data resource's fingerprint hash: changes whenever data is re-copied. */
  readonly dataHash: string;
  /** The index resource's names: changes whenever indexes are added or dropped. */
  readonly indexNames: string[];
  /** Any value; changing it forces a re-verification without other changes. */
  readonly trigger: string;
  /** The schema's renames (names.ts); absent: none. */
  readonly renames?: Record<string, string>;
}

/**
 * A refresh that could not log in records why here instead of failing: the refresh then goes on
 * to the other resources (the app role's own refresh is what notices a hand-changed password),
 * and diff() turns `ok: false` into an update that re-verifies after they are repaired.
 */
export type RecordedReport = VerifyReport & { unreachable?: string };

export interface VerificationOutputs extends VerificationInputs {
  readonly report: RecordedReport;
}

type WireOutputs = Omit<VerificationOutputs, "targetUrl"> & { targetUrl: SecretEnvelope<string> };

/** Connection failures a refresh records instead of throwing (MigrationError codes). */
const CONNECT_CODES = new Set(["TARGET_AUTH_FAILED", "TARGET_HBA_REJECTED", "TARGET_TLS_REQUIRED", "TARGET_TLS_FAILED", "TARGET_UNREACHABLE"]);

/** What to run when the app's URL stops logging in, appended to a recorded or thrown auth failure. */
export const RELOGIN_HINT =
  "If the app role's password was changed outside Pulumi, `pulumi up --refresh` sets it back (the stack's DatabaseAccess checks the login on refresh); " +
  "with armp-postgres:manageRole=false, put the server's current URL into armp-postgres:databaseUrl and run `pulumi up`.";

const shape = {
  sourcePath: { kind: "string" },
  targetUrl: { kind: "string" },
  targetSchema: { kind: "string" },
  tables: { kind: "array" },
  dataHash: { kind: "string" },
  indexNames: { kind: "array" },
  trigger: { kind: "string" },
  renames: { kind: "object", optional: true },
} as const;

/** Whether two reports say the same thing once their timings (`seconds`) are left out. */
export function sameFinding(a: VerifyReport, b: VerifyReport): boolean {
  const { seconds: _a, ...restA } = a;
  const { seconds: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}

/** One line per mismatching table, naming what differs, so `pulumi up` output says where to look. */
export function describeMismatch(report: VerifyReport): string {
  const lines = report.tables
    .filter((t) => !t.match || !t.sequenceOk || !t.foreignKeysOk)
    .map((t) => {
      const parts = [`${t.table}: rows source=${t.sourceRows} target=${t.targetRows}`, `checksum source=${t.sourceChecksum} target=${t.targetChecksum}`];
      if (!t.sequenceOk) parts.push("sequence behind max(pk)");
      if (!t.foreignKeysOk) parts.push("foreign keys missing or not validated");
      if (t.differingKeys.length > 0) parts.push(`differing keys ${t.differingKeys.join(" ")}`);
      return parts.join(", ");
    });
  return lines.join("\n");
}

/** The engine's verification with the URL scrubbed from anything it throws; a mismatch is a report, not an error. */
function compare(i: VerificationInputs, urls: string[], step: string): Promise<VerifyReport> {
  return guarded(step, urls, () => verify(i.sourcePath, targetOf(i), { tables: i.tables, ...(i.renames ? { renames: i.renames } : {}) }));
}

async function run(i: VerificationInputs, urls: string[], step: string): Promise<VerifyReport> {
  const report = await compare(i, urls, step).catch((e: unknown) => {
    if (e instanceof MigrationError && e.code === "TARGET_AUTH_FAILED" && !e.message.includes(RELOGIN_HINT)) e.message = `${e.message} ${RELOGIN_HINT}`;
    throw e;
  });
  return guarded(step, urls, () => {
    if (!report.ok) {
      throw new MigrationError(
        "VERIFY_MISMATCH",
        `Target does not match ${i.sourcePath}:\n${describeMismatch(report)}\n` +
          "Find what changed the target or the source since the copy (another writer, an interrupted step), fix it, " +
          "then run `pulumi up` again; to copy afresh, run `pulumi up --replace` on the MigrationData resource.",
        { step, report },
      );
    }
    return report;
  });
}

export const verificationLifecycle = {
  async check(_olds: unknown, news: Record<string, unknown>): Promise<{ inputs: Record<string, unknown>; failures: CheckFailure[] }> {
    return { inputs: news, failures: checkShape(news, shape) };
  },

  async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<ProviderDiff> {
    return diffVerification(olds, news);
  },

  async create(props: Record<string, unknown>): Promise<{ id: string; outs: WireOutputs }> {
    const i = readProps<VerificationInputs>(props);
    const report = await run(i, urlsOf(props), "verification.create");
    return { id: newId("verification"), outs: { ...i, report, targetUrl: secret(i.targetUrl) } };
  },

  async update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ outs: WireOutputs }> {
    const n = readProps<VerificationInputs>(news);
    const report = await run(n, urlsOf(olds, news), "verification.update");
    return { outs: { ...n, report, targetUrl: secret(n.targetUrl) } };
  },

  /**
   * Refresh: re-verify against the target as it is now and record the report, whatever it says.
   * Throwing on a mismatch would abort the refresh and leave the stale passing report in state;
   * recording it lets diff() force the update that fails `pulumi up` with the details. `props`
   * are the old outputs; the URL may come wrapped as a secret or plain (the engine strips
   * envelopes for this host), and goes back wrapped.
   */
  async read(id: string, props: Record<string, unknown>): Promise<{ id: string; props: WireOutputs }> {
    const o = readProps<VerificationOutputs>(props);
    let fresh: RecordedReport;
    try {
      fresh = await compare(o, urlsOf(props), "verification.read");
    } catch (e) {
      if (!(e instanceof MigrationError) || !CONNECT_CODES.has(e.code)) throw e;
      const hint = e.code === "TARGET_AUTH_FAILED" ? ` ${RELOGIN_HINT}` : "";
      // The last good report's tables stay for reference; ok=false forces the re-verifying update.
      fresh = { ...o.report, ok: false, unreachable: `${e.message}${hint}` };
    }
    // A report that differs only in how long it took is the same finding: keep the recorded one,
    // so `pulumi preview --refresh` shows no change (timings are not compared state).
    const report = o.report !== undefined && sameFinding(o.report, fresh) ? o.report : fresh;
    return { id, props: { ...o, report, targetUrl: secret(o.targetUrl) } };
  },

  /** Verification creates nothing in the database, so there is nothing to remove. */
  async delete(_id: string, _props: Record<string, unknown>): Promise<void> {
    return;
  },
};
