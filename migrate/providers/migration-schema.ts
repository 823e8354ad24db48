/** The MigrationSchema resource: the source's tables, created in the target. */
import * as pulumi from "@pulumi/pulumi";
import type { SchemaFingerprint } from "../engine";
import { schemaProvider } from "./dynamic-providers";
import { DYNAMIC_MODULE, withSecretTarget } from "./resource-options";

export interface MigrationSchemaArgs {
  /** Path of the SQLite file, relative to the project directory or absolute. */
  readonly sourcePath: pulumi.Input<string>;
  /** engine `fingerprintSchema(sourcePath, mapping)`, computed by the program so preview is concrete. */
  readonly schemaFingerprint: pulumi.Input<SchemaFingerprint>;
  /** Direct PostgreSQL URL (not pgBouncer). Stored as a secret. */
  readonly targetUrl: pulumi.Input<string>;
  readonly targetSchema: pulumi.Input<string>;
  readonly castOverrides: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly timestamptz: pulumi.Input<boolean>;
  /** MigrationArgs.strictTypes. */
  readonly strictTypes: pulumi.Input<boolean>;
  /** MigrationArgs.epochs. */
  readonly epochs: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** The text collation option (MigrationArgs.textCollation). */
  readonly textCollation: pulumi.Input<string>;
  /** Source name -> PostgreSQL name (MigrationArgs.renames); absent: none. */
  readonly renames?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Outputs are `declare`d, not `x!:` fields: with target ES2022 TypeScript emits class fields
 * (useDefineForClassFields), which would reset to undefined every output the CustomResource
 * constructor just set up. The same holds for the other three resources.
 */
export class MigrationSchema extends pulumi.dynamic.Resource {
  declare public readonly sourcePath: pulumi.Output<string>;
  declare public readonly schemaFingerprint: pulumi.Output<SchemaFingerprint>;
  declare public readonly targetUrl: pulumi.Output<string>;
  declare public readonly targetSchema: pulumi.Output<string>;
  declare public readonly castOverrides: pulumi.Output<Record<string, string>>;
  declare public readonly timestamptz: pulumi.Output<boolean>;
  declare public readonly strictTypes: pulumi.Output<boolean>;
  declare public readonly epochs: pulumi.Output<Record<string, string>>;
  declare public readonly textCollation: pulumi.Output<string>;
  declare public readonly renames: pulumi.Output<Record<string, string> | undefined>;
  /** Tables this resource created (and will drop on delete). */
  declare public readonly tables: pulumi.Output<string[]>;

  constructor(name: string, args: MigrationSchemaArgs, opts?: pulumi.CustomResourceOptions) {
    super(schemaProvider, name, { ...args, tables: undefined }, withSecretTarget(opts), DYNAMIC_MODULE, "MigrationSchema");
  }
}
