/**
 * Issue 6 numbers, quick: (1) capture overhead per SQLite write — the same single-row
 * INSERT/UPDATE/DELETE transactions timed on an ARMP file without and with the capture triggers;
 * (2) sync throughput — changelog entries replayed into PostgreSQL per second.
 * Runs its own throwaway cluster. Machine is shared: read the ratio, not the absolute numbers.
 *
 * node dist/bench/capture.js [--writes 3000] [--scale 0.05] [--batch 1000]
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

/** One write per transaction, as a web app does: insert, update, delete in rotation. Returns µs/write. */
function timeWrites(file: string, writes: number, tag: string, insertsOnly = false): number {
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const ins = db.prepare("INSERT INTO publication (doi, title, year, organization_id) VALUES (?, ?, 2024, 1)");
    const upd = db.prepare("UPDATE publication SET citation_count = citation_count + 1 WHERE id = ?");
    const del = db.prepare("DELETE FROM publication WHERE id = ?");
    const ids: number[] = [];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < writes; i++) {
      if (insertsOnly || i % 3 === 0) ids.push(Number(ins.run(`10.bench/${tag}/${i}`, `bench ${i}`).lastInsertRowid));
      else if (i % 3 === 1) upd.run(ids[ids.length - 1]);
      else del.run(ids.shift());
    }
    return Number(process.hrtime.bigint() - t0) / 1e3 / writes;
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const { values: o } = parseArgs({ options: { writes: { type: "string" }, scale: { type: "string" }, batch: { type: "string" } } });
  const writes = Number(o.writes ?? 3000);
  const scale = Number(o.scale ?? 0.05);
  const batchSize = Number(o.batch ?? 1000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-bench-capture-"));
  let cluster: ClusterInfo | undefined;
  try {
    const plain = path.join(dir, "plain.sqlite");
    const captured = path.join(dir, "captured.sqlite");
    generateArmp(plain, { scale });
    fs.copyFileSync(plain, captured);
    installCapture(captured);
    // Warm both files once, then alternate so neither side gets the cache advantage.
    timeWrites(plain, 300, "warm");
    timeWrites(captured, 300, "warm");
    const without: number[] = [];
    const withT: number[] = [];
    for (let r = 0; r < 3; r++) {
      without.push(timeWrites(plain, writes, `p${r}`));
      withT.push(timeWrites(captured, writes, `c${r}`));
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1];

    cluster = await startCluster();
    const admin = new Client({ host: "127.0.0.1", port: cluster.port, user: cluster.superuser, password: cluster.password, database: "postgres" });
    await admin.connect();
    await admin.query("CREATE DATABASE bench_capture");
    await admin.end();
    const url = `postgres://${cluster.superuser}:${encodeURIComponent(cluster.password)}@127.0.0.1:${cluster.port}/bench_capture`;
    const syncSrc = path.join(dir, "sync.sqlite");
    generateArmp(syncSrc, { scale });
    installCapture(syncSrc);
    await runMigration(syncSrc, { url }, { jobs: 2 });
    timeWrites(syncSrc, writes * 3, "sync");
    // Mixed insert/update/delete of the same rows collapses in a batch (latest op per key) ...
    const s = await syncChanges(syncSrc, { url }, { batchSize });
    // ... distinct inserted rows do not: every entry is one upsert.
    timeWrites(syncSrc, writes * 3, "sync2", true);
    const s2 = await syncChanges(syncSrc, { url }, { batchSize });
    const out = {
      writes,
      scale,
      usPerWriteWithout: Math.round(med(without) * 10) / 10,
      usPerWriteWith: Math.round(med(withT) * 10) / 10,
      overheadUsPerWrite: Math.round((med(withT) - med(without)) * 10) / 10,
      syncMixed: { changes: s.changes, applied: s.applied, batches: s.batches, seconds: Math.round(s.seconds * 1000) / 1000, changesPerSecond: Math.round(s.changes / s.seconds) },
      syncInserts: { changes: s2.changes, applied: s2.applied, batches: s2.batches, seconds: Math.round(s2.seconds * 1000) / 1000, changesPerSecond: Math.round(s2.changes / s2.seconds) },
    };
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  } finally {
    if (cluster) stopCluster(cluster);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:capture failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
