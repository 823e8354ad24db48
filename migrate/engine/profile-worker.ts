/**
 * Worker-thread side of the parallel profile (profile-thread.ts): its own read-only connection to
 * the source with the armp_copy extension loaded; takes parts from the shared counter until none
 * is left (or the coordinator stops), writes each part's counts into the shared results, then
 * sets the part's state. A part it could not read is marked FAILED and the coordinator reads it.
 */
import { workerData } from "worker_threads";
import type { Statement } from "better-sqlite3";
import { DONE, FAILED, NEXT, STATE, STOP, TAKEN, storeCounts, type ProfileWorkerData } from "./profile-thread";
import type { SqliteDb } from "./sqlite";

const job = workerData as ProfileWorkerData;
const ctl = new Int32Array(job.control);
const res = new BigInt64Array(job.results);

function open(): SqliteDb | null {
  let db: SqliteDb | null = null;
  try {
    // Required here so that a failure to load it only leaves this worker's parts to the coordinator.
    const { openSource } = require("./sqlite") as typeof import("./sqlite");
    db = openSource(job.sourcePath);
    db.loadExtension(job.extension);
    return db;
  } catch {
    db?.close();
    return null;
  }
}

function run(): void {
  if (Atomics.load(ctl, STOP) !== 0) return;
  const db = open();
  if (!db) return;
  try {
    const stmts = new Map<string, Statement>();
    while (Atomics.load(ctl, STOP) === 0) {
      const i = Atomics.add(ctl, NEXT, 1);
      if (i >= job.parts.length) return;
      Atomics.store(ctl, STATE + i, TAKEN);
      const p = job.parts[i];
      let state = DONE;
      try {
        let stmt = stmts.get(p.sql);
        if (!stmt) stmts.set(p.sql, (stmt = db.prepare(p.sql)));
        const r = (p.range ? stmt.get(p.spec, p.range[0], p.range[1]) : stmt.get(p.spec)) as { p: string | null };
        storeCounts(res, p.offset, p.columns, r.p);
      } catch {
        state = FAILED;
      }
      Atomics.store(ctl, STATE + i, state);
      Atomics.notify(ctl, STATE + i);
      if (state === FAILED) return;
    }
  } finally {
    db.close();
  }
}

run();
