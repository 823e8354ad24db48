/**
 * PgBouncer — a pgBouncer container in front of PostgreSQL, configured entirely by files rendered
 * by pgbouncer/ (the same text `armp-pgbouncer render` writes) and uploaded into the container.
 * Authentication is SCRAM with verifiers in userlist.txt: no plaintext app password in the
 * container's config or environment.
 *
 * Healthcheck: the image (edoburu/pgbouncer) ships psql, so the check logs in THROUGH pgBouncer as a
 * connect-only role and runs `SELECT 1` on the app database. That proves pgBouncer is up, accepts
 * SCRAM logins, and can open a server connection to PostgreSQL — a pg_isready against pgBouncer
 * would only prove that it listens. The price: psql needs that role's password, so it is uploaded
 * as a file readable inside the container. The role can do nothing but connect (connection limit
 * 2, no table privileges); the app's password is never in the container.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderPgBouncerIni, renderUserlist, type PoolMode, type TlsMode } from "../pgbouncer";
import { PgBouncerReload } from "./providers/pgbouncer-reload";
import { iniSettings } from "./providers/pgbouncer-reload-impl";

export interface PgBouncerArgs {
  /** Run pgBouncer. Defaults to true; false creates nothing (the app connects directly). */
  readonly enabled?: boolean;
  /** Docker image. Defaults to "edoburu/pgbouncer:v1.24.1-p1" (ships psql for the healthcheck). */
  readonly image?: pulumi.Input<string>;
  /** PostgreSQL as seen from the container network. */
  readonly backend: { host: pulumi.Input<string>; port: pulumi.Input<number>; database: pulumi.Input<string> };
  /** The Docker network PostgreSQL is on (docker mode); pgBouncer joins it. */
  readonly networkName?: pulumi.Input<string | undefined>;
  /** The app role: its name and SCRAM verifier (secret). */
  readonly appUser: { name: pulumi.Input<string>; verifier: pulumi.Input<string> };
  /** The connect-only role the healthcheck logs in as: name, verifier and password (secrets). */
  readonly healthcheckUser: { name: pulumi.Input<string>; verifier: pulumi.Input<string>; password: pulumi.Input<string> };
  /** Host port pgBouncer is published on. Defaults to 6432. */
  readonly hostPort?: pulumi.Input<number>;
  /** Host address the port is bound to. Defaults to "127.0.0.1". */
  readonly bindAddress?: pulumi.Input<string>;
  /** Defaults to "transaction". */
  readonly poolMode?: PoolMode;
  /** Defaults to 100. */
  readonly maxClientConn?: number;
  /** Defaults to 20. */
  readonly defaultPoolSize?: number;
  /** Defaults to 5. */
  readonly minPoolSize?: number;
  /** Defaults to 0. */
  readonly reservePoolSize?: number;
  /** Seconds. Defaults to 30. */
  readonly queryWaitTimeout?: number;
  /** Seconds. Defaults to 60. */
  readonly idleTransactionTimeout?: number;
  /**
   * TLS towards PostgreSQL (server_tls_*). `caPem` is uploaded to `caFile`; without it `caFile`
   * must already be in the image (the system bundle). Undefined: pgBouncer's default.
   */
  readonly serverTls?: { sslmode: TlsMode; caFile?: string; caPem?: string };
  /** Resources the container waits for (the host port's HostPortCheck). */
  readonly containerDependsOn?: pulumi.Resource[];
}

export const PGBOUNCER_LISTEN_PORT = 6432;
const CONFIG_DIR = "/etc/pgbouncer";
const HEALTHCHECK_SECRET = `${CONFIG_DIR}/healthcheck.secret`;

const USERLIST = `${CONFIG_DIR}/userlist.txt`;

/**
 * The container's command. Docker's provider uploads every file as root:root 0644, readable by
 * anyone in the container; before pgBouncer starts, the secrets get the owner and mode their one
 * reader needs: userlist.txt postgres 0400 (pgBouncer, running as postgres, re-reads it on RELOAD),
 * healthcheck.secret root 0400 (the healthcheck runs as the container's user, root). The ini holds
 * no secret and stays 0644. The container therefore starts as root and pgBouncer drops to the
 * image's postgres user itself (`-u`), as it does when started as root by a service manager.
 */
export function pgbouncerCommand(): string[] {
  return [
    "sh",
    "-c",
    `chown postgres ${USERLIST} && chmod 0400 ${USERLIST} ${HEALTHCHECK_SECRET} && exec /usr/bin/pgbouncer -u postgres ${CONFIG_DIR}/pgbouncer.ini`,
  ];
}

/** pgBouncer's (major, minor) from an image tag such as "edoburu/pgbouncer:v1.24.1-p1"; undefined when the tag names none. */
export function pgbouncerVersion(image: string): [number, number] | undefined {
  const m = /:v?(\d+)\.(\d+)(?:[.-]|$)/.exec(image);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/**
 * max_prepared_statements to render for an image: 200 (pgBouncer 1.24's built-in default, written
 * out so it does not depend on the image's) from 1.21 on, where the setting exists; omitted before
 * 1.21 and for a tag without a version, since an older pgBouncer refuses an unknown key.
 */
export function maxPreparedStatementsFor(image: string): number | undefined {
  const v = pgbouncerVersion(image);
  return v && (v[0] > 1 || (v[0] === 1 && v[1] >= 21)) ? 200 : undefined;
}

export const DEFAULT_PGBOUNCER_IMAGE = "edoburu/pgbouncer:v1.24.1-p1";

/** The healthcheck command: a real query through pgBouncer, not just a TCP probe. */
export function healthcheckCommand(user: string, database: string): string {
  return (
    `PGPASSWORD="$(cat ${HEALTHCHECK_SECRET})" PGCONNECT_TIMEOUT=3 ` +
    `psql -X -h 127.0.0.1 -p ${PGBOUNCER_LISTEN_PORT} -U ${user} -d ${database} -tAc 'SELECT 1' | grep -qx 1`
  );
}

export class PgBouncer extends pulumi.ComponentResource {
  /** The rendered pgbouncer.ini (no secrets in it): a pool setting change shows up as a diff here. */
  public readonly iniText: pulumi.Output<string>;
  /** userlist.txt (SCRAM verifiers); secret. */
  public readonly userlist: pulumi.Output<string>;
  /** For clients on the Pulumi host. */
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** For containers on the network. */
  public readonly internalHost: pulumi.Output<string>;
  public readonly internalPort: pulumi.Output<number>;
  public readonly container?: docker.Container;
  /** The container's name ("" when disabled). */
  public readonly containerName: pulumi.Output<string>;

  constructor(name: string, args: PgBouncerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("armp:infra:PgBouncer", name, {}, opts);
    const healthName = pulumi.output(args.healthcheckUser.name);
    const imageName = pulumi.output(args.image ?? DEFAULT_PGBOUNCER_IMAGE);

    this.iniText = pulumi
      .all([args.backend.host, args.backend.port, args.backend.database, healthName, imageName])
      .apply(([host, port, database, health, img]) => {
        const maxPrepared = maxPreparedStatementsFor(img);
        return renderPgBouncerIni({
          listenAddr: "0.0.0.0", // inside the container; the published port decides who can reach it
          listenPort: PGBOUNCER_LISTEN_PORT,
          backend: { host, port, database },
          poolMode: args.poolMode ?? "transaction",
          maxClientConn: args.maxClientConn ?? 100,
          defaultPoolSize: args.defaultPoolSize ?? 20,
          minPoolSize: args.minPoolSize ?? 5,
          reservePoolSize: args.reservePoolSize ?? 0,
          queryWaitTimeout: args.queryWaitTimeout ?? 30,
          idleTransactionTimeout: args.idleTransactionTimeout ?? 60,
          statsUsers: [health],
          authFile: `${CONFIG_DIR}/userlist.txt`,
          ...(args.serverTls
            ? { serverTls: { sslmode: args.serverTls.sslmode, ...(args.serverTls.caFile !== undefined ? { caFile: args.serverTls.caFile } : {}) } }
            : {}),
          // Verifiers are not rendered into the ini; the list only feeds validation.
          users: [],
          ...(maxPrepared !== undefined ? { maxPreparedStatements: maxPrepared } : {}),
        });
      });
    this.userlist = pulumi.secret(
      pulumi
        .all([args.appUser.name, args.appUser.verifier, healthName, args.healthcheckUser.verifier])
        .apply(([appName, appVerifier, hName, hVerifier]) => renderUserlist([{ name: appName, verifier: appVerifier }, { name: hName, verifier: hVerifier }])),
    );

    const hostPort = pulumi.output(args.hostPort ?? 6432);
    const bindAddress = pulumi.output(args.bindAddress ?? "127.0.0.1");

    if (args.enabled === false) {
      this.host = pulumi.output("");
      this.port = pulumi.output(0);
      this.internalHost = pulumi.output("");
      this.internalPort = pulumi.output(0);
      this.containerName = pulumi.output("");
      this.registerOutputs({ iniText: this.iniText });
      return;
    }

    const alias = `${name}-pgbouncer`;
    const image = new docker.RemoteImage(`${name}-pgbouncer-image`, { name: imageName, keepLocally: true }, { parent: this });
    this.container = new docker.Container(
      `${name}-pgbouncer`,
      {
        image: image.imageId,
        // The image's entrypoint only generates a config when none exists; it gets ours.
        user: "root",
        command: pgbouncerCommand(),
        uploads: [
          { file: `${CONFIG_DIR}/pgbouncer.ini`, content: this.iniText },
          { file: USERLIST, content: this.userlist },
          { file: HEALTHCHECK_SECRET, content: pulumi.secret(args.healthcheckUser.password) },
          ...(args.serverTls?.caPem !== undefined && args.serverTls.caFile !== undefined ? [{ file: args.serverTls.caFile, content: args.serverTls.caPem }] : []),
        ],
        healthcheck: {
          tests: ["CMD-SHELL", pulumi.all([healthName, args.backend.database]).apply(([u, db]) => healthcheckCommand(u, db))],
          interval: "10s",
          timeout: "5s",
          retries: 6,
          startPeriod: "5s",
        },
        ports: [{ internal: PGBOUNCER_LISTEN_PORT, external: hostPort, ip: bindAddress }],
        networksAdvanced: pulumi.output(args.networkName).apply((n) => (n ? [{ name: n, aliases: [alias] }] : [])),
        restart: "unless-stopped",
        // As for PostgreSQL: a stopped container is started again, not deleted by `refresh`.
        mustRun: false,
        wait: true,
        waitTimeout: 90,
      },
      // The host port is fixed, so a new container can only start once the old one is gone.
      // The ini's content is left out of the container's diff: PgBouncerReload below applies a
      // change with a reload, where a changed upload would replace the container (the provider
      // marks uploads ForceNew) and refuse connections for ~11 s.
      { parent: this, deleteBeforeReplace: true, ignoreChanges: ["uploads[0].content"], ...(args.containerDependsOn ? { dependsOn: args.containerDependsOn } : {}) },
    );
    new PgBouncerReload(
      `${name}-pgbouncer-reload`,
      { container: this.container.name, file: `${CONFIG_DIR}/pgbouncer.ini`, ini: this.iniText, settings: this.iniText.apply(iniSettings) },
      { parent: this },
    );

    const up = this.container.id;
    this.host = pulumi.all([up, bindAddress]).apply(([, addr]) => (addr === "0.0.0.0" ? "127.0.0.1" : addr));
    this.port = pulumi.all([up, hostPort]).apply(([, p]) => p);
    this.internalHost = up.apply(() => alias);
    this.internalPort = up.apply(() => PGBOUNCER_LISTEN_PORT);
    this.containerName = this.container.name;
    this.registerOutputs({ iniText: this.iniText, host: this.host, port: this.port, internalHost: this.internalHost });
  }
}
