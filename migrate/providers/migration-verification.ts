/** The MigrationVerification resource: source and target compared; fails `pulumi up` on mismatch. */
import * as pulumi from "@pulumi/pulumi";
import type { VerifyReport } from "../engine";
import { verificationProvider } from "./dynamic-providers";
import { DYNAMIC_MODULE, withSecretTarget } from "./resource-options";

export interface MigrationVerificationArgs {
  readonly sourcePath: pulumi.Input<string>;
  /** Stored as a secret. */
  readonly targetUrl: pulumi.Input<string>;
  readonly targetSchema: pulumi.Input<string>;
  /** The MigrationData's `copiedTables`. */
  readonly tables: pulumi.Input<pulumi.Input<string>[]>;
  /** The MigrationData's fingerprint hash, so a re-copy re-verifies. */
  readonly dataHash: pulumi.Input<string>;
  /** The MigrationIndexes' `indexNames`, so an index change re-verifies. */
  readonly indexNames: pulumi.Input<pulumi.Input<string>[]>;
  /** Change to re-verify with nothing else changed. */
  readonly trigger: pulumi.Input<string>;
  /** The schema's renames (MigrationArgs.renames). */
  readonly renames?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class MigrationVerification extends pulumi.dynamic.Resource {
  declare public readonly sourcePath: pulumi.Output<string>;
  declare public readonly targetUrl: pulumi.Output<string>;
  declare public readonly targetSchema: pulumi.Output<string>;
  declare public readonly tables: pulumi.Output<string[]>;
  declare public readonly dataHash: pulumi.Output<string>;
  declare public readonly indexNames: pulumi.Output<string[]>;
  declare public readonly trigger: pulumi.Output<string>;
  /** Per-table counts, checksums and timings of the last successful verification. */
  declare public readonly report: pulumi.Output<VerifyReport>;

  constructor(name: string, args: MigrationVerificationArgs, opts?: pulumi.CustomResourceOptions) {
    super(verificationProvider, name, { ...args, report: undefined }, withSecretTarget(opts), DYNAMIC_MODULE, "MigrationVerification");
  }
}
