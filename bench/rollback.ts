/**
 * Issue 6 part 4 numbers, quick: rollback replay throughput — PostgreSQL writes made after the
 * cut-over (updates of existing rows + inserts + deletes on ARMP's publication table) replayed
 * into the SQLite file, in rows per second. Runs its own throwaway cluster; the machine is shared,
 * so read the order of magnitude.
 *
 * node dist/bench/rollback.js [--scale 0.05] [--writes 20000]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { parseArgs } from "util";
import { installTargetCapture, rollbackChanges, runMigration, verify } from "../migrate/engine";
import { generateArmp } from "./armp-data";
import { startCluster, stopCluster, type ClusterInfo } from "./support/pg-cluster";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { scale: { type: "string" }, writes: { type: "string" } } });
  const scale = Number(values.scale ?? "0.05");
  const writes = Number(values.writes ?? "20000");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-rbbench-"));
  const src = path.join(dir, "armp.sqlite");
  generateArmp(src, { scale });
  let cluster: ClusterInfo | undefined;
  try {
    cluster = await startCluster();
    const target = { url: cluster.adminUrl };
    await runMigration(src, target);
    await installTargetCapture(target, { sourcePath: src });
    const c = new Client({ connectionString: cluster.adminUrl });
    await c.connect();
    // A third each: updates of existing rows, new rows, deletes of rows nobody references.
    const third = Math.floor(writes / 3);
    await c.query(`UPDATE publication SET citation_count = citation_count + 1, title = title || ' ✓' WHERE id IN (SELECT id FROM publication ORDER BY id LIMIT ${third})`);
    await c.query(`INSERT INTO publication (doi, title, year, organization_id) SELECT 'bench/' || g, 'bench ' || g, 2026, (SELECT min(id) FROM organization) FROM generate_series(1, ${third}) g`);
    await c.query(`DELETE FROM publication WHERE id IN (SELECT p.id FROM publication p WHERE NOT EXISTS (SELECT 1 FROM publication_author a WHERE a.publication_id = p.id) AND NOT EXISTS (SELECT 1 FROM project_publication x WHERE x.publication_id = p.id) AND p.doi NOT LIKE 'bench/%' ORDER BY p.id DESC LIMIT ${third})`);
    await c.end();
    const r = await rollbackChanges(target, src);
    const v = await verify(src, target);
    process.stdout.write(JSON.stringify({ scale, changes: r.changes, applied: r.applied, upserts: r.upserts, deletes: r.deletes, seconds: Number(r.seconds.toFixed(3)), rowsPerSecond: Math.round(r.applied / r.seconds), verifyIdentical: v.ok }, null, 2) + "\n");
  } finally {
    if (cluster) stopCluster(cluster);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
