/**
 * The preview-time host-port check (infra/providers/host-port-check-impl.ts) against real
 * sockets: a port held by another listener fails with PORT_IN_USE naming the config key; a port
 * this stack's own container already holds (same address and port in the old inputs) is not
 * probed, so a second `up` passes; a free port passes. And which checks the stack declares.
 */
import * as net from "net";
import { check, create, diff, probe } from "../../../infra/providers/host-port-check-impl";
import { readConfig } from "../../../infra/config";
import { createStack } from "../../../infra/stack";
import { installMocks, settle, valueOf } from "./harness";

function listen(): Promise<{ server: net.Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as net.AddressInfo).port }));
  });
}

const close = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));

describe("HostPortCheck", () => {
  let held: { server: net.Server; port: number };
  const socket = process.env.DOCKER_SOCKET;
  beforeAll(async () => {
    held = await listen();
    // No Docker socket to ask who holds the port: the message then says "another process".
    process.env.DOCKER_SOCKET = "/nonexistent/docker.sock";
  });
  afterAll(async () => {
    await close(held.server);
    if (socket === undefined) delete process.env.DOCKER_SOCKET;
    else process.env.DOCKER_SOCKET = socket;
  });

  it("probes with a real bind: EADDRINUSE for the held port", async () => {
    expect(await probe("127.0.0.1", held.port)).toBe("EADDRINUSE");
  });

  it("fails a new stack's preview on a held port, naming the config key to set", async () => {
    const news = { key: "armp-postgres:postgresHostPort", address: "127.0.0.1", port: held.port };
    expect(await check({}, news)).toEqual({
      inputs: news,
      failures: [
        {
          property: "port",
          reason:
            `PORT_IN_USE: 127.0.0.1:${held.port} is already in use by another process (a local server, another stack's container). ` +
            "Pick a free port with `pulumi config set armp-postgres:postgresHostPort <port>` (see `ss -ltnp`), or stop what holds it, then run `pulumi up` again.",
        },
      ],
    });
  });

  it("fails a changed port that is held", async () => {
    const news = { key: "armp-postgres:pgbouncerHostPort", address: "127.0.0.1", port: held.port };
    const r = await check({ ...news, port: 1 }, news);
    expect(r.failures.map((f) => f.reason.slice(0, 12))).toEqual(["PORT_IN_USE:"]);
  });

  it("passes a second up where the stack's own container holds the port (same address and port in the state)", async () => {
    const news = { key: "armp-postgres:postgresHostPort", address: "127.0.0.1", port: held.port };
    expect(await check({ ...news }, news)).toEqual({ inputs: news, failures: [] });
  });

  it("passes a free port, and leaves it free", async () => {
    const { server, port } = await listen();
    await close(server);
    const news = { key: "armp-postgres:pgbouncerExporterHostPort", address: "127.0.0.1", port };
    expect(await check({}, news)).toEqual({ inputs: news, failures: [] });
    expect(await probe("127.0.0.1", port)).toBeUndefined();
  });

  it("a port held on 0.0.0.0 also blocks 127.0.0.1", async () => {
    const any = net.createServer();
    await new Promise<void>((r) => any.listen(0, "0.0.0.0", () => r()));
    const port = (any.address() as net.AddressInfo).port;
    try {
      expect(await probe("127.0.0.1", port)).toBe("EADDRINUSE");
    } finally {
      await close(any);
    }
  });

  it("create/diff: id address:port, changes in place", () => {
    const a = { key: "armp-postgres:postgresHostPort", address: "127.0.0.1", port: 55432 };
    expect(create(a)).toEqual({ id: "127.0.0.1:55432", outs: a });
    expect(diff(a, { ...a })).toEqual({ changes: false, replaces: [] });
    expect(diff(a, { ...a, port: 55433 })).toEqual({ changes: true, replaces: [] });
  });

  it("the docker stack checks PostgreSQL's and pgBouncer's host ports, each keyed to its config key", async () => {
    const h = await installMocks({ "armp-postgres:postgresPassword": "super-secret-pw", "armp-postgres:postgresHostPort": "55999" }, ["armp-postgres:postgresPassword"]);
    const out = createStack(readConfig());
    await valueOf(out.databaseUrl);
    await settle();
    expect(h.ofType("pulumi-nodejs:dynamic/infra:HostPortCheck").map((r) => [r.name, r.inputs])).toEqual([
      ["armp-postgres-port", { key: "armp-postgres:postgresHostPort", address: "127.0.0.1", port: 55999 }],
      ["armp-pgbouncer-port", { key: "armp-postgres:pgbouncerHostPort", address: "127.0.0.1", port: 6432 }],
    ]);
  });
});
