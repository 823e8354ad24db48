/**
 * The optional pgbouncer-exporter (armp-postgres:pgbouncerExporterEnabled=true) on a real engine:
 * PostgreSQL, pgBouncer and the exporter created from the program's own captured inputs (as
 * stack.test.ts does), then /metrics scraped on the published 127.0.0.1 port. The exporter image
 * is the pinned prometheuscommunity/pgbouncer-exporter:v0.12.1 when it can be pulled, else the
 * stand-in test/docker/images/build.sh builds (differences: docs/README-infra.md).
 */
import { execFileSync } from "child_process";
import * as path from "path";
import type { Client } from "pg";
import { readConfig } from "../../infra/config";
import { createStack } from "../../infra/stack";
import { EXPORTER_ARGS_FILE, exporterArgs, exporterCommand } from "../../infra/pgbouncer-exporter";
import { installMocks, settle, valueOf, type Harness } from "../unit/infra/harness";
import { api, engineAvailable, exec, inspect, removeContainer, waitHealthy } from "./support/engine";
import { connect, createContainers, freePort, httpGet } from "./support/deploy";

jest.setTimeout(20 * 60_000);

const ROOT = path.resolve(__dirname, "../..");
const SUFFIX = `${process.pid}-${Date.now().toString(36)}`;
const STACK = `dockerexp-${SUFFIX}`;
const STATS_PASSWORD = "generated-armp-healthcheck-password";

let h: Harness;
let containers = new Map<string, string>();
let network = "";
let volume = "";
let ports: { pg: number; bouncer: number; exporter: number };
let urls: { app: string; stats: string; metrics: string };

/** One scrape as `name{labels}` -> value text, in the exposition's own spelling. */
async function scrape(): Promise<Map<string, string>> {
  const r = await httpGet(urls.metrics);
  expect(r.status).toBe(200);
  const out = new Map<string, string>();
  for (const line of r.body.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}

const exporter = () => containers.get("armp-pgbouncer-exporter") as string;

beforeAll(async () => {
  if (!(await engineAvailable())) {
    throw new Error("No Docker engine at /var/run/docker.sock: start dockerd (`.ci/run` does), then run `npm run test:docker` again.");
  }
  execFileSync("bash", [path.join(ROOT, "test/docker/images/build.sh")], { stdio: ["ignore", "inherit", "inherit"], timeout: 15 * 60_000 });
  ports = { pg: await freePort(), bouncer: await freePort(), exporter: await freePort() };
  h = await installMocks(
    {
      "armp-postgres:postgresHostPort": String(ports.pg),
      "armp-postgres:pgbouncerHostPort": String(ports.bouncer),
      "armp-postgres:pgbouncerExporterEnabled": "true",
      "armp-postgres:pgbouncerExporterHostPort": String(ports.exporter),
    },
    [],
    STACK,
  );
  const out = createStack(readConfig(), { migration: (_n, args) => ({ report: args.targetUrl.apply(() => ({})) }) });
  urls = {
    app: await valueOf(out.databaseUrl),
    stats: await valueOf(out.pgbouncerStatsUrl as NonNullable<typeof out.pgbouncerStatsUrl>),
    metrics: await valueOf(out.pgbouncerExporterUrl as NonNullable<typeof out.pgbouncerExporterUrl>),
  };
  await settle();
  volume = String(h.byName("armp-postgres-data").inputs.name);
  await api("POST", "/volumes/create", { Name: volume, Driver: "local" });
  network = `armp-network-${SUFFIX}`;
  await api("POST", "/networks/create", { Name: network, Driver: String(h.byName("armp-network").inputs.driver), CheckDuplicate: true });
  containers = await createContainers(h, SUFFIX, ["armp-postgres", "armp-pgbouncer", "armp-pgbouncer-exporter"]);
});

afterAll(async () => {
  for (const id of [...containers.values()].reverse()) await removeContainer(id).catch(() => undefined);
  if (network) await api("DELETE", `/networks/${network}`, undefined, [404]).catch(() => undefined);
  if (volume) await api("DELETE", `/volumes/${volume}?force=true`, undefined, [404]).catch(() => undefined);
});

describe("the pgbouncer exporter on a real engine", () => {
  it("is healthy (its healthcheck saw `pgbouncer_up 1`) with /metrics published on 127.0.0.1 only, at the pgbouncerExporterUrl output", async () => {
    const c = await inspect(exporter());
    expect(c.State.Health?.Status).toBe("healthy");
    expect((c.NetworkSettings.Ports as Record<string, unknown>)["9127/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(ports.exporter) }]);
    expect(urls.metrics).toBe(`http://127.0.0.1:${ports.exporter}/metrics`);
  });

  it("serves pgbouncer_up 1, the version, the config and the app pool with its exact database/user labels", async () => {
    let held: Client | undefined;
    try {
      // One idle client of the app in transaction pooling counts as cl_active in its pool.
      held = await connect(urls.app);
      expect((await held.query("SELECT current_user AS u")).rows).toEqual([{ u: "armp_app" }]);
      const m = await scrape();
      expect(m.get("pgbouncer_up")).toBe("1");
      expect(m.get('pgbouncer_version_info{version="PgBouncer 1.24.1"}')).toBe("1");
      expect(m.get("pgbouncer_config_max_client_connections")).toBe("100");
      const pool = '{database="armp",user="armp_app"}';
      expect({
        active: m.get(`pgbouncer_pools_client_active_connections${pool}`),
        waiting: m.get(`pgbouncer_pools_client_waiting_connections${pool}`),
        maxwait: m.get(`pgbouncer_pools_client_maxwait_seconds${pool}`),
      }).toEqual({ active: "1", waiting: "0", maxwait: "0" });
      // The [databases] entry pgbouncer.ini renders: armp = host=armp-postgres port=5432 dbname=armp.
      const db = '{database="armp",force_user="",host="armp-postgres",name="armp",pool_mode="",port="5432"}';
      expect(m.get(`pgbouncer_databases_pool_size${db}`)).toBe("20");
      expect(m.get(`pgbouncer_databases_paused${db}`)).toBe("0");
      expect(m.get(`pgbouncer_databases_disabled${db}`)).toBe("0");
      expect(m.has('pgbouncer_stats_totals_queries_pooled_total{database="armp"}')).toBe(true);
      // The exporter's own console session, as the stats user.
      expect(m.get('pgbouncer_client_connections{application_name="",database="pgbouncer",state="active",user="armp_healthcheck"}')).toBe("1");
    } finally {
      await held?.end();
    }
  });

  it("counts what went through the pool: the app's queries show in pgbouncer_stats_totals", async () => {
    const before = Number((await scrape()).get('pgbouncer_stats_totals_sql_transactions_pooled_total{database="armp"}'));
    const c = await connect(urls.app);
    try {
      for (let i = 0; i < 5; i++) await c.query("SELECT 1");
    } finally {
      await c.end();
    }
    // pgBouncer folds its counters into the totals every stats_period (60 s by default).
    let after = before;
    for (let i = 0; i < 90 && after - before < 5; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      after = Number((await scrape()).get('pgbouncer_stats_totals_sql_transactions_pooled_total{database="armp"}'));
    }
    expect(after - before).toBeGreaterThanOrEqual(5);
  });

  it("keeps the stats user's DSN out of `docker inspect`: no env var, the command names only the args file", async () => {
    const c = await inspect(exporter());
    const config = c.Config as { Cmd: string[]; Env: string[]; User: string; Entrypoint: string[] };
    expect(config.Cmd).toEqual(exporterCommand());
    expect(config.Env.filter((e) => e.startsWith("PGBOUNCER_EXPORTER"))).toEqual([]);
    expect(JSON.stringify(c)).not.toContain(STATS_PASSWORD);
    expect(JSON.stringify(c)).not.toContain("connectionString");
  });

  it("reads the args file as nobody: root:root 0644, the exact content, the process uid 65534", async () => {
    const st = await exec(exporter(), ["stat", "-c", "%u:%g %a %n", EXPORTER_ARGS_FILE]);
    expect(st.stdout).toBe(`0:0 644 ${EXPORTER_ARGS_FILE}\n`);
    const content = await exec(exporter(), ["cat", EXPORTER_ARGS_FILE]);
    expect(content.stdout).toBe(exporterArgs(`postgresql://armp_healthcheck:${STATS_PASSWORD}@armp-pgbouncer:6432/pgbouncer?sslmode=disable`));
    const status = await exec(exporter(), ["sh", "-c", "grep -E '^Uid:' /proc/1/status"]);
    expect(status.stdout.replace(/\s+/g, " ").trim()).toBe("Uid: 65534 65534 65534 65534");
  });

  it("reports pgbouncer_up 0 while pgBouncer is stopped, and 1 again after `docker start`", async () => {
    const bouncer = containers.get("armp-pgbouncer") as string;
    await api("POST", `/containers/${bouncer}/stop?t=10`);
    try {
      const down = await scrape();
      expect(down.get("pgbouncer_up")).toBe("0");
      expect([...down.keys()].filter((k) => k.startsWith("pgbouncer_pools_"))).toEqual([]);
    } finally {
      await api("POST", `/containers/${bouncer}/start`, undefined, [304]);
    }
    await waitHealthy(bouncer, 120_000);
    let up = "";
    for (let i = 0; i < 30 && up !== "1"; i++) {
      up = (await scrape()).get("pgbouncer_up") ?? "";
      if (up !== "1") await new Promise((r) => setTimeout(r, 1000));
    }
    expect(up).toBe("1");
  });
});
