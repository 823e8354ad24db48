/**
 * Composes the stack from validated config: PostgreSQL <- pgBouncer <- app, and the migration
 * reading the SQLite source into PostgreSQL over the direct URL. infra/index.ts calls this with
 * the stack's config; tests call it with mocks.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { checkAdmin, probeAdmin, providerSslMode, type AdminFacts, type AdminProbe } from "./admin-probe";
import { AppDatabase, withTls, type AppDatabaseServer, type UrlTls } from "./app-database";
import { AppEnvironment } from "./app-environment";
import type { PostgresTls, StackConfig } from "./config";
import { parsePostgresUrl, postgresUrl } from "./config";
import { PgBouncer } from "./pgbouncer";
import { PgBouncerExporter } from "./pgbouncer-exporter";
import { HostPortCheck } from "./providers/host-port-check";
import { PostgresServer } from "./postgres-server";

/** What the Migration component (migrate/providers/migration.ts) needs; mirrors its MigrationArgs. */
export interface MigrationInputs {
  sourcePath: string;
  targetUrl: pulumi.Output<string>;
  targetSchema: string;
  jobs: number;
  extraIndexes: StackConfig["migration"]["extraIndexes"];
  castOverrides: Record<string, string>;
  strictTypes: boolean;
  epochs: Record<string, "unix" | "unix-ms" | "coredata" | "number">;
  /** Absent when the stack configures none. */
  renames?: Record<string, string>;
  timestamptz: boolean;
  textCollation: string;
  /** Migration's `capture` (issue 6): false leaves the SQLite file untouched. */
  capture: boolean;
}

/**
 * Builds the Migration component; returns its verification report output, the verification
 * resource and (capture on) the rollback guard, which the app's switch to PostgreSQL (env file,
 * app container) waits for.
 */
export type MigrationFactory = (
  name: string,
  args: MigrationInputs,
  opts: pulumi.ComponentResourceOptions,
) => { report: pulumi.Output<unknown>; verification?: pulumi.Resource; rollbackGuard?: pulumi.Output<pulumi.Resource | undefined> };

export interface StackOutputs {
  postgresMode: string;
  postgresHost: pulumi.Output<string>;
  postgresPort: pulumi.Output<number>;
  databaseName: pulumi.Output<string>;
  appRole: pulumi.Output<string>;
  pgbouncerEnabled: boolean;
  pgbouncerHost?: pulumi.Output<string>;
  pgbouncerPort?: pulumi.Output<number>;
  pgbouncerIni?: pulumi.Output<string>;
  /** Secret. */
  databaseUrl: pulumi.Output<string>;
  /** Secret. */
  directDatabaseUrl: pulumi.Output<string>;
  environment: pulumi.Output<string>;
  logLevel: pulumi.Output<string>;
  envFile?: string;
  envFileBackup?: pulumi.Output<string>;
  postgresVolume?: pulumi.Output<string | undefined>;
  /** docker mode: container names, for `docker start`/`docker logs` in the runbook. */
  postgresContainer?: pulumi.Output<string | undefined>;
  pgbouncerContainer?: pulumi.Output<string>;
  /** Secret: pgBouncer's console (`SHOW POOLS`, `SHOW STATS`) as its stats user. */
  pgbouncerStatsUrl?: pulumi.Output<string>;
  /** pgbouncerExporterEnabled: the exporter's /metrics on 127.0.0.1, and its container. */
  pgbouncerExporterUrl?: pulumi.Output<string>;
  pgbouncerExporterContainer?: pulumi.Output<string>;
  migrationReport?: pulumi.Output<unknown>;
}

/** Where pgBouncer's container finds the server's CA (uploaded), or the image's system bundle. */
export const PGBOUNCER_SERVER_CA = "/etc/pgbouncer/server-ca.pem";
export const PGBOUNCER_SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt";

/** Writes a CA given as PEM text in config to its file (name from its hash), once. */
function materializeCa(tls: PostgresTls | undefined): void {
  const rc = tls?.rootCert;
  if (rc?.kind !== "inline") return;
  if (fs.existsSync(rc.path) && fs.readFileSync(rc.path, "utf8") === rc.pem) return;
  fs.mkdirSync(path.dirname(rc.path), { recursive: true });
  fs.writeFileSync(rc.path, rc.pem, { mode: 0o644 });
}

/**
 * A HostPortCheck for a port the stack publishes on this host: `pulumi preview` fails, naming the
 * config key, when something other than this stack's own container holds it.
 */
function portCheck(name: string, key: string, address: string, port: number): HostPortCheck {
  return new HostPortCheck(name, { key: `armp-postgres:${key}`, address, port });
}

export function createStack(cfg: StackConfig, opts: { migration?: MigrationFactory; probe?: AdminProbe } = {}): StackOutputs {
  const name = "armp";
  const pgbouncerContainer = cfg.pgbouncer.enabled && cfg.database.manageRole;
  // Without role management (external server, ready database URL) the stack owns nothing on the
  // server, so there is no server component at all: nothing to connect to as admin.
  const server = !cfg.database.manageRole
    ? undefined
    : new PostgresServer(name, {
    mode: cfg.postgres.mode,
    image: cfg.postgres.image,
    hostPort: cfg.postgres.hostPort,
    bindAddress: cfg.postgres.bindAddress,
    superuser: cfg.postgres.superuser,
    ...(cfg.postgres.password ? { password: cfg.postgres.password } : {}),
    ...(cfg.postgres.adminUrl && cfg.postgres.admin ? { adminUrl: cfg.postgres.adminUrl, admin: cfg.postgres.admin } : {}),
    ...(cfg.postgres.mode === "docker"
      ? { containerDependsOn: [portCheck(`${name}-postgres-port`, "postgresHostPort", cfg.postgres.bindAddress, cfg.postgres.hostPort)] }
      : {}),
      });

  // External server with an admin: TLS settings for every URL, and what the admin is (asked from
  // the server at preview unless config says both): a managed service's admin (RDS, Cloud SQL,
  // Azure, Neon) is not a superuser, a self-run server's often is.
  const tls = cfg.postgres.mode === "external" ? cfg.postgres.tls : undefined;
  const urlTls: UrlTls | undefined = tls ? { sslmode: tls.sslmode, ...(tls.rootCert ? { sslrootcert: tls.rootCert.path } : {}) } : undefined;
  materializeCa(tls);
  let adminServer: AppDatabaseServer | undefined = server;
  let adminIsSuperuser: pulumi.Input<boolean> = true;
  if (server && tls && cfg.postgres.adminUrl && cfg.postgres.admin) {
    const declared = cfg.postgres.adminIsSuperuser;
    const needProbe = declared === "auto" || tls.sslmode === "prefer" || tls.sslmode === "allow";
    const probe = opts.probe ?? probeAdmin;
    const admin = cfg.postgres.admin;
    const facts: pulumi.Output<AdminFacts | undefined> = needProbe
      ? pulumi.unsecret(
          cfg.postgres.adminUrl.apply(async (u) => {
            const f = await probe(withTls(u, urlTls));
            checkAdmin(f, admin.user);
            return f;
          }),
        )
      : pulumi.output(undefined);
    adminIsSuperuser = declared === "auto" ? facts.apply((f) => f!.superuser) : declared;
    adminServer = {
      host: server.host,
      port: server.port,
      internalHost: server.internalHost,
      internalPort: server.internalPort,
      adminUser: server.adminUser,
      adminPassword: server.adminPassword,
      adminDatabase: server.adminDatabase,
      adminUrl: server.adminUrl,
      sslMode: facts.apply((f) => (f ? providerSslMode(tls.sslmode, f) : tls.sslmode)),
    };
  }

  const pgbouncerOn = cfg.pgbouncer.enabled && server !== undefined;
  const db = new AppDatabase(name, {
    manageRole: cfg.database.manageRole,
    databaseName: cfg.database.name,
    roleName: cfg.database.appRole,
    healthcheckRole: cfg.database.healthcheckRole,
    healthcheck: pgbouncerOn,
    adminIsSuperuser,
    // lib/pq takes a CA file; with "system" it uses the system's roots when none is given.
    ...(tls?.rootCert && tls.rootCert.kind !== "system" ? { sslRootCert: tls.rootCert.path } : {}),
    ...(urlTls ? { urlTls } : {}),
    ...(cfg.database.appPassword ? { password: cfg.database.appPassword } : {}),
    ...(cfg.database.databaseUrl ? { databaseUrl: cfg.database.databaseUrl } : {}),
    ...(adminServer ? { server: adminServer } : {}),
  });

  let bouncer: PgBouncer | undefined;
  if (cfg.pgbouncer.enabled && server && db.app && db.healthcheck) {
    const p = cfg.pgbouncer;
    bouncer = new PgBouncer(
      name,
      {
        image: p.image,
        backend: { host: server.internalHost, port: server.internalPort, database: db.databaseName },
        networkName: server.networkName,
        appUser: { name: db.app.name, verifier: db.app.verifier },
        healthcheckUser: { name: db.healthcheck.name, verifier: db.healthcheck.verifier, password: db.healthcheck.password },
        hostPort: p.hostPort,
        bindAddress: p.bindAddress,
        poolMode: p.poolMode,
        maxClientConn: p.maxClientConn,
        defaultPoolSize: p.defaultPoolSize,
        minPoolSize: p.minPoolSize,
        reservePoolSize: p.reservePoolSize,
        queryWaitTimeout: p.queryWaitTimeout,
        idleTransactionTimeout: p.idleTransactionTimeout,
        ...(pgbouncerContainer ? { containerDependsOn: [portCheck(`${name}-pgbouncer-port`, "pgbouncerHostPort", p.bindAddress, p.hostPort)] } : {}),
        ...(tls
          ? {
              serverTls: {
                sslmode: tls.sslmode,
                ...(tls.rootCert?.kind === "system" ? { caFile: PGBOUNCER_SYSTEM_CA } : {}),
                ...(tls.rootCert && tls.rootCert.kind !== "system" ? { caFile: PGBOUNCER_SERVER_CA, caPem: tls.rootCert.pem } : {}),
              },
            }
          : {}),
      },
      // pgBouncer's healthcheck logs in as the healthcheck role: the roles must exist first.
      { dependsOn: db.ready },
    );
  }

  // The Prometheus exporter (config allows it only in docker mode with pgBouncer on).
  let exporter: PgBouncerExporter | undefined;
  if (cfg.exporter.enabled && bouncer && db.healthcheck && server) {
    const b = bouncer;
    exporter = new PgBouncerExporter(name, {
      image: cfg.exporter.image,
      pgbouncer: { host: b.internalHost, port: b.internalPort },
      statsUser: { name: db.healthcheck.name, password: db.healthcheck.password },
      networkName: server.networkName,
      hostPort: cfg.exporter.hostPort,
      dependsOn: [portCheck(`${name}-pgbouncer-exporter-port`, "pgbouncerExporterHostPort", "127.0.0.1", cfg.exporter.hostPort)],
    });
  }

  const viaBouncer = (host: pulumi.Output<string>, port: pulumi.Output<number>) => {
    const app = db.app;
    if (!app) throw new pulumi.RunError("pgBouncer needs a stack-managed role (armp-postgres:manageRole=true).");
    return pulumi.secret(
      pulumi.all([app.name, app.password, host, port, db.databaseName]).apply(([user, password, h, p, database]) => postgresUrl({ user, password, host: h, port: p, database })),
    );
  };

  // The migration writes over the DIRECT url: COPY, DDL and its advisory lock need a session,
  // which transaction pooling does not give.
  let migrationReport: pulumi.Output<unknown> | undefined;
  let switchAfter: pulumi.Output<pulumi.Resource[]> | undefined;
  if (cfg.migration.enabled && opts.migration) {
    const m = cfg.migration;
    const migration = opts.migration(
      name,
      {
        sourcePath: m.sourcePath,
        targetUrl: db.url,
        targetSchema: m.targetSchema,
        jobs: m.jobs,
        extraIndexes: m.extraIndexes,
        castOverrides: m.castOverrides,
        strictTypes: m.strictTypes,
        epochs: m.epochs,
        ...(Object.keys(m.renames).length > 0 ? { renames: m.renames } : {}),
        timestamptz: m.timestamptz,
        textCollation: m.textCollation,
        capture: m.captureEnabled,
      },
      { dependsOn: db.ready },
    );
    migrationReport = migration.report;
    const verification = migration.verification;
    // The rollback guard (capture on) joins the gate: its PostgreSQL triggers exist before the
    // app's first write there, and destroy removes the app before the guard replays into SQLite.
    if (verification) {
      switchAfter = pulumi.output(migration.rollbackGuard).apply((g) => (g ? [verification, g] : [verification]));
    } else if (migration.rollbackGuard) {
      switchAfter = migration.rollbackGuard.apply((g) => (g ? [g] : []));
    }
  }

  const env = new AppEnvironment(name, {
    databaseUrl: bouncer ? viaBouncer(bouncer.host, bouncer.port) : db.url,
    directDatabaseUrl: db.url,
    containerDatabaseUrl: bouncer ? viaBouncer(bouncer.internalHost, bouncer.internalPort) : db.internalUrl,
    containerDirectDatabaseUrl: db.internalUrl,
    environment: cfg.app.environment,
    logLevel: cfg.app.logLevel,
    appPort: cfg.app.port,
    appHostPort: cfg.app.hostPort,
    ...(server ? { networkName: server.networkName } : {}),
    ...(cfg.app.envFile !== undefined ? { envFile: cfg.app.envFile } : {}),
    ...(cfg.app.image !== undefined ? { appImage: cfg.app.image } : {}),
    // Gated cut-over (issue 6): the app is switched only after the migration verified identical.
    ...(switchAfter ? { switchAfter } : {}),
  });

  return {
    postgresMode: cfg.postgres.mode,
    postgresHost: server ? server.host : pulumi.unsecret(db.url.apply((u) => parsePostgresUrl("armp-postgres:databaseUrl", u).host)),
    postgresPort: server ? server.port : pulumi.unsecret(db.url.apply((u) => parsePostgresUrl("armp-postgres:databaseUrl", u).port)),
    databaseName: db.databaseName,
    appRole: db.roleName,
    pgbouncerEnabled: bouncer !== undefined,
    ...(bouncer ? { pgbouncerHost: bouncer.host, pgbouncerPort: bouncer.port, pgbouncerIni: bouncer.iniText } : {}),
    databaseUrl: env.databaseUrl,
    directDatabaseUrl: env.directDatabaseUrl,
    environment: env.environment,
    logLevel: env.logLevel,
    ...(env.envFile && cfg.app.envFile !== undefined ? { envFile: cfg.app.envFile, envFileBackup: env.envFile.backupPath } : {}),
    ...(server && cfg.postgres.mode === "docker" ? { postgresVolume: server.volumeName, postgresContainer: server.containerName } : {}),
    ...(bouncer && db.healthcheck ? { pgbouncerContainer: bouncer.containerName, pgbouncerStatsUrl: statsUrl(bouncer, db.healthcheck) } : {}),
    ...(exporter ? { pgbouncerExporterUrl: exporter.metricsUrl, pgbouncerExporterContainer: exporter.containerName } : {}),
    ...(migrationReport ? { migrationReport } : {}),
  };
}

/**
 * pgBouncer's console for operators: the healthcheck role is pgBouncer's only `stats_users` entry
 * (read-only SHOW commands, no admin commands), reached on the host port like the app.
 */
function statsUrl(bouncer: PgBouncer, role: { name: pulumi.Input<string>; password: pulumi.Input<string> }): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.all([role.name, role.password, bouncer.host, bouncer.port]).apply(([user, password, host, port]) => postgresUrl({ user, password, host, port, database: "pgbouncer" })),
  );
}

/** Stack outputs: the stack's values under the names users see, undefined ones left out. */
export function stackOutputs(out: StackOutputs): Record<string, unknown> {
  const named: Record<string, unknown> = {
    postgresMode: out.postgresMode,
    postgresHost: out.postgresHost,
    postgresPort: out.postgresPort,
    databaseName: out.databaseName,
    appRole: out.appRole,
    pgbouncerEnabled: out.pgbouncerEnabled,
    pgbouncerHost: out.pgbouncerHost,
    pgbouncerPort: out.pgbouncerPort,
    pgbouncerIni: out.pgbouncerIni,
    DATABASE_URL: out.databaseUrl,
    DIRECT_DATABASE_URL: out.directDatabaseUrl,
    ENVIRONMENT: out.environment,
    LOG_LEVEL: out.logLevel,
    envFile: out.envFile,
    envFileBackup: out.envFileBackup,
    postgresVolume: out.postgresVolume,
    postgresContainer: out.postgresContainer,
    pgbouncerContainer: out.pgbouncerContainer,
    pgbouncerStatsUrl: out.pgbouncerStatsUrl,
    pgbouncerExporterUrl: out.pgbouncerExporterUrl,
    pgbouncerExporterContainer: out.pgbouncerExporterContainer,
    migrationReport: out.migrationReport,
  };
  return Object.fromEntries(Object.entries(named).filter(([, v]) => v !== undefined));
}
