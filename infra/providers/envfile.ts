/**
 * `EnvFile` — writes DATABASE_URL & co. into the app's env file and, on `pulumi destroy`, restores
 * the file the app had before (the seed's rollback: DATABASE_URL back to SQLite). The file system
 * work lives in envfile-impl.ts; the provider methods only load it and delegate.
 */
import * as pulumi from "@pulumi/pulumi";
import type { EnvFileInputs, EnvFileOutputs } from "./envfile-impl";

/**
 * The provider host evaluates the serialized provider with require-from-string, so a relative
 * require resolves against the host's cwd — the project directory — and must point into the
 * compiled tree (docs/CONTRACTS.md, "Dynamic provider module loading"). Requiring inside the
 * methods also means `read`/`delete` of an old state run the code that is on disk now.
 */
function envFileImpl(): typeof import("./envfile-impl") {
  return require("./dist/infra/providers/envfile-impl");
}

export const envFileProvider: pulumi.dynamic.ResourceProvider<EnvFileInputs, EnvFileOutputs> = {
  async create(inputs: EnvFileInputs) {
    return envFileImpl().create(inputs);
  },
  async diff(_id: string, olds: EnvFileOutputs, news: EnvFileInputs) {
    return envFileImpl().diff(olds, news);
  },
  async update(_id: string, olds: EnvFileOutputs, news: EnvFileInputs) {
    return envFileImpl().update(olds, news);
  },
  async delete(_id: string, props: EnvFileOutputs) {
    envFileImpl().remove(props);
  },
};

export interface EnvFileArgs {
  /** The app's env file, relative to the project directory or absolute. */
  readonly path: pulumi.Input<string>;
  /** KEY -> value; held as a secret in state (the URLs carry passwords). */
  readonly values: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

// `declare` fields: with target ES2022 (useDefineForClassFields) a `x!:` field would be
// re-initialised to undefined after super() has set the output, losing it.
export class EnvFile extends pulumi.dynamic.Resource {
  declare public readonly path: pulumi.Output<string>;
  declare public readonly values: pulumi.Output<Record<string, string>>;
  declare public readonly existed: pulumi.Output<boolean>;
  declare public readonly backupPath: pulumi.Output<string>;
  declare public readonly originalSha256: pulumi.Output<string>;
  declare public readonly originalMode: pulumi.Output<number>;

  constructor(name: string, args: EnvFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      envFileProvider,
      name,
      {
        path: args.path,
        // Secret even if a caller passes plain values: the file's contents are credentials.
        values: pulumi.secret(args.values),
        existed: undefined,
        backupPath: undefined,
        originalSha256: undefined,
        originalMode: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["values"] }),
      "infra",
      "EnvFile",
    );
  }
}
