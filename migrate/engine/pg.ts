/**
 * PostgreSQL connections for the engine: every connection gets the same session settings so
 * values render identically for checksums, and connection failures become TARGET_* errors
 * that never contain the password.
 */
import { Client } from "pg";
import { MigrationError } from "./errors";
import { attempts, splitTls, sslOptions, type SslMode } from "./tls";
import { redactUrl, scrubSecrets } from "./url";

export interface TargetRef {
  url: string;
  /** Defaults to "public". */
  schema?: string;
  /**
   * Idle connections to reuse (runMigration sets it for the length of one run). Without it every
   * step opens and closes its own connection.
   */
  sessions?: Sessions;
}

export function schemaOf(target: TargetRef): string {
  return target.schema ?? "public";
}

interface PgErrorLike {
  code?: string;
  message?: string;
  where?: string;
  detail?: string;
  column?: string;
}

export function pgErr(e: unknown): PgErrorLike {
  return (e ?? {}) as PgErrorLike;
}

/**
 * Servers (host:port) that declined TLS to an sslmode=prefer attempt in this process: later
 * connections go straight to plain TCP instead of paying a refused TLS request (a forked backend)
 * each time, which is what libpq would end up with anyway.
 */
const declinedTls = new Set<string>();

/** Node's codes for a server certificate that does not verify against the CA given. */
const CERT_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
]);

const NO_TLS_SUPPORT = "The server does not support SSL connections";

/**
 * Opens a connection with libpq's sslmode semantics (see tls.ts): one attempt per TLS choice the
 * mode allows, falling back only where libpq does (prefer: the server declined TLS or pg_hba.conf
 * refused the encrypted connection; allow: pg_hba.conf refused the plain one).
 */
export async function connect(target: TargetRef, step = "connect"): Promise<Client> {
  let split: ReturnType<typeof splitTls>;
  let host: string;
  try {
    split = splitTls(target.url);
    host = new URL(split.url).hostname.replace(/^\[(.*)\]$/, "$1");
  } catch (e) {
    if (e instanceof MigrationError) throw e;
    throw new MigrationError("CONFIG_INVALID", `The target ${redactUrl(target.url)} is not a valid PostgreSQL URL; use postgres://user:password@host:port/database.`, { step }, e);
  }
  const { tls, url } = split;
  const server = `${host}:${new URL(url).port || "5432"}`;
  const order = tls.mode === "prefer" && declinedTls.has(server) ? [false] : attempts(tls.mode);
  for (let i = 0; ; i++) {
    const useTls = order[i]!;
    const client = new Client({ connectionString: url, ssl: useTls ? sslOptions(tls, host) : false, connectionTimeoutMillis: 10_000, application_name: "armp-migrate" });
    // A dead connection reports asynchronously; without a listener it would crash the process.
    client.on("error", () => dead.add(client));
    client.on("end", () => dead.add(client));
    try {
      await client.connect();
      await client.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; SET client_encoding = 'UTF8'");
      return client;
    } catch (e) {
      await client.end().catch(() => undefined);
      const err = pgErr(e);
      const declined = err.message === NO_TLS_SUPPORT;
      const hbaRefused = err.code === "28000";
      if (i + 1 < order.length && (declined || hbaRefused)) {
        if (declined && tls.mode === "prefer") declinedTls.add(server);
        continue;
      }
      throw mapConnectError(e, target, step, { mode: tls.mode, tls: useTls, ...(tls.rootCert !== undefined ? { rootCert: tls.rootCert } : {}) });
    }
  }
}

/** How the failed attempt was made, for messages that name the TLS settings to change. */
export interface AttemptTls {
  mode: SslMode;
  /** Whether this attempt used TLS. */
  tls: boolean;
  rootCert?: string;
}

/**
 * A failed connection attempt as a coded error. SQLSTATE 28000 covers several refusals, told apart
 * by the server's message: pg_hba.conf wants encryption (TARGET_TLS_REQUIRED), pg_hba.conf has no
 * line for this host/user/database at all (TARGET_HBA_REJECTED), the role may not log in
 * (TARGET_AUTH_FAILED). A wrong password is 28P01. TLS failures on the client side (certificate,
 * host name, a server without TLS) are TARGET_TLS_FAILED.
 */
export function mapConnectError(e: unknown, target: TargetRef, step: string, attempt?: AttemptTls): MigrationError {
  const err = pgErr(e);
  const msg = scrubSecrets(err.message ?? String(e), [target.url]);
  const where = redactUrl(target.url);
  const meta = { step, pgCode: err.code, ...(attempt ? { sslmode: attempt.mode } : {}) };
  if (err.code === "28P01") {
    return new MigrationError("TARGET_AUTH_FAILED", `PostgreSQL at ${where} refused the credentials (${msg}). Check the user name and password in the target URL.`, meta, e);
  }
  if (err.code === "28000") {
    if (/no pg_hba\.conf entry .*no encryption/.test(msg)) {
      return new MigrationError(
        "TARGET_TLS_REQUIRED",
        `PostgreSQL at ${where} accepts only encrypted connections from this client (${msg}); the password was not checked. ` +
          "Add sslmode=require to the URL (or verify-full with sslrootcert=<the server's CA file> to also check the certificate).",
        meta,
        e,
      );
    }
    if (/pg_hba\.conf/.test(msg)) {
      return new MigrationError(
        "TARGET_HBA_REJECTED",
        `PostgreSQL at ${where} does not accept this client's address, user or database (${msg}); the password was not checked. ` +
          "Allow this host in the server's pg_hba.conf (a host/hostssl line for this address, user and database) or, on a managed service, in its network rules (security group, authorized networks).",
        meta,
        e,
      );
    }
    return new MigrationError("TARGET_AUTH_FAILED", `PostgreSQL at ${where} refused the login (${msg}). Check that the role exists and has LOGIN.`, meta, e);
  }
  if (err.code === "42501") {
    return new MigrationError("TARGET_AUTH_FAILED", `PostgreSQL at ${where} let the role log in but not into this database (${msg}). Grant it CONNECT on the database (GRANT CONNECT ON DATABASE ... TO ...), as the database's owner.`, meta, e);
  }
  if (err.code === "3D000") {
    return new MigrationError("TARGET_UNREACHABLE", `The target database does not exist at ${where} (${msg}). Create it first (the infra stack's AppDatabase does).`, meta, e);
  }
  if (err.message === NO_TLS_SUPPORT) {
    return new MigrationError(
      "TARGET_TLS_FAILED",
      `PostgreSQL at ${where} does not offer TLS, and sslmode=${attempt?.mode ?? "require"} requires it. Turn on ssl in the server's configuration, or use sslmode=prefer (or disable) for a server on a trusted network.`,
      meta,
      e,
    );
  }
  if (err.code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new MigrationError(
      "TARGET_TLS_FAILED",
      `The TLS certificate of PostgreSQL at ${where} is not for this host name (${msg}). Connect by a name the certificate lists (the provider's endpoint name, not an IP address or alias), or use sslmode=verify-ca to check only the CA.`,
      meta,
      e,
    );
  }
  if (err.code !== undefined && CERT_CODES.has(err.code)) {
    const ca = attempt?.rootCert === "system" ? "the system's trusted roots" : attempt?.rootCert !== undefined ? `the CA in ${attempt.rootCert}` : "the given CA";
    return new MigrationError(
      "TARGET_TLS_FAILED",
      `The TLS certificate of PostgreSQL at ${where} is not signed by ${ca} (${msg}). Set sslrootcert to the CA that issued the server's certificate (your provider's CA bundle), or use sslmode=require to encrypt without verifying it.`,
      meta,
      e,
    );
  }
  return new MigrationError("TARGET_UNREACHABLE", `Cannot reach PostgreSQL at ${where} (${msg}). Check host, port and that the server is running and accepts TCP connections.`, meta, e);
}

/** Connections that reported an error or their end: never handed out again. */
const dead = new WeakSet<Client>();

/**
 * Connections kept open between the steps of one command. Each new connection costs ~10 ms of
 * CPU between the client and the server (SCRAM, a new backend and its catalog caches), and a run
 * made ~40 of them on 2 cores that were otherwise busy with the migration. Only a connection that
 * is idle outside a transaction comes back; session settings the engine makes (maintenance_work_mem
 * for builds) are harmless to every other step.
 */
export class Sessions {
  private readonly idle: Client[] = [];
  private closed = false;

  take(): Client | undefined {
    return this.idle.pop();
  }

  /** Keeps c for the next step, or closes it when it is in a transaction, broken, or the run is over. */
  async give(c: Client): Promise<void> {
    if (!this.closed && !dead.has(c) && c.getTransactionStatus() === "I") this.idle.push(c);
    else await c.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((c) => c.end().catch(() => undefined)));
  }
}

/** A connection for one step: an idle one from target.sessions when there is one, else a new one. */
export async function session(target: TargetRef, step: string): Promise<Client> {
  return target.sessions?.take() ?? (await connect(target, step));
}

/** Ends a step's connection: back to target.sessions when set (and reusable), else closed. */
export async function release(target: TargetRef, c: Client): Promise<void> {
  if (target.sessions) await target.sessions.give(c);
  else await c.end().catch(() => undefined);
}

/** Runs fn on a connection of its own (session()), always releasing it. */
export async function withTarget<T>(target: TargetRef, step: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await session(target, step);
  try {
    return await fn(c);
  } finally {
    await release(target, c);
  }
}

/** Runs fn inside BEGIN/COMMIT; any failure rolls back so the target is as before the step. */
export async function inTransaction<T>(c: Client, fn: () => Promise<T>): Promise<T> {
  await c.query("BEGIN");
  try {
    const r = await fn();
    await c.query("COMMIT");
    return r;
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

export async function tableExists(c: Client, schema: string, table: string): Promise<boolean> {
  const r = await c.query("SELECT 1 FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace WHERE n.nspname = $1 AND k.relname = $2 AND k.relkind IN ('r','p')", [schema, table]);
  return (r.rowCount ?? 0) > 0;
}

export async function constraintExists(c: Client, schema: string, table: string, name: string): Promise<boolean> {
  const r = await c.query(
    "SELECT 1 FROM pg_constraint x JOIN pg_class k ON k.oid = x.conrelid JOIN pg_namespace n ON n.oid = k.relnamespace WHERE n.nspname = $1 AND k.relname = $2 AND x.conname = $3",
    [schema, table, name],
  );
  return (r.rowCount ?? 0) > 0;
}

/**
 * maintenance_work_mem for the sessions that build keys and indexes: ARMP_MIGRATE_SORT_MEMORY
 * (default 16MB; "server" keeps the server's setting). PostgreSQL 15 sorts an index that does not
 * fit in it as runs of that size and merges them; runs that stay in the CPU cache made integer
 * index builds on the scale-10 publication table take 20-30 % less CPU than the 64 MB default
 * (0.88-0.93 s against 1.14-1.42 s for year, docs/README-bench-copy.md). It also keeps PostgreSQL
 * from starting parallel workers for a build (they need 32 MB each), which only add CPU when
 * --jobs already keeps the cores busy; a server with cores to spare may prefer "server".
 */
export function sortMemory(): string | null {
  const v = (process.env.ARMP_MIGRATE_SORT_MEMORY ?? "").trim() || "16MB";
  if (v === "server") return null;
  if (!/^\d{1,7}(kB|MB|GB)$/.test(v)) {
    throw new MigrationError("CONFIG_INVALID", `ARMP_MIGRATE_SORT_MEMORY=${v} is not a memory size; use e.g. 16MB, 256MB, or "server" for the server's maintenance_work_mem.`, { step: "constraints" });
  }
  return v;
}

/** Applies sortMemory() to a session that is about to build keys or indexes. */
export async function useSortMemory(c: Client): Promise<void> {
  const v = sortMemory();
  if (v !== null) await c.query(`SET maintenance_work_mem = '${v}'`);
}

/**
 * Heap pages of every table in `schema`, from the relation's size now (pg_class.relpages is still 0
 * after COPY into a new table, until VACUUM, ANALYZE or an index build updates it).
 */
export async function tablePages(c: Client, schema: string): Promise<Map<string, number>> {
  const r = await c.query<{ relname: string; n: string }>(
    "SELECT c.relname, (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
    [schema],
  );
  return new Map(r.rows.map((x) => [x.relname, Number(x.n)]));
}
