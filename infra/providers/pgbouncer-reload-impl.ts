/**
 * What the `PgBouncerReload` dynamic provider does: puts a changed pgbouncer.ini into the running
 * pgBouncer container through the Docker Engine API (the same single-file tar upload the docker
 * provider makes) and sends SIGHUP, which pgBouncer handles like RELOAD on its console — pool
 * settings change without a new container and without refusing connections. Compiled to
 * dist/infra/providers/pgbouncer-reload-impl.js and required by the provider methods at deploy
 * time, like envfile-impl. Node built-ins only.
 */
import * as http from "http";

export interface PgBouncerReloadInputs {
  /** The pgBouncer container's name. */
  container: string;
  /** Where the ini lives in the container. */
  file: string;
  /** The rendered pgbouncer.ini (no secrets in it). */
  ini: string;
  /** The ini's settings as key -> value, plain, so `pulumi preview --diff` shows what changes. */
  settings: Record<string, string>;
}

export class PgBouncerReloadError extends Error {
  constructor(
    readonly code: "DOCKER_UNREACHABLE" | "RELOAD_FAILED",
    message: string,
    readonly meta: { container: string; key?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PgBouncerReloadError";
  }
}

/** key -> value of every `key = value` line, [databases] entries under "databases.<name>". */
export function iniSettings(ini: string): Record<string, string> {
  const out: Record<string, string> = {};
  let section = "";
  for (const raw of ini.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1] as string;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    out[section === "databases" ? `databases.${key}` : key] = line.slice(eq + 1).trim();
  }
  return out;
}

/** The Docker socket: DOCKER_HOST when it is unix://, else the default. */
function socketPath(): string {
  const h = process.env.DOCKER_HOST ?? "";
  return h.startsWith("unix://") ? h.slice("unix://".length) : "/var/run/docker.sock";
}

function call(method: string, path: string, body: Buffer | undefined, container: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socketPath(), method, path: `/v1.41${path}`, headers: body ? { "Content-Type": "application/x-tar", "Content-Length": body.length } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          const detail = Buffer.concat(chunks).toString("utf8").trim();
          reject(
            new PgBouncerReloadError(
              "RELOAD_FAILED",
              `Docker answered HTTP ${status} to ${method} ${path.split("?")[0]} for container ${container} (${detail}); check that the container runs (\`docker start ${container}\`), then run \`pulumi up\` again.`,
              { container },
            ),
          );
        });
      },
    );
    req.on("error", (cause) =>
      reject(new PgBouncerReloadError("DOCKER_UNREACHABLE", `Cannot reach the Docker engine at ${socketPath()} to reload ${container}; start dockerd (or set DOCKER_HOST=unix://...), then run \`pulumi up\` again.`, { container }, { cause })),
    );
    if (body) req.write(body);
    req.end();
  });
}

/**
 * One regular file in a ustar archive, the shape the docker provider uploads: root-owned 0644
 * unless told otherwise (the docker tests upload with the owner and mode an image needs).
 */
export function tarOf(file: string, content: Buffer, mode = 0o644, uid = 0, gid = 0): Buffer {
  const header = Buffer.alloc(512, 0);
  const rel = file.replace(/^\/+/, "");
  if (Buffer.byteLength(rel) > 100) throw new Error(`tar name too long: ${rel}`);
  const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, "0") + "\0";
  header.write(rel, 0, "utf8");
  header.write(octal(mode, 8), 100);
  header.write(octal(uid, 8), 108);
  header.write(octal(gid, 8), 116);
  header.write(octal(content.length, 12), 124);
  header.write(octal(Math.floor(Date.now() / 1000), 12), 136);
  header.write("        ", 148); // the checksum field counts as spaces while summing
  header.write("0", 156);
  header.write("ustar\0", 257);
  header.write("00", 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return Buffer.concat([header, content, Buffer.alloc((512 - (content.length % 512)) % 512, 0), Buffer.alloc(1024, 0)]);
}

export async function reload(inputs: PgBouncerReloadInputs): Promise<void> {
  const c = encodeURIComponent(inputs.container);
  await call("PUT", `/containers/${c}/archive?path=%2F`, tarOf(inputs.file, Buffer.from(inputs.ini, "utf8")), inputs.container);
  await call("POST", `/containers/${c}/kill?signal=HUP`, undefined, inputs.container);
}

/** The container was created with this ini: nothing to put there yet. */
export function create(inputs: PgBouncerReloadInputs): { id: string; outs: PgBouncerReloadInputs } {
  return { id: `pgbouncer-reload:${inputs.container}`, outs: inputs };
}

export function diff(olds: PgBouncerReloadInputs, news: PgBouncerReloadInputs): { changes: boolean; replaces: string[] } {
  return { changes: olds.container !== news.container || olds.ini !== news.ini, replaces: [] };
}

/**
 * A new ini, or a new container (created from the ini recorded when the upload was last taken
 * into account): put the current ini in place and reload.
 */
export async function update(_olds: PgBouncerReloadInputs, news: PgBouncerReloadInputs): Promise<{ outs: PgBouncerReloadInputs }> {
  await reload(news);
  return { outs: news };
}
