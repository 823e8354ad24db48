/**
 * MigrationRollbackGuard's CRUD (rollback without loss): create installs
 * PostgreSQL-side capture once the migration verified, so every write the app makes after the
 * switch is recorded; delete replays those writes into the SQLite file and only then removes the
 * capture. `pulumi destroy` runs delete after the app (container or env file) is gone and before
 * the data is dropped, so SQLite is complete again before anything the replay reads disappears.
 * When the replay would lose writes the engine refuses (ROLLBACK_UNSAFE, naming how many and
 * what to do) and the error stops the destroy with both databases untouched.
 */
import { installTargetCapture, removeTargetCapture, rollbackChanges } from "../engine";
import type { ProviderDiff } from "./diff";
import { checkShape, guarded, newId, readProps, targetOf, urlsOf, type CheckFailure } from "./lifecycle-support";
import { diffRollbackGuard } from "./rollback-guard-diff";
import { secret, type SecretEnvelope } from "./wire-values";

export interface RollbackGuardInputs {
  readonly sourcePath: string;
  /** Secret. */
  readonly targetUrl: string;
  readonly targetSchema: string;
  /** The schema's renames (names.ts); absent: none. */
  readonly renames?: Record<string, string>;
}

export interface RollbackGuardOutputs extends RollbackGuardInputs {
  /** Target tables carrying the PostgreSQL capture trigger after the install. */
  readonly capturedTables: string[];
}

type WireOutputs = Omit<RollbackGuardOutputs, "targetUrl"> & { targetUrl: SecretEnvelope<string> };

const shape = {
  sourcePath: { kind: "string" },
  targetUrl: { kind: "string" },
  targetSchema: { kind: "string" },
  renames: { kind: "object", optional: true },
} as const;

function wire(o: RollbackGuardOutputs): WireOutputs {
  return { ...o, targetUrl: secret(o.targetUrl) };
}

async function install(i: RollbackGuardInputs): Promise<WireOutputs> {
  const named = i.renames ? { renames: i.renames } : {};
  const status = await installTargetCapture(targetOf(i), { sourcePath: i.sourcePath, ...named });
  return wire({ sourcePath: i.sourcePath, targetUrl: i.targetUrl, targetSchema: i.targetSchema, ...named, capturedTables: status.tables });
}

export const rollbackGuardLifecycle = {
  async check(_olds: unknown, news: Record<string, unknown>): Promise<{ inputs: Record<string, unknown>; failures: CheckFailure[] }> {
    return { inputs: news, failures: checkShape(news, shape) };
  },

  async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<ProviderDiff> {
    return diffRollbackGuard(olds, news);
  },

  async create(props: Record<string, unknown>): Promise<{ id: string; outs: WireOutputs }> {
    const i = readProps<RollbackGuardInputs>(props);
    return guarded("rollback-guard.create", urlsOf(props), async () => ({ id: newId("rollback-guard"), outs: await install(i) }));
  },

  /** Only a rotated password reaches here (diff): re-install is idempotent and keeps the changelog. */
  async update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ outs: WireOutputs }> {
    const n = readProps<RollbackGuardInputs>(news);
    return guarded("rollback-guard.update", urlsOf(olds, news), async () => ({ outs: await install(n) }));
  },

  async delete(_id: string, props: Record<string, unknown>): Promise<void> {
    const o = readProps<RollbackGuardOutputs>(props);
    await guarded("rollback-guard.delete", urlsOf(props), async () => {
      // Replay first, remove after: a refusal throws before the capture is touched, so the
      // changelog survives for the retry once the operator resolved what the message names.
      await rollbackChanges(targetOf(o), o.sourcePath, o.renames ? { renames: o.renames } : {});
      await removeTargetCapture(targetOf(o));
    });
  },
};
