/**
 * The MigrationRollbackGuard resource: PostgreSQL-side capture installed after verification,
 * replayed into SQLite on `pulumi destroy`. Registered only with capture on.
 */
import * as pulumi from "@pulumi/pulumi";
import { rollbackGuardProvider } from "./dynamic-providers";
import { DYNAMIC_MODULE, withSecretTarget } from "./resource-options";

export interface MigrationRollbackGuardArgs {
  readonly sourcePath: pulumi.Input<string>;
  /** Stored as a secret. */
  readonly targetUrl: pulumi.Input<string>;
  readonly targetSchema: pulumi.Input<string>;
  /** The schema's renames (MigrationArgs.renames). */
  readonly renames?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class MigrationRollbackGuard extends pulumi.dynamic.Resource {
  declare public readonly sourcePath: pulumi.Output<string>;
  declare public readonly targetUrl: pulumi.Output<string>;
  declare public readonly targetSchema: pulumi.Output<string>;
  /** Target tables carrying the PostgreSQL capture trigger. */
  declare public readonly capturedTables: pulumi.Output<string[]>;

  constructor(name: string, args: MigrationRollbackGuardArgs, opts?: pulumi.CustomResourceOptions) {
    super(rollbackGuardProvider, name, { ...args, capturedTables: undefined }, withSecretTarget(opts), DYNAMIC_MODULE, "MigrationRollbackGuard");
  }
}
