/**
 * armp-pgbouncer: renders the same pgbouncer.ini and userlist.txt the container gets, for running
 * pgBouncer outside Docker (and for tests). bin/armp-pgbouncer.js calls main().
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { Client } from "pg";
import { PgBouncerError } from "./errors";
import { renderPgBouncerIni, renderUserlist, renderUserlistPlaintext } from "./render";
import { type PgBouncerSettings, type PoolMode } from "./settings";
import { isScramVerifier, verifierMatchesPassword } from "./scram";
import { redactUrl, scrubSecrets } from "../migrate/engine/url";

export const HELP = `Usage: armp-pgbouncer render --backend <postgres-url> --listen <host:port> --out <dir> [options]

Writes <dir>/pgbouncer.ini (mode 0644) and <dir>/userlist.txt (mode 0600) for pgBouncer with
pool_mode = transaction and auth_type = scram-sha-256, the same text the Pulumi stack's container gets.

The userlist secret, and why:
  pgBouncer can log in to PostgreSQL with a SCRAM verifier only if it is byte-identical to the one
  PostgreSQL stores for the role (same salt). A password in a URL cannot reproduce that salt, so:
  --admin-url <url>   read the role's verifier from pg_authid (needs a superuser URL) and write that
                      verifier into userlist.txt: no plaintext password on disk.
  (without it)        write the plaintext password from --backend into userlist.txt, readable by its
                      owner only (0600); pgBouncer runs SCRAM with clients and the server from it.

Options:
  --backend <url>                  postgres://user:password@host:port/database (PostgreSQL, not pgBouncer)
  --listen <host:port>             address pgBouncer listens on, e.g. 127.0.0.1:6432
  --out <dir>                      output directory (created if missing)
  --admin-url <url>                superuser URL used only to read pg_authid (see above)
  --pool-mode <mode>               transaction (default), session or statement
  --max-client-conn <n>            default 100
  --default-pool-size <n>          default 20
  --min-pool-size <n>              default 5
  --reserve-pool-size <n>          default 0
  --query-wait-timeout <s>         default 30
  --idle-transaction-timeout <s>   default 60
  --admin-user <role>              may use the admin console (repeatable; must be in userlist.txt)
  --stats-user <role>              may use SHOW commands (repeatable; must be in userlist.txt)
  --auth-file <path>               auth_file in pgbouncer.ini (default: <dir>/userlist.txt, absolute)
  --unix-socket-dir <dir>          Unix socket directory (default: none, TCP only)
  --pidfile <path>                 pgBouncer pid file (default: none)
  --logfile <path>                 pgBouncer log file (default: none; it logs to stderr)
  -h, --help                       show this help
`;

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
}

const defaultIO: CliIO = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

interface Backend {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

function parseBackend(url: string): Backend {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new PgBouncerError("CONFIG_INVALID", `--backend is not a URL (${redactUrl(url)}); pass postgres://user:password@host:5432/database.`, { key: "--backend" }, e);
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new PgBouncerError("CONFIG_INVALID", `--backend must be a postgres:// URL, got ${u.protocol}//; pass postgres://user:password@host:5432/database.`, { key: "--backend" });
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  const user = decodeURIComponent(u.username);
  if (!u.hostname || !database || !user) {
    throw new PgBouncerError("CONFIG_INVALID", `--backend ${redactUrl(url)} needs a host, a user and a database; pass postgres://user:password@host:5432/database.`, { key: "--backend" });
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port ? Number(u.port) : 5432,
    database,
    user,
    password: decodeURIComponent(u.password),
  };
}

function parseListen(v: string): { addr: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(v);
  if (!m) throw new PgBouncerError("CONFIG_INVALID", `--listen must be host:port, e.g. 127.0.0.1:6432, got ${JSON.stringify(v)}.`, { key: "--listen" });
  return { addr: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new PgBouncerError("CONFIG_INVALID", `--${name} must be a non-negative integer, got ${JSON.stringify(v)}.`, { key: `--${name}` });
  return Number(v);
}

/** Reads the role's SCRAM verifier from pg_authid (superuser only). */
async function readVerifier(adminUrl: string, role: string): Promise<string> {
  const c = new Client({ connectionString: adminUrl });
  try {
    await c.connect();
  } catch (e) {
    throw new PgBouncerError("TARGET_UNREACHABLE", `cannot connect with --admin-url ${redactUrl(adminUrl)}: ${scrubSecrets((e as Error).message, [adminUrl])}; check host, port and credentials.`, { key: "--admin-url" }, e);
  }
  try {
    const r = await c.query<{ p: string | null }>("SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1", [role]);
    if (r.rows.length === 0) {
      throw new PgBouncerError("CONFIG_INVALID", `role ${JSON.stringify(role)} (the user of --backend) does not exist on the server; create it or fix --backend.`, { key: "--backend", role });
    }
    const p = r.rows[0].p;
    if (p === null || !isScramVerifier(p)) {
      throw new PgBouncerError(
        "CONFIG_INVALID",
        `role ${JSON.stringify(role)} has ${p === null ? "no password" : "a non-SCRAM (md5) password"}; set password_encryption = 'scram-sha-256' and set the password again, or omit --admin-url to use the plaintext password.`,
        { key: "--admin-url", role },
      );
    }
    return p;
  } catch (e) {
    if (e instanceof PgBouncerError) throw e;
    const code = (e as { code?: string }).code;
    throw new PgBouncerError(
      code === "42501" ? "TARGET_AUTH_FAILED" : "INTERNAL",
      code === "42501"
        ? `--admin-url ${redactUrl(adminUrl)} may not read pg_authid (superuser only); pass a superuser URL or omit --admin-url.`
        : `reading pg_authid failed: ${scrubSecrets((e as Error).message, [adminUrl])}`,
      { key: "--admin-url", role },
      e,
    );
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Writes via a temp file and rename so a reader never sees half a file, with `mode` whatever the umask. */
function writeFile(file: string, text: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

async function render(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      backend: { type: "string" },
      listen: { type: "string" },
      out: { type: "string" },
      "admin-url": { type: "string" },
      "pool-mode": { type: "string" },
      "max-client-conn": { type: "string" },
      "default-pool-size": { type: "string" },
      "min-pool-size": { type: "string" },
      "reserve-pool-size": { type: "string" },
      "query-wait-timeout": { type: "string" },
      "idle-transaction-timeout": { type: "string" },
      "admin-user": { type: "string", multiple: true },
      "stats-user": { type: "string", multiple: true },
      "auth-file": { type: "string" },
      "unix-socket-dir": { type: "string" },
      pidfile: { type: "string" },
      logfile: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  for (const k of ["backend", "listen", "out"] as const) {
    if (!values[k]) throw new PgBouncerError("CONFIG_INVALID", `--${k} is required; see armp-pgbouncer render --help.`, { key: `--${k}` });
  }
  const backend = parseBackend(values.backend!);
  const listen = parseListen(values.listen!);
  const out = path.resolve(values.out!);
  const authFile = values["auth-file"] ?? path.join(out, "userlist.txt");

  let userlist: string;
  let secretKind: string;
  if (values["admin-url"]) {
    const verifier = await readVerifier(values["admin-url"], backend.user);
    if (backend.password && !verifierMatchesPassword(verifier, backend.password)) {
      io.err(`warning: the password in --backend does not match the server's verifier for ${backend.user}; clients using it will be refused.\n`);
    }
    userlist = renderUserlist([{ name: backend.user, verifier }]);
    secretKind = "SCRAM verifier read from pg_authid";
  } else {
    if (!backend.password) {
      throw new PgBouncerError("CONFIG_INVALID", `--backend ${redactUrl(values.backend!)} has no password; put it in the URL or pass --admin-url to read the role's SCRAM verifier.`, { key: "--backend" });
    }
    userlist = renderUserlistPlaintext([{ name: backend.user, password: backend.password }]);
    secretKind = "plaintext password, owner-only";
  }

  const settings: PgBouncerSettings = {
    listenAddr: listen.addr,
    listenPort: listen.port,
    backend: { host: backend.host, port: backend.port, database: backend.database },
    poolMode: values["pool-mode"] as PoolMode | undefined,
    maxClientConn: int("max-client-conn", values["max-client-conn"]),
    defaultPoolSize: int("default-pool-size", values["default-pool-size"]),
    minPoolSize: int("min-pool-size", values["min-pool-size"]),
    reservePoolSize: int("reserve-pool-size", values["reserve-pool-size"]),
    queryWaitTimeout: int("query-wait-timeout", values["query-wait-timeout"]),
    idleTransactionTimeout: int("idle-transaction-timeout", values["idle-transaction-timeout"]),
    adminUsers: values["admin-user"],
    statsUsers: values["stats-user"],
    authFile,
    // Outside a container the built-in socket directory may not exist or be writable: TCP only
    // unless asked.
    unixSocketDir: values["unix-socket-dir"] ?? "",
    pidFile: values.pidfile,
    logFile: values.logfile,
    // pgbouncer.ini does not contain secrets; users go to the userlist rendered above.
    users: [],
  };
  const ini = renderPgBouncerIni(settings);
  fs.mkdirSync(out, { recursive: true });
  const iniPath = path.join(out, "pgbouncer.ini");
  const userlistPath = path.join(out, "userlist.txt");
  writeFile(iniPath, ini, 0o644);
  writeFile(userlistPath, userlist, 0o600);
  io.out(`wrote ${iniPath} (0644)\nwrote ${userlistPath} (0600, ${secretKind})\n`);
  return 0;
}

/** Exit codes: 0 ok, 1 failure, 2 usage or configuration error. */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    io.out(HELP);
    return command ? 0 : 2;
  }
  if (command !== "render") {
    io.err(`error [CONFIG_INVALID]: unknown command ${JSON.stringify(command)}; the only command is render (see --help).\n`);
    return 2;
  }
  try {
    return await render(rest, io);
  } catch (e) {
    if (e instanceof PgBouncerError) {
      io.err(`error [${e.code}]: ${e.message}\n`);
      return e.code === "CONFIG_INVALID" ? 2 : 1;
    }
    if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`error [CONFIG_INVALID]: ${(e as Error).message}; see armp-pgbouncer render --help.\n`);
      return 2;
    }
    io.err(`error [INTERNAL]: ${(e as Error).message}\n`);
    return 1;
  }
}
