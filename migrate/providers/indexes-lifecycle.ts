/**
 * MigrationIndexes' CRUD: builds the source, FK-covering and extra indexes after the data is in,
 * changes only the difference on update, and drops what it built on delete.
 */
import { createIndexes, dropIndexes, type IndexSpec } from "../engine";
import type { ProviderDiff } from "./diff";
import { desiredIndexes, diffIndexes, planIndexChange } from "./indexes-diff";
import { checkShape, guarded, newId, readProps, targetOf, urlsOf, type CheckFailure } from "./lifecycle-support";
import { secret, type SecretEnvelope } from "./wire-values";

export interface IndexesInputs {
  readonly schemaId: string;
  /** Indexes declared in the SQLite file (engine `sourceIndexes`). */
  readonly sourceIndexes: IndexSpec[];
  /** One per foreign key not already covered by an index prefix (engine `fkCoveringIndexes`). */
  readonly fkIndexes: IndexSpec[];
  /** From stack config, names resolved by the component. */
  readonly extraIndexes: IndexSpec[];
  /** Secret. */
  readonly targetUrl: string;
  readonly targetSchema: string;
}

export interface IndexesOutputs extends IndexesInputs {
  /** Names of the indexes this resource owns; delete drops these. */
  readonly indexNames: string[];
}

type WireOutputs = Omit<IndexesOutputs, "targetUrl"> & { targetUrl: SecretEnvelope<string> };

const shape = {
  schemaId: { kind: "string" },
  sourceIndexes: { kind: "array" },
  fkIndexes: { kind: "array" },
  extraIndexes: { kind: "array" },
  targetUrl: { kind: "string" },
  targetSchema: { kind: "string" },
} as const;

function wire(o: IndexesOutputs): WireOutputs {
  return { ...o, targetUrl: secret(o.targetUrl) };
}

export const indexesLifecycle = {
  async check(_olds: unknown, news: Record<string, unknown>): Promise<{ inputs: Record<string, unknown>; failures: CheckFailure[] }> {
    return { inputs: news, failures: checkShape(news, shape) };
  },

  async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<ProviderDiff> {
    return diffIndexes(olds, news);
  },

  async create(props: Record<string, unknown>): Promise<{ id: string; outs: WireOutputs }> {
    const i = readProps<IndexesInputs>(props);
    const wanted = desiredIndexes(i);
    return guarded("indexes.create", urlsOf(props), async () => {
      // Plain CREATE INDEX: on first build nothing reads these tables yet, and it is faster than
      // CONCURRENTLY. If a later index fails, drop the ones already built (nothing left behind).
      try {
        await createIndexes(targetOf(i), wanted, { concurrently: false });
      } catch (e) {
        await dropIndexes(targetOf(i), wanted.map((s) => s.name), { concurrently: false }).catch(() => undefined);
        throw e;
      }
      return { id: newId("indexes"), outs: wire({ ...i, indexNames: wanted.map((s) => s.name) }) };
    });
  },

  async update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ outs: WireOutputs }> {
    const o = readProps<IndexesOutputs>(olds);
    const n = readProps<IndexesInputs>(news);
    const wanted = desiredIndexes(n);
    const plan = planIndexChange(desiredIndexes(o), wanted);
    return guarded("indexes.update", urlsOf(olds, news), async () => {
      // An update only happens once the data resource exists, so these tables hold rows and the
      // app may be using them: CONCURRENTLY keeps writes flowing while the index builds.
      if (plan.drop.length > 0) await dropIndexes(targetOf(n), plan.drop, { concurrently: true });
      if (plan.create.length > 0) await createIndexes(targetOf(n), plan.create, { concurrently: true });
      return { outs: wire({ ...n, indexNames: wanted.map((s) => s.name) }) };
    });
  },

  async delete(_id: string, props: Record<string, unknown>): Promise<void> {
    const o = readProps<IndexesOutputs>(props);
    await guarded("indexes.delete", urlsOf(props), () => dropIndexes(targetOf(o), o.indexNames, { concurrently: false }));
  },
};
