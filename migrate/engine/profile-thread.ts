/**
 * The profile scans (decide.ts: one armp_profile aggregate per table, before any DDL) of all tables
 * at once, so that the profile step costs little wall time with --jobs >= 2 (issue 13: "bench:copy
 * unchanged or better"). armp_profile (armp_copy.c) only adds counts, so a rowid table can be read
 * in rowid ranges and the ranges' counts added: the sum is the full scan's result exactly.
 *
 * The scans become parts (a whole table, or one rowid range of a big one), largest first. `jobs`
 * threads take them from one shared counter: this thread and jobs - 1 workers (profile-worker.ts),
 * each worker with its own read-only connection and the extension loaded. decideTypes is
 * synchronous (plan, the Pulumi program and the schema step call it), so this thread scans parts
 * itself and then waits with Atomics.wait; workers write their counts into a SharedArrayBuffer
 * and set the part's state. A part a worker could not read (its connection failed, a lock) is read
 * here instead: the answer is the same either way, only slower.
 *
 * Snapshot: this thread holds a read transaction (and has read) for the whole scan. In
 * rollback-journal mode that SHARED lock keeps any writer from committing, so every worker reads
 * the same file (as encode-thread.ts argues for the copy). In WAL mode a worker's statement may see
 * a later commit than this thread; the single-threaded profile reads each table in its own
 * statement too, so it never gave one snapshot across tables either.
 */
import * as fs from "fs";
import * as path from "path";
import { Worker } from "worker_threads";
import type { Statement } from "better-sqlite3";
import type { SqliteDb } from "./sqlite";

/** Counts armp_profile returns per column (PROF_N in armp_copy.c). */
export const PROFILE_COUNTS = 12;

/** One table's aggregate: `SELECT armp_profile(spec, columns...) FROM table`. */
export interface ProfileScan {
  /** The table, quoted for SQLite. */
  table: string;
  /** The columns, quoted for SQLite. */
  columns: string[];
  spec: string;
  /** The table's rowid is real (a rowid table, no column shadows it): rowid ranges partition it. */
  byRowid: boolean;
}

/** One statement of the parallel scan: a whole table, or the rows with rowid in [from, to]. */
export interface ProfilePart {
  scan: number;
  sql: string;
  spec: string;
  range: [bigint, bigint] | null;
  /** Where its counts go in the results array (columns * PROFILE_COUNTS of them). */
  offset: number;
  columns: number;
  /** Sort key: rowids times columns; Infinity when unknown (scanned first). */
  weight: number;
}

export interface ProfileWorkerData {
  sourcePath: string;
  extension: string;
  parts: ProfilePart[];
  /** Int32Array: [NEXT] next part to take, [STOP] set once nothing more is wanted, [STATE + i] part i. */
  control: SharedArrayBuffer;
  /** BigInt64Array of every part's counts. */
  results: SharedArrayBuffer;
}

export const NEXT = 0;
export const STOP = 1;
export const STATE = 2;
export const TAKEN = 1;
export const DONE = 2;
export const FAILED = 3;

/**
 * Knobs: `splitRows` rowids per part of a big table (ARMP_MIGRATE_PROFILE_SPLIT_ROWS overrides),
 * `minBytes` below which a file is read on this thread alone (a worker start costs ~50-100 ms of
 * CPU), `maxParts` per table, `giveUpMs` how long this thread waits for a part a worker took
 * before reading it itself (a worker that died), and for tests `mainScans` (false: only workers
 * take parts) and `workerFile`.
 */
export const profileTuning = {
  splitRows: 200_000,
  minBytes: 8 * 1024 * 1024,
  maxParts: 16,
  giveUpMs: 120_000,
  mainScans: true,
  workerFile: path.join(__dirname, "profile-worker.js"),
};

/** What the last parallel scan did (tests assert that workers read parts). */
export const lastParallelScan = { parts: 0, workers: 0, byWorkers: 0, readAgain: 0 };

function splitRows(): number {
  const env = process.env.ARMP_MIGRATE_PROFILE_SPLIT_ROWS;
  const n = env === undefined || env === "" ? profileTuning.splitRows : Number(env);
  return Number.isFinite(n) && n >= 1 ? Math.floor(n) : profileTuning.splitRows;
}

/** The statement of a whole-table scan (also the single-threaded profile's). */
export function scanSql(s: ProfileScan): string {
  return `SELECT armp_profile(?, ${s.columns.join(", ")}) AS p FROM ${s.table}`;
}

/** armp_profile's text ("c,c,...;c,c,..."; "" for no rows) as `columns` groups of counts. */
export function parseCounts(text: string | null, columns: number): number[][] {
  const groups = (text ?? "").split(";");
  return Array.from({ length: columns }, (_, i) => {
    const v = (groups[i] ?? "").split(",").map(Number);
    return Array.from({ length: PROFILE_COUNTS }, (_, k) => v[k] || 0);
  });
}

/** Writes armp_profile's text into results[offset ...] (zeros for no rows). */
export function storeCounts(results: BigInt64Array, offset: number, columns: number, text: string | null): void {
  const groups = (text ?? "").split(";");
  for (let i = 0; i < columns; i++) {
    const v = (groups[i] ?? "").split(",");
    for (let k = 0; k < PROFILE_COUNTS; k++) results[offset + i * PROFILE_COUNTS + k] = BigInt(v[k] || 0);
  }
}

/**
 * Whether the scans may use worker threads: more than one job, the compiled worker exists (not
 * under ts-jest), threads are not switched off, and the source is a file big enough to be worth it.
 */
export function canProfileInThreads(jobs: number, sourcePath: string | null, db: SqliteDb): sourcePath is string {
  if (jobs < 2 || process.env.ARMP_MIGRATE_PROFILE_THREADS === "0" || sourcePath === null || db.memory) return false;
  if (!fs.existsSync(profileTuning.workerFile)) return false;
  try {
    return fs.statSync(sourcePath).size >= profileTuning.minBytes;
  } catch {
    return false;
  }
}

/** The parts of every scan, largest first: big rowid tables in ranges of about splitRows rowids. */
export function planParts(db: SqliteDb, scans: ProfileScan[]): ProfilePart[] {
  const parts: ProfilePart[] = [];
  let offset = 0;
  const per = BigInt(splitRows());
  scans.forEach((s, scan) => {
    const columns = s.columns.length;
    const sql = scanSql(s);
    const add = (range: [bigint, bigint] | null, weight: number): void => {
      parts.push({ scan, sql: range ? `${sql} WHERE rowid >= ? AND rowid <= ?` : sql, spec: s.spec, range, offset, columns, weight: weight * (columns + 1) });
      offset += columns * PROFILE_COUNTS;
    };
    if (!s.byRowid) return add(null, Infinity);
    const r = db.prepare(`SELECT min(rowid) AS lo, max(rowid) AS hi FROM ${s.table}`).safeIntegers(true).get() as { lo: bigint | null; hi: bigint | null };
    if (r.lo === null || r.hi === null) return add(null, 0);
    const span = r.hi - r.lo + 1n;
    let n = (span + per - 1n) / per;
    if (n > BigInt(profileTuning.maxParts)) n = BigInt(profileTuning.maxParts);
    if (n <= 1n) return add(null, Number(span));
    for (let i = 0n; i < n; i++) {
      const from = r.lo + (span * i) / n;
      const to = i === n - 1n ? r.hi : r.lo + (span * (i + 1n)) / n - 1n;
      add([from, to], Number(to - from + 1n));
    }
  });
  // Stable: equal weights keep the schema's order.
  return parts.map((p, i) => ({ p, i })).sort((a, b) => b.p.weight - a.p.weight || a.i - b.i).map((x) => x.p);
}

export type ScanResult = { counts: number[][] } | { error: unknown };

/**
 * Every scan's counts (or the error reading it raised on this thread), read by `jobs` threads.
 * The caller has checked canProfileInThreads and loaded the extension (`extension`) into `db`.
 */
export function parallelScans(db: SqliteDb, sourcePath: string, extension: string, scans: ProfileScan[], jobs: number): ScanResult[] {
  const began = !db.inTransaction;
  if (began) db.exec("BEGIN");
  try {
    // Read before any worker opens the file: from here on this connection holds its snapshot.
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    const parts = planParts(db, scans);
    return runParts(db, sourcePath, extension, scans, parts, Math.min(jobs, parts.length));
  } finally {
    if (began && db.inTransaction) db.exec("COMMIT");
  }
}

function runParts(db: SqliteDb, sourcePath: string, extension: string, scans: ProfileScan[], parts: ProfilePart[], threads: number): ScanResult[] {
  const n = parts.length;
  const control = new SharedArrayBuffer(4 * (STATE + n));
  const ctl = new Int32Array(control);
  const size = parts.reduce((a, p) => a + p.columns * PROFILE_COUNTS, 0);
  const results = new SharedArrayBuffer(8 * Math.max(1, size));
  const res = new BigInt64Array(results);
  const data: ProfileWorkerData = { sourcePath, extension, parts, control, results };
  const workers = Math.max(0, threads - (profileTuning.mainScans ? 1 : 0));
  for (let w = 0; w < workers; w++) {
    try {
      const worker = new Worker(profileTuning.workerFile, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
      // A worker that fails only leaves its parts to this thread; its error event must not be unhandled.
      worker.on("error", () => undefined);
      worker.unref();
    } catch {
      // No worker: this thread reads more parts, the answer is the same.
    }
  }
  const stmts = new Map<string, Statement>();
  const local = new Map<number, number[] | { error: unknown }>();
  const readHere = (i: number): void => {
    const p = parts[i];
    try {
      let stmt = stmts.get(p.sql);
      if (!stmt) stmts.set(p.sql, (stmt = db.prepare(p.sql)));
      const r = (p.range ? stmt.get(p.spec, p.range[0], p.range[1]) : stmt.get(p.spec)) as { p: string | null };
      local.set(i, parseCounts(r.p, p.columns).flat());
    } catch (e) {
      local.set(i, { error: e });
    }
  };
  try {
    if (profileTuning.mainScans) {
      for (let i = Atomics.add(ctl, NEXT, 1); i < n; i = Atomics.add(ctl, NEXT, 1)) {
        Atomics.store(ctl, STATE + i, TAKEN);
        readHere(i);
      }
    }
    // Wait for the parts workers took; read here what a worker could not.
    const idle = Date.now();
    let byWorkers = 0;
    let readAgain = 0;
    for (let i = 0; i < n; i++) {
      if (local.has(i)) continue;
      for (;;) {
        const st = Atomics.load(ctl, STATE + i);
        if (st === DONE) {
          byWorkers++;
          break;
        }
        if (st === FAILED || Date.now() - idle > profileTuning.giveUpMs) {
          Atomics.store(ctl, STOP, 1);
          readAgain++;
          readHere(i);
          break;
        }
        Atomics.wait(ctl, STATE + i, st, 50);
      }
    }
    Object.assign(lastParallelScan, { parts: n, workers, byWorkers, readAgain });
  } finally {
    Atomics.store(ctl, STOP, 1);
  }
  // Add the parts' counts per scan; the first error (in rowid order within a scan) stands for the scan.
  const sums: ScanResult[] = scans.map((s) => ({ counts: Array.from({ length: s.columns.length }, () => new Array<number>(PROFILE_COUNTS).fill(0)) }));
  const order = parts.map((p, i) => ({ p, i })).sort((a, b) => a.p.scan - b.p.scan || (a.p.range && b.p.range ? (a.p.range[0] < b.p.range[0] ? -1 : 1) : 0));
  for (const { p, i } of order) {
    const sum = sums[p.scan];
    if ("error" in sum) continue;
    const mine = local.get(i);
    if (mine && !Array.isArray(mine)) {
      sums[p.scan] = mine;
      continue;
    }
    for (let c = 0; c < p.columns; c++) {
      for (let k = 0; k < PROFILE_COUNTS; k++) {
        const j = c * PROFILE_COUNTS + k;
        sum.counts[c][k] += mine ? mine[j] : Number(res[p.offset + j]);
      }
    }
  }
  return sums;
}
