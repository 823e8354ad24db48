/**
 * Where a table's COPY text comes from: this thread (small tables, WAL sources, ts-node/jest runs
 * without the compiled worker) or a worker thread (encode-worker.ts), so that with --jobs 2 both
 * cores convert rows instead of one (issue 2 "Performance": encoding alone was ~2x the ceiling).
 *
 * Snapshot (issue 2: one consistent snapshot for every table): the coordinator opens a read
 * transaction and reads from it before any worker starts, and holds it until every table is
 * copied. In rollback-journal mode that SHARED lock keeps any writer from committing (a commit
 * needs EXCLUSIVE), so the file cannot change until the copy ends and a worker's own read
 * transaction sees exactly the coordinator's snapshot. A writer holding PENDING makes the worker's
 * BEGIN wait and then fail with SOURCE_LOCKED, never read different data. WAL mode lets writers
 * commit beside readers and gives each connection its own snapshot, so WAL sources are encoded on
 * the coordinator's connection only (canUseEncodeWorkers).
 */
import * as fs from "fs";
import * as path from "path";
import { Worker } from "worker_threads";
import type { Statement } from "better-sqlite3";
import type { ChecksumAlgo, RangeSum, RowSum } from "./checksum";
import type { TargetColumn } from "./copy";
import { encodeChunks, TableEncoder, type EncodeResult } from "./encode";
import { MigrationError, type ErrorCode, type ErrorMeta } from "./errors";
import type { SourceTable } from "./introspect";
import { mapSqliteError, type SqliteDb } from "./sqlite";

/** Tables smaller than this are not worth a thread start (~50 ms) and stay on the coordinator. */
export const WORKER_MIN_ROWS = 20_000;
/** Chunks (~256 KB each) a worker may be ahead of the COPY stream: bounds memory per table. */
const MAX_IN_FLIGHT = 4;
const WORKER_FILE = path.join(__dirname, "encode-worker.js");
/**
 * A worker streams (at most MAX_IN_FLIGHT chunks live), so a small heap is enough; without a cap V8
 * let each worker's old space grow with garbage and the scale-10 bench peaked at 320 MB RSS (issue 2
 * allows 300 MB). Young space too: two default-sized ones alone cost ~60 MB RSS.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 16 };

export interface WorkerJob {
  sourcePath: string;
  table: SourceTable;
  cols: TargetColumn[];
  sql: string;
  keyIdx: number[];
  keyNames: string[];
  /** Row hash for the source sum, or null when no sum is kept. */
  checksum: ChecksumAlgo | null;
  /** Int32Array view: [0] chunks in flight, [1] abort flag. */
  flow: SharedArrayBuffer;
  maxInFlight: number;
}

interface SerializedError {
  name: string;
  code?: string;
  message: string;
  meta?: Record<string, unknown>;
  cause?: string;
}

export type WorkerMessage =
  | { type: "chunk"; data: ArrayBuffer; rows: number }
  | { type: "end"; rows: number; problem: SerializedError | null; sum: RangeSum | null }
  | { type: "error"; error: SerializedError };

export interface ChunkSource {
  chunks: AsyncIterable<string | Buffer> | Iterable<string | Buffer>;
  /** Rows encoded so far (for progress). */
  rows(): number;
  /** Called once a chunk has been handed to the COPY stream (and drained if it asked to). */
  release(): void;
  /** Valid after `chunks` is exhausted. */
  result(): { rows: number; problem: MigrationError | null; sum: RangeSum | null };
  /** Stops the producer early (error paths) and frees it; safe to call twice. */
  close(): Promise<void>;
}

/** Compiled worker present (not under ts-jest), not disabled, and the source is not in WAL mode. */
export function canUseEncodeWorkers(db: SqliteDb): boolean {
  if (process.env.ARMP_MIGRATE_ENCODE_THREADS === "0" || !fs.existsSync(WORKER_FILE)) return false;
  return String(db.pragma("journal_mode", { simple: true })).toLowerCase() !== "wal";
}

export function inThreadChunks(stmt: Statement, enc: TableEncoder, sum: RowSum | null): ChunkSource {
  const state: EncodeResult = { rows: 0, problem: null };
  const it = stmt.iterate() as IterableIterator<unknown[]>;
  return {
    chunks: encodeChunks(it, enc, state),
    rows: () => state.rows,
    release: () => undefined,
    result: () => ({ rows: state.rows, problem: state.problem, sum: sum ? sum.finish() : null }),
    close: async () => void it.return?.(),
  };
}

function revive(e: SerializedError): Error {
  if (e.name === "MigrationError" && e.code) {
    return new MigrationError(e.code as ErrorCode, e.message, (e.meta ?? {}) as ErrorMeta, e.cause === undefined ? undefined : new Error(e.cause));
  }
  const err = Object.assign(new Error(e.message), { code: e.code });
  return e.code?.startsWith("SQLITE") ? mapSqliteError(err, { step: "copy", table: typeof e.meta?.table === "string" ? e.meta.table : undefined }) : err;
}

export function workerChunks(job: Omit<WorkerJob, "flow" | "maxInFlight">): ChunkSource {
  const flow = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(WORKER_FILE, { workerData: { ...job, flow: flow.buffer, maxInFlight: MAX_IN_FLIGHT } satisfies WorkerJob, resourceLimits: WORKER_LIMITS });
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  let exited = false;
  let end: Extract<WorkerMessage, { type: "end" }> | null = null;
  let rowsSoFar = 0;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  worker.on("message", (m: WorkerMessage) => {
    queue.push(m);
    poke();
  });
  worker.on("error", (e) => {
    failure ??= e;
    poke();
  });
  worker.on("exit", () => {
    exited = true;
    poke();
  });
  async function* chunks(): AsyncGenerator<Buffer, void, void> {
    for (;;) {
      while (queue.length === 0) {
        if (failure) throw failure;
        if (exited) throw new MigrationError("INTERNAL", `The encode worker for table ${job.table.name} stopped without finishing. Re-run; if it repeats, set ARMP_MIGRATE_ENCODE_THREADS=0 and report it.`, { table: job.table.name, step: "copy" });
        await new Promise<void>((r) => (wake = r));
      }
      const m = queue.shift()!;
      if (m.type === "chunk") {
        rowsSoFar = m.rows;
        yield Buffer.from(m.data);
      }
      else if (m.type === "error") throw revive(m.error);
      else {
        end = m;
        return;
      }
    }
  }
  let closed = false;
  return {
    chunks: chunks(),
    rows: () => rowsSoFar,
    release: () => {
      Atomics.sub(flow, 0, 1);
      Atomics.notify(flow, 0);
    },
    result: () => {
      if (!end) throw new MigrationError("INTERNAL", `The encode worker for table ${job.table.name} gave no result.`, { table: job.table.name, step: "copy" });
      return { rows: end.rows, problem: end.problem ? (revive(end.problem) as MigrationError) : null, sum: end.sum };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      Atomics.store(flow, 1, 1);
      Atomics.notify(flow, 0);
      if (!exited) await worker.terminate();
    },
  };
}
