/** The MigrationData resource: the source's rows, copied into the schema's tables. */
import * as pulumi from "@pulumi/pulumi";
import type { CopyReport, DataFingerprint, SyncReport } from "../engine";
import { dataProvider } from "./dynamic-providers";
import { DYNAMIC_MODULE, withSecretTarget } from "./resource-options";

export interface MigrationDataArgs {
  /** The MigrationSchema's id: when the schema is rebuilt, the data is copied afresh. */
  readonly schemaId: pulumi.Input<string>;
  /** The MigrationSchema's `tables` output. */
  readonly tables: pulumi.Input<pulumi.Input<string>[]>;
  /** engine `fingerprintData(sourcePath)`, computed by the program. */
  readonly dataFingerprint: pulumi.Input<DataFingerprint>;
  /** Tables copied in parallel. */
  readonly jobs: pulumi.Input<number>;
  readonly sourcePath: pulumi.Input<string>;
  /** Stored as a secret. */
  readonly targetUrl: pulumi.Input<string>;
  readonly targetSchema: pulumi.Input<string>;
  /** MigrationCapture's `captureId`; set only when capture is on (update then syncs). */
  readonly captureId?: pulumi.Input<string | undefined>;
  /** The schema's renames (MigrationArgs.renames). */
  readonly renames?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class MigrationData extends pulumi.dynamic.Resource {
  declare public readonly schemaId: pulumi.Output<string>;
  declare public readonly tables: pulumi.Output<string[]>;
  declare public readonly dataFingerprint: pulumi.Output<DataFingerprint>;
  declare public readonly jobs: pulumi.Output<number>;
  declare public readonly sourcePath: pulumi.Output<string>;
  declare public readonly targetUrl: pulumi.Output<string>;
  declare public readonly targetSchema: pulumi.Output<string>;
  /** Tables holding rows this resource copied (truncated on delete). */
  declare public readonly copiedTables: pulumi.Output<string[]>;
  /** The engine's report of the last copy. */
  declare public readonly copyReport: pulumi.Output<CopyReport>;
  /** The last sync's report (applied, pending, oldestPendingSeconds); null when capture is off. */
  declare public readonly syncReport: pulumi.Output<SyncReport | null>;

  constructor(name: string, args: MigrationDataArgs, opts?: pulumi.CustomResourceOptions) {
    super(dataProvider, name, { ...args, copiedTables: undefined, copyReport: undefined, syncReport: undefined }, withSecretTarget(opts), DYNAMIC_MODULE, "MigrationData");
  }
}
