/**
 * What the `HostPortCheck` dynamic provider does: at preview (the provider's `check`, which the
 * engine calls on every preview and up) it tries to bind the host port a container is about to
 * publish, so "address already in use" fails `pulumi preview` with the config key to change
 * instead of failing `pulumi up` half-way in Docker's userland proxy (issue 18, item 1).
 *
 * "Is it our own container holding the port?" is answered from the state, not from Docker: when
 * the old inputs (the last successful up) name the same address and port, this stack's container
 * holds it and nothing is probed; only a new stack, a changed port or a changed address is
 * probed. A port taken by another process while our container was gone is then reported by
 * Docker on create, as before. The Docker socket, when reachable, is only asked who holds a busy
 * port, for the message. With a remote engine (DOCKER_HOST other than unix://) the ports are on
 * another machine and nothing is probed. Node built-ins only; compiled to dist/ and required by
 * the provider's methods, like envfile-impl.
 */
import * as http from "http";
import * as net from "net";

export interface HostPortCheckInputs {
  /** The config key that sets the port, e.g. "armp-postgres:postgresHostPort". */
  key: string;
  /** Host address the port is bound to. */
  address: string;
  port: number;
}

export interface CheckFailure {
  property: string;
  reason: string;
}

/** Tries to listen on address:port; the bind error's code, or undefined when the port is free. */
export function probe(address: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "EUNKNOWN"));
    s.listen({ host: address, port, exclusive: true }, () => s.close(() => resolve(undefined)));
  });
}

/** Names of running containers publishing `port`, from the Docker socket; [] when it does not answer. */
export function containersPublishing(port: number, socketPath = process.env.DOCKER_SOCKET ?? "/var/run/docker.sock"): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ publish: [String(port)] }));
  return new Promise((resolve) => {
    const req = http.request({ socketPath, method: "GET", path: `/v1.41/containers/json?filters=${filters}`, timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        try {
          const list = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { Names?: string[] }[];
          resolve(Array.isArray(list) ? list.flatMap((c) => (c.Names ?? []).map((n) => n.replace(/^\//, ""))) : []);
        } catch {
          resolve([]);
        }
      });
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve([]));
    req.end();
  });
}

function remoteEngine(): boolean {
  const h = process.env.DOCKER_HOST;
  return h !== undefined && h !== "" && !h.startsWith("unix://");
}

export async function check(olds: Partial<HostPortCheckInputs>, news: HostPortCheckInputs): Promise<{ inputs: HostPortCheckInputs; failures: CheckFailure[] }> {
  const ours = olds.port === news.port && olds.address === news.address;
  if (ours || remoteEngine()) return { inputs: news, failures: [] };
  const err = await probe(news.address, news.port);
  if (err !== "EADDRINUSE") return { inputs: news, failures: [] };
  const holders = await containersPublishing(news.port);
  const by = holders.length > 0 ? ` by the container ${holders.join(", ")}` : " by another process (a local server, another stack's container)";
  return {
    inputs: news,
    failures: [
      {
        property: "port",
        reason:
          `PORT_IN_USE: ${news.address}:${news.port} is already in use${by}. ` +
          `Pick a free port with \`pulumi config set ${news.key} <port>\` (see \`ss -ltnp\`), or stop what holds it, then run \`pulumi up\` again.`,
      },
    ],
  };
}

export function create(inputs: HostPortCheckInputs): { id: string; outs: HostPortCheckInputs } {
  return { id: `${inputs.address}:${inputs.port}`, outs: inputs };
}

export function diff(olds: HostPortCheckInputs, news: HostPortCheckInputs): { changes: boolean; replaces: string[] } {
  return { changes: olds.key !== news.key || olds.address !== news.address || olds.port !== news.port, replaces: [] };
}
