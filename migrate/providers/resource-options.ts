/** Options every migration resource shares. */
import type * as pulumi from "@pulumi/pulumi";

/** The dynamic-resource module in type tokens: `pulumi-nodejs:dynamic/migrate:<Type>`. */
export const DYNAMIC_MODULE = "migrate";

/**
 * Forwards the caller's options and marks `targetUrl` secret in state even if the caller passed
 * a plain string: the URL carries the password, and credentials are never plain outputs.
 */
export function withSecretTarget(opts: pulumi.CustomResourceOptions | undefined): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: [...new Set([...(opts?.additionalSecretOutputs ?? []), "targetUrl"])] };
}
