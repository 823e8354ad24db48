/**
 * Admin connections (the postgresql provider: roles, database, grants) and the migration never go
 * through pgBouncer, in every mode that has them: they need a session (DDL, COPY, advisory
 * locks), which transaction pooling does not give.
 */
import * as pulumi from "@pulumi/pulumi";
import { readConfig } from "../../../infra/config";
import { createStack } from "../../../infra/stack";
import { installMocks, settle, valueOf } from "./harness";

jest.setTimeout(30_000);

const MODES: { mode: string; config: Record<string, string>; admin: { host: string; port: string } }[] = [
  { mode: "docker, defaults", config: {}, admin: { host: "127.0.0.1", port: "55432" } },
  { mode: "docker, ports from config", config: { "armp-postgres:postgresHostPort": "15432", "armp-postgres:pgbouncerHostPort": "16432" }, admin: { host: "127.0.0.1", port: "15432" } },
  {
    mode: "external with an admin URL",
    config: { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": "postgresql://admin:pw@db.example.com:5433/postgres?sslmode=require" },
    admin: { host: "db.example.com", port: "5433" },
  },
];

describe.each(MODES)("$mode", ({ config, admin }) => {
  it("the provider and the migration connect to PostgreSQL's own port; only the app URL is pgBouncer's", async () => {
    const h = await installMocks(config, ["armp-postgres:adminUrl"]);
    const seen: pulumi.Output<string>[] = [];
    const out = createStack(readConfig(), {
      // What a reachable CREATEROLE CREATEDB admin over TLS answers (infra/admin-probe.ts).
      probe: async () => ({ superuser: false, createRole: true, createDb: true, tls: true, serverVersionNum: 160004 }),
      migration: (_n, args) => {
        seen.push(args.targetUrl);
        return { report: pulumi.output({}) };
      },
    });
    const app = new URL(await valueOf(out.databaseUrl));
    await settle();
    const p = h.byName("armp-pg").inputs as Record<string, string>;
    expect({ host: p.host, port: p.port }).toEqual(admin);
    const bouncerPort = String((h.byName("armp-pgbouncer").inputs.ports as { external: number }[])[0]?.external);
    expect(app.port).toBe(bouncerPort);
    expect(p.port).not.toBe(bouncerPort);
    const migration = new URL(await valueOf(seen[0] as pulumi.Output<string>));
    expect({ host: migration.hostname, port: migration.port }).toEqual(admin);
    expect(new URL(await valueOf(out.directDatabaseUrl)).port).toBe(admin.port);
  });
});
