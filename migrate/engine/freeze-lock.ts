/**
 * The cut-over's write freeze with a hard upper bound (issue 15). A worker thread opens its own
 * read-write connection to the SQLite file and runs `BEGIN IMMEDIATE` — the write lock (RESERVED
 * in rollback-journal mode, the WAL write lock in WAL mode) taken before any read in that
 * transaction, so it never upgrades a read lock and never writes a page; it ends with ROLLBACK.
 *
 * The worker, not the main thread, enforces the bound: it sleeps on a shared word until the main
 * thread asks for the release, or until `maxMs` has passed, whichever comes first — so a main
 * thread stalled by synchronous SQLite work or a loaded machine cannot stretch the freeze. The
 * word is the commit point: the main thread may treat the gate as checked under the lock only if
 * its compare-and-swap 0 → 1 (release requested) wins; if the worker's 0 → 2 (expired) won first,
 * writes may have committed meanwhile and the cut-over must give up.
 */
import { Worker } from "worker_threads";
import { MigrationError } from "./errors";
import { mapSqliteError } from "./sqlite";

const HELD = 0;
const RELEASE_REQUESTED = 1;
const EXPIRED = 2;

// Plain JS evaluated in the worker; better-sqlite3 is resolved by the caller and passed in.
const WORKER = `(function () {
const { workerData, parentPort } = require("worker_threads");
const Database = require(workerData.sqlite);
const st = new Int32Array(workerData.state);
let db;
try {
  db = new Database(workerData.path, { fileMustExist: true, timeout: workerData.lockTimeoutMs });
  db.exec("BEGIN IMMEDIATE");
} catch (e) {
  try { if (db) db.close(); } catch (_) {}
  parentPort.postMessage({ error: { message: String(e && e.message), code: e && e.code } });
  return;
}
const t0 = process.hrtime.bigint();
const left = () => workerData.maxMs - Number(process.hrtime.bigint() - t0) / 1e6;
parentPort.postMessage({ locked: true });
while (Atomics.load(st, 0) === ${HELD} && left() > 0) Atomics.wait(st, 0, ${HELD}, left());
Atomics.compareExchange(st, 0, ${HELD}, ${EXPIRED});
let err = null;
try { db.exec("ROLLBACK"); } catch (e) { err = String(e && e.message); }
const heldMs = Number(process.hrtime.bigint() - t0) / 1e6;
try { db.close(); } catch (_) {}
parentPort.postMessage({ released: true, heldMs, expired: Atomics.load(st, 0) === ${EXPIRED}, err });
})();
`;

export interface FreezeLock {
  /**
   * Ends the freeze. `checked` is true when the lock was still held at the moment of the call (the
   * work done under it counts); false when the bound expired first. heldMs: lock acquired → released.
   */
  release(): Promise<{ checked: boolean; heldMs: number }>;
  /** True once the worker released the lock on its own because maxMs passed. */
  expired(): boolean;
}

interface Msg {
  locked?: true;
  released?: true;
  heldMs?: number;
  expired?: boolean;
  err?: string | null;
  error?: { message: string; code?: string };
}

/** Takes the source's write lock in a worker; resolves once it is held. */
export async function freezeWrites(sourcePath: string, opts: { maxMs: number; lockTimeoutMs: number }): Promise<FreezeLock> {
  const state = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER, { eval: true, workerData: { sqlite: require.resolve("better-sqlite3"), path: sourcePath, state: state.buffer, maxMs: opts.maxMs, lockTimeoutMs: opts.lockTimeoutMs } });
  const messages: Msg[] = [];
  const waiters: ((m: Msg) => void)[] = [];
  const next = (): Promise<Msg> => new Promise((res) => (messages.length ? res(messages.shift()!) : waiters.push(res)));
  worker.on("message", (m: Msg) => (waiters.length ? waiters.shift()!(m) : messages.push(m)));
  worker.on("error", (e) => {
    const m: Msg = { error: { message: e.message } };
    return waiters.length ? waiters.shift()!(m) : messages.push(m);
  });
  const first = await next();
  if (first.error) {
    await worker.terminate();
    const e = Object.assign(new Error(first.error.message), { code: first.error.code });
    throw mapSqliteError(e, { step: "cutover freeze", path: sourcePath });
  }
  let released: Promise<{ checked: boolean; heldMs: number }> | undefined;
  return {
    expired: () => Atomics.load(state, 0) === EXPIRED,
    release: () =>
      (released ??= (async () => {
        const checked = Atomics.compareExchange(state, 0, HELD, RELEASE_REQUESTED) === HELD;
        Atomics.notify(state, 0);
        const m = await next();
        await worker.terminate();
        if (m.error || m.err) {
          throw new MigrationError("SOURCE_LOCKED", `Releasing the cut-over's write lock on ${sourcePath} failed (${m.error?.message ?? m.err}). The connection was closed, which releases it; check that the app writes again.`, { step: "cutover freeze", path: sourcePath });
        }
        return { checked: checked && !m.expired, heldMs: m.heldMs! };
      })()),
  };
}
