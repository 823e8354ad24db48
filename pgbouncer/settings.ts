/**
 * Typed pgBouncer settings, their defaults and validation. Validation errors name the pgbouncer.ini
 * key and the settings field, so a Pulumi config error or a CLI error points at what to change.
 */
import { PgBouncerError } from "./errors";
import { isScramVerifier } from "./scram";

export type PoolMode = "transaction" | "session" | "statement";

/** pgBouncer's TLS modes (server_tls_sslmode / client_tls_sslmode): libpq's sslmode names and meanings. */
export const TLS_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** TLS from pgBouncer to PostgreSQL. */
export interface ServerTls {
  sslmode: TlsMode;
  /** CA file (inside pgBouncer's file system) that server certificates are checked against; verify-ca/verify-full need it. */
  caFile?: string;
}

/** TLS from the apps to pgBouncer: pgBouncer's own key and certificate. */
export interface ClientTls {
  sslmode: TlsMode;
  keyFile: string;
  certFile: string;
  /** CA for client certificates (verify-ca/verify-full). */
  caFile?: string;
}

export interface PgBouncerUser {
  name: string;
  /** SCRAM-SHA-256 verifier, byte-identical to pg_authid.rolpassword for the role. Never plaintext. */
  verifier: string;
}

export interface PgBouncerSettings {
  /** Defaults to "0.0.0.0" (inside the container; the published port is what limits exposure). */
  listenAddr?: string;
  /** Defaults to 6432. */
  listenPort?: number;
  /** One [databases] entry named like the database. */
  backend: { host: string; port: number; database: string };
  /** Defaults to "transaction". */
  poolMode?: PoolMode;
  /** Defaults to 100. */
  maxClientConn?: number;
  /** Server connections per (database, user) pool. Defaults to 20. */
  defaultPoolSize?: number;
  /** Defaults to 5. */
  minPoolSize?: number;
  /** Defaults to 0. */
  reservePoolSize?: number;
  /** Seconds a client may wait for a server connection. Defaults to 30. */
  queryWaitTimeout?: number;
  /** Seconds a server connection may sit idle inside a transaction. Defaults to 60. */
  idleTransactionTimeout?: number;
  /** Defaults to []. */
  adminUsers?: string[];
  /** Defaults to []. */
  statsUsers?: string[];
  /** Defaults to "/etc/pgbouncer/userlist.txt". */
  authFile?: string;
  /** SCRAM-SHA-256 verifiers, never plaintext (they go to renderUserlist, not into pgbouncer.ini). */
  users: PgBouncerUser[];
  /**
   * For running outside a container: directory of the Unix socket. Omitted (pgBouncer's built-in
   * default) when undefined; "" disables the socket.
   */
  unixSocketDir?: string;
  /** For running outside a container. Omitted when undefined. */
  pidFile?: string;
  /** For running outside a container (pgBouncer logs to stderr too). Omitted when undefined. */
  logFile?: string;
  /** server_tls_*: omitted when undefined (pgBouncer's default, prefer without a CA). */
  serverTls?: ServerTls;
  /** client_tls_*: omitted when undefined (pgBouncer's default, no TLS towards apps). */
  clientTls?: ClientTls;
  /**
   * max_prepared_statements (pgBouncer >= 1.21): protocol-level prepared statements kept per
   * server connection in transaction pooling; 0 turns the support off. Omitted when undefined,
   * which a pgBouncer older than 1.21 needs (it refuses to start on an unknown key).
   */
  maxPreparedStatements?: number;
}

/** All fields filled in; what render.ts writes out. */
export type ResolvedPgBouncerSettings = Required<Omit<PgBouncerSettings, "unixSocketDir" | "pidFile" | "logFile" | "maxPreparedStatements" | "serverTls" | "clientTls">> &
  Pick<PgBouncerSettings, "unixSocketDir" | "pidFile" | "logFile" | "maxPreparedStatements" | "serverTls" | "clientTls">;

export const PGBOUNCER_DEFAULTS = {
  listenAddr: "0.0.0.0",
  listenPort: 6432,
  poolMode: "transaction" as PoolMode,
  maxClientConn: 100,
  defaultPoolSize: 20,
  minPoolSize: 5,
  reservePoolSize: 0,
  queryWaitTimeout: 30,
  idleTransactionTimeout: 60,
  authFile: "/etc/pgbouncer/userlist.txt",
} as const;

/** The pgbouncer.ini key of each settings field, for error messages. */
export const INI_KEYS: Record<string, string> = {
  listenAddr: "listen_addr",
  listenPort: "listen_port",
  poolMode: "pool_mode",
  maxClientConn: "max_client_conn",
  defaultPoolSize: "default_pool_size",
  minPoolSize: "min_pool_size",
  reservePoolSize: "reserve_pool_size",
  queryWaitTimeout: "query_wait_timeout",
  idleTransactionTimeout: "idle_transaction_timeout",
  maxPreparedStatements: "max_prepared_statements",
  adminUsers: "admin_users",
  statsUsers: "stats_users",
  authFile: "auth_file",
  unixSocketDir: "unix_socket_dir",
  pidFile: "pidfile",
  logFile: "logfile",
  "serverTls.sslmode": "server_tls_sslmode",
  "serverTls.caFile": "server_tls_ca_file",
  "clientTls.sslmode": "client_tls_sslmode",
  "clientTls.keyFile": "client_tls_key_file",
  "clientTls.certFile": "client_tls_cert_file",
  "clientTls.caFile": "client_tls_ca_file",
  "backend.host": "databases.host",
  "backend.port": "databases.port",
  "backend.database": "databases.dbname",
  users: "auth_file",
};

function invalid(setting: string, message: string, extra: Record<string, unknown> = {}): PgBouncerError {
  const key = INI_KEYS[setting] ?? setting;
  return new PgBouncerError("CONFIG_INVALID", `${key} (${setting}): ${message}`, { key, setting, ...extra });
}

export function resolveSettings(s: PgBouncerSettings): ResolvedPgBouncerSettings {
  return {
    listenAddr: s.listenAddr ?? PGBOUNCER_DEFAULTS.listenAddr,
    listenPort: s.listenPort ?? PGBOUNCER_DEFAULTS.listenPort,
    backend: s.backend,
    poolMode: s.poolMode ?? PGBOUNCER_DEFAULTS.poolMode,
    maxClientConn: s.maxClientConn ?? PGBOUNCER_DEFAULTS.maxClientConn,
    defaultPoolSize: s.defaultPoolSize ?? PGBOUNCER_DEFAULTS.defaultPoolSize,
    minPoolSize: s.minPoolSize ?? PGBOUNCER_DEFAULTS.minPoolSize,
    reservePoolSize: s.reservePoolSize ?? PGBOUNCER_DEFAULTS.reservePoolSize,
    queryWaitTimeout: s.queryWaitTimeout ?? PGBOUNCER_DEFAULTS.queryWaitTimeout,
    idleTransactionTimeout: s.idleTransactionTimeout ?? PGBOUNCER_DEFAULTS.idleTransactionTimeout,
    adminUsers: s.adminUsers ?? [],
    statsUsers: s.statsUsers ?? [],
    authFile: s.authFile ?? PGBOUNCER_DEFAULTS.authFile,
    users: s.users,
    unixSocketDir: s.unixSocketDir,
    pidFile: s.pidFile,
    logFile: s.logFile,
    serverTls: s.serverTls,
    clientTls: s.clientTls,
    maxPreparedStatements: s.maxPreparedStatements,
  };
}

// Values end up on one ini line (and database names as ini keys / connstring values), so they
// must not carry line breaks, quotes, '=' or ';' that would change what pgBouncer parses.
const SAFE_TOKEN = /^[A-Za-z0-9_.:\-/*,]+$/;
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-$]*$/;
const SAFE_PATH = /^\/[^\s"';=#]*$/;

function checkInt(setting: string, v: unknown, min: number, max: number): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(setting, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}.`, { value: v });
  }
}

/** Throws a CONFIG_INVALID PgBouncerError naming the first offending key. */
export function validateSettings(input: PgBouncerSettings): void {
  if (input === null || typeof input !== "object") throw invalid("settings", "settings must be an object.");
  if (!input.backend || typeof input.backend !== "object") throw invalid("backend.host", "backend { host, port, database } is required.");
  const s = resolveSettings(input);

  if (typeof s.listenAddr !== "string" || !SAFE_TOKEN.test(s.listenAddr)) {
    throw invalid("listenAddr", `must be an address such as 127.0.0.1, 0.0.0.0 or *, got ${JSON.stringify(s.listenAddr)}.`);
  }
  checkInt("listenPort", s.listenPort, 1, 65535);
  if (typeof s.backend.host !== "string" || !/^[A-Za-z0-9_.:\-/]+$/.test(s.backend.host)) {
    throw invalid("backend.host", `must be a host name, IP address or socket directory, got ${JSON.stringify(s.backend.host)}.`);
  }
  checkInt("backend.port", s.backend.port, 1, 65535);
  if (typeof s.backend.database !== "string" || !SAFE_NAME.test(s.backend.database)) {
    throw invalid("backend.database", `must be a database name of letters, digits, _ . - $ (it becomes the [databases] key), got ${JSON.stringify(s.backend.database)}.`);
  }
  if (!["transaction", "session", "statement"].includes(s.poolMode)) {
    throw invalid("poolMode", `must be one of transaction, session, statement, got ${JSON.stringify(s.poolMode)}.`);
  }
  checkInt("maxClientConn", s.maxClientConn, 1, 1_000_000);
  checkInt("defaultPoolSize", s.defaultPoolSize, 1, 1_000_000);
  checkInt("minPoolSize", s.minPoolSize, 0, 1_000_000);
  checkInt("reservePoolSize", s.reservePoolSize, 0, 1_000_000);
  checkInt("queryWaitTimeout", s.queryWaitTimeout, 0, 86_400);
  checkInt("idleTransactionTimeout", s.idleTransactionTimeout, 0, 86_400);
  if (s.maxPreparedStatements !== undefined) checkInt("maxPreparedStatements", s.maxPreparedStatements, 0, 100_000);
  // A pool larger than the number of clients allowed can never fill: the sizes are inconsistent.
  if (s.defaultPoolSize > s.maxClientConn) {
    throw invalid("defaultPoolSize", `${s.defaultPoolSize} exceeds max_client_conn (maxClientConn) = ${s.maxClientConn}; lower default_pool_size or raise max_client_conn.`, { value: s.defaultPoolSize, maxClientConn: s.maxClientConn });
  }
  if (s.minPoolSize > s.defaultPoolSize) {
    throw invalid("minPoolSize", `${s.minPoolSize} exceeds default_pool_size (defaultPoolSize) = ${s.defaultPoolSize}; lower min_pool_size or raise default_pool_size.`, { value: s.minPoolSize, defaultPoolSize: s.defaultPoolSize });
  }
  for (const field of ["adminUsers", "statsUsers"] as const) {
    const list = s[field];
    if (!Array.isArray(list)) throw invalid(field, "must be a list of role names.");
    for (const u of list) {
      if (typeof u !== "string" || !SAFE_NAME.test(u)) throw invalid(field, `role names must be letters, digits, _ . - $, got ${JSON.stringify(u)}.`);
    }
  }
  for (const field of ["authFile", "pidFile", "logFile"] as const) {
    const v = s[field];
    if (v !== undefined && (typeof v !== "string" || !SAFE_PATH.test(v))) {
      throw invalid(field, `must be an absolute path without spaces, quotes, ';', '=' or '#', got ${JSON.stringify(v)}.`);
    }
  }
  if (s.unixSocketDir !== undefined && s.unixSocketDir !== "" && (typeof s.unixSocketDir !== "string" || !SAFE_PATH.test(s.unixSocketDir))) {
    throw invalid("unixSocketDir", `must be an absolute path without spaces, quotes, ';', '=' or '#' (or "" to disable the socket), got ${JSON.stringify(s.unixSocketDir)}.`);
  }
  if (s.serverTls !== undefined) {
    const t = s.serverTls;
    if (!(TLS_MODES as readonly string[]).includes(t.sslmode)) throw invalid("serverTls.sslmode", `must be one of ${TLS_MODES.join(", ")}, got ${JSON.stringify(t.sslmode)}.`);
    if (t.caFile !== undefined && !SAFE_PATH.test(t.caFile)) throw invalid("serverTls.caFile", `must be an absolute path without spaces, quotes, ';', '=' or '#', got ${JSON.stringify(t.caFile)}.`);
    if ((t.sslmode === "verify-ca" || t.sslmode === "verify-full") && t.caFile === undefined) {
      throw invalid("serverTls.caFile", `is required with server_tls_sslmode = ${t.sslmode}: pgBouncer checks the server certificate against this CA file.`);
    }
  }
  if (s.clientTls !== undefined) {
    const t = s.clientTls;
    if (!(TLS_MODES as readonly string[]).includes(t.sslmode)) throw invalid("clientTls.sslmode", `must be one of ${TLS_MODES.join(", ")}, got ${JSON.stringify(t.sslmode)}.`);
    for (const f of ["keyFile", "certFile", "caFile"] as const) {
      const v = t[f];
      if ((v !== undefined || f !== "caFile") && (typeof v !== "string" || !SAFE_PATH.test(v))) {
        throw invalid(`clientTls.${f}`, `must be an absolute path without spaces, quotes, ';', '=' or '#', got ${JSON.stringify(v)}.`);
      }
    }
  }
  if (!Array.isArray(s.users)) throw invalid("users", "must be a list of { name, verifier }.");
  const seen = new Set<string>();
  for (const u of s.users) {
    if (!u || typeof u.name !== "string" || u.name.length === 0 || /[\s"]/.test(u.name)) {
      throw invalid("users", `user names must be non-empty without whitespace or double quotes, got ${JSON.stringify(u?.name)}.`);
    }
    if (seen.has(u.name)) throw invalid("users", `user ${JSON.stringify(u.name)} is listed twice.`, { user: u.name });
    seen.add(u.name);
    // The value is deliberately not echoed: it may be a plaintext password put here by mistake.
    if (typeof u.verifier !== "string" || !isScramVerifier(u.verifier)) {
      throw invalid("users", `the verifier of user ${JSON.stringify(u.name)} is not a SCRAM-SHA-256 verifier (SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>); compute it with scramSha256Verifier() or read pg_authid.rolpassword.`, { user: u.name });
    }
  }
}
