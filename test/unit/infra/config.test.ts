/**
 * Stack config validation: every invalid value fails before any resource is declared, with the
 * full config key first in the message, and never with a password in it. Also: Pulumi.yaml
 * declares every key the program reads, with the same defaults.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, StackConfigError, readConfig, type StackConfig } from "../../../infra/config";

const PW = "pw-that-must-not-leak";
/** A readable file that is not a certificate. */
const NOT_PEM = path.join(__dirname, "../../../package.json");
const base = { "armp-postgres:postgresPassword": PW };

function read(config: Record<string, string>): StackConfig {
  pulumi.runtime.setAllConfig(config, ["armp-postgres:postgresPassword", "armp-postgres:adminUrl", "armp-postgres:databaseUrl"]);
  return readConfig();
}

function failure(config: Record<string, string>): StackConfigError {
  try {
    read(config);
  } catch (e) {
    expect(e).toBeInstanceOf(StackConfigError);
    expect((e as Error).message).not.toContain(PW);
    return e as StackConfigError;
  }
  throw new Error("readConfig accepted an invalid config");
}

describe("invalid stack config names the key", () => {
  it.each<[string, Record<string, string>, string, string]>([
    [
      "rename onto a name PostgreSQL cannot take",
      { ...base, "armp-postgres:renames": JSON.stringify({ "items.qty": "q".repeat(64) }) },
      "armp-postgres:renames",
      'armp-postgres:renames: must be an object of "table" or "table.column": "PostgreSQL name" (1 to 63 bytes).',
    ],
    [
      "pool larger than max clients",
      { ...base, "armp-postgres:defaultPoolSize": "200" },
      "armp-postgres:defaultPoolSize",
      "armp-postgres:defaultPoolSize: default_pool_size (defaultPoolSize): 200 exceeds max_client_conn (maxClientConn) = 100; lower default_pool_size or raise max_client_conn.",
    ],
    [
      "min pool larger than pool",
      { ...base, "armp-postgres:minPoolSize": "30" },
      "armp-postgres:minPoolSize",
      "armp-postgres:minPoolSize: min_pool_size (minPoolSize): 30 exceeds default_pool_size (defaultPoolSize) = 20; lower min_pool_size or raise default_pool_size.",
    ],
    [
      "unknown pool mode",
      { ...base, "armp-postgres:poolMode": "pipeline" },
      "armp-postgres:poolMode",
      'armp-postgres:poolMode: must be one of transaction, session, statement, got "pipeline".',
    ],
    [
      "unknown server mode",
      { ...base, "armp-postgres:postgresMode": "kubernetes" },
      "armp-postgres:postgresMode",
      'armp-postgres:postgresMode: must be one of docker, external, got "kubernetes".',
    ],
    [
      "external mode without admin URL",
      { "armp-postgres:postgresMode": "external" },
      "armp-postgres:adminUrl",
      "armp-postgres:adminUrl: is required in external mode with armp-postgres:manageRole=true (a role that may CREATE ROLE and CREATE DATABASE); set it with `pulumi config set --secret armp-postgres:adminUrl postgresql://...`, or set armp-postgres:manageRole=false and armp-postgres:databaseUrl.",
    ],
    [
      "admin URL that is not a URL",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `admin:${PW}@db:5432/postgres` },
      "armp-postgres:adminUrl",
      'armp-postgres:adminUrl: must use the postgresql:// scheme, got "admin:".',
    ],
    [
      "admin URL with garbage",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `postgresql://admin:${PW}@/` },
      "armp-postgres:adminUrl",
      "armp-postgres:adminUrl: is not a URL; expected postgresql://user:password@host:port/database (value not shown: it holds a password).",
    ],
    [
      "admin URL without database",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `postgres://admin:${PW}@db.example.com:5432` },
      "armp-postgres:adminUrl",
      "armp-postgres:adminUrl: must name a host, a user and a database: postgresql://user:password@host:port/database.",
    ],
    [
      "database URL with the wrong scheme",
      { "armp-postgres:postgresMode": "external", "armp-postgres:manageRole": "false", "armp-postgres:pgbouncerEnabled": "false", "armp-postgres:databaseUrl": `mysql://u:${PW}@h/db` },
      "armp-postgres:databaseUrl",
      'armp-postgres:databaseUrl: must use the postgresql:// scheme, got "mysql:".',
    ],
    [
      "no role management without a database URL",
      { "armp-postgres:postgresMode": "external", "armp-postgres:manageRole": "false" },
      "armp-postgres:databaseUrl",
      "armp-postgres:databaseUrl: is required when armp-postgres:manageRole=false (the ready database URL the server hands out); set it with `pulumi config set --secret armp-postgres:databaseUrl postgresql://...`.",
    ],
    [
      "pgBouncer without a managed role",
      { "armp-postgres:postgresMode": "external", "armp-postgres:manageRole": "false", "armp-postgres:databaseUrl": `postgresql://u:${PW}@h/db` },
      "armp-postgres:pgbouncerEnabled",
      "armp-postgres:pgbouncerEnabled: must be false when armp-postgres:manageRole=false: pgBouncer needs the SCRAM verifier of a role the stack manages. Run pgBouncer yourself with `armp-pgbouncer render --admin-url ...`, or let the stack manage the role.",
    ],
    [
      "docker mode without role management",
      { ...base, "armp-postgres:manageRole": "false" },
      "armp-postgres:manageRole",
      "armp-postgres:manageRole: must be true in docker mode: the stack's own server has no app role or database unless the stack creates them.",
    ],
    [
      "bind address that is a host name",
      { ...base, "armp-postgres:pgbouncerBindAddress": "localhost" },
      "armp-postgres:pgbouncerBindAddress",
      'armp-postgres:pgbouncerBindAddress: must be an IPv4 address such as 127.0.0.1 (0.0.0.0 exposes the port to the network), got "localhost".',
    ],
    [
      "port out of range",
      { ...base, "armp-postgres:postgresHostPort": "70000" },
      "armp-postgres:postgresHostPort",
      "armp-postgres:postgresHostPort: must be a TCP port from 1 to 65535, got 70000.",
    ],
    [
      "role name with upper case",
      { ...base, "armp-postgres:appRole": "ArmpApp" },
      "armp-postgres:appRole",
      'armp-postgres:appRole: must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63), got "ArmpApp".',
    ],
    [
      "short app password",
      { ...base, "armp-postgres:appPassword": "short" },
      "armp-postgres:appPassword",
      "armp-postgres:appPassword: must be at least 12 characters (or unset, to have the stack generate one).",
    ],
    [
      "extra index without columns",
      { ...base, "armp-postgres:extraIndexes": JSON.stringify([{ table: "publication", columns: ["doi"] }, { table: "project", columns: [] }]) },
      "armp-postgres:extraIndexes",
      "armp-postgres:extraIndexes: entry 1 must be { table: string, columns: string[] (at least one), unique?: boolean, name?: string }.",
    ],
    [
      "unknown log level",
      { ...base, "armp-postgres:logLevel": "verbose" },
      "armp-postgres:logLevel",
      'armp-postgres:logLevel: must be one of debug, info, warning, warn, error, critical, got "verbose".',
    ],
    [
      "loopback admin URL with the pgBouncer container",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `postgresql://admin:${PW}@127.0.0.1:5432/postgres` },
      "armp-postgres:pgbouncerEnabled",
      "armp-postgres:pgbouncerEnabled: is true, but armp-postgres:adminUrl's host 127.0.0.1 is this machine's loopback: inside the pgBouncer container it would be the container itself. " +
        "Use an address containers can reach (host.docker.internal, or this host's bridge/LAN address such as 172.17.0.1, with a pg_hba.conf line for it) in adminUrl, or set armp-postgres:pgbouncerEnabled=false.",
    ],
    [
      "localhost admin URL with the pgBouncer container",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `postgresql://admin:${PW}@localhost/postgres?sslmode=disable` },
      "armp-postgres:pgbouncerEnabled",
      "armp-postgres:pgbouncerEnabled: is true, but armp-postgres:adminUrl's host localhost is this machine's loopback: inside the pgBouncer container it would be the container itself. " +
        "Use an address containers can reach (host.docker.internal, or this host's bridge/LAN address such as 172.17.0.1, with a pg_hba.conf line for it) in adminUrl, or set armp-postgres:pgbouncerEnabled=false.",
    ],
    [
      "sslmode that libpq does not know",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `postgresql://admin:${PW}@db.example.com/postgres?sslmode=true`, "armp-postgres:pgbouncerEnabled": "false" },
      "armp-postgres:postgresSslMode",
      'armp-postgres:postgresSslMode: must be one of disable, allow, prefer, require, verify-ca, verify-full (libpq\'s sslmode), got "true".',
    ],
    [
      "sslmode in the URL and in config, different",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `postgresql://admin:${PW}@db.example.com/postgres?sslmode=require`, "armp-postgres:postgresSslMode": "verify-full", "armp-postgres:pgbouncerEnabled": "false" },
      "armp-postgres:postgresSslMode",
      'armp-postgres:postgresSslMode: is "verify-full" but armp-postgres:adminUrl says sslmode=require; set it in one place only.',
    ],
    [
      "verify-full without a CA while pgBouncer runs",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `postgresql://admin:${PW}@db.example.com/postgres`, "armp-postgres:postgresSslMode": "verify-full" },
      "armp-postgres:postgresSslRootCert",
      'armp-postgres:postgresSslRootCert: is required with sslmode=verify-full while pgBouncer runs: pgBouncer checks the server certificate against this CA. Set it to the CA file, its PEM text (--secret), or "system".',
    ],
    [
      "CA file that does not exist",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `postgresql://admin:${PW}@db.example.com/postgres?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem`, "armp-postgres:pgbouncerEnabled": "false" },
      "armp-postgres:postgresSslRootCert",
      "armp-postgres:postgresSslRootCert: cannot read the CA file /nonexistent/ca.pem (ENOENT: no such file or directory, open '/nonexistent/ca.pem'); give the path of the server's CA bundle, its PEM text (set it with --secret), or \"system\" for the system's trusted roots.",
    ],
    [
      "CA file that holds no certificate",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `postgresql://admin:${PW}@db.example.com/postgres`, "armp-postgres:postgresSslRootCert": NOT_PEM, "armp-postgres:pgbouncerEnabled": "false" },
      "armp-postgres:postgresSslRootCert",
      `armp-postgres:postgresSslRootCert: ${NOT_PEM} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); give the server's CA bundle in PEM form.`,
    ],
    [
      "adminIsSuperuser that is not a boolean",
      { "armp-postgres:postgresMode": "external", "armp-postgres:adminUrl": `postgresql://admin:${PW}@db.example.com/postgres`, "armp-postgres:adminIsSuperuser": "yes", "armp-postgres:pgbouncerEnabled": "false" },
      "armp-postgres:adminIsSuperuser",
      'armp-postgres:adminIsSuperuser: must be one of auto, true, false, got "yes".',
    ],
  ])("%s", (_title, config, key, message) => {
    const e = failure(config);
    expect(e.key).toBe(key);
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toBe(message);
  });
});

describe("valid stack config", () => {
  it("fills the documented defaults and wraps secrets", async () => {
    const c = read(base);
    expect(c.postgres.mode).toBe("docker");
    expect(c.pgbouncer).toEqual({
      enabled: true,
      image: "edoburu/pgbouncer:v1.24.1-p1",
      hostPort: 6432,
      bindAddress: "127.0.0.1",
      poolMode: "transaction",
      maxClientConn: 100,
      defaultPoolSize: 20,
      minPoolSize: 5,
      reservePoolSize: 0,
      queryWaitTimeout: 30,
      idleTransactionTimeout: 60,
    });
    expect(c.migration).toEqual({ enabled: true, sourcePath: "data/armp.db", targetSchema: "public", jobs: 2, extraIndexes: [], castOverrides: {}, renames: {}, strictTypes: false, epochs: {}, timestamptz: false, textCollation: "C", captureEnabled: false });
    expect(c.app).toEqual({ environment: "production", logLevel: "info", port: 8000, hostPort: 8000 });
    expect(await pulumi.isSecret(c.postgres.password as pulumi.Output<string>)).toBe(true);
  });

  it("reads renames as given", () => {
    expect(read({ ...base, "armp-postgres:renames": JSON.stringify({ items: "line_items", "items.qty": "quantity" }) }).migration.renames).toEqual({ items: "line_items", "items.qty": "quantity" });
  });

  it('treats "" (Pulumi.yaml\'s default for optional keys) as unset', () => {
    const c = read({ ...base, "armp-postgres:envFile": "", "armp-postgres:appImage": "", "armp-postgres:appPassword": "", "armp-postgres:adminUrl": "" });
    expect(c.app.envFile).toBeUndefined();
    expect(c.app.image).toBeUndefined();
    expect(c.database.appPassword).toBeUndefined();
    expect(c.postgres.adminUrl).toBeUndefined();
  });

  it('postgresSslMode "" (Pulumi.yaml\'s default) leaves the sslmode to adminUrl', () => {
    const c = read({ "armp-postgres:postgresMode": "external", "armp-postgres:pgbouncerEnabled": "false", "armp-postgres:postgresSslMode": "", "armp-postgres:adminUrl": `postgresql://admin:${PW}@db.example.com/postgres?sslmode=verify-full` });
    expect(c.postgres.tls).toEqual({ sslmode: "verify-full" });
  });

  it("external TLS: libpq's prefer by default, the URL's sslrootcert (file, read), system roots, adminIsSuperuser", () => {
    const admin = `postgresql://admin:${PW}@db.example.com/postgres`;
    const off = { "armp-postgres:postgresMode": "external", "armp-postgres:pgbouncerEnabled": "false" };
    const dflt = read({ ...off, "armp-postgres:adminUrl": admin });
    expect([dflt.postgres.tls, dflt.postgres.adminIsSuperuser]).toEqual([{ sslmode: "prefer" }, "auto"]);
    const file = path.join(__dirname, "ca-fixture.pem");
    fs.writeFileSync(file, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    try {
      const withFile = read({ ...off, "armp-postgres:adminUrl": `${admin}?sslmode=verify-full&sslrootcert=${encodeURIComponent(file)}`, "armp-postgres:adminIsSuperuser": "true" });
      expect([withFile.postgres.tls, withFile.postgres.adminIsSuperuser]).toEqual([
        { sslmode: "verify-full", rootCert: { kind: "file", path: file, pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" } },
        true,
      ]);
    } finally {
      fs.rmSync(file);
    }
    const sys = read({ ...off, "armp-postgres:adminUrl": admin, "armp-postgres:postgresSslMode": "verify-full", "armp-postgres:postgresSslRootCert": "system", "armp-postgres:adminIsSuperuser": "false" });
    expect([sys.postgres.tls, sys.postgres.adminIsSuperuser]).toEqual([{ sslmode: "verify-full", rootCert: { kind: "system", path: "system" } }, false]);
  });

  it("reads the dev stack's seed index list (Pulumi.dev.yaml)", () => {
    const text = fs.readFileSync(path.join(__dirname, "../../../Pulumi.dev.yaml"), "utf8");
    const entries = [...text.matchAll(/- \{ table: (\w+), columns: \[(\w+)\] \}/g)].map((m) => ({ table: m[1], columns: [m[2]] }));
    const c = read({ ...base, "armp-postgres:extraIndexes": JSON.stringify(entries) });
    expect(c.migration.extraIndexes.map((e) => `${e.table}.${e.columns.join(",")}`)).toEqual([
      "publication.doi",
      "publication.title",
      "publication.publication_date",
      "publication.organization_id",
      "researcher.orcid",
      "researcher.name",
      "researcher.organization_id",
      "project.grant_number",
      "project.title",
      "project.funder",
      "organization.ror_id",
      "organization.name",
    ]);
  });
});

describe("Pulumi.yaml declares the keys with the program's defaults", () => {
  // Scalar defaults only (the file's `key:` / `default:` lines); objects are checked by name.
  const text = fs.readFileSync(path.join(__dirname, "../../../Pulumi.yaml"), "utf8");
  const declared = new Map<string, string | undefined>();
  let current: string | undefined;
  for (const line of text.slice(text.indexOf("\nconfig:\n")).split("\n")) {
    const key = /^ {2}(\w+):\s*$/.exec(line);
    if (key) {
      current = key[1];
      declared.set(current as string, undefined);
      continue;
    }
    const dflt = /^ {4}default: (.*)$/.exec(line);
    if (dflt && current) declared.set(current, (dflt[1] as string).replace(/^"(.*)"$/, "$1"));
  }

  it("has a default for every key (Pulumi requires a value for declared keys without one)", () => {
    expect([...declared.entries()].filter(([, v]) => v === undefined).map(([k]) => k)).toEqual([]);
  });

  it("uses the same defaults as infra/config.ts", () => {
    const expected: Record<string, string> = {
      postgresMode: DEFAULTS.postgresMode,
      postgresImage: DEFAULTS.postgresImage,
      postgresHostPort: String(DEFAULTS.postgresHostPort),
      postgresBindAddress: DEFAULTS.postgresBindAddress,
      postgresSuperuser: DEFAULTS.postgresSuperuser,
      manageRole: String(DEFAULTS.manageRole),
      databaseName: DEFAULTS.databaseName,
      appRole: DEFAULTS.appRole,
      healthcheckRole: DEFAULTS.healthcheckRole,
      pgbouncerEnabled: String(DEFAULTS.pgbouncerEnabled),
      pgbouncerImage: DEFAULTS.pgbouncerImage,
      pgbouncerHostPort: String(DEFAULTS.pgbouncerHostPort),
      pgbouncerBindAddress: DEFAULTS.pgbouncerBindAddress,
      poolMode: DEFAULTS.poolMode,
      maxClientConn: String(DEFAULTS.maxClientConn),
      defaultPoolSize: String(DEFAULTS.defaultPoolSize),
      minPoolSize: String(DEFAULTS.minPoolSize),
      reservePoolSize: String(DEFAULTS.reservePoolSize),
      queryWaitTimeout: String(DEFAULTS.queryWaitTimeout),
      idleTransactionTimeout: String(DEFAULTS.idleTransactionTimeout),
      environment: DEFAULTS.environment,
      logLevel: DEFAULTS.logLevel,
      appPort: String(DEFAULTS.appPort),
      appHostPort: String(DEFAULTS.appHostPort),
      migrationEnabled: String(DEFAULTS.migrationEnabled),
      sourcePath: DEFAULTS.sourcePath,
      targetSchema: DEFAULTS.targetSchema,
      migrationJobs: String(DEFAULTS.migrationJobs),
      timestamptz: String(DEFAULTS.timestamptz),
      strictTypes: String(DEFAULTS.strictTypes),
      textCollation: DEFAULTS.textCollation,
      captureEnabled: String(DEFAULTS.captureEnabled),
      postgresPassword: "",
      adminUrl: "",
      // "" (unset): a default of "prefer" here would contradict an adminUrl saying sslmode=verify-full.
      postgresSslMode: "",
      postgresSslRootCert: "",
      adminIsSuperuser: DEFAULTS.adminIsSuperuser,
      databaseUrl: "",
      appPassword: "",
      envFile: "",
      appImage: "",
      extraIndexes: "[]",
      castOverrides: "{}",
      epochs: "{}",
      renames: "{}",
      pgbouncerExporterEnabled: String(DEFAULTS.pgbouncerExporterEnabled),
      pgbouncerExporterImage: DEFAULTS.pgbouncerExporterImage,
      pgbouncerExporterHostPort: String(DEFAULTS.pgbouncerExporterHostPort),
    };
    expect(Object.fromEntries(declared)).toStrictEqual(expected);
  });
});
