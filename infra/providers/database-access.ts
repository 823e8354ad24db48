/**
 * `DatabaseAccess` — the app database's privileges (PUBLIC revoked, the owner's own, CONNECT for
 * the healthcheck role) and the check that the app role still logs in with the stack's password.
 * The SQL lives in database-access-impl.ts; the provider methods load it from dist/ and delegate
 * (docs/CONTRACTS.md, "Dynamic provider module loading").
 *
 * Drift heals: read() (refresh) records what the server has, and diff() turns any difference from
 * the desired state into an update that re-applies it, so a REVOKE or an `ALTER ROLE ... PASSWORD`
 * made by hand shows in `pulumi preview --refresh` and is undone by `pulumi up --refresh` — also
 * for an admin that is not a superuser, where the postgresql provider cannot read passwords back.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseAccessInputs, DatabaseAccessOutputs } from "./database-access-impl";

/**
 * cwd-relative like every provider's compiled code (the host runs in the project directory);
 * spelled as an absolute path so that a test loading this module from source finds it too.
 */
function impl(): typeof import("./database-access-impl") {
  return require((require("path") as typeof import("path")).join(process.cwd(), "dist/infra/providers/database-access-impl"));
}

/** The provider host strips secret envelopes before calling these methods; inputs are plain here. */
function inputsOf(p: DatabaseAccessInputs): DatabaseAccessInputs {
  return { adminUrl: p.adminUrl, database: p.database, owner: p.owner, connectRoles: [...p.connectRoles], ownerVerifier: p.ownerVerifier, ownerUrl: p.ownerUrl };
}

/** Errors leave the provider with the code first and without the URLs' passwords (engine/url.ts scrubSecrets, from dist/ like impl()). */
function clean(e: unknown, ...bags: Partial<DatabaseAccessInputs>[]): Error {
  const err = e as Error & { code?: string };
  const text = `${err.code ? `${err.code}: ` : ""}${err.message ?? String(e)}`;
  const urls = bags.flatMap((b) => [b.adminUrl, b.ownerUrl]).filter((u): u is string => !!u);
  const { scrubSecrets } = require((require("path") as typeof import("path")).join(process.cwd(), "dist/migrate/engine/url")) as typeof import("../../migrate/engine/url");
  const out = new Error(scrubSecrets(text, urls));
  out.name = err.name ?? "Error";
  return out;
}

export const databaseAccessProvider: pulumi.dynamic.ResourceProvider<DatabaseAccessInputs, DatabaseAccessOutputs> = {
  async create(inputs: DatabaseAccessInputs) {
    const i = inputsOf(inputs);
    try {
      const observed = await impl().apply(i);
      return { id: `access-${i.database}`, outs: { ...i, observed } };
    } catch (e) {
      throw clean(e, i);
    }
  },
  async diff(_id: string, olds: DatabaseAccessOutputs, news: DatabaseAccessInputs) {
    const o = inputsOf(olds);
    const n = inputsOf(news);
    const changed = (Object.keys(n) as (keyof DatabaseAccessInputs)[]).filter((k) => JSON.stringify(o[k]) !== JSON.stringify(n[k]));
    // A recorded difference (only a refresh records one) is an update, never "unchanged".
    const drift = olds.observed !== undefined && impl().differences(impl().desired(o), olds.observed).length > 0;
    return { changes: changed.length > 0 || drift, replaces: [], deleteBeforeReplace: false };
  },
  async update(_id: string, olds: DatabaseAccessOutputs, news: DatabaseAccessInputs) {
    const n = inputsOf(news);
    try {
      const heal = olds.observed?.ownerLogin === false;
      const observed = await impl().apply(n, olds, heal);
      return { outs: { ...n, observed } };
    } catch (e) {
      throw clean(e, olds, n);
    }
  },
  async read(id: string, props?: DatabaseAccessOutputs) {
    if (props === undefined) throw new Error("CONFIG_INVALID: DatabaseAccess cannot be imported; let the stack create it.");
    const i = inputsOf(props);
    try {
      return { id, props: { ...i, observed: await impl().observe(i) } };
    } catch (e) {
      throw clean(e, i);
    }
  },
  async delete(_id: string, props: DatabaseAccessOutputs) {
    try {
      await impl().remove(props);
    } catch (e) {
      throw clean(e, props);
    }
  },
};

export interface DatabaseAccessArgs {
  /** Secret. */
  readonly adminUrl: pulumi.Input<string>;
  readonly database: pulumi.Input<string>;
  readonly owner: pulumi.Input<string>;
  readonly connectRoles: pulumi.Input<pulumi.Input<string>[]>;
  /** Secret. */
  readonly ownerVerifier: pulumi.Input<string>;
  /** Secret. */
  readonly ownerUrl: pulumi.Input<string>;
}

// `declare` fields: with target ES2022 (useDefineForClassFields) a `x!:` field would be
// re-initialised to undefined after super() has set the output, losing it.
export class DatabaseAccess extends pulumi.dynamic.Resource {
  declare public readonly database: pulumi.Output<string>;
  declare public readonly owner: pulumi.Output<string>;
  declare public readonly connectRoles: pulumi.Output<string[]>;
  declare public readonly observed: pulumi.Output<DatabaseAccessOutputs["observed"]>;

  constructor(name: string, args: DatabaseAccessArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      databaseAccessProvider,
      name,
      {
        adminUrl: pulumi.secret(args.adminUrl),
        database: args.database,
        owner: args.owner,
        connectRoles: args.connectRoles,
        ownerVerifier: pulumi.secret(args.ownerVerifier),
        ownerUrl: pulumi.secret(args.ownerUrl),
        observed: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["adminUrl", "ownerVerifier", "ownerUrl"] }),
      "infra",
      "DatabaseAccess",
    );
  }
}
