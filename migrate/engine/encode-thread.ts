/**
 * Where a table's COPY text comes from: this thread (small tables, WAL sources, ts-node/jest runs
 * without the compiled worker) or a worker thread (encode-worker.ts), so that with --jobs 2 both
 * cores convert rows instead of one (encoding is the copy's most expensive part).
 *
 * Snapshot (one consistent snapshot for every table): the coordinator opens a read
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
import { combineSums, type ChecksumAlgo, type RangeSum, type RowSum } from "./checksum";
import type { TargetColumn } from "./copy";
import { encodeChunks, type EncodeResult, type TableEncoder } from "./encode";
import { markTextSide, nativeRange, type NativeBlockEncoder, type NativePlan } from "./native";
import { MigrationError, type ErrorCode, type ErrorMeta } from "./errors";
import { quoteSqliteIdent as qi, type SourceTable } from "./introspect";
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
const WORKER_LIMITS = { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 16 };

export interface WorkerJob {
  sourcePath: string;
  table: SourceTable;
  cols: TargetColumn[];
  sql: string;
  keyIdx: number[];
  keyNames: string[];
  /** Row hash for the source sum, or null when no sum is kept. */
  checksum: ChecksumAlgo | null;
  /** The armp_copy extension converts the rows (native.ts); null: JavaScript only. */
  native: NativePlan | null;
  /** Read only these rowid blocks (`sql` then takes the block's [from, to) rowids). */
  blocks?: RowidBlocks & { part: number; parts: number };
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
  | { type: "chunk"; data: ArrayBuffer; length: number; rows: number; /** COPY text of a binary table (markTextSide) */ text: boolean }
  | { type: "block"; block: number }
  | { type: "end"; rows: number; problem: SerializedError | null; sum: RangeSum | null }
  | { type: "error"; error: SerializedError };

export interface ChunkSource {
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>;
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

/** The native path on this thread: the whole range of the table (rowids, or the first key column). */
export function nativeInThreadChunks(db: SqliteDb, plan: NativePlan, enc: NativeBlockEncoder, sum: RowSum | null): ChunkSource {
  const state: EncodeResult = { rows: 0, problem: null };
  const range = nativeRange(db, plan);
  return {
    chunks: range ? enc.chunks(range.from, range.to, state) : [],
    rows: () => state.rows,
    release: () => undefined,
    result: () => ({ rows: state.rows, problem: state.problem, sum: enc.sum(sum) }),
    close: async () => undefined,
  };
}

function revive(e: SerializedError): Error {
  if (e.name === "MigrationError" && e.code) {
    return new MigrationError(e.code as ErrorCode, e.message, (e.meta ?? {}) as ErrorMeta, e.cause === undefined ? undefined : new Error(e.cause));
  }
  const err = Object.assign(new Error(e.message), { code: e.code });
  return e.code?.startsWith("SQLITE") ? mapSqliteError(err, { step: "copy", table: typeof e.meta?.table === "string" ? e.meta.table : undefined }) : err;
}

/** One encode worker and the messages it has sent that nobody has taken yet. */
class WorkerChannel {
  readonly flow = new Int32Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;
  private readonly queue: WorkerMessage[] = [];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private exited = false;
  rowsSoFar = 0;

  constructor(private readonly job: Omit<WorkerJob, "flow" | "maxInFlight">, maxInFlight: number) {
    this.worker = new Worker(WORKER_FILE, { workerData: { ...job, flow: this.flow.buffer, maxInFlight } satisfies WorkerJob, resourceLimits: WORKER_LIMITS });
    this.worker.on("message", (m: WorkerMessage) => {
      this.queue.push(m);
      this.poke();
    });
    this.worker.on("error", (e) => {
      this.failure ??= e;
      this.poke();
    });
    this.worker.on("exit", () => {
      this.exited = true;
      this.poke();
    });
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** The next message; a worker error is thrown (revived as a MigrationError where it was one). */
  async next(): Promise<Exclude<WorkerMessage, { type: "error" }>> {
    while (this.queue.length === 0) {
      if (this.failure) throw this.failure;
      if (this.exited) throw new MigrationError("INTERNAL", `The encode worker for table ${this.job.table.name} stopped without finishing. Re-run; if it repeats, set ARMP_MIGRATE_ENCODE_THREADS=0 and report it.`, { table: this.job.table.name, step: "copy" });
      await new Promise<void>((r) => (this.wake = r));
    }
    const m = this.queue.shift()!;
    if (m.type === "error") throw revive(m.error);
    if (m.type === "chunk") this.rowsSoFar = m.rows;
    return m;
  }

  release(): void {
    Atomics.sub(this.flow, 0, 1);
    Atomics.notify(this.flow, 0);
  }

  async close(): Promise<void> {
    Atomics.store(this.flow, 1, 1);
    Atomics.notify(this.flow, 0);
    if (!this.exited) await this.worker.terminate();
  }
}

type EndMessage = Extract<WorkerMessage, { type: "end" }>;

function noResult(table: string): MigrationError {
  return new MigrationError("INTERNAL", `The encode worker for table ${table} gave no result.`, { table, step: "copy" });
}

export function workerChunks(job: Omit<WorkerJob, "flow" | "maxInFlight">): ChunkSource {
  const ch = new WorkerChannel(job, MAX_IN_FLIGHT);
  let end: EndMessage | null = null;
  async function* chunks(): AsyncGenerator<Buffer, void, void> {
    for (;;) {
      const m = await ch.next();
      if (m.type === "chunk") {
        const b = Buffer.from(m.data, 0, m.length);
        yield m.text ? markTextSide(b) : b;
      } else if (m.type === "end") {
        end = m;
        return;
      }
    }
  }
  let closed = false;
  return {
    chunks: chunks(),
    rows: () => ch.rowsSoFar,
    release: () => ch.release(),
    result: () => {
      if (!end) throw noResult(job.table.name);
      return { rows: end.rows, problem: end.problem ? (revive(end.problem) as MigrationError) : null, sum: end.sum };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await ch.close();
    },
  };
}

/** Big rowid tables are read by SPLIT_WORKERS workers at once, in blocks of about BLOCK_ROWS rows. */
export const SPLIT_WORKERS = 2;
const BLOCK_ROWS = 2048;
/** A split worker may run a whole block (~3 chunks of ARMP publication) ahead while its partner's block is sent. */
const SPLIT_IN_FLIGHT = 8;

/** Tables with at least this many rows are split (ARMP_MIGRATE_SPLIT_MIN_ROWS overrides; 0 = never). */
export function splitMinRows(): number {
  const env = process.env.ARMP_MIGRATE_SPLIT_MIN_ROWS;
  const n = env === undefined || env === "" ? 200_000 : Number(env);
  return Number.isFinite(n) && n > 0 ? n : Infinity;
}

export interface RowidBlocks {
  /** First rowid of block 0 and the rowid width of each block, as decimal strings (bigint). */
  base: string;
  width: string;
  count: number;
}

/** Blocks of consecutive rowids covering the table (read in the caller's snapshot). */
export function rowidBlocks(db: SqliteDb, t: SourceTable): RowidBlocks | null {
  const r = db.prepare(`SELECT min(rowid) AS lo, max(rowid) AS hi, count(*) AS n FROM ${qi(t.name)}`).safeIntegers(true).get() as { lo: bigint | null; hi: bigint | null; n: bigint };
  if (r.lo === null || r.hi === null) return null;
  const count = Math.max(1, Math.ceil(Number(r.n) / BLOCK_ROWS));
  const span = r.hi - r.lo + 1n;
  const width = (span + BigInt(count) - 1n) / BigInt(count);
  return { base: r.lo.toString(), width: width.toString(), count: Number((span + width - 1n) / width) };
}

/**
 * Several workers encode one table: worker w reads blocks w, w + n, w + 2n, ... and the chunks are
 * handed to the COPY stream in block order, so PostgreSQL receives the rows in rowid order exactly
 * as from one reader (COPY line numbers still map to source rows, see rejectedRow). The source sum
 * is the sum of the workers' sums (row sums are order-independent).
 */
export function splitWorkerChunks(job: Omit<WorkerJob, "flow" | "maxInFlight" | "blocks">, blocks: RowidBlocks, n: number): ChunkSource {
  const chans = Array.from({ length: n }, (_, part) => new WorkerChannel({ ...job, blocks: { ...blocks, part, parts: n } }, SPLIT_IN_FLIGHT));
  const ends: (EndMessage | null)[] = chans.map(() => null);
  let current: WorkerChannel | null = null;
  async function* chunks(): AsyncGenerator<Buffer, void, void> {
    for (let b = 0; b < blocks.count; b++) {
      const w = b % n;
      if (ends[w]) return; // that worker stopped early (a row problem): nothing after it may be sent
      current = chans[w];
      for (;;) {
        const m = await chans[w].next();
        if (m.type === "chunk") yield Buffer.from(m.data, 0, m.length);
        else if (m.type === "block") {
          if (m.block !== b) throw new MigrationError("INTERNAL", `Encode worker ${w} for table ${job.table.name} finished block ${m.block} while block ${b} was expected.`, { table: job.table.name, step: "copy" });
          break;
        } else {
          ends[w] = m;
          if (m.problem) return;
          throw new MigrationError("INTERNAL", `Encode worker ${w} for table ${job.table.name} ended before block ${b}.`, { table: job.table.name, step: "copy" });
        }
      }
    }
    for (let w = 0; w < n; w++) {
      while (!ends[w]) {
        const m = await chans[w].next();
        if (m.type === "end") ends[w] = m;
        else throw new MigrationError("INTERNAL", `Encode worker ${w} for table ${job.table.name} sent data after its last block.`, { table: job.table.name, step: "copy" });
      }
    }
  }
  let closed = false;
  return {
    chunks: chunks(),
    rows: () => chans.reduce((a, c) => a + c.rowsSoFar, 0),
    release: () => current?.release(),
    result: () => {
      const problem = ends.find((e) => e?.problem)?.problem;
      if (problem) return { rows: ends.reduce((a, e) => a + (e?.rows ?? 0), 0), problem: revive(problem) as MigrationError, sum: null };
      if (ends.some((e) => e === null)) throw noResult(job.table.name);
      const done = ends as EndMessage[];
      const sums = done.map((e) => e.sum);
      return { rows: done.reduce((a, e) => a + e.rows, 0), problem: null, sum: sums.some((x) => x === null) ? null : sums.reduce((a, x) => combineSums(a!, x!)) };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all(chans.map((c) => c.close()));
    },
  };
}
