/** The MigrationData resource: the source's rows, copied into the schema's tables. */
import * as pulumi from "@pulumi/pulumi";
import type { CopyReport, DataFingerprint } from "../engine";
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
}

export class MigrationData extends pulumi.dynamic.Resource {
  public readonly schemaId!: pulumi.Output<string>;
  public readonly tables!: pulumi.Output<string[]>;
  public readonly dataFingerprint!: pulumi.Output<DataFingerprint>;
  public readonly jobs!: pulumi.Output<number>;
  public readonly sourcePath!: pulumi.Output<string>;
  public readonly targetUrl!: pulumi.Output<string>;
  public readonly targetSchema!: pulumi.Output<string>;
  /** Tables holding rows this resource copied (truncated on delete). */
  public readonly copiedTables!: pulumi.Output<string[]>;
  /** The engine's report of the last copy. */
  public readonly copyReport!: pulumi.Output<CopyReport>;

  constructor(name: string, args: MigrationDataArgs, opts?: pulumi.CustomResourceOptions) {
    super(dataProvider, name, { ...args, copiedTables: undefined, copyReport: undefined }, withSecretTarget(opts), DYNAMIC_MODULE, "MigrationData");
  }
}
