/**
 * `DatabaseAccess`'s work: who may do what in the app database, applied and read back through the
 * admin connection, with the same result whether the admin is a superuser or only CREATEROLE
 * CREATEDB (RDS, Cloud SQL, Azure, Neon).
 *
 * Desired state (least privilege):
 *   - PUBLIC has nothing on the database (PostgreSQL's default gives it CONNECT and TEMPORARY) and
 *     nothing on schema public (USAGE by default);
 *   - the owner (the app role) has CONNECT, CREATE, TEMPORARY on the database; it owns schema public
 *     through pg_database_owner (PostgreSQL 15+);
 *   - each `connectRoles` entry (pgBouncer's healthcheck role) has CONNECT and nothing else;
 *   - a non-superuser admin keeps CONNECT (it had it through PUBLIC), or it could not come back;
 *   - the owner can log in with the stack's password (its SCRAM verifier is the stack's).
 *
 * Why not @pulumi/postgresql's Grant: it runs `GRANT ... ON DATABASE` as the admin, and a
 * non-superuser admin that does not own the database only gets "WARNING: no privileges were
 * granted" (it grants itself the owner's role for schema grants, not for database grants), so
 * the grant never takes effect and every refresh shows it again. Here every change to the
 * database's ACL is made AS the owner (SET ROLE), which any admin can: a superuser directly, a
 * CREATEROLE admin after granting itself the owner's role for the length of the transaction
 * (PostgreSQL 16: the CREATEROLE creator holds ADMIN OPTION on the role, enough to grant it with
 * SET). The membership is revoked before COMMIT, so the admin is left as it was.
 *
 * The result is read back with has_database_privilege / the ACLs, never assumed from the absence
 * of an error; a difference is an error naming it.
 */
import { Client } from "pg";
import { connect, pgErr } from "../../migrate/engine/pg";
import { MigrationError } from "../../migrate/engine/errors";
import { redactUrl } from "../../migrate/engine/url";
import { isScramVerifier } from "../../pgbouncer";

export interface DatabaseAccessInputs {
  /** Secret. The admin URL with its TLS parameters; its database part is replaced by `database`. */
  adminUrl: string;
  database: string;
  /** The app role, owner of the database. */
  owner: string;
  /** Roles that may only CONNECT (pgBouncer's healthcheck role). */
  connectRoles: string[];
  /** Secret. The owner's SCRAM verifier: what its password must be. */
  ownerVerifier: string;
  /** Secret. The owner's direct URL with the stack's password: the login check. */
  ownerUrl: string;
}

/** What the server says, in the shape of the desired state (privilege names sorted). */
export interface Observed {
  publicDatabase: string[];
  publicSchema: string[];
  roles: Record<string, string[]>;
  ownerLogin: boolean;
}

export interface DatabaseAccessOutputs extends DatabaseAccessInputs {
  observed: Observed;
}

const ALL_DB = ["CONNECT", "CREATE", "TEMPORARY"];

export function desired(i: Pick<DatabaseAccessInputs, "owner" | "connectRoles">): Observed {
  const roles: Record<string, string[]> = { [i.owner]: ALL_DB };
  for (const r of i.connectRoles) roles[r] = ["CONNECT"];
  return { publicDatabase: [], publicSchema: [], roles, ownerLogin: true };
}

/** One line per difference between what the server has and what it should have, for messages. */
export function differences(want: Observed, have: Observed): string[] {
  const out: string[] = [];
  const show = (p: string[]): string => (p.length === 0 ? "nothing" : p.join(", "));
  if (show(have.publicDatabase) !== show(want.publicDatabase)) out.push(`PUBLIC has ${show(have.publicDatabase)} on the database (want ${show(want.publicDatabase)})`);
  if (show(have.publicSchema) !== show(want.publicSchema)) out.push(`PUBLIC has ${show(have.publicSchema)} on schema public (want ${show(want.publicSchema)})`);
  for (const [role, privs] of Object.entries(want.roles)) {
    const got = have.roles[role];
    if (got === undefined) out.push(`role ${role} does not exist`);
    else if (show(got) !== show(privs)) out.push(`${role} has ${show(got)} on the database (want ${show(privs)})`);
  }
  if (have.ownerLogin !== want.ownerLogin) out.push("the owner cannot log in with the stack's password (changed outside Pulumi?)");
  return out;
}

const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

function onDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

function failed(step: string, i: DatabaseAccessInputs, e: unknown): MigrationError {
  if (e instanceof MigrationError) return e;
  const err = pgErr(e);
  return new MigrationError(
    "TARGET_AUTH_FAILED",
    `The admin of ${redactUrl(i.adminUrl)} could not ${step} on database ${i.database} (${err.message ?? String(e)}). ` +
      "It needs CREATEROLE (to act as the app role it created) or superuser; on PostgreSQL 16+ it must be the role that created the app role, or hold ADMIN OPTION on it.",
    { step: `access.${step}`, pgCode: err.code, database: i.database, role: i.owner },
    e,
  );
}

/** True when the owner's URL logs in; false on a wrong password (28P01); other failures throw. */
async function ownerCanLogIn(i: DatabaseAccessInputs): Promise<boolean> {
  try {
    const c = await connect({ url: i.ownerUrl }, "access.login");
    await c.end();
    return true;
  } catch (e) {
    if (e instanceof MigrationError && e.code === "TARGET_AUTH_FAILED" && e.meta.pgCode === "28P01") return false;
    throw e;
  }
}

export async function observe(i: DatabaseAccessInputs): Promise<Observed> {
  const c = await connect({ url: onDatabase(i.adminUrl, i.database) }, "access.read");
  try {
    const acl = await c.query<{ db: string[]; schema: string[] }>(
      `SELECT
         ARRAY(SELECT a.privilege_type FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
               WHERE d.datname = $1 AND a.grantee = 0 ORDER BY 1) AS db,
         ARRAY(SELECT a.privilege_type FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
               WHERE n.nspname = 'public' AND a.grantee = 0 ORDER BY 1) AS schema`,
      [i.database],
    );
    const roles = await c.query<{ role: string; privs: string[] }>(
      `SELECT r.rolname AS role,
              ARRAY(SELECT p FROM unnest($2::text[]) p WHERE has_database_privilege(r.oid, $1, p) ORDER BY 1) AS privs
         FROM pg_roles r WHERE r.rolname = ANY($3::text[])`,
      [i.database, ALL_DB, [i.owner, ...i.connectRoles]],
    );
    const row = acl.rows[0]!;
    return {
      publicDatabase: row.db,
      publicSchema: row.schema,
      roles: Object.fromEntries(roles.rows.map((r) => [r.role, r.privs])),
      ownerLogin: await ownerCanLogIn(i),
    };
  } finally {
    await c.end();
  }
}

/**
 * The admin may not grant itself the owner's role. PostgreSQL 16+ (42501, "permission denied to
 * grant role"): CREATEROLE alone no longer lets a role grant, alter or drop roles; it needs ADMIN
 * OPTION on them, which only the role that created them gets automatically.
 */
function cannotActAs(e: unknown, admin: string, owner: string, database: string): unknown {
  const err = pgErr(e);
  if (err.code !== "42501") return e;
  return new MigrationError(
    "TARGET_AUTH_FAILED",
    `The admin ${admin} may not act as the app role ${owner}, which owns the database (${err.message ?? String(e)}). ` +
      `On PostgreSQL 16+ a CREATEROLE admin may only use roles it holds ADMIN OPTION on: the ones it created itself. ` +
      `Run GRANT ${ident(owner)} TO ${ident(admin)} WITH ADMIN OPTION as a superuser or as the admin that created ${owner}, or configure that admin in adminUrl.`,
    { step: "access.as-owner", pgCode: err.code, database, role: owner, admin },
    e,
  );
}

/**
 * Runs `fn` as the database owner inside one transaction: directly for a superuser, else after
 * granting the admin the owner's role (revoked again before COMMIT when it was not there before).
 */
async function asOwner(c: Client, owner: string, fn: (admin: { name: string; superuser: boolean }) => Promise<void>): Promise<void> {
  await c.query("BEGIN");
  try {
    const me = (
      await c.query<{ name: string; su: boolean; can: boolean; db: string }>(
        `SELECT r.rolname AS name, r.rolsuper AS su, current_database() AS db,
                CASE WHEN current_setting('server_version_num')::int >= 160000 THEN pg_has_role(current_user, $1, 'SET')
                     ELSE pg_has_role(current_user, $1, 'MEMBER') END AS can
           FROM pg_roles r WHERE r.rolname = current_user`,
        [owner],
      )
    ).rows[0]!;
    const grant = !me.su && !me.can;
    if (grant) {
      await c.query(`GRANT ${ident(owner)} TO CURRENT_USER`).catch((e: unknown) => {
        throw cannotActAs(e, me.name, owner, me.db);
      });
    }
    await c.query(`SET LOCAL ROLE ${ident(owner)}`);
    await fn({ name: me.name, superuser: me.su });
    await c.query("RESET ROLE");
    if (grant) await c.query(`REVOKE ${ident(owner)} FROM CURRENT_USER`);
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/** Makes the server match `desired(i)`; `olds` (update) names connect roles to take away. */
export async function apply(i: DatabaseAccessInputs, olds?: DatabaseAccessOutputs, healPassword = false): Promise<Observed> {
  if (!isScramVerifier(i.ownerVerifier)) {
    throw new MigrationError("CONFIG_INVALID", `The owner's password for ${i.owner} must be a SCRAM-SHA-256 verifier (the stack computes it); got something else.`, { step: "access.apply", role: i.owner });
  }
  const c = await connect({ url: onDatabase(i.adminUrl, i.database) }, "access.apply");
  try {
    const existing = new Set((await c.query<{ r: string }>("SELECT rolname AS r FROM pg_roles")).rows.map((x) => x.r));
    const db = ident(i.database);
    const dropped = (olds?.connectRoles ?? []).filter((r) => !i.connectRoles.includes(r) && existing.has(r));
    await asOwner(c, i.owner, async (admin) => {
      await c.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
      await c.query(`GRANT ALL ON DATABASE ${db} TO ${ident(i.owner)}`);
      // Without PUBLIC's CONNECT a non-superuser admin could not come back to read or change this.
      if (!admin.superuser && admin.name !== i.owner) await c.query(`GRANT CONNECT ON DATABASE ${db} TO ${ident(admin.name)}`);
      for (const r of dropped) await c.query(`REVOKE ALL ON DATABASE ${db} FROM ${ident(r)}`);
      for (const r of i.connectRoles) {
        await c.query(`REVOKE ALL ON DATABASE ${db} FROM ${ident(r)}`);
        await c.query(`GRANT CONNECT ON DATABASE ${db} TO ${ident(r)}`);
      }
      // PostgreSQL 15+: schema public belongs to pg_database_owner, i.e. to the app role here.
      const schemaOwner = (await c.query<{ o: string }>("SELECT pg_get_userbyid(nspowner) AS o FROM pg_namespace WHERE nspname = 'public'")).rows[0]?.o;
      if (schemaOwner === "pg_database_owner" || schemaOwner === i.owner) await c.query("REVOKE ALL ON SCHEMA public FROM PUBLIC");
      // A role may always set its own password; the verifier is stored as is (never re-hashed).
      if (healPassword) await c.query(`ALTER ROLE ${ident(i.owner)} PASSWORD '${i.ownerVerifier}'`);
    });
  } catch (e) {
    throw failed("apply the app database's privileges", i, e);
  } finally {
    await c.end();
  }
  const have = await observe(i);
  const diff = differences(desired(i), have);
  if (diff.length > 0) {
    throw new MigrationError(
      "INTERNAL",
      `The privileges on database ${i.database} did not take effect: ${diff.join("; ")}. This is a bug; report it with the server's version and the admin's attributes (rolsuper, rolcreaterole).`,
      { step: "access.apply", database: i.database, role: i.owner },
    );
  }
  return have;
}

/** Gives PUBLIC its defaults back and takes the connect roles' privileges (so they can be dropped). */
export async function remove(i: DatabaseAccessOutputs): Promise<void> {
  let c: Client;
  try {
    c = await connect({ url: onDatabase(i.adminUrl, i.database) }, "access.delete");
  } catch (e) {
    // The database is gone already: so are its privileges.
    if (e instanceof MigrationError && e.meta.pgCode === "3D000") return;
    throw e;
  }
  try {
    const existing = new Set((await c.query<{ r: string }>("SELECT rolname AS r FROM pg_roles")).rows.map((x) => x.r));
    if (!existing.has(i.owner)) return;
    const db = ident(i.database);
    await asOwner(c, i.owner, async (admin) => {
      for (const r of i.connectRoles) if (existing.has(r)) await c.query(`REVOKE ALL ON DATABASE ${db} FROM ${ident(r)}`);
      await c.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO PUBLIC`);
      await c.query("GRANT USAGE ON SCHEMA public TO PUBLIC");
      if (!admin.superuser && admin.name !== i.owner) await c.query(`REVOKE ALL ON DATABASE ${db} FROM ${ident(admin.name)}`);
    });
  } catch (e) {
    throw failed("restore the app database's privileges", i, e);
  } finally {
    await c.end();
  }
}
