/**
 * The real pgbouncer binary in front of the hostssl-only TLS cluster, configured by the rendered
 * server_tls_* settings: verify-full with the test CA and require get an encrypted server
 * connection (seen from PostgreSQL's own pg_stat_ssl), a wrong CA and disable never reach the
 * database.
 */
import { Client } from "pg";
import { renderPgBouncerIni, renderUserlist, scramSha256Verifier, type ServerTls } from "../../../pgbouncer";
import { startPgBouncer, type PgBouncerProcess } from "../../support/pgbouncer";
import { startTlsCluster, type TlsCluster } from "../../support/tls-cluster";

const ROLE = "armp_pgb_app";
const PASSWORD = "pgb-App-Password-1";
const DB = "armp_pgb";

let cluster: TlsCluster;
beforeAll(async () => {
  cluster = await startTlsCluster();
  const c = await cluster.superClient();
  try {
    await c.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${scramSha256Verifier(PASSWORD)}'`);
    await c.query(`CREATE DATABASE ${DB} OWNER ${ROLE}`);
  } finally {
    await c.end();
  }
});
afterAll(() => cluster?.stop());

async function bouncer(serverTls: ServerTls): Promise<PgBouncerProcess> {
  const c = await cluster.superClient();
  let verifier: string;
  try {
    verifier = (await c.query<{ v: string }>("SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1", [ROLE])).rows[0]!.v;
  } finally {
    await c.end();
  }
  return startPgBouncer(({ port, dir, userlistPath }) => ({
    ini: renderPgBouncerIni({
      listenAddr: "127.0.0.1",
      listenPort: port,
      unixSocketDir: dir,
      // verify-full checks this name against the certificate (DNS:localhost).
      backend: { host: "localhost", port: cluster.port, database: DB },
      authFile: userlistPath,
      minPoolSize: 0,
      queryWaitTimeout: 3,
      serverTls,
      users: [],
    }),
    userlist: renderUserlist([{ name: ROLE, verifier }]),
  }));
}

/** Logs in through pgBouncer and asks PostgreSQL whether pgBouncer's server connection is TLS. */
async function throughBouncer(b: PgBouncerProcess): Promise<{ ssl: boolean; version: string | null }> {
  const c = new Client({ host: "127.0.0.1", port: b.port, user: ROLE, password: PASSWORD, database: DB });
  await c.connect();
  try {
    return (await c.query<{ ssl: boolean; version: string | null }>("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).rows[0]!;
  } finally {
    await c.end();
  }
}

async function refusal(b: PgBouncerProcess): Promise<string> {
  const c = new Client({ host: "127.0.0.1", port: b.port, user: ROLE, password: PASSWORD, database: DB });
  try {
    await c.connect();
    await c.query("SELECT 1");
    return "connected";
  } catch (e) {
    return (e as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe("pgbouncer server_tls_* against a hostssl-only server", () => {
  it("verify-full with the server's CA: the server connection is TLS 1.3", async () => {
    const b = await bouncer({ sslmode: "verify-full", caFile: cluster.caFile });
    try {
      expect(await throughBouncer(b)).toEqual({ ssl: true, version: "TLSv1.3" });
    } finally {
      await b.stop();
    }
  });

  it("require without a CA: encrypted, not verified (libpq's meaning)", async () => {
    const b = await bouncer({ sslmode: "require" });
    try {
      expect(await throughBouncer(b)).toEqual({ ssl: true, version: "TLSv1.3" });
    } finally {
      await b.stop();
    }
  });

  it("verify-full with an unrelated CA never logs in; pgbouncer logs the certificate failure", async () => {
    const b = await bouncer({ sslmode: "verify-full", caFile: cluster.wrongCaFile });
    try {
      // No server connection can be made, so the client waits out query_wait_timeout (3 s here).
      expect(await refusal(b)).toBe("query_wait_timeout");
      expect(b.log()).toMatch(/certificate verify failed/);
    } finally {
      await b.stop();
    }
  });

  it("disable: PostgreSQL refuses pgBouncer's unencrypted login, and the client is told so", async () => {
    const b = await bouncer({ sslmode: "disable" });
    try {
      expect(await refusal(b)).toBe(`no pg_hba.conf entry for host "127.0.0.1", user "${ROLE}", database "${DB}", no encryption`);
    } finally {
      await b.stop();
    }
  });
});
