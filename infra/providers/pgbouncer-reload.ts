/**
 * `PgBouncerReload` — applies a pgbouncer.ini change to the running container with a reload
 * instead of a new container (docs/README-infra.md). The work lives in pgbouncer-reload-impl.ts;
 * the methods load the compiled file like EnvFile's (docs/CONTRACTS.md, "Dynamic provider module
 * loading").
 */
import * as pulumi from "@pulumi/pulumi";
import type { PgBouncerReloadInputs } from "./pgbouncer-reload-impl";

function impl(): typeof import("./pgbouncer-reload-impl") {
  return require("./dist/infra/providers/pgbouncer-reload-impl");
}

export const pgbouncerReloadProvider: pulumi.dynamic.ResourceProvider<PgBouncerReloadInputs, PgBouncerReloadInputs> = {
  async create(inputs: PgBouncerReloadInputs) {
    return impl().create(inputs);
  },
  async diff(_id: string, olds: PgBouncerReloadInputs, news: PgBouncerReloadInputs) {
    return impl().diff(olds, news);
  },
  async update(_id: string, olds: PgBouncerReloadInputs, news: PgBouncerReloadInputs) {
    return impl().update(olds, news);
  },
};

export interface PgBouncerReloadArgs {
  readonly container: pulumi.Input<string>;
  readonly file: pulumi.Input<string>;
  readonly ini: pulumi.Input<string>;
  readonly settings: pulumi.Input<Record<string, string>>;
}

export class PgBouncerReload extends pulumi.dynamic.Resource {
  declare public readonly settings: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: PgBouncerReloadArgs, opts?: pulumi.CustomResourceOptions) {
    super(pgbouncerReloadProvider, name, { ...args }, opts, "infra", "PgBouncerReload");
  }
}
