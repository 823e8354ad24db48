/**
 * Typed stack configuration, read once and validated before any resource is declared, so a bad
 * value fails `pulumi preview` with the config key named instead of failing half-way through
 * `pulumi up`. Every key, its type and default is also declared in Pulumi.yaml (`pulumi config`
 * shows them); the defaults here must match those.
 *
 * Namespace: the project's own, `armp-postgres:`. Pulumi accepts `type`/`default`/`description`
 * in Pulumi.yaml only for keys in the project's namespace ("Configuration key 'x:y' is not
 * namespaced by the project and should not define a type"), so a shorter `armp:` namespace would
 * have cost the declared schema.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { isSslMode, SSL_MODES, type SslMode } from "../migrate/engine/tls";
import { PGBOUNCER_DEFAULTS, PgBouncerError, validateSettings, type PoolMode } from "../pgbouncer";

export type PostgresMode = "docker" | "external";

export const CONFIG_NAMESPACE = "armp-postgres";

/** A config problem; `key` is the full config key (e.g. "armp-postgres:defaultPoolSize"). */
export class StackConfigError extends pulumi.RunError {
  readonly code = "CONFIG_INVALID";
  constructor(
    readonly key: string,
    message: string,
  ) {
    // RunError: Pulumi prints the message without a stack trace, which is what a config typo deserves.
    super(`${key}: ${message}`);
    this.name = "StackConfigError";
  }
}

/** The parts of a postgres:// URL the stack needs. `password` is plaintext: keep it inside secrets. */
export interface PostgresUrl {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  sslmode?: string;
}

/**
 * The CA that server certificates are checked against: a PEM file, the system's trusted roots
 * ("system", libpq 16's spelling), or PEM text from config, which the stack writes to `path`
 * (a file name derived from its hash) because every client takes a file.
 */
export type RootCert =
  | { kind: "file"; path: string; pem: string }
  | { kind: "system"; path: "system" }
  | { kind: "inline"; path: string; pem: string };

/** TLS towards an external server, with libpq's sslmode meanings (migrate/engine/tls.ts). */
export interface PostgresTls {
  sslmode: SslMode;
  rootCert?: RootCert;
}

export interface ExtraIndexConfig {
  table: string;
  columns: string[];
  unique?: boolean;
  name?: string;
}

export interface StackConfig {
  postgres: {
    mode: PostgresMode;
    image: string;
    hostPort: number;
    bindAddress: string;
    superuser: string;
    /** Secret; docker mode only. */
    password?: pulumi.Output<string>;
    /** Secret; external mode with manageRole. */
    adminUrl?: pulumi.Output<string>;
    /** Non-secret parts of adminUrl (host, port, database, sslmode), for resource inputs. */
    admin?: Omit<PostgresUrl, "password">;
    /** external mode with manageRole: TLS for every connection to the server (admin, app, migration, pgBouncer). */
    tls?: PostgresTls;
    /** external mode with manageRole: whether the admin is a superuser; "auto" = asked from the server at preview. */
    adminIsSuperuser: "auto" | boolean;
  };
  database: {
    manageRole: boolean;
    name: string;
    appRole: string;
    /** Secret; when unset a generated one (armp:infra:Secret) is used. */
    appPassword?: pulumi.Output<string>;
    healthcheckRole: string;
    /** Secret; manageRole=false only: the ready database URL the server handed out. */
    databaseUrl?: pulumi.Output<string>;
  };
  pgbouncer: {
    enabled: boolean;
    image: string;
    hostPort: number;
    bindAddress: string;
    poolMode: PoolMode;
    maxClientConn: number;
    defaultPoolSize: number;
    minPoolSize: number;
    reservePoolSize: number;
    queryWaitTimeout: number;
    idleTransactionTimeout: number;
  };
  /** The optional Prometheus pgbouncer_exporter container (docker mode, pgBouncer on). */
  exporter: {
    enabled: boolean;
    image: string;
    /** Published on 127.0.0.1 only. */
    hostPort: number;
  };
  app: {
    environment: string;
    logLevel: string;
    envFile?: string;
    image?: string;
    port: number;
    hostPort: number;
  };
  migration: {
    enabled: boolean;
    sourcePath: string;
    targetSchema: string;
    jobs: number;
    extraIndexes: ExtraIndexConfig[];
    castOverrides: Record<string, string>;
    /** Refuse columns whose values the declared type cannot hold instead of widening them. */
    strictTypes: boolean;
    /** "table.column" -> how numbers in that date/time column are read. */
    epochs: Record<string, "unix" | "unix-ms" | "coredata" | "number">;
    /** Source name ("table", "table.column") -> PostgreSQL name; {} keeps the automatic names. */
    renames: Record<string, string>;
    timestamptz: boolean;
    /** Collation of SQLite's BINARY text columns: a PostgreSQL collation, or "database". */
    textCollation: string;
    /** Change capture (issue 6): writes triggers into the SQLite source; off by default. */
    captureEnabled: boolean;
  };
}

/** Defaults, kept in one place and mirrored in Pulumi.yaml's `config:` block. */
export const DEFAULTS = {
  postgresMode: "docker" as PostgresMode,
  // 16.x on Debian bookworm: a maintained major with a pinned minor so `pulumi up` never upgrades
  // the data directory's server behind the user's back.
  postgresImage: "postgres:16.4-bookworm",
  postgresHostPort: 55432, // not 5432: a local PostgreSQL usually holds that one
  postgresBindAddress: "127.0.0.1",
  postgresSuperuser: "postgres",
  manageRole: true,
  databaseName: "armp",
  appRole: "armp_app",
  healthcheckRole: "armp_healthcheck",
  pgbouncerEnabled: true,
  // Pinned tag of a maintained image that ships psql (the healthcheck needs it).
  pgbouncerImage: "edoburu/pgbouncer:v1.24.1-p1",
  pgbouncerHostPort: 6432,
  pgbouncerBindAddress: "127.0.0.1",
  // Pool settings: pgbouncer/'s own defaults, so the stack and `armp-pgbouncer render` agree.
  poolMode: PGBOUNCER_DEFAULTS.poolMode,
  maxClientConn: PGBOUNCER_DEFAULTS.maxClientConn,
  defaultPoolSize: PGBOUNCER_DEFAULTS.defaultPoolSize,
  minPoolSize: PGBOUNCER_DEFAULTS.minPoolSize,
  reservePoolSize: PGBOUNCER_DEFAULTS.reservePoolSize,
  queryWaitTimeout: PGBOUNCER_DEFAULTS.queryWaitTimeout,
  idleTransactionTimeout: PGBOUNCER_DEFAULTS.idleTransactionTimeout,
  pgbouncerExporterEnabled: false,
  // prometheus-community/pgbouncer_exporter v0.12.1 (fixes reserve_pool on pgBouncer >= 1.24).
  pgbouncerExporterImage: "prometheuscommunity/pgbouncer-exporter:v0.12.1",
  // Not 9127 (the exporter's own default, which a local exporter holds).
  pgbouncerExporterHostPort: 59127,
  environment: "production",
  logLevel: "info",
  appPort: 8000,
  appHostPort: 8000,
  migrationEnabled: true,
  sourcePath: "data/armp.db",
  targetSchema: "public",
  migrationJobs: 2,
  timestamptz: false,
  strictTypes: false,
  // SQLite compares text bytewise; "C" is the same order in PostgreSQL.
  textCollation: "C",
  captureEnabled: false,
  // libpq's own default: TLS when the server offers it, plain TCP when it does not.
  postgresSslMode: "prefer" as SslMode,
  adminIsSuperuser: "auto",
} as const;

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const LOG_LEVELS = ["debug", "info", "warning", "warn", "error", "critical"];

/**
 * Parses a postgres:// or postgresql:// URL. The error never echoes the URL (it carries a password).
 */
export function parsePostgresUrl(key: string, raw: string): PostgresUrl {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (cause) {
    throw Object.assign(new StackConfigError(key, "is not a URL; expected postgresql://user:password@host:port/database (value not shown: it holds a password)."), { cause });
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new StackConfigError(key, `must use the postgresql:// scheme, got "${u.protocol}".`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!u.hostname || !u.username || !database) {
    throw new StackConfigError(key, "must name a host, a user and a database: postgresql://user:password@host:port/database.");
  }
  const port = u.port === "" ? 5432 : Number(u.port);
  const sslmode = u.searchParams.get("sslmode") ?? undefined;
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
    ...(sslmode ? { sslmode } : {}),
  };
}

/**
 * postgresql://user:password@host:port/database[?sslmode=..&sslrootcert=..], with user, password
 * and the parameters percent-encoded (libpq and node-postgres both decode them).
 */
export function postgresUrl(p: { user: string; password: string; host: string; port: number; database: string; sslmode?: string; sslrootcert?: string }): string {
  const host = p.host.includes(":") ? `[${p.host}]` : p.host;
  const params = [
    ...(p.sslmode ? [`sslmode=${encodeURIComponent(p.sslmode)}`] : []),
    ...(p.sslrootcert ? [`sslrootcert=${encodeURIComponent(p.sslrootcert)}`] : []),
  ];
  const query = params.length > 0 ? `?${params.join("&")}` : "";
  return `postgresql://${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}@${host}:${p.port}/${encodeURIComponent(p.database)}${query}`;
}

/** Directory (under the project) for CA files given as PEM text in config. */
export const INLINE_CA_DIR = ".armp/tls";

/** Host names and addresses that mean "this machine" (inside a container: the container). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost") || h === "::1" || h === "0.0.0.0" || h === "::") return true;
  return net.isIPv4(h) && h.startsWith("127.");
}

function readRootCert(key: string, raw: string): RootCert {
  if (raw === "system") return { kind: "system", path: "system" };
  if (raw.includes("-----BEGIN CERTIFICATE-----")) {
    const pem = raw.endsWith("\n") ? raw : raw + "\n";
    const hash = createHash("sha256").update(pem).digest("hex").slice(0, 16);
    return { kind: "inline", path: path.resolve(INLINE_CA_DIR, `ca-${hash}.pem`), pem };
  }
  let pem: string;
  try {
    pem = fs.readFileSync(raw, "utf8");
  } catch (cause) {
    throw Object.assign(new StackConfigError(key, `cannot read the CA file ${raw} (${(cause as Error).message}); give the path of the server's CA bundle, its PEM text (set it with --secret), or "system" for the system's trusted roots.`), { cause });
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new StackConfigError(key, `${raw} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); give the server's CA bundle in PEM form.`);
  return { kind: "file", path: path.resolve(raw), pem };
}

/**
 * TLS for the external server: armp-postgres:postgresSslMode / postgresSslRootCert, or the same
 * settings as adminUrl's sslmode / sslrootcert parameters (both set and different is an error).
 */
function readTls(cfg: pulumi.Config, adminUrl: string): PostgresTls {
  const q = new URL(adminUrl).searchParams;
  const pick = (key: string, param: string): string | undefined => {
    const fromKey = optional(cfg, key);
    const fromUrl = q.get(param) ?? undefined;
    if (fromKey !== undefined && fromUrl !== undefined && fromKey !== fromUrl) {
      throw new StackConfigError(`armp-postgres:${key}`, `is "${fromKey.length > 64 ? fromKey.slice(0, 30) + "…" : fromKey}" but armp-postgres:adminUrl says ${param}=${fromUrl}; set it in one place only.`);
    }
    return fromKey ?? fromUrl;
  };
  const sslmode = pick("postgresSslMode", "sslmode") ?? DEFAULTS.postgresSslMode;
  if (!isSslMode(sslmode)) throw new StackConfigError("armp-postgres:postgresSslMode", `must be one of ${SSL_MODES.join(", ")} (libpq's sslmode), got "${sslmode}".`);
  const rootCert = pick("postgresSslRootCert", "sslrootcert");
  return { sslmode, ...(rootCert !== undefined ? { rootCert: readRootCert("armp-postgres:postgresSslRootCert", rootCert) } : {}) };
}

/**
 * Optional string keys are declared in Pulumi.yaml with `default: ""` (a declared key without a
 * default is required by Pulumi), so "" means unset.
 */
function optional(cfg: pulumi.Config, key: string): string | undefined {
  const v = cfg.get(key);
  return v === undefined || v === "" ? undefined : v;
}

function port(cfg: pulumi.Config, key: string, dflt: number): number {
  const v = cfg.getNumber(key) ?? dflt;
  if (!Number.isInteger(v) || v < 1 || v > 65535) throw new StackConfigError(`armp-postgres:${key}`, `must be a TCP port from 1 to 65535, got ${v}.`);
  return v;
}

function bindAddress(cfg: pulumi.Config, key: string, dflt: string): string {
  const v = cfg.get(key) ?? dflt;
  if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(v)) throw new StackConfigError(`armp-postgres:${key}`, `must be an IPv4 address such as 127.0.0.1 (0.0.0.0 exposes the port to the network), got "${v}".`);
  return v;
}

function identifier(cfg: pulumi.Config, key: string, dflt: string): string {
  const v = cfg.get(key) ?? dflt;
  if (!NAME.test(v)) throw new StackConfigError(`armp-postgres:${key}`, `must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63), got "${v}".`);
  return v;
}

function oneOf<T extends string>(cfg: pulumi.Config, key: string, allowed: readonly T[], dflt: T): T {
  const v = cfg.get(key) ?? dflt;
  if (!(allowed as readonly string[]).includes(v)) throw new StackConfigError(`armp-postgres:${key}`, `must be one of ${allowed.join(", ")}, got "${v}".`);
  return v as T;
}

function int(cfg: pulumi.Config, key: string, dflt: number): number {
  const v = cfg.getNumber(key) ?? dflt;
  if (!Number.isInteger(v)) throw new StackConfigError(`armp-postgres:${key}`, `must be an integer, got ${v}.`);
  return v;
}

function extraIndexes(cfg: pulumi.Config): ExtraIndexConfig[] {
  const key = "armp-postgres:extraIndexes";
  const raw = cfg.getObject<unknown>("extraIndexes") ?? [];
  if (!Array.isArray(raw)) throw new StackConfigError(key, "must be a list of { table, columns, unique?, name? }.");
  return raw.map((e: unknown, i: number) => {
    const o = e as Partial<ExtraIndexConfig> | null;
    if (!o || typeof o.table !== "string" || !Array.isArray(o.columns) || o.columns.length === 0 || !o.columns.every((c) => typeof c === "string" && c.length > 0)) {
      throw new StackConfigError(key, `entry ${i} must be { table: string, columns: string[] (at least one), unique?: boolean, name?: string }.`);
    }
    if (o.unique !== undefined && typeof o.unique !== "boolean") throw new StackConfigError(key, `entry ${i}: unique must be true or false.`);
    if (o.name !== undefined && typeof o.name !== "string") throw new StackConfigError(key, `entry ${i}: name must be a string.`);
    return { table: o.table, columns: [...o.columns], ...(o.unique !== undefined ? { unique: o.unique } : {}), ...(o.name !== undefined ? { name: o.name } : {}) };
  });
}

/**
 * Reads and validates every `armp-postgres:` key. Secrets are read as plain text only to validate them and
 * are returned wrapped in `pulumi.secret`.
 */
export function readConfig(cfg: pulumi.Config = new pulumi.Config(CONFIG_NAMESPACE)): StackConfig {
  const mode = oneOf(cfg, "postgresMode", ["docker", "external"] as const, DEFAULTS.postgresMode);
  const manageRole = cfg.getBoolean("manageRole") ?? DEFAULTS.manageRole;
  const pgbouncerEnabled = cfg.getBoolean("pgbouncerEnabled") ?? DEFAULTS.pgbouncerEnabled;

  const postgresPassword = optional(cfg, "postgresPassword");
  if (mode === "docker") {
    if (!manageRole) {
      throw new StackConfigError("armp-postgres:manageRole", "must be true in docker mode: the stack's own server has no app role or database unless the stack creates them.");
    }
  }

  let admin: PostgresUrl | undefined;
  const adminUrl = optional(cfg, "adminUrl");
  if (mode === "external" && manageRole) {
    if (!adminUrl) {
      throw new StackConfigError("armp-postgres:adminUrl", "is required in external mode with armp-postgres:manageRole=true (a role that may CREATE ROLE and CREATE DATABASE); set it with `pulumi config set --secret armp-postgres:adminUrl postgresql://...`, or set armp-postgres:manageRole=false and armp-postgres:databaseUrl.");
    }
    admin = parsePostgresUrl("armp-postgres:adminUrl", adminUrl);
  }
  const tls = admin && adminUrl ? readTls(cfg, adminUrl) : undefined;
  const adminIsSuperuser = oneOf(cfg, "adminIsSuperuser", ["auto", "true", "false"] as const, DEFAULTS.adminIsSuperuser);
  if (tls && pgbouncerEnabled && (tls.sslmode === "verify-ca" || tls.sslmode === "verify-full") && tls.rootCert === undefined) {
    // pgBouncer has no default CA file the way libpq has ~/.postgresql/root.crt.
    throw new StackConfigError(
      "armp-postgres:postgresSslRootCert",
      `is required with sslmode=${tls.sslmode} while pgBouncer runs: pgBouncer checks the server certificate against this CA. Set it to the CA file, its PEM text (--secret), or "system".`,
    );
  }
  if (admin && pgbouncerEnabled && isLoopback(admin.host)) {
    // The pgBouncer container dials adminUrl's host from inside its own network namespace.
    throw new StackConfigError(
      "armp-postgres:pgbouncerEnabled",
      `is true, but armp-postgres:adminUrl's host ${admin.host} is this machine's loopback: inside the pgBouncer container it would be the container itself. ` +
        "Use an address containers can reach (host.docker.internal, or this host's bridge/LAN address such as 172.17.0.1, with a pg_hba.conf line for it) in adminUrl, or set armp-postgres:pgbouncerEnabled=false.",
    );
  }

  const exporterEnabled = cfg.getBoolean("pgbouncerExporterEnabled") ?? DEFAULTS.pgbouncerExporterEnabled;
  if (exporterEnabled && (!pgbouncerEnabled || mode !== "docker")) {
    throw new StackConfigError(
      "armp-postgres:pgbouncerExporterEnabled",
      "is true, but the exporter scrapes the stack's own pgBouncer on the stack's Docker network: it needs armp-postgres:postgresMode=docker and armp-postgres:pgbouncerEnabled=true. Set armp-postgres:pgbouncerExporterEnabled=false, or point your own exporter at `pulumi stack output --show-secrets pgbouncerStatsUrl`.",
    );
  }

  const databaseUrl = optional(cfg, "databaseUrl");
  let ready: PostgresUrl | undefined;
  if (!manageRole) {
    if (!databaseUrl) {
      throw new StackConfigError("armp-postgres:databaseUrl", "is required when armp-postgres:manageRole=false (the ready database URL the server hands out); set it with `pulumi config set --secret armp-postgres:databaseUrl postgresql://...`.");
    }
    ready = parsePostgresUrl("armp-postgres:databaseUrl", databaseUrl);
    if (pgbouncerEnabled) {
      // pgBouncer's SCRAM pass-through needs the role's verifier byte for byte; only a role the stack
      // manages has one the stack knows (issue 4).
      throw new StackConfigError("armp-postgres:pgbouncerEnabled", "must be false when armp-postgres:manageRole=false: pgBouncer needs the SCRAM verifier of a role the stack manages. Run pgBouncer yourself with `armp-pgbouncer render --admin-url ...`, or let the stack manage the role.");
    }
  }

  const appPassword = optional(cfg, "appPassword");
  if (appPassword !== undefined && appPassword.length < 12) {
    throw new StackConfigError("armp-postgres:appPassword", "must be at least 12 characters (or unset, to have the stack generate one).");
  }

  const pool = {
    poolMode: oneOf(cfg, "poolMode", ["transaction", "session", "statement"] as const, DEFAULTS.poolMode),
    maxClientConn: int(cfg, "maxClientConn", DEFAULTS.maxClientConn),
    defaultPoolSize: int(cfg, "defaultPoolSize", DEFAULTS.defaultPoolSize),
    minPoolSize: int(cfg, "minPoolSize", DEFAULTS.minPoolSize),
    reservePoolSize: int(cfg, "reservePoolSize", DEFAULTS.reservePoolSize),
    queryWaitTimeout: int(cfg, "queryWaitTimeout", DEFAULTS.queryWaitTimeout),
    idleTransactionTimeout: int(cfg, "idleTransactionTimeout", DEFAULTS.idleTransactionTimeout),
  };
  // The renderer owns the pool rules (ranges, pool <= max clients, min <= pool); its settings field
  // names are the config key names, so its error maps onto the key directly.
  try {
    validateSettings({ backend: { host: "localhost", port: 5432, database: "placeholder" }, users: [], ...pool });
  } catch (err) {
    if (err instanceof PgBouncerError && typeof err.meta.setting === "string") {
      throw Object.assign(new StackConfigError(`armp-postgres:${err.meta.setting}`, err.message), { cause: err });
    }
    throw err;
  }

  const logLevel = cfg.get("logLevel") ?? DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new StackConfigError("armp-postgres:logLevel", `must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}".`);

  const castOverrides = cfg.getObject<Record<string, string>>("castOverrides") ?? {};
  if (typeof castOverrides !== "object" || Array.isArray(castOverrides) || !Object.values(castOverrides).every((v) => typeof v === "string")) {
    throw new StackConfigError("armp-postgres:castOverrides", 'must be an object of "table.column": "postgres type".');
  }
  const epochs = cfg.getObject<Record<string, string>>("epochs") ?? {};
  if (typeof epochs !== "object" || Array.isArray(epochs) || !Object.entries(epochs).every(([k, v]) => /^[^.]+\.[^.]+$/.test(k) && ["unix", "unix-ms", "coredata", "number"].includes(v))) {
    throw new StackConfigError("armp-postgres:epochs", 'must be an object of "table.column": "unix" | "unix-ms" | "coredata" | "number".');
  }
  const renames = cfg.getObject<Record<string, string>>("renames") ?? {};
  if (typeof renames !== "object" || Array.isArray(renames) || !Object.values(renames).every((v) => typeof v === "string" && v !== "" && Buffer.byteLength(v) <= 63)) {
    throw new StackConfigError("armp-postgres:renames", 'must be an object of "table" or "table.column": "PostgreSQL name" (1 to 63 bytes).');
  }
  const textCollation = cfg.get("textCollation") ?? DEFAULTS.textCollation;
  if (textCollation.trim() === "" || textCollation.length > 63) {
    throw new StackConfigError("armp-postgres:textCollation", 'must be a PostgreSQL collation name (e.g. "C", "und-x-icu") or "database", at most 63 characters.');
  }
  const jobs = int(cfg, "migrationJobs", DEFAULTS.migrationJobs);
  if (jobs < 1 || jobs > 32) throw new StackConfigError("armp-postgres:migrationJobs", `must be from 1 to 32, got ${jobs}.`);

  const envFile = optional(cfg, "envFile");
  if (envFile !== undefined && envFile.trim() === "") throw new StackConfigError("armp-postgres:envFile", 'must be a file path, or "" (the default) to write no env file.');
  const appImage = optional(cfg, "appImage");

  return {
    postgres: {
      mode,
      image: cfg.get("postgresImage") ?? DEFAULTS.postgresImage,
      hostPort: port(cfg, "postgresHostPort", DEFAULTS.postgresHostPort),
      bindAddress: bindAddress(cfg, "postgresBindAddress", DEFAULTS.postgresBindAddress),
      superuser: identifier(cfg, "postgresSuperuser", DEFAULTS.postgresSuperuser),
      ...(mode === "docker" && postgresPassword ? { password: pulumi.secret(postgresPassword) } : {}),
      ...(admin && adminUrl ? { adminUrl: pulumi.secret(adminUrl), admin: withoutPassword(admin) } : {}),
      ...(tls ? { tls } : {}),
      adminIsSuperuser: adminIsSuperuser === "auto" ? "auto" : adminIsSuperuser === "true",
    },
    database: {
      manageRole,
      name: ready ? ready.database : identifier(cfg, "databaseName", DEFAULTS.databaseName),
      appRole: ready ? ready.user : identifier(cfg, "appRole", DEFAULTS.appRole),
      healthcheckRole: identifier(cfg, "healthcheckRole", DEFAULTS.healthcheckRole),
      ...(appPassword !== undefined ? { appPassword: pulumi.secret(appPassword) } : {}),
      ...(databaseUrl && !manageRole ? { databaseUrl: pulumi.secret(databaseUrl) } : {}),
    },
    pgbouncer: {
      enabled: pgbouncerEnabled,
      image: cfg.get("pgbouncerImage") ?? DEFAULTS.pgbouncerImage,
      hostPort: port(cfg, "pgbouncerHostPort", DEFAULTS.pgbouncerHostPort),
      bindAddress: bindAddress(cfg, "pgbouncerBindAddress", DEFAULTS.pgbouncerBindAddress),
      ...pool,
    },
    exporter: {
      enabled: exporterEnabled,
      image: cfg.get("pgbouncerExporterImage") ?? DEFAULTS.pgbouncerExporterImage,
      hostPort: port(cfg, "pgbouncerExporterHostPort", DEFAULTS.pgbouncerExporterHostPort),
    },
    app: {
      environment: cfg.get("environment") ?? DEFAULTS.environment,
      logLevel,
      ...(envFile !== undefined ? { envFile } : {}),
      ...(appImage !== undefined ? { image: appImage } : {}),
      port: port(cfg, "appPort", DEFAULTS.appPort),
      hostPort: port(cfg, "appHostPort", DEFAULTS.appHostPort),
    },
    migration: {
      enabled: cfg.getBoolean("migrationEnabled") ?? DEFAULTS.migrationEnabled,
      sourcePath: cfg.get("sourcePath") ?? DEFAULTS.sourcePath,
      targetSchema: cfg.get("targetSchema") ?? DEFAULTS.targetSchema,
      jobs,
      extraIndexes: extraIndexes(cfg),
      castOverrides,
      strictTypes: cfg.getBoolean("strictTypes") ?? DEFAULTS.strictTypes,
      epochs: epochs as Record<string, "unix" | "unix-ms" | "coredata" | "number">,
      renames,
      timestamptz: cfg.getBoolean("timestamptz") ?? DEFAULTS.timestamptz,
      textCollation,
      captureEnabled: cfg.getBoolean("captureEnabled") ?? DEFAULTS.captureEnabled,
    },
  };
}

function withoutPassword(u: PostgresUrl): Omit<PostgresUrl, "password"> {
  const { password: _password, ...rest } = u;
  return rest;
}
