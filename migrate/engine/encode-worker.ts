/**
 * Worker-thread side of the parallel encode (see encode-thread.ts): opens its own read-only
 * connection to the source, reads one table inside a read transaction, and hands COPY text to the
 * coordinating thread as transferred ArrayBuffers (no copy), at most `maxInFlight` chunks ahead.
 */
import { parentPort, workerData } from "worker_threads";
import type { SourceTable } from "./introspect";
import type { TargetColumn } from "./copy";
import { RowSum } from "./checksum";
import { encodeChunks, TableEncoder, type EncodeResult } from "./encode";
import { isTextSide, NativeBlockEncoder, nativeRange } from "./native";
import { openSource } from "./sqlite";
import type { WorkerJob, WorkerMessage } from "./encode-thread";

const job = workerData as WorkerJob;
const flow = new Int32Array(job.flow);
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(m, transfer);

function run(): void {
  const db = openSource(job.sourcePath);
  try {
    db.exec("BEGIN");
    try {
      const t: SourceTable = job.table;
      const cols: TargetColumn[] = job.cols;
      const sum = job.checksum ? new RowSum(job.checksum) : null;
      const enc = new TableEncoder(db, t, cols, job.keyIdx, job.keyNames, sum);
      const native = job.native ? new NativeBlockEncoder(db, job.native, enc, t.name) : null;
      const state: EncodeResult = { rows: 0, problem: null };
      const stmt = db.prepare(job.sql).raw(true).safeIntegers(true);
      const send = (chunk: Buffer): boolean => {
        // Back-pressure: wait while the coordinator still holds maxInFlight of our chunks.
        for (;;) {
          if (Atomics.load(flow, 1) !== 0) return false; // coordinator gave up on this table
          const inFlight = Atomics.load(flow, 0);
          if (inFlight < job.maxInFlight) break;
          Atomics.wait(flow, 0, inFlight, 100);
        }
        // encodeChunks gives each chunk its own ArrayBuffer at offset 0: transfer it, no copy.
        const ab = chunk.buffer as ArrayBuffer;
        Atomics.add(flow, 0, 1);
        post({ type: "chunk", data: ab, length: chunk.length, rows: state.rows, text: isTextSide(chunk) }, [ab]);
        return true;
      };
      const pass = (it: IterableIterator<unknown[]>): boolean => {
        try {
          for (const chunk of encodeChunks(it, enc, state)) if (!send(chunk)) return false;
        } finally {
          it.return?.();
        }
        return state.problem === null;
      };
      /** One rowid block [from, to), by the extension or by iterating the JavaScript statement. */
      const passBlock = (from: bigint, to: bigint): boolean => {
        if (!native) return pass(stmt.iterate(from, to) as IterableIterator<unknown[]>);
        for (const chunk of native.chunks(from, to, state)) if (!send(chunk)) return false;
        return state.problem === null;
      };
      const b = job.blocks;
      if (b) {
        // Our share of the rowid blocks, each ended with a marker so the coordinator keeps block order.
        const base = BigInt(b.base);
        const width = BigInt(b.width);
        for (let i = b.part; i < b.count; i += b.parts) {
          const from = base + BigInt(i) * width;
          if (!passBlock(from, from + width)) break;
          post({ type: "block", block: i });
        }
      } else if (native && job.native) {
        const range = nativeRange(db, job.native);
        if (range) passBlock(range.from, range.to);
      } else pass(stmt.iterate() as IterableIterator<unknown[]>);
      if (Atomics.load(flow, 1) !== 0) return; // coordinator gave up: it wants no result
      const p = state.problem;
      post({
        type: "end",
        rows: state.rows,
        problem: p ? { name: "MigrationError", code: p.code, message: p.message, meta: p.meta, cause: p.cause instanceof Error ? p.cause.message : undefined } : null,
        sum: native ? native.sum(sum) : sum ? sum.finish() : null,
      });
    } finally {
      db.exec("COMMIT");
    }
  } finally {
    db.close();
  }
}

try {
  run();
} catch (e) {
  const err = e as { code?: unknown; message?: unknown; meta?: unknown; stack?: unknown };
  post({ type: "error", error: { name: e instanceof Error ? e.constructor.name : "Error", code: typeof err.code === "string" ? err.code : undefined, message: String(err.message ?? e), meta: err.meta as Record<string, unknown> | undefined } });
}
