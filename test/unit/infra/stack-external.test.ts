/**
 * External mode under mocks: with an admin URL the stack manages role/database/pgBouncer but runs
 * no PostgreSQL container; with a ready database URL (manageRole=false) it creates nothing on the
 * server. Also: the migration is handed the DIRECT url, never pgBouncer's.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { checkAdmin, providerSslMode, type AdminFacts, type AdminProbe } from "../../../infra/admin-probe";
import { readConfig, StackConfigError } from "../../../infra/config";
import { createStack, stackOutputs, type MigrationInputs } from "../../../infra/stack";
import { APP_VERIFIER, EXPECTED_USERLIST, expectedIni } from "./expected";
import { installMocks, settle, valueOf } from "./harness";

jest.setTimeout(30_000);

const ADMIN_URL = "postgresql://admin:adm%21n-pw@db.example.com:5433/postgres?sslmode=require";
const READY_URL = "postgresql://railway:ready-pw@db.railway.internal:5432/railway";

/** A probe that records the URLs it was asked about and answers `facts`. */
function fakeProbe(facts: Partial<AdminFacts> = {}): AdminProbe & { urls: string[] } {
  const urls: string[] = [];
  const probe = async (u: string): Promise<AdminFacts> => {
    urls.push(u);
    return { superuser: false, createRole: true, createDb: true, tls: true, serverVersionNum: 160004, ...facts };
  };
  return Object.assign(probe, { urls });
}

/** The base ini with server_tls_* lines where render.ts puts them. */
function iniWithTls(base: string, lines: string[]): string {
  const at = base.indexOf("query_wait_timeout =");
  const tls = [
    ";; TLS towards PostgreSQL, with libpq's sslmode meanings (require: encrypted, not verified;",
    ";; verify-full: the certificate is checked against the CA and the [databases] host name).",
    ...lines,
  ];
  return base.slice(0, at) + tls.join("\n") + "\n" + base.slice(at);
}

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";

describe("external mode with an admin URL", () => {
  it("manages role, database and pgBouncer against the given server, without any PostgreSQL container; TLS reaches every URL", async () => {
    const h = await installMocks({ "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": ADMIN_URL }, ["armp-postgres:adminUrl"]);
    const probe = fakeProbe();
    const out = createStack(readConfig(), { probe });
    await valueOf(out.databaseUrl);
    await settle();

    expect(h.resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        "docker:index/container:Container armp-pgbouncer",
        "docker:index/remoteImage:RemoteImage armp-pgbouncer-image",
        "postgresql:index/database:Database armp-db",
        "postgresql:index/role:Role armp-app-role",
        "postgresql:index/role:Role armp-healthcheck-role",
        "pulumi-nodejs:dynamic/infra:DatabaseAccess armp-db-access",
        "pulumi-nodejs:dynamic/infra:HostPortCheck armp-pgbouncer-port",
        "pulumi-nodejs:dynamic/infra:PgBouncerReload armp-pgbouncer-reload",
        "pulumi-nodejs:dynamic/infra:Secret armp-app-password",
        "pulumi-nodejs:dynamic/infra:Secret armp-healthcheck-password",
        "pulumi:providers:postgresql armp-pg",
      ].sort(),
    );
    // Asked once, with the TLS settings the stack uses.
    expect(probe.urls).toEqual(["postgresql://admin:adm%21n-pw@db.example.com:5433/postgres?sslmode=require"]);
    const p = h.byName("armp-pg");
    expect(p.inputs).toEqual({
      host: "db.example.com",
      port: "5433",
      username: "admin",
      password: "adm!n-pw",
      database: "postgres",
      sslmode: "require",
      // What the server said about the admin (a managed service's is not a superuser).
      superuser: "false",
      connectTimeout: "15",
    });
    expect(p.secretPaths).toEqual(["password"]);

    const c = h.byName("armp-pgbouncer");
    const uploads = c.inputs.uploads as { file: string; content: string }[];
    expect(uploads.map((u) => u.file)).toEqual(["/etc/pgbouncer/pgbouncer.ini", "/etc/pgbouncer/userlist.txt", "/etc/pgbouncer/healthcheck.secret"]);
    expect(uploads[0]).toEqual({ file: "/etc/pgbouncer/pgbouncer.ini", content: iniWithTls(expectedIni({ host: "db.example.com", port: 5433 }), ["server_tls_sslmode = require"]) });
    expect(uploads[1]).toEqual({ file: "/etc/pgbouncer/userlist.txt", content: EXPECTED_USERLIST });
    expect(c.inputs.ports).toEqual([{ internal: 6432, external: 6432, ip: "127.0.0.1" }]);
    // No stack network to join in external mode.
    expect(c.inputs.networksAdvanced).toEqual([]);

    expect(h.byName("armp-db-access").inputs).toEqual({
      adminUrl: "postgresql://admin:adm%21n-pw@db.example.com:5433/postgres?sslmode=require",
      database: "armp",
      owner: "armp_app",
      connectRoles: ["armp_healthcheck"],
      ownerVerifier: APP_VERIFIER,
      ownerUrl: "postgresql://armp_app:generated-armp-app-password@db.example.com:5433/armp?sslmode=require",
    });

    // pgBouncer listens on this machine without TLS; the direct URL carries the server's TLS mode.
    expect(await valueOf(out.databaseUrl)).toBe("postgresql://armp_app:generated-armp-app-password@127.0.0.1:6432/armp");
    expect(await valueOf(out.directDatabaseUrl)).toBe("postgresql://armp_app:generated-armp-app-password@db.example.com:5433/armp?sslmode=require");
    expect(await pulumi.isSecret(out.directDatabaseUrl)).toBe(true);
    expect(await valueOf(out.postgresHost)).toBe("db.example.com");
    expect(out.postgresVolume).toBeUndefined();
  });

  it("verify-full with a CA file: the provider, the URLs, the migration and pgBouncer (CA uploaded) all verify; a superuser admin is told to the provider", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-ca-"));
    const ca = path.join(dir, "rds-ca.pem");
    fs.writeFileSync(ca, PEM);
    try {
      const h = await installMocks(
        {
          "armp-postgres:postgresMode": "external",
          "armp-postgres:adminUrl": "postgresql://admin:pw@db.example.com:5432/postgres",
          "armp-postgres:postgresSslMode": "verify-full",
          "armp-postgres:postgresSslRootCert": ca,
        },
        ["armp-postgres:adminUrl"],
      );
      const probe = fakeProbe({ superuser: true });
      const calls: MigrationInputs[] = [];
      const out = createStack(readConfig(), {
        probe,
        migration: (_n, args) => {
          calls.push(args);
          return { report: pulumi.output({ ok: true }) };
        },
      });
      await valueOf(out.databaseUrl);
      await settle();
      const q = `sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;
      expect(probe.urls).toEqual([`postgresql://admin:pw@db.example.com:5432/postgres?${q}`]);
      expect(h.byName("armp-pg").inputs).toMatchObject({ sslmode: "verify-full", sslrootcert: ca, superuser: "true" });
      expect(await valueOf(out.directDatabaseUrl)).toBe(`postgresql://armp_app:generated-armp-app-password@db.example.com:5432/armp?${q}`);
      expect(await valueOf(calls[0]!.targetUrl)).toBe(`postgresql://armp_app:generated-armp-app-password@db.example.com:5432/armp?${q}`);
      const uploads = h.byName("armp-pgbouncer").inputs.uploads as { file: string; content: string }[];
      expect(uploads[0]!.content).toBe(iniWithTls(expectedIni({ host: "db.example.com", port: 5432 }), ["server_tls_sslmode = verify-full", "server_tls_ca_file = /etc/pgbouncer/server-ca.pem"]));
      expect(uploads[3]).toEqual({ file: "/etc/pgbouncer/server-ca.pem", content: PEM });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prefer (the default) on a server without TLS, pgBouncer off: the provider gets disable, no healthcheck role, no pgBouncer", async () => {
    const h = await installMocks(
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": "postgresql://admin:pw@10.0.0.5:5432/postgres", "armp-postgres:pgbouncerEnabled": "false" },
      ["armp-postgres:adminUrl"],
    );
    const out = createStack(readConfig(), { probe: fakeProbe({ tls: false }) });
    await valueOf(out.databaseUrl);
    await settle();
    expect(h.resources.map((r) => r.name).sort()).toEqual(["armp-app-password", "armp-app-role", "armp-db", "armp-db-access", "armp-pg"]);
    expect(h.byName("armp-pg").inputs).toMatchObject({ sslmode: "disable", superuser: "false" });
    expect(h.byName("armp-db-access").inputs.connectRoles).toEqual([]);
    // libpq's prefer stays in the app's URL: it takes TLS whenever the server offers it.
    expect(await valueOf(out.databaseUrl)).toBe("postgresql://armp_app:generated-armp-app-password@10.0.0.5:5432/armp?sslmode=prefer");
  });

  it("asks nothing when adminIsSuperuser and a definite sslmode are configured; a CA given as PEM text is written under .armp/tls/", async () => {
    const cwd = process.cwd();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-inline-"));
    process.chdir(dir);
    try {
      const h = await installMocks(
        {
          "armp-postgres:postgresMode": "external",
          "armp-postgres:adminUrl": "postgresql://admin:pw@db.example.com:5432/postgres?sslmode=verify-ca",
          "armp-postgres:adminIsSuperuser": "false",
          "armp-postgres:postgresSslRootCert": PEM,
          "armp-postgres:pgbouncerEnabled": "false",
        },
        ["armp-postgres:adminUrl", "armp-postgres:postgresSslRootCert"],
      );
      const probe = fakeProbe();
      const out = createStack(readConfig(), { probe });
      await valueOf(out.databaseUrl);
      await settle();
      expect(probe.urls).toEqual([]);
      const file = path.join(fs.realpathSync(dir), ".armp/tls/ca-" + createHash("sha256").update(PEM).digest("hex").slice(0, 16) + ".pem");
      expect(fs.readFileSync(file, "utf8")).toBe(PEM);
      expect(h.byName("armp-pg").inputs).toMatchObject({ sslmode: "verify-ca", sslrootcert: file, superuser: "false" });
      expect(await valueOf(out.directDatabaseUrl)).toBe(`postgresql://armp_app:generated-armp-app-password@db.example.com:5432/armp?sslmode=verify-ca&sslrootcert=${encodeURIComponent(file)}`);
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an admin that can neither create roles nor databases is refused naming what it lacks; libpq's prefer/allow become lib/pq's modes", () => {
    const facts: AdminFacts = { superuser: false, createRole: false, createDb: true, tls: true, serverVersionNum: 150000 };
    expect(() => checkAdmin(facts, "app")).toThrow(
      new StackConfigError(
        "armp-postgres:adminUrl",
        "the admin role app lacks CREATEROLE: it must create the app role and database. Use the service's admin (RDS: the master user; Cloud SQL: a cloudsqlsuperuser member; Azure: the server admin) or run ALTER ROLE app CREATEROLE as a superuser; or set armp-postgres:manageRole=false with a ready databaseUrl.",
      ),
    );
    expect(checkAdmin({ ...facts, createRole: true }, "app")).toBeUndefined();
    expect(checkAdmin({ ...facts, superuser: true }, "app")).toBeUndefined();
    expect(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].map((m) => [providerSslMode(m, { tls: true }), providerSslMode(m, { tls: false })])).toEqual([
      ["disable", "disable"],
      ["require", "disable"],
      ["require", "disable"],
      ["require", "require"],
      ["verify-ca", "verify-ca"],
      ["verify-full", "verify-full"],
    ]);
  });
});

describe("external mode with a ready database URL (manageRole=false)", () => {
  it("creates nothing on the server; the app URL is the given URL; the migration gets it too", async () => {
    const h = await installMocks(
      {
        "armp-postgres:postgresMode": "external",
        "armp-postgres:manageRole": "false",
        "armp-postgres:pgbouncerEnabled": "false",
        "armp-postgres:databaseUrl": READY_URL,
        "armp-postgres:envFile": "app/.env",
        "armp-postgres:environment": "staging",
        "armp-postgres:logLevel": "warning",
        "armp-postgres:extraIndexes": JSON.stringify([{ table: "publication", columns: ["doi"] }, { table: "researcher", columns: ["orcid"], unique: true, name: "researcher_orcid_key" }]),
        "armp-postgres:castOverrides": JSON.stringify({ "publication.year": "integer" }),
        "armp-postgres:migrationJobs": "3",
      },
      ["armp-postgres:databaseUrl"],
    );
    const calls: { name: string; args: MigrationInputs; opts: pulumi.ComponentResourceOptions }[] = [];
    const out = createStack(readConfig(), {
      migration: (name, args, opts) => {
        calls.push({ name, args, opts });
        return { report: pulumi.output({ ok: true }) };
      },
    });
    await valueOf(out.databaseUrl);
    await settle();

    expect(h.resources.map((r) => `${r.type} ${r.name}`)).toEqual(["pulumi-nodejs:dynamic/infra:EnvFile armp-envfile"]);
    expect(h.byName("armp-envfile").inputs).toEqual({
      path: "app/.env",
      values: { DATABASE_URL: READY_URL, DIRECT_DATABASE_URL: READY_URL, ENVIRONMENT: "staging", LOG_LEVEL: "warning" },
    });
    expect(h.byName("armp-envfile").secretPaths).toEqual(["values"]);

    expect(calls).toHaveLength(1);
    const m = calls[0]!;
    expect(m.name).toBe("armp");
    expect(await valueOf(m.args.targetUrl)).toBe(READY_URL);
    expect(await pulumi.isSecret(m.args.targetUrl)).toBe(true);
    expect({ ...m.args, targetUrl: "<checked>" }).toEqual({
      sourcePath: "data/armp.db",
      targetUrl: "<checked>",
      targetSchema: "public",
      jobs: 3,
      extraIndexes: [{ table: "publication", columns: ["doi"] }, { table: "researcher", columns: ["orcid"], unique: true, name: "researcher_orcid_key" }],
      castOverrides: { "publication.year": "integer" },
      timestamptz: false,
      strictTypes: false,
      epochs: {},
      textCollation: "C",
      capture: false,
    });

    const outputs = stackOutputs(out);
    expect(Object.keys(outputs).sort()).toEqual(
      ["DATABASE_URL", "DIRECT_DATABASE_URL", "ENVIRONMENT", "LOG_LEVEL", "appRole", "databaseName", "envFile", "envFileBackup", "migrationReport", "pgbouncerEnabled", "postgresHost", "postgresMode", "postgresPort"].sort(),
    );
    expect(await valueOf(out.databaseUrl)).toBe(READY_URL);
    expect(await pulumi.isSecret(out.databaseUrl)).toBe(true);
    expect(await valueOf(out.appRole)).toBe("railway");
    expect(await pulumi.isSecret(out.appRole)).toBe(false);
    expect(await valueOf(out.databaseName)).toBe("railway");
    expect(await valueOf(out.postgresHost)).toBe("db.railway.internal");
    expect(await valueOf(out.postgresPort)).toBe(5432);
    expect(outputs.pgbouncerEnabled).toBe(false);
  });

  it("declares no migration when armp-postgres:migrationEnabled=false", async () => {
    await installMocks(
      { "armp-postgres:postgresMode": "external", "armp-postgres:manageRole": "false", "armp-postgres:pgbouncerEnabled": "false", "armp-postgres:databaseUrl": READY_URL, "armp-postgres:migrationEnabled": "false" },
      ["armp-postgres:databaseUrl"],
    );
    let called = 0;
    const out = createStack(readConfig(), {
      migration: () => {
        called++;
        return { report: pulumi.output({}) };
      },
    });
    await valueOf(out.databaseUrl);
    expect(called).toBe(0);
    expect(out.migrationReport).toBeUndefined();
  });
});
