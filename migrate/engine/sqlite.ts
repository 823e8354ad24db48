/**
 * Opening the SQLite source. The file is sacred (issue 2): it is only ever opened
 * `{ readonly: true, fileMustExist: true }`, and every SQLite failure becomes a MigrationError
 * with a code the caller can act on.
 */
import * as fs from "fs";
import Database from "better-sqlite3";
import { MigrationError, type ErrorMeta } from "./errors";

export type SqliteDb = Database.Database;

/** How long a read waits for a writer's lock before we call the file locked. */
const BUSY_TIMEOUT_MS = 1500;

export function openSource(sourcePath: string): SqliteDb {
  let st: fs.Stats;
  try {
    st = fs.statSync(sourcePath);
  } catch (e) {
    throw new MigrationError("SOURCE_UNREADABLE", `Cannot read the SQLite source ${sourcePath}: ${(e as Error).message}. Check the path and that this user may read it.`, { step: "open", path: sourcePath }, e);
  }
  if (!st.isFile()) {
    throw new MigrationError("SOURCE_UNREADABLE", `The SQLite source ${sourcePath} is not a regular file. Pass the path of the .sqlite/.db file.`, { step: "open", path: sourcePath });
  }
  let db: SqliteDb;
  try {
    db = new Database(sourcePath, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  } catch (e) {
    throw mapSqliteError(e, { step: "open", path: sourcePath });
  }
  try {
    // better-sqlite3 opens lazily; touching the schema makes a non-database or locked file fail here.
    db.prepare("SELECT count(*) FROM sqlite_master").get();
  } catch (e) {
    db.close();
    throw mapSqliteError(e, { step: "open", path: sourcePath });
  }
  return db;
}

/** Runs fn on a freshly opened read-only source and always closes it. */
export function withSource<T>(sourcePath: string, fn: (db: SqliteDb) => T): T {
  const db = openSource(sourcePath);
  try {
    return fn(db);
  } catch (e) {
    throw e instanceof MigrationError ? e : mapSqliteError(e, { step: "read", path: sourcePath });
  } finally {
    db.close();
  }
}

export function mapSqliteError(e: unknown, meta: ErrorMeta): MigrationError {
  if (e instanceof MigrationError) return e;
  const code = (e as { code?: string }).code ?? "";
  const msg = e instanceof Error ? e.message : String(e);
  const where = meta.table ? ` (table ${meta.table})` : "";
  if (code === "SQLITE_NOTADB") {
    return new MigrationError("SOURCE_NOT_SQLITE", `${String(meta.path ?? "The source")} is not a SQLite database (${msg}). Pass the path of the application's SQLite file.`, meta, e);
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new MigrationError("SOURCE_LOCKED", `The SQLite source is locked by another process${where} (${msg}). Stop the application's writers (or wait for the write transaction to finish) and retry.`, meta, e);
  }
  if (code.startsWith("SQLITE_CORRUPT")) {
    return new MigrationError("SOURCE_UNREADABLE", `The SQLite source is corrupt${where} (${msg}). Restore it from a backup or run \`sqlite3 file .recover\` into a new file and migrate that.`, meta, e);
  }
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_PERM") || code.startsWith("SQLITE_READONLY")) {
    return new MigrationError("SOURCE_UNREADABLE", `Cannot read the SQLite source${where} (${msg}). Check the path, permissions, and that the -wal/-shm files next to it are readable.`, meta, e);
  }
  return new MigrationError("SOURCE_UNREADABLE", `Reading the SQLite source failed${where}: ${msg}. Check that the file is a healthy SQLite database.`, meta, e);
}
