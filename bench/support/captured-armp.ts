/**
 * The starting point of the issue 6 benchmarks: a generated ARMP file in WAL mode with change
 * capture installed, copied into a fresh database of a throwaway cluster.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Database from "better-sqlite3";
import { Client } from "pg";
import { installCapture, runMigration, type TargetRef } from "../../migrate/engine";
import { generateArmp } from "../armp-data";
import { startCluster, stopCluster } from "./pg-cluster";

export interface CapturedArmp {
  src: string;
  target: TargetRef;
  /** Stops the cluster and removes the files. */
  cleanup(): void;
}

export async function capturedArmp(scale: number, database: string): Promise<CapturedArmp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `armp-${database}-`));
  const src = path.join(dir, "armp.sqlite");
  const cleanupDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
  let cluster: Awaited<ReturnType<typeof startCluster>> | undefined;
  try {
    generateArmp(src, { scale });
    const db = new Database(src);
    db.pragma("journal_mode = WAL"); // the copy's read snapshot must not block the app's writers
    db.close();
    installCapture(src);
    cluster = await startCluster();
    const admin = new Client({ connectionString: cluster.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const target = { url: cluster.adminUrl.replace(/\/postgres$/, `/${database}`) };
    await runMigration(src, target, { jobs: 2 });
    const started = cluster;
    return { src, target, cleanup: () => (stopCluster(started), cleanupDir()) };
  } catch (e) {
    if (cluster) stopCluster(cluster);
    cleanupDir();
    throw e;
  }
}
