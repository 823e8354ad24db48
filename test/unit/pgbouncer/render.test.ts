import { PGBOUNCER_DEFAULTS, renderPgBouncerIni, renderUserlist, renderUserlistPlaintext, scramSha256Verifier, validateSettings, type PgBouncerSettings } from "../../../pgbouncer";

const VERIFIER = scramSha256Verifier("pencil", { salt: Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64") });
const base: PgBouncerSettings = {
  backend: { host: "armp-postgres", port: 5432, database: "armp" },
  adminUsers: ["pgbouncer_admin"],
  statsUsers: ["pgbouncer_stats"],
  users: [{ name: "armp", verifier: VERIFIER }],
};

const DEFAULT_INI = `;; Rendered by armp-postgres (pgbouncer/render.ts) from typed settings; re-render instead of editing.
[databases]
armp = host=armp-postgres port=5432 dbname=armp

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
;; Clients authenticate with SCRAM against the verifiers in auth_file; because each verifier is
;; byte-identical to pg_authid.rolpassword, pgBouncer reuses the client's proof to log in to
;; PostgreSQL and never needs a plaintext password.
auth_type = scram-sha-256
auth_file = /etc/pgbouncer/userlist.txt
admin_users = pgbouncer_admin
stats_users = pgbouncer_stats
pool_mode = transaction
max_client_conn = 100
default_pool_size = 20
min_pool_size = 5
reserve_pool_size = 0
;; Empty on purpose: in transaction pooling a server connection changes client after every
;; transaction, so clients must not rely on session state at all, and pgBouncer runs no reset
;; query in this mode unless server_reset_query_always is set (it is not). DISCARD ALL here
;; would only add a round trip per transaction.
server_reset_query =
query_wait_timeout = 30
idle_transaction_timeout = 60
;; JDBC and other drivers send extra_float_digits in the startup packet; pgBouncer would refuse
;; the connection for an unknown startup parameter.
ignore_startup_parameters = extra_float_digits
`;

describe("renderPgBouncerIni", () => {
  it("renders the defaults exactly", () => {
    expect(renderPgBouncerIni(base)).toBe(DEFAULT_INI);
    expect(PGBOUNCER_DEFAULTS).toEqual({
      listenAddr: "0.0.0.0", listenPort: 6432, poolMode: "transaction", maxClientConn: 100, defaultPoolSize: 20, minPoolSize: 5,
      reservePoolSize: 0, queryWaitTimeout: 30, idleTransactionTimeout: 60, authFile: "/etc/pgbouncer/userlist.txt",
    });
  });

  it("is deterministic and a pool change alters exactly its line", () => {
    const changed = renderPgBouncerIni({ ...base, defaultPoolSize: 25 });
    expect(renderPgBouncerIni(base)).toBe(renderPgBouncerIni({ ...base }));
    const before = DEFAULT_INI.split("\n");
    const after = changed.split("\n");
    expect(after.filter((l, i) => l !== before[i])).toEqual(["default_pool_size = 25"]);
  });

  it("renders the options for running outside a container and session mode's reset query", () => {
    const ini = renderPgBouncerIni({
      ...base, listenAddr: "127.0.0.1", listenPort: 7432, unixSocketDir: "", pidFile: "/run/pgb/pgbouncer.pid", logFile: "/var/log/pgb.log",
      poolMode: "session", maxClientConn: 50, defaultPoolSize: 10, minPoolSize: 0, reservePoolSize: 2, queryWaitTimeout: 5, idleTransactionTimeout: 0,
      adminUsers: ["a", "b"], statsUsers: [], authFile: "/tmp/x/userlist.txt",
    });
    expect(ini.split("\n").filter((l) => !l.startsWith(";;"))).toEqual([
      "[databases]",
      "armp = host=armp-postgres port=5432 dbname=armp",
      "",
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      "listen_port = 7432",
      "unix_socket_dir =",
      "pidfile = /run/pgb/pgbouncer.pid",
      "logfile = /var/log/pgb.log",
      "auth_type = scram-sha-256",
      "auth_file = /tmp/x/userlist.txt",
      "admin_users = a,b",
      "stats_users =",
      "pool_mode = session",
      "max_client_conn = 50",
      "default_pool_size = 10",
      "min_pool_size = 0",
      "reserve_pool_size = 2",
      "server_reset_query = DISCARD ALL",
      "query_wait_timeout = 5",
      "idle_transaction_timeout = 0",
      "ignore_startup_parameters = extra_float_digits",
      "",
    ]);
  });
});

describe("validateSettings", () => {
  const cases: [string, Partial<PgBouncerSettings>, string, string][] = [
    ["pool larger than max clients", { defaultPoolSize: 200 }, "default_pool_size", "default_pool_size (defaultPoolSize): 200 exceeds max_client_conn (maxClientConn) = 100; lower default_pool_size or raise max_client_conn."],
    ["min pool above pool", { minPoolSize: 21 }, "min_pool_size", "min_pool_size (minPoolSize): 21 exceeds default_pool_size (defaultPoolSize) = 20; lower min_pool_size or raise default_pool_size."],
    ["zero clients", { maxClientConn: 0 }, "max_client_conn", "max_client_conn (maxClientConn): must be an integer from 1 to 1000000, got 0."],
    ["fractional port", { listenPort: 64.5 }, "listen_port", "listen_port (listenPort): must be an integer from 1 to 65535, got 64.5."],
    ["unknown pool mode", { poolMode: "sessions" as never }, "pool_mode", 'pool_mode (poolMode): must be one of transaction, session, statement, got "sessions".'],
    ["newline in admin user", { adminUsers: ["a\nb"] }, "admin_users", 'admin_users (adminUsers): role names must be letters, digits, _ . - $, got "a\\nb".'],
    ["relative auth file", { authFile: "userlist.txt" }, "auth_file", `auth_file (authFile): must be an absolute path without spaces, quotes, ';', '=' or '#', got "userlist.txt".`],
    ["database name with a space", { backend: { host: "h", port: 5432, database: "my db" } }, "databases.dbname", 'databases.dbname (backend.database): must be a database name of letters, digits, _ . - $ (it becomes the [databases] key), got "my db".'],
    ["plaintext password as verifier", { users: [{ name: "armp", verifier: "hunter2" }] }, "auth_file", 'auth_file (users): the verifier of user "armp" is not a SCRAM-SHA-256 verifier (SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>); compute it with scramSha256Verifier() or read pg_authid.rolpassword.'],
  ];
  it.each(cases)("rejects %s naming the key", (_name, patch, key, message) => {
    let caught: unknown;
    try {
      validateSettings({ ...base, ...patch });
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ name: "PgBouncerError", code: "CONFIG_INVALID", message, meta: expect.objectContaining({ key }) });
    expect(String((caught as Error).message)).not.toContain("hunter2");
  });

  it("accepts the defaults", () => {
    expect(validateSettings(base)).toBeUndefined();
  });
});

describe("userlist", () => {
  it("quotes names and secrets in pgBouncer's auth_file syntax", () => {
    expect(renderUserlist([{ name: "armp", verifier: VERIFIER }, { name: 'we"ird', verifier: VERIFIER }])).toBe(`"armp" "${VERIFIER}"\n"we""ird" "${VERIFIER}"\n`);
    expect(renderUserlistPlaintext([{ name: "armp", password: 'p"w' }])).toBe('"armp" "p""w"\n');
  });

  it("refuses a plaintext secret in renderUserlist without echoing it", () => {
    expect(() => renderUserlist([{ name: "armp", verifier: "hunter2" }])).toThrow(
      'auth_file (users): the secret of user "armp" is not a SCRAM-SHA-256 verifier; compute it with scramSha256Verifier() or read pg_authid.rolpassword (renderUserlistPlaintext exists for the CLI\'s plaintext mode).',
    );
  });
});

describe("renderPgBouncerIni TLS", () => {
  it("renders server_tls_* and client_tls_* after the pool settings, and requires a CA for verify-*", () => {
    const ini = renderPgBouncerIni({
      ...base,
      serverTls: { sslmode: "verify-full", caFile: "/etc/pgbouncer/server-ca.pem" },
      clientTls: { sslmode: "require", keyFile: "/etc/pgbouncer/tls.key", certFile: "/etc/pgbouncer/tls.crt" },
    });
    const lines = ini.split("\n");
    const at = lines.indexOf("server_reset_query =");
    expect(lines.slice(at + 1, at + 10)).toEqual([
      ";; TLS towards PostgreSQL, with libpq's sslmode meanings (require: encrypted, not verified;",
      ";; verify-full: the certificate is checked against the CA and the [databases] host name).",
      "server_tls_sslmode = verify-full",
      "server_tls_ca_file = /etc/pgbouncer/server-ca.pem",
      ";; TLS towards the apps, with pgBouncer's own key and certificate.",
      "client_tls_sslmode = require",
      "client_tls_key_file = /etc/pgbouncer/tls.key",
      "client_tls_cert_file = /etc/pgbouncer/tls.crt",
      "query_wait_timeout = 30",
    ]);
    // Without TLS settings nothing changes.
    expect(renderPgBouncerIni(base)).toBe(DEFAULT_INI);
    expect(() => renderPgBouncerIni({ ...base, serverTls: { sslmode: "verify-ca" } })).toThrow(
      "server_tls_ca_file (serverTls.caFile): is required with server_tls_sslmode = verify-ca: pgBouncer checks the server certificate against this CA file.",
    );
    expect(() => renderPgBouncerIni({ ...base, serverTls: { sslmode: "on" as never } })).toThrow(
      'server_tls_sslmode (serverTls.sslmode): must be one of disable, allow, prefer, require, verify-ca, verify-full, got "on".',
    );
  });
});
