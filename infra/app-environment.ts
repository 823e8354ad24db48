/**
 * AppEnvironment — what the app needs to talk to PostgreSQL: DATABASE_URL (through pgBouncer when
 * it runs), DIRECT_DATABASE_URL (straight to PostgreSQL, for migrations and advisory locks, which
 * transaction pooling breaks), ENVIRONMENT and LOG_LEVEL. Optionally writes them into the app's env
 * file (restored on destroy) and runs the app container with them.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { EnvFile } from "./providers/envfile";

export interface AppEnvironmentArgs {
  /** URL the app uses on the host: pgBouncer's when enabled, else PostgreSQL's (secret). */
  readonly databaseUrl: pulumi.Input<string>;
  /** URL straight to PostgreSQL, on the host (secret). */
  readonly directDatabaseUrl: pulumi.Input<string>;
  /** The same two URLs as seen from a container on the stack's network (secret). Default to the host URLs. */
  readonly containerDatabaseUrl?: pulumi.Input<string>;
  readonly containerDirectDatabaseUrl?: pulumi.Input<string>;
  /** Defaults to "production". */
  readonly environment?: pulumi.Input<string>;
  /** Defaults to "info". */
  readonly logLevel?: pulumi.Input<string>;
  /** App env file to write; none when undefined. */
  readonly envFile?: pulumi.Input<string>;
  /** App image to run with the environment; no container when undefined. */
  readonly appImage?: pulumi.Input<string>;
  /** Port the app listens on inside its container. Defaults to 8000. */
  readonly appPort?: pulumi.Input<number>;
  /** Host port for the app. Defaults to 8000. */
  readonly appHostPort?: pulumi.Input<number>;
  /** Host address for the app's port. Defaults to "127.0.0.1". */
  readonly bindAddress?: pulumi.Input<string>;
  /** Network to join (docker mode). */
  readonly networkName?: pulumi.Input<string | undefined>;
  /**
   * Resources that must succeed before the app is pointed at PostgreSQL (the migration's
   * verification: the gated cut-over). The env file and the app container depend on them
   * directly — a component's dependsOn is not inherited by its children. With capture on it also
   * holds the migration's rollback guard: dependents are destroyed first, so the app is stopped
   * (container) or switched back (env file) before the guard replays its writes into SQLite.
   */
  readonly switchAfter?: pulumi.Input<pulumi.Resource[]>;
}

export class AppEnvironment extends pulumi.ComponentResource {
  /** Secret. */
  public readonly databaseUrl: pulumi.Output<string>;
  /** Secret. */
  public readonly directDatabaseUrl: pulumi.Output<string>;
  public readonly environment: pulumi.Output<string>;
  public readonly logLevel: pulumi.Output<string>;
  /** The variables as written to the env file (secret). */
  public readonly variables: pulumi.Output<Record<string, string>>;
  public readonly envFile?: EnvFile;
  public readonly appContainer?: docker.Container;

  constructor(name: string, args: AppEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("armp:infra:AppEnvironment", name, {}, opts);
    this.databaseUrl = pulumi.secret(args.databaseUrl);
    this.directDatabaseUrl = pulumi.secret(args.directDatabaseUrl);
    this.environment = pulumi.output(args.environment ?? "production");
    this.logLevel = pulumi.output(args.logLevel ?? "info");
    const vars = (db: pulumi.Input<string>, direct: pulumi.Input<string>): pulumi.Output<Record<string, string>> =>
      pulumi.secret(
        pulumi.all([db, direct, this.environment, this.logLevel]).apply(([d, dd, env, level]): Record<string, string> => ({
          DATABASE_URL: d,
          DIRECT_DATABASE_URL: dd,
          ENVIRONMENT: env,
          LOG_LEVEL: level,
        })),
      );
    this.variables = vars(this.databaseUrl, this.directDatabaseUrl);

    if (args.envFile !== undefined) {
      this.envFile = new EnvFile(`${name}-envfile`, { path: args.envFile, values: this.variables }, { parent: this, dependsOn: args.switchAfter ?? [] });
    }

    if (args.appImage !== undefined) {
      const inContainer = vars(args.containerDatabaseUrl ?? args.databaseUrl, args.containerDirectDatabaseUrl ?? args.directDatabaseUrl);
      const image = new docker.RemoteImage(`${name}-app-image`, { name: args.appImage, keepLocally: true }, { parent: this });
      this.appContainer = new docker.Container(
        `${name}-app`,
        {
          image: image.imageId,
          envs: inContainer.apply((v) => Object.entries(v).map(([k, val]) => `${k}=${val}`)),
          ports: [{ internal: args.appPort ?? 8000, external: args.appHostPort ?? 8000, ip: args.bindAddress ?? "127.0.0.1" }],
          networksAdvanced: pulumi.output(args.networkName).apply((n) => (n ? [{ name: n }] : [])),
          restart: "unless-stopped",
        },
        { parent: this, deleteBeforeReplace: true, dependsOn: args.switchAfter ?? [] },
      );
    }

    this.registerOutputs({
      databaseUrl: this.databaseUrl,
      directDatabaseUrl: this.directDatabaseUrl,
      environment: this.environment,
      logLevel: this.logLevel,
    });
  }
}
