/** Values the mocked stack must produce, derived the same way a real `pulumi up` would. */
import { scramSha256Verifier } from "../../../pgbouncer";

/** The mock Secret provider's salt for a resource name (harness.ts `computed`). */
export function mockSalt(resourceName: string): Buffer {
  return Buffer.alloc(16, resourceName.length);
}

export const APP_PASSWORD = "generated-armp-app-password";
export const HEALTH_PASSWORD = "generated-armp-healthcheck-password";
export const APP_VERIFIER = scramSha256Verifier(APP_PASSWORD, { salt: mockSalt("armp-app-password") });
export const HEALTH_VERIFIER = scramSha256Verifier(HEALTH_PASSWORD, { salt: mockSalt("armp-healthcheck-password") });

/** pgbouncer.ini as the container must receive it, for a backend and pool settings. */
export function expectedIni(o: { host: string; port: number; pool?: { max?: number; size?: number; min?: number }; maxPrepared?: number | null }): string {
  const maxPrepared = o.maxPrepared === undefined ? 200 : o.maxPrepared;
  return [
    ";; Rendered by armp-postgres (pgbouncer/render.ts) from typed settings; re-render instead of editing.",
    "[databases]",
    `armp = host=${o.host} port=${o.port} dbname=armp`,
    "",
    "[pgbouncer]",
    "listen_addr = 0.0.0.0",
    "listen_port = 6432",
    ";; Clients authenticate with SCRAM against the verifiers in auth_file; because each verifier is",
    ";; byte-identical to pg_authid.rolpassword, pgBouncer reuses the client's proof to log in to",
    ";; PostgreSQL and never needs a plaintext password.",
    "auth_type = scram-sha-256",
    "auth_file = /etc/pgbouncer/userlist.txt",
    "admin_users =",
    "stats_users = armp_healthcheck",
    "pool_mode = transaction",
    `max_client_conn = ${o.pool?.max ?? 100}`,
    `default_pool_size = ${o.pool?.size ?? 20}`,
    `min_pool_size = ${o.pool?.min ?? 5}`,
    "reserve_pool_size = 0",
    ...(maxPrepared === null
      ? []
      : [
          ";; Protocol-level prepared statements (Parse/Bind: node-postgres named queries, psycopg 3",
          ";; prepare=True, pgbench -M prepared) survive transaction pooling: pgBouncer re-prepares them",
          ";; on whichever server connection runs the next transaction. SQL-level PREPARE/EXECUTE does not.",
          `max_prepared_statements = ${maxPrepared}`,
        ]),
    ";; Empty on purpose: in transaction pooling a server connection changes client after every",
    ";; transaction, so clients must not rely on session state at all, and pgBouncer runs no reset",
    ";; query in this mode unless server_reset_query_always is set (it is not). DISCARD ALL here",
    ";; would only add a round trip per transaction.",
    "server_reset_query =",
    "query_wait_timeout = 30",
    "idle_transaction_timeout = 60",
    ";; JDBC and other drivers send extra_float_digits in the startup packet; pgBouncer would refuse",
    ";; the connection for an unknown startup parameter.",
    "ignore_startup_parameters = extra_float_digits",
    "",
  ].join("\n");
}

export const EXPECTED_USERLIST = `"armp_app" "${APP_VERIFIER}"\n"armp_healthcheck" "${HEALTH_VERIFIER}"\n`;

export const HEALTHCHECK_TEST =
  "PGPASSWORD=\"$(cat /etc/pgbouncer/healthcheck.secret)\" PGCONNECT_TIMEOUT=3 psql -X -h 127.0.0.1 -p 6432 -U armp_healthcheck -d armp -tAc 'SELECT 1' | grep -qx 1";
