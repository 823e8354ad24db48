/**
 * Issue 15 numbers: how long `cutover --freeze` holds the app's writes, and whether the app ever
 * sees an error. ARMP with capture installed and copied; the app — Python sqlite3,
 * autocommit, busy timeout 10 s, --rate writes/s of inserts/updates/deletes
 * (bench/support/app-writer.ts) — runs in its own process while --runs cut-overs run one after
 * another; in each journal mode (--journals, default delete,wal), without and with a CPU hog
 * (one busy-looping process per core) on the same machine. Runs its own throwaway cluster.
 * Reports freeze p50/p95/max, attempts, give-ups (CUTOVER_FREEZE_EXCEEDED) and the app's errors.
 *
 * npm run build && node dist/bench/cutover.js [--scale 0.05] [--rate 200] [--runs 10] [--journals delete,wal]
 */
import { spawn, type ChildProcess } from "child_process";
import * as os from "os";
import { parseArgs } from "util";
import Database from "better-sqlite3";
import { cutover, isMigrationError, type TargetRef } from "../migrate/engine";
import { startAppWriter } from "./support/app-writer";
import { capturedArmp } from "./support/captured-armp";

function pct(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

function startHog(): ChildProcess[] {
  return Array.from({ length: os.cpus().length }, () => spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }));
}

async function series(src: string, target: TargetRef, runs: number, rate: number): Promise<Record<string, unknown>> {
  const app = startAppWriter(src, { rate, timeoutMs: 10_000 });
  await app.ready;
  const freezes: number[] = [];
  const attempts: number[] = [];
  let gaveUp = 0;
  const other: string[] = [];
  const stopped = (async () => {
    for (let r = 0; r < runs; r++) {
      await new Promise((res) => setTimeout(res, 500));
      try {
        const c = await cutover(src, target, { freeze: true });
        freezes.push(Math.round(c.freezeMs! * 10) / 10);
        attempts.push(c.attempts);
      } catch (e) {
        if (isMigrationError(e) && e.code === "CUTOVER_FREEZE_EXCEEDED") gaveUp++;
        else other.push(isMigrationError(e) ? `${e.code}: ${e.message.slice(0, 200)}` : String(e));
      }
    }
  })().finally(() => app.stop());
  await stopped;
  const res = await app.stop();
  const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10);
  return {
    passed: freezes.length,
    freezeMs: { p50: round(pct(freezes, 50)), p95: round(pct(freezes, 95)), max: round(pct(freezes, 100)), all: freezes },
    attempts: { max: attempts.length ? Math.max(...attempts) : null, retried: attempts.filter((a) => a > 1).length },
    gaveUp,
    otherFailures: other,
    app: { writes: res.writes, errors: res.errors, maxWriteMs: res.maxMs, writesOver50ms: res.over50ms },
  };
}

async function main(): Promise<void> {
  const { values: o } = parseArgs({ options: { scale: { type: "string" }, rate: { type: "string" }, runs: { type: "string" }, journals: { type: "string" } } });
  const scale = Number(o.scale ?? 0.05);
  const rate = Number(o.rate ?? 200);
  const runs = Number(o.runs ?? 10);
  const journals = (o.journals ?? "delete,wal").split(",");
  const out: Record<string, unknown>[] = [];
  for (const journal of journals) {
    const { src, target, cleanup } = await capturedArmp(scale, `bench_cutover_${journal}`);
    try {
      const db = new Database(src);
      db.pragma(`journal_mode = ${journal}`);
      db.close();
      for (const hog of [false, true]) {
        const hogs = hog ? startHog() : [];
        try {
          out.push({ journal, cpuHog: hog, ...(await series(src, target, runs, rate)) });
        } finally {
          for (const h of hogs) h.kill();
        }
        process.stderr.write(JSON.stringify(out[out.length - 1]) + "\n");
      }
    } finally {
      cleanup();
    }
  }
  process.stdout.write(JSON.stringify({ scale, rate, runs, loadavg: os.loadavg().map((x) => Math.round(x * 10) / 10), series: out }, null, 2) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:cutover failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
