/** Runs pgbench and reads back tps, failures and p95 latency from its per-transaction logs. */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface PgbenchTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface PgbenchResult {
  tps: number;
  transactions: number;
  failed: number;
  p95Ms: number;
  /** True when pgbench reported aborted clients (exit status != 0). */
  aborted: boolean;
  /** pgbench's last lines when clients aborted (why). */
  abortReason?: string;
}

export function findPgbench(): string {
  for (const p of [process.env.ARMP_PGBENCH_BIN, "/usr/bin/pgbench", "/usr/lib/postgresql/15/bin/pgbench"]) {
    if (p && fs.existsSync(p)) return p;
  }
  throw new Error("pgbench not found. Install it with `apt-get install -y postgresql-contrib` or set ARMP_PGBENCH_BIN.");
}

function run(bin: string, args: string[], target: PgbenchTarget): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...args, "-h", target.host, "-p", String(target.port), "-U", target.user, target.database], {
      env: { ...process.env, PGPASSWORD: target.password, PGSSLMODE: "disable" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

export async function pgbenchInit(target: PgbenchTarget, scale: number): Promise<void> {
  const r = await run(findPgbench(), ["-i", "-q", "-s", String(scale)], target);
  if (r.code !== 0) throw new Error(`pgbench -i failed:\n${r.out}`);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * `args` are the workload options (-S, -f script, -C). Latencies come from `-l` logs (third field,
 * microseconds) so p95 is exact over every transaction rather than a progress-interval estimate.
 */
export async function pgbench(target: PgbenchTarget, opts: { clients: number; seconds: number; args: string[]; logDir: string; label: string }): Promise<PgbenchResult> {
  const prefix = path.join(opts.logDir, opts.label.replace(/[^A-Za-z0-9_-]/g, "_"));
  const r = await run(findPgbench(), ["-n", "-c", String(opts.clients), "-j", "2", "-T", String(opts.seconds), "-l", `--log-prefix=${prefix}`, ...opts.args], target);
  const tps = /^tps = ([\d.]+)/m.exec(r.out);
  const processed = /number of transactions actually processed: (\d+)/.exec(r.out);
  const failed = /number of failed transactions: (\d+)/.exec(r.out);
  if (!tps || !processed) throw new Error(`pgbench ${opts.label} printed no result (exit ${r.code}):\n${r.out.slice(-2000)}`);
  const latencies: number[] = [];
  const base = path.basename(prefix);
  for (const f of fs.readdirSync(opts.logDir).filter((n) => n.startsWith(base + "."))) {
    for (const line of fs.readFileSync(path.join(opts.logDir, f), "utf8").split("\n")) {
      const us = Number(line.split(" ")[2]);
      if (line && Number.isFinite(us)) latencies.push(us / 1000);
    }
    fs.rmSync(path.join(opts.logDir, f));
  }
  latencies.sort((a, b) => a - b);
  return { tps: Number(tps[1]), transactions: Number(processed[1]), failed: failed ? Number(failed[1]) : 0, p95Ms: percentile(latencies, 95), aborted: r.code !== 0, abortReason: r.code !== 0 ? r.out.split("\n").filter((l) => /abort|error|FATAL/i.test(l)).slice(0, 3).join(" / ") : undefined };
}
