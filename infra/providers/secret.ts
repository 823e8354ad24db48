/**
 * `armp:infra:Secret` — a random password and a SCRAM salt generated once, at create, and kept in
 * the stack's state (the password as a secret output). Later `pulumi up` runs read them back from
 * state instead of generating new ones, so the role's password and the SCRAM verifier derived from
 * them stay byte-identical across runs — which pgBouncer's userlist depends on. This
 * replaces @pulumi/random, whose plugin is not available here. Changing `length` replaces it
 * (a new password, and with it a new verifier: a deliberate rotation).
 */
import * as pulumi from "@pulumi/pulumi";

export interface SecretInputs {
  length: number;
}

export interface SecretOutputs extends SecretInputs {
  /** base64url, `length` random bytes: URL-safe, so it can sit in a DATABASE_URL unescaped. */
  value: string;
  /** base64 of 16 random bytes, the SCRAM salt (PostgreSQL's own salt length). */
  salt: string;
}

// Object literal with only Node built-ins inside the methods: the closure serializer captures
// nothing from this module, and no compiled code is needed at deploy time.
export const secretProvider: pulumi.dynamic.ResourceProvider<SecretInputs, SecretOutputs> = {
  async create(inputs: SecretInputs) {
    const crypto = require("crypto") as typeof import("crypto");
    const outs = {
      length: inputs.length,
      value: crypto.randomBytes(inputs.length).toString("base64url"),
      salt: crypto.randomBytes(16).toString("base64"),
    } satisfies SecretOutputs;
    return { id: crypto.randomUUID(), outs };
  },
  async diff(_id: string, olds: SecretOutputs, news: SecretInputs) {
    const replace = olds.length !== news.length;
    return { changes: replace, replaces: replace ? ["length"] : [] };
  },
};

export interface SecretArgs {
  /** Random bytes in the password. Defaults to 24 (32 base64url characters). */
  readonly length?: pulumi.Input<number>;
}

// `declare` fields: with target ES2022 (useDefineForClassFields) a `x!:` field would be
// re-initialised to undefined after super() has set the output, losing it.
export class Secret extends pulumi.dynamic.Resource {
  declare public readonly length: pulumi.Output<number>;
  /** The generated password; a secret output. */
  declare public readonly value: pulumi.Output<string>;
  declare public readonly salt: pulumi.Output<string>;

  constructor(name: string, args: SecretArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(
      secretProvider,
      name,
      { length: args.length ?? 24, value: undefined, salt: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["value"] }),
      "infra",
      "Secret",
    );
  }
}
