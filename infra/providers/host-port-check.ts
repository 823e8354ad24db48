/**
 * `HostPortCheck` — refuses, at preview, a host port that something other than this stack's own
 * container already holds, naming the config key to set (host-port-check-impl.ts says how "our
 * own" is told apart). The containers that publish the port depend on it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostPortCheckInputs } from "./host-port-check-impl";

function impl(): typeof import("./host-port-check-impl") {
  return require("./dist/infra/providers/host-port-check-impl");
}

export const hostPortCheckProvider: pulumi.dynamic.ResourceProvider<HostPortCheckInputs, HostPortCheckInputs> = {
  async check(olds: HostPortCheckInputs, news: HostPortCheckInputs) {
    return impl().check(olds, news);
  },
  async create(inputs: HostPortCheckInputs) {
    return impl().create(inputs);
  },
  async diff(_id: string, olds: HostPortCheckInputs, news: HostPortCheckInputs) {
    return impl().diff(olds, news);
  },
  async update(_id: string, _olds: HostPortCheckInputs, news: HostPortCheckInputs) {
    return { outs: news };
  },
};

export interface HostPortCheckArgs {
  readonly key: pulumi.Input<string>;
  readonly address: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
}

export class HostPortCheck extends pulumi.dynamic.Resource {
  constructor(name: string, args: HostPortCheckArgs, opts?: pulumi.CustomResourceOptions) {
    super(hostPortCheckProvider, name, { ...args }, opts, "infra", "HostPortCheck");
  }
}
