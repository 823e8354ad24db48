/**
 * The optional Prometheus exporter (armp-postgres:pgbouncerExporterEnabled) under mocks: the exact
 * container inputs, which of them are secret, the outputs, and the config rules around it.
 */
import { readConfig, StackConfigError } from "../../../infra/config";
import { createStack, stackOutputs, type StackOutputs } from "../../../infra/stack";
import { installMocks, settle, valueOf, type Harness } from "./harness";

jest.setTimeout(30_000);

async function deploy(config: Record<string, string>): Promise<{ h: Harness; out: StackOutputs }> {
  const h = await installMocks({ "armp-postgres:postgresPassword": "super-secret-pw", ...config }, ["armp-postgres:postgresPassword"]);
  const out = createStack(readConfig());
  await valueOf(out.databaseUrl);
  if (out.pgbouncerExporterUrl) await valueOf(out.pgbouncerExporterUrl);
  await settle();
  return { h, out };
}

const ARGS = "# read by pgbouncer_exporter through kingpin's @file expansion\n--pgBouncer.connectionString=postgresql://armp_healthcheck:generated-armp-healthcheck-password@armp-pgbouncer:6432/pgbouncer?sslmode=disable\n";

describe("pgbouncer exporter", () => {
  it("is off by default: no exporter resource, no output", async () => {
    const { h, out } = await deploy({});
    expect(h.resources.filter((r) => r.name.includes("exporter"))).toEqual([]);
    expect(Object.keys(stackOutputs(out)).filter((k) => k.includes("Exporter"))).toEqual([]);
  });

  describe("enabled", () => {
    let h: Harness;
    let out: StackOutputs;
    beforeAll(async () => {
      ({ h, out } = await deploy({ "armp-postgres:pgbouncerExporterEnabled": "true" }));
    });

    it("pins the image and keeps it locally", () => {
      const image = h.byName("armp-pgbouncer-exporter-image");
      expect(image.type).toBe("docker:index/remoteImage:RemoteImage");
      expect(image.inputs).toEqual({ name: "prometheuscommunity/pgbouncer-exporter:v0.12.1", keepLocally: true });
    });

    it("runs the exporter on the stack network with the stats user's console URL in an uploaded args file (secret), /metrics on 127.0.0.1:59127", () => {
      const c = h.byName("armp-pgbouncer-exporter");
      expect(c.type).toBe("docker:index/container:Container");
      expect(c.inputs).toEqual({
        image: "sha256:armp-pgbouncer-exporter-image",
        command: ["@/etc/pgbouncer-exporter/args", "--web.listen-address=:9127", "--web.telemetry-path=/metrics"],
        uploads: [{ file: "/etc/pgbouncer-exporter/args", content: ARGS }],
        healthcheck: {
          tests: ["CMD-SHELL", "wget -q -O - http://127.0.0.1:9127/metrics | grep -qx 'pgbouncer_up 1'"],
          interval: "15s",
          timeout: "5s",
          retries: 4,
          startPeriod: "5s",
        },
        ports: [{ internal: 9127, external: 59127, ip: "127.0.0.1" }],
        networksAdvanced: [{ name: "armp-network-physical", aliases: ["armp-pgbouncer-exporter"] }],
        restart: "unless-stopped",
        mustRun: false,
        wait: true,
        waitTimeout: 60,
      });
      expect(c.secretPaths).toEqual(["uploads[0].content"]);
      expect(c.deleteBeforeReplace).toBe(true);
      // No env at all: the password is in no variable `docker inspect` shows.
      expect(c.inputs.envs).toBeUndefined();
      expect(JSON.stringify(c.inputs.command)).not.toContain("generated-armp-healthcheck-password");
    });

    it("checks the exporter's host port at preview, keyed to its config key", () => {
      expect(h.byName("armp-pgbouncer-exporter-port").inputs).toEqual({ key: "armp-postgres:pgbouncerExporterHostPort", address: "127.0.0.1", port: 59127 });
    });

    it("exports the metrics URL and the container name", async () => {
      const o = stackOutputs(out);
      expect(await valueOf(o.pgbouncerExporterUrl as StackOutputs["pgbouncerStatsUrl"] & object)).toBe("http://127.0.0.1:59127/metrics");
      expect(await valueOf(o.pgbouncerExporterContainer as StackOutputs["pgbouncerStatsUrl"] & object)).toBe("armp-pgbouncer-exporter-physical");
    });
  });

  it("takes the host port and image from config", async () => {
    const { h } = await deploy({
      "armp-postgres:pgbouncerExporterEnabled": "true",
      "armp-postgres:pgbouncerExporterHostPort": "19127",
      "armp-postgres:pgbouncerExporterImage": "registry.local/pgbouncer-exporter:v0.12.1",
    });
    expect((h.byName("armp-pgbouncer-exporter").inputs as { ports: unknown }).ports).toEqual([{ internal: 9127, external: 19127, ip: "127.0.0.1" }]);
    expect(h.byName("armp-pgbouncer-exporter-image").inputs).toEqual({ name: "registry.local/pgbouncer-exporter:v0.12.1", keepLocally: true });
  });

  it("is refused without pgBouncer, naming the key", async () => {
    await installMocks({ "armp-postgres:pgbouncerExporterEnabled": "true", "armp-postgres:pgbouncerEnabled": "false" });
    let err: unknown;
    try {
      readConfig();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StackConfigError);
    expect((err as StackConfigError).key).toBe("armp-postgres:pgbouncerExporterEnabled");
    expect((err as StackConfigError).code).toBe("CONFIG_INVALID");
  });

  it("refuses a host port out of range", async () => {
    await installMocks({ "armp-postgres:pgbouncerExporterEnabled": "true", "armp-postgres:pgbouncerExporterHostPort": "70000" });
    expect(() => readConfig()).toThrow("armp-postgres:pgbouncerExporterHostPort: must be a TCP port from 1 to 65535, got 70000.");
  });
});
