/**
 * PostgresServer — where PostgreSQL runs. `docker` mode runs a pinned image on a private network
 * with its data in a named volume; `external` mode points at an existing server (Railway, RDS, a
 * local install) through a secret admin URL and creates nothing.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { postgresUrl, type PostgresMode } from "./config";
import { Secret } from "./providers/secret";

export interface PostgresServerArgs {
  /** "docker" runs a container; "external" uses `adminUrl`. Defaults to "docker". */
  readonly mode?: PostgresMode;
  /** Docker image. Defaults to "postgres:16.4-bookworm". */
  readonly image?: pulumi.Input<string>;
  /**
   * Host port the server is published on (docker mode). Defaults to 55432, not 5432: a PostgreSQL
   * already installed on the machine holds 5432, and the first `up` would fail to bind.
   */
  readonly hostPort?: pulumi.Input<number>;
  /** Host address the port is bound to (docker mode). Defaults to "127.0.0.1": not reachable from the network. */
  readonly bindAddress?: pulumi.Input<string>;
  /** Superuser name (docker mode). Defaults to "postgres". */
  readonly superuser?: pulumi.Input<string>;
  /** Superuser password (docker mode; secret). Defaults to one generated once and kept in the stack state. */
  readonly password?: pulumi.Input<string>;
  /** Admin URL of the existing server (external mode, required; secret). */
  readonly adminUrl?: pulumi.Input<string>;
  /** Non-secret parts of `adminUrl` (external mode, required): host, port, user, database, sslmode. */
  readonly admin?: { host: string; port: number; user: string; database: string; sslmode?: string };
  /** Resources the container waits for (docker mode: the host port's HostPortCheck). */
  readonly containerDependsOn?: pulumi.Resource[];
}

/** Where the data lives in the official image. */
const PGDATA = "/var/lib/postgresql/data";
const PASSWORD_FILE = "/run/armp/postgres-password";
export const DEFAULT_POSTGRES_HOST_PORT = 55432;

/**
 * The data volume's name: fixed per project and stack, so `pulumi destroy` then `pulumi up` finds
 * the retained volume again (Docker's volume create returns the existing volume of that name), and
 * preview, up and the `postgresVolume` output all show the same name. Docker allows
 * [a-zA-Z0-9][a-zA-Z0-9_.-]; anything else in a stack name becomes "-".
 */
export function postgresVolumeName(project: string, stack: string): string {
  return `${project}-${stack}-postgres-data`.replace(/[^a-zA-Z0-9_.-]/g, "-").replace(/^[^a-zA-Z0-9]+/, "");
}

/**
 * The container's command, run as root before the image's entrypoint:
 *  1. Docker's provider uploads files as root:root 0644 (its tar header sets only name, mode 0644
 *     and size), so the password file is made 0400: the entrypoint reads it as root and hands the
 *     value on in the environment before it steps down to the postgres user.
 *  2. The image applies the password only when it initialises an empty data directory. On a data
 *     directory that exists (a reattached volume after destroy + up, a replaced container, a
 *     changed armp-postgres:postgresPassword) the superuser's password is set to the file's in
 *     single-user mode (no server running yet, no connection to authenticate), so the stack's
 *     password and the cluster's always agree. The password travels on stdin, never on a command
 *     line; log_min_error_statement=panic keeps the statement (and the password) out of the log
 *     even if it fails.
 */
export function postgresCommand(): string[] {
  const sync =
    `if [ -s "$PGDATA/PG_VERSION" ]; then ` +
    `u="$(printf %s "$POSTGRES_USER" | sed 's/"/""/g')"; p="$(sed "s/'/''/g" ${PASSWORD_FILE})"; ` +
    `printf "ALTER ROLE \\"%s\\" PASSWORD '%s'\\n" "$u" "$p" | ` +
    `gosu postgres postgres --single -D "$PGDATA" -c password_encryption=scram-sha-256 -c log_min_error_statement=panic postgres >/dev/null; fi`;
  return ["sh", "-c", `chmod 0400 ${PASSWORD_FILE} && ${sync} && exec docker-entrypoint.sh postgres -c password_encryption=scram-sha-256`];
}

export class PostgresServer extends pulumi.ComponentResource {
  public readonly mode: PostgresMode;
  /** Host and port for clients on the Pulumi host (the migration, the app's env file). */
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** Host and port for containers on `networkName` (pgBouncer, the app container). */
  public readonly internalHost: pulumi.Output<string>;
  public readonly internalPort: pulumi.Output<number>;
  public readonly adminUser: pulumi.Output<string>;
  public readonly adminDatabase: pulumi.Output<string>;
  /** Secret. */
  public readonly adminPassword: pulumi.Output<string>;
  /** postgresql://admin@host:port/db (host-side); secret. */
  public readonly adminUrl: pulumi.Output<string>;
  /** sslmode for the admin connection: "disable" for the local container (loopback only). */
  public readonly sslMode: pulumi.Output<string>;
  /** Docker network the server is on; undefined in external mode. */
  public readonly networkName: pulumi.Output<string | undefined>;
  public readonly volumeName: pulumi.Output<string | undefined>;
  /** The container's name (docker mode): what `docker start`/`docker logs` take. */
  public readonly containerName: pulumi.Output<string | undefined>;
  public readonly container?: docker.Container;

  constructor(name: string, args: PostgresServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("armp:infra:PostgresServer", name, {}, opts);
    this.mode = args.mode ?? "docker";

    if (this.mode === "external") {
      if (args.adminUrl === undefined || args.admin === undefined) {
        throw new pulumi.ResourceError("armp-postgres:adminUrl is required in external mode (postgresql://user:password@host:port/database).", this);
      }
      const a = args.admin;
      this.host = pulumi.output(a.host);
      this.port = pulumi.output(a.port);
      // A server outside Docker is reached by the same name from containers (use a routable host,
      // not "localhost", if pgBouncer or the app runs in a container).
      this.internalHost = this.host;
      this.internalPort = this.port;
      this.adminUser = pulumi.output(a.user);
      this.adminDatabase = pulumi.output(a.database);
      this.adminUrl = pulumi.secret(args.adminUrl);
      this.adminPassword = pulumi.secret(pulumi.output(args.adminUrl).apply((u) => decodeURIComponent(new URL(u).password)));
      this.sslMode = pulumi.output(a.sslmode ?? "require");
      this.networkName = pulumi.output(undefined);
      this.volumeName = pulumi.output(undefined);
      this.containerName = pulumi.output(undefined);
      this.registerOutputs({ host: this.host, port: this.port, adminUrl: this.adminUrl });
      return;
    }

    const superuser = pulumi.output(args.superuser ?? "postgres");
    const hostPort = pulumi.output(args.hostPort ?? DEFAULT_POSTGRES_HOST_PORT);
    const bindAddress = pulumi.output(args.bindAddress ?? "127.0.0.1");
    // Unset: generated once and kept (secret) in the stack state, so `npm ci && pulumi up` needs no
    // secret typed in first and every later `up` sees the same password.
    const password = pulumi.secret(args.password ?? new Secret(`${name}-postgres-password`, { length: 24 }, { parent: this }).value);
    const alias = `${name}-postgres`;

    const image = new docker.RemoteImage(
      `${name}-postgres-image`,
      // keepLocally: destroying the stack should not force a re-pull on the next `up`.
      { name: args.image ?? "postgres:16.4-bookworm", keepLocally: true },
      { parent: this },
    );
    const network = new docker.Network(`${name}-network`, { driver: "bridge" }, { parent: this });
    // The data lives here. retainOnDelete: `pulumi destroy` (and a replacement) removes the volume
    // from the stack but leaves it in Docker, so a destroy never deletes the database's files;
    // `docker volume rm` is the explicit, separate step (docs/README-infra.md).
    const volume = new docker.Volume(
      `${name}-postgres-data`,
      { name: postgresVolumeName(pulumi.getProject(), pulumi.getStack()) },
      { parent: this, retainOnDelete: true },
    );

    this.container = new docker.Container(
      `${name}-postgres`,
      {
        image: image.imageId,
        envs: [
          pulumi.interpolate`POSTGRES_USER=${superuser}`,
          // The official image reads the password from this file; unlike POSTGRES_PASSWORD it does
          // not show up in `docker inspect`.
          `POSTGRES_PASSWORD_FILE=${PASSWORD_FILE}`,
          "POSTGRES_DB=postgres",
          // pg_hba.conf: SCRAM for every TCP connection (pgBouncer's pass-through needs SCRAM).
          "POSTGRES_HOST_AUTH_METHOD=scram-sha-256",
          `PGDATA=${PGDATA}`,
        ],
        // password_encryption: the default since PostgreSQL 14, pinned so a verifier set by the
        // stack and one set by `ALTER ROLE ... PASSWORD` are the same kind.
        command: postgresCommand(),
        uploads: [{ file: PASSWORD_FILE, content: password }],
        healthcheck: {
          // -h 127.0.0.1: the entrypoint's initdb phase runs a socket-only server; over TCP the
          // check passes only once the real server accepts connections.
          tests: ["CMD-SHELL", pulumi.interpolate`pg_isready -h 127.0.0.1 -p 5432 -U ${superuser} -d postgres`],
          interval: "5s",
          timeout: "3s",
          retries: 12,
          startPeriod: "10s",
        },
        ports: [{ internal: 5432, external: hostPort, ip: bindAddress }],
        volumes: [{ volumeName: volume.name, containerPath: PGDATA }],
        // The alias is the host name pgBouncer and the app container use (distinct per component:
        // two containers sharing an alias would split DNS answers between them).
        networksAdvanced: [{ name: network.name, aliases: [alias] }],
        restart: "unless-stopped",
        // mustRun false: with true (the provider's default) `pulumi refresh` DELETES a stopped
        // container and then fails; a stopped server is healed by `docker start` instead
        // (docs/README-infra.md, runbook).
        mustRun: false,
        // Block until healthy, so the role/database resources that follow can connect.
        wait: true,
        waitTimeout: 120,
      },
      // The host port is fixed, so a new container can only start once the old one is gone.
      { parent: this, deleteBeforeReplace: true, ...(args.containerDependsOn ? { dependsOn: args.containerDependsOn } : {}) },
    );

    // Derived from the container so that anything connecting waits for it to be up and healthy.
    const up = this.container.id;
    this.host = pulumi.all([up, bindAddress]).apply(([, addr]) => (addr === "0.0.0.0" ? "127.0.0.1" : addr));
    this.port = pulumi.all([up, hostPort]).apply(([, p]) => p);
    this.internalHost = up.apply(() => alias);
    this.internalPort = up.apply(() => 5432);
    this.adminUser = superuser;
    this.adminDatabase = pulumi.output("postgres");
    this.adminPassword = password;
    this.sslMode = pulumi.output("disable");
    this.adminUrl = pulumi.secret(
      pulumi.all([superuser, password, this.host, this.port]).apply(([user, pw, host, port]) => postgresUrl({ user, password: pw, host, port, database: "postgres" })),
    );
    this.networkName = network.name;
    this.volumeName = volume.name;
    this.containerName = this.container.name;
    this.registerOutputs({ host: this.host, port: this.port, internalHost: this.internalHost, adminUrl: this.adminUrl, networkName: this.networkName, volumeName: this.volumeName });
  }
}
