/**
 * MigrationSchema's CRUD, run inside the provider host (loaded from dist/ by the serialized
 * provider). Creates the source's tables in the target in one transaction, ALTERs in place for
 * compatible changes, and on delete drops exactly the tables it recorded as created.
 */
import { alterTables, createTables, createViews, dropTables, dropViews, fingerprintSchema, type DecisionOptions, type SchemaFingerprint, type ViewResult } from "../engine";
import { MigrationError } from "../engine/errors";
import { tableNameOf } from "../engine/names";
import { checkShape, guarded, newId, readProps, targetOf, urlsOf, type CheckFailure } from "./lifecycle-support";
import { diffSchema, planSchemaChange } from "./schema-diff";
import { sameValue, secret, type SecretEnvelope } from "./wire-values";
import type { ProviderDiff } from "./diff";

export interface SchemaInputs {
  readonly sourcePath: string;
  readonly schemaFingerprint: SchemaFingerprint;
  /** Secret. Direct PostgreSQL URL (not pgBouncer). */
  readonly targetUrl: string;
  readonly targetSchema: string;
  readonly castOverrides: Record<string, string>;
  readonly timestamptz: boolean;
  /** Absent in state from before the option: false (widen). */
  readonly strictTypes?: boolean;
  /** Absent in state from before the option: none. */
  readonly epochs?: Record<string, "unix" | "unix-ms" | "coredata" | "number">;
  /**
   * Absent in state written before the option existed: those tables were created with the
   * database's collation, which is what "database" means (mappingOf).
   */
  readonly textCollation?: string;
  /** Source name -> PostgreSQL name (names.ts); absent: none. */
  readonly renames?: Record<string, string>;
}

export interface SchemaOutputs extends SchemaInputs {
  /** The tables this resource created; delete drops these and nothing else. */
  readonly tables: string[];
  /** The source's views: created, or skipped with the reason and the original SQL. */
  readonly views?: ViewResult[];
}

/** Outputs as returned to the host: the URL wrapped so the engine stores it as a secret. */
type WireOutputs<T extends { targetUrl: string }> = Omit<T, "targetUrl"> & { targetUrl: SecretEnvelope<string> };

const shape = {
  sourcePath: { kind: "string" },
  schemaFingerprint: { kind: "object" },
  targetUrl: { kind: "string" },
  targetSchema: { kind: "string" },
  castOverrides: { kind: "object" },
  timestamptz: { kind: "boolean" },
  textCollation: { kind: "string", optional: true },
  strictTypes: { kind: "boolean", optional: true },
  epochs: { kind: "object", optional: true },
  renames: { kind: "object", optional: true },
} as const;

/** The engine's mapping options from the resource's inputs. */
function mappingOf(i: SchemaInputs): DecisionOptions {
  return { castOverrides: i.castOverrides, timestamptz: i.timestamptz, textCollation: i.textCollation ?? "database", strictTypes: i.strictTypes ?? false, epochs: i.epochs ?? {}, ...(i.renames ? { renames: i.renames } : {}) };
}

function wire(o: SchemaOutputs): WireOutputs<SchemaOutputs> {
  return { ...o, targetUrl: secret(o.targetUrl) };
}

/**
 * The fingerprint in state must describe what was built. The program computed it moments ago;
 * if the file changed since, building from the file would record a lie, so stop instead.
 */
function assertFingerprintCurrent(i: SchemaInputs): void {
  const now = fingerprintSchema(i.sourcePath, mappingOf(i));
  // The decisions' row counts move with the data; the hash covers the types they decide.
  if (now.hash !== i.schemaFingerprint.hash || !sameValue(now.tables, i.schemaFingerprint.tables)) {
    throw new MigrationError(
      "CONFIG_INVALID",
      `The schema of ${i.sourcePath} changed after the Pulumi program read it. Run \`pulumi up\` again so the plan matches the file.`,
      { step: "schema", expected: i.schemaFingerprint.hash, actual: now.hash },
    );
  }
}

export const schemaLifecycle = {
  async check(_olds: unknown, news: Record<string, unknown>): Promise<{ inputs: Record<string, unknown>; failures: CheckFailure[] }> {
    return { inputs: news, failures: checkShape(news, shape) };
  },

  async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<ProviderDiff> {
    return diffSchema(olds, news);
  },

  async create(props: Record<string, unknown>): Promise<{ id: string; outs: WireOutputs<SchemaOutputs> }> {
    const i = readProps<SchemaInputs>(props);
    return guarded("schema.create", urlsOf(props), async () => {
      assertFingerprintCurrent(i);
      const { tables } = await createTables(i.sourcePath, targetOf(i), { ...mappingOf(i), tables: Object.keys(i.schemaFingerprint.tables) });
      // Views exist after `pulumi up`; they read the tables, which the data resource fills later.
      const views = await createViews(i.sourcePath, targetOf(i), mappingOf(i));
      return { id: newId("schema"), outs: wire({ ...i, tables, views }) };
    });
  },

  async update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ outs: WireOutputs<SchemaOutputs> }> {
    const o = readProps<SchemaOutputs>(olds);
    const n = readProps<SchemaInputs>(news);
    return guarded("schema.update", urlsOf(olds, news), async () => {
      const change = planSchemaChange(o.schemaFingerprint, n.schemaFingerprint);
      if (change.incompatible.length > 0) {
        // diff() answers "replace" for these, so the engine never sends them here; refuse rather
        // than half-apply if a caller does.
        throw new MigrationError("CONFIG_INVALID", `Schema change cannot be applied in place: ${change.incompatible.join("; ")}. Replace the resource instead.`, {
          step: "schema.update",
        });
      }
      if (change.addTables.length + change.addColumns.length > 0) {
        assertFingerprintCurrent(n);
        await alterTables(n.sourcePath, targetOf(n), { addTables: change.addTables, addColumns: change.addColumns }, mappingOf(n));
      }
      // Views are re-created from the current source on every update (dropped first, dependents first).
      assertFingerprintCurrent(n);
      const views = await createViews(n.sourcePath, targetOf(n), mappingOf(n));
      return { outs: wire({ ...n, tables: [...o.tables, ...change.addTables], views }) };
    });
  },

  async delete(_id: string, props: Record<string, unknown>): Promise<void> {
    const o = readProps<SchemaOutputs>(props);
    // `tables` holds source names; the target's are derived from them and the renames alone.
    await guarded("schema.delete", urlsOf(props), async () => {
      await dropViews(targetOf(o), o.views ?? []);
      await dropTables(targetOf(o), o.tables.map((t) => tableNameOf(t, o.renames)));
    });
  },
};
