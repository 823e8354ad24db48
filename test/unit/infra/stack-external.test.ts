/**
 * External mode under mocks: with an admin URL the stack manages role/database/pgBouncer but runs
 * no PostgreSQL container; with a ready database URL (manageRole=false) it creates nothing on the
 * server. Also: the migration is handed the DIRECT url, never pgBouncer's.
 */
import * as pulumi from "@pulumi/pulumi";
import { readConfig } from "../../../infra/config";
import { createStack, stackOutputs, type MigrationInputs } from "../../../infra/stack";
import { EXPECTED_USERLIST, expectedIni } from "./expected";
import { installMocks, settle, valueOf } from "./harness";

jest.setTimeout(30_000);

const ADMIN_URL = "postgresql://admin:adm%21n-pw@db.example.com:5433/postgres?sslmode=require";
const READY_URL = "postgresql://railway:ready-pw@db.railway.internal:5432/railway";

describe("external mode with an admin URL", () => {
  it("manages role, database and pgBouncer against the given server, without any PostgreSQL container", async () => {
    const h = await installMocks({ "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": ADMIN_URL }, ["armp-postgres:adminUrl"]);
    const out = createStack(readConfig());
    await valueOf(out.databaseUrl);
    await settle();

    expect(h.resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        "docker:index/container:Container armp-pgbouncer",
        "docker:index/remoteImage:RemoteImage armp-pgbouncer-image",
        "postgresql:index/database:Database armp-db",
        "postgresql:index/grant:Grant armp-db-grant",
        "postgresql:index/grant:Grant armp-healthcheck-grant",
        "postgresql:index/grant:Grant armp-schema-grant",
        "postgresql:index/role:Role armp-app-role",
        "postgresql:index/role:Role armp-healthcheck-role",
        "pulumi-nodejs:dynamic/infra:PgBouncerReload armp-pgbouncer-reload",
        "pulumi-nodejs:dynamic/infra:Secret armp-app-password",
        "pulumi-nodejs:dynamic/infra:Secret armp-healthcheck-password",
        "pulumi:providers:postgresql armp-pg",
      ].sort(),
    );
    const p = h.byName("armp-pg");
    expect(p.inputs).toEqual({
      host: "db.example.com",
      port: "5433",
      username: "admin",
      password: "adm!n-pw",
      database: "postgres",
      sslmode: "require",
      // A managed service's admin is not a superuser.
      superuser: "false",
      connectTimeout: "15",
    });
    expect(p.secretPaths).toEqual(["password"]);

    const c = h.byName("armp-pgbouncer");
    const uploads = c.inputs.uploads as { file: string; content: string }[];
    expect(uploads[0]).toEqual({ file: "/etc/pgbouncer/pgbouncer.ini", content: expectedIni({ host: "db.example.com", port: 5433 }) });
    expect(uploads[1]).toEqual({ file: "/etc/pgbouncer/userlist.txt", content: EXPECTED_USERLIST });
    expect(c.inputs.ports).toEqual([{ internal: 6432, external: 6432, ip: "127.0.0.1" }]);
    // No stack network to join in external mode.
    expect(c.inputs.networksAdvanced).toEqual([]);

    expect(await valueOf(out.databaseUrl)).toBe("postgresql://armp_app:generated-armp-app-password@127.0.0.1:6432/armp");
    expect(await valueOf(out.directDatabaseUrl)).toBe("postgresql://armp_app:generated-armp-app-password@db.example.com:5433/armp");
    expect(await pulumi.isSecret(out.directDatabaseUrl)).toBe(true);
    expect(await valueOf(out.postgresHost)).toBe("db.example.com");
    expect(out.postgresVolume).toBeUndefined();
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
