/**
 * The real pgbouncer binary (Debian 1.18) in front of the test cluster, started with exactly the
 * text renderPgBouncerIni/renderUserlist produce; only listen port, auth_file path and the Unix
 * socket (disabled) are set, through settings. No timing assertions: counts and messages only.
 */
import { randomBytes } from "crypto";
import { Client } from "pg";
import { renderPgBouncerIni, renderUserlist, scramSha256Verifier, type PgBouncerSettings } from "../../../pgbouncer";
import { adminUrl, clusterInfo, createTestDatabase, withClient } from "../../support/db";
import { startPgBouncer, type PgBouncerProcess } from "../../support/pgbouncer";

const suffix = randomBytes(4).toString("hex");
const APP = `pgb_app_${suffix}`;
const SESS = `pgb_sess_${suffix}`;
const ADMIN = `pgb_admin_${suffix}`;
const pw = { [APP]: `app-${suffix}-pw`, [SESS]: `sess-${suffix}-pw`, [ADMIN]: `admin-${suffix}-pw` };
const verifiers = Object.fromEntries(Object.entries(pw).map(([u, p]) => [u, scramSha256Verifier(p)]));

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let bouncer: PgBouncerProcess;
let settings: PgBouncerSettings;

function viaBouncer(user: string, password = pw[user], database = db.name): Client {
  return new Client({ host: "127.0.0.1", port: bouncer.port, user, password, database });
}

/** The error a promise rejects with, as "<SQLSTATE> <message>" (pgBouncer sends both). */
async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as { code?: string }).code ?? "?"} ${(e as Error).message}`;
  }
  return "no error";
}

beforeAll(async () => {
  db = await createTestDatabase("pgb");
  await withClient(adminUrl(), async (c) => {
    // The roles' passwords ARE the verifiers we render: PostgreSQL stores a SCRAM secret verbatim,
    // which is what lets pgBouncer log in with the client's proof.
    for (const role of [APP, SESS]) await c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${verifiers[role]}'`);
    await c.query(`GRANT ALL ON DATABASE "${db.name}" TO ${APP}, ${SESS}`);
  });
  await withClient(db.url, async (c) => {
    await c.query(`CREATE TABLE tx_log (client int NOT NULL, i int NOT NULL, PRIMARY KEY (client, i))`);
    await c.query(`GRANT ALL ON tx_log TO ${APP}`);
  });
  const cluster = clusterInfo();
  bouncer = await startPgBouncer(({ port, userlistPath }) => {
    settings = {
      listenAddr: "127.0.0.1",
      listenPort: port,
      backend: { host: "127.0.0.1", port: cluster.port, database: db.name },
      authFile: userlistPath,
      unixSocketDir: "",
      adminUsers: [ADMIN],
      statsUsers: [ADMIN],
      users: [APP, SESS, ADMIN].map((name) => ({ name, verifier: verifiers[name] })),
    };
    return { ini: renderPgBouncerIni(settings), userlist: renderUserlist(settings.users) };
  });
});

afterAll(async () => {
  await bouncer?.stop();
  await db?.drop();
  await withClient(adminUrl(), async (c) => {
    for (const role of [APP, SESS]) await c.query(`DROP ROLE IF EXISTS ${role}`);
  });
});

async function serverConnections(user: string): Promise<number> {
  return withClient(adminUrl(), async (c) => {
    const r = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND usename = $2", [db.name, user]);
    return r.rows[0].n;
  });
}

describe("pgbouncer 1.18 with the rendered config", () => {
  it("SHOW CONFIG on the admin console reports the rendered pool settings", async () => {
    const admin = viaBouncer(ADMIN, pw[ADMIN], "pgbouncer");
    await admin.connect();
    try {
      const rows = (await admin.query<{ key: string; value: string }>("SHOW CONFIG")).rows;
      const conf = Object.fromEntries(rows.map((r) => [r.key, r.value]));
      expect({
        pool_mode: conf.pool_mode,
        max_client_conn: conf.max_client_conn,
        default_pool_size: conf.default_pool_size,
        min_pool_size: conf.min_pool_size,
        reserve_pool_size: conf.reserve_pool_size,
        auth_type: conf.auth_type,
        server_reset_query: conf.server_reset_query,
        query_wait_timeout: conf.query_wait_timeout,
        idle_transaction_timeout: conf.idle_transaction_timeout,
        ignore_startup_parameters: conf.ignore_startup_parameters,
        listen_port: conf.listen_port,
        admin_users: conf.admin_users,
      }).toEqual({
        pool_mode: "transaction",
        max_client_conn: "100",
        default_pool_size: "20",
        min_pool_size: "5",
        reserve_pool_size: "0",
        auth_type: "scram-sha-256",
        server_reset_query: "",
        query_wait_timeout: "30",
        idle_transaction_timeout: "60",
        ignore_startup_parameters: "extra_float_digits",
        listen_port: String(bouncer.port),
        admin_users: ADMIN,
      });
    } finally {
      await admin.end();
    }
  });

  it("logs in with SCRAM through the verifier and refuses a wrong password", async () => {
    const c = viaBouncer(APP);
    await c.connect();
    try {
      const r = await c.query("SELECT current_user AS u, current_database() AS d");
      expect(r.rows).toEqual([{ u: APP, d: db.name }]);
    } finally {
      await c.end();
    }
    const bad = viaBouncer(APP, "not-the-password");
    expect(await errorOf(bad.connect())).toBe("08P01 SASL authentication failed");
    await bad.end().catch(() => undefined);
  });

  it("runs 100 concurrent clients' transactions with 0 failures on at most 20 server connections", async () => {
    const CLIENTS = 100;
    const TX = 5;
    let peak = 0;
    let sampling = true;
    const monitor = new Client({ connectionString: adminUrl() });
    await monitor.connect();
    const sampler = (async () => {
      while (sampling) {
        const r = await monitor.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND usename = $2", [db.name, APP]);
        peak = Math.max(peak, r.rows[0].n);
        await new Promise((res) => setTimeout(res, 5));
      }
    })();
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const c = viaBouncer(APP);
        try {
          await c.connect();
          for (let i = 0; i < TX; i++) {
            await c.query("BEGIN");
            await c.query("INSERT INTO tx_log (client, i) VALUES ($1, $2)", [client, i]);
            await c.query("SELECT pg_sleep(0.01)");
            await c.query("COMMIT");
          }
        } catch (e) {
          failures.push((e as Error).message);
        } finally {
          await c.end().catch(() => undefined);
        }
      }),
    );
    sampling = false;
    await sampler;
    await monitor.end();
    expect(failures).toEqual([]);
    const rows = await withClient(db.url, async (c) => (await c.query("SELECT count(*)::int AS n, count(DISTINCT client)::int AS clients FROM tx_log")).rows[0]);
    expect(rows).toEqual({ n: CLIENTS * TX, clients: CLIENTS });
    expect(peak).toBeLessThanOrEqual(20);
    // The pool keeps its server connections after the clients leave (server_idle_timeout is 600 s):
    // exactly default_pool_size of them, so 100 clients were served by 20 backends.
    expect(await serverConnections(APP)).toBe(20);
  });

  it("refuses the 101st client with max_client_conn while 100 are connected", async () => {
    const held: Client[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        const c = viaBouncer(APP);
        held.push(c);
      }
      await Promise.all(held.map((c) => c.connect()));
      const extra = viaBouncer(APP);
      expect(await errorOf(extra.connect())).toBe("08P01 no more connections allowed (max_client_conn)");
      await extra.end().catch(() => undefined);
      // The 100 held clients still work: the refusal did not disturb them.
      const answers = await Promise.all(held.map(async (c) => (await c.query<{ one: number }>("SELECT 1 AS one")).rows[0].one));
      expect(answers).toEqual(Array(100).fill(1));
    } finally {
      await Promise.all(held.map((c) => c.end().catch(() => undefined)));
    }
  });

  it("a session-level SET sticks to the server connection, not to the client (transaction pooling)", async () => {
    // SESS has its own pool ((database, user) pairs are pooled separately), so no other test's
    // connections are involved. Client A sets statement_timeout outside a transaction and learns
    // which backend ran it.
    const clients = Array.from({ length: 20 }, () => viaBouncer(SESS));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const set = await clients[0].query<{ pid: number }>("SELECT set_config('statement_timeout', '1234ms', false) AS v, pg_backend_pid() AS pid");
      const setPid = set.rows[0].pid;
      // 20 clients each hold a transaction open at once, so they occupy all 20 server connections
      // of the pool, one each; each reports its backend and the statement_timeout it sees.
      let release!: () => void;
      const allIn = new Promise<void>((res) => (release = res));
      const seen: { pid: number; timeout: string }[] = [];
      await Promise.all(
        clients.map(async (c) => {
          await c.query("BEGIN");
          const r = await c.query<{ pid: number; timeout: string }>("SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS timeout");
          seen.push(r.rows[0]);
          if (seen.length === clients.length) release();
          await allIn;
          await c.query("COMMIT");
        }),
      );
      expect(new Set(seen.map((s) => s.pid)).size).toBe(20);
      // Exactly the transaction that landed on backend setPid sees the SET, whichever client ran
      // it; the other 19 (client A's own transaction among them, unless it drew that backend) see
      // the default. Session state belongs to server connections under transaction pooling.
      expect(seen.filter((s) => s.timeout === "1234ms").map((s) => s.pid)).toEqual([setPid]);
      expect(seen.filter((s) => s.timeout !== "1234ms").map((s) => s.timeout)).toEqual(Array(19).fill("0"));
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    }
  });
});
