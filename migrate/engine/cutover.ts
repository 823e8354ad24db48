/**
 * Gated cut-over (issue 6, "Cut-over"): the app may be switched to PostgreSQL only when the capture
 * is drained, verification passes and identity sequences are past max. This module checks that
 * gate; switching the app's environment is the caller's job (the stack orders it after the
 * migration resource, the CLI prints the verdict).
 *
 * Optional write freeze: a second, read-write connection to the SQLite file runs `BEGIN IMMEDIATE`,
 * which takes the write lock (RESERVED in rollback-journal mode, the WAL write lock in WAL mode)
 * and writes nothing; it ends with ROLLBACK, so the file is unchanged. While it is held the app's
 * writers wait on their busy_timeout (or get SQLITE_BUSY) but readers carry on — in both journal
 * modes a RESERVED/WAL-write lock still admits readers — so the final sync and verify read the
 * frozen source through their own read-only connections. Nothing can be written between the final
 * sync and the verify, which is what makes "drained" and "identical" true at the same moment.
 * A catch-up sync runs before the freeze so the frozen window only drains the tail.
 *
 * Verification is split the same way, because a full verify is a full scan of both sides (4.6 s at
 * ARMP x1, far over the 1 s freeze target). Before the freeze every table is verified in full,
 * after noting P, the position the catch-up synced to. Inside it, after the final sync, a table
 * with changelog entries after P is checked by key: row counts on both sides plus the row hashes
 * of just the keys logged after P (a few thousand at most, instead of 150k rows). That suffices
 * because a key with no entry after P was not written in SQLite since P (capture logs every
 * write) and no sync after P wrote it in PostgreSQL (syncs only write logged keys), so its
 * pre-freeze verdict still holds. A pre-freeze mismatch is accepted into the keyed check only when
 * verify listed every differing key (fewer than its cap) and each is a key logged after P — the
 * pending tail the writer made while the verify started; anything else (a differing key with no
 * later write, sequences behind, a table capture does not cover or without a primary key) is
 * verified again in full, as before. Tables with no entry after P need nothing: they matched and
 * nothing could change them. What this cannot see is a write to PostgreSQL by someone else
 * between the two verifies; the app does not write there before the switch.
 *
 * Writes the app attempted during the freeze commit to SQLite once the lock is released (they were
 * waiting, not rejected). Capture still logs them, so keep capture installed and run `sync` again
 * after the app has been switched; the report says the freeze is over, not that SQLite is retired.
 */
import { CHANGELOG, readCapture } from "./capture";
import { introspect } from "./introspect";
import { MigrationError } from "./errors";
import { syncChanges, type SyncReport } from "./sync";
import { MAX_DIFFERING_KEYS, verify, verifyKeys, type VerifyReport, type VerifyTableReport } from "./verify";
import { freezeWrites } from "./freeze-lock";
import { withSource } from "./sqlite";
import type { TargetRef } from "./pg";

export interface CutoverOptions {
  /** Hold SQLite's write lock during the final sync + verify (measured as freezeMs). */
  freeze?: boolean;
  /** Changelog entries per sync transaction (passed to syncChanges). */
  batchSize?: number;
  /** The renames the tables were migrated with (names.ts). */
  renames?: Record<string, string>;
  /** How long to wait for the app's current write transaction before giving up on the freeze. */
  lockTimeoutMs?: number;
  /** Upper bound on the freeze (lock held), enforced by the lock holder itself; default 1000. */
  maxFreezeMs?: number;
  /** Freeze attempts before giving up with CUTOVER_FREEZE_EXCEEDED; default 3. */
  freezeAttempts?: number;
  /** Pause between attempts (ms); default 500. */
  retryDelayMs?: number;
  /**
   * Runs while the write lock is held, after the gate passed and before the release: the place to
   * switch the app. Tests use it to prove writes cannot commit during the freeze.
   */
  duringFreeze?: () => Promise<void>;
  /**
   * Rows per chunk of the pre-freeze verify (and of the verify without --freeze): each chunk is one
   * short read of the source, so the app's commits never wait for the whole verify; default 5000.
   */
  verifyChunkRows?: number;
  /** Runs after the pre-freeze verify, before the lock is taken (tests: a write after P). */
  beforeFreeze?: () => Promise<void>;
  /** Runs inside the freeze after the final sync, before the check (tests: tamper the target). */
  afterFinalSync?: () => Promise<void>;
}

export interface CutoverPhase {
  syncs: number;
  applied: number;
  seconds: number;
}

export interface CutoverReport {
  ok: true;
  frozen: boolean;
  /** Milliseconds from write lock acquired to released; null without --freeze. */
  freezeMs: number | null;
  /** The bound the freeze ran under, and the attempt that passed (null/0 without --freeze). */
  maxFreezeMs: number | null;
  attempts: number;
  /** Sync passes before the freeze (or before the final check without one). */
  catchUp: CutoverPhase;
  /** The last sync (inside the freeze when frozen); its pending is 0 when the gate passed. */
  finalSync: SyncReport;
  /** Every table's verdict; with a freeze, re-verified tables carry their in-freeze result. */
  verify: VerifyReport;
  /**
   * Frozen only: the full verify before the freeze — its time, the tables it saw differ, the
   * key-range chunks it read (each one short read of the source) and the syncs run between them.
   */
  preVerify: { seconds: number; mismatched: string[]; chunks: number; syncs: number } | null;
  /** Tables verified in full inside the freeze (mismatched before it and not explained, or not keyable). */
  reverified: string[];
  /** Tables checked by key inside the freeze: the keys logged after the pre-verify position. */
  keyed: { table: string; keys: number }[];
  seconds: number;
}

/** Catch-up passes before the final check: enough to reach a steady small tail under a writer. */
const CATCH_UP_PASSES = 3;
const DEFAULT_LOCK_TIMEOUT_MS = 5000;
/** The freeze's upper bound (issue 15): the app's writers need a busy_timeout above it. */
export const DEFAULT_MAX_FREEZE_MS = 1000;
const DEFAULT_FREEZE_ATTEMPTS = 3;
const DEFAULT_RETRY_DELAY_MS = 500;
/** Drain until at most this many changelog entries are pending before taking the lock. */
const DRAIN_TAIL = 50;
const DRAIN_PASSES = 4;
/** Rows per pre-freeze verify chunk: one chunk is one read of the source (ms at most, at ARMP x1). */
export const DEFAULT_VERIFY_CHUNK_ROWS = 5000;
/** Between verify chunks, sync the writer's tail at most this often (a mismatching chunk always syncs first). */
const SYNC_BETWEEN_CHUNKS_MS = 200;

const ms = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e6;

export async function cutover(sourcePath: string, target: TargetRef, opts: CutoverOptions = {}): Promise<CutoverReport> {
  const started = process.hrtime.bigint();
  const catchUp: CutoverPhase = { syncs: 0, applied: 0, seconds: 0 };
  let last: SyncReport;
  do {
    last = await syncChanges(sourcePath, target, { batchSize: opts.batchSize, renames: opts.renames });
    catchUp.syncs++;
    catchUp.applied += last.applied;
  } while (last.pending > 0 && catchUp.syncs < CATCH_UP_PASSES);
  catchUp.seconds = ms(started) / 1000;

  if (!opts.freeze) {
    // Without a freeze the catch-up's last pass is the final one; the app may still be writing,
    // in which case pending or the verify below says so and the gate stays shut.
    const v = await verify(sourcePath, target, { renames: opts.renames, chunkRows: opts.verifyChunkRows ?? DEFAULT_VERIFY_CHUNK_ROWS });
    gate(sourcePath, last, v, false);
    return { ok: true, frozen: false, freezeMs: null, maxFreezeMs: null, attempts: 0, catchUp, finalSync: last, verify: v, preVerify: null, reverified: [], keyed: [], seconds: ms(started) / 1000 };
  }

  // P is where the target stands (the catch-up's last sync); every row that may differ from the
  // verify below without being broken has a changelog entry after it.
  const sinceSeq = last.toSeq;
  // Chunked (issue 15): in rollback-journal mode one read transaction over the whole verify would
  // make the app's commits wait for all of it. Syncs between chunks keep the tail small; they
  // write only keys logged after P, so the keyed check inside the freeze still covers them.
  const preSync = { syncs: 0, at: process.hrtime.bigint() };
  const syncBetween = async (why: "next" | "recheck"): Promise<void> => {
    if (why === "next" && ms(preSync.at) < SYNC_BETWEEN_CHUNKS_MS) return;
    const s = await syncChanges(sourcePath, target, { batchSize: opts.batchSize, renames: opts.renames });
    preSync.syncs++;
    preSync.at = process.hrtime.bigint();
    catchUp.applied += s.applied;
  };
  const pre = await verify(sourcePath, target, { renames: opts.renames, chunkRows: opts.verifyChunkRows ?? DEFAULT_VERIFY_CHUNK_ROWS, betweenChunks: syncBetween });
  await opts.beforeFreeze?.();
  const maxFreezeMs = opts.maxFreezeMs ?? DEFAULT_MAX_FREEZE_MS;
  const attempts = opts.freezeAttempts ?? DEFAULT_FREEZE_ATTEMPTS;
  if (!(maxFreezeMs > 0) || !Number.isInteger(attempts) || attempts < 1) {
    throw new MigrationError("CONFIG_INVALID", `maxFreezeMs must be > 0 and freezeAttempts a positive integer (got ${maxFreezeMs}, ${attempts}).`, { step: "cutover" });
  }
  const gaveUp: { attempt: number; heldMs: number; phase: string; tail: number }[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    // Drain outside the lock: the verify above took a while under the writer, so sync again until
    // the tail is small; the freeze then only replays the last few entries. Syncs after P only
    // write keys logged after P, so the keyed argument below still holds.
    const drain = await drainTail(sourcePath, target, opts);
    catchUp.syncs += drain.syncs;
    catchUp.applied += drain.applied;
    catchUp.seconds = ms(started) / 1000;
    const r = await frozenCheck(sourcePath, target, opts, pre, sinceSeq, maxFreezeMs);
    if ("report" in r) {
      const preVerify = { seconds: pre.seconds, mismatched: pre.tables.filter((t) => !t.match || !t.sequenceOk).map((t) => t.table), chunks: pre.chunks ?? 1, syncs: preSync.syncs };
      return { ok: true, frozen: true, freezeMs: r.heldMs, maxFreezeMs, attempts: attempt, catchUp, ...r.report, preVerify, seconds: ms(started) / 1000 };
    }
    gaveUp.push({ attempt, heldMs: Math.round(r.heldMs * 10) / 10, phase: r.phase, tail: drain.pending });
    if (attempt < attempts) await new Promise((res) => setTimeout(res, opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS));
  }
  throw new MigrationError(
    "CUTOVER_FREEZE_EXCEEDED",
    `Cut-over gave up for ${sourcePath}: the final sync and check did not fit in the ${maxFreezeMs} ms freeze bound in ${attempts} attempt(s) (${gaveUp.map((g) => `attempt ${g.attempt}: released after ${g.heldMs} ms during ${g.phase}, tail ${g.tail} entries`).join("; ")}). The write lock was released each time and nothing was lost: the app's writes waited and then committed, and capture logged them. The app was not switched. Retry later (at lower load), or raise --max-freeze-ms (keep the app's busy_timeout above it).`,
    { step: "cutover", maxFreezeMs, attempts: gaveUp },
  );
}

/** Syncs until at most DRAIN_TAIL entries are pending (or DRAIN_PASSES syncs). */
async function drainTail(sourcePath: string, target: TargetRef, opts: CutoverOptions): Promise<{ syncs: number; applied: number; pending: number }> {
  const out = { syncs: 0, applied: 0, pending: 0 };
  do {
    const s = await syncChanges(sourcePath, target, { batchSize: opts.batchSize, renames: opts.renames });
    out.syncs++;
    out.applied += s.applied;
    out.pending = s.pending;
  } while (out.pending > DRAIN_TAIL && out.syncs < DRAIN_PASSES);
  return out;
}

/** Thrown inside the freeze when the lock holder's bound expired: stop the work, give up. */
class FreezeExpired extends Error {}

type Checked = Pick<CutoverReport, "finalSync" | "verify" | "reverified" | "keyed">;

/**
 * One attempt: lock, final sync, keyed check (and full re-verify where needed), gate, release.
 * Returns the report, or the phase the bound expired in (the lock is then already released).
 * A CUTOVER_BLOCKED found while the lock was still held is thrown (after the release).
 */
async function frozenCheck(
  sourcePath: string,
  target: TargetRef,
  opts: CutoverOptions,
  pre: VerifyReport,
  sinceSeq: number,
  maxFreezeMs: number,
): Promise<{ report: Checked; heldMs: number } | { phase: string; heldMs: number }> {
  const lock = await freezeWrites(sourcePath, { maxMs: maxFreezeMs, lockTimeoutMs: opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS });
  let phase = "final sync";
  const step = (name: string): void => {
    if (lock.expired()) throw new FreezeExpired(phase);
    phase = name;
  };
  let report: Checked | undefined;
  let failure: unknown;
  try {
    const finalSync = await syncChanges(sourcePath, target, { batchSize: opts.batchSize, renames: opts.renames, afterBatch: () => step("final sync") });
    step("keyed check");
    await opts.afterFinalSync?.();
    const { captured, changed, withPk } = withSource(sourcePath, (db) => {
      const changed = new Map<string, string[]>();
      for (const r of db.prepare(`SELECT DISTINCT tbl, pk FROM ${CHANGELOG} WHERE seq > ?`).all(sinceSeq) as { tbl: string; pk: string }[]) {
        const list = changed.get(r.tbl) ?? [];
        list.push(r.pk);
        changed.set(r.tbl, list);
      }
      // Tables without a primary key are logged by rowid, which the target does not have.
      const withPk = new Set(introspect(db).tables.filter((t) => t.primaryKey.length > 0).map((t) => t.name));
      return { captured: new Set(readCapture(db).tables), changed, withPk };
    });
    const keyable = (t: VerifyTableReport): boolean => captured.has(t.table) && t.sequenceOk && (t.match || t.differingKeys.length < MAX_DIFFERING_KEYS);
    const byKey = new Map(pre.tables.filter((t) => keyable(t) && changed.has(t.table) && withPk.has(t.table)).map((t) => [t.table, changed.get(t.table)!]));
    const k = byKey.size ? await verifyKeys(sourcePath, target, byKey, opts.renames) : { tables: [], seconds: 0 };
    step("full re-verify");
    // A pre-freeze difference is explained only if the key was written after P (so it was checked now).
    const explained = new Set(
      k.tables
        .filter((x) => {
          const p = pre.tables.find((t) => t.table === x.table)!;
          return p.match || (p.differingKeys.length > 0 && p.differingKeys.every((key) => x.keys.includes(key)));
        })
        .map((x) => x.table),
    );
    const keyedReports: VerifyTableReport[] = k.tables.filter((x) => explained.has(x.table)).map(({ keysChecked: _n, keys: _k, ...r }) => r);
    const keyed = k.tables.filter((x) => explained.has(x.table)).map((x) => ({ table: x.table, keys: x.keysChecked }));
    const reverified = pre.tables.filter((t) => !explained.has(t.table) && (!t.match || !t.sequenceOk || changed.has(t.table) || !captured.has(t.table))).map((t) => t.table);
    const again = reverified.length ? await verify(sourcePath, target, { tables: reverified, renames: opts.renames }) : { tables: [], seconds: 0 };
    step("gate");
    const tables = pre.tables.map((t) => keyedReports.find((x) => x.table === t.table) ?? again.tables.find((x) => x.table === t.table) ?? t);
    const v: VerifyReport = { ok: tables.every((t) => t.match && t.sequenceOk), tables, seconds: k.seconds + again.seconds };
    gate(sourcePath, finalSync, v, true);
    step("switch (duringFreeze)");
    await opts.duringFreeze?.();
    step("release");
    report = { finalSync, verify: v, reverified, keyed };
  } catch (e) {
    failure = e;
  }
  const { checked, heldMs } = await lock.release();
  // Expired: the app may have written after the bound, so whatever was found (even a mismatch)
  // does not describe a frozen file. Give up this attempt.
  if (!checked || failure instanceof FreezeExpired) return { phase, heldMs };
  if (failure !== undefined) throw failure;
  return { report: report!, heldMs };
}

/** Throws CUTOVER_BLOCKED naming everything that keeps the gate shut. */
function gate(sourcePath: string, s: SyncReport, v: VerifyReport, frozen: boolean): void {
  const reasons: string[] = [];
  if (s.pending > 0) reasons.push(`${s.pending} captured change(s) still pending (oldest ${s.oldestPendingSeconds ?? 0} s old)`);
  const mismatched = v.tables.filter((t) => !t.match).map((t) => ({ table: t.table, sourceRows: t.sourceRows, targetRows: t.targetRows, differingKeys: t.differingKeys }));
  for (const m of mismatched) reasons.push(`table ${m.table} differs (source ${m.sourceRows} rows, target ${m.targetRows}${m.differingKeys.length ? `; keys ${m.differingKeys.join(" ")}` : ""})`);
  const sequencesBehind = v.tables.filter((t) => !t.sequenceOk).map((t) => t.table);
  if (sequencesBehind.length) reasons.push(`identity sequences behind max(id) in ${sequencesBehind.join(", ")}`);
  if (reasons.length === 0) return;
  const next = frozen
    ? "Writes were frozen, so these differences are not the app's in-flight writes: the target was changed outside the migration or a row did not survive the copy. Fix the rows named (or reload the table with `armp-migrate run --replace`), run `armp-migrate sync`, and retry the cut-over. The app was not switched and SQLite is writable again."
    : "The app is probably still writing: retry with --freeze (holds SQLite's write lock for the final sync and verify) or stop the writers first. If the differences persist, fix the rows named or reload the table with `armp-migrate run --replace`. The app was not switched.";
  throw new MigrationError("CUTOVER_BLOCKED", `Cut-over blocked for ${sourcePath}: ${reasons.join("; ")}. ${next}`, { step: "cutover", pending: s.pending, mismatched, sequencesBehind, frozen });
}
