/**
 * A Docker Engine API client (unix socket, Node built-ins only) and the mapping from the stack's
 * docker resource inputs — exactly as the Pulumi mocks captured them — to Engine API calls, so the
 * docker-mode tests run the containers the program declares without the provider plugins (which
 * cannot be had here).
 *
 * The mapping follows what @pulumi/docker 4.6.2's bridged provider does, read in
 * kreuzwerker/terraform-provider-docker v3.0.2, internal/provider/resource_docker_container_funcs.go
 * (the v3 line is the one whose `upload` block has `executable` but no `permissions`, as in
 * @pulumi/docker 4.6.2's types/input.d.ts ContainerUpload):
 *   envs -> Config.Env (l. 74), command -> Config.Cmd (l. 78), entrypoints -> Config.Entrypoint
 *   (l. 87), user -> Config.User (l. 91); ports -> Config.ExposedPorts + HostConfig.PortBindings
 *   {HostIp, HostPort}, tcp (l. 98-102, 254-256); volumes -> HostConfig.Binds "volume:path"
 *   (l. 120-128, 260-262); healthcheck -> Config.Healthcheck, durations parsed as Go durations,
 *   in nanoseconds (l. 134-157); restart -> HostConfig.RestartPolicy.Name (l. 237-238);
 *   ContainerCreate (l. 384); networksAdvanced -> disconnect "bridge", NetworkConnect with the
 *   aliases (l. 391-416); upload -> one tar per file, header {Name: file, Mode: 0644 (0744 when
 *   executable), Size, ModTime}, so owner root:root, extracted at "/" (l. 457-489); start, then
 *   with `wait` poll inspect once a second until State.Health.Status is "healthy" or
 *   wait_timeout passes (l. 492-527). Read: a container that is not running is DELETED when
 *   must_run is true (l. 633-640), kept when false. Delete: stop, then remove with volumes kept
 *   (l. 866-895). Network/Volume create with the given name and driver (resource_docker_network,
 *   resource_docker_volume).
 */
import * as http from "http";
import { tarOf } from "../../../infra/providers/pgbouncer-reload-impl";

const SOCKET = process.env.DOCKER_SOCKET ?? "/var/run/docker.sock";

export interface Reply {
  status: number;
  body: Buffer;
}

export function request(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const req = http.request(
      { socketPath: SOCKET, method, path: `/v1.41${path}`, headers: payload ? { "Content-Type": contentType, "Content-Length": payload.length } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** JSON call that must answer 2xx (or one of `ok`). */
export async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, ok: number[] = []): Promise<T> {
  const r = await request(method, path, body);
  if ((r.status < 200 || r.status >= 300) && !ok.includes(r.status)) {
    throw new Error(`docker ${method} ${path}: HTTP ${r.status} ${r.body.toString("utf8").trim()}`);
  }
  const text = r.body.toString("utf8");
  return (text === "" ? {} : JSON.parse(text)) as T;
}

export async function engineAvailable(): Promise<boolean> {
  try {
    return (await request("GET", "/_ping")).status === 200;
  } catch {
    return false;
  }
}

export async function putFile(containerId: string, file: string, content: Buffer, mode = 0o644, uid = 0, gid = 0): Promise<void> {
  const r = await request("PUT", `/containers/${containerId}/archive?path=${encodeURIComponent("/")}`, tarOf(file, content, mode, uid, gid), "application/x-tar");
  if (r.status !== 200) throw new Error(`upload ${file}: HTTP ${r.status} ${r.body.toString("utf8")}`);
}

/** Runs a command in a container; stdout and stderr demultiplexed, and the exit code. */
export async function exec(containerId: string, cmd: string[], user?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const created = await api<{ Id: string }>("POST", `/containers/${containerId}/exec`, { Cmd: cmd, AttachStdout: true, AttachStderr: true, ...(user ? { User: user } : {}) });
  const r = await request("POST", `/exec/${created.Id}/start`, { Detach: false, Tty: false });
  let stdout = "";
  let stderr = "";
  for (let i = 0; i + 8 <= r.body.length; ) {
    const kind = r.body[i];
    const len = r.body.readUInt32BE(i + 4);
    const chunk = r.body.subarray(i + 8, i + 8 + len).toString("utf8");
    if (kind === 2) stderr += chunk;
    else stdout += chunk;
    i += 8 + len;
  }
  const info = await api<{ ExitCode: number }>("GET", `/exec/${created.Id}/json`);
  return { code: info.ExitCode, stdout, stderr };
}

export interface ContainerState {
  Running: boolean;
  Status: string;
  Health?: { Status: string };
  ExitCode: number;
}

export async function inspect(id: string): Promise<{ Id: string; Name: string; State: ContainerState; Config: Record<string, unknown>; HostConfig: Record<string, unknown>; NetworkSettings: Record<string, unknown> }> {
  return api("GET", `/containers/${id}/json`);
}

/** Go's time.ParseDuration for the forms the stack uses ("5s", "1m30s", "500ms"), in nanoseconds. */
export function goDuration(v: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let matched = "";
  for (const m of v.matchAll(re)) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    matched += m[0];
  }
  if (matched !== v) throw new Error(`not a Go duration: ${v}`);
  return total;
}

/** The docker:index/container:Container inputs the stack sets (after mocks unwrapped secrets). */
export interface ContainerInputs {
  image: string;
  envs?: string[];
  command?: string[];
  entrypoints?: string[];
  user?: string;
  uploads?: { file: string; content: string; executable?: boolean }[];
  healthcheck?: { tests: string[]; interval?: string; timeout?: string; retries?: number; startPeriod?: string };
  ports?: { internal: number; external: number; ip?: string; protocol?: string }[];
  volumes?: { volumeName: string; containerPath: string; readOnly?: boolean }[];
  networksAdvanced?: { name: string; aliases?: string[] }[];
  restart?: string;
  mustRun?: boolean;
  wait?: boolean;
  waitTimeout?: number;
}

/** Create, upload, start and (wait) — the provider's Create. Returns the container id. */
export async function createContainer(name: string, c: ContainerInputs, images: Map<string, string>, networks: Map<string, string>, volumes: Map<string, string>): Promise<string> {
  const image = images.get(c.image) ?? c.image;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of c.ports ?? []) {
    const key = `${p.internal}/${p.protocol ?? "tcp"}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.ip ?? "0.0.0.0", HostPort: String(p.external) });
  }
  const hc = c.healthcheck;
  const created = await api<{ Id: string }>("POST", `/containers/create?name=${encodeURIComponent(name)}`, {
    Image: image,
    ...(c.envs ? { Env: c.envs } : {}),
    ...(c.command ? { Cmd: c.command } : {}),
    ...(c.entrypoints ? { Entrypoint: c.entrypoints } : {}),
    ...(c.user ? { User: c.user } : {}),
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    ...(hc
      ? {
          Healthcheck: {
            Test: hc.tests,
            Interval: hc.interval ? goDuration(hc.interval) : 0,
            Timeout: hc.timeout ? goDuration(hc.timeout) : 0,
            StartPeriod: hc.startPeriod ? goDuration(hc.startPeriod) : 0,
            Retries: hc.retries ?? 0,
          },
        }
      : {}),
    HostConfig: {
      RestartPolicy: { Name: c.restart ?? "no" },
      ...(Object.keys(bindings).length ? { PortBindings: bindings } : {}),
      ...(c.volumes?.length ? { Binds: c.volumes.map((v) => `${volumes.get(v.volumeName) ?? v.volumeName}:${v.containerPath}${v.readOnly ? ":ro" : ""}`) } : {}),
    },
  });
  const id = created.Id;
  if (c.networksAdvanced?.length) {
    await api("POST", `/networks/bridge/disconnect`, { Container: id, Force: false }, [500]);
    for (const n of c.networksAdvanced) {
      await api("POST", `/networks/${networks.get(n.name) ?? n.name}/connect`, { Container: id, EndpointConfig: { Aliases: n.aliases ?? [] } });
    }
  }
  for (const u of c.uploads ?? []) await putFile(id, u.file, Buffer.from(u.content, "utf8"), u.executable ? 0o744 : 0o644);
  await api("POST", `/containers/${id}/start`);
  if (c.wait) await waitHealthy(id, (c.waitTimeout ?? 60) * 1000);
  return id;
}

export async function waitHealthy(id: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await inspect(id)).State;
    if (s.Health?.Status === "healthy") return;
    if (Date.now() > deadline) {
      const logs = await request("GET", `/containers/${id}/logs?stdout=1&stderr=1&tail=40`);
      throw new Error(`container ${id} not healthy in ${timeoutMs} ms (state ${s.Status}, health ${s.Health?.Status}); logs:\n${logs.body.toString("utf8")}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The provider's Read: returns false when the container is gone (deleted because it stopped with mustRun). */
export async function readContainer(id: string, mustRun: boolean): Promise<boolean> {
  const s = (await inspect(id)).State;
  if (!s.Running && mustRun) {
    await removeContainer(id);
    return false;
  }
  return true;
}

export async function removeContainer(id: string): Promise<void> {
  await api("POST", `/containers/${id}/stop?t=10`, undefined, [304, 404]);
  await api("DELETE", `/containers/${id}?v=false&force=true`, undefined, [404]);
}
