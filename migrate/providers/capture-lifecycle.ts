/**
 * MigrationCapture's CRUD (issue 6, "Capture"): create/update install the change-capture
 * triggers in the SQLite source — the only writes this project ever makes to it, and only when
 * the stack opted in — and delete removes them, leaving the user tables and schema as before.
 */
import * as fs from "fs";
import { installCapture, removeCapture } from "../engine";
import { diffCapture } from "./capture-diff";
import type { ProviderDiff } from "./diff";
import { checkShape, guarded, newId, readProps, type CheckFailure } from "./lifecycle-support";

export interface CaptureInputs {
  readonly sourcePath: string;
  /** The source's tables at program time: a new one means its triggers must be installed. */
  readonly tables: string[];
}

export interface CaptureOutputs extends CaptureInputs {
  /** The installation id in `_armp_capture`; the target's sync position is stored under it. */
  readonly captureId: string;
  /** Tables that carry capture triggers after the install. */
  readonly capturedTables: string[];
}

const shape = {
  sourcePath: { kind: "string" },
  tables: { kind: "array" },
} as const;

function install(i: CaptureInputs): CaptureOutputs {
  const status = installCapture(i.sourcePath);
  // installCapture only returns after its transaction wrote the id, so null here is a bug.
  if (!status.id) throw new Error(`capture install in ${i.sourcePath} recorded no installation id`);
  return { sourcePath: i.sourcePath, tables: [...i.tables], captureId: status.id, capturedTables: status.tables };
}

export const captureLifecycle = {
  async check(_olds: unknown, news: Record<string, unknown>): Promise<{ inputs: Record<string, unknown>; failures: CheckFailure[] }> {
    return { inputs: news, failures: checkShape(news, shape) };
  },

  async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<ProviderDiff> {
    return diffCapture(olds, news);
  },

  async create(props: Record<string, unknown>): Promise<{ id: string; outs: CaptureOutputs }> {
    const i = readProps<CaptureInputs>(props);
    return guarded("capture.create", [], () => ({ id: newId("capture"), outs: install(i) }));
  },

  /** Idempotent re-install: keeps the id and changelog, recreates triggers (covers new tables). */
  async update(_id: string, _olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ outs: CaptureOutputs }> {
    const n = readProps<CaptureInputs>(news);
    return guarded("capture.update", [], () => ({ outs: install(n) }));
  },

  async delete(_id: string, props: Record<string, unknown>): Promise<void> {
    const o = readProps<CaptureOutputs>(props);
    // A source file that is gone holds no triggers: there is nothing left to remove, and failing
    // here would make the stack impossible to destroy.
    if (!fs.existsSync(o.sourcePath)) return;
    await guarded("capture.delete", [], () => {
      removeCapture(o.sourcePath);
    });
  },
};
