/**
 * Issue 6 number: replication lag under a steady writer. ARMP in WAL mode with capture installed
 * and copied; a writer process at `--rate` writes/s for `--seconds` while `armp-migrate sync` runs
 * every `--every` ms; prints, per sync, what it applied, what was still pending afterwards and the
 * age of the oldest pending change. Own throwaway cluster; no assertions.
 *
 * node dist/bench/sync-lag.js [--scale 0.1] [--rate 200] [--seconds 20] [--every 1000]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Database from "better-sqlite3";
import { Client } from "pg";
import { parseArgs } from "util";
import { installCapture, runMigration, syncChanges } from "../migrate/engine";
import { generateArmp } from "./armp-data";
import { startCluster, stopCluster, type ClusterInfo } from "./support/pg-cluster";
import { startWriter } from "./support/steady-writer";

async function main(): Promise<void> {
  const { values: o } = parseArgs({ options: { scale: { type: "string" }, rate: { type: "string" }, seconds: { type: "string" }, every: { type: "string" } } });
  const scale = Number(o.scale ?? 0.1);
  const rate = Number(o.rate ?? 200);
  const seconds = Number(o.seconds ?? 20);
  const every = Number(o.every ?? 1000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-bench-lag-"));
  let cluster: ClusterInfo | undefined;
  try {
    const src = path.join(dir, "armp.sqlite");
    generateArmp(src, { scale });
    const db = new Database(src);
    db.pragma("journal_mode = WAL");
    db.close();
    installCapture(src);
    cluster = await startCluster();
    const admin = new Client({ connectionString: cluster.adminUrl });
    await admin.connect();
    await admin.query("CREATE DATABASE bench_lag");
    await admin.end();
    const target = { url: cluster.adminUrl.replace(/\/postgres$/, "/bench_lag") };
    await runMigration(src, target, { jobs: 2 });
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
    if (cluster) stopCluster(cluster);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
