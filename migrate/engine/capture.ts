/**
 * Change capture on the SQLite source (issue 6, "Capture"). These are the ONLY writes this
 * project ever makes to the source, and only when capture is explicitly installed:
 *
 * - `_armp_capture(id, installed_at)`: one row naming this capture, so the target's sync position
 *   belongs to one installation (a reinstall after removal starts a new changelog at seq 1 and
 *   must not be read against an old position).
 * - `_armp_changelog(seq, tbl, op, pk, at)`: one row per changed row, appended by triggers.
 * - `_armp_capture_<table>_{i,u,d}`: AFTER INSERT/UPDATE/DELETE triggers per user table.
 *
 * Keys: the declared PRIMARY KEY; tables without one are keyed by rowid. WITHOUT ROWID tables
 * always have a declared PRIMARY KEY (SQLite refuses to create one without), so they never need
 * the rowid fallback. An UPDATE that changes the key is logged as D(old key) + I(new key).
 *
 * `seq` is INTEGER PRIMARY KEY without AUTOINCREMENT on purpose: AUTOINCREMENT would create
 * `sqlite_sequence`, which SQLite never lets us drop, so removal would leave the schema changed.
 * Nothing deletes changelog rows while capture is installed (sync only reads the source), so
 * seq is strictly increasing in commit order (SQLite has one writer at a time).
 *
 * The triggers call json_array(), so the application's SQLite must have JSON functions
 * (built in since SQLite 3.38, 2022; earlier builds need JSON1). A BLOB primary key cannot be
 * logged (json_array rejects BLOBs); install refuses such tables up front.
 */
import { randomUUID } from "crypto";
import * as fs from "fs";
import Database from "better-sqlite3";
import { MigrationError } from "./errors";
import { introspect, quoteSqliteIdent as qi, type SourceTable } from "./introspect";
import { keyColumns } from "./profile";
import { BUSY_TIMEOUT_MS, mapSqliteError, type SqliteDb } from "./sqlite";

export const CHANGELOG = "_armp_changelog";
export const CAPTURE_TABLE = "_armp_capture";
const TRIGGER_PREFIX = "_armp_capture_";

export interface CaptureStatus {
  installed: boolean;
  /** Identifies this installation; the target's sync position is stored under it. */
  id: string | null;
  tables: string[];
  /** Highest changelog seq (0 when empty). */
  lastSeq: number;
}

function sqlString(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}

function triggerName(table: string, op: "i" | "u" | "d"): string {
  return `${TRIGGER_PREFIX}${table}_${op}`;
}

/** Key expressions as the trigger sees them: NEW."a" / OLD.rowid. */
function keyRefs(t: SourceTable, side: "NEW" | "OLD"): string[] {
  return keyColumns(t).map((k) => (k === "rowid" && !t.columns.some((c) => c.name === "rowid") ? `${side}.rowid` : `${side}.${qi(k)}`));
}

export function captureTriggerSql(t: SourceTable): string[] {
  const tbl = sqlString(t.name);
  const T = qi(t.name);
  const log = `INSERT INTO ${CHANGELOG} (tbl, op, pk) VALUES`;
  const newKey = `json_array(${keyRefs(t, "NEW").join(", ")})`;
  const oldKey = `json_array(${keyRefs(t, "OLD").join(", ")})`;
  const changed = keyRefs(t, "OLD").map((o, i) => `${o} IS NOT ${keyRefs(t, "NEW")[i]}`).join(" OR ");
  return [
    `CREATE TRIGGER ${qi(triggerName(t.name, "i"))} AFTER INSERT ON ${T} BEGIN ${log} (${tbl}, 'I', ${newKey}); END`,
    `CREATE TRIGGER ${qi(triggerName(t.name, "u"))} AFTER UPDATE ON ${T} BEGIN ` +
      `INSERT INTO ${CHANGELOG} (tbl, op, pk) SELECT ${tbl}, 'D', ${oldKey} WHERE ${changed}; ` +
      `${log} (${tbl}, CASE WHEN ${changed} THEN 'I' ELSE 'U' END, ${newKey}); END`,
    `CREATE TRIGGER ${qi(triggerName(t.name, "d"))} AFTER DELETE ON ${T} BEGIN ${log} (${tbl}, 'D', ${oldKey}); END`,
  ];
}

function openReadWrite(sourcePath: string): SqliteDb {
  if (!fs.existsSync(sourcePath)) {
    throw new MigrationError("SOURCE_UNREADABLE", `Cannot find the SQLite source ${sourcePath}. Check the path.`, { step: "capture", path: sourcePath });
  }
  try {
    const db = new Database(sourcePath, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return db;
  } catch (e) {
    throw mapSqliteError(e, { step: "capture", path: sourcePath });
  }
}

function captureTriggers(db: SqliteDb): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, ?) = ? ORDER BY name").all(TRIGGER_PREFIX.length, TRIGGER_PREFIX) as { name: string }[]).map((r) => r.name);
}

function hasTable(db: SqliteDb, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Reads the install record and changelog head from an open source (read-only is enough). */
export function readCapture(db: SqliteDb): CaptureStatus {
  if (!hasTable(db, CAPTURE_TABLE) || !hasTable(db, CHANGELOG)) return { installed: false, id: null, tables: [], lastSeq: 0 };
  const id = (db.prepare(`SELECT id FROM ${CAPTURE_TABLE}`).get() as { id: string } | undefined)?.id ?? null;
  const lastSeq = Number((db.prepare(`SELECT coalesce(max(seq), 0) AS m FROM ${CHANGELOG}`).get() as { m: number }).m);
  const tables = [...new Set(captureTriggers(db).map((n) => n.slice(TRIGGER_PREFIX.length, -2)))].sort();
  return { installed: id !== null, id, tables, lastSeq };
}

/**
 * Installs (or refreshes) capture in one write transaction. Idempotent: an existing installation
 * keeps its id and changelog; triggers are recreated so tables added since are covered.
 */
export function installCapture(sourcePath: string): CaptureStatus {
  const db = openReadWrite(sourcePath);
  try {
    const tables = introspect(db).tables;
    for (const t of tables) {
      const blobKey = t.primaryKey.find((k) => /BLOB/i.test(t.columns.find((c) => c.name === k)?.declType ?? ""));
      if (blobKey) {
        throw new MigrationError("CONFIG_INVALID", `Table ${t.name} has a BLOB primary key column (${blobKey}), which the changelog (JSON keys) cannot record. Migrate it without capture (stop writes during the copy) or change the key.`, { table: t.name, column: blobKey, step: "capture" });
      }
    }
    // IMMEDIATE: take the write lock before reading anything, so no writer slips in between.
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(`CREATE TABLE IF NOT EXISTS ${CAPTURE_TABLE} (id TEXT NOT NULL, installed_at REAL NOT NULL DEFAULT (julianday('now')))`);
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${CHANGELOG} (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, op TEXT NOT NULL CHECK (op IN ('I','U','D')), pk TEXT NOT NULL, at REAL NOT NULL DEFAULT (julianday('now')))`,
      );
      if (db.prepare(`SELECT 1 FROM ${CAPTURE_TABLE}`).get() === undefined) db.prepare(`INSERT INTO ${CAPTURE_TABLE} (id) VALUES (?)`).run(randomUUID());
      for (const name of captureTriggers(db)) db.exec(`DROP TRIGGER ${qi(name)}`);
      for (const t of tables) for (const sql of captureTriggerSql(t)) db.exec(sql);
      db.exec("COMMIT");
    } catch (e) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw e;
    }
    return readCapture(db);
  } catch (e) {
    throw mapSqliteError(e, { step: "capture install", path: sourcePath });
  } finally {
    db.close();
  }
}

/**
 * Drops the triggers and both capture tables in one transaction, leaving the user tables and
 * their schema exactly as before install. Unsynced changes go with the changelog; the count is
 * returned so callers can tell (sync first: `armp-migrate sync`).
 */
export function removeCapture(sourcePath: string): { removedTriggers: number; droppedChanges: number } {
  const db = openReadWrite(sourcePath);
  try {
    db.exec("BEGIN IMMEDIATE");
    try {
      const triggers = captureTriggers(db);
      for (const name of triggers) db.exec(`DROP TRIGGER ${qi(name)}`);
      const droppedChanges = hasTable(db, CHANGELOG) ? Number((db.prepare(`SELECT count(*) AS n FROM ${CHANGELOG}`).get() as { n: number }).n) : 0;
      db.exec(`DROP TABLE IF EXISTS ${CHANGELOG}`);
      db.exec(`DROP TABLE IF EXISTS ${CAPTURE_TABLE}`);
      db.exec("COMMIT");
      return { removedTriggers: triggers.length, droppedChanges };
    } catch (e) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw e;
    }
  } catch (e) {
    throw mapSqliteError(e, { step: "capture remove", path: sourcePath });
  } finally {
    db.close();
  }
}
