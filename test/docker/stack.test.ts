/**
 * The default docker stack against a real Docker engine. The program runs under the Pulumi mocks
 * (test/unit/infra/harness.ts) exactly as `pulumi up` would run it; the captured inputs of its
 * networks, volume and containers are then created through the Docker Engine API with the docker
 * provider's semantics (support/engine.ts says which upstream lines each mapping follows), the
 * postgresql resources are applied as the SQL they stand for, and the EnvFile provider runs for
 * real. Everything after that is asserted against the running containers.
 *
 * Needs dockerd (.ci/run starts it) and the two pinned images; test/docker/images/build.sh makes
 * them available (pulled, or stand-ins built locally) and is cached by tag.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Database from "better-sqlite3";
import { readConfig } from "../../infra/config";
import { createStack, type MigrationInputs } from "../../infra/stack";
import type { EnvFileOutputs } from "../../infra/providers/envfile-impl";
import { installMocks, settle, valueOf, type Harness } from "../unit/infra/harness";
import { applyPostgresResources, connect, freePort } from "./support/deploy";
import { api, request, createContainer, engineAvailable, exec, inspect, readContainer, removeContainer, waitHealthy, type ContainerInputs } from "./support/engine";

jest.setTimeout(20 * 60_000);

const ROOT = path.resolve(__dirname, "../..");
const SUFFIX = `${process.pid}-${Date.now().toString(36)}`;
const STACK = `dockertest-${SUFFIX}`;

async function one<T = Record<string, unknown>>(url: string, sql: string, values: unknown[] = [], attempts = 30): Promise<T[]> {
  const c = await connect(url, attempts);
  try {
    return (await c.query(sql, values)).rows as T[];
  } finally {
    await c.end();
  }
}

const sha256 = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

interface Deployed {
  h: Harness;
  config: Record<string, string>;
  urls: { app: string; direct: string; migration: string; stats: string };
  pgPort: number;
  bouncerPort: number;
  containers: Map<string, string>;
  containerNames: { postgres: string; pgbouncer: string };
  volume: string;
  network: string;
  envFile: string;
  envOuts: EnvFileOutputs;
  sqlite: string;
  sqliteSha: string;
}

let d: Deployed;
let dir: string;

async function createDockerResources(h: Harness, only?: string[], override: Record<string, Partial<ContainerInputs>> = {}): Promise<Map<string, string>> {
  const images = new Map(h.ofType("docker:index/remoteImage:RemoteImage").map((r) => [`sha256:${r.name}`, String(r.inputs.name)]));
  const networks = new Map(h.ofType("docker:index/network:Network").map((r) => [`${r.name}-physical`, `${r.name}-${SUFFIX}`]));
  const containers = new Map<string, string>();
  for (const name of only ?? ["armp-postgres", "armp-pgbouncer"]) {
    const r = h.byName(name);
    const inputs = { ...(r.inputs as unknown as ContainerInputs), ...override[name] };
    containers.set(name, await createContainer(`${name}-${SUFFIX}`, inputs, images, networks, new Map()));
    if (name === "armp-postgres" && !only) await applyPostgresResources(h);
  }
  return containers;
}

async function stat(container: string, files: string[]): Promise<string[]> {
  const r = await exec(container, ["stat", "-c", "%U:%G %a %n", ...files]);
  expect(r.stderr).toBe("");
  return r.stdout.trim().split("\n");
}

beforeAll(async () => {
  if (!(await engineAvailable())) {
    throw new Error("No Docker engine at /var/run/docker.sock: start dockerd (`.ci/run` does), then run `npm run test:docker` again.");
  }
  // Pulls the pinned images or builds the stand-ins; a no-op when both tags are present.
  execFileSync("bash", [path.join(ROOT, "test/docker/images/build.sh")], { stdio: ["ignore", "inherit", "inherit"], timeout: 15 * 60_000 });

  dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-docker-"));
  const envFile = path.join(dir, ".env");
  // The app's file as a user has it: a SQLite URL, world-readable.
  fs.writeFileSync(envFile, "DATABASE_URL=sqlite:///./data/armp.db\n");
  fs.chmodSync(envFile, 0o644);
  const pgPort = await freePort();
  const bouncerPort = await freePort();

  const config = {
    "armp-postgres:postgresHostPort": String(pgPort),
    "armp-postgres:pgbouncerHostPort": String(bouncerPort),
    "armp-postgres:envFile": envFile,
  };
  const h = await installMocks(config, [], STACK);
  const migrations: MigrationInputs[] = [];
  const out = createStack(readConfig(), {
    migration: (_n, args) => {
      migrations.push(args);
      return { report: args.targetUrl.apply(() => ({})) };
    },
  });
  const app = await valueOf(out.databaseUrl);
  const direct = await valueOf(out.directDatabaseUrl);
  const migration = await valueOf(migrations[0]!.targetUrl);
  await settle();

  const volume = String(h.byName("armp-postgres-data").inputs.name);
  await api("POST", "/volumes/create", { Name: volume, Driver: "local" });
  const network = `armp-network-${SUFFIX}`;
  await api("POST", "/networks/create", { Name: network, Driver: String(h.byName("armp-network").inputs.driver), CheckDuplicate: true });
  const containers = await createDockerResources(h);

  const impl = require(path.join(ROOT, "dist/infra/providers/envfile-impl")) as typeof import("../../infra/providers/envfile-impl");
  const envInputs = h.byName("armp-envfile").inputs as { path: string; values: Record<string, string> };
  const envOuts = impl.create(envInputs).outs;

  const sqlite = path.join(dir, "app.db");
  const db = new Database(sqlite);
  db.exec(
    "CREATE TABLE organization (id INTEGER PRIMARY KEY, name TEXT NOT NULL);" +
      "CREATE TABLE researcher (id INTEGER PRIMARY KEY, name TEXT NOT NULL, organization_id INTEGER REFERENCES organization(id));" +
      "INSERT INTO organization VALUES (1, 'CERN'), (2, 'EMBL');" +
      "INSERT INTO researcher VALUES (1, 'Ada', 1), (2, 'Grace', 2), (3, 'Linus', 1);",
  );
  db.close();

  d = {
    h,
    config,
    urls: { app, direct, migration, stats: await valueOf(out.pgbouncerStatsUrl as NonNullable<typeof out.pgbouncerStatsUrl>) },
    pgPort,
    bouncerPort,
    containers,
    containerNames: { postgres: `armp-postgres-${SUFFIX}`, pgbouncer: `armp-pgbouncer-${SUFFIX}` },
    volume,
    network,
    envFile,
    envOuts,
    sqlite,
    sqliteSha: sha256(sqlite),
  };
});

afterAll(async () => {
  if (d) {
    for (const id of d.containers.values()) await removeContainer(id).catch(() => undefined);
    await api("DELETE", `/networks/${d.network}`, undefined, [404]).catch(() => undefined);
    await api("DELETE", `/volumes/${d.volume}?force=true`, undefined, [404]).catch(() => undefined);
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const pg = () => d.containers.get("armp-postgres") as string;
const bouncer = () => d.containers.get("armp-pgbouncer") as string;

describe("the default docker stack on a real engine", () => {
  it("runs both containers healthy, each port published on 127.0.0.1 only", async () => {
    for (const [id, port, inner] of [
      [pg(), d.pgPort, "5432/tcp"],
      [bouncer(), d.bouncerPort, "6432/tcp"],
    ] as const) {
      const c = await inspect(id);
      expect(c.State.Health?.Status).toBe("healthy");
      expect((c.NetworkSettings.Ports as Record<string, unknown>)[inner]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(port) }]);
    }
  });

  it("keeps every password out of `docker inspect`", async () => {
    const text = JSON.stringify([await inspect(pg()), await inspect(bouncer())]);
    const secrets = [
      String((d.h.byName("armp-pg").inputs as Record<string, string>).password),
      "generated-armp-app-password",
      "generated-armp-healthcheck-password",
    ];
    for (const s of secrets) expect(text).not.toContain(s);
  });

  it("logs the app in through pgBouncer with SCRAM (DATABASE_URL), reaching PostgreSQL as the app role", async () => {
    expect(new URL(d.urls.app).port).toBe(String(d.bouncerPort));
    const rows = await one(d.urls.app, "SELECT current_user AS u, current_database() AS db, inet_server_port() AS port");
    expect(rows).toEqual([{ u: "armp_app", db: "armp", port: 5432 }]);
    const method = await exec(pg(), ["sh", "-c", "tail -n 1 /var/lib/postgresql/data/pg_hba.conf"]);
    expect(method.stdout).toBe("host all all all scram-sha-256\n");
  });

  it("hands the migration and the admin connection the DIRECT port, never pgBouncer's", () => {
    expect(new URL(d.urls.migration).port).toBe(String(d.pgPort));
    expect(new URL(d.urls.direct).port).toBe(String(d.pgPort));
    expect((d.h.byName("armp-pg").inputs as Record<string, string>).port).toBe(String(d.pgPort));
  });

  it("migrates a SQLite file over the direct URL, and the app reads the rows back through the pool", () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin/armp-migrate.js"), "run", "--source", d.sqlite, "--target", d.urls.migration], { encoding: "utf8", cwd: ROOT });
    expect(r.stderr.split("\n").filter((l) => /error/i.test(l))).toEqual([]);
    expect(r.status).toBe(0);
    expect(sha256(d.sqlite)).toBe(d.sqliteSha);
    return one(d.urls.app, "SELECT r.name, o.name AS org FROM researcher r JOIN organization o ON o.id = r.organization_id ORDER BY r.id").then((rows) =>
      expect(rows).toEqual([
        { name: "Ada", org: "CERN" },
        { name: "Grace", org: "EMBL" },
        { name: "Linus", org: "CERN" },
      ]),
    );
  });

  it("serves the rendered settings (SHOW CONFIG) and SHOW POOLS to the pgbouncerStatsUrl output", async () => {
    const c = await connect(d.urls.stats);
    try {
      const rows = (await c.query({ text: "SHOW CONFIG", rowMode: "array" })).rows as string[][];
      const cfg = Object.fromEntries(rows.map((r) => [r[0], r[1]]));
      expect({
        pool_mode: cfg.pool_mode,
        max_client_conn: cfg.max_client_conn,
        default_pool_size: cfg.default_pool_size,
        min_pool_size: cfg.min_pool_size,
        auth_type: cfg.auth_type,
        auth_file: cfg.auth_file,
        listen_port: cfg.listen_port,
        server_reset_query: cfg.server_reset_query,
        ignore_startup_parameters: cfg.ignore_startup_parameters,
        stats_users: cfg.stats_users,
        max_prepared_statements: cfg.max_prepared_statements,
      }).toEqual({
        pool_mode: "transaction",
        max_client_conn: "100",
        default_pool_size: "20",
        min_pool_size: "5",
        auth_type: "scram-sha-256",
        auth_file: "/etc/pgbouncer/userlist.txt",
        listen_port: "6432",
        server_reset_query: "",
        ignore_startup_parameters: "extra_float_digits",
        stats_users: "armp_healthcheck",
        max_prepared_statements: "200",
      });
      const pools = (await c.query("SHOW POOLS")).rows as { database: string; user: string; pool_mode: string }[];
      expect(pools.filter((p) => p.database === "armp").map((p) => [p.user, p.pool_mode])).toContainEqual(["armp_app", "transaction"]);
    } finally {
      await c.end();
    }
  });

  it("applies a pool-setting change with a reload: same container, no refused connection, new SHOW CONFIG", async () => {
    const before = await inspect(bouncer());
    const held = await connect(d.urls.app);
    try {
      // The next `pulumi up` after `pulumi config set armp-postgres:defaultPoolSize 30`.
      const h2 = await installMocks({ ...d.config, "armp-postgres:defaultPoolSize": "30" }, [], STACK);
      const out2 = createStack(readConfig());
      await valueOf(out2.databaseUrl);
      await settle();
      type ReloadInputs = import("../../infra/providers/pgbouncer-reload-impl").PgBouncerReloadInputs;
      const real = (r: Harness) => ({ ...(r.byName("armp-pgbouncer-reload").inputs as unknown as ReloadInputs), container: d.containerNames.pgbouncer });
      const olds = real(d.h);
      const news = real(h2);
      expect(Object.entries(news.settings).filter(([k, v]) => olds.settings[k] !== v)).toEqual([["default_pool_size", "30"]]);
      const impl = require(path.join(ROOT, "dist/infra/providers/pgbouncer-reload-impl")) as typeof import("../../infra/providers/pgbouncer-reload-impl");
      expect(impl.diff(olds, news)).toEqual({ changes: true, replaces: [] });
      await impl.update(olds, news);
      const stats = await connect(d.urls.stats);
      try {
        let size = "";
        for (let i = 0; i < 20 && size !== "30"; i++) {
          const rows = (await stats.query({ text: "SHOW CONFIG", rowMode: "array" })).rows as string[][];
          size = (rows.find((r) => r[0] === "default_pool_size") ?? [])[1] ?? "";
          if (size !== "30") await new Promise((r) => setTimeout(r, 250));
        }
        expect(size).toBe("30");
      } finally {
        await stats.end();
      }
      expect((await held.query("SELECT 7 AS n")).rows).toEqual([{ n: 7 }]);
      const after = await inspect(bouncer());
      expect(after.Id).toBe(before.Id);
      expect((after.State as unknown as { StartedAt: string }).StartedAt).toBe((before.State as unknown as { StartedAt: string }).StartedAt);
      expect(await stat(bouncer(), ["/etc/pgbouncer/pgbouncer.ini"])).toEqual(["root:root 644 /etc/pgbouncer/pgbouncer.ini"]);
    } finally {
      await held.end();
    }
  });

  it("gives each uploaded secret only the owner and mode its reader needs, and pgBouncer runs as postgres", async () => {
    expect(await stat(pg(), ["/run/armp/postgres-password"])).toEqual(["root:root 400 /run/armp/postgres-password"]);
    expect(await stat(bouncer(), ["/etc/pgbouncer/pgbouncer.ini", "/etc/pgbouncer/userlist.txt", "/etc/pgbouncer/healthcheck.secret"])).toEqual([
      "root:root 644 /etc/pgbouncer/pgbouncer.ini",
      "postgres:root 400 /etc/pgbouncer/userlist.txt",
      "root:root 400 /etc/pgbouncer/healthcheck.secret",
    ]);
    const status = await exec(bouncer(), ["sh", "-c", "grep -E '^(Name|Uid):' /proc/1/status"]);
    expect(status.stdout.replace(/\s+/g, " ").trim()).toMatch(/^Name: pgbouncer Uid: 70 70 70 70$/);
    // The postgres user inside the PostgreSQL container cannot read the superuser password file.
    const asPostgres = await exec(pg(), ["cat", "/run/armp/postgres-password"], "postgres");
    expect(asPostgres.code).not.toBe(0);
    expect(asPostgres.stderr).toContain("Permission denied");
  });

  it("runs protocol-level prepared statements (node-postgres named queries) through transaction pooling", async () => {
    const clients = await Promise.all([1, 2, 3].map(() => connect(d.urls.app)));
    try {
      const results: number[] = [];
      for (let round = 0; round < 5; round++) {
        for (const [i, c] of clients.entries()) {
          const r = await c.query({ name: "add_one", text: "SELECT $1::int + 1 AS v", values: [round * 10 + i] });
          results.push((r.rows[0] as { v: number }).v);
        }
      }
      expect(results).toEqual([1, 2, 3, 11, 12, 13, 21, 22, 23, 31, 32, 33, 41, 42, 43]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it("writes the env file 0600 with the pooled and direct URLs, and restores the original bytes and mode", async () => {
    expect(fs.statSync(d.envFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(`${d.envFile}.armp-backup`).mode & 0o777).toBe(0o600);
    const lines = fs.readFileSync(d.envFile, "utf8").split("\n");
    expect(lines[0]).toBe(`DATABASE_URL=${d.urls.app}`);
    expect(lines[1]).toBe(`DIRECT_DATABASE_URL=${d.urls.direct}`);
    const impl = require(path.join(ROOT, "dist/infra/providers/envfile-impl")) as typeof import("../../infra/providers/envfile-impl");
    impl.remove(d.envOuts);
    expect(fs.readFileSync(d.envFile, "utf8")).toBe("DATABASE_URL=sqlite:///./data/armp.db\n");
    expect(fs.statSync(d.envFile).mode & 0o777).toBe(0o644);
  });

  it("survives `docker restart` of PostgreSQL: the pool reconnects", async () => {
    await api("POST", `/containers/${pg()}/restart?t=10`);
    await waitHealthy(pg(), 120_000);
    expect(await one(d.urls.app, "SELECT count(*)::int AS n FROM researcher")).toEqual([{ n: 3 }]);
  });

  it("a stopped PostgreSQL is kept by refresh (mustRun false) and healed by the runbook's `docker start`", async () => {
    const inputs = d.h.byName("armp-postgres").inputs as unknown as ContainerInputs;
    expect(inputs.mustRun).toBe(false);
    await api("POST", `/containers/${pg()}/stop?t=10`);
    expect((await inspect(pg())).State.Running).toBe(false);
    // What the provider's Read does on `pulumi refresh` with these inputs: the container stays.
    expect(await readContainer(pg(), inputs.mustRun ?? true)).toBe(true);
    // Runbook: docker start "$(pulumi stack output postgresContainer)"
    const start = spawnSync("docker", ["start", d.containerNames.postgres], { encoding: "utf8" });
    expect(start.status).toBe(0);
    await waitHealthy(pg(), 120_000);
    expect(await one(d.urls.app, "SELECT count(*)::int AS n FROM organization")).toEqual([{ n: 2 }]);
  });

  it("destroy keeps the named volume; the next up reattaches it with its data and the stack's (new) superuser password", async () => {
    await removeContainer(bouncer());
    await removeContainer(pg());
    const vols = await api<{ Volumes: { Name: string }[] }>("GET", `/volumes?filters=${encodeURIComponent(JSON.stringify({ name: [d.volume] }))}`);
    expect(vols.Volumes.map((v) => v.Name)).toEqual([d.volume]);
    expect(d.volume).toBe(`armp-postgres-${STACK}-postgres-data`);
    // Docker's volume create returns the existing volume of that name (what the provider's create calls).
    await api("POST", "/volumes/create", { Name: d.volume, Driver: "local" });
    // After a destroy the generated superuser password is gone from the state and the next up
    // generates another; the container start sets it on the existing cluster.
    const rotated = "rotated'superuser-pw";
    const pgInputs = d.h.byName("armp-postgres").inputs as unknown as ContainerInputs;
    const uploads = (pgInputs.uploads ?? []).map((u) => (u.file === "/run/armp/postgres-password" ? { ...u, content: rotated } : u));
    const again = await createDockerResources(d.h, ["armp-postgres", "armp-pgbouncer"], { "armp-postgres": { uploads } });
    for (const [k, v] of again) d.containers.set(k, v);
    expect(await one(d.urls.app, "SELECT name FROM organization ORDER BY id")).toEqual([{ name: "CERN" }, { name: "EMBL" }]);
    const admin = (pw: string) => `postgresql://postgres:${encodeURIComponent(pw)}@127.0.0.1:${d.pgPort}/postgres`;
    expect(await one(admin(rotated), "SELECT current_user AS u, rolsuper FROM pg_roles WHERE rolname = current_user")).toEqual([{ u: "postgres", rolsuper: true }]);
    const old = String((d.h.byName("armp-pg").inputs as Record<string, string>).password);
    await expect(one(admin(old), "SELECT 1", [], 1)).rejects.toThrow('password authentication failed for user "postgres"');
    const logs = await request("GET", `/containers/${pg()}/logs?stdout=1&stderr=1`);
    expect(logs.body.toString("utf8")).not.toContain("superuser-pw");
  });
});

