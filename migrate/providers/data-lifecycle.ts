/**
 * MigrationData's CRUD: the streaming copy on create, a transactional re-copy of only the
 * changed tables on update, TRUNCATE of the tables it filled on delete.
 *
 * With change capture (a `captureId` from MigrationCapture) create also replays the
 * writes made during the copy, and update becomes an incremental sync: only tables new to the
 * list are copied, every other change is replayed from the changelog.
 */
import { copyData, syncChanges, truncateTables, type CopyReport, type DataFingerprint, type SyncReport, type TargetRef } from "../engine";
import { isMigrationError } from "../engine/errors";
import { tableNameOf } from "../engine/names";
import { diffData, tablesToCopyOnUpdate } from "./data-diff";
import type { ProviderDiff } from "./diff";
import { checkShape, guarded, newId, readProps, targetOf, urlsOf, type CheckFailure } from "./lifecycle-support";
import { secret, type SecretEnvelope } from "./wire-values";

export interface DataInputs {
  /** The MigrationSchema resource's id: a new id means new (empty) tables. */
  readonly schemaId: string;
  /** The tables the schema resource created (its `tables` output). */
  readonly tables: string[];
  readonly dataFingerprint: DataFingerprint;
  readonly jobs: number;
  readonly sourcePath: string;
  /** Secret. */
  readonly targetUrl: string;
  readonly targetSchema: string;
  /** MigrationCapture's installation id; absent when capture is off. */
  readonly captureId?: string;
  /** The schema's renames (names.ts); absent: none. */
  readonly renames?: Record<string, string>;
}

export interface DataOutputs extends DataInputs {
  /** Tables holding rows this resource copied; delete truncates these. */
  readonly copiedTables: string[];
  /** The engine's report for the last copy (create: all tables; update: the re-copied ones). */
  readonly copyReport: CopyReport;
  /** The last sync's report (applied, pending, lag); null when capture is off. */
  readonly syncReport: SyncReport | null;
}

type WireOutputs = Omit<DataOutputs, "targetUrl"> & { targetUrl: SecretEnvelope<string> };

const shape = {
  schemaId: { kind: "string" },
  tables: { kind: "array" },
  dataFingerprint: { kind: "object" },
  jobs: { kind: "number" },
  sourcePath: { kind: "string" },
  targetUrl: { kind: "string" },
  targetSchema: { kind: "string" },
  captureId: { kind: "string", optional: true },
  renames: { kind: "object", optional: true },
} as const;

function wire(o: DataOutputs): WireOutputs {
  return { ...o, targetUrl: secret(o.targetUrl) };
}

/** Replays the changelog when capture is on; null (no sync, nothing written) when it is off. */
async function syncIfCaptured(i: DataInputs, target: TargetRef): Promise<SyncReport | null> {
  return i.captureId ? syncChanges(i.sourcePath, target, i.renames ? { renames: i.renames } : {}) : null;
}

export const dataLifecycle = {
  async check(_olds: unknown, news: Record<string, unknown>): Promise<{ inputs: Record<string, unknown>; failures: CheckFailure[] }> {
    return { inputs: news, failures: checkShape(news, shape) };
  },

  async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<ProviderDiff> {
    return diffData(olds, news);
  },

  async create(props: Record<string, unknown>): Promise<{ id: string; outs: WireOutputs }> {
    const i = readProps<DataInputs>(props);
    return guarded("data.create", urlsOf(props), async () => {
      try {
        const copyReport = await copyData(i.sourcePath, targetOf(i), { tables: i.tables, jobs: i.jobs, replace: false, renames: i.renames });
        // Capture was installed before the copy began, so the writes the app made meanwhile are in
        // the changelog: replay them now (rows the copy already saw are rewritten unchanged).
        const syncReport = await syncIfCaptured(i, targetOf(i));
        return { id: newId("data"), outs: wire({ ...i, copiedTables: [...i.tables], copyReport, syncReport }) };
      } catch (e) {
        // Each table is copied in its own transaction, so a failure on a later table leaves the
        // earlier ones filled. A failed create must leave nothing behind: empty them again. Not
        // when the target already held rows before we started — those are not ours to remove.
        // A cleanup failure must not hide the error that explains the failed create.
        if (!(isMigrationError(e) && e.code === "TARGET_NOT_EMPTY")) await truncateTables(targetOf(i), i.tables.map((t) => tableNameOf(t, i.renames))).catch(() => undefined);
        throw e;
      }
    });
  },

  async update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ outs: WireOutputs }> {
    const o = readProps<DataOutputs>(olds);
    const n = readProps<DataInputs>(news);
    return guarded("data.update", urlsOf(olds, news), async () => {
      const tables = tablesToCopyOnUpdate(o, n);
      // A table that must be copied is re-copied whole: TRUNCATE + COPY in one transaction per
      // table, so readers see the old rows or the new, never a mix.
      const copyReport = tables.length > 0 ? await copyData(n.sourcePath, targetOf(n), { tables, jobs: n.jobs, replace: true, renames: n.renames }) : o.copyReport;
      const syncReport = await syncIfCaptured(n, targetOf(n));
      return { outs: wire({ ...n, copiedTables: [...n.tables], copyReport, syncReport }) };
    });
  },

  async delete(_id: string, props: Record<string, unknown>): Promise<void> {
    const o = readProps<DataOutputs>(props);
    await guarded("data.delete", urlsOf(props), () => truncateTables(targetOf(o), o.copiedTables.map((t) => tableNameOf(t, o.renames))));
  },
};
