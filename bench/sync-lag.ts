/**
 * Issue 6 number: replication lag under a steady writer. ARMP in WAL mode with capture installed
 * and copied; a writer process at `--rate` writes/s for `--seconds` while `armp-migrate sync` runs
 * every `--every` ms; prints, per sync, what it applied, what was still pending afterwards and the
 * age of the oldest pending change. Own throwaway cluster; no assertions.
 *
 * node dist/bench/sync-lag.js [--scale 0.1] [--rate 200] [--seconds 20] [--every 1000]
 */
import { parseArgs } from "util";
import { syncChanges } from "../migrate/engine";
import { capturedArmp } from "./support/captured-armp";
import { startWriter } from "./support/steady-writer";

async function main(): Promise<void> {
  const { values: o } = parseArgs({ options: { scale: { type: "string" }, rate: { type: "string" }, seconds: { type: "string" }, every: { type: "string" } } });
  const scale = Number(o.scale ?? 0.1);
  const rate = Number(o.rate ?? 200);
  const seconds = Number(o.seconds ?? 20);
  const every = Number(o.every ?? 1000);
  const { src, target, cleanup } = await capturedArmp(scale, "bench_lag");
  try {
    const writer = startWriter(src, seconds, rate);
    await writer.ready;
    const syncs: { applied: number; pending: number; oldestPendingSeconds: number | null; ms: number }[] = [];
    let finished = false;
    const done = writer.done.then((w) => ((finished = true), w));
    while (!finished) {
      await new Promise((r) => setTimeout(r, every));
      const s = await syncChanges(src, target);
      syncs.push({ applied: s.applied, pending: s.pending, oldestPendingSeconds: s.oldestPendingSeconds ?? null, ms: Math.round(s.seconds * 1000) });
    }
    const w = await done;
    const last = await syncChanges(src, target);
    const ages = syncs.map((s) => s.oldestPendingSeconds ?? 0).sort((a, b) => a - b);
    process.stdout.write(
      JSON.stringify(
        {
          scale, rate, seconds, everyMs: every, writerWrites: w.writes, syncs: syncs.length,
          appliedPerSync: { max: Math.max(...syncs.map((s) => s.applied)) },
          syncMs: { max: Math.max(...syncs.map((s) => s.ms)), median: syncs.map((s) => s.ms).sort((a, b) => a - b)[Math.floor(syncs.length / 2)] },
          pendingAfterSync: { max: Math.max(...syncs.map((s) => s.pending)) },
          oldestPendingSeconds: { median: ages[Math.floor(ages.length / 2)], max: ages[ages.length - 1] },
          finalSyncApplied: last.applied, finalPending: last.pending,
        },
        null,
        2,
      ) + "\n",
    );
  } finally {
    cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
