/**
 * Catch-up (issue 6, "Catch-up"): replays the SQLite changelog written by capture.ts into
 * PostgreSQL. The SQLite source is opened read-only; the position lives on the target in
 * `"<schema>"._armp_sync_state`, advanced in the same transaction as the rows it covers, so an
 * interrupted sync resumes exactly where the last committed batch ended.
 *
 * State-based, not statement-based: for each (table, key) changed in a batch we take the row as it
 * is now in one SQLite read snapshot and upsert it (or delete it when it is gone). Replaying a
 * change twice therefore converges to the same rows, which is what makes the copy + sync overlap
 * safe: changes the copy already saw are simply rewritten with the same values.
 *
 * Order inside a batch: deletes (children first), then upserts (parents first), with foreign keys
 * deferred to COMMIT. Every batch reads the same snapshot, so a batch can reference a parent that
 * only a later batch brings; when COMMIT fails on a foreign key the batch is merged with the next
 * one and retried (the whole snapshot is consistent if SQLite enforced its foreign keys).
 * To defer them, sync makes the target's foreign keys DEFERRABLE INITIALLY IMMEDIATE once: the
 * application sees no difference (they are still checked per statement unless it defers them).
 *
 * Tables without a primary key are keyed by rowid in the changelog, but the target has no rowid:
 * such a table is reloaded whole (DELETE + INSERT from the snapshot) in the batch that touches it.
 */
import type { Statement } from "better-sqlite3";
import type { Client } from "pg";
import { targetColumns, resetSequences, type TargetColumn } from "./copy";
import { qualified, quoteIdent, targetColumnList } from "./ddl";
import { nameSchema, namesOf } from "./names";
import { asMigrationError, jsonSafe, MigrationError } from "./errors";
import { CHANGELOG, readCapture } from "./capture";
import { introspect, quoteSqliteIdent as qi, type SourceTable } from "./introspect";
import { acquireLock } from "./lock";
import { pgErr, schemaOf, type TargetRef } from "./pg";
import { keyColumns } from "./profile";
import { mapSqliteError, openSource, type SqliteDb } from "./sqlite";
import { sourceColumnSql, toPgText, ValueError, type SqliteValue } from "./values";

export const SYNC_STATE = "_armp_sync_state";

export interface SyncOptions {
  /** Changelog entries per batch (one PostgreSQL transaction each). Defaults to 1000. */
  batchSize?: number;
  /** Called after each committed batch (progress; tests use it to simulate an interruption). */
  afterBatch?: (b: { batch: number; lastSeq: number; applied: number }) => void | Promise<void>;
  /** The renames the tables were migrated with (names.ts). */
  renames?: Record<string, string>;
}

export interface SyncReport {
  sourceId: string;
  fromSeq: number;
  toSeq: number;
  /** Changelog entries consumed. */
  changes: number;
  /** Distinct rows written: upserts + deletes (+ rows of reloaded key-less tables). */
  applied: number;
  upserts: number;
  deletes: number;
  batches: number;
  /** Changelog entries written after the snapshot this sync replayed (the lag). */
  pending: number;
  /** Age in seconds of the oldest pending entry; null when nothing is pending. */
  oldestPendingSeconds: number | null;
  tables: Record<string, { upserts: number; deletes: number }>;
  warnings: string[];
  seconds: number;
}

export interface SyncPosition {
  sourceId: string | null;
  lastSeq: number;
}

interface Change {
  tbl: string;
  op: "I" | "U" | "D";
  pk: string;
}

/** Where the target stands for this source's capture; lastSeq 0 when it never synced. */
export async function syncPosition(c: Client, schema: string, sourceId: string): Promise<number> {
  const r = await c.query<{ last_seq: string }>(`SELECT last_seq FROM ${qualified(schema, SYNC_STATE)} WHERE source_id = $1`, [sourceId]).catch((e: unknown) => {
    if (pgErr(e).code === "42P01") return { rows: [] as { last_seq: string }[] };
    throw e;
  });
  return r.rows.length ? Number(r.rows[0].last_seq) : 0;
}

async function ensureState(c: Client, schema: string, sourceId: string): Promise<number> {
  await c.query(`CREATE TABLE IF NOT EXISTS ${qualified(schema, SYNC_STATE)} (source_id text PRIMARY KEY, last_seq bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await c.query(`INSERT INTO ${qualified(schema, SYNC_STATE)} (source_id, last_seq) VALUES ($1, 0) ON CONFLICT (source_id) DO NOTHING`, [sourceId]);
  return syncPosition(c, schema, sourceId);
}

/** NOT DEFERRABLE foreign keys cannot be deferred to COMMIT; this changes only that attribute. */
async function makeForeignKeysDeferrable(c: Client, schema: string): Promise<void> {
  const r = await c.query<{ rel: string; conname: string }>(
    "SELECT x.conrelid::regclass::text AS rel, x.conname FROM pg_constraint x JOIN pg_namespace n ON n.oid = x.connamespace WHERE x.contype = 'f' AND NOT x.condeferrable AND n.nspname = $1",
    [schema],
  );
  for (const x of r.rows) await c.query(`ALTER TABLE ${x.rel} ALTER CONSTRAINT ${quoteIdent(x.conname)} DEFERRABLE INITIALLY IMMEDIATE`);
}

/** Rows to write for one table in one batch. */
interface TableWork {
  t: SourceTable;
  cols: TargetColumn[];
  upserts: string[][];
  deletes: string[][];
  reload: boolean;
}

class Replayer {
  private readonly colsCache = new Map<string, TargetColumn[]>();
  private readonly decodeKey;
  readonly warnings: string[] = [];

  constructor(
    private readonly db: SqliteDb,
    private readonly c: Client,
    private readonly schema: string,
    private readonly tables: SourceTable[],
  ) {
    this.decodeKey = db.prepare("SELECT value FROM json_each(?) ORDER BY key").raw(true).safeIntegers(true);
  }

  private async columns(t: SourceTable): Promise<TargetColumn[]> {
    let cols = this.colsCache.get(t.name);
    if (!cols) {
      cols = await targetColumns(this.c, this.schema, t);
      this.colsCache.set(t.name, cols);
    }
    return cols;
  }

  private encode(t: SourceTable, col: TargetColumn, v: SqliteValue, key: unknown[]): string | null {
    try {
      return toPgText(v, col);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      const k = jsonSafe(Object.fromEntries(keyColumns(t).map((n, i) => [n, key[i]]))) as Record<string, unknown>;
      throw new MigrationError("TYPE_MISMATCH", `${t.name}.${col.column} (${col.pgType}) at key ${JSON.stringify(k)}: ${e.message}. Fix the value in the source (sync resumes from this change) or cast the column and re-copy.`, { table: t.name, column: col.column, key: k, step: "sync" }, e);
    }
  }

  /** Latest op per (table, key) in seq order, turned into rows read from the snapshot. */
  async plan(changes: Change[]): Promise<TableWork[]> {
    const latest = new Map<string, Change>();
    for (const ch of changes) {
      const k = ch.tbl + "\u0000" + ch.pk;
      latest.delete(k); // re-insert so Map order follows the latest seq
      latest.set(k, ch);
    }
    const work = new Map<string, TableWork>();
    for (const ch of latest.values()) {
      const t = this.tables.find((x) => x.name === ch.tbl);
      if (!t) {
        const w = `changelog names table ${ch.tbl}, which no longer exists in the source; its changes were skipped (drop or re-copy it in the target)`;
        if (!this.warnings.includes(w)) this.warnings.push(w);
        continue;
      }
      let tw = work.get(t.name);
      if (!tw) {
        tw = { t, cols: await this.columns(t), upserts: [], deletes: [], reload: t.primaryKey.length === 0 };
        work.set(t.name, tw);
      }
      if (tw.reload) continue;
      const key = (this.decodeKey.all(ch.pk) as SqliteValue[][]).map((r) => r[0]);
      const row = ch.op === "D" ? undefined : this.readRow(t, tw.cols, key);
      if (row) tw.upserts.push(row.map((v, i) => this.encode(t, tw.cols[i], v, key)) as string[]);
      else tw.deletes.push(t.primaryKey.map((k, i) => this.encode(t, tw.cols.find((c) => c.column === k)!, key[i], key)) as string[]);
    }
    return this.tables.filter((t) => work.has(t.name)).map((t) => work.get(t.name)!);
  }

  private readonly rowStmts = new Map<string, Statement<unknown[]>>();

  private readRow(t: SourceTable, cols: TargetColumn[], key: SqliteValue[]): SqliteValue[] | undefined {
    let stmt = this.rowStmts.get(t.name);
    if (!stmt) {
      const where = t.primaryKey.map((k) => `${qi(k)} = ?`).join(" AND ");
      stmt = this.db.prepare(`SELECT ${cols.map((c) => sourceColumnSql(qi(c.column), c.kind)).join(", ")} FROM ${qi(t.name)} WHERE ${where}`).raw(true).safeIntegers(true);
      this.rowStmts.set(t.name, stmt);
    }
    return stmt.get(...(key as unknown[])) as SqliteValue[] | undefined;
  }

  private *allRows(t: SourceTable, cols: TargetColumn[]): Generator<(string | null)[]> {
    const it = this.db.prepare(`SELECT ${cols.map((c) => sourceColumnSql(qi(c.column), c.kind)).join(", ")} FROM ${qi(t.name)} ORDER BY rowid`).raw(true).safeIntegers(true).iterate() as IterableIterator<SqliteValue[]>;
    for (const row of it) yield row.map((v, i) => this.encode(t, cols[i], v, []));
  }

  /** Writes one batch's rows; the caller owns the transaction. Returns rows written. */
  async apply(work: TableWork[]): Promise<{ upserts: number; deletes: number; perTable: Record<string, { upserts: number; deletes: number }> }> {
    let upserts = 0;
    let deletes = 0;
    const perTable: Record<string, { upserts: number; deletes: number }> = {};
    const count = (table: string, u: number, d: number): void => {
      const p = (perTable[table] ??= { upserts: 0, deletes: 0 });
      p.upserts += u;
      p.deletes += d;
      upserts += u;
      deletes += d;
    };
    for (const w of [...work].reverse()) {
      if (w.reload) {
        const r = await this.c.query(`DELETE FROM ${qualified(this.schema, namesOf(w.t).table)}`);
        count(w.t.name, 0, r.rowCount ?? 0);
      } else if (w.deletes.length) {
        await this.runChunks(w, w.deletes, (rows, ph) => `DELETE FROM ${qualified(this.schema, namesOf(w.t).table)} WHERE (${targetColumnList(w.t, w.t.primaryKey)}) IN (${ph(rows, this.keyCols(w))})`, this.keyCols(w));
        count(w.t.name, 0, w.deletes.length);
      }
    }
    for (const w of work) {
      const insert = (rows: string[][], ph: Placeholders): string => {
        const base = `INSERT INTO ${qualified(this.schema, namesOf(w.t).table)} (${w.cols.map((c) => quoteIdent(c.target)).join(", ")}) VALUES ${ph(rows, w.cols)}`;
        if (w.reload) return base;
        const rest = w.cols.filter((c) => !w.t.primaryKey.includes(c.column));
        return `${base} ON CONFLICT (${targetColumnList(w.t, w.t.primaryKey)}) DO ${rest.length ? "UPDATE SET " + rest.map((c) => `${quoteIdent(c.target)} = EXCLUDED.${quoteIdent(c.target)}`).join(", ") : "NOTHING"}`;
      };
      if (w.reload) {
        let n = 0;
        let chunk: string[][] = [];
        for (const row of this.allRows(w.t, w.cols)) {
          chunk.push(row as string[]);
          if (chunk.length >= rowsPerStatement(w.cols.length)) {
            await this.runChunks(w, chunk, insert, w.cols);
            n += chunk.length;
            chunk = [];
          }
        }
        if (chunk.length) await this.runChunks(w, chunk, insert, w.cols);
        count(w.t.name, n + chunk.length, 0);
      } else if (w.upserts.length) {
        await this.runChunks(w, w.upserts, insert, w.cols);
        count(w.t.name, w.upserts.length, 0);
      }
    }
    return { upserts, deletes, perTable };
  }

  private keyCols(w: TableWork): TargetColumn[] {
    return w.t.primaryKey.map((k) => w.cols.find((c) => c.column === k)!);
  }

  private async runChunks(w: TableWork, rows: string[][], sql: (rows: string[][], ph: Placeholders) => string, cols: TargetColumn[]): Promise<void> {
    const per = rowsPerStatement(cols.length);
    for (let i = 0; i < rows.length; i += per) {
      const part = rows.slice(i, i + per);
      try {
        await this.c.query(sql(part, placeholders), part.flat());
      } catch (e) {
        const err = pgErr(e);
        if (err.code === "23503") throw e; // handled by the batch loop (merge with the next batch)
        throw new MigrationError("ROW_REJECTED", `PostgreSQL rejected a synced row of ${w.t.name}: ${err.message ?? String(e)}${err.detail ? ` (${err.detail})` : ""}. Fix the row in the source and run sync again; it resumes from the last committed batch.`, { table: w.t.name, pgCode: err.code, detail: err.detail, step: "sync" }, e);
      }
    }
  }
}

type Placeholders = (rows: string[][], cols: TargetColumn[]) => string;

/** ($1::int, $2::text), ... with explicit types so every parameter is parsed as its column's type. */
const placeholders: Placeholders = (rows, cols) => {
  let n = 0;
  return rows.map(() => "(" + cols.map((c) => `$${++n}::${c.pgType}`).join(", ") + ")").join(", ");
};

function rowsPerStatement(ncols: number): number {
  return Math.max(1, Math.min(500, Math.floor(30_000 / Math.max(1, ncols))));
}

/**
 * Replays changes since the target's position. Takes the migration advisory lock, so it never
 * runs while `run` is copying the same target.
 */
export async function syncChanges(sourcePath: string, target: TargetRef, opts: SyncOptions = {}): Promise<SyncReport> {
  const started = process.hrtime.bigint();
  const batchSize = opts.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new MigrationError("CONFIG_INVALID", `batchSize must be a positive integer, got ${batchSize}.`, { step: "sync" });
  const schema = schemaOf(target);
  const db = openSource(sourcePath);
  try {
    const cap = readCapture(db);
    if (!cap.installed || !cap.id) {
      throw new MigrationError("CONFIG_INVALID", `Change capture is not installed in ${sourcePath}, so there is nothing to replay. Install it before the copy (\`armp-migrate capture install --source ${sourcePath}\`), then copy and sync.`, { step: "sync", path: sourcePath });
    }
    const sourceId = cap.id;
    const lock = await acquireLock(target);
    const c = lock.client;
    try {
      const fromSeq = await ensureState(c, schema, sourceId);
      await makeForeignKeysDeferrable(c, schema);
      const report: SyncReport = { sourceId, fromSeq, toSeq: fromSeq, changes: 0, applied: 0, upserts: 0, deletes: 0, batches: 0, pending: 0, oldestPendingSeconds: null, tables: {}, warnings: [], seconds: 0 };
      const touched = new Set<string>();
      // One read snapshot for the whole replay: every batch sees the same, consistent source.
      db.exec("BEGIN");
      try {
        const sch = introspect(db);
        nameSchema(sch, opts.renames);
        const tables = sch.tables;
        const replayer = new Replayer(db, c, schema, tables);
        const maxSeq = Number((db.prepare(`SELECT coalesce(max(seq), 0) AS m FROM ${CHANGELOG}`).get() as { m: number }).m);
        const boundary = db.prepare(`SELECT seq FROM ${CHANGELOG} WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 1 OFFSET ?`).pluck(true);
        const read = db.prepare(`SELECT tbl, op, pk FROM ${CHANGELOG} WHERE seq > ? AND seq <= ? ORDER BY seq`);
        const nextEnd = (after: number): number => (boundary.get(after, maxSeq, batchSize - 1) as number | undefined) ?? maxSeq;
        let from = fromSeq;
        while (from < maxSeq) {
          let end = nextEnd(from);
          for (;;) {
            const changes = read.all(from, end) as Change[];
            const work = await replayer.plan(changes);
            await c.query("BEGIN");
            try {
              await c.query("SET CONSTRAINTS ALL DEFERRED");
              const st = await c.query<{ last_seq: string }>(`SELECT last_seq FROM ${qualified(schema, SYNC_STATE)} WHERE source_id = $1 FOR UPDATE`, [sourceId]);
              if (Number(st.rows[0].last_seq) !== from) {
                throw new MigrationError("LOCK_HELD", `Another sync advanced ${schema}.${SYNC_STATE} for this source (now at ${st.rows[0].last_seq}, expected ${from}). Run one sync at a time.`, { step: "sync" });
              }
              const done = await replayer.apply(work);
              await c.query(`UPDATE ${qualified(schema, SYNC_STATE)} SET last_seq = $2, updated_at = now() WHERE source_id = $1`, [sourceId, end]);
              await c.query("COMMIT");
              report.changes += changes.length;
              report.upserts += done.upserts;
              report.deletes += done.deletes;
              for (const [t, n] of Object.entries(done.perTable)) {
                const p = (report.tables[t] ??= { upserts: 0, deletes: 0 });
                p.upserts += n.upserts;
                p.deletes += n.deletes;
                touched.add(t);
              }
              break;
            } catch (e) {
              await c.query("ROLLBACK").catch(() => undefined);
              if (pgErr(e).code === "23503" && end < maxSeq) {
                end = nextEnd(end); // a parent this batch needs arrives in a later batch
                continue;
              }
              if (pgErr(e).code === "23503") {
                const err = pgErr(e);
                throw new MigrationError("ROW_REJECTED", `A synced row violates a foreign key in the target: ${err.message ?? ""}${err.detail ? ` (${err.detail})` : ""}. The source holds a row whose parent does not exist (SQLite does not enforce foreign keys unless the app enables them); fix it in the source and run sync again.`, { step: "sync", pgCode: err.code, detail: err.detail }, e);
              }
              throw e;
            }
          }
          report.batches++;
          report.toSeq = end;
          from = end;
          await opts.afterBatch?.({ batch: report.batches, lastSeq: end, applied: report.upserts + report.deletes });
        }
        // Identity sequences must continue past rows the app inserted with explicit ids.
        for (const t of tables) if (touched.has(t.name)) await resetSequences(c, schema, namesOf(t).table);
        report.warnings = replayer.warnings;
      } finally {
        if (db.inTransaction) db.exec("COMMIT");
      }
      const lag = db.prepare(`SELECT count(*) AS n, (julianday('now') - min(at)) * 86400.0 AS age FROM ${CHANGELOG} WHERE seq > ?`).get(report.toSeq) as { n: number; age: number | null };
      report.pending = Number(lag.n);
      report.oldestPendingSeconds = lag.age === null ? null : Math.max(0, Math.round(lag.age * 1000) / 1000);
      report.applied = report.upserts + report.deletes;
      report.seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return report;
    } finally {
      await lock.release();
    }
  } catch (e) {
    throw e instanceof MigrationError ? e : (e as { code?: string }).code?.startsWith("SQLITE") ? mapSqliteError(e, { step: "sync", path: sourcePath }) : asMigrationError(e, "sync");
  } finally {
    db.close();
  }
}
