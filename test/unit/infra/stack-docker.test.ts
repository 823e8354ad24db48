/**
 * Docker mode under mocks: the exact inputs of every resource the stack declares, their options
 * (retainOnDelete, deleteBeforeReplace), which inputs are secret, and the stack's outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { readConfig } from "../../../infra/config";
import { createStack, stackOutputs, type StackOutputs } from "../../../infra/stack";
import { APP_VERIFIER, EXPECTED_USERLIST, HEALTHCHECK_TEST, HEALTH_VERIFIER, expectedIni } from "./expected";
import { installMocks, settle, valueOf, type Harness } from "./harness";
import { pgbouncerCommand } from "../../../infra/pgbouncer";
import { postgresCommand, postgresVolumeName } from "../../../infra/postgres-server";

jest.setTimeout(30_000);

const SERVER = "urn:pulumi:unit::armp-postgres::armp:infra:PostgresServer::armp";
const DB = "urn:pulumi:unit::armp-postgres::armp:infra:AppDatabase::armp";
const BOUNCER = "urn:pulumi:unit::armp-postgres::armp:infra:PgBouncer::armp";
const ENV = "urn:pulumi:unit::armp-postgres::armp:infra:AppEnvironment::armp";
const PG_PROVIDER = "urn:pulumi:unit::armp-postgres::armp:infra:AppDatabase$pulumi:providers:postgresql::armp-pg::armp-pg-id";

async function deploy(config: Record<string, string>): Promise<{ h: Harness; out: StackOutputs }> {
  const h = await installMocks({ "armp-postgres:postgresPassword": "super-secret-pw", ...config }, ["armp-postgres:postgresPassword"]);
  const out = createStack(readConfig());
  await valueOf(out.databaseUrl);
  await settle();
  return { h, out };
}

describe("docker mode, default settings", () => {
  let h: Harness;
  let out: StackOutputs;
  beforeAll(async () => {
    ({ h, out } = await deploy({ "armp-postgres:envFile": ".env.test" }));
  });

  it("declares exactly these resources", () => {
    expect(h.resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        "docker:index/container:Container armp-pgbouncer",
        "docker:index/container:Container armp-postgres",
        "docker:index/network:Network armp-network",
        "docker:index/remoteImage:RemoteImage armp-pgbouncer-image",
        "docker:index/remoteImage:RemoteImage armp-postgres-image",
        "docker:index/volume:Volume armp-postgres-data",
        "postgresql:index/database:Database armp-db",
        "postgresql:index/role:Role armp-app-role",
        "postgresql:index/role:Role armp-healthcheck-role",
        "pulumi-nodejs:dynamic/infra:EnvFile armp-envfile",
        "pulumi-nodejs:dynamic/infra:HostPortCheck armp-pgbouncer-port",
        "pulumi-nodejs:dynamic/infra:HostPortCheck armp-postgres-port",
        "pulumi-nodejs:dynamic/infra:PgBouncerReload armp-pgbouncer-reload",
        "pulumi-nodejs:dynamic/infra:Secret armp-app-password",
        "pulumi-nodejs:dynamic/infra:Secret armp-healthcheck-password",
        "pulumi:providers:postgresql armp-pg",
        "pulumi-nodejs:dynamic/infra:DatabaseAccess armp-db-access",
      ].sort(),
    );
  });

  it("pins the PostgreSQL image and keeps it locally on destroy", () => {
    const image = h.byName("armp-postgres-image");
    expect(image.inputs).toEqual({ name: "postgres:16.4-bookworm", keepLocally: true });
    expect(image.parent).toBe(SERVER);
  });

  it("keeps the data volume on destroy (retainOnDelete) and nothing else is retained", () => {
    const volume = h.byName("armp-postgres-data");
    // Named per project and stack: a re-up after destroy reattaches the retained volume.
    expect(volume.inputs).toEqual({ name: "armp-postgres-unit-postgres-data" });
    expect(volume.retainOnDelete).toBe(true);
    expect(h.resources.filter((r) => r.retainOnDelete).map((r) => r.name)).toEqual(["armp-postgres-data"]);
  });

  it("runs PostgreSQL with a file-based password, SCRAM, a TCP healthcheck and its port on 127.0.0.1 only", () => {
    const c = h.byName("armp-postgres");
    expect(c.inputs).toEqual({
      image: "sha256:armp-postgres-image",
      command: postgresCommand(),
      envs: [
        "POSTGRES_USER=postgres",
        "POSTGRES_PASSWORD_FILE=/run/armp/postgres-password",
        "POSTGRES_DB=postgres",
        "POSTGRES_HOST_AUTH_METHOD=scram-sha-256",
        "PGDATA=/var/lib/postgresql/data",
      ],
      uploads: [{ file: "/run/armp/postgres-password", content: "super-secret-pw" }],
      healthcheck: {
        tests: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -p 5432 -U postgres -d postgres"],
        interval: "5s",
        timeout: "3s",
        retries: 12,
        startPeriod: "10s",
      },
      ports: [{ internal: 5432, external: 55432, ip: "127.0.0.1" }],
      volumes: [{ volumeName: "armp-postgres-unit-postgres-data", containerPath: "/var/lib/postgresql/data" }],
      networksAdvanced: [{ name: "armp-network-physical", aliases: ["armp-postgres"] }],
      restart: "unless-stopped",
      mustRun: false,
      wait: true,
      waitTimeout: 120,
    });
    // The password is only in the upload, and that is secret; no env var carries it.
    expect(c.secretPaths).toEqual(["uploads[0].content"]);
    expect(JSON.stringify(c.inputs.envs)).not.toContain("super-secret-pw");
    expect(c.deleteBeforeReplace).toBe(true);
    expect(h.byName("armp-network").inputs).toEqual({ driver: "bridge" });
  });

  it("configures the postgresql provider from the server's host-side outputs, password secret", () => {
    const p = h.byName("armp-pg");
    // Provider inputs travel as strings (provider config is flat).
    expect(p.inputs).toEqual({
      host: "127.0.0.1",
      port: "55432",
      username: "postgres",
      password: "super-secret-pw",
      database: "postgres",
      sslmode: "disable",
      superuser: "true",
      connectTimeout: "15",
    });
    expect(p.secretPaths).toEqual(["password"]);
    expect(p.parent).toBe(DB);
  });

  it("creates the app role with the SCRAM verifier as its password (secret), not superuser", () => {
    const role = h.byName("armp-app-role");
    expect(role.inputs).toEqual({
      name: "armp_app",
      login: true,
      superuser: false,
      createDatabase: false,
      createRole: false,
      inherit: true,
      password: APP_VERIFIER,
      encryptedPassword: true,
    });
    expect(role.secretPaths).toEqual(["password"]);
    expect(role.provider).toBe(PG_PROVIDER);
    expect(h.byName("armp-healthcheck-role").inputs).toEqual({
      name: "armp_healthcheck",
      login: true,
      superuser: false,
      createDatabase: false,
      createRole: false,
      connectionLimit: 2,
      password: HEALTH_VERIFIER,
      encryptedPassword: true,
    });
  });

  it("creates the database owned by the app role; DatabaseAccess revokes PUBLIC and lets the healthcheck role connect", () => {
    expect(h.byName("armp-db").inputs).toEqual({ name: "armp", owner: "armp_app", encoding: "UTF8", template: "template0" });
    for (const name of ["armp-db", "armp-healthcheck-role"]) {
      expect(h.byName(name).provider).toBe(PG_PROVIDER);
    }
    const access = h.byName("armp-db-access");
    expect(access.inputs).toEqual({
      adminUrl: "postgresql://postgres:super-secret-pw@127.0.0.1:55432/postgres",
      database: "armp",
      owner: "armp_app",
      connectRoles: ["armp_healthcheck"],
      ownerVerifier: APP_VERIFIER,
      ownerUrl: "postgresql://armp_app:generated-armp-app-password@127.0.0.1:55432/armp",
    });
    expect(access.secretPaths.sort()).toEqual(["adminUrl", "ownerUrl", "ownerVerifier"]);
    expect(access.additionalSecretOutputs).toEqual(["adminUrl", "ownerVerifier", "ownerUrl"]);
    expect(access.parent).toBe(DB);
  });

  it("generated passwords are secret outputs of armp:infra:Secret", () => {
    for (const name of ["armp-app-password", "armp-healthcheck-password"]) {
      const s = h.byName(name);
      expect(s.inputs).toEqual({ length: 24 });
      expect(s.additionalSecretOutputs).toEqual(["value"]);
      expect(s.parent).toBe(DB);
    }
  });

  it("runs pgBouncer with the rendered ini (plain), the userlist of verifiers and the probe password (secret)", () => {
    const c = h.byName("armp-pgbouncer");
    expect(c.inputs).toEqual({
      image: "sha256:armp-pgbouncer-image",
      user: "root",
      command: [
        "sh",
        "-c",
        "chown postgres /etc/pgbouncer/userlist.txt && chmod 0400 /etc/pgbouncer/userlist.txt /etc/pgbouncer/healthcheck.secret && exec /usr/bin/pgbouncer -u postgres /etc/pgbouncer/pgbouncer.ini",
      ],
      uploads: [
        { file: "/etc/pgbouncer/pgbouncer.ini", content: expectedIni({ host: "armp-postgres", port: 5432 }) },
        { file: "/etc/pgbouncer/userlist.txt", content: EXPECTED_USERLIST },
        { file: "/etc/pgbouncer/healthcheck.secret", content: "generated-armp-healthcheck-password" },
      ],
      healthcheck: { tests: ["CMD-SHELL", HEALTHCHECK_TEST], interval: "10s", timeout: "5s", retries: 6, startPeriod: "5s" },
      ports: [{ internal: 6432, external: 6432, ip: "127.0.0.1" }],
      networksAdvanced: [{ name: "armp-network-physical", aliases: ["armp-pgbouncer"] }],
      restart: "unless-stopped",
      mustRun: false,
      wait: true,
      waitTimeout: 90,
    });
    // The ini stays plain so `pulumi preview --diff` shows pool changes; the rest is secret.
    expect(c.secretPaths).toEqual(["uploads[1].content", "uploads[2].content"]);
    expect(c.deleteBeforeReplace).toBe(true);
    expect(c.parent).toBe(BOUNCER);
    // No plaintext app password anywhere in the container's inputs.
    expect(JSON.stringify(c.inputs)).not.toContain("generated-armp-app-password");
    expect(h.byName("armp-pgbouncer-image").inputs).toEqual({ name: "edoburu/pgbouncer:v1.24.1-p1", keepLocally: true });
  });

  it("applies ini changes with a reload: the ini's settings in plain (the preview diff), the container name", () => {
    const r = h.byName("armp-pgbouncer-reload");
    expect(r.inputs).toEqual({
      container: "armp-pgbouncer-physical",
      file: "/etc/pgbouncer/pgbouncer.ini",
      ini: expectedIni({ host: "armp-postgres", port: 5432 }),
      settings: {
        "databases.armp": "host=armp-postgres port=5432 dbname=armp",
        listen_addr: "0.0.0.0",
        listen_port: "6432",
        auth_type: "scram-sha-256",
        auth_file: "/etc/pgbouncer/userlist.txt",
        admin_users: "",
        stats_users: "armp_healthcheck",
        pool_mode: "transaction",
        max_client_conn: "100",
        default_pool_size: "20",
        min_pool_size: "5",
        reserve_pool_size: "0",
        max_prepared_statements: "200",
        server_reset_query: "",
        query_wait_timeout: "30",
        idle_transaction_timeout: "60",
        ignore_startup_parameters: "extra_float_digits",
      },
    });
    expect(r.secretPaths).toEqual([]);
    expect(r.parent).toBe(BOUNCER);
  });

  it("writes DATABASE_URL through pgBouncer and DIRECT_DATABASE_URL to PostgreSQL into the env file, as a secret", () => {
    const f = h.byName("armp-envfile");
    expect(f.inputs).toEqual({
      path: ".env.test",
      values: {
        DATABASE_URL: "postgresql://armp_app:generated-armp-app-password@127.0.0.1:6432/armp",
        DIRECT_DATABASE_URL: "postgresql://armp_app:generated-armp-app-password@127.0.0.1:55432/armp",
        ENVIRONMENT: "production",
        LOG_LEVEL: "info",
      },
    });
    expect(f.secretPaths).toEqual(["values"]);
    expect(f.additionalSecretOutputs).toEqual(["values"]);
    expect(f.parent).toBe(ENV);
  });

  it("exports the outputs a user needs, URLs as secrets", async () => {
    const outputs = stackOutputs(out);
    expect(Object.keys(outputs).sort()).toEqual(
      [
        "DATABASE_URL",
        "DIRECT_DATABASE_URL",
        "ENVIRONMENT",
        "LOG_LEVEL",
        "appRole",
        "databaseName",
        "envFile",
        "envFileBackup",
        "pgbouncerContainer",
        "pgbouncerEnabled",
        "pgbouncerHost",
        "pgbouncerIni",
        "pgbouncerPort",
        "pgbouncerStatsUrl",
        "postgresContainer",
        "postgresHost",
        "postgresMode",
        "postgresPort",
        "postgresVolume",
      ].sort(),
    );
    expect(await valueOf(out.databaseUrl)).toBe("postgresql://armp_app:generated-armp-app-password@127.0.0.1:6432/armp");
    expect(await valueOf(out.directDatabaseUrl)).toBe("postgresql://armp_app:generated-armp-app-password@127.0.0.1:55432/armp");
    expect(await pulumi.isSecret(out.databaseUrl)).toBe(true);
    expect(await pulumi.isSecret(out.directDatabaseUrl)).toBe(true);
    expect(await valueOf(out.pgbouncerIni as pulumi.Output<string>)).toBe(expectedIni({ host: "armp-postgres", port: 5432 }));
    expect(await pulumi.isSecret(out.pgbouncerIni as pulumi.Output<string>)).toBe(false);
    expect(await valueOf(out.postgresHost)).toBe("127.0.0.1");
    expect(await valueOf(out.pgbouncerPort as pulumi.Output<number>)).toBe(6432);
    expect(await valueOf(out.environment)).toBe("production");
    expect(await valueOf(out.logLevel)).toBe("info");
    expect(await valueOf(out.appRole)).toBe("armp_app");
    expect(await pulumi.isSecret(out.appRole)).toBe(false);
    expect(await valueOf(out.postgresVolume as pulumi.Output<string>)).toBe("armp-postgres-unit-postgres-data");
    expect(await valueOf(out.postgresContainer as pulumi.Output<string>)).toBe("armp-postgres-physical");
    expect(await valueOf(out.pgbouncerContainer as pulumi.Output<string>)).toBe("armp-pgbouncer-physical");
    expect(await valueOf(out.pgbouncerStatsUrl as pulumi.Output<string>)).toBe("postgresql://armp_healthcheck:generated-armp-healthcheck-password@127.0.0.1:6432/pgbouncer");
    expect(await pulumi.isSecret(out.pgbouncerStatsUrl as pulumi.Output<string>)).toBe(true);
  });
});

describe("docker mode, pool settings and ports from config", () => {
  it("renders the configured pool into the uploaded ini and binds the configured ports", async () => {
    const { h } = await deploy({
      "armp-postgres:maxClientConn": "150",
      "armp-postgres:defaultPoolSize": "30",
      "armp-postgres:minPoolSize": "10",
      "armp-postgres:pgbouncerHostPort": "16432",
      "armp-postgres:postgresHostPort": "15432",
      "armp-postgres:postgresImage": "postgres:17.2-bookworm",
    });
    const c = h.byName("armp-pgbouncer");
    const uploads = c.inputs.uploads as { file: string; content: string }[];
    expect(uploads[0]).toEqual({ file: "/etc/pgbouncer/pgbouncer.ini", content: expectedIni({ host: "armp-postgres", port: 5432, pool: { max: 150, size: 30, min: 10 } }) });
    expect(c.inputs.ports).toEqual([{ internal: 6432, external: 16432, ip: "127.0.0.1" }]);
    expect(h.byName("armp-postgres").inputs.ports).toEqual([{ internal: 5432, external: 15432, ip: "127.0.0.1" }]);
    expect(h.byName("armp-postgres-image").inputs).toEqual({ name: "postgres:17.2-bookworm", keepLocally: true });
    // The app now reaches pgBouncer on the configured host port; no env file was configured.
    expect(h.ofType("pulumi-nodejs:dynamic/infra:EnvFile")).toEqual([]);
  });
});

describe("docker mode, a pgBouncer image older than 1.21", () => {
  it("renders no max_prepared_statements (1.18-1.20 refuse the unknown key)", async () => {
    const { h } = await deploy({ "armp-postgres:pgbouncerImage": "edoburu/pgbouncer:1.20.1" });
    const uploads = h.byName("armp-pgbouncer").inputs.uploads as { file: string; content: string }[];
    expect(uploads[0]).toEqual({ file: "/etc/pgbouncer/pgbouncer.ini", content: expectedIni({ host: "armp-postgres", port: 5432, maxPrepared: null }) });
    expect(h.byName("armp-pgbouncer-image").inputs).toEqual({ name: "edoburu/pgbouncer:1.20.1", keepLocally: true });
  });
});

describe("docker mode, migration wiring", () => {
  it("hands the migration the DIRECT url (COPY, DDL and advisory locks need a session) after the role and database exist", async () => {
    await installMocks({ "armp-postgres:postgresPassword": "super-secret-pw" }, ["armp-postgres:postgresPassword"]);
    const seen: { url: pulumi.Output<string>; dependsOn: unknown }[] = [];
    const out = createStack(readConfig(), {
      migration: (_name, args, opts) => {
        seen.push({ url: args.targetUrl, dependsOn: opts.dependsOn });
        return { report: pulumi.output({ ok: true }) };
      },
    });
    await valueOf(out.databaseUrl);
    expect(seen).toHaveLength(1);
    expect(await valueOf(seen[0]!.url)).toBe("postgresql://armp_app:generated-armp-app-password@127.0.0.1:55432/armp");
    expect(await pulumi.isSecret(seen[0]!.url)).toBe(true);
    const deps = (seen[0]!.dependsOn as pulumi.Resource[]).map((r) => pulumi.output(r.urn));
    const urns = await valueOf(pulumi.all(deps));
    expect(urns.map((u) => u.split("::").pop()).sort()).toEqual(["armp-app-role", "armp-db", "armp-db-access", "armp-healthcheck-role"]);
    expect(await valueOf(out.migrationReport as pulumi.Output<unknown>)).toEqual({ ok: true });
  });
});

describe("docker mode without a configured superuser password", () => {
  it("generates one with armp:infra:Secret (secret, kept in state) and uploads it as the container's password file", async () => {
    const h = await installMocks({}, []);
    const out = createStack(readConfig());
    await valueOf(out.databaseUrl);
    await settle();
    const s = h.byName("armp-postgres-password");
    expect(s.type).toBe("pulumi-nodejs:dynamic/infra:Secret");
    expect(s.inputs).toEqual({ length: 24 });
    expect(s.additionalSecretOutputs).toEqual(["value"]);
    expect(s.parent).toBe(SERVER);
    expect(h.byName("armp-postgres").inputs.uploads).toEqual([{ file: "/run/armp/postgres-password", content: "generated-armp-postgres-password" }]);
  });
});

describe("docker mode helpers", () => {
  it("names the volume after project and stack, replacing what Docker does not allow", () => {
    expect(postgresVolumeName("armp-postgres", "dev")).toBe("armp-postgres-dev-postgres-data");
    expect(postgresVolumeName("armp-postgres", "org/team dev")).toBe("armp-postgres-org-team-dev-postgres-data");
    expect(postgresVolumeName("_x", "a")).toBe("x-a-postgres-data");
  });

  it("fixes the uploaded secrets' modes before the images' entrypoints run", () => {
    expect(postgresCommand()).toEqual([
      "sh",
      "-c",
      "chmod 0400 /run/armp/postgres-password && " +
        'if [ -s "$PGDATA/PG_VERSION" ]; then ' +
        'u="$(printf %s "$POSTGRES_USER" | sed \'s/"/""/g\')"; p="$(sed "s/\'/\'\'/g" /run/armp/postgres-password)"; ' +
        'printf "ALTER ROLE \\"%s\\" PASSWORD \'%s\'\\n" "$u" "$p" | ' +
        'gosu postgres postgres --single -D "$PGDATA" -c password_encryption=scram-sha-256 -c log_min_error_statement=panic postgres >/dev/null; fi && ' +
        "exec docker-entrypoint.sh postgres -c password_encryption=scram-sha-256",
    ]);
    expect(pgbouncerCommand()[2]).toMatch(/ && exec \/usr\/bin\/pgbouncer -u postgres \/etc\/pgbouncer\/pgbouncer\.ini$/);
  });
});
