/**
 * Wire-level harness: runs @pulumi/pulumi's own dynamic-provider host (the process the Pulumi
 * engine starts for `pulumi-nodejs` resources) and talks to it the way the engine does — gRPC
 * ResourceProvider calls with google.protobuf.Struct properties, the `__provider` property
 * holding the serialized provider, secrets as `{ <sig key>: <secret sig>, value }` envelopes and
 * unknowns as the preview sentinel. A tiny fake Engine service receives anything the host logs.
 */
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engproto from "@pulumi/pulumi/proto/engine_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";

/** `rpc.unknownValue` in @pulumi/pulumi: what the engine sends for values unknown during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** A secret as the engine marshals it for providers that accept secrets. */
export function wireSecret<T>(value: T): Record<string, unknown> {
  return { [SECRET_SIG_KEY]: SECRET_SIG, value };
}

export type Props = Record<string, unknown>;

export function toStruct(props: Props): structproto.Struct {
  return structproto.Struct.fromJavaScript(props as Record<string, structproto.JavaScriptValue>);
}

export interface DiffAnswer {
  changes: "DIFF_UNKNOWN" | "DIFF_NONE" | "DIFF_SOME";
  replaces: string[];
  deleteBeforeReplace: boolean;
}

export interface HostError extends Error {
  code: number;
  details: string;
}

/** The fake Engine service: records Log calls, answers the rest with empty results. */
export interface FakeEngine {
  readonly address: string;
  readonly logs: { severity: number; message: string }[];
  stop(): Promise<void>;
}

export async function startFakeEngine(): Promise<FakeEngine> {
  const server = new grpc.Server();
  const logs: { severity: number; message: string }[] = [];
  const impl: grpc.UntypedServiceImplementation = {
    log: (call: grpc.ServerUnaryCall<engproto.LogRequest, emptyproto.Empty>, cb: grpc.sendUnaryData<emptyproto.Empty>) => {
      logs.push({ severity: call.request.getSeverity(), message: call.request.getMessage() });
      cb(null, new emptyproto.Empty());
    },
    getRootResource: (_c: unknown, cb: grpc.sendUnaryData<engproto.GetRootResourceResponse>) => cb(null, new engproto.GetRootResourceResponse()),
    setRootResource: (_c: unknown, cb: grpc.sendUnaryData<engproto.SetRootResourceResponse>) => cb(null, new engproto.SetRootResourceResponse()),
    startDebugging: (_c: unknown, cb: grpc.sendUnaryData<emptyproto.Empty>) => cb(null, new emptyproto.Empty()),
    requirePulumiVersion: (_c: unknown, cb: grpc.sendUnaryData<engproto.RequirePulumiVersionResponse>) => cb(null, new engproto.RequirePulumiVersionResponse()),
  };
  server.addService(engrpc.EngineService as unknown as grpc.ServiceDefinition, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    logs,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

export interface ProviderHost {
  readonly engine: FakeEngine;
  /** Everything the host wrote to stdout/stderr so far (it prints errors of check/diff/delete). */
  output(): string;
  configure(): Promise<{ acceptSecrets: boolean }>;
  check(urn: string, olds: Props, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
  diff(urn: string, id: string, olds: Props, news: Props, oldInputs?: Props): Promise<DiffAnswer>;
  create(urn: string, props: Props): Promise<{ id: string; properties: Props }>;
  update(urn: string, id: string, olds: Props, news: Props, oldInputs?: Props): Promise<{ properties: Props }>;
  delete(urn: string, id: string, props: Props, oldInputs?: Props): Promise<void>;
  stop(): Promise<void>;
}

function hostScript(cwd: string): string {
  const script = path.join(cwd, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");
  if (!fs.existsSync(script)) throw new Error(`Pulumi dynamic-provider host not found at ${script}: run \`npm ci\` in ${cwd}.`);
  return script;
}

/** Waits for the port line the host prints once its gRPC server listens. */
function waitForPort(child: ChildProcess, output: () => string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`provider host printed no port within ${timeoutMs} ms; output:\n${output()}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const m = /^(\d+)\s*$/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`provider host exited with ${code} before listening; output:\n${output()}`));
    });
  });
}

function unary<Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}

const CHANGES = ["DIFF_UNKNOWN", "DIFF_NONE", "DIFF_SOME"] as const;

/**
 * Starts the host with `cwd` (the project directory, as Pulumi does: provider code resolves
 * `./dist/...` against it) and the fake engine's address as its one argument.
 */
export async function startProviderHost(opts: { cwd: string; timeoutMs?: number }): Promise<ProviderHost> {
  const script = hostScript(opts.cwd);
  const engine = await startFakeEngine();
  const child = spawn(process.execPath, [script, engine.address], {
    cwd: opts.cwd,
    env: { ...process.env, PULUMI_NODEJS_ENGINE: engine.address },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const output = (): string => out;
  let port: number;
  try {
    port = await waitForPort(child, output, opts.timeoutMs ?? 15000);
  } catch (e) {
    child.kill("SIGKILL");
    await engine.stop();
    throw e;
  }
  const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = <Req, Res>(method: string, req: Req): Promise<Res> => {
    const fn = (client as unknown as Record<string, (r: Req, cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown>)[method].bind(client);
    return unary(fn, req);
  };

  return {
    engine,
    output,
    async configure() {
      const req = new provproto.ConfigureRequest();
      req.setArgs(toStruct({}));
      req.setAcceptsecrets(true);
      req.setAcceptresources(true);
      const res = await call<provproto.ConfigureRequest, provproto.ConfigureResponse>("configure", req);
      return { acceptSecrets: res.getAcceptsecrets() };
    },
    async check(urn, olds, news) {
      const req = new provproto.CheckRequest();
      req.setUrn(urn);
      req.setOlds(toStruct(olds));
      req.setNews(toStruct(news));
      const res = await call<provproto.CheckRequest, provproto.CheckResponse>("check", req);
      return {
        inputs: (res.getInputs()?.toJavaScript() ?? {}) as Props,
        failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(urn, id, olds, news, oldInputs) {
      const req = new provproto.DiffRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setOlds(toStruct(olds));
      req.setNews(toStruct(news));
      req.setOldInputs(toStruct(oldInputs ?? olds));
      const res = await call<provproto.DiffRequest, provproto.DiffResponse>("diff", req);
      return { changes: CHANGES[res.getChanges()], replaces: res.getReplacesList(), deleteBeforeReplace: res.getDeletebeforereplace() };
    },
    async create(urn, props) {
      const req = new provproto.CreateRequest();
      req.setUrn(urn);
      req.setProperties(toStruct(props));
      req.setPreview(false);
      const res = await call<provproto.CreateRequest, provproto.CreateResponse>("create", req);
      return { id: res.getId(), properties: (res.getProperties()?.toJavaScript() ?? {}) as Props };
    },
    async update(urn, id, olds, news, oldInputs) {
      const req = new provproto.UpdateRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setOlds(toStruct(olds));
      req.setNews(toStruct(news));
      req.setOldInputs(toStruct(oldInputs ?? olds));
      req.setPreview(false);
      const res = await call<provproto.UpdateRequest, provproto.UpdateResponse>("update", req);
      return { properties: (res.getProperties()?.toJavaScript() ?? {}) as Props };
    },
    async delete(urn, id, props, oldInputs) {
      const req = new provproto.DeleteRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setProperties(toStruct(props));
      req.setOldInputs(toStruct(oldInputs ?? props));
      await call<provproto.DeleteRequest, emptyproto.Empty>("delete", req);
    },
    async stop() {
      client.close();
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        await exited;
      }
      await engine.stop();
    },
  };
}

/** The repository root: where Pulumi.yaml and dist/ live, and the cwd Pulumi gives the host. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * The providers load compiled code from dist/ at call time. Fail with the fix, not with a
 * MODULE_NOT_FOUND from deep inside a provider method.
 */
export function requireBuiltDist(root = REPO_ROOT): void {
  for (const rel of ["dist/migrate/engine/index.js", "dist/migrate/providers/lifecycles.js"]) {
    if (!fs.existsSync(path.join(root, rel))) {
      throw new Error(`${rel} is missing: run \`npm run build\` first (\`npm test\` does); the providers require it at run time.`);
    }
  }
}

/**
 * Serializes a provider exactly as `pulumi.dynamic.Resource` does (dynamic/index.js:
 * `serializeFunction(() => provider, { allowSecrets: true })`), returning the text that lands in
 * state as `__provider`.
 */
export async function serializeProvider(provider: object): Promise<string> {
  // Loaded lazily: the closure serializer pulls in TypeScript and is slow to load.
  const pulumi = await import("@pulumi/pulumi");
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  return sf.text;
}

export interface RehydratedProvider {
  check(olds: Props, news: Props): Promise<{ inputs?: Props; failures?: { property: string; reason: string }[] }>;
  diff(id: string, olds: Props, news: Props): Promise<{ changes?: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }>;
  create(inputs: Props): Promise<{ id: string; outs?: Props }>;
  update(id: string, olds: Props, news: Props): Promise<{ outs?: Props }>;
  delete(id: string, props: Props): Promise<void>;
}

/**
 * Evaluates serialized provider text the way the host's getProvider does:
 * `requireFromString(text).handler()` — filename "", so relative requires resolve against cwd,
 * which must be the repo root (as Pulumi starts plugins in the project directory).
 */
export function rehydrate(text: string): RehydratedProvider {
  if (process.cwd() !== REPO_ROOT) process.chdir(REPO_ROOT);
  const requireFromString = require("require-from-string") as (code: string) => { handler: () => RehydratedProvider };
  return requireFromString(text).handler();
}
