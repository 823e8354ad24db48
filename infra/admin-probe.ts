/**
 * One read-only connection to an external server as the admin, at preview, before anything is
 * declared against it: it proves the URL, TLS settings and credentials work (so a server with
 * ssl=off and sslmode=require fails `pulumi preview`, not half-way through `pulumi up`), and it
 * tells the stack what it cannot know from config:
 *
 *   - whether the admin is a superuser: the postgresql provider's `superuser` flag decides
 *     whether it reads role passwords back (a hand-changed password then shows as a diff) and
 *     whether it grants itself roles to hand over ownership;
 *   - whether the connection is encrypted: the provider's Go driver (lib/pq) knows only disable,
 *     require, verify-ca and verify-full, so libpq's prefer/allow become what they resolved to.
 *
 * Connections follow libpq's sslmode semantics (migrate/engine/tls.ts).
 */
import { connect } from "../migrate/engine/pg";
import { isMigrationError } from "../migrate/engine/errors";
import { StackConfigError } from "./config";

export interface AdminFacts {
  superuser: boolean;
  createRole: boolean;
  createDb: boolean;
  /** The connection is TLS. */
  tls: boolean;
  serverVersionNum: number;
}

export type AdminProbe = (adminUrl: string) => Promise<AdminFacts>;

export const probeAdmin: AdminProbe = async (adminUrl) => {
  let c;
  try {
    c = await connect({ url: adminUrl }, "probe admin");
  } catch (e) {
    const code = isMigrationError(e) ? e.code : "TARGET_UNREACHABLE";
    const msg = e instanceof Error ? e.message : String(e);
    // The engine's messages name the URL with its password redacted, never the password.
    throw Object.assign(new StackConfigError("armp-postgres:adminUrl", `${code}: ${msg}`), { cause: e });
  }
  try {
    const r = await c.query<{ su: boolean; cr: boolean; cd: boolean; tls: boolean | null; v: number }>(
      `SELECT r.rolsuper AS su, r.rolcreaterole AS cr, r.rolcreatedb AS cd,
              (SELECT s.ssl FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()) AS tls,
              current_setting('server_version_num')::int AS v
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    const row = r.rows[0]!;
    return { superuser: row.su, createRole: row.cr, createDb: row.cd, tls: row.tls === true, serverVersionNum: row.v };
  } finally {
    await c.end();
  }
};

/** The provider's (lib/pq's) sslmode for what libpq's mode resolved to on this server. */
export function providerSslMode(mode: string, facts: Pick<AdminFacts, "tls">): string {
  if (mode === "prefer" || mode === "allow") return facts.tls ? "require" : "disable";
  return mode;
}

/** Refuses an admin that can neither create roles nor databases, naming what it lacks. */
export function checkAdmin(facts: AdminFacts, user: string): void {
  if (facts.superuser) return;
  const missing = [...(facts.createRole ? [] : ["CREATEROLE"]), ...(facts.createDb ? [] : ["CREATEDB"])];
  if (missing.length > 0) {
    throw new StackConfigError(
      "armp-postgres:adminUrl",
      `the admin role ${user} lacks ${missing.join(" and ")}: it must create the app role and database. Use the service's admin (RDS: the master user; Cloud SQL: a cloudsqlsuperuser member; Azure: the server admin) or run ALTER ROLE ${user} ${missing.join(" ")} as a superuser; or set armp-postgres:manageRole=false with a ready databaseUrl.`,
    );
  }
}
