/**
 * Rollback without loss (issue 6, "Rollback without loss"): after the cut-over the application
 * writes to PostgreSQL; pointing it back at SQLite would lose those writes. Capture on the
 * PostgreSQL side records them, and rollback replays them into the SQLite file.
 *
 * Capture: `"<schema>"._armp_pg_changelog(seq, tbl, op, pk, at)`, filled by one AFTER row trigger
 * `_armp_pg_capture` per migrated table calling one plpgsql function. The key is the table's
 * PRIMARY KEY as a jsonb array (`to_jsonb(NEW) -> column` per key column, in key order); a key
 * change is logged as D(old) + I(new). Tables without a primary key log a NULL key and are
 * reloaded whole on rollback (SQLite's rowid does not exist in PostgreSQL).
 *
 * Replay is state-based like sync.ts: per (table, key) only the latest entry counts, and the row
 * is read as it is now (one REPEATABLE READ snapshot, which also fixes the changelog head), then
 * upserted into SQLite or deleted there. Replaying twice converges, so the position
 * (`_armp_pg_rollback_state`) can be advanced after the SQLite COMMIT: a crash in between only
 * replays the same rows again.
 *
 * This is the second (and last) place the project writes to the SQLite file, and only on an
 * explicit rollback. It refuses (ROLLBACK_UNSAFE, nothing written) when the replay would lose
 * writes: SQLite was written after the cut-over (the SQLite changelog has entries sync never
 * applied), a changed table does not exist in SQLite, or a PostgreSQL value has no SQLite form.
 *
 * Values go back to the storage SQLite uses for them: bigint/integer -> INTEGER, double -> REAL,
 * boolean -> 0/1, timestamp -> 'YYYY-MM-DD HH:MM:SS[.ffffff]' (timestamptz: UTC, no suffix),
 * date -> 'YYYY-MM-DD', json/jsonb/text -> TEXT, bytea -> BLOB. numeric is bound as its exact
 * decimal text and the column's declared affinity decides its storage, exactly as it would for the
 * application's own writes (NUMERIC affinity stores it as INTEGER/REAL when that is lossless, else
 * TEXT); a REAL-affinity column would round it, so it is only written when the double is exact.
 */
import * as fs from "fs";
import Database from "better-sqlite3";
import type { Client } from "pg";
import { readCapture, CHANGELOG as SQLITE_CHANGELOG } from "./capture";
import { targetColumns, type TargetColumn } from "./copy";
import { qualified, quoteIdent, quoteLiteral } from "./ddl";
import { nameSchema, namesOf } from "./names";
import { asMigrationError, MigrationError } from "./errors";
import { fingerprintData, fingerprintDb, type DataFingerprint } from "./fingerprint";
import { introspect, quoteSqliteIdent as qi, type SourceTable } from "./introspect";
import { acquireLock } from "./lock";
import { inTransaction, schemaOf, withTarget, type TargetRef } from "./pg";
import { BUSY_TIMEOUT_MS, mapSqliteError, withSource, type SqliteDb } from "./sqlite";
import { syncPosition, SYNC_STATE } from "./sync";
import { sqliteAffinity } from "./typemap";
import { normaliseDecimal } from "./values";

export const PG_CHANGELOG = "_armp_pg_changelog";
export const PG_ROLLBACK_STATE = "_armp_pg_rollback_state";
const PG_FUNCTION = "_armp_pg_capture";
const PG_TRIGGER = "_armp_pg_capture";
/** How long rollback waits for open PostgreSQL write transactions before freezing writes. */
const LOCK_TIMEOUT_MS = 30_000;

export interface TargetCaptureStatus {
  installed: boolean;
  tables: string[];
  /** Highest PostgreSQL changelog seq (0 when empty). */
  lastSeq: number;
  /** Position rollback has replayed up to. */
  appliedSeq: number;
}

export interface RollbackReport {
  fromSeq: number;
  toSeq: number;
  /** Changelog entries consumed. */
  changes: number;
  /** Distinct rows written to SQLite: upserts + deletes (+ rows of reloaded key-less tables). */
  applied: number;
  upserts: number;
  deletes: number;
  /** Writes that could not be replayed. Always 0: rollback refuses instead of losing any. */
  lost: 0;
  /** Entries written to PostgreSQL after the snapshot this rollback replayed (stop the app first). */
  pending: number;
  tables: Record<string, { upserts: number; deletes: number }>;
  seconds: number;
}

export interface RollbackOptions {
  /** Called after the SQLite COMMIT, before the position is recorded (tests simulate a crash). */
  afterSqliteCommit?: () => void | Promise<void>;
  /** The renames the tables were migrated with (names.ts). */
  renames?: Record<string, string>;
}

/** Base tables of the schema, with their PRIMARY KEY columns in key order ([] when none). */
async function targetTables(c: Client, schema: string): Promise<Map<string, string[]>> {
  const r = await c.query<{ relname: string; key: string[] | null }>(
    `SELECT k.relname, (SELECT array_agg(a.attname::text ORDER BY x.i) FROM pg_index ix CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY x(attnum, i) JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = x.attnum WHERE ix.indrelid = k.oid AND ix.indisprimary) AS key
       FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
      WHERE n.nspname = $1 AND k.relkind IN ('r','p') AND k.relname NOT LIKE '\\_armp\\_%' ORDER BY k.relname`,
    [schema],
  );
  return new Map(r.rows.map((x) => [x.relname, x.key ?? []]));
}

function functionSql(schema: string): string {
  const log = qualified(schema, PG_CHANGELOG);
  // One function for every table: key column names come as trigger arguments, so a table added
  // later needs only its trigger, and jsonb keeps each key value's type for the cast back.
  return `CREATE OR REPLACE FUNCTION ${qualified(schema, PG_FUNCTION)}() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE n jsonb; o jsonb; kn jsonb := '[]'; ko jsonb := '[]'; i int;
BEGIN
  IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
  IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
  IF TG_NARGS = 0 THEN
    INSERT INTO ${log} (tbl, op, pk) VALUES (TG_TABLE_NAME, substr(TG_OP, 1, 1), NULL);
    RETURN NULL;
  END IF;
  FOR i IN 0 .. TG_NARGS - 1 LOOP
    IF n IS NOT NULL THEN kn := kn || jsonb_build_array(n -> TG_ARGV[i]); END IF;
    IF o IS NOT NULL THEN ko := ko || jsonb_build_array(o -> TG_ARGV[i]); END IF;
  END LOOP;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ${log} (tbl, op, pk) VALUES (TG_TABLE_NAME, 'I', kn);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO ${log} (tbl, op, pk) VALUES (TG_TABLE_NAME, 'D', ko);
  ELSIF kn IS DISTINCT FROM ko THEN
    INSERT INTO ${log} (tbl, op, pk) VALUES (TG_TABLE_NAME, 'D', ko), (TG_TABLE_NAME, 'I', kn);
  ELSE
    INSERT INTO ${log} (tbl, op, pk) VALUES (TG_TABLE_NAME, 'U', kn);
  END IF;
  RETURN NULL;
END $f$`;
}

async function captureInstalled(c: Client, schema: string): Promise<boolean> {
  const r = await c.query("SELECT 1 FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace WHERE n.nspname = $1 AND k.relname = $2", [schema, PG_CHANGELOG]);
  return (r.rowCount ?? 0) > 0;
}

async function capturedTables(c: Client, schema: string): Promise<string[]> {
  const r = await c.query<{ relname: string }>(
    "SELECT k.relname FROM pg_trigger g JOIN pg_class k ON k.oid = g.tgrelid JOIN pg_namespace n ON n.oid = k.relnamespace WHERE n.nspname = $1 AND g.tgname = $2 ORDER BY k.relname",
    [schema, PG_TRIGGER],
  );
  return r.rows.map((x) => x.relname);
}

async function status(c: Client, schema: string): Promise<TargetCaptureStatus> {
  if (!(await captureInstalled(c, schema))) return { installed: false, tables: [], lastSeq: 0, appliedSeq: 0 };
  const last = await c.query<{ m: string }>(`SELECT coalesce(max(seq), 0) AS m FROM ${qualified(schema, PG_CHANGELOG)}`);
  const applied = await c.query<{ last_seq: string }>(`SELECT last_seq FROM ${qualified(schema, PG_ROLLBACK_STATE)}`);
  return { installed: true, tables: await capturedTables(c, schema), lastSeq: Number(last.rows[0].m), appliedSeq: applied.rows.length ? Number(applied.rows[0].last_seq) : 0 };
}

/** Reads the PostgreSQL-side capture state (installed, tables, changelog head, applied position). */
export async function targetCaptureStatus(target: TargetRef): Promise<TargetCaptureStatus> {
  return withTarget(target, "capture status", (c) => status(c, schemaOf(target)));
}

/**
 * Installs PostgreSQL-side capture in one transaction. Idempotent: the changelog and position are
 * kept, triggers are recreated. With `sourcePath`, only tables that also exist in the SQLite
 * source are captured (the migrated ones); without it, every table of the schema.
 */
export async function installTargetCapture(target: TargetRef, opts: { sourcePath?: string; renames?: Record<string, string> } = {}): Promise<TargetCaptureStatus> {
  const schema = schemaOf(target);
  const inSource = opts.sourcePath ? new Set(withSource(opts.sourcePath, (db) => nameSchema(introspect(db), opts.renames).tables.map((t) => t.table))) : null;
  // Without SQLite-side capture, this fingerprint is how rollback tells that SQLite was written
  // after the cut-over. Only the first install records it: re-running install must not bless
  // writes made since.
  const fingerprint = opts.sourcePath ? fingerprintData(opts.sourcePath) : null;
  try {
    return await withTarget(target, "capture install-target", async (c) => {
      await inTransaction(c, async () => {
        await c.query(`CREATE TABLE IF NOT EXISTS ${qualified(schema, PG_CHANGELOG)} (seq bigserial PRIMARY KEY, tbl text NOT NULL, op char(1) NOT NULL CHECK (op IN ('I','U','D')), pk jsonb, at timestamptz NOT NULL DEFAULT now())`);
        await c.query(`CREATE TABLE IF NOT EXISTS ${qualified(schema, PG_ROLLBACK_STATE)} (id int PRIMARY KEY DEFAULT 1 CHECK (id = 1), last_seq bigint NOT NULL, source_fingerprint jsonb, pending jsonb, updated_at timestamptz NOT NULL DEFAULT now())`);
        // A fresh install starts at the changelog head: earlier entries (if any) were already replayed.
        await c.query(`INSERT INTO ${qualified(schema, PG_ROLLBACK_STATE)} (last_seq) SELECT coalesce(max(seq), 0) FROM ${qualified(schema, PG_CHANGELOG)} ON CONFLICT (id) DO NOTHING`);
        if (fingerprint) await c.query(`UPDATE ${qualified(schema, PG_ROLLBACK_STATE)} SET source_fingerprint = coalesce(source_fingerprint, $1::jsonb)`, [JSON.stringify(fingerprint)]);
        await c.query(functionSql(schema));
        for (const t of await capturedTables(c, schema)) await c.query(`DROP TRIGGER ${quoteIdent(PG_TRIGGER)} ON ${qualified(schema, t)}`);
        for (const [t, key] of await targetTables(c, schema)) {
          if (inSource && !inSource.has(t)) continue;
          await c.query(`CREATE TRIGGER ${quoteIdent(PG_TRIGGER)} AFTER INSERT OR UPDATE OR DELETE ON ${qualified(schema, t)} FOR EACH ROW EXECUTE FUNCTION ${qualified(schema, PG_FUNCTION)}(${key.map(quoteLiteral).join(", ")})`);
        }
      });
      return status(c, schema);
    });
  } catch (e) {
    throw asMigrationError(e, "capture install-target");
  }
}

/** Drops the triggers, the function, the changelog and the position in one transaction. */
export async function removeTargetCapture(target: TargetRef): Promise<{ removedTriggers: number; droppedChanges: number }> {
  const schema = schemaOf(target);
  try {
    return await withTarget(target, "capture remove-target", (c) =>
      inTransaction(c, async () => {
        const tables = await capturedTables(c, schema);
        for (const t of tables) await c.query(`DROP TRIGGER ${quoteIdent(PG_TRIGGER)} ON ${qualified(schema, t)}`);
        const st = await status(c, schema);
        const droppedChanges = st.lastSeq - st.appliedSeq;
        await c.query(`DROP FUNCTION IF EXISTS ${qualified(schema, PG_FUNCTION)}()`);
        await c.query(`DROP TABLE IF EXISTS ${qualified(schema, PG_CHANGELOG)}, ${qualified(schema, PG_ROLLBACK_STATE)}`);
        return { removedTriggers: tables.length, droppedChanges: Math.max(0, droppedChanges) };
      }),
    );
  } catch (e) {
    throw asMigrationError(e, "capture remove-target");
  }
}

type SqliteOut = null | bigint | number | string | Buffer;

/** How a column is selected from PostgreSQL: bytea as bytes, everything else as its text form. */
function selectExpr(expr: string, col: TargetColumn): string {
  return col.kind === "bytea" ? expr : `(${expr})::text`;
}

const TS_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;

/** PostgreSQL value (as selected by selectExpr) -> the value SQLite stores; throws a reason. */
function toSqlite(v: string | Buffer | null, col: TargetColumn, declType: string): SqliteOut {
  if (v === null) return null;
  if (Buffer.isBuffer(v)) return v;
  switch (col.kind) {
    case "int":
      return BigInt(v);
    case "float": {
      const n = Number(v);
      // SQLite stores NaN as NULL: that would silently change the value.
      if (Number.isNaN(n)) throw new Error("NaN has no SQLite REAL form (SQLite stores it as NULL)");
      return n;
    }
    case "numeric": {
      if (!/^-?\d+(\.\d+)?$/.test(v)) throw new Error(`numeric ${v} has no SQLite form`);
      if (sqliteAffinity(declType) === "REAL") {
        const n = Number(v);
        if (normaliseDecimal(String(n), col.scale) !== v) throw new Error(`numeric ${v} would be rounded by the REAL column to ${n}`);
        return n;
      }
      return v;
    }
    case "bool":
      return v === "true" || v === "t" ? 1n : 0n; // boolean::text is "true"/"false"
    case "timestamp":
      if (!TS_RE.test(v)) throw new Error(`timestamp ${v} has no 'YYYY-MM-DD HH:MM:SS' form`);
      return v;
    case "timestamptz": {
      const s = v.replace(/\+00$/, "");
      if (!TS_RE.test(s)) throw new Error(`timestamptz ${v} has no UTC 'YYYY-MM-DD HH:MM:SS' form`);
      return s;
    }
    case "date":
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new Error(`date ${v} has no 'YYYY-MM-DD' form`);
      return v;
    default:
      return v;
  }
}

function openSqliteReadWrite(sourcePath: string): SqliteDb {
  if (!fs.existsSync(sourcePath)) throw new MigrationError("SOURCE_UNREADABLE", `Cannot find the SQLite file ${sourcePath}. Check the path.`, { step: "rollback", path: sourcePath });
  try {
    const db = new Database(sourcePath, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return db;
  } catch (e) {
    throw mapSqliteError(e, { step: "rollback", path: sourcePath });
  }
}

/** Written before the SQLite COMMIT: what the file looks like once this rollback's writes commit. */
interface Intent {
  fingerprint: DataFingerprint;
  /** SQLite changelog range our own writes occupy (seq > sqliteFrom, <= sqliteTo). */
  sqliteFrom: number;
  sqliteTo: number;
}

interface Entry {
  seq: string;
  tbl: string;
  op: "I" | "U" | "D";
  /** jsonb text of the key array, kept as text: JSON.parse would round 64-bit keys. */
  pk: string | null;
}

interface TableRows {
  t: SourceTable;
  cols: TargetColumn[];
  reload: boolean;
  upserts: SqliteOut[][];
  deletes: SqliteOut[][];
}

function unsafe(message: string, meta: Record<string, unknown>, cause?: unknown): MigrationError {
  return new MigrationError("ROLLBACK_UNSAFE", message, { step: "rollback", ...meta }, cause);
}

/** Reads the current PostgreSQL rows for the changed keys of one table, converted for SQLite. */
async function readRows(c: Client, schema: string, tr: TableRows, pgKey: string[], keys: string[]): Promise<void> {
  const declOf = (name: string): string => tr.t.columns.find((x) => x.name === name)?.declType ?? "";
  const colSel = tr.cols.map((col) => selectExpr(`r.${quoteIdent(col.target)}`, col));
  const convert = (raw: (string | Buffer | null)[], names: TargetColumn[], key: unknown): SqliteOut[] =>
    raw.map((v, i) => {
      try {
        return toSqlite(v, names[i], declOf(names[i].column));
      } catch (e) {
        throw unsafe(
          `${tr.t.name}.${names[i].column} (${names[i].pgType}) at key ${String(key)} cannot be stored in SQLite: ${(e as Error).message}. Nothing was written; change that value in PostgreSQL (or stop and keep PostgreSQL), then run rollback again.`,
          { table: tr.t.name, column: names[i].column, key: { pk: key } },
          e,
        );
      }
    });
  if (tr.reload) {
    const r = await c.query<unknown[]>({ text: `SELECT ${colSel.join(", ")} FROM ${qualified(schema, namesOf(tr.t).table)} r`, rowMode: "array" });
    for (const row of r.rows) tr.upserts.push(convert(row as (string | Buffer | null)[], tr.cols, null));
    return;
  }
  const keyCols = pgKey.map((k) => tr.cols.find((x) => x.target === k)!);
  const keyExpr = (i: number): string => `(k.v ->> ${i})::${keyCols[i].pgType}`;
  const on = pgKey.map((k, i) => `r.${quoteIdent(k)} = ${keyExpr(i)}`).join(" AND ");
  const sql = `SELECT (r.ctid IS NOT NULL) AS present, ${keyCols.map((col, i) => selectExpr(keyExpr(i), col)).join(", ")}, ${colSel.join(", ")}
                 FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY k(v, ord) LEFT JOIN ${qualified(schema, namesOf(tr.t).table)} r ON ${on} ORDER BY k.ord`;
  const r = await c.query<unknown[]>({ text: sql, rowMode: "array" }, ["[" + keys.join(",") + "]"]);
  r.rows.forEach((row, i) => {
    const present = row[0] as boolean;
    if (present) tr.upserts.push(convert(row.slice(1 + keyCols.length) as (string | Buffer | null)[], tr.cols, keys[i]));
    else tr.deletes.push(convert(row.slice(1, 1 + keyCols.length) as (string | Buffer | null)[], keyCols, keys[i]));
  });
}

function applyToSqlite(db: SqliteDb, work: TableRows[]): Record<string, { upserts: number; deletes: number }> {
  const perTable: Record<string, { upserts: number; deletes: number }> = {};
  let current = "";
  try {
    return applyTables(db, work, perTable, (t) => (current = t));
  } catch (e) {
    if (e && typeof e === "object") (e as { armpTable?: string }).armpTable = current;
    throw e;
  }
}

function applyTables(db: SqliteDb, work: TableRows[], perTable: Record<string, { upserts: number; deletes: number }>, at: (table: string) => void): Record<string, { upserts: number; deletes: number }> {
  // Children first for deletes, parents first for upserts; FKs are checked at COMMIT anyway.
  for (const w of [...work].reverse()) {
    at(w.t.name);
    const p = (perTable[w.t.name] ??= { upserts: 0, deletes: 0 });
    if (w.reload) {
      p.deletes += db.prepare(`DELETE FROM ${qi(w.t.name)}`).run().changes;
    } else if (w.deletes.length) {
      const del = db.prepare(`DELETE FROM ${qi(w.t.name)} WHERE ${w.t.primaryKey.map((k) => `${qi(k)} = ?`).join(" AND ")}`);
      for (const k of w.deletes) p.deletes += del.run(...k).changes;
    }
  }
  for (const w of work) {
    at(w.t.name);
    const p = (perTable[w.t.name] ??= { upserts: 0, deletes: 0 });
    if (!w.upserts.length) continue;
    const names = w.cols.map((c) => qi(c.column));
    let sql = `INSERT INTO ${qi(w.t.name)} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`;
    if (!w.reload) {
      const rest = w.cols.filter((c) => !w.t.primaryKey.includes(c.column)).map((c) => qi(c.column));
      sql += ` ON CONFLICT (${w.t.primaryKey.map(qi).join(", ")}) DO ${rest.length ? "UPDATE SET " + rest.map((c) => `${c} = excluded.${c}`).join(", ") : "NOTHING"}`;
    }
    const ins = db.prepare(sql);
    for (const row of w.upserts) ins.run(...row);
    p.upserts += w.upserts.length;
  }
  return perTable;
}

/**
 * Replays PostgreSQL's changelog since the recorded position into the SQLite file, in one SQLite
 * transaction. Refuses with ROLLBACK_UNSAFE (SQLite untouched) when any write would be lost.
 * Takes the migration advisory lock, so it never overlaps run or sync on the same target.
 */
export async function rollbackChanges(target: TargetRef, sourcePath: string, opts: RollbackOptions = {}): Promise<RollbackReport> {
  const started = process.hrtime.bigint();
  const schema = schemaOf(target);
  const lock = await acquireLock(target);
  const c = lock.client;
  let db: SqliteDb | undefined;
  let pgOpen = false;
  try {
    if (!(await captureInstalled(c, schema))) {
      throw new MigrationError("CONFIG_INVALID", `PostgreSQL-side capture is not installed in schema ${schema}, so the writes made to PostgreSQL since the cut-over are unknown and a rollback could lose them. Install it at the cut-over (\`armp-migrate capture install-target --target ...\`); without it, compare the data yourself before pointing the app back at SQLite.`, { step: "rollback" });
    }
    db = openSqliteReadWrite(sourcePath);
    // IMMEDIATE: the write lock is held from the safety check to COMMIT, so no application write
    // can slip in between the check and the replay.
    db.exec("BEGIN IMMEDIATE");
    const sch = introspect(db);
    nameSchema(sch, opts.renames);
    const tables = sch.tables;
    const cap = readCapture(db);
    let syncedSeq = 0;
    const st = (await c.query<{ fp: DataFingerprint | null; pending: Intent | null }>(`SELECT source_fingerprint AS fp, pending FROM ${qualified(schema, PG_ROLLBACK_STATE)}`)).rows[0];
    // A previous rollback that committed SQLite but crashed before recording its position left
    // its intent: the file then equals the intent's fingerprint, and its writes are ours, not lost.
    let nowFp: DataFingerprint | undefined;
    const recovering = (): Intent | null => {
      if (!st?.pending) return null;
      nowFp ??= fingerprintDb(db!);
      return nowFp.hash === st.pending.fingerprint.hash ? st.pending : null;
    };
    if (!cap.installed || !cap.id) {
      // No SQLite changelog: compare the file's data with the fingerprint taken at install-target.
      const then = st?.fp ?? null;
      if (!then) {
        throw unsafe(`Cannot prove the SQLite file was not written after the cut-over: it has no change capture and \`capture install-target\` was run without --source, so no fingerprint of it was recorded. Nothing was written. If you are sure SQLite is as it was at the cut-over, record it now (\`armp-migrate capture install-target --target ... --source ${sourcePath}\`) and run rollback again.`, { path: sourcePath });
      }
      const now = (nowFp ??= fingerprintDb(db));
      if (now.hash !== then.hash && !recovering()) {
        const changed = [...new Set([...Object.keys(then.tables), ...Object.keys(now.tables)])].filter((t) => then.tables[t]?.hash !== now.tables[t]?.hash).sort();
        const detail = changed.map((t) => `${t} (${then.tables[t]?.rows ?? 0} -> ${now.tables[t]?.rows ?? 0} rows)`).join(", ");
        throw unsafe(
          `The SQLite file was written after the cut-over: ${changed.length} table(s) changed since \`capture install-target\` recorded it: ${detail}. Those writes never reached PostgreSQL and replaying PostgreSQL's changes over them could lose them. Nothing was written. Without SQLite change capture the individual writes cannot be counted or synced: compare the tables, carry the writes you need into PostgreSQL by hand, then record SQLite's state again (\`capture remove-target\` + \`capture install-target --source\`, which also forgets PostgreSQL's pending writes) or keep PostgreSQL.`,
          { changedTables: changed, path: sourcePath, table: changed[0] },
        );
      }
    }
    if (cap.installed && cap.id) {
      syncedSeq = await syncPosition(c, schema, cap.id);
      const countAfter = (seq: number): number => Number((db!.prepare(`SELECT count(*) AS n FROM ${SQLITE_CHANGELOG} WHERE seq > ?`).get(seq) as { n: number }).n);
      let unsynced = countAfter(syncedSeq);
      if (unsynced > 0) {
        const intent = recovering();
        if (intent && intent.sqliteFrom <= syncedSeq) unsynced = countAfter(Math.max(syncedSeq, intent.sqliteTo));
      }
      if (unsynced > 0) {
        throw unsafe(
          `The SQLite file was written after the cut-over: ${unsynced} write(s) in ${SQLITE_CHANGELOG} (after seq ${syncedSeq}) never reached PostgreSQL, and replaying PostgreSQL's changes over them would lose them. Nothing was written. Decide which side wins: to keep them, stop the app and run \`armp-migrate sync\` (they overwrite the same rows in PostgreSQL), then rollback again.`,
          { unsyncedWrites: unsynced, syncedSeq, path: sourcePath },
        );
      }
    }
    // The changelog's seq comes from a sequence, so a transaction can commit a lower seq after a
    // higher one is visible; reading "up to max(seq)" could skip it forever. EXCLUSIVE on the
    // changelog waits for every writing transaction to finish and holds new ones (the triggers
    // need ROW EXCLUSIVE) until COMMIT: a short write freeze on PostgreSQL, which is what a
    // rollback needs anyway. Taken before the first query, so the REPEATABLE READ snapshot that
    // reads the changelog and every row starts after it; the position is recorded in the same
    // transaction after the SQLite COMMIT (a crash in between only replays the same rows again).
    await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    pgOpen = true;
    await c.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT_MS}ms'`);
    try {
      await c.query(`LOCK TABLE ${qualified(schema, PG_CHANGELOG)} IN EXCLUSIVE MODE`);
    } catch (e) {
      throw new MigrationError("LOCK_HELD", `Could not freeze writes to PostgreSQL within ${LOCK_TIMEOUT_MS / 1000} s: a transaction writing to the migrated tables is still open. Stop the application's writers (or end that transaction) and run rollback again.`, { step: "rollback" }, e);
    }
    const fromSeq = Number((await c.query<{ last_seq: string }>(`SELECT last_seq FROM ${qualified(schema, PG_ROLLBACK_STATE)}`)).rows[0]?.last_seq ?? 0);
    const entries = (await c.query<Entry>(`SELECT l.seq::text AS seq, l.tbl, l.op, l.pk::text AS pk FROM ${qualified(schema, PG_CHANGELOG)} l WHERE l.seq > $1 ORDER BY l.seq`, [fromSeq])).rows;
    const toSeq = entries.length ? Number(entries[entries.length - 1].seq) : fromSeq;
    const latest = new Map<string, Map<string, Entry>>();
    for (const e of entries) {
      let m = latest.get(e.tbl);
      if (!m) latest.set(e.tbl, (m = new Map()));
      m.set(e.pk ?? "null", e);
    }
    // The changelog names tables as PostgreSQL does (names.ts).
    const missing = [...latest.keys()].filter((n) => !tables.some((t) => namesOf(t).table === n));
    if (missing.length) {
      const n = entries.filter((e) => missing.includes(e.tbl)).length;
      throw unsafe(`${n} PostgreSQL write(s) are to table(s) ${missing.join(", ")}, which do not exist in the SQLite file; they would be lost. Nothing was written. Create the table(s) in SQLite (same columns and key) and run rollback again, or stay on PostgreSQL.`, { table: missing[0], lostWrites: n });
    }
    const pgTables = await targetTables(c, schema);
    const work: TableRows[] = [];
    for (const t of tables) {
      const m = latest.get(namesOf(t).table);
      if (!m) continue;
      const pgKey = pgTables.get(namesOf(t).table) ?? [];
      const reload = pgKey.length === 0 || t.primaryKey.length === 0;
      if (!reload && [...pgKey].sort().join("\0") !== t.primaryKey.map((k) => namesOf(t).column(k)).sort().join("\0")) {
        throw unsafe(`${t.name}'s primary key differs between PostgreSQL (${pgKey.join(", ")}) and SQLite (${t.primaryKey.join(", ")}); its ${m.size} changed row(s) cannot be matched. Nothing was written. Make the keys agree and run rollback again.`, { table: t.name, lostWrites: m.size });
      }
      const tr: TableRows = { t, cols: await targetColumns(c, schema, t, { sqliteWritable: true }), reload, upserts: [], deletes: [] };
      await readRows(c, schema, tr, pgKey, reload ? [] : [...m.values()].map((e) => e.pk ?? "[]"));
      work.push(tr);
    }
    let perTable: Record<string, { upserts: number; deletes: number }>;
    let sqliteHead = 0;
    let afterFp: DataFingerprint;
    try {
      db.pragma("defer_foreign_keys = ON");
      perTable = applyToSqlite(db, work);
      // Our own writes fire SQLite capture triggers; they equal PostgreSQL by construction, so the
      // sync position moves past them (otherwise the next rollback would call them unsynced).
      if (cap.installed && cap.id) sqliteHead = Number((db.prepare(`SELECT coalesce(max(seq), 0) AS m FROM ${SQLITE_CHANGELOG}`).get() as { m: number }).m);
      afterFp = fingerprintDb(db);
      // Committed on its own connection before the SQLite COMMIT, so it survives a crash between
      // the two commits (see recovering()).
      const intent: Intent = { fingerprint: afterFp, sqliteFrom: syncedSeq, sqliteTo: sqliteHead };
      await withTarget(target, "rollback", (c2) => c2.query(`UPDATE ${qualified(schema, PG_ROLLBACK_STATE)} SET pending = $1::jsonb`, [JSON.stringify(intent)]));
      db.exec("COMMIT");
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      if (code.startsWith("SQLITE_CONSTRAINT")) {
        const table = (e as { armpTable?: string }).armpTable;
        throw unsafe(`SQLite rejected a replayed row${table ? ` of ${table}` : ""}: ${(e as Error).message}. Nothing was written. The PostgreSQL rows break a constraint SQLite enforces (e.g. a UNIQUE value moved between two rows, or a foreign key); fix the rows in PostgreSQL and run rollback again.`, { table, sqliteCode: code }, e);
      }
      throw mapSqliteError(e, { step: "rollback", path: sourcePath });
    }
    await opts.afterSqliteCommit?.();
    // Recorded on a second connection (the snapshot transaction cannot update the row the intent
    // changed) while the freeze is still held, then the freeze ends. The file now legitimately
    // differs from the recorded fingerprint: our own writes.
    await withTarget(target, "rollback", (c2) =>
      inTransaction(c2, async () => {
        await c2.query(`UPDATE ${qualified(schema, PG_ROLLBACK_STATE)} SET last_seq = $1, source_fingerprint = $2::jsonb, pending = NULL, updated_at = now()`, [toSeq, JSON.stringify(afterFp)]);
        if (cap.installed && cap.id && sqliteHead > syncedSeq) {
          await c2.query(`CREATE TABLE IF NOT EXISTS ${qualified(schema, SYNC_STATE)} (source_id text PRIMARY KEY, last_seq bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
          await c2.query(`INSERT INTO ${qualified(schema, SYNC_STATE)} (source_id, last_seq) VALUES ($1, $2) ON CONFLICT (source_id) DO UPDATE SET last_seq = GREATEST(${qualified(schema, SYNC_STATE)}.last_seq, EXCLUDED.last_seq), updated_at = now()`, [cap.id, sqliteHead]);
        }
      }),
    );
    await c.query("COMMIT");
    pgOpen = false;
    const pending = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(schema, PG_CHANGELOG)} WHERE seq > $1`, [toSeq])).rows[0].n);
    let upserts = 0;
    let deletes = 0;
    for (const p of Object.values(perTable)) {
      upserts += p.upserts;
      deletes += p.deletes;
    }
    return { fromSeq, toSeq, changes: entries.length, applied: upserts + deletes, upserts, deletes, lost: 0, pending, tables: perTable, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } catch (e) {
    if (db?.inTransaction) db.exec("ROLLBACK");
    if (pgOpen) await c.query("ROLLBACK").catch(() => undefined);
    if (e instanceof MigrationError) throw e;
    if ((e as { code?: string }).code?.startsWith("SQLITE")) throw mapSqliteError(e, { step: "rollback", path: sourcePath });
    throw asMigrationError(e, "rollback");
  } finally {
    db?.close();
    await lock.release();
  }
}
