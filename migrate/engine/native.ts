/**
 * The native fast path of the copy: the armp_copy SQLite extension
 * (migrate/native/armp_copy.c, built by `npm run build` into dist/native/) converts a block of
 * rows to COPY BINARY tuples (armp_copy_bin, when every column's type allows it: binaryColumn) or
 * COPY text, and their h64 checksum, inside SQLite, so Node no longer builds one JS value per
 * column and converts it. Rows the extension does not convert (see the C file: anything whose
 * result it cannot guarantee equals the JavaScript encoder's) are read again and encoded by
 * TableEncoder, which also raises every row error: in place on the text path (the COPY stream keeps
 * rowid order and PostgreSQL's line numbers name the same rows as before), as COPY text chunks of
 * their own on the binary path (markTextSide; copy-segments.ts sends them as text statements).
 *
 * Used for rowid tables, and WITHOUT ROWID tables whose first key column holds only integers (read
 * in ranges of it), of a UTF-8 source when the checksum (if any) is h64 and the extension loads;
 * otherwise, or with ARMP_MIGRATE_NATIVE=0, every row takes the JavaScript path.
 */
import type { Statement } from "better-sqlite3";
import { combineSums, finishSum64, type ChecksumAlgo, type RangeSum, type RowSum } from "./checksum";
import type { SourceSelect, TargetColumn } from "./copy";
import { RowProblem, type EncodeResult, type TableEncoder } from "./encode";
import type { Utf8Writable } from "./hash64";
import { MigrationError } from "./errors";
import { quoteSqliteIdent as qi, type SourceTable } from "./introspect";
import { extensionFile, type SqliteDb } from "./sqlite";
import { EPOCH_OFFSET_SECONDS, EPOCH_ORIGIN, type Epoch } from "./values";

/** The built extension, or null when it was not built (no C compiler) or is switched off. */
export function nativeExtensionPath(): string | null {
  if (process.env.ARMP_MIGRATE_NATIVE === "0") return null;
  return extensionFile();
}

const loaded = new WeakSet<SqliteDb>();

/** Loads the extension into this connection once; false when it is unavailable. */
export function loadNative(db: SqliteDb): boolean {
  if (loaded.has(db)) return true;
  const p = nativeExtensionPath();
  if (p === null) return false;
  try {
    // SQLite derives the entry point sqlite3_armpcopy_init from the file name.
    db.loadExtension(p);
  } catch {
    return false;
  }
  loaded.add(db);
  return true;
}

/** The unit letter armp_copy reads an epoch's stored numbers in (values.ts epochUnit). */
const EPOCH_UNIT: Record<Epoch, string> = { unix: "a", "unix-ms": "m", coredata: "s" };

/**
 * A date/time column's epoch for armp_copy: ":<unit>:<offset seconds>:<origin microseconds>". The
 * offset is read from EPOCH_OFFSET_SECONDS now, at plan time, as the JavaScript encoder reads it
 * (a test changes it to see verification catch a wrong offset); the origin comes from EPOCH_ORIGIN,
 * as instantCanonical computes it.
 */
function epochToken(epoch: Epoch): string {
  const origin = BigInt(Date.parse(EPOCH_ORIGIN[epoch].replace(" ", "T") + "Z")) * 1000n;
  return `:${EPOCH_UNIT[epoch]}:${EPOCH_OFFSET_SECONDS[epoch]}:${origin}`;
}

/** One token per column for armp_copy (see the C file). */
export function nativeSpec(cols: TargetColumn[]): string {
  return cols
    .map((c) => {
      const epoch = c.epoch !== undefined && (c.kind === "date" || c.kind === "timestamp" || c.kind === "timestamptz") ? epochToken(c.epoch) : "";
      switch (c.kind) {
        case "int":
          return "i";
        case "float":
          return "f";
        case "numeric":
          return c.scale === undefined ? "n" : `n${c.scale}`;
        case "bool":
          return "b";
        case "date":
          return "d" + epoch;
        case "timestamp":
          return "t" + epoch;
        case "timestamptz":
          return "z" + epoch;
        case "bytea":
          return "y";
        case "jsonb":
          return "j";
        // time, uuid: never reached, nativePlan leaves their tables to JavaScript (canonical forms).
        case "time":
        case "uuid":
        case "text":
        case "json":
        case "other":
          return "s";
      }
    })
    .join(",");
}

/**
 * Whether PostgreSQL can take this column in COPY BINARY from the extension: the target type must
 * be exactly one whose binary form armp_copy writes (bigint, double precision, numeric, boolean,
 * date, timestamp[tz], bytea, jsonb, and text, varchar and json as their bytes). Anything else
 * (integer, real, char(n), uuid, cast overrides to other types) keeps the table on COPY text.
 */
export function binaryColumn(c: TargetColumn): boolean {
  const t = c.pgType.toLowerCase();
  switch (c.kind) {
    case "int":
      return t === "bigint";
    case "float":
      return t === "double precision";
    case "numeric":
      return /^numeric(\(\d+(,\d+)?\))?$/.test(t);
    case "bool":
      return t === "boolean";
    case "date":
      return t === "date";
    case "timestamp":
      return t === "timestamp without time zone";
    case "timestamptz":
      return t === "timestamp with time zone";
    case "bytea":
      return t === "bytea";
    case "jsonb":
      return t === "jsonb";
    case "json":
      return t === "json";
    case "text":
      return t === "text" || /^character varying(\(\d+\))?$/.test(t);
    case "time":
    case "uuid":
    case "other":
      return false;
  }
}

/** COPY BINARY's file header (signature, flags 0, no header extension) and trailer (field count -1). */
export const BINARY_HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
export const BINARY_TRAILER = Buffer.from([0xff, 0xff]);

const textSide = new WeakSet<Buffer>();

/** Marks a chunk as COPY text of rows JavaScript encoded, sent apart from a binary table's tuples. */
export function markTextSide(chunk: Buffer): Buffer {
  textSide.add(chunk);
  return chunk;
}

/** The chunk holds COPY text lines for a binary table (markTextSide). */
export function isTextSide(chunk: Buffer): boolean {
  return textSide.has(chunk);
}

/** What a worker needs to run the native path (plain data, sent to encode workers). */
export interface NativePlan {
  /**
   * The extension writes COPY BINARY tuples (armp_copy_bin); the rows it leaves to JavaScript
   * then travel as COPY text in chunks of their own (markTextSide). False: COPY text throughout.
   */
  binary: boolean;
  /** One block [from, to) of the range column: params (spec, from, to); one row, one BLOB. */
  blockSql: string;
  spec: string;
  /** Rowid tables: the JavaScript encoder's column list for one rowid. */
  byRowidSql: string | null;
  /**
   * WITHOUT ROWID tables: the JavaScript encoder's column list for one block, in the order the
   * extension saw the rows (it names the rows it hands back by their position in the block).
   */
  blockRowsSql: string | null;
  /** The first value of the range column at or after a given one, if any (where the call after an empty block starts). */
  nextSql: string;
  /** The smallest and the largest value of the range column (one b-tree lookup each). */
  minSql: string;
  maxSql: string;
}

/**
 * The native plan for a table, or null when its rows must all take the JavaScript path: an md5
 * checksum (the extension only computes h64), a source not stored as UTF-8, no extension, a rowid
 * table whose rowid a column shadows, or a WITHOUT ROWID table whose first key column holds
 * anything but integers (its blocks are ranges of that column).
 */
export function nativePlan(db: SqliteDb, t: SourceTable, cols: TargetColumn[], checksum: ChecksumAlgo | null, sel: Pick<SourceSelect, "byRowidSql" | "keyRangeSql">, opts: { binary?: boolean } = {}): NativePlan | null {
  if ((sel.byRowidSql === null && sel.keyRangeSql === null) || checksum === "md5" || cols.length === 0) return null;
  // time and uuid values are rewritten to PostgreSQL's spelling (values.ts normaliseTime,
  // normaliseUuid), which the extension does not do: such tables take the JavaScript path.
  if (cols.some((c) => c.kind === "time" || c.kind === "uuid")) return null;
  if (String(db.pragma("encoding", { simple: true })).toUpperCase() !== "UTF-8") return null;
  if (!loadNative(db)) return null;
  // A key at 2^63-1 has no half-open upper bound an int64 can bind: such a table is read by the
  // JavaScript path, in key order.
  const keyMax = sel.byRowidSql !== null ? `SELECT max(rowid) FROM ${qi(t.name)}` : `SELECT max(${qi(t.primaryKey[0])}) FROM ${qi(t.name)}`;
  if (db.prepare(keyMax).pluck().safeIntegers(true).get() === 9223372036854775807n) return null;
  const binary = (opts.binary ?? true) && process.env.ARMP_MIGRATE_BINARY !== "0" && cols.every(binaryColumn);
  const fn = binary ? "armp_copy_bin" : "armp_copy";
  const list = cols.map((c) => qi(c.column)).join(", ");
  const table = qi(t.name);
  if (sel.byRowidSql !== null) {
    return {
      binary,
      blockSql: `SELECT ${fn}(rowid, ?, ${list}) FROM ${table} WHERE rowid >= ? AND rowid < ?`,
      spec: nativeSpec(cols),
      byRowidSql: sel.byRowidSql,
      blockRowsSql: null,
      nextSql: `SELECT rowid FROM ${table} WHERE rowid >= ? ORDER BY rowid LIMIT 1`,
      minSql: `SELECT min(rowid) FROM ${table}`,
      maxSql: `SELECT max(rowid) FROM ${table}`,
    };
  }
  const k = qi(t.primaryKey[0]);
  // Ranges of a column holding text or reals would leave those rows out of every block.
  if (db.prepare(`SELECT 1 FROM ${table} WHERE typeof(${k}) <> 'integer' LIMIT 1`).get() !== undefined) return null;
  return {
    binary,
    // The subquery fixes the row order (an ORDER BY under an aggregate is kept as written). Its
    // columns get neutral aliases: SQLite cannot name a subquery column spelled like a literal
    // ("true", "false": the outer query would read the string 'false', or no such column).
    blockSql: `SELECT ${fn}(NULL, ?, ${cols.map((_, i) => `__c${i}`).join(", ")}) FROM (SELECT ${cols.map((c, i) => `${qi(c.column)} AS __c${i}`).join(", ")} FROM ${table} WHERE ${k} >= ? AND ${k} < ? ORDER BY ${t.primaryKey.map(qi).join(", ")})`,
    spec: nativeSpec(cols),
    byRowidSql: null,
    blockRowsSql: sel.keyRangeSql,
    nextSql: `SELECT ${k} FROM ${table} WHERE ${k} >= ? ORDER BY ${k} LIMIT 1`,
    minSql: `SELECT min(${k}) FROM ${table}`,
    maxSql: `SELECT max(${k}) FROM ${table}`,
  };
}

/** [from, to) covering every row of the plan's table, or null when it is empty. */
export function nativeRange(db: SqliteDb, plan: NativePlan): { from: bigint; to: bigint } | null {
  // Two statements: SQLite answers a lone min() or max() with one b-tree lookup, both together with a scan.
  const lo = db.prepare(plan.minSql).pluck().safeIntegers(true).get() as bigint | null;
  const hi = db.prepare(plan.maxSql).pluck().safeIntegers(true).get() as bigint | null;
  return lo === null || hi === null ? null : { from: lo, to: hi + 1n };
}

/** Output chunks of about this many bytes (like encodeChunks). */
const CHUNK = 256 * 1024;
/**
 * A binary table's JavaScript-encoded rows are sent once this many bytes of them are pending (and
 * at the end): each batch costs PostgreSQL one switch of COPY statement (copy-segments.ts).
 */
const SIDE_CHUNK = 1024 * 1024;
/** Rowids per extension call (so at most this many rows). */
const SUB_BLOCK = 256n;

/** Pieces of the next chunk: extension output (views of its result) and lines from JavaScript. */
class ChunkBuilder {
  private parts: (Buffer | string)[] = [];
  size = 0;

  add(p: Buffer | string, bytes: number): void {
    this.parts.push(p);
    this.size += bytes;
  }

  /** The pieces copied into a Buffer of its own ArrayBuffer (transferable from a worker). */
  take(): Buffer {
    const out = Buffer.from(new ArrayBuffer(this.size)) as Utf8Writable;
    let pos = 0;
    for (const p of this.parts) pos += typeof p === "string" ? out.utf8Write(p, pos) : p.copy(out, pos);
    this.parts = [];
    this.size = 0;
    return out;
  }
}

/** Encodes rowid blocks with the extension; rows it leaves out go through `fallback` (whose sum is the JS part). */
export class NativeBlockEncoder {
  private readonly stmt: Statement;
  private readonly byRowid: Statement | null;
  private readonly blockRows: Statement | null;
  private readonly next: Statement;
  private nativeRows = 0;
  private nativeSum = 0n;
  /** Rows the extension left to JavaScript (tests and the bench report it). */
  fallbackRows = 0;

  constructor(
    db: SqliteDb,
    private readonly plan: NativePlan,
    private readonly fallback: TableEncoder,
    private readonly table: string,
  ) {
    if (!loadNative(db)) throw new MigrationError("INTERNAL", `The armp_copy SQLite extension did not load for table ${table}. Re-run with ARMP_MIGRATE_NATIVE=0 and report it.`, { table, step: "copy" });
    this.stmt = db.prepare(plan.blockSql).pluck().safeIntegers(true);
    this.byRowid = plan.byRowidSql === null ? null : db.prepare(plan.byRowidSql).raw(true).safeIntegers(true);
    this.blockRows = plan.blockRowsSql === null ? null : db.prepare(plan.blockRowsSql).raw(true).safeIntegers(true);
    this.next = db.prepare(plan.nextSql).pluck().safeIntegers(true);
  }

  /** COPY text of the rows with rowid in [from, to), in rowid order, in chunks; stops at the first row problem. */
  *chunks(from: bigint, to: bigint, state: EncodeResult): Generator<Buffer, void, void> {
    const out = new ChunkBuilder();
    const side = new ChunkBuilder();
    // Sub-blocks of SUB_BLOCK rowids keep each result (and the extension's buffer) small: results
    // of ~1 MB made glibc raise its mmap threshold and keep freed memory (peak RSS +20-40 MB).
    // After an empty sub-block one index seek finds the next rowid present, so a gap costs one
    // call however wide it is (ids 1..300 and 2^62..), and a dense table costs no lookups at all
    // (stepping by OFFSET 256 instead read every row of the table a second time: 0.9 s of the
    // scale-10 publication's 6.8 s).
    for (let sub = from; sub < to && state.problem === null; ) {
      const end = sub + SUB_BLOCK < to ? sub + SUB_BLOCK : to;
      let rows: number;
      if (this.plan.binary) {
        rows = yield* this.binarySubBlock(sub, end, state, out, side);
        if (side.size >= SIDE_CHUNK) {
          // Whole tuples only before a switch of COPY statement: out holds complete sub-blocks.
          if (out.size > 0) yield out.take();
          yield markTextSide(side.take());
        }
      } else rows = yield* this.subBlock(sub, end, state, out);
      sub = end;
      if (rows === 0 && sub < to) {
        const n = this.next.get(sub) as bigint | undefined;
        if (n === undefined) break;
        sub = n;
      }
    }
    if (out.size > 0) yield out.take();
    if (side.size > 0 && state.problem === null) yield markTextSide(side.take());
  }

  /** Tuples the extension wrote into `out`; the rows it left out, as COPY text lines, into `side`. */
  private *binarySubBlock(from: bigint, to: bigint, state: EncodeResult, out: ChunkBuilder, side: ChunkBuilder): Generator<Buffer, number, void> {
    const blob = this.stmt.get(this.plan.spec, from, to) as Buffer;
    this.nativeSum += blob.readBigUInt64LE(0);
    const converted = Number(blob.readBigUInt64LE(8));
    this.nativeRows += converted;
    state.rows += converted;
    const handedBack = Number(blob.readBigUInt64LE(16));
    let pos = 24 + 8 * handedBack;
    while (blob.length > pos) {
      const n = Math.min(blob.length - pos, CHUNK - out.size);
      out.add(blob.subarray(pos, pos + n), n);
      pos += n;
      if (out.size >= CHUNK) yield out.take();
    }
    if (handedBack > 0) {
      const ids = Array.from({ length: handedBack }, (_, k) => blob.readBigInt64LE(24 + 8 * k));
      for (const row of this.rowsFor(ids, from, to)) {
        const line = this.encodeRow(row, state);
        if (line === null) break;
        side.add(line, Buffer.byteLength(line));
      }
    }
    return converted + handedBack;
  }

  /**
   * The source rows of the rows the extension handed back, in the order of `ids`: by rowid, or
   * (WITHOUT ROWID) by position in the block [from, to), read again in the extension's order.
   */
  private rowsFor(ids: bigint[], from: bigint, to: bigint): unknown[][] {
    const gone = (id: bigint): MigrationError =>
      new MigrationError("INTERNAL", `Row ${id} of ${this.table} vanished inside the read transaction. Re-run; if it repeats, set ARMP_MIGRATE_NATIVE=0 and report it.`, { table: this.table, step: "copy" });
    if (this.byRowid !== null) {
      const byRowid = this.byRowid;
      return ids.map((id) => {
        const row = byRowid.get(id) as unknown[] | undefined;
        if (!row) throw gone(id);
        return row;
      });
    }
    // Positions ascend; only those rows are kept, so a block of many rows costs no memory.
    const rows: unknown[][] = [];
    const it = this.blockRows!.iterate(from, to) as IterableIterator<unknown[]>;
    try {
      let at = 0n;
      for (const row of it) {
        if (at === ids[rows.length]) {
          rows.push(row);
          if (rows.length === ids.length) break;
        }
        at++;
      }
    } finally {
      it.return?.();
    }
    if (rows.length < ids.length) throw gone(ids[rows.length]);
    return rows;
  }

  /** The COPY text line of one row by JavaScript, or null (state.problem set) when it cannot be sent. */
  private encodeRow(row: unknown[], state: EncodeResult): string | null {
    try {
      const line = this.fallback.encode(row);
      this.fallbackRows++;
      state.rows++;
      return line;
    } catch (e) {
      if (!(e instanceof RowProblem)) throw e;
      state.problem = e.error;
      return null;
    }
  }

  /** Converted lines and, in their place, JavaScript's lines for the rows handed back; returns the rows in the block. */
  private *subBlock(from: bigint, to: bigint, state: EncodeResult, out: ChunkBuilder): Generator<Buffer, number, void> {
    const blob = this.stmt.get(this.plan.spec, from, to) as Buffer;
    this.nativeSum += blob.readBigUInt64LE(0);
    const converted = Number(blob.readBigUInt64LE(8));
    this.nativeRows += converted;
    state.rows += converted;
    // Markers: a 0x00 byte (COPY text has none) and the row's rowid (or position) in 8 bytes.
    const marks: number[] = [];
    for (let m = blob.indexOf(0, 16); m >= 0; m = blob.indexOf(0, m + 9)) marks.push(m);
    const rows = marks.length > 0 ? this.rowsFor(marks.map((m) => blob.readBigInt64LE(m + 1)), from, to) : [];
    let pos = 16;
    for (let k = 0; k <= marks.length; k++) {
      const end = k < marks.length ? marks[k] : blob.length;
      // Converted rows, cut into chunks of at most CHUNK bytes (COPY does not need whole lines per
      // chunk): the workers' in-flight limits count chunks, so chunks must stay small for memory.
      while (end > pos) {
        const n = Math.min(end - pos, CHUNK - out.size);
        out.add(blob.subarray(pos, pos + n), n);
        pos += n;
        if (out.size >= CHUNK) yield out.take();
      }
      if (k === marks.length) break;
      pos = marks[k] + 9;
      const line = this.encodeRow(rows[k], state);
      if (line === null) return converted + k + 1;
      out.add(line, Buffer.byteLength(line));
      if (out.size >= CHUNK) yield out.take();
    }
    return converted + marks.length;
  }

  /** The table's source sum: the extension's rows plus the JavaScript rows (`js`, the fallback's sum). */
  sum(js: RowSum | null): RangeSum | null {
    return js ? combineSums(finishSum64(this.nativeRows, this.nativeSum), js.finish()) : null;
  }
}
