/**
 * verify(): row counts, content checksums, sequences and foreign keys, source vs target. On a
 * checksum mismatch it narrows down to the primary keys that differ: integer keys by range
 * bisection (both sides sum a key range until the range is small), other keys by a per-row diff.
 */
import type { Client } from "pg";
import { fkName, qualified, quoteIdent } from "./ddl";
import { asMigrationError, MigrationError } from "./errors";
import { introspect, quoteSqliteIdent as qi, type SourceSchema, type SourceTable } from "./introspect";
import { nameSchema, namesOf, type Renames } from "./names";
import { targetColumns, type TargetColumn } from "./copy";
import { checksumAlgo, combineSums, RowSum, sourceKeyJson, sourceRowMap, sourceRowMapByKeys, sourceSum, targetRowMap, targetRowMapByKeys, targetSum, type ChecksumAlgo, type RangeSum } from "./checksum";
import type { SqliteValue } from "./values";
import { release, schemaOf, session, tablePages, withTarget, type TargetRef } from "./pg";
import { mapSqliteError, openSource, type SqliteDb } from "./sqlite";
import { pickTables } from "./target-ddl";

export interface VerifyTableReport {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
  match: boolean;
  sequenceOk: boolean;
  /** Declared foreign keys present and validated (false when added NOT VALID because of orphans). */
  foreignKeysOk: boolean;
  /** JSON of the primary keys that differ (first 20). */
  differingKeys: string[];
  /**
   * On a mismatch, the columns whose numbers were read as instants (epoch columns) and whose
   * stored numbers differ from the target's instants turned back into numbers, with a coded
   * VERIFY_MISMATCH naming them.
   */
  instantMismatch?: { code: "VERIFY_MISMATCH"; columns: string[]; message: string };
}

export interface VerifyReport {
  ok: boolean;
  tables: VerifyTableReport[];
  seconds: number;
  /** Chunked verify only (`chunkRows`): the key-range chunks read, each in its own short read. */
  chunks?: number;
}

const MAX_KEYS = 20;
/** differingKeys holds at most this many keys; a report with this many may have been cut short. */
export const MAX_DIFFERING_KEYS = MAX_KEYS;
const LEAF_ROWS = 256;

export async function verify(sourcePath: string, target: TargetRef, opts: { tables?: string[]; renames?: Renames } & ChunkOptions = {}): Promise<VerifyReport> {
  if (opts.chunkRows !== undefined) return verifyChunked(sourcePath, target, opts);
  return verifyTables(sourcePath, target, { tables: opts.tables, renames: opts.renames });
}

export interface ChunkOptions {
  /**
   * Verify in key-range chunks of about this many rows, each read by its own SQLite statement
   * (a read transaction of one statement) and its own PostgreSQL statement, instead of one read
   * transaction for the whole verify. In rollback-journal mode a read transaction makes the app's
   * commits wait for as long as it lasts; chunked, they wait at most for one chunk's read.
   * The report then describes no single moment: a row written between chunks may show as
   * differing (cut-over re-checks such rows by key inside its freeze).
   */
  chunkRows?: number;
  /**
   * Chunked only: runs between chunks ("next") and before a mismatching chunk is read again
   * ("recheck"); cut-over syncs the tail here, so a row the app just wrote does not show as differing.
   */
  betweenChunks?: (why: "next" | "recheck") => Promise<void>;
}

export interface VerifyOptions {
  tables?: string[];
  /** The renames the tables were migrated with (names.ts). */
  renames?: Renames;
  /** Tables verified at once, each on its own connection (all in one exported snapshot). */
  jobs?: number;
  /**
   * Source sums already computed from the copy pass of the same run (copyTables with checksum):
   * those tables skip the SQLite re-scan. The target side is always read from PostgreSQL.
   */
  sourceSums?: Map<string, RangeSum>;
  /**
   * Target sums already computed (targetSumsInParts, run only): verification then only compares
   * them and checks sequences, foreign keys and, on a mismatch, the differing keys.
   */
  targetSums?: Promise<Map<string, RangeSum>>;
}

/**
 * Each table's target sum, computed in parts (sumParts) on `jobs` connections of their own, each
 * part in its own statement and transaction: `run` starts this as soon as every table is loaded,
 * while the keys are built, and no lock is held between parts (a part's ACCESS SHARE lock would
 * otherwise keep ADD CONSTRAINT waiting until the end). Nothing writes to the tables meanwhile
 * (run holds the migration lock), so the sums describe the loaded data.
 */
export async function targetSumsInParts(target: TargetRef, tables: SourceTable[], jobs: number): Promise<Map<string, RangeSum>> {
  const s = schemaOf(target);
  const clients: Client[] = [];
  try {
    for (let i = 0; i < Math.max(1, jobs); i++) clients.push(await session(target, "verify"));
    const c = clients[0];
    const algo = await checksumAlgo(c);
    const colsOf = new Map<string, TargetColumn[]>();
    for (const t of tables) colsOf.set(t.name, await targetColumns(c, s, t, { generated: true }));
    return await sumInParts(clients, s, tables, colsOf, algo, await tablePages(c, s));
  } finally {
    for (const x of clients) await release(target, x);
  }
}

/**
 * The source sum of t: the copy pass's when it was built with the same row hash and columns, else
 * read from SQLite. The copy pass leaves out the columns PostgreSQL generates; verification sums
 * them too (SQLite's computed values against PostgreSQL's), so such tables are read again.
 */
function sourceSide(db: SqliteDb, t: SourceTable, cols: TargetColumn[], algo: ChecksumAlgo, known?: Map<string, RangeSum>): RangeSum {
  const k = cols.some((c) => c.generated) ? undefined : known?.get(t.name);
  return k && (k.algo ?? "md5") === algo ? k : sourceSum(db, t, cols, algo);
}

/**
 * Every table's target sum from its parts (sumParts), the parts taken largest first by whichever
 * connection is free; `onFirstPart` runs (synchronously) while a table's first part is computed.
 */
async function sumInParts(
  clients: Client[],
  schema: string,
  tables: SourceTable[],
  colsOf: Map<string, TargetColumn[]>,
  algo: ChecksumAlgo,
  pages: Map<string, number>,
  onFirstPart?: (t: SourceTable) => void,
): Promise<Map<string, RangeSum>> {
  // Parts are keyed by source table name; pages and the sums' SQL use the PostgreSQL name.
  const pgName = new Map(tables.map((t) => [t.name, namesOf(t).table]));
  const parts = sumParts(tables.map((t) => ({ table: t.name, pages: pages.get(pgName.get(t.name)!) ?? 0 })), clients.length);
  const sums = new Map<string, RangeSum[]>();
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < parts.length) {
        const part = parts[next++];
        const pending = targetSum(client, schema, pgName.get(part.table)!, colsOf.get(part.table)!, algo, part.where, part.params);
        pending.catch(() => undefined);
        if (part.first && onFirstPart) onFirstPart(tables.find((x) => x.name === part.table)!);
        const sum = await pending;
        sums.set(part.table, [...(sums.get(part.table) ?? []), sum]);
      }
    }),
  );
  return new Map(tables.map((t) => [t.name, sums.get(t.name)!.reduce((a, b) => combineSums(a, b))]));
}

export async function verifyTables(sourcePath: string, target: TargetRef, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const started = process.hrtime.bigint();
  const s = schemaOf(target);
  return inSourceSnapshot(sourcePath, async (db, schema) => {
    const tables = pickTables(schema, opts.tables);
    const out = await withTarget(target, "verify", async (c) => {
      const algo = await checksumAlgo(c);
      await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const extra: Client[] = [];
      try {
        if (opts.targetSums) {
          const tgt = await opts.targetSums;
          const reports: VerifyTableReport[] = [];
          for (const t of tables) {
            const cols = await targetColumns(c, s, t, { generated: true });
            const src = sourceSide(db, t, cols, algo, opts.sourceSums);
            const sum = tgt.get(t.name);
            if (!sum || (sum.algo ?? "md5") !== algo) throw new MigrationError("INTERNAL", `No target sum of ${t.name} for verification. Re-run; if it repeats, run \`armp-migrate verify\` and report it.`, { table: t.name, step: "verify" });
            reports.push(await verifyTable(db, c, s, t, cols, algo, src, sum));
          }
          await c.query("COMMIT");
          return reports;
        }
        // Every connection reads the same snapshot, so the report describes one moment of the target.
        // (One table can use every connection too: it is summed in parts.)
        const jobs = Math.max(1, opts.jobs ?? 2);
        if (jobs > 1) {
          const snap = (await c.query<{ s: string }>("SELECT pg_export_snapshot() AS s")).rows[0].s;
          for (let i = 1; i < jobs; i++) {
            const x = await session(target, "verify");
            extra.push(x);
            await x.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            await x.query(`SET TRANSACTION SNAPSHOT '${snap.replace(/'/g, "''")}'`);
          }
        }
        // Each table's target sum is computed in parts (heap page ranges of the big tables), largest
        // first over all connections, so one big table is not left summing alone at the tail.
        const colsOf = new Map<string, TargetColumn[]>();
        for (const t of tables) colsOf.set(t.name, await targetColumns(c, s, t, { generated: true }));
        const srcSums = new Map<string, RangeSum>();
        // The source side is read while PostgreSQL computes the table's first part.
        const sums = await sumInParts([c, ...extra], s, tables, colsOf, algo, await tablePages(c, s), (t) => srcSums.set(t.name, sourceSide(db, t, colsOf.get(t.name)!, algo, opts.sourceSums)));
        const reports: VerifyTableReport[] = [];
        for (const t of tables) reports.push(await verifyTable(db, c, s, t, colsOf.get(t.name)!, algo, srcSums.get(t.name)!, sums.get(t.name)!));
        await c.query("COMMIT");
        for (const x of extra) await x.query("COMMIT");
        return reports;
      } finally {
        for (const x of extra) await release(target, x);
      }
    });
    return { ok: out.every((t) => t.match && t.sequenceOk), tables: out, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  }, opts.renames);
}

/**
 * The epoch columns of a mismatching table whose own sums differ: SQLite's stored numbers
 * (seconds since the epoch's origin) against PostgreSQL's instants minus the origin.
 */
async function instantColumnsDiffering(db: SqliteDb, c: Client, schema: string, t: SourceTable, cols: TargetColumn[], algo: ChecksumAlgo, r: KeyRange = WHOLE_TABLE): Promise<VerifyTableReport["instantMismatch"]> {
  const columns: string[] = [];
  for (const col of cols.filter((x) => x.epoch)) {
    const src = sourceSum(db, t, [col], algo, r.sw, r.sp);
    const tgt = await targetSum(c, schema, namesOf(t).table, [col], algo, r.pw, r.pp);
    if (src.checksum !== tgt.checksum || src.rows !== tgt.rows) columns.push(col.column);
  }
  if (columns.length === 0) return undefined;
  const what = columns.map((n) => `${t.name}.${n} (${cols.find((x) => x.column === n)!.epoch})`).join(", ");
  return {
    code: "VERIFY_MISMATCH",
    columns,
    message: `${what}: the target's instants, turned back into numbers since the epoch, differ from the numbers stored in SQLite. The copy read them with the wrong epoch or unit, or the target was changed; check with --epoch ${t.name}.${columns[0]}=number (keeps the numbers) or re-run the copy.`,
  };
}

/** Tables are summed in at most this many heap page ranges each. */
const MAX_SUM_PARTS = 4;

interface SumPart {
  table: string;
  /** Heap pages in this part (for ordering). */
  pages: number;
  /** The part that reads the source side too. */
  first: boolean;
  where: string;
  params: string[];
}

/**
 * Target-sum work items, largest first: a table holding more than its share of the pages (a
 * quarter of all pages for two connections) is split into heap page ranges (ctid ranges, read by
 * a TID range scan); every row lies in exactly one range, and sums add (combineSums).
 */
export function sumParts(tables: { table: string; pages: number }[], connections: number): SumPart[] {
  const total = tables.reduce((a, t) => a + t.pages, 0);
  const share = total / Math.max(1, 2 * connections);
  const out: SumPart[] = [];
  for (const t of tables) {
    const n = share > 0 ? Math.min(MAX_SUM_PARTS, Math.max(1, Math.round(t.pages / share))) : 1;
    if (n === 1) {
      out.push({ table: t.table, pages: t.pages, first: true, where: "", params: [] });
      continue;
    }
    const step = Math.ceil(t.pages / n);
    for (let k = 0; k < n; k++) {
      const lo = `(${k * step},0)`;
      const hi = `(${(k + 1) * step},0)`;
      // The last range is open, so no row is left out whatever the page count.
      out.push(
        k === n - 1
          ? { table: t.table, pages: t.pages - k * step, first: k === 0, where: "ctid >= $1::tid", params: [lo] }
          : { table: t.table, pages: step, first: k === 0, where: "ctid >= $1::tid AND ctid < $2::tid", params: [lo, hi] },
      );
    }
  }
  return out.sort((a, b) => b.pages - a.pages);
}

async function verifyTable(db: SqliteDb, c: Client, schema: string, t: SourceTable, cols: TargetColumn[], algo: ChecksumAlgo, src: RangeSum, tgt: RangeSum): Promise<VerifyTableReport> {
  const match = src.rows === tgt.rows && src.checksum === tgt.checksum;
  const differingKeys = match ? [] : await findDifferingKeys(db, c, schema, t, cols, algo);
  const instantMismatch = match ? undefined : await instantColumnsDiffering(db, c, schema, t, cols, algo);
  return {
    ...(instantMismatch ? { instantMismatch } : {}),
    table: t.name,
    sourceRows: src.rows,
    targetRows: tgt.rows,
    sourceChecksum: src.checksum,
    targetChecksum: tgt.checksum,
    match,
    sequenceOk: await sequencesOk(c, schema, namesOf(t).table),
    foreignKeysOk: await foreignKeysOk(c, schema, t),
    differingKeys,
  };
}

async function findDifferingKeys(db: SqliteDb, c: Client, schema: string, t: SourceTable, cols: TargetColumn[], algo: ChecksumAlgo): Promise<string[]> {
  const keyCols = t.primaryKey.map((k) => cols.find((x) => x.column === k)).filter((x): x is TargetColumn => !!x);
  if (keyCols.length === 0 || keyCols.length !== t.primaryKey.length) {
    // No key: compare the multisets of row hashes and report the differing rows' hashes.
    return diffMultisets(db, c, schema, t, cols);
  }
  if (keyCols.length === 1 && keyCols[0].kind === "int") {
    const k = keyCols[0];
    const sMinMax = db.prepare(`SELECT min(${qi(k.column)}) AS lo, max(${qi(k.column)}) AS hi FROM ${qi(t.name)}`).safeIntegers(true).get() as { lo: bigint | null; hi: bigint | null };
    const tMinMax = (await c.query(`SELECT min(${quoteIdent(k.target)})::text AS lo, max(${quoteIdent(k.target)})::text AS hi FROM ${qualified(schema, namesOf(t).table)}`)).rows[0] as { lo: string | null; hi: string | null };
    const cands = [sMinMax.lo, sMinMax.hi, tMinMax.lo === null ? null : BigInt(tMinMax.lo), tMinMax.hi === null ? null : BigInt(tMinMax.hi)].filter((x): x is bigint => x !== null);
    if (cands.length === 0) return [];
    const lo = cands.reduce((a, b) => (b < a ? b : a));
    const hi = cands.reduce((a, b) => (b > a ? b : a));
    const found: string[] = [];
    await bisect(db, c, schema, t, cols, algo, k, lo, hi, found);
    return found.slice(0, MAX_KEYS);
  }
  const srcMap = sourceRowMap(db, t, cols, keyCols);
  const tgtMap = await targetRowMap(c, schema, namesOf(t).table, cols, keyCols);
  return diffMaps(srcMap, tgtMap);
}

async function bisect(db: SqliteDb, c: Client, schema: string, t: SourceTable, cols: TargetColumn[], algo: ChecksumAlgo, k: TargetColumn, lo: bigint, hi: bigint, found: string[]): Promise<void> {
  if (found.length >= MAX_KEYS) return;
  const sw = `${qi(k.column)} BETWEEN ? AND ?`;
  const pw = `${quoteIdent(k.target)} BETWEEN $1 AND $2`;
  const src = sourceSum(db, t, cols, algo, sw, [lo, hi]);
  const tgt = await targetSum(c, schema, namesOf(t).table, cols, algo, pw, [lo.toString(), hi.toString()]);
  if (src.rows === tgt.rows && src.checksum === tgt.checksum) return;
  if (hi - lo < BigInt(LEAF_ROWS) || Math.max(src.rows, tgt.rows) <= LEAF_ROWS) {
    const sm = sourceRowMap(db, t, cols, [k], sw, [lo, hi]);
    const tm = await targetRowMap(c, schema, namesOf(t).table, cols, [k], pw, [lo.toString(), hi.toString()]);
    found.push(...diffMaps(sm, tm));
    return;
  }
  const mid = lo + (hi - lo) / 2n;
  await bisect(db, c, schema, t, cols, algo, k, lo, mid, found);
  await bisect(db, c, schema, t, cols, algo, k, mid + 1n, hi, found);
}

function diffMaps(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set<string>();
  for (const [k, h] of a) if (b.get(k) !== h) keys.add(k);
  for (const k of b.keys()) if (!a.has(k)) keys.add(k);
  return [...keys].sort().slice(0, MAX_KEYS);
}

async function diffMultisets(db: SqliteDb, c: Client, schema: string, t: SourceTable, cols: TargetColumn[]): Promise<string[]> {
  const count = (m: Map<string, number>, h: string, d: number): void => void m.set(h, (m.get(h) ?? 0) + d);
  const m = new Map<string, number>();
  for (const h of sourceRowMap(db, t, cols, [...cols]).values()) count(m, h, 1);
  for (const h of (await targetRowMap(c, schema, namesOf(t).table, cols, [...cols])).values()) count(m, h, -1);
  return [...m.entries()].filter(([, n]) => n !== 0).map(([h]) => JSON.stringify({ rowHash: h })).slice(0, MAX_KEYS);
}

/** Rows of one chunk: SQLite's WHERE (sw, sp) and PostgreSQL's (pw, pp) select the same rows. */
interface KeyRange {
  sw: string;
  sp: unknown[];
  pw: string;
  pp: string[];
}

const WHOLE_TABLE: KeyRange = { sw: "", sp: [], pw: "", pp: [] };

/** The column chunks are ranges of: the leading primary-key column when it is an integer (integers order alike on both sides). */
function chunkColumn(t: SourceTable, cols: TargetColumn[]): TargetColumn | undefined {
  const k = t.primaryKey.length ? cols.find((x) => x.column === t.primaryKey[0]) : undefined;
  return k && k.kind === "int" ? k : undefined;
}

/**
 * Rows with lo < key <= hi; lo undefined: from the start, NULL keys included; hi undefined: to the
 * end. SQLite sorts text and blobs after every number, so a key that is not an integer lands in the
 * last chunk: every row is in exactly one chunk, on each side.
 */
function keyRange(k: TargetColumn, lo: bigint | undefined, hi: bigint | undefined): KeyRange {
  const s = qi(k.column);
  const p = quoteIdent(k.target);
  if (lo === undefined && hi === undefined) return WHOLE_TABLE;
  if (lo === undefined) return { sw: `(${s} <= ? OR ${s} IS NULL)`, sp: [hi], pw: `(${p} <= $1 OR ${p} IS NULL)`, pp: [hi!.toString()] };
  if (hi === undefined) return { sw: `${s} > ?`, sp: [lo], pw: `${p} > $1`, pp: [lo.toString()] };
  return { sw: `${s} > ? AND ${s} <= ?`, sp: [lo, hi], pw: `${p} > $1 AND ${p} <= $2`, pp: [lo.toString(), hi.toString()] };
}

/** The chunk's upper key: the `rows`-th integer key after lo (one index-ordered statement), or undefined when fewer remain. */
function chunkEnd(db: SqliteDb, t: SourceTable, k: TargetColumn, lo: bigint | undefined, rows: number): bigint | undefined {
  const s = qi(k.column);
  const sql = `SELECT ${s} FROM ${qi(t.name)} WHERE typeof(${s}) = 'integer'${lo === undefined ? "" : ` AND ${s} > ?`} ORDER BY ${s} LIMIT 1 OFFSET ?`;
  const args = lo === undefined ? [rows - 1] : [lo, rows - 1];
  return db.prepare(sql).pluck(true).safeIntegers(true).get(...args) as bigint | undefined;
}

interface ChunkVerdict {
  src: RangeSum;
  tgt: RangeSum;
  match: boolean;
  differingKeys: string[];
  instantMismatch?: VerifyTableReport["instantMismatch"];
}

/** Reads of a mismatching chunk before its differing keys are reported (with a catch-up in between). */
const CHUNK_ROUNDS = 3;

/**
 * One chunk: both sums (PostgreSQL computes while SQLite reads), each one statement, so no read
 * transaction on the source ever spans a wait on PostgreSQL. A mismatch is read again after
 * `catchUp` (the writer's change may just not be synced yet); one that persists is narrowed to
 * its keys by a row-by-row diff of the chunk.
 */
async function verifyChunk(db: SqliteDb, c: Client, schema: string, t: SourceTable, cols: TargetColumn[], algo: ChecksumAlgo, r: KeyRange, catchUp?: (why: "recheck") => Promise<void>): Promise<ChunkVerdict> {
  const pgTable = namesOf(t).table;
  for (let round = 1; ; round++) {
    const pending = targetSum(c, schema, pgTable, cols, algo, r.pw, r.pp);
    pending.catch(() => undefined);
    const src = sourceSum(db, t, cols, algo, r.sw, r.sp);
    const tgt = await pending;
    if (src.rows === tgt.rows && src.checksum === tgt.checksum) return { src, tgt, match: true, differingKeys: [] };
    if (round === 1 && catchUp) {
      await catchUp("recheck");
      continue;
    }
    const differingKeys = await chunkDifferingKeys(db, c, schema, t, cols, r);
    // Sums differed but no row did when read again: a write landed in between; read once more.
    if (differingKeys.length === 0 && round < CHUNK_ROUNDS) {
      await catchUp?.("recheck");
      continue;
    }
    const instantMismatch = await instantColumnsDiffering(db, c, schema, t, cols, algo, r);
    return { src, tgt, match: false, differingKeys, ...(instantMismatch ? { instantMismatch } : {}) };
  }
}

/** The chunk's differing keys from one row map per side (a keyless table is one chunk: multisets). */
async function chunkDifferingKeys(db: SqliteDb, c: Client, schema: string, t: SourceTable, cols: TargetColumn[], r: KeyRange): Promise<string[]> {
  const keyCols = t.primaryKey.map((k) => cols.find((x) => x.column === k)).filter((x): x is TargetColumn => !!x);
  if (keyCols.length === 0 || keyCols.length !== t.primaryKey.length) return diffMultisets(db, c, schema, t, cols);
  const srcMap = sourceRowMap(db, t, cols, keyCols, r.sw, r.sp);
  const tgtMap = await targetRowMap(c, schema, namesOf(t).table, cols, keyCols, r.pw, r.pp);
  return diffMaps(srcMap, tgtMap);
}

/**
 * verify() with `chunkRows` (ChunkOptions): each table in key ranges of about chunkRows rows of
 * its leading integer primary-key column, each range summed by one SQLite statement (its own read
 * transaction) and one PostgreSQL statement; `betweenChunks` runs between them. A table without
 * such a column (no key, a text or composite-text key) is one chunk: one statement over the table.
 */
async function verifyChunked(sourcePath: string, target: TargetRef, opts: { tables?: string[]; renames?: Renames } & ChunkOptions): Promise<VerifyReport> {
  const started = process.hrtime.bigint();
  const rows = opts.chunkRows!;
  if (!Number.isInteger(rows) || rows < 1) throw new MigrationError("CONFIG_INVALID", `chunkRows must be a positive integer, got ${rows}.`, { step: "verify" });
  const s = schemaOf(target);
  const db = openSource(sourcePath);
  try {
    const schema = introspect(db);
    nameSchema(schema, opts.renames);
    const tables = pickTables(schema, opts.tables);
    let chunks = 0;
    const out = await withTarget(target, "verify", async (c) => {
      const algo = await checksumAlgo(c);
      const reports: VerifyTableReport[] = [];
      for (const t of tables) {
        const cols = await targetColumns(c, s, t, { generated: true });
        const k = chunkColumn(t, cols);
        const parts: ChunkVerdict[] = [];
        let lo: bigint | undefined;
        for (;;) {
          if (chunks++ > 0) await opts.betweenChunks?.("next");
          const hi = k ? chunkEnd(db, t, k, lo, rows) : undefined;
          parts.push(await verifyChunk(db, c, s, t, cols, algo, k ? keyRange(k, lo, hi) : WHOLE_TABLE, opts.betweenChunks));
          if (hi === undefined) break;
          lo = hi;
        }
        const instant = parts.flatMap((p) => (p.instantMismatch ? [p.instantMismatch] : []));
        const columns = [...new Set(instant.flatMap((x) => x.columns))];
        reports.push({
          ...(instant.length ? { instantMismatch: { ...instant[0], columns } } : {}),
          table: t.name,
          sourceRows: parts.reduce((a, p) => a + p.src.rows, 0),
          targetRows: parts.reduce((a, p) => a + p.tgt.rows, 0),
          sourceChecksum: parts.map((p) => p.src).reduce((a, b) => combineSums(a, b)).checksum,
          targetChecksum: parts.map((p) => p.tgt).reduce((a, b) => combineSums(a, b)).checksum,
          match: parts.every((p) => p.match),
          sequenceOk: await sequencesOk(c, s, namesOf(t).table),
          foreignKeysOk: await foreignKeysOk(c, s, t),
          differingKeys: [...new Set(parts.flatMap((p) => p.differingKeys))].sort().slice(0, MAX_KEYS),
        });
      }
      return reports;
    });
    return { ok: out.every((t) => t.match && t.sequenceOk), tables: out, seconds: Number(process.hrtime.bigint() - started) / 1e9, chunks };
  } catch (e) {
    throw verifyError(e);
  } finally {
    db.close();
  }
}

/** `table`: the PostgreSQL table name. */
async function sequencesOk(c: Client, schema: string, table: string): Promise<boolean> {
  const rel = qualified(schema, table);
  const r = await c.query<{ attname: string; seq: string }>(
    "SELECT attname, pg_get_serial_sequence($1, attname) AS seq FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND pg_get_serial_sequence($1, attname) IS NOT NULL",
    [rel],
  );
  for (const x of r.rows) {
    const q = await c.query<{ ok: boolean }>(
      `SELECT (SELECT max(${quoteIdent(x.attname)}) FROM ${rel}) IS NULL OR (CASE WHEN s.is_called THEN s.last_value >= (SELECT max(${quoteIdent(x.attname)}) FROM ${rel}) ELSE s.last_value > (SELECT max(${quoteIdent(x.attname)}) FROM ${rel}) END) AS ok FROM ${x.seq} s`,
    );
    if (!q.rows[0].ok) return false;
  }
  return true;
}

/** Every declared foreign key of t exists and is validated (as pg_constraint shows it to this session). */
export async function foreignKeysOk(c: Client, schema: string, t: SourceTable): Promise<boolean> {
  if (t.foreignKeys.length === 0) return true;
  const r = await c.query<{ conname: string; convalidated: boolean }>(
    "SELECT conname, convalidated FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'",
    [qualified(schema, namesOf(t).table)],
  );
  const byName = new Map(r.rows.map((x) => [x.conname, x.convalidated]));
  return t.foreignKeys.every((fk) => byName.get(fkName(t, fk)) === true);
}

export interface KeyedTableReport extends VerifyTableReport {
  /** Distinct keys compared row by row. */
  keysChecked: number;
  /** Those keys as differingKeys renders them (canonical JSON), so callers can match them up. */
  keys: string[];
}

/**
 * Keyed check (cut-over inside the freeze): for each table, row counts on both sides plus the
 * canonical row hash of only the given keys (changelog `pk` JSON arrays, primary-key order),
 * compared key by key; a key present on one side only differs. Checksums in the report are sums
 * over the checked rows only. Tables must have a primary key the target also has; callers fall
 * back to verify() for the others. Both sides are read in one snapshot each.
 */
export async function verifyKeys(sourcePath: string, target: TargetRef, keys: Map<string, string[]>, renames?: Renames): Promise<{ tables: KeyedTableReport[]; seconds: number }> {
  const started = process.hrtime.bigint();
  const s = schemaOf(target);
  return inSourceSnapshot(sourcePath, async (db, schema) => {
    const tables = pickTables(schema, [...keys.keys()]);
    const decode = db.prepare("SELECT value FROM json_each(?) ORDER BY key").raw(true).safeIntegers(true);
    const out = await withTarget(target, "verify", async (c) => {
      await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const reports: KeyedTableReport[] = [];
      for (const t of tables) {
        const cols = await targetColumns(c, s, t, { generated: true });
        const keyCols = t.primaryKey.map((k) => cols.find((x) => x.column === k)).filter((x): x is TargetColumn => !!x);
        if (keyCols.length === 0 || keyCols.length !== t.primaryKey.length) {
          throw new MigrationError("CONFIG_INVALID", `Table ${t.name} has no primary key in both source and target, so it cannot be checked by key. Verify it in full (verify()).`, { table: t.name, step: "verify" });
        }
        const vals = (keys.get(t.name) ?? []).map((pk) => (decode.all(pk) as SqliteValue[][]).map((r) => r[0]));
        const srcMap = sourceRowMapByKeys(db, t, cols, keyCols, vals);
        const tgtMap = await targetRowMapByKeys(c, s, namesOf(t).table, cols, keyCols, vals);
        const srcRows = Number((db.prepare(`SELECT count(*) AS n FROM ${qi(t.name)}`).get() as { n: number }).n);
        const tgtRows = Number((await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(s, namesOf(t).table)}`)).rows[0].n);
        const differingKeys = diffMaps(srcMap, tgtMap);
        const sum = (m: Map<string, string>): string => {
          const r = new RowSum();
          for (const h of m.values()) r.addDigest(Buffer.from(h, "hex"));
          return r.finish().checksum;
        };
        const canon = [...new Set(vals.map((v) => sourceKeyJson(keyCols, v)))];
        reports.push({
          table: t.name,
          sourceRows: srcRows,
          targetRows: tgtRows,
          sourceChecksum: sum(srcMap),
          targetChecksum: sum(tgtMap),
          match: srcRows === tgtRows && differingKeys.length === 0,
          sequenceOk: await sequencesOk(c, s, namesOf(t).table),
          foreignKeysOk: await foreignKeysOk(c, s, t),
          differingKeys,
          keysChecked: canon.length,
          keys: canon,
        });
      }
      await c.query("COMMIT");
      return reports;
    });
    return { tables: out, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  }, renames);
}

/**
 * Opens the source read-only and runs fn inside one read transaction (the source snapshot a report
 * describes); any failure comes out as a MigrationError (verifyError).
 */
async function inSourceSnapshot<T>(sourcePath: string, fn: (db: SqliteDb, schema: SourceSchema) => Promise<T>, renames?: Renames): Promise<T> {
  const db = openSource(sourcePath);
  try {
    const schema = introspect(db);
    nameSchema(schema, renames);
    db.exec("BEGIN");
    try {
      return await fn(db, schema);
    } finally {
      db.exec("COMMIT");
    }
  } catch (e) {
    throw verifyError(e);
  } finally {
    db.close();
  }
}

/** A verify failure as a MigrationError: coded ones pass through, SQLite errors get their code. */
function verifyError(e: unknown): MigrationError {
  if (e instanceof MigrationError) return e;
  return (e as { code?: string }).code?.startsWith("SQLITE") ? mapSqliteError(e, { step: "verify" }) : asMigrationError(e, "verify");
}
