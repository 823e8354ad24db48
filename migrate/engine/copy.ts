/**
 * Streaming copy: better-sqlite3 iterate() over one read transaction (a
 * consistent snapshot) -> COPY ... FROM STDIN in text format, or in binary where the armp_copy
 * extension writes the tuples (native.ts, copy-segments.ts), awaiting 'drain' so memory stays
 * bounded whatever the table size. Each table loads in its own PostgreSQL transaction: a failure
 * rolls that table back, never leaving a half-copied table. Constraints, indexes and sequences
 * come after the load (faster, and FK order does not matter).
 */
import type { Client } from "pg";
import { fkName, pkName, qualified, quoteIdent, renderForeignKey, targetColumnList, uniqueName } from "./ddl";
import { asMigrationError, jsonSafe, MigrationError } from "./errors";
import { quoteSqliteIdent as qi, introspect, type SourceSchema, type SourceTable } from "./introspect";
import { nameSchema, namesOf, type Renames } from "./names";
import { constraintExists, inTransaction, pgErr, schemaOf, release, session, tablePages, useSortMemory, withTarget, type TargetRef } from "./pg";
import { resolveTable } from "./plan";
import { keyColumns } from "./profile";
import { mapSqliteError, openSource, type SqliteDb } from "./sqlite";
import { pickTables } from "./target-ddl";
import { kindOfPgType, type ValueKind } from "./typemap";
import { epochOfComment, sourceColumnSql, type ValueTarget } from "./values";
import { checksumAlgo, RowSum, type ChecksumAlgo, type RangeSum } from "./checksum";
import { keyFromRow, TableEncoder } from "./encode";
import { isTextSide, loadNative, NativeBlockEncoder, nativePlan } from "./native";
import { CopySegments, type CopyFormat } from "./copy-segments";
import { canUseEncodeWorkers, inThreadChunks, nativeInThreadChunks, rowidBlocks, splitMinRows, splitWorkerChunks, SPLIT_WORKERS, workerChunks, WORKER_MIN_ROWS } from "./encode-thread";

export interface CopyProgress {
  table: string;
  rows: number;
  totalRows: number;
  bytes: number;
}

export interface TableCopyReport {
  table: string;
  rowsRead: number;
  rowsWritten: number;
  bytes: number;
  seconds: number;
  /**
   * How the rows travelled: "binary" when the armp_copy extension wrote COPY BINARY tuples (rows
   * it left to JavaScript then went as COPY text between them), else "text".
   */
  format: CopyFormat;
  /** COPY statements the table took (binary tables: one more per batch of JavaScript-encoded rows). */
  copyStatements: number;
  /** Source side of the table checksum, summed during the copy pass (runMigration only). */
  sourceSum?: RangeSum;
}

export interface CopyReport {
  tables: TableCopyReport[];
  totals: { rowsRead: number; rowsWritten: number; bytes: number; seconds: number };
  /** Constraints that could not be validated (e.g. orphaned foreign keys added NOT VALID). */
  warnings: string[];
}

export interface TargetColumn extends ValueTarget {
  /** The source column's name (SQLite side). */
  column: string;
  /** Its name in PostgreSQL (names.ts). */
  target: string;
  pgType: string;
  kind: ValueKind;
  /** GENERATED ALWAYS AS (...) STORED in the target: PostgreSQL computes it, nothing writes it. */
  generated?: boolean;
}

export interface TargetColumnsOptions {
  /**
   * Include the target's generated columns (verification compares them: SQLite's computed values
   * against PostgreSQL's). Default false: the list is what COPY and sync write.
   */
  generated?: boolean;
  /** Leave out the columns SQLite generates (rollback writes the list into SQLite). Default false. */
  sqliteWritable?: boolean;
}

/**
 * Column types as they are in the target (cast overrides included), in source column order. A
 * SQLite generated column is read like any other (SELECT returns its computed value): it is
 * written when the target column is a plain one, and left to PostgreSQL when the target generates it.
 */
export async function targetColumns(c: Client, schema: string, t: SourceTable, opts: TargetColumnsOptions = {}): Promise<TargetColumn[]> {
  const r = await c.query<{ attname: string; t: string; g: string; d: string | null }>(
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS t, a.attgenerated AS g, col_description(a.attrelid, a.attnum) AS d FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid JOIN pg_namespace n ON n.oid = k.relnamespace WHERE n.nspname = $1 AND k.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    [schema, namesOf(t).table],
  );
  if (r.rows.length === 0) {
    throw new MigrationError("CONFIG_INVALID", `Table ${schema}.${t.name} does not exist in the target. Create the schema first (createTables / \`armp-migrate run\`).`, { table: t.name });
  }
  const byName = new Map(r.rows.map((x) => [x.attname, x]));
  const names = namesOf(t);
  const out: TargetColumn[] = [];
  for (const col of t.columns) {
    if (opts.sqliteWritable && col.generated) continue;
    const target = names.column(col.name);
    const a = byName.get(target);
    if (!a) throw new MigrationError("CONFIG_INVALID", `Column ${t.name}.${col.name} is missing in the target table${target !== col.name ? ` (as ${target})` : ""}. Add it (alterTables) or re-create the table.`, { table: t.name, column: col.name });
    const generated = a.g !== "";
    if (generated && !opts.generated) continue;
    const kind = kindOfPgType(a.t);
    // The schema step marks columns whose numbers are read as instants (values.ts epochComment).
    const epoch = kind.kind === "date" || kind.kind === "timestamp" || kind.kind === "timestamptz" ? epochOfComment(a.d) : undefined;
    out.push({ column: col.name, target, pgType: a.t, ...kind, ...(epoch ? { epoch } : {}), ...(generated ? { generated: true } : {}) });
  }
  return out;
}

/**
 * SELECT used for both the copy and the checksum: same columns, same order, stable row order.
 * `rangeSql` is the same query over one rowid block (`rowid >= ? AND rowid < ?`), for tables that
 * can be read in blocks (splittable()), else null.
 */
export interface SourceSelect {
  sql: string;
  rangeSql: string | null;
  byRowidSql: string | null;
  /**
   * WITHOUT ROWID tables: the same query over one range of the first primary-key column
   * (`<pk1> >= ? AND <pk1> < ?`, primary-key order), else null.
   */
  keyRangeSql: string | null;
  keyIdx: number[];
  keyNames: string[];
}

export function sourceSelect(t: SourceTable, cols: { column: string; kind?: ValueKind }[]): SourceSelect {
  const names = cols.map((c) => c.column);
  const keyNames = keyColumns(t);
  const extra = keyNames.filter((k) => !names.includes(k));
  const all = [...names, ...extra];
  // rowid order is the table's storage order (free); WITHOUT ROWID tables are stored by PK.
  const order = t.withoutRowid ? t.primaryKey : ["rowid"];
  const kinds = new Map(cols.map((c) => [c.column, c.kind]));
  const expr = (n: string): string => (n === "rowid" && !t.columns.some((c) => c.name === "rowid") ? "rowid" : sourceColumnSql(qi(n), kinds.get(n) ?? "other"));
  const head = `SELECT ${all.map(expr).join(", ")} FROM ${qi(t.name)}`;
  const orderBy = ` ORDER BY ${order.map((n) => (n === "rowid" ? "rowid" : qi(n))).join(", ")}`;
  return {
    sql: head + orderBy,
    rangeSql: splittable(t) ? `${head} WHERE rowid >= ? AND rowid < ?${orderBy}` : null,
    byRowidSql: splittable(t) ? `${head} WHERE rowid = ?` : null,
    keyRangeSql: t.withoutRowid && t.primaryKey.length > 0 ? `${head} WHERE ${qi(t.primaryKey[0])} >= ? AND ${qi(t.primaryKey[0])} < ?${orderBy}` : null,
    keyIdx: keyNames.map((k) => all.indexOf(k)),
    keyNames,
  };
}

/** A rowid table whose `rowid` is the real rowid (no column shadows it), so rowid ranges partition it. */
export function splittable(t: SourceTable): boolean {
  return !t.withoutRowid && !t.columns.some((c) => ["rowid", "oid", "_rowid_"].includes(c.name.toLowerCase()));
}


/**
 * Encode worker threads alive at once across all tables. Each costs ~60-70 MB RSS (capped heap,
 * SQLite page cache); 4 at once peaked at 355 MB in the scale-10 bench, 3 stay under 300 MB.
 */
const MAX_WORKERS = 3;
/**
 * With the armp_copy extension one worker per big table keeps up (PostgreSQL, not encoding, is the
 * limit), so the largest table is not split and two workers are enough: scale-10 bench 27.2 s at
 * 268 MB peak RSS, against 24.8-28.4 s at 313-346 MB with the split and three workers.
 */
const MAX_WORKERS_NATIVE = 2;
interface WorkerBudget {
  free: number;
}

async function copyTable(
  db: SqliteDb,
  t: SourceTable,
  client: Client,
  schema: string,
  replace: boolean,
  totalRows: number,
  onProgress?: (p: CopyProgress) => void,
  checksum: ChecksumAlgo | null = null,
  threadedSource: string | null = null,
  workers: WorkerBudget = { free: 0 },
  split = false,
  binary = true,
): Promise<TableCopyReport> {
  const started = process.hrtime.bigint();
  const cols = await targetColumns(client, schema, t);
  const sel = sourceSelect(t, cols);
  const { sql, rangeSql, keyIdx, keyNames } = sel;
  // The armp_copy extension converts rows inside SQLite where it can (native.ts); workers too.
  // With `binary` it writes COPY BINARY tuples when every column's type allows it.
  const native = nativePlan(db, t, cols, checksum, sel, { binary });
  const mainFormat: CopyFormat = native?.binary ? "binary" : "text";
  const stmt = db.prepare(sql).raw(true).safeIntegers(true);
  let rows = 0;
  let bytes = 0;
  const sum = checksum ? new RowSum(checksum) : null;
  let sourceSum: RangeSum | undefined;
  let statements = 0;
  let releaseWorkers = (): void => undefined;
  await client.query("BEGIN");
  try {
    if (!replace) {
      const r = await client.query(`SELECT EXISTS (SELECT 1 FROM ${qualified(schema, namesOf(t).table)}) AS x`);
      if (r.rows[0].x) throw new MigrationError("TARGET_NOT_EMPTY", `Target table ${schema}.${t.name} already holds rows; copying would duplicate them. Re-run with --replace to reload it, or use an empty target.`, { table: t.name, step: "copy" });
    }
    // TRUNCATE (of an empty table when not replacing) in this transaction lets COPY write the rows
    // already frozen: every later scan of the table (keys, foreign keys, indexes, the checksum)
    // then skips the per-row commit-status lookups and hint-bit writes. A table other tables
    // reference by foreign key cannot be truncated: it is loaded unfrozen (and must be empty).
    await client.query("SAVEPOINT armp_truncate");
    let freeze = true;
    try {
      await client.query(`TRUNCATE ${qualified(schema, namesOf(t).table)}`);
      await client.query("RELEASE SAVEPOINT armp_truncate");
    } catch (e) {
      if (replace) throw e;
      await client.query("ROLLBACK TO SAVEPOINT armp_truncate");
      freeze = false;
    }
    // PostgreSQL may reject a row while we are still sending: sending stops then (writing to a
    // failed COPY throws inside pg-copy-streams) and the row it names is reported.
    const copy = new CopySegments(client, `COPY ${qualified(schema, namesOf(t).table)} (${cols.map((c) => quoteIdent(c.target)).join(", ")}) FROM STDIN`, freeze);
    // A binary table's statements do not map line numbers to source rows: PostgreSQL's rejection
    // makes copyTables load the table again as COPY text, which names the row (BinaryCopyRejected).
    const rejected = (e: unknown): Error => (mainFormat === "binary" ? new BinaryCopyRejected(t.name, e) : rejectedRow(db, t, cols, sql, keyIdx, keyNames, e));
    // The source checksum (run only) is summed from the same converted values as the COPY text.
    // Big tables are encoded on a worker thread (encode-thread.ts) so --jobs uses every core.
    const job = { sourcePath: threadedSource ?? "", table: t, cols, sql, keyIdx, keyNames, checksum, native };
    // The split table's workers were reserved up front (copyTables); other big tables take one
    // worker while the budget (peak RSS <= 300 MB) has room, else encode on this thread.
    const blocks = split && threadedSource !== null && rangeSql !== null ? rowidBlocks(db, t) : null;
    const single = blocks === null && threadedSource !== null && totalRows >= WORKER_MIN_ROWS && (split || workers.free >= 1);
    const taken = single && !split ? 1 : 0;
    workers.free -= taken;
    releaseWorkers = () => void (workers.free += taken + (split ? SPLIT_WORKERS : 0));
    const src =
      blocks !== null
        ? splitWorkerChunks({ ...job, sql: rangeSql! }, blocks, SPLIT_WORKERS)
        : threadedSource !== null && totalRows >= WORKER_MIN_ROWS
          ? workerChunks(job)
          : native !== null
            ? nativeInThreadChunks(db, native, new NativeBlockEncoder(db, native, new TableEncoder(db, t, cols, keyIdx, keyNames, sum), t.name), sum)
            : inThreadChunks(stmt, new TableEncoder(db, t, cols, keyIdx, keyNames, sum), sum);
    let lastProgress = 0;
    try {
      for await (const chunk of src.chunks) {
        if (copy.error !== null) break;
        bytes += chunk.length;
        await copy.write(chunk, isTextSide(chunk) ? "text" : mainFormat);
        src.release();
        if (onProgress && src.rows() - lastProgress >= 50_000) {
          lastProgress = src.rows();
          onProgress({ table: t.name, rows: lastProgress, totalRows, bytes });
        }
      }
    } finally {
      await src.close();
      releaseWorkers();
      releaseWorkers = () => undefined;
    }
    if (copy.error !== null) {
      (client as unknown as { connection: { stream: { destroy: () => void } } }).connection.stream.destroy();
      throw rejected(copy.error);
    }
    const res = src.result();
    rows = res.rows;
    sourceSum = res.sum ?? undefined;
    const problem = res.problem;
    if (problem) {
      // Dropping the connection aborts the COPY and its transaction server-side; nothing of this
      // table is kept. (A CopyFail via stream.destroy() left pg's client waiting forever.)
      (client as unknown as { connection: { stream: { destroy: () => void } } }).connection.stream.destroy();
      throw problem;
    }
    await copy.end();
    statements = copy.statements;
    if (copy.error !== null) {
      // After a COPY error pg's client may keep the copy as its active query; dropping the
      // connection is the reliable way to end it (the server rolls the transaction back).
      (client as unknown as { connection: { stream: { destroy: () => void } } }).connection.stream.destroy();
      throw rejected(copy.error);
    }
    await client.query("COMMIT");
    onProgress?.({ table: t.name, rows, totalRows, bytes });
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e instanceof MigrationError || e instanceof BinaryCopyRejected ? e : rejectedRow(db, t, cols, sql, keyIdx, keyNames, e);
  }
  const report: TableCopyReport = { table: t.name, rowsRead: rows, rowsWritten: rows, bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9, format: mainFormat, copyStatements: statements };
  if (sourceSum) report.sourceSum = sourceSum;
  return report;
}

/** PostgreSQL rejected a binary table's data; copyTables then loads the table as COPY text. */
class BinaryCopyRejected extends Error {
  constructor(
    readonly table: string,
    cause: unknown,
  ) {
    super(`PostgreSQL rejected COPY BINARY data of ${table}; loading it again as COPY text`, { cause });
  }
}

/** Maps a COPY error to the row we sent: PostgreSQL names the line; we re-read that row from the same snapshot. */
function rejectedRow(db: SqliteDb, t: SourceTable, cols: TargetColumn[], sql: string, keyIdx: number[], keyNames: string[], e: unknown): MigrationError {
  const err = pgErr(e);
  if (!err.code) return asMigrationError(e, `copy ${t.name}`);
  const m = /line (\d+)(?:, column ([^:]+))?/.exec(err.where ?? "");
  const column = err.column ?? m?.[2]?.trim();
  let key: Record<string, unknown> | undefined;
  let value: unknown;
  if (m) {
    const line = Number(m[1]);
    let n = 0;
    const it = db.prepare(sql).raw(true).safeIntegers(true).iterate() as IterableIterator<unknown[]>;
    try {
      for (const row of it) {
        if (++n === line) {
          key = keyFromRow(row, keyIdx, keyNames);
          const ci = cols.findIndex((c) => c.column === column);
          if (ci >= 0) value = jsonSafe(row[ci]);
          break;
        }
      }
    } finally {
      it.return?.();
    }
  }
  const col = cols.find((c) => c.column === column);
  const hint = col ? ` Fix the value in the source or change the column's type, e.g. --cast ${t.name}.${col.column}=text.` : " Fix the row in the source.";
  return new MigrationError(
    "ROW_REJECTED",
    `PostgreSQL rejected a row of ${t.name}${column ? ` in column ${column}${col ? ` (${col.pgType})` : ""}` : ""}${key ? ` at key ${JSON.stringify(key)}` : ""}: ${err.message}.${hint} Nothing of ${t.name} was kept.`,
    { table: t.name, ...(column ? { column } : {}), ...(key ? { key } : {}), ...(value !== undefined && typeof value !== "object" ? { value: String(value).slice(0, 200) } : {}), pgCode: err.code, step: "copy" },
    e,
  );
}

/** Runs fn over items, at most `jobs` at a time; results in input order; the first failure stops new starts and is thrown. */
export async function pool<T, R>(items: T[], jobs: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed: unknown = null;
  const worker = async (): Promise<void> => {
    while (failed === null && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  if (failed !== null) throw failed;
  return out;
}

export interface CopyOptions {
  tables?: string[];
  jobs?: number;
  replace?: boolean;
  onProgress?: (p: CopyProgress) => void;
  /** The same renames the tables were created with (names.ts). */
  renames?: Renames;
}

export async function copyData(sourcePath: string, target: TargetRef, opts: CopyOptions = {}): Promise<CopyReport> {
  return copyTables(sourcePath, target, opts);
}

/**
 * copyData, plus (for runMigration) the source side of each table's checksum summed during the
 * copy pass: `run` then verifies against PostgreSQL without a second SQLite scan.
 */
export async function copyTables(
  sourcePath: string,
  target: TargetRef,
  opts: CopyOptions & {
    checksum?: boolean;
    deferValidation?: boolean;
    /** Called once every table is loaded and committed, before keys and foreign keys (run starts its target sums there). */
    afterLoad?: (tables: SourceTable[]) => void;
    /** With deferValidation: indexes built in the key queue, before the foreign keys are added (run's secondary indexes). */
    indexBuilds?: IndexBuild[];
  } = {},
): Promise<CopyReport & { deferred?: DeferredValidations }> {
  const started = process.hrtime.bigint();
  const schemaName = schemaOf(target);
  const db = openSource(sourcePath);
  let report: (TableCopyReport)[];
  let schema: SourceSchema;
  let tables: SourceTable[];
  try {
    schema = introspect(db);
    nameSchema(schema, opts.renames);
    tables = pickTables(schema, opts.tables);
    // One read transaction for every table: all iterators see the same snapshot.
    db.exec("BEGIN");
    try {
      const counts = new Map(tables.map((t) => [t.name, Number((db.prepare(`SELECT count(*) AS n FROM ${qi(t.name)}`).get() as { n: number }).n)]));
      // Workers read in their own transactions; the counts above hold this one's SHARED lock first.
      const threaded = canUseEncodeWorkers(db) ? sourcePath : null;
      // Only the largest table is split, decided here before any table starts: deciding inside
      // copyTable let a smaller table that reached the check first take the split's workers.
      const order = [...tables].sort((a, b) => counts.get(b.name)! - counts.get(a.name)!);
      const first = order[0];
      // The row hash verify() will use against this server, so the sums summed here are usable.
      const algo = opts.checksum ? await withTarget(target, "checksum", checksumAlgo) : null;
      const native = threaded !== null && algo !== "md5" && loadNative(db);
      const splitName = threaded !== null && !native && first && splittable(first) && counts.get(first.name)! >= splitMinRows() ? first.name : null;
      const workers: WorkerBudget = { free: (native ? MAX_WORKERS_NATIVE : MAX_WORKERS) - (splitName !== null ? SPLIT_WORKERS : 0) };
      if (opts.replace) await dropForeignKeysTouching(target, tables);
      report = await pool(order, opts.jobs ?? 1, async (t) => {
        const attempt = async (binary: boolean): Promise<TableCopyReport> => {
          const client = await session(target, `copy ${t.name}`);
          try {
            return await copyTable(db, t, client, schemaName, !!opts.replace, counts.get(t.name)!, opts.onProgress, algo, threaded, workers, t.name === splitName, binary);
          } finally {
            await release(target, client);
          }
        };
        try {
          return await attempt(true);
        } catch (e) {
          // The text load raises the same rejection with its row named (or loads the table, if
          // only the binary form was refused); its transaction starts from the rolled-back state.
          if (!(e instanceof BinaryCopyRejected)) throw e;
          return await attempt(false);
        }
      });
    } finally {
      db.exec("COMMIT");
    }
  } catch (e) {
    throw e instanceof MigrationError ? e : (e as { code?: string }).code?.startsWith("SQLITE") ? mapSqliteError(e, { step: "copy" }) : asMigrationError(e, "copy");
  } finally {
    db.close();
  }
  opts.afterLoad?.(tables);
  let warnings: string[] = [];
  let deferred: DeferredValidations | undefined;
  if (opts.deferValidation) {
    deferred = await finishTablesDeferred(target, schema, tables, opts.jobs ?? 1, opts.indexBuilds);
    warnings = warningsOf(deferred);
  } else warnings = await finishTables(target, schema, tables, opts.jobs ?? 1);
  const byName = new Map(report.map((r) => [r.table, r]));
  const ordered = tables.map((t) => byName.get(t.name)!);
  return {
    tables: ordered,
    totals: {
      rowsRead: ordered.reduce((a, r) => a + r.rowsRead, 0),
      rowsWritten: ordered.reduce((a, r) => a + r.rowsWritten, 0),
      bytes: ordered.reduce((a, r) => a + r.bytes, 0),
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    },
    warnings,
    ...(deferred ? { deferred } : {}),
  };
}

/** --replace truncates tables; FKs pointing at them would block that, so they are dropped and re-added after the load. */
async function dropForeignKeysTouching(target: TargetRef, tables: SourceTable[]): Promise<void> {
  const s = schemaOf(target);
  await withTarget(target, "replace", async (c) => {
    const r = await c.query<{ rel: string; conname: string }>(
      `SELECT x.conrelid::regclass::text AS rel, x.conname FROM pg_constraint x
        WHERE x.contype = 'f' AND (x.confrelid = ANY($1::regclass[]) OR x.conrelid = ANY($1::regclass[]))`,
      [tables.map((t) => qualified(s, namesOf(t).table))],
    ).catch(() => ({ rows: [] as { rel: string; conname: string }[] }));
    for (const x of r.rows) await c.query(`ALTER TABLE ${x.rel} DROP CONSTRAINT IF EXISTS ${quoteIdent(x.conname)}`);
  });
}

/**
 * Runs fn over items on `jobs` connections of their own (each item on one connection, in order of
 * the items as connections free up); the first failure stops new starts and is thrown.
 */
async function onConnections<T>(target: TargetRef, label: string, jobs: number, items: T[], fn: (c: Client, item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, async () => {
      if (next >= items.length) return;
      const c = await session(target, label);
      try {
        while (failed === null && next < items.length) {
          const i = next++;
          try {
            await fn(c, items[i]);
          } catch (e) {
            failed ??= e;
          }
        }
      } finally {
        await release(target, c);
      }
    }),
  );
  if (failed !== null) throw failed;
}

/**
 * An index the caller wants built beside the keys (finishTablesDeferred's extraBuilds): build runs
 * on a build session of the key queue and must not throw for an index that cannot be created (a
 * failure stops the queue and fails the step, as a key that cannot be added does).
 */
export interface IndexBuild {
  table: string;
  build: (c: Client) => Promise<void>;
}

/** Foreign keys added NOT VALID whose validation is still to run (finishTables with deferValidation). */
export interface DeferredValidations {
  /** Warnings in declaration order; null where a validation's outcome is still to come (or none). */
  slots: (string | null)[];
  pending: { t: SourceTable; name: string; parent: string; slot: number }[];
}

/**
 * PK/UNIQUE, then FKs, then sequences; each skipped when already present so re-runs are safe.
 * Each key's unique index is built `jobs` at a time, largest tables first, then all are attached
 * in one transaction; a key that cannot be added fails the step. Foreign keys are added NOT
 * VALID in one short transaction, then validated `jobs` at a time (VALIDATE takes only SHARE UPDATE
 * EXCLUSIVE on the child and ROW SHARE on the parent, so validations cannot deadlock); one whose rows
 * reference missing parents stays NOT VALID with a warning, which is what SQLite's data allows.
 */
export async function finishTables(target: TargetRef, schema: SourceSchema, tables: SourceTable[], jobs = 1): Promise<string[]> {
  const deferred = await finishTablesDeferred(target, schema, tables, jobs);
  await onConnections(target, "constraints", jobs, deferred.pending, (c, v) => validateForeignKey(c, schemaOf(target), deferred, v));
  return warningsOf(deferred);
}

/** The warnings of finishTables once every deferred validation has run. */
export function warningsOf(d: DeferredValidations): string[] {
  return d.slots.filter((w): w is string => w !== null);
}

/**
 * VALIDATE CONSTRAINT for one foreign key added NOT VALID; one whose rows reference missing parents
 * stays NOT VALID with a warning in its slot (SQLite never enforced it), any other failure drops it.
 */
export async function validateForeignKey(c: Client, s: string, d: DeferredValidations, v: DeferredValidations["pending"][number]): Promise<void> {
  const { t, name, parent, slot } = v;
  try {
    await c.query(`ALTER TABLE ${qualified(s, namesOf(t).table)} VALIDATE CONSTRAINT ${quoteIdent(name)}`);
  } catch (e) {
    if (pgErr(e).code === "23503") {
      // SQLite never enforced the key: keep the rows, enforce it for new rows, tell the user.
      d.slots[slot] = `${t.name}: foreign key ${name} added NOT VALID because some rows reference missing ${parent} rows; fix them, then ALTER TABLE ... VALIDATE CONSTRAINT ${name}`;
    } else {
      await c.query(`ALTER TABLE ${qualified(s, namesOf(t).table)} DROP CONSTRAINT IF EXISTS ${quoteIdent(name)}`);
      d.slots[slot] = `${t.name}: foreign key ${name} not created: ${pgErr(e).message}`;
    }
  }
}

/**
 * finishTables up to the foreign keys added NOT VALID: keys, those foreign keys and sequences; the
 * validations are returned for the caller to run (validateForeignKey), e.g. alongside other work.
 */
export async function finishTablesDeferred(target: TargetRef, schema: SourceSchema, tables: SourceTable[], jobs = 1, extraBuilds: IndexBuild[] = []): Promise<DeferredValidations> {
  const s = schemaOf(target);
  const sizes = await withTarget(target, "constraints", (c) => tablePages(c, s));
  // Sizes are keyed by PostgreSQL table name, as are the builds' tables.
  const sizeOf = (t: SourceTable): number => sizes.get(namesOf(t).table) ?? 0;
  const bySize = [...tables].sort((a, b) => sizeOf(b) - sizeOf(a));
  // PRIMARY KEY and UNIQUE: each key's unique index is built on its own connection (`jobs` at a
  // time, largest tables first; CREATE INDEX takes a ShareLock, so two keys of one table build at
  // once, which ALTER TABLE ... ADD CONSTRAINT would serialise), then attached as the constraint.
  // The caller's secondary indexes (extraBuilds) are built in the same queue, so they exist before
  // the foreign keys are validated: an index on the referencing column lets the validation read it
  // instead of the whole table (publication.organization_id at scale 10: 0.15 s against 0.44 s).
  const keys = await withTarget(target, "constraints", async (c) => {
    const out: { t: SourceTable; name: string; cols: string[]; primary: boolean }[] = [];
    for (const t of bySize) {
      const hasPk = await c.query(`SELECT 1 FROM pg_index WHERE indrelid = $1::regclass AND indisprimary`, [qualified(s, namesOf(t).table)]);
      if (t.primaryKey.length > 0 && (hasPk.rowCount ?? 0) === 0) out.push({ t, name: pkName(t), cols: t.primaryKey, primary: true });
      for (const u of t.uniques) if (!(await constraintExists(c, s, namesOf(t).table, uniqueName(t, u)))) out.push({ t, name: uniqueName(t, u), cols: u, primary: false });
    }
    return out;
  });
  const builds: IndexBuild[] = [
    ...keys.map((k) => ({
      table: namesOf(k.t).table,
      build: (c: Client) => addConstraint(c, `CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdent(k.name)} ON ${qualified(s, namesOf(k.t).table)} (${targetColumnList(k.t, k.cols)})`, k.t, k.name),
    })),
    ...extraBuilds,
  ];
  // Largest tables first, keys before the other indexes of their table (sort is stable).
  builds.sort((a, b) => (sizes.get(b.table) ?? 0) - (sizes.get(a.table) ?? 0));
  await onConnections(target, "constraints", jobs, builds, async (c, b) => {
    await useSortMemory(c);
    await b.build(c);
  });
  await withTarget(target, "constraints", (c) =>
    inTransaction(c, async () => {
      for (const k of keys) await addConstraint(c, `ALTER TABLE ${qualified(s, namesOf(k.t).table)} ADD CONSTRAINT ${quoteIdent(k.name)} ${k.primary ? "PRIMARY KEY" : "UNIQUE"} USING INDEX ${quoteIdent(k.name)}`, k.t, k.name);
    }),
  );
  // Warnings in declaration order whatever order the validations finish in.
  const slots: (string | null)[] = [];
  const added: { t: SourceTable; name: string; parent: string; slot: number }[] = [];
  await withTarget(target, "constraints", (c) =>
    inTransaction(c, async () => {
      for (const t of tables) {
        for (const fk of t.foreignKeys) {
          const parent = resolveTable(schema.tables, fk.refTable);
          if (!parent) {
            slots.push(`${t.name}: foreign key (${fk.columns.join(", ")}) references missing table ${fk.refTable}; not created`);
            continue;
          }
          const name = fkName(t, fk);
          if (await constraintExists(c, s, namesOf(t).table, name)) continue;
          const sql = renderForeignKey(s, t, fk, parent);
          // Errors that do not depend on the rows (no unique key on the parent columns, type
          // mismatch) show here already; the key is left out with a warning, as before.
          await c.query("SAVEPOINT fk");
          try {
            await c.query(sql + " NOT VALID");
            await c.query("RELEASE SAVEPOINT fk");
            added.push({ t, name, parent: parent.name, slot: slots.push(null) - 1 });
          } catch (e) {
            await c.query("ROLLBACK TO SAVEPOINT fk");
            slots.push(`${t.name}: foreign key ${name} not created: ${pgErr(e).message}`);
          }
        }
      }
    }),
  );
  await withTarget(target, "sequences", async (c) => {
    for (const t of tables) await resetSequences(c, s, namesOf(t).table);
  });
  // Largest child tables first (stable), so the longest validation does not start last and run
  // alone at the tail; warnings keep declaration order through their slots.
  added.sort((a, b) => sizeOf(b.t) - sizeOf(a.t));
  return { slots, pending: added };
}

async function addConstraint(c: Client, sql: string, t: SourceTable, name: string): Promise<void> {
  try {
    await c.query(sql);
  } catch (e) {
    const err = pgErr(e);
    throw new MigrationError("ROW_REJECTED", `Constraint ${name} on ${t.name} cannot be added: ${err.message}${err.detail ? ` (${err.detail})` : ""}. SQLite allowed duplicates here; remove them in the source and re-run with --replace.`, { table: t.name, constraint: name, pgCode: err.code, detail: err.detail, step: "constraints" }, e);
  }
}

/** Identity/serial sequences continue after max(column), so an INSERT without id works. `table`: its PostgreSQL name. */
export async function resetSequences(c: Client, schema: string, table: string): Promise<void> {
  const rel = qualified(schema, table);
  const r = await c.query<{ attname: string; seq: string }>(
    "SELECT attname, pg_get_serial_sequence($1, attname) AS seq FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND pg_get_serial_sequence($1, attname) IS NOT NULL",
    [rel],
  );
  for (const x of r.rows) {
    // SQLite gives a new row max(rowid)+1, or 1 when there is none or max <= 0. setval(seq, max,
    // true) says the same without computing max+1, which would overflow at 2^63-1.
    await c.query(`SELECT CASE WHEN m IS NULL OR m < 1 THEN setval($1, 1, false) ELSE setval($1, m, true) END FROM (SELECT max(${quoteIdent(x.attname)}) AS m FROM ${rel}) AS x`, [x.seq]);
  }
}
