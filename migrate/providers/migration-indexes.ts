/** The MigrationIndexes resource: source, FK-covering and extra indexes, built after the copy. */
import * as pulumi from "@pulumi/pulumi";
import type { IndexSpec } from "../engine";
import { indexesProvider } from "./dynamic-providers";
import { DYNAMIC_MODULE, withSecretTarget } from "./resource-options";

export interface MigrationIndexesArgs {
  /** The MigrationSchema's id: rebuilt tables lose their indexes, so these are rebuilt too. */
  readonly schemaId: pulumi.Input<string>;
  readonly sourceIndexes: pulumi.Input<IndexSpec[]>;
  readonly fkIndexes: pulumi.Input<IndexSpec[]>;
  /** Fully named specs (the component derives missing names). */
  readonly extraIndexes: pulumi.Input<IndexSpec[]>;
  /** Stored as a secret. */
  readonly targetUrl: pulumi.Input<string>;
  readonly targetSchema: pulumi.Input<string>;
}

export class MigrationIndexes extends pulumi.dynamic.Resource {
  declare public readonly schemaId: pulumi.Output<string>;
  declare public readonly sourceIndexes: pulumi.Output<IndexSpec[]>;
  declare public readonly fkIndexes: pulumi.Output<IndexSpec[]>;
  declare public readonly extraIndexes: pulumi.Output<IndexSpec[]>;
  declare public readonly targetUrl: pulumi.Output<string>;
  declare public readonly targetSchema: pulumi.Output<string>;
  /** Names of the indexes this resource owns (dropped on delete). */
  declare public readonly indexNames: pulumi.Output<string[]>;

  constructor(name: string, args: MigrationIndexesArgs, opts?: pulumi.CustomResourceOptions) {
    super(indexesProvider, name, { ...args, indexNames: undefined }, withSecretTarget(opts), DYNAMIC_MODULE, "MigrationIndexes");
  }
}
