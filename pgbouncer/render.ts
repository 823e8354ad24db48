/**
 * Renders pgbouncer.ini and userlist.txt from validated settings. Output is deterministic (fixed
 * key order, no timestamps) so a pool-setting change shows up in `pulumi preview` as a diff of
 * exactly that line, and tests can compare the whole text.
 */
import { PgBouncerError } from "./errors";
import { resolveSettings, validateSettings, type PgBouncerSettings, type PgBouncerUser } from "./settings";
import { isScramVerifier } from "./scram";

/** `key = value`, without a trailing space when the value is empty (an explicit empty setting). */
function kv(key: string, value: string | number): string {
  return value === "" ? `${key} =` : `${key} = ${value}`;
}

export function renderPgBouncerIni(settings: PgBouncerSettings): string {
  validateSettings(settings);
  const s = resolveSettings(settings);
  const lines: string[] = [
    ";; Rendered by armp-postgres (pgbouncer/render.ts) from typed settings; re-render instead of editing.",
    "[databases]",
    `${s.backend.database} = host=${s.backend.host} port=${s.backend.port} dbname=${s.backend.database}`,
    "",
    "[pgbouncer]",
    `listen_addr = ${s.listenAddr}`,
    `listen_port = ${s.listenPort}`,
  ];
  if (s.unixSocketDir !== undefined) lines.push(kv("unix_socket_dir", s.unixSocketDir));
  if (s.pidFile !== undefined) lines.push(kv("pidfile", s.pidFile));
  if (s.logFile !== undefined) lines.push(kv("logfile", s.logFile));
  lines.push(
    ";; Clients authenticate with SCRAM against the verifiers in auth_file; because each verifier is",
    ";; byte-identical to pg_authid.rolpassword, pgBouncer reuses the client's proof to log in to",
    ";; PostgreSQL and never needs a plaintext password.",
    "auth_type = scram-sha-256",
    `auth_file = ${s.authFile}`,
    kv("admin_users", s.adminUsers.join(",")),
    kv("stats_users", s.statsUsers.join(",")),
    `pool_mode = ${s.poolMode}`,
    `max_client_conn = ${s.maxClientConn}`,
    `default_pool_size = ${s.defaultPoolSize}`,
    `min_pool_size = ${s.minPoolSize}`,
    `reserve_pool_size = ${s.reservePoolSize}`,
  );
  if (s.maxPreparedStatements !== undefined) {
    lines.push(
      ";; Protocol-level prepared statements (Parse/Bind: node-postgres named queries, psycopg 3",
      ";; prepare=True, pgbench -M prepared) survive transaction pooling: pgBouncer re-prepares them",
      ";; on whichever server connection runs the next transaction. SQL-level PREPARE/EXECUTE does not.",
      `max_prepared_statements = ${s.maxPreparedStatements}`,
    );
  }
  if (s.poolMode === "session") {
    lines.push(
      ";; Session pooling hands a server connection to a new client only after the old one leaves,",
      ";; so DISCARD ALL clears its SET/PREPARE/advisory-lock state first.",
      "server_reset_query = DISCARD ALL",
    );
  } else {
    lines.push(
      ";; Empty on purpose: in transaction pooling a server connection changes client after every",
      ";; transaction, so clients must not rely on session state at all, and pgBouncer runs no reset",
      ";; query in this mode unless server_reset_query_always is set (it is not). DISCARD ALL here",
      ";; would only add a round trip per transaction.",
      "server_reset_query =",
    );
  }
  if (s.serverTls !== undefined) {
    lines.push(
      ";; TLS towards PostgreSQL, with libpq's sslmode meanings (require: encrypted, not verified;",
      ";; verify-full: the certificate is checked against the CA and the [databases] host name).",
      `server_tls_sslmode = ${s.serverTls.sslmode}`,
    );
    if (s.serverTls.caFile !== undefined) lines.push(`server_tls_ca_file = ${s.serverTls.caFile}`);
  }
  if (s.clientTls !== undefined) {
    lines.push(
      ";; TLS towards the apps, with pgBouncer's own key and certificate.",
      `client_tls_sslmode = ${s.clientTls.sslmode}`,
      `client_tls_key_file = ${s.clientTls.keyFile}`,
      `client_tls_cert_file = ${s.clientTls.certFile}`,
    );
    if (s.clientTls.caFile !== undefined) lines.push(`client_tls_ca_file = ${s.clientTls.caFile}`);
  }
  lines.push(
    `query_wait_timeout = ${s.queryWaitTimeout}`,
    `idle_transaction_timeout = ${s.idleTransactionTimeout}`,
    ";; JDBC and other drivers send extra_float_digits in the startup packet; pgBouncer would refuse",
    ";; the connection for an unknown startup parameter.",
    "ignore_startup_parameters = extra_float_digits",
    "",
  );
  return lines.join("\n");
}

/** pgBouncer's auth_file syntax: `"name" "secret"`, a double quote inside doubled. */
function quote(v: string): string {
  return `"${v.replace(/"/g, '""')}"`;
}

/** userlist.txt with SCRAM verifiers only; refuses anything that is not a verifier. */
export function renderUserlist(users: PgBouncerUser[]): string {
  for (const u of users) {
    if (typeof u.name !== "string" || u.name.length === 0 || /[\r\n]/.test(u.name)) {
      throw new PgBouncerError("CONFIG_INVALID", `auth_file (users): user name ${JSON.stringify(u.name)} must be non-empty and on one line.`, { key: "auth_file", setting: "users" });
    }
    if (!isScramVerifier(u.verifier)) {
      throw new PgBouncerError(
        "CONFIG_INVALID",
        `auth_file (users): the secret of user ${JSON.stringify(u.name)} is not a SCRAM-SHA-256 verifier; compute it with scramSha256Verifier() or read pg_authid.rolpassword (renderUserlistPlaintext exists for the CLI's plaintext mode).`,
        { key: "auth_file", setting: "users", user: u.name },
      );
    }
  }
  return users.map((u) => `${quote(u.name)} ${quote(u.verifier)}\n`).join("");
}

/**
 * userlist.txt with plaintext passwords, for `armp-pgbouncer render` without --admin-url: pgBouncer
 * can then run SCRAM towards both the client and the server itself. The caller must write the file
 * with mode 0600.
 */
export function renderUserlistPlaintext(users: { name: string; password: string }[]): string {
  for (const u of users) {
    if (typeof u.name !== "string" || u.name.length === 0 || /[\r\n]/.test(u.name) || /[\r\n]/.test(u.password)) {
      throw new PgBouncerError("CONFIG_INVALID", `auth_file (users): user ${JSON.stringify(u.name)} and its password must be non-empty and on one line.`, { key: "auth_file", setting: "users", user: u.name });
    }
  }
  return users.map((u) => `${quote(u.name)} ${quote(u.password)}\n`).join("");
}
