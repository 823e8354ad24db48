/**
 * Mock harness in the style of pulumi-awsx's tests: every resource registration is recorded with
 * its type, name, exact inputs (secrets unwrapped, their paths listed), and the options the engine
 * would receive (retainOnDelete, deleteBeforeReplace, additionalSecretOutputs), so tests can
 * assert all of them exactly.
 */
import * as pulumi from "@pulumi/pulumi";

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface Recorded {
  type: string;
  name: string;
  /** Inputs with secrets unwrapped; `__provider` (serialized dynamic provider code) removed. */
  inputs: Record<string, unknown>;
  /** JSON-ish paths of inputs that were secret, e.g. "uploads[1].content". */
  secretPaths: string[];
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
  parent: string;
  provider: string;
}

function unwrap(v: unknown, path: string, secrets: string[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => unwrap(x, `${path}[${i}]`, secrets));
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG_KEY] === SECRET_SIG) {
      secrets.push(path);
      return unwrap(o.value, path, secrets);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x, path ? `${path}.${k}` : k, secrets)]));
  }
  return v;
}

/** Deterministic outputs a real provider would compute, keyed by resource type. */
function computed(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "docker:index/remoteImage:RemoteImage":
      return { imageId: `sha256:${name}`, repoDigest: `${String(inputs.name)}@sha256:${name}` };
    case "docker:index/network:Network":
    case "docker:index/volume:Volume":
    case "docker:index/container:Container":
      return { name: inputs.name ?? `${name}-physical` };
    case "pulumi-nodejs:dynamic/infra:Secret":
      // What armp:infra:Secret's create would return, fixed so verifiers are predictable.
      return { value: `generated-${name}`, salt: Buffer.alloc(16, name.length).toString("base64") };
    case "pulumi-nodejs:dynamic/infra:EnvFile":
      return { existed: false, backupPath: `${String(inputs.path)}.armp-backup`, originalSha256: "", originalMode: 0 };
    default:
      return {};
  }
}

export interface Harness {
  resources: Recorded[];
  byName(name: string): Recorded;
  ofType(type: string): Recorded[];
}

/**
 * Installs mocks (non-preview) and config. Call before creating resources. `secretKeys` are the
 * config keys Pulumi would treat as secret.
 */
/**
 * Dynamic resources serialize their provider's closure on registration. That is slow under jest
 * and irrelevant to what these tests assert (inputs), so it is stubbed here; the real
 * serialization of the EnvFile provider is covered by envfile-provider.test.ts.
 */
function stubProviderSerialization(): void {
  const sc = require("@pulumi/pulumi/runtime/closure/serializeClosure") as { serializeFunction: unknown };
  sc.serializeFunction = async () => ({ text: "exports.handler = () => ({});", exportName: "handler", containsSecrets: false });
}

export async function installMocks(config: Record<string, string>, secretKeys: string[] = [], stack = "unit"): Promise<Harness> {
  const resources: Recorded[] = [];
  stubProviderSerialization();
  pulumi.runtime.setAllConfig(config, secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource: (args: pulumi.runtime.MockResourceArgs) => {
        const inputs = args.inputs as Record<string, unknown>;
        const plain = unwrap(inputs, "", []) as Record<string, unknown>;
        return { id: `${args.name}-id`, state: { ...plain, ...computed(args.type, args.name, plain) } };
      },
      call: (args: pulumi.runtime.MockCallArgs) => args.inputs as Record<string, unknown>,
    },
    "armp-postgres",
    stack,
    false,
  );
  // Wrap the mock monitor to see the raw request: options are not passed to `newResource`.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, cb: (err: unknown, res: unknown) => void): void;
  };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, cb: (err: unknown, res: unknown) => void) => {
    const secretPaths: string[] = [];
    const raw = req.getObject()?.toJavaScript() ?? {};
    delete raw.__provider;
    const inputs = unwrap(raw, "", secretPaths) as Record<string, unknown>;
    if (req.getCustom()) {
      resources.push({
        type: req.getType(),
        name: req.getName(),
        inputs,
        secretPaths,
        retainOnDelete: req.getRetainondelete?.() ?? false,
        deleteBeforeReplace: req.getDeletebeforereplace(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        parent: req.getParent(),
        provider: req.getProvider(),
      });
    }
    original(req, cb);
  };
  return {
    resources,
    byName(name: string): Recorded {
      const r = resources.find((x) => x.name === name);
      if (!r) throw new Error(`no resource named ${name}; have: ${resources.map((x) => x.name).join(", ")}`);
      return r;
    },
    ofType(type: string): Recorded[] {
      return resources.filter((x) => x.type === type);
    },
  };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getProvider(): string;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getRetainondelete?(): boolean;
  getDeletebeforereplace(): boolean;
  getAdditionalsecretoutputsList(): string[];
}

/** Resolves an Output's value (mocks are not a preview, so every value is known). */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/** Waits until registrations triggered by resolved outputs have reached the monitor. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}
