/**
 * The managed-PostgreSQL profile: a TLS-only server (verify-full with the test CA) where the admin
 * is CREATEROLE CREATEDB and not a superuser, on every server of pg-servers.ts (PostgreSQL 15 and
 * 16.4: 16 changed what CREATEROLE may do). The roles and database are made, and dropped, with the
 * SQL the postgresql provider (terraform-provider-postgresql v1.27.0 inside
 * pulumi-resource-postgresql 3.18.1) runs as that admin (provider-sql.ts); the privileges are then
 * the DatabaseAccess provider's (loaded from dist/ like the provider host loads it). Every
 * privilege is asserted with has_database_privilege and friends, every membership from
 * pg_auth_members.
 */
import * as path from "path";
import Database from "better-sqlite3";
import { Client } from "pg";
import { probeAdmin } from "../../../infra/admin-probe";
import { StackConfigError } from "../../../infra/config";
import { runMigration } from "../../../migrate/engine/run";
import { connect } from "../../../migrate/engine/pg";
import { databaseAccessProvider } from "../../../infra/providers/database-access";
import type { DatabaseAccessInputs, DatabaseAccessOutputs } from "../../../infra/providers/database-access-impl";
import { scramSha256Verifier } from "../../../pgbouncer";
import { sha256File, tempDir } from "../engine/helpers";
import { startTlsCluster, type TlsCluster } from "../../support/tls-cluster";
import { pgServers, type PgServer } from "./pg-servers";
import { createDatabase, createRoleSql, dropDatabase, dropRole, grantDatabase, setRolePassword } from "./provider-sql";

const APP = "armp_app";
const HEALTH = "armp_healthcheck";
const DB = "armp";
const APP_PASSWORD = "app-Password-from-stack-1";
const HEALTH_PASSWORD = "health-Password-from-stack-1";

describe.each(pgServers().map((s): [string, PgServer] => [s.name, s]))("managed PostgreSQL on %s: TLS-only server, CREATEROLE CREATEDB admin that is not a superuser", (_name, server) => {
  let cluster: TlsCluster;
  let tlsQuery: string;
  beforeAll(async () => {
    cluster = await startTlsCluster({ binDir: server.binDir });
    tlsQuery = `sslmode=verify-full&sslrootcert=${encodeURIComponent(cluster.caFile)}`;
  });
  afterAll(() => cluster?.stop());

  const adminUrl = (database = "postgres"): string =>
    cluster.url({ user: cluster.managedAdmin.user, password: cluster.managedAdmin.password, host: "localhost", database, query: tlsQuery });
  const appUrl = (password = APP_PASSWORD): string => cluster.url({ user: APP, password, host: "localhost", database: DB, query: tlsQuery });

  async function asAdmin<T>(database: string, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await connect({ url: adminUrl(database) });
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  async function asSuper<T>(fn: (c: Client) => Promise<T>, database = "postgres"): Promise<T> {
    const c = await cluster.superClient(database);
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  /**
   * Memberships the admin holds, one line per pg_auth_members row: the role, its options
   * (inherit_option and set_option exist from PostgreSQL 16 on) and who granted it.
   */
  async function adminMemberships(): Promise<string[]> {
    const options = server.major >= 16 ? `' admin=' || admin_option || ' inherit=' || inherit_option || ' set=' || set_option` : `' admin=' || admin_option`;
    return asSuper(async (c) =>
      (
        await c.query<{ m: string }>(
          `SELECT pg_get_userbyid(roleid) || ${options} || ' grantor=' || pg_get_userbyid(grantor) AS m
             FROM pg_auth_members WHERE member = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY 1`,
          [cluster.managedAdmin.user],
        )
      ).rows.map((r) => r.m),
    );
  }

  /**
   * What the admin holds once it has created `roles` (CREATE ROLE as a CREATEROLE non-superuser).
   * PostgreSQL 15: nothing (CREATEROLE alone lets it grant, alter and drop any non-superuser role).
   * PostgreSQL 16+ (CREATE ROLE docs; user.c CreateRole): the creator is granted the new role WITH
   * ADMIN OPTION, recorded as granted by the bootstrap superuser (so it cannot revoke it), with
   * INHERIT and SET as createrole_self_grant says (default '': neither); without ADMIN OPTION a
   * CREATEROLE role may not grant, alter or drop a role. The row goes away with DROP ROLE.
   */
  function creatorMemberships(roles: string[]): string[] {
    if (server.major < 16) return [];
    return roles.map((r) => `${r} admin=true inherit=false set=false grantor=${cluster.superuser}`).sort();
  }

  /** Every privilege the stack's roles (and a bystander) have, as the server reports it. */
  async function privileges(): Promise<Record<string, Record<string, boolean>>> {
    return asSuper(async (c) => {
      const out: Record<string, Record<string, boolean>> = {};
      for (const role of [APP, HEALTH, "armp_bystander"]) {
        const r = await c.query(
          `SELECT has_database_privilege($1, $2, 'CONNECT') AS connect, has_database_privilege($1, $2, 'CREATE') AS create,
                  has_database_privilege($1, $2, 'TEMPORARY') AS temp, has_schema_privilege($1, 'public', 'USAGE') AS usage,
                  has_schema_privilege($1, 'public', 'CREATE') AS schema_create`,
          [role, DB],
        );
        out[role] = r.rows[0];
      }
      return out;
    }, DB);
  }

    it("the provider's own database grant is a silent no-op for this admin; DatabaseAccess makes every privilege take effect, reads back clean, heals drift, and destroy leaves nothing", async () => {
      const before = await adminMemberships();
      expect(before).toEqual([]);
      expect(await asSuper(async (c) => (await c.query("SELECT current_setting('server_version_num')::int / 10000 AS major")).rows[0].major)).toBe(server.major);
      if (server.major >= 16) {
        // The rule creatorMemberships() follows holds only with the default createrole_self_grant.
        expect(await asSuper(async (c) => (await c.query("SELECT current_setting('createrole_self_grant') AS g")).rows[0].g)).toBe("");
      }
      // What the stack asks at preview: this admin is not a superuser, may create roles and
      // databases, and the connection is TLS.
      const facts = await probeAdmin(adminUrl());
      expect([facts.superuser, facts.createRole, facts.createDb, facts.tls, Math.floor(facts.serverVersionNum / 10000)]).toEqual([false, true, true, true, server.major]);
      const plain = await probeAdmin(cluster.url({ user: cluster.managedAdmin.user, password: cluster.managedAdmin.password, query: "sslmode=disable" })).catch((e: unknown) => e as StackConfigError);
      expect(plain).toBeInstanceOf(StackConfigError);
      expect((plain as StackConfigError).message).toBe(
        `armp-postgres:adminUrl: TARGET_TLS_REQUIRED: PostgreSQL at postgresql://${cluster.managedAdmin.user}:***@127.0.0.1:${cluster.port}/postgres?sslmode=disable accepts only encrypted connections from this client ` +
          `(no pg_hba.conf entry for host "127.0.0.1", user "${cluster.managedAdmin.user}", database "postgres", no encryption); the password was not checked. ` +
          "Add sslmode=require to the URL (or verify-full with sslrootcert=<the server's CA file> to also check the certificate).",
      );
      const appVerifier = scramSha256Verifier(APP_PASSWORD);
      await asSuper((c) => c.query("CREATE ROLE armp_bystander LOGIN PASSWORD 'bystander-Pass-1'"));
      expect(await asAdmin("postgres", async (c) => (await c.query("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")).rows[0])).toEqual({
        rolsuper: false,
        rolcreaterole: true,
        rolcreatedb: true,
      });

      // What the postgresql provider runs as the admin: two roles, then createDatabase (it grants
      // itself the owner's role when not a member, creates the database, revokes the membership).
      await asAdmin("postgres", async (c) => {
        await c.query(createRoleSql(APP, appVerifier, -1));
        await c.query(createRoleSql(HEALTH, scramSha256Verifier(HEALTH_PASSWORD), 2));
      });
      // PostgreSQL 16+: the creator now holds both roles WITH ADMIN OPTION (and nothing else).
      const created16 = creatorMemberships([APP, HEALTH]);
      expect(await adminMemberships()).toEqual(created16);
      await asAdmin("postgres", (c) => createDatabase(c, cluster.managedAdmin.user, DB, APP));
      // The provider's own GRANT/REVOKE of the owner's role left no row behind.
      expect(await adminMemberships()).toEqual(created16);
      expect(await asSuper(async (c) => (await c.query("SELECT pg_get_userbyid(datdba) AS o FROM pg_database WHERE datname = $1", [DB])).rows[0].o)).toBe(APP);
      // The provider's Grant for a database: REVOKE ALL + GRANT as the admin, no owner role granted.
      const notices: string[] = [];
      await asAdmin(DB, async (c) => {
        c.on("notice", (n) => notices.push(n.message ?? ""));
        await grantDatabase(c, DB, HEALTH, ["CONNECT"]);
      });
      expect(notices).toEqual([`no privileges could be revoked for "${DB}"`, `no privileges were granted for "${DB}"`]);
      // The REVOKE only wrote out the default ACL; the healthcheck role is not in it.
      expect(await asSuper(async (c) => (await c.query("SELECT datacl::text AS acl FROM pg_database WHERE datname = $1", [DB])).rows[0].acl)).toBe(`{=Tc/${APP},${APP}=CTc/${APP}}`);
      // PostgreSQL's defaults: everyone may connect and create temporary tables.
      expect((await privileges())["armp_bystander"]).toEqual({ connect: true, create: false, temp: true, usage: true, schema_create: false });

      const inputs: DatabaseAccessInputs = {
        adminUrl: adminUrl(),
        database: DB,
        owner: APP,
        connectRoles: [HEALTH],
        ownerVerifier: appVerifier,
        ownerUrl: appUrl(),
      };
      const created = await databaseAccessProvider.create!(inputs);
      const want = { publicDatabase: [], publicSchema: [], roles: { [APP]: ["CONNECT", "CREATE", "TEMPORARY"], [HEALTH]: ["CONNECT"] }, ownerLogin: true };
      expect(created.outs!.observed).toEqual(want);
      expect(await privileges()).toEqual({
        [APP]: { connect: true, create: true, temp: true, usage: true, schema_create: true },
        [HEALTH]: { connect: true, create: false, temp: false, usage: false, schema_create: false },
        armp_bystander: { connect: false, create: false, temp: false, usage: false, schema_create: false },
      });
      // Granted as the owner, exactly as a superuser's GRANT would be recorded; the admin keeps the
      // CONNECT it had through PUBLIC, so that it can come back to refresh and destroy.
      expect(await asSuper(async (c) => (await c.query("SELECT datacl::text AS acl FROM pg_database WHERE datname = $1", [DB])).rows[0].acl)).toBe(
        `{${APP}=CTc/${APP},${cluster.managedAdmin.user}=c/${APP},${HEALTH}=c/${APP}}`,
      );
      expect(await adminMemberships()).toEqual(created16);

      // The migration, as the app role over verify-full: every table copied and verified.
      const dir = tempDir("tls-source");
      const source = path.join(dir, "source.sqlite");
      const w = new Database(source);
      w.exec("CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author(id), title TEXT);");
      w.exec("INSERT INTO author VALUES (1, 'Le Guin'), (2, 'Lem'); INSERT INTO book VALUES (1, 1, 'The Dispossessed'), (2, 2, 'Solaris'), (3, 2, 'Fiasco');");
      w.close();
      const hash = sha256File(source);
      const run = await runMigration(source, { url: appUrl() });
      expect([run.ok, run.verify.ok, run.tables.map((t) => [t.table, t.rowsWritten])]).toEqual([true, true, [["author", 2], ["book", 3]]]);
      expect(sha256File(source)).toBe(hash);

      // Logins over TLS: the app and the healthcheck role get in; the bystander is refused by CONNECT.
      for (const [user, password] of [[APP, APP_PASSWORD], [HEALTH, HEALTH_PASSWORD]]) {
        const c = await connect({ url: cluster.url({ user, password, host: "localhost", database: DB, query: tlsQuery }) });
        expect((await c.query("SELECT current_user AS u, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl")).rows[0]).toEqual({ u: user, ssl: true });
        await c.end();
      }
      const bystander = cluster.url({ user: "armp_bystander", password: "bystander-Pass-1", host: "localhost", database: DB, query: tlsQuery });
      const refused = (await connect({ url: bystander }).catch((e: unknown) => e)) as Error & { code: string };
      expect([refused.code, refused.message]).toEqual([
        "TARGET_AUTH_FAILED",
        `PostgreSQL at ${bystander.replace("bystander-Pass-1", "***")} let the role log in but not into this database (permission denied for database "${DB}"). ` +
          "Grant it CONNECT on the database (GRANT CONNECT ON DATABASE ... TO ...), as the database's owner.",
      ]);

      // Refresh right after up: nothing to change (preview --refresh --expect-no-changes).
      const read1 = await databaseAccessProvider.read!(created.id, created.outs!);
      expect(read1.props!.observed).toEqual(want);
      expect(await databaseAccessProvider.diff!(created.id, read1.props!, inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });

      // Drift by hand: the app's password changed, TEMP handed back to PUBLIC.
      await asSuper((c) => c.query(`ALTER ROLE ${APP} PASSWORD 'changed-by-hand-1'`));
      await asSuper((c) => c.query(`GRANT TEMPORARY ON DATABASE ${DB} TO PUBLIC`));
      const read2 = await databaseAccessProvider.read!(created.id, created.outs!);
      // has_database_privilege counts PUBLIC's grants too: the healthcheck role can TEMP again.
      expect(read2.props!.observed).toEqual({ ...want, publicDatabase: ["TEMPORARY"], roles: { ...want.roles, [HEALTH]: ["CONNECT", "TEMPORARY"] }, ownerLogin: false });
      expect(await databaseAccessProvider.diff!(created.id, read2.props!, inputs)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
      const healed = await databaseAccessProvider.update!(created.id, read2.props!, inputs);
      expect(healed.outs!.observed).toEqual(want);
      expect(await asSuper(async (c) => (await c.query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [APP])).rows[0].rolpassword)).toBe(appVerifier);
      const app = await connect({ url: appUrl() });
      expect((await app.query("SELECT current_user AS u")).rows[0].u).toBe(APP);
      await app.end();
      expect(await adminMemberships()).toEqual(created16);

      // Rotation: the provider's ALTER ROLE ... PASSWORD as the admin (PostgreSQL 16+: allowed by
      // the creator's ADMIN OPTION), then DatabaseAccess sees new inputs and checks the new login.
      const rotatedPassword = "app-Password-rotated-2";
      const rotated = scramSha256Verifier(rotatedPassword);
      await asAdmin("postgres", (c) => setRolePassword(c, APP, rotated));
      expect(await asSuper(async (c) => (await c.query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [APP])).rows[0].rolpassword)).toBe(rotated);
      const rotatedInputs: DatabaseAccessInputs = { ...inputs, ownerVerifier: rotated, ownerUrl: appUrl(rotatedPassword) };
      expect(await databaseAccessProvider.diff!(created.id, healed.outs!, rotatedInputs)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
      const afterRotation = await databaseAccessProvider.update!(created.id, healed.outs!, rotatedInputs);
      expect(afterRotation.outs!.observed).toEqual(want);
      const rotatedLogin = await connect({ url: appUrl(rotatedPassword) });
      expect((await rotatedLogin.query("SELECT current_user AS u")).rows[0].u).toBe(APP);
      await rotatedLogin.end();
      expect(await adminMemberships()).toEqual(created16);

      // Destroy in the engine's order: DatabaseAccess first (its dependents), then what the provider
      // deletes as this admin: the database (owner role granted for the DROP) and both roles.
      await databaseAccessProvider.delete!(created.id, afterRotation.outs as DatabaseAccessOutputs);
      // PostgreSQL's defaults are back (through PUBLIC only: the healthcheck role's own grant is gone).
      expect((await privileges())[HEALTH]).toEqual({ connect: true, create: false, temp: true, usage: true, schema_create: false });
      expect(await asSuper(async (c) => (await c.query("SELECT datacl::text AS acl FROM pg_database WHERE datname = $1", [DB])).rows[0].acl)).toBe(`{${APP}=CTc/${APP},=Tc/${APP}}`);
      await asAdmin("postgres", async (c) => {
        await dropDatabase(c, cluster.managedAdmin.user, DB, APP);
        expect(await adminMemberships()).toEqual(created16);
        await dropRole(c, cluster.managedAdmin.user, HEALTH);
        await dropRole(c, cluster.managedAdmin.user, APP);
      });
      expect(
        await asSuper(async (c) => (await c.query("SELECT (SELECT count(*) FROM pg_roles WHERE rolname IN ($1, $2))::int AS roles, (SELECT count(*) FROM pg_database WHERE datname = $3)::int AS dbs", [APP, HEALTH, DB])).rows[0]),
      ).toEqual({ roles: 0, dbs: 0 });
      // DROP ROLE took the creator's ADMIN OPTION rows with it: the admin is as it was.
      expect(await adminMemberships()).toEqual(before);
      // Deleting again (the database already gone) is a no-op, not an error.
      await databaseAccessProvider.delete!(created.id, afterRotation.outs as DatabaseAccessOutputs);
    });

    it("an app role the admin did not create: PostgreSQL 15 lets CREATEROLE act as it, 16+ refuses without ADMIN OPTION (coded, with the GRANT that fixes it)", async () => {
      const OTHER = "armp_other_app";
      const OTHER_DB = "armp_other";
      const verifier = scramSha256Verifier("other-App-Password-1");
      // Made by someone else (here the superuser), e.g. before the stack's admin was changed.
      await asSuper(async (c) => {
        await c.query(createRoleSql(OTHER, verifier, -1));
        await createDatabase(c, cluster.superuser, OTHER_DB, OTHER);
      });
      const inputs: DatabaseAccessInputs = {
        adminUrl: adminUrl(),
        database: OTHER_DB,
        owner: OTHER,
        connectRoles: [],
        ownerVerifier: verifier,
        ownerUrl: cluster.url({ user: OTHER, password: "other-App-Password-1", host: "localhost", database: OTHER_DB, query: tlsQuery }),
      };
      const acl = async (): Promise<string | null> => asSuper(async (c) => (await c.query("SELECT datacl::text AS acl FROM pg_database WHERE datname = $1", [OTHER_DB])).rows[0].acl);
      const want = { publicDatabase: [], publicSchema: [], roles: { [OTHER]: ["CONNECT", "CREATE", "TEMPORARY"] }, ownerLogin: true };
      if (server.major < 16) {
        const created = await databaseAccessProvider.create!(inputs);
        expect(created.outs!.observed).toEqual(want);
        expect(await acl()).toBe(`{${OTHER}=CTc/${OTHER},${cluster.managedAdmin.user}=c/${OTHER}}`);
        expect(await adminMemberships()).toEqual([]);
        await databaseAccessProvider.delete!(created.id, created.outs as DatabaseAccessOutputs);
      } else {
        const refused = (await databaseAccessProvider.create!(inputs).catch((e: unknown) => e)) as Error;
        expect(refused.message).toBe(
          `TARGET_AUTH_FAILED: The admin ${cluster.managedAdmin.user} may not act as the app role ${OTHER}, which owns the database (permission denied to grant role "${OTHER}"). ` +
            "On PostgreSQL 16+ a CREATEROLE admin may only use roles it holds ADMIN OPTION on: the ones it created itself. " +
            `Run GRANT "${OTHER}" TO "${cluster.managedAdmin.user}" WITH ADMIN OPTION as a superuser or as the admin that created ${OTHER}, or configure that admin in adminUrl.`,
        );
        expect(refused.message).not.toContain(cluster.managedAdmin.password);
        // Refused inside the transaction: nothing changed.
        expect(await acl()).toBeNull();
        expect(await adminMemberships()).toEqual([]);
        // The fix the message gives, as the superuser; then the same create goes through.
        await asSuper((c) => c.query(`GRANT "${OTHER}" TO "${cluster.managedAdmin.user}" WITH ADMIN OPTION`));
        const created = await databaseAccessProvider.create!(inputs);
        expect(created.outs!.observed).toEqual(want);
        expect(await acl()).toBe(`{${OTHER}=CTc/${OTHER},${cluster.managedAdmin.user}=c/${OTHER}}`);
        // It already had SET through that grant: no membership of its own added or left.
        expect(await adminMemberships()).toEqual([`${OTHER} admin=true inherit=true set=true grantor=${cluster.superuser}`]);
        await databaseAccessProvider.delete!(created.id, created.outs as DatabaseAccessOutputs);
      }
      expect(await acl()).toBe(`{${OTHER}=CTc/${OTHER},=Tc/${OTHER}}`);
      await asSuper(async (c) => {
        await dropDatabase(c, cluster.superuser, OTHER_DB, OTHER);
        await dropRole(c, cluster.superuser, OTHER);
      });
      expect(await adminMemberships()).toEqual([]);
    });

    it("a superuser admin gets the same privileges without a membership or CONNECT of its own", async () => {
      const su = cluster.url({ host: "localhost", query: tlsQuery });
      const facts = await probeAdmin(su);
      expect([facts.superuser, facts.createRole, facts.createDb, facts.tls, Math.floor(facts.serverVersionNum / 10000)]).toEqual([true, true, true, true, server.major]);
      const verifier = scramSha256Verifier("su-App-Password-1");
      await asSuper(async (c) => {
        await c.query(createRoleSql("armp_su_app", verifier, -1));
        await createDatabase(c, cluster.superuser, "armp_su", "armp_su_app");
      });
      const inputs: DatabaseAccessInputs = {
        adminUrl: su,
        database: "armp_su",
        owner: "armp_su_app",
        connectRoles: [],
        ownerVerifier: verifier,
        ownerUrl: cluster.url({ user: "armp_su_app", password: "su-App-Password-1", host: "localhost", database: "armp_su", query: tlsQuery }),
      };
      const created = await databaseAccessProvider.create!(inputs);
      expect(created.outs!.observed).toEqual({ publicDatabase: [], publicSchema: [], roles: { armp_su_app: ["CONNECT", "CREATE", "TEMPORARY"] }, ownerLogin: true });
      expect(await asSuper(async (c) => (await c.query("SELECT datacl::text AS acl FROM pg_database WHERE datname = 'armp_su'")).rows[0].acl)).toBe("{armp_su_app=CTc/armp_su_app}");
      await databaseAccessProvider.delete!(created.id, created.outs as DatabaseAccessOutputs);
      expect(await asSuper(async (c) => (await c.query("SELECT datacl::text AS acl FROM pg_database WHERE datname = 'armp_su'")).rows[0].acl)).toBe("{armp_su_app=CTc/armp_su_app,=Tc/armp_su_app}");
      await asSuper(async (c) => {
        await dropDatabase(c, cluster.superuser, "armp_su", "armp_su_app");
        await dropRole(c, cluster.superuser, "armp_su_app");
      });
      expect(await asSuper(async (c) => (await c.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'armp_su_app'")).rows[0].n)).toBe(0);
    });
});
