/**
 * The `Migration` component: SQLite → PostgreSQL as four stack resources, chained so `pulumi up`
 * builds schema → data → indexes → verification and `pulumi destroy` undoes them in reverse
 * (verification → indexes → data → schema). With `capture` on, capture comes before data and a
 * rollback guard after verification; destroy then runs guard (replay into SQLite) → verification
 * → indexes → data → capture → schema.
 *
 * Everything about the source is read here, at program time, with the engine's read-only
 * fingerprints: preview then shows concrete per-table hashes and column lists instead of
 * unknowns, and a reviewer can read which tables will change.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { fingerprintData, fingerprintSchema, fkCoveringIndexes, isMigrationError, sourceIndexes, type IndexSpec, type SchemaFingerprint, type VerifyReport } from "../engine";
import { MigrationCapture } from "./migration-capture";
import { MigrationData } from "./migration-data";
import { MigrationIndexes } from "./migration-indexes";
import { MigrationRollbackGuard } from "./migration-rollback-guard";
import { MigrationSchema } from "./migration-schema";
import { MigrationVerification } from "./migration-verification";
import { columnName } from "./schema-diff";
import { columnNameOf, tableNameOf } from "../engine/names";

export interface ExtraIndexArg {
  readonly table: string;
  readonly columns: string[];
  /** Defaults to false. */
  readonly unique?: boolean;
  /** Defaults to `idx_<table>_<col>[_<col>…]`. */
  readonly name?: string;
}

export interface MigrationArgs {
  /** The SQLite file. Opened read-only, never written (unless `capture` is true). */
  readonly sourcePath: pulumi.Input<string>;
  /** Direct PostgreSQL URL (not pgBouncer). Treated as a secret whether or not it is one. */
  readonly targetUrl: pulumi.Input<string>;
  /** Defaults to "public". */
  readonly targetSchema?: pulumi.Input<string>;
  /** Tables copied in parallel. Defaults to 2. */
  readonly jobs?: pulumi.Input<number>;
  /** Indexes beyond the source's own and the FK-covering ones. Defaults to none. */
  readonly extraIndexes?: pulumi.Input<pulumi.Input<ExtraIndexArg>[]>;
  /** "table.column" → PostgreSQL type. Defaults to none. */
  readonly castOverrides?: pulumi.Input<Record<string, string>>;
  /** DATETIME/TIMESTAMP → timestamptz instead of timestamp. Defaults to false. */
  readonly timestamptz?: pulumi.Input<boolean>;
  /**
   * Refuse, at preview and before any DDL, a column whose values its declared type cannot hold,
   * instead of widening it to the narrowest type that holds them all. Defaults to false (widen;
   * every widening is listed in the schema resource's `schemaFingerprint.decisions`).
   */
  readonly strictTypes?: pulumi.Input<boolean>;
  /**
   * "table.column" → how numbers in that DATE/DATETIME/TIMESTAMP column are read: "unix" or kept as
   * "number". Defaults to none: Unix time when the column's text values are dates, else numbers.
   */
  readonly epochs?: pulumi.Input<Record<string, "unix" | "unix-ms" | "coredata" | "number">>;
  /**
   * Collation of the text columns SQLite compares bytewise (BINARY, its default): a PostgreSQL
   * collation name, or "database" for the database's default. Defaults to "C", SQLite's byte order.
   */
  readonly textCollation?: pulumi.Input<string>;
  /** Change this value to re-run verification with nothing else changed. Defaults to "". */
  readonly verifyTrigger?: pulumi.Input<string>;
  /**
   * Defaults to false: the SQLite file is never written. true installs change-capture triggers
   * so every `pulumi up` catches PostgreSQL up with writes made to SQLite since the copy.
   */
  readonly capture?: pulumi.Input<boolean>;
  /**
   * Source name -> PostgreSQL name: "table" (or view, index) or "table.column" keys, overriding
   * the automatic names of identifiers PostgreSQL cannot take (over 63 bytes, colliding). Defaults
   * to none.
   */
  readonly renames?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** `idx_<table>_<col>…`: the name an extra index gets when stack config does not name it. */
export function extraIndexName(table: string, columns: readonly string[]): string {
  return ["idx", table, ...columns].join("_");
}

/**
 * Resolves extra-index config into full specs, rejecting tables or columns the source does not
 * have: a typo in stack config should fail the preview, not a CREATE INDEX halfway through `up`.
 */
export function resolveExtraIndexes(extra: readonly ExtraIndexArg[], schema: SchemaFingerprint, renames?: Record<string, string>): IndexSpec[] {
  return extra.map((e, i) => {
    const where = `extraIndexes[${i}]`;
    const table = schema.tables[e.table];
    if (!table) throw new Error(`${where}: table "${e.table}" is not in the source; use one of ${Object.keys(schema.tables).sort().join(", ")}.`);
    if (!Array.isArray(e.columns) || e.columns.length === 0) throw new Error(`${where}: columns must list at least one column of "${e.table}".`);
    const known = table.columns.map(columnName);
    const missing = e.columns.filter((c) => !known.includes(c));
    if (missing.length > 0) throw new Error(`${where}: column(s) ${missing.join(", ")} not in table "${e.table}"; it has ${known.join(", ")}.`);
    // Specs name the target's objects: the table and columns as PostgreSQL has them (names.ts).
    return { name: e.name ?? extraIndexName(e.table, e.columns), table: tableNameOf(e.table, renames), columns: e.columns.map((c) => columnNameOf(e.table, c, renames)), unique: e.unique ?? false };
  });
}

/**
 * Engine results become resource inputs, which must be plain JSON. A JSON round trip guarantees
 * that, and re-creates arrays in this realm: arrays built by native code (better-sqlite3 rows)
 * fail `instanceof Array` under jest's VM realm, and Pulumi would then serialize them as objects.
 */
function plainJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export class Migration extends pulumi.ComponentResource {
  public readonly schema: MigrationSchema;
  /** The change capture, or undefined when `capture` is off. */
  public readonly capture: pulumi.Output<MigrationCapture | undefined>;
  public readonly data: MigrationData;
  public readonly indexes: MigrationIndexes;
  public readonly verification: MigrationVerification;
  /**
   * PostgreSQL-side capture replayed into SQLite on destroy, or undefined when `capture` is off.
   * Whatever switches the app to PostgreSQL must depend on it (infra/stack.ts `switchAfter`):
   * then the app's writes are captured from its first one, and destroy stops the app before the
   * replay.
   */
  public readonly rollbackGuard: pulumi.Output<MigrationRollbackGuard | undefined>;
  /** The last verification's per-table report (counts, checksums, timings). */
  public readonly report: pulumi.Output<VerifyReport>;

  constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("armp:migrate:Migration", name, {}, opts);

    // The URL carries the password: make it secret here so no caller can forget.
    const targetUrl = pulumi.secret(args.targetUrl);
    const targetSchema = pulumi.output(args.targetSchema ?? "public");
    const jobs = pulumi.output(args.jobs ?? 2);
    const castOverrides = pulumi.output(args.castOverrides ?? {});
    const timestamptz = pulumi.output(args.timestamptz ?? false);
    const strictTypes = pulumi.output(args.strictTypes ?? false);
    const epochs = pulumi.output(args.epochs ?? {});
    const textCollation = pulumi.output(args.textCollation ?? "C");
    const sourcePath = pulumi.output(args.sourcePath);
    // Absent unless configured, so the resources' inputs stay as they were for stacks without it.
    const renamesArg = args.renames === undefined ? undefined : pulumi.output(args.renames);
    const renames = renamesArg ?? pulumi.output<Record<string, string>>({});
    const named = renamesArg ? { renames: renamesArg } : {};

    // Read-only and synchronous; they run on every preview so the plan is concrete.
    // A column no type can hold (or any widening under strictTypes) fails the preview here, with
    // the engine's TYPE_MISMATCH naming table, column and key: before any resource is touched.
    const refused = (e: unknown): never => {
      if (isMigrationError(e)) throw new pulumi.ResourceError(`[${e.code}] ${e.message}`, this, true);
      throw e;
    };
    const schemaFingerprint = pulumi.all([sourcePath, castOverrides, timestamptz, textCollation, strictTypes, epochs, renames]).apply(([p, co, tz, tc, st, ep, rn]) => {
      try {
        return plainJson(fingerprintSchema(path.resolve(p), { castOverrides: co, timestamptz: tz, textCollation: tc, strictTypes: st, epochs: ep, renames: rn }));
      } catch (e) {
        return refused(e);
      }
    });
    const dataFingerprint = sourcePath.apply((p) => plainJson(fingerprintData(path.resolve(p))));
    // Casts decide which columns are boolean, and so how partial-index predicates are translated.
    const srcIndexes = pulumi.all([sourcePath, castOverrides, timestamptz, strictTypes, epochs, renames]).apply(([p, co, tz, st, ep, rn]) => {
      try {
        return plainJson(sourceIndexes(path.resolve(p), { castOverrides: co, timestamptz: tz, strictTypes: st, epochs: ep, renames: rn }));
      } catch (e) {
        return refused(e);
      }
    });
    const fkIndexes = pulumi.all([sourcePath, renames]).apply(([p, rn]) => plainJson(fkCoveringIndexes(path.resolve(p), { renames: rn })));
    const extraIndexes = pulumi.all([pulumi.output(args.extraIndexes ?? []), schemaFingerprint, renames]).apply(([extra, fp, rn]) => {
      try {
        return resolveExtraIndexes(extra as ExtraIndexArg[], fp, rn);
      } catch (e) {
        // hideStack: a config mistake; the message names the entry, a stack trace would bury it.
        throw new pulumi.ResourceError((e as Error).message, this, true);
      }
    });

    this.schema = new MigrationSchema(
      `${name}-schema`,
      { sourcePath, schemaFingerprint, targetUrl, targetSchema, castOverrides, timestamptz, strictTypes, epochs, textCollation, ...named },
      { parent: this },
    );
    // Registered only when on (off must not even touch the file), decided from the resolved
    // value: stack config is always known, so preview shows the resource when it is enabled.
    const sourceTables = schemaFingerprint.apply((fp) => Object.keys(fp.tables).sort());
    this.capture = pulumi
      .output(args.capture ?? false)
      .apply((on) => (on ? new MigrationCapture(`${name}-capture`, { sourcePath, tables: sourceTables }, { parent: this }) : undefined));
    // Capture exists before the copy starts, so writes made during the copy are in its changelog.
    // captureId stays absent when off: the data resource's inputs are then exactly as before.
    const captureId = this.capture.apply((c) => (c ? c.captureId.apply((id): string | undefined => id) : pulumi.output<string | undefined>(undefined)));
    this.data = new MigrationData(
      `${name}-data`,
      { schemaId: this.schema.id, tables: this.schema.tables, dataFingerprint, jobs, sourcePath, targetUrl, targetSchema, captureId, ...named },
      { parent: this, dependsOn: this.capture.apply((c) => (c ? [this.schema, c] : [this.schema])) },
    );
    this.indexes = new MigrationIndexes(
      `${name}-indexes`,
      { schemaId: this.schema.id, sourceIndexes: srcIndexes, fkIndexes, extraIndexes, targetUrl, targetSchema },
      { parent: this, dependsOn: [this.data] },
    );
    this.verification = new MigrationVerification(
      `${name}-verification`,
      {
        sourcePath,
        targetUrl,
        targetSchema,
        tables: this.data.copiedTables,
        dataHash: this.data.dataFingerprint.apply((f) => f.hash),
        indexNames: this.indexes.indexNames,
        trigger: pulumi.output(args.verifyTrigger ?? ""),
        ...named,
      },
      { parent: this, dependsOn: [this.data, this.indexes] },
    );
    // After verification (the switch's gate), so its triggers record only the app's writes; it
    // depends on capture too, so destroy replays into SQLite before the SQLite triggers go.
    this.rollbackGuard = this.capture.apply((c) =>
      c
        ? new MigrationRollbackGuard(
            `${name}-rollback-guard`,
            { sourcePath, targetUrl, targetSchema, ...named },
            { parent: this, dependsOn: [this.verification, this.data, c] },
          )
        : undefined,
    );
    this.report = this.verification.report;
    this.registerOutputs({ report: this.report });
  }
}
