/**
 * The statements the postgresql provider (terraform-provider-postgresql v1.27.0 inside
 * pulumi-resource-postgresql 3.18.1) runs as its admin for the stack's Role and Database, in its
 * order and with its conditions, so the managed tests put the server in the state the real
 * provider would. Written from reading its postgresql/helpers.go, resource_postgresql_role.go and
 * resource_postgresql_database.go:
 *   - "is a member" is a pg_auth_members row role→member, and on 16+ (where the column exists)
 *     one with set_option: the ADMIN-only row PostgreSQL 16 gives a CREATEROLE creator does not count;
 *   - to act as a role it is not a member of, it runs GRANT role TO admin, does the work, then
 *     REVOKE role FROM admin (only when it granted);
 *   - Role delete: REASSIGN OWNED BY role TO admin; DROP OWNED BY role (with the role granted),
 *     then DROP ROLE, in one transaction;
 *   - Database delete: owner granted, terminate other backends, DROP DATABASE ... WITH (FORCE);
 *   - Grant on a database (resource_postgresql_grant.go): one transaction, advisory locks on the
 *     role and the database, REVOKE ALL PRIVILEGES then GRANT, as the admin itself: getRolesToGrant
 *     returns no owner for object_type "database" (it does for schemas and tables);
 *   - Role update (password rotation): ALTER ROLE ... PASSWORD '...' as the admin, under the role's
 *     advisory lock, in one transaction.
 */
import type { Client } from "pg";

const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** The provider's CREATE ROLE (its option order) with a SCRAM verifier as password. */
export function createRoleSql(name: string, verifier: string, connLimit: number): string {
  return `CREATE ROLE ${q(name)} WITH ENCRYPTED PASSWORD '${verifier}' VALID UNTIL 'infinity' CONNECTION LIMIT ${connLimit} NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT LOGIN NOBYPASSRLS NOREPLICATION`;
}

async function isMember(c: Client, role: string, member: string): Promise<boolean> {
  const hasSet = (await c.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'pg_auth_members' AND column_name = 'set_option'")).rowCount! > 0;
  const r = await c.query(
    `SELECT 1 FROM pg_auth_members WHERE pg_get_userbyid(roleid) = $1 AND pg_get_userbyid(member) = $2${hasSet ? " AND set_option" : ""}`,
    [role, member],
  );
  return r.rowCount! > 0;
}

async function grantIfNeeded(c: Client, role: string, member: string): Promise<boolean> {
  if (role === member || (await isMember(c, role, member))) return false;
  await c.query(`GRANT ${q(role)} TO ${q(member)}`);
  return true;
}

async function revokeIfMember(c: Client, role: string, member: string): Promise<void> {
  if (role !== member && (await isMember(c, role, member))) await c.query(`REVOKE ${q(role)} FROM ${q(member)}`);
}

async function superuser(c: Client, role: string): Promise<boolean> {
  return (await c.query<{ s: boolean }>("SELECT rolsuper AS s FROM pg_roles WHERE rolname = $1", [role])).rows[0]?.s === true;
}

/** `fn` with `role` granted to the admin when it is neither superuser nor already a member. */
async function withRoleGranted(c: Client, admin: string, role: string, fn: () => Promise<void>): Promise<void> {
  if (await superuser(c, admin)) return fn();
  const granted = await grantIfNeeded(c, role, admin);
  await fn();
  if (granted) await revokeIfMember(c, role, admin);
}

/** createDatabase: owner granted (if needed) around CREATE DATABASE ... OWNER. */
export async function createDatabase(c: Client, admin: string, name: string, owner: string): Promise<void> {
  await withRoleGranted(c, admin, owner, async () => {
    await c.query(`CREATE DATABASE ${q(name)} OWNER ${q(owner)} TEMPLATE "template0" ENCODING 'UTF8' ALLOW_CONNECTIONS true CONNECTION LIMIT -1 IS_TEMPLATE false`);
  });
}

/** resourcePostgreSQLDatabaseDelete. */
export async function dropDatabase(c: Client, admin: string, name: string, owner: string): Promise<void> {
  await withRoleGranted(c, admin, owner, async () => {
    await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
    await c.query(`DROP DATABASE ${q(name)} WITH ( FORCE )`);
  });
}

/** pgLockRole: the role's lock and its members' locks. */
async function lockRole(c: Client, role: string): Promise<void> {
  await c.query("SET statement_timeout = 0");
  await c.query("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = $1", [role]);
  await c.query("SELECT pg_advisory_xact_lock(member::bigint) FROM pg_auth_members JOIN pg_roles ON roleid = pg_roles.oid WHERE rolname = $1", [role]);
}

async function inTransaction(c: Client, fn: () => Promise<void>): Promise<void> {
  await c.query("BEGIN");
  try {
    await fn();
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/** resourcePostgreSQLGrantCreateOrUpdate for object_type "database"; `c` is on that database. */
export async function grantDatabase(c: Client, database: string, role: string, privileges: string[]): Promise<void> {
  await inTransaction(c, async () => {
    await lockRole(c, role);
    await c.query("SET statement_timeout = 0");
    await c.query("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_database WHERE datname = $1", [database]);
    await c.query(`REVOKE ALL PRIVILEGES ON DATABASE ${q(database)} FROM ${q(role)}`);
    await c.query(`GRANT ${privileges.join(",")} ON DATABASE ${q(database)} TO ${q(role)}`);
  });
}

/** resourcePostgreSQLRoleUpdate when only the password changed (setRolePassword). */
export async function setRolePassword(c: Client, role: string, password: string): Promise<void> {
  await inTransaction(c, async () => {
    await lockRole(c, role);
    await c.query(`ALTER ROLE ${q(role)} PASSWORD '${password.replace(/'/g, "''")}'`);
  });
}

/** resourcePostgreSQLRoleDelete (skipReassignOwned and skipDropRole false, the stack's setting). */
export async function dropRole(c: Client, admin: string, name: string): Promise<void> {
  await c.query("BEGIN");
  try {
    await c.query("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = $1", [name]);
    await withRoleGranted(c, admin, name, async () => {
      await c.query(`REASSIGN OWNED BY ${q(name)} TO ${q(admin)}`);
      await c.query(`DROP OWNED BY ${q(name)}`);
    });
    await c.query(`DROP ROLE ${q(name)}`);
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}
