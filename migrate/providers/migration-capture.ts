/** The MigrationCapture resource: change-capture triggers in the SQLite source (opt-in, issue 6). */
import * as pulumi from "@pulumi/pulumi";
import { captureProvider } from "./dynamic-providers";
import { DYNAMIC_MODULE } from "./resource-options";

export interface MigrationCaptureArgs {
  readonly sourcePath: pulumi.Input<string>;
  /** The source's table names (program time), so a new table gets its triggers. */
  readonly tables: pulumi.Input<pulumi.Input<string>[]>;
}

export class MigrationCapture extends pulumi.dynamic.Resource {
  declare public readonly sourcePath: pulumi.Output<string>;
  declare public readonly tables: pulumi.Output<string[]>;
  /** The installation id (`_armp_capture.id`); MigrationData syncs against it. */
  declare public readonly captureId: pulumi.Output<string>;
  /** Tables carrying capture triggers. */
  declare public readonly capturedTables: pulumi.Output<string[]>;

  constructor(name: string, args: MigrationCaptureArgs, opts?: pulumi.CustomResourceOptions) {
    super(captureProvider, name, { ...args, captureId: undefined, capturedTables: undefined }, opts, DYNAMIC_MODULE, "MigrationCapture");
  }
}
