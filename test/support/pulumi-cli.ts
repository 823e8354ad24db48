/**
 * Drives the real Pulumi CLI against the project's own Pulumi.yaml (repo root) with a local file
 * backend, as issue 5 asks. The CLI comes from PATH; .ci/run puts scripts/pulumi-cli.sh's build
 * there. A missing CLI is an error, never a skip.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface PulumiResult {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

export class PulumiStack {
  readonly backendDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timings: { step: string; seconds: number }[] = [];

  constructor(readonly stack: string) {
    this.backendDir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-e2e-backend-"));
    this.env = {
      ...process.env,
      PULUMI_BACKEND_URL: `file://${this.backendDir}`,
      PULUMI_CONFIG_PASSPHRASE: "armp-e2e-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      PULUMI_HOME: path.join(this.backendDir, ".pulumi-home"),
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      NO_COLOR: "1",
    };
  }

  /** Path of the stack's config file, which Pulumi keeps beside Pulumi.yaml. */
  get configFile(): string {
    return path.join(REPO_ROOT, `Pulumi.${this.stack}.yaml`);
  }

  run(step: string, args: string[], opts: { allowFailure?: boolean } = {}): PulumiResult {
    const started = Date.now();
    const r = spawnSync("pulumi", [...args, "--non-interactive", "--stack", this.stack], {
      cwd: REPO_ROOT,
      env: this.env,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    });
    const seconds = (Date.now() - started) / 1000;
    this.timings.push({ step, seconds });
    if (r.error) throw new Error(`pulumi ${args.join(" ")} could not run: ${r.error.message}. Put the CLI on PATH: export PATH="$(bash scripts/pulumi-cli.sh):$PATH"`);
    const res = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, seconds };
    if (res.code !== 0 && !opts.allowFailure) {
      throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n--- stdout\n${res.stdout.slice(-8000)}\n--- stderr\n${res.stderr.slice(-8000)}`);
    }
    return res;
  }

  init(): void {
    const r = spawnSync("pulumi", ["stack", "init", this.stack, "--non-interactive", "--secrets-provider", "passphrase"], {
      cwd: REPO_ROOT,
      env: this.env,
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`pulumi stack init failed: ${r.stderr || r.error?.message}`);
  }

  setConfig(key: string, value: string, opts: { secret?: boolean; path?: boolean } = {}): void {
    const args = ["config", "set", key, value];
    if (opts.secret) args.push("--secret");
    if (opts.path) args.push("--path");
    this.run(`config set ${key}`, args);
  }

  setConfigJson(key: string, value: unknown): void {
    // `config set` takes strings only; set-all --json takes the `pulumi config --json` shape.
    const payload = { [key]: { value: JSON.stringify(value), objectValue: value, secret: false } };
    this.run(`config set ${key}`, ["config", "set-all", "--json", JSON.stringify(payload)]);
  }

  outputs(): Record<string, unknown> {
    const r = this.run("stack output", ["stack", "output", "--json", "--show-secrets"]);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** `pulumi preview --json`: the engine's planned steps. */
  preview(extra: string[] = []): { steps: PreviewStep[]; changeSummary: Record<string, number> } {
    const r = this.run("preview", ["preview", "--json", ...extra]);
    const parsed = JSON.parse(r.stdout) as { steps?: PreviewStep[]; changeSummary?: Record<string, number> };
    return { steps: parsed.steps ?? [], changeSummary: parsed.changeSummary ?? {} };
  }

  cleanup(): void {
    fs.rmSync(this.configFile, { force: true });
    fs.rmSync(this.backendDir, { recursive: true, force: true });
  }
}

export interface PreviewStep {
  op: string;
  urn: string;
  diffReasons?: string[];
  replaceReasons?: string[];
  detailedDiff?: Record<string, { kind: string }>;
}

/** The resource name at the end of a URN (after the last `::`). */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}
