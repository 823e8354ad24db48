/**
 * Opening the SQLite source for reading. The file is sacred: the migration opens it
 * `{ readonly: true, fileMustExist: true }` here, and every SQLite failure becomes a MigrationError
 * with a code the caller can act on. The only writable opens are change capture's triggers
 * (capture.ts), the cut-over's freeze lock (freeze-lock.ts) and rollback's replay (rollback.ts).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Database from "better-sqlite3";
import { MigrationError, type ErrorMeta } from "./errors";
import { appCollationUses, quoteSqliteIdent } from "./introspect";

export type SqliteDb = Database.Database;

/**
 * How long any connection of ours to the source (reads here; capture's and rollback's writes) waits
 * for an app's lock before calling the file locked. An app commit can take seconds on a loaded
 * machine; one value everywhere, so a sync or verify never gives up sooner than an install does.
 */
export const BUSY_TIMEOUT_MS = 5000;

const EXTENSION_CANDIDATES = [
  // compiled engine: dist/migrate/engine -> dist/native
  path.join(__dirname, "..", "..", "native", "armp_copy.so"),
  // engine run from source (ts-jest): migrate/engine -> dist/native
  path.join(__dirname, "..", "..", "dist", "native", "armp_copy.so"),
];

/** The built armp_copy extension (migrate/native/armp_copy.c), or null when it was not built. */
export function extensionFile(): string | null {
  return EXTENSION_CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
}

/**
 * Installs the extension's stand-in for collations the application registers itself (COLLATE
 * unicase, LOCALIZED, ...), so statements that compare such a column can run; see the C file. It
 * is loaded even when ARMP_MIGRATE_NATIVE=0 switches the native copy off: it does not encode rows.
 * ARMP_MIGRATE_STANDINS=0 reads as if it were absent (to check a file without them). Without the
 * stand-ins, opening a source that uses such a collation fails with SOURCE_COLLATION_UNKNOWN.
 */
function installCollationStandIns(db: SqliteDb): boolean {
  const file = process.env.ARMP_MIGRATE_STANDINS === "0" ? null : extensionFile();
  if (file === null) return false;
  try {
    // better-sqlite3 passes an entry point through to sqlite3_load_extension; its types omit it.
    (db as unknown as { loadExtension(file: string, entryPoint: string): void }).loadExtension(file, "sqlite3_armpcollate_init");
  } catch {
    // An extension that does not load is the same as none: SOURCE_COLLATION_UNKNOWN if one is needed.
    return false;
  }
  return true;
}

/**
 * Without the stand-ins, a collation the application registers makes reads of its columns fail
 * part-way; refuse at open instead, naming the first table and column that use it.
 */
function requireKnownCollations(db: SqliteDb, sourcePath: string): void {
  const unknown = new Map<string, ReturnType<typeof appCollationUses>>();
  let cause: unknown;
  for (const u of appCollationUses(db)) {
    const key = u.collation.toLowerCase();
    if (!unknown.has(key)) {
      try {
        db.prepare(`SELECT 'a' = 'b' COLLATE ${quoteSqliteIdent(u.collation)}`).get();
        continue;
      } catch (e) {
        cause ??= e;
        unknown.set(key, []);
      }
    }
    unknown.get(key)?.push(u);
  }
  const [first] = [...unknown.values()].map((uses) => uses[0]);
  if (!first) return;
  const all = [...unknown.values()].flat().map((u) => `${u.table}.${u.column}${u.index ? ` (index ${u.index})` : ""} COLLATE ${u.collation}`);
  throw new MigrationError(
    "SOURCE_COLLATION_UNKNOWN",
    `The SQLite source uses collation(s) the application registers itself, which this reader does not have: ${all.join(", ")}. Build the armp_copy extension (\`npm run build\` with a C compiler; it supplies read-only stand-ins), then retry.`,
    { step: "open", path: sourcePath, table: first.table, column: first.column, collation: first.collation },
    cause,
  );
}

/**
 * Source files this process has open, by real path: how many connections, and which of the
 * -wal/-shm files were absent when the first one opened. A read-only connection to a WAL-mode
 * database creates both and cannot remove them on close (only a connection that can checkpoint
 * does), so after the last connection closes, armp-wal-tidy (migrate/native/wal_tidy.c) removes the
 * ones this process created, and only when no other connection, in any process, uses them. Files
 * that existed before are the application's and are never touched. Worker threads keep their own
 * count; theirs open while the main thread's connection is, so they find the files present.
 */
const openFiles = new Map<string, { refs: number; absent: ("-wal" | "-shm")[] }>();

function tidyPath(): string | null {
  const file = extensionFile();
  const tidy = file === null ? null : path.join(path.dirname(file), "armp-wal-tidy");
  return tidy !== null && fs.existsSync(tidy) ? tidy : null;
}

/** Counts a connection to this file (noting absent -wal/-shm first); the result uncounts it. */
function acquire(sourcePath: string): () => void {
  const key = fs.realpathSync(sourcePath);
  let entry = openFiles.get(key);
  if (!entry) {
    entry = { refs: 0, absent: (["-wal", "-shm"] as const).filter((s) => !fs.existsSync(key + s)) };
    openFiles.set(key, entry);
  }
  entry.refs++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const e = openFiles.get(key)!;
    if (--e.refs > 0) return;
    openFiles.delete(key);
    const created = e.absent.filter((s) => fs.existsSync(key + s));
    const tidy = created.length > 0 ? tidyPath() : null;
    // Exit status 2/3/4 (in use, cannot lock, -wal not empty) keeps the files; see wal_tidy.c.
    if (tidy !== null) spawnSync(tidy, [key, ...created], { stdio: "ignore", timeout: 10_000 });
  };
}

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
  const release = acquire(sourcePath);
  try {
    db = new Database(sourcePath, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  } catch (e) {
    release();
    throw mapSqliteError(e, { step: "open", path: sourcePath });
  }
  const close = db.close.bind(db);
  db.close = () => {
    close();
    release();
    return db;
  };
  const standIns = installCollationStandIns(db);
  try {
    // better-sqlite3 opens lazily; touching the schema makes a non-database or locked file fail here.
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    if (!standIns) requireKnownCollations(db, sourcePath);
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
  // better-sqlite3's errors can come from another realm (jest, worker threads): read the message, not instanceof.
  const msg = typeof (e as { message?: unknown }).message === "string" ? (e as { message: string }).message : String(e);
  const where = meta.table ? ` (table ${meta.table})` : "";
  if (code === "SQLITE_ERROR_MISSING_COLLSEQ") {
    return new MigrationError(
      "SOURCE_COLLATION_UNKNOWN",
      `The SQLite source uses a collation the application registers itself${where} (${msg}). Reading needs the armp_copy extension's stand-in (\`npm run build\` with a C compiler). Writing (capture, rollback) never uses one, as its order could differ from the application's in the file's indexes: those steps cannot touch tables with this collation.`,
      meta,
      e,
    );
  }
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
