/**
 * Issue 6 number: how long the cut-over freezes the app's writes. ARMP in WAL mode, capture
 * installed, full copy, then a writer process at a steady rate while `cutover --freeze` runs;
 * repeated `--runs` times on the same file. Runs its own throwaway cluster. Shared machine: the
 * split (final sync vs verify) matters more than the absolute milliseconds.
 *
 * node dist/bench/cutover.js [--scale 0.005] [--rate 200] [--runs 3] [--seconds 4]
 * (--seconds: how long the writer runs; it must outlast the pre-freeze verify to be frozen at all)
 */
import { parseArgs } from "util";
import { cutover } from "../migrate/engine";
import { capturedArmp } from "./support/captured-armp";
import { startWriter } from "./support/steady-writer";

async function main(): Promise<void> {
  const { values: o } = parseArgs({ options: { scale: { type: "string" }, rate: { type: "string" }, runs: { type: "string" }, seconds: { type: "string" } } });
  const scale = Number(o.scale ?? 0.005);
  const rate = Number(o.rate ?? 200);
  const runs = Number(o.runs ?? 3);
  const seconds = Number(o.seconds ?? 4);
  const { src, target, cleanup } = await capturedArmp(scale, "bench_cutover");
  try {
    const results = [];
    for (let r = 0; r < runs; r++) {
      const w = startWriter(src, seconds, rate);
      await w.ready;
      await new Promise((res) => setTimeout(res, 1000));
      const c = await cutover(src, target, { freeze: true });
      const writer = await w.done;
      results.push({
        freezeMs: Math.round(c.freezeMs! * 10) / 10,
        finalSyncMs: Math.round(c.finalSync.seconds * 10000) / 10,
        finalSyncChanges: c.finalSync.changes,
        verifyMs: Math.round(c.verify.seconds * 10000) / 10,
        catchUpSyncs: c.catchUp.syncs,
        preVerifyMs: Math.round(c.preVerify!.seconds * 10000) / 10,
        preMismatched: c.preVerify!.mismatched,
        reverified: c.reverified,
        keyed: c.keyed,
        writerWrites: writer.writes,
        writerWaitsOver50ms: writer.waited,
        writerMaxWriteMs: writer.maxMs,
      });
    }
    process.stdout.write(JSON.stringify({ scale, rate, runs: results }, null, 2) + "\n");
  } finally {
    cleanup();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:cutover failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
