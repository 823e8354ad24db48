/**
 * PgBouncerExporter — the optional Prometheus pgbouncer_exporter container (issue 18, item 9),
 * on the stack's network, logging in to pgBouncer's console as its stats user (the healthcheck
 * role: read-only SHOW commands) and serving /metrics on 127.0.0.1 only.
 *
 * The connection string holds that role's password, so it is neither an env var
 * (PGBOUNCER_EXPORTER_CONNECTION_STRING would show in `docker inspect`) nor a flag on the command
 * line: it is uploaded as an arguments file that the exporter reads with kingpin's `@file`
 * expansion (alecthomas/kingpin v2.4.0, parser.go 217-226 and 272-294: each non-comment line is
 * one argument; pgbouncer_exporter v0.12.1 parses its flags with kingpin). The docker provider
 * uploads it root:root 0644 and cannot set an owner; the image runs as `nobody` with nothing else
 * in the container, so the file stays 0644 (making it 0400 for nobody would need the container
 * to start as root and switch user, which the image's entrypoint — the exporter binary — does
 * not do). test/docker/exporter.test.ts asserts `0:0 644`, uid 65534 and the DSN absent from
 * `docker inspect`.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { postgresUrl } from "./config";

/** prometheus-community/pgbouncer_exporter v0.12.1: fixes reserve_pool on pgBouncer >= 1.24. */
export const DEFAULT_EXPORTER_IMAGE = "prometheuscommunity/pgbouncer-exporter:v0.12.1";
/** The exporter's own default listen port (pgbouncer_exporter.go, kingpinflag ":9127"). */
export const EXPORTER_LISTEN_PORT = 9127;
/** Host port default: not 9127, which a local exporter would hold. */
export const DEFAULT_EXPORTER_HOST_PORT = 59127;
export const EXPORTER_ARGS_FILE = "/etc/pgbouncer-exporter/args";

export interface PgBouncerExporterArgs {
  readonly image?: pulumi.Input<string>;
  /** pgBouncer as seen from the stack network (its alias and listen port). */
  readonly pgbouncer: { host: pulumi.Input<string>; port: pulumi.Input<number> };
  /** pgBouncer's stats user: name and password (secret). */
  readonly statsUser: { name: pulumi.Input<string>; password: pulumi.Input<string> };
  readonly networkName: pulumi.Input<string | undefined>;
  /** Host port /metrics is published on (127.0.0.1). Defaults to 59127. */
  readonly hostPort?: pulumi.Input<number>;
  /** Resources the container waits for (the host port's HostPortCheck). */
  readonly dependsOn?: pulumi.Resource[];
}

/** The arguments file: one flag a line, the connection string to pgBouncer's console. */
export function exporterArgs(connectionString: string): string {
  return `# read by pgbouncer_exporter through kingpin's @file expansion\n--pgBouncer.connectionString=${connectionString}\n`;
}

/** The exporter's command (the image's entrypoint is the exporter binary). */
export function exporterCommand(): string[] {
  return [`@${EXPORTER_ARGS_FILE}`, `--web.listen-address=:${EXPORTER_LISTEN_PORT}`, "--web.telemetry-path=/metrics"];
}

/** Healthy only when a scrape reached pgBouncer: busybox wget in the image, `pgbouncer_up 1`. */
export function exporterHealthcheck(): string {
  return `wget -q -O - http://127.0.0.1:${EXPORTER_LISTEN_PORT}/metrics | grep -qx 'pgbouncer_up 1'`;
}

export class PgBouncerExporter extends pulumi.ComponentResource {
  public readonly container: docker.Container;
  /** http://127.0.0.1:<hostPort>/metrics, for Prometheus on this host. */
  public readonly metricsUrl: pulumi.Output<string>;
  public readonly containerName: pulumi.Output<string>;

  constructor(name: string, args: PgBouncerExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("armp:infra:PgBouncerExporter", name, {}, opts);
    const hostPort = pulumi.output(args.hostPort ?? DEFAULT_EXPORTER_HOST_PORT);
    const connection = pulumi.secret(
      pulumi
        .all([args.statsUser.name, args.statsUser.password, args.pgbouncer.host, args.pgbouncer.port])
        .apply(([user, password, host, port]) => postgresUrl({ user, password, host, port, database: "pgbouncer", sslmode: "disable" })),
    );
    const image = new docker.RemoteImage(`${name}-pgbouncer-exporter-image`, { name: args.image ?? DEFAULT_EXPORTER_IMAGE, keepLocally: true }, { parent: this });
    this.container = new docker.Container(
      `${name}-pgbouncer-exporter`,
      {
        image: image.imageId,
        command: exporterCommand(),
        uploads: [{ file: EXPORTER_ARGS_FILE, content: pulumi.secret(connection.apply(exporterArgs)) }],
        healthcheck: { tests: ["CMD-SHELL", exporterHealthcheck()], interval: "15s", timeout: "5s", retries: 4, startPeriod: "5s" },
        ports: [{ internal: EXPORTER_LISTEN_PORT, external: hostPort, ip: "127.0.0.1" }],
        networksAdvanced: pulumi.output(args.networkName).apply((n) => (n ? [{ name: n, aliases: [`${name}-pgbouncer-exporter`] }] : [])),
        restart: "unless-stopped",
        mustRun: false,
        wait: true,
        waitTimeout: 60,
      },
      { parent: this, deleteBeforeReplace: true, ...(args.dependsOn ? { dependsOn: args.dependsOn } : {}) },
    );
    this.metricsUrl = pulumi.all([this.container.id, hostPort]).apply(([, p]) => `http://127.0.0.1:${p}/metrics`);
    this.containerName = this.container.name;
    this.registerOutputs({ metricsUrl: this.metricsUrl });
  }
}
