/**
 * The copy's hot loop: SQLite rows -> COPY text chunks, and (for `run`) the source side of the
 * checksum from the same converted values. Shared by the in-thread copy and the encode worker.
 *
 * Speed matters here: the per-column converter is chosen once per table,
 * the common cases (integers, text without special characters) skip toPgText's generic switch,
 * one scan per string decides whether escaping or the NUL/UTF-8 checks are needed, and rows are
 * concatenated into ~256 KB chunks.
 */
import { jsonSafe, MigrationError } from "./errors";
import { quoteSqliteIdent as qi, type SourceTable } from "./introspect";
import type { TargetColumn } from "./copy";
import { RowSum } from "./checksum";
import type { Utf8Writable } from "./hash64";
import type { SqliteDb } from "./sqlite";
import { canonicalFromPgText, copyEscape, floatHex, instantCanonical, toPgText, ValueError, type SqliteValue } from "./values";

export const CHUNK = 256 * 1024;

/** A row we must not send (NUL, invalid UTF-8, unconvertible value); the copy aborts the table. */
export class RowProblem extends Error {
  constructor(readonly error: MigrationError) {
    super(error.message);
  }
}

export function keyFromRow(row: unknown[], keyIdx: number[], keyNames: string[]): Record<string, unknown> {
  const k: Record<string, unknown> = {};
  keyNames.forEach((n, i) => (k[n] = row[keyIdx[i]]));
  return jsonSafe(k) as Record<string, unknown>;
}

function rawTextMatches(db: SqliteDb, t: SourceTable, column: string, row: unknown[], keyIdx: number[], keyNames: string[], decoded: string): boolean {
  const where = keyNames.map((k) => `${k === "rowid" ? "rowid" : qi(k)} = ?`).join(" AND ");
  const r = db.prepare(`SELECT CAST(${qi(column)} AS BLOB) AS b FROM ${qi(t.name)} WHERE ${where}`).safeIntegers(true).get(...keyIdx.map((i) => row[i])) as { b: Buffer } | undefined;
  return !!r && Buffer.from(decoded, "utf8").equals(r.b);
}

// eslint-disable-next-line no-control-regex -- NUL is one of the characters we look for
const SPECIAL = /[\\\n\r\t\u0000\uFFFD]/;

/**
 * Encodes rows of one table. `encode` returns the COPY line and, when a sum is kept, adds the row's
 * canonical text (the exact text sourceRowText() builds, so checksums equal verify's) to it.
 */
export class TableEncoder {
  private readonly textLike: boolean[];
  private readonly intCol: boolean[];
  private readonly byteaCol: boolean[];
  /** toPgText builds these outputs from digits and fixed letters only, so they never need COPY escapes. */
  private readonly builtOut: boolean[];
  /** Numbers (not strings) render as digits, sign, '.', 'e' or Infinity/NaN: nothing to escape either. */
  private readonly numericCol: boolean[];
  private readonly plainCanonical: boolean[];
  private readonly floatCol: boolean[];
  private readonly asciiOut: boolean[];

  constructor(
    private readonly db: SqliteDb,
    private readonly t: SourceTable,
    private readonly cols: TargetColumn[],
    private readonly keyIdx: number[],
    private readonly keyNames: string[],
    readonly sum: RowSum | null,
  ) {
    this.textLike = cols.map((c) => c.kind === "text" || c.kind === "json" || c.kind === "jsonb" || c.kind === "other");
    this.intCol = cols.map((c) => c.kind === "int");
    this.byteaCol = cols.map((c) => c.kind === "bytea");
    this.builtOut = cols.map((c) => c.kind === "bool" || c.kind === "date" || c.kind === "timestamp" || c.kind === "timestamptz");
    this.numericCol = cols.map((c) => c.kind === "int" || c.kind === "float" || c.kind === "numeric");
    // canonicalFromPgText is the identity for these kinds, so the COPY value is reused as is.
    // Instant columns (c.epoch) compare the stored numbers instead (values.ts instantCanonical).
    this.plainCanonical = cols.map((c) => !c.epoch && c.kind !== "float" && c.kind !== "bytea" && c.kind !== "jsonb");
    this.floatCol = cols.map((c) => c.kind === "float");
    this.asciiOut = cols.map((c) => c.kind === "float" || c.kind === "bool" || c.kind === "date" || c.kind === "timestamp" || c.kind === "timestamptz");
  }

  encode(row: unknown[]): string {
    const cols = this.cols;
    const sum = this.sum;
    let line = "";
    let canon = "";
    for (let i = 0; i < cols.length; i++) {
      const v = row[i] as SqliteValue;
      if (i > 0) line += "\t";
      if (v === null) {
        line += "\\N";
        if (sum) canon += "N";
        continue;
      }
      let s: string;
      let escaped: string;
      if (typeof v === "string" && this.textLike[i]) {
        s = v;
        escaped = SPECIAL.test(v) ? this.checkedEscape(row, i, v) : v;
      } else if (typeof v === "bigint" && this.intCol[i]) {
        s = escaped = v.toString();
      } else if (Buffer.isBuffer(v) && this.byteaCol[i]) {
        // Hex is built once and never scanned for escapes: only the leading backslash needs doubling.
        const hex = v.toString("hex");
        line += "\\\\x" + hex;
        if (sum) canon += "V" + hex.length + ":" + hex;
        continue;
      } else {
        s = this.convert(row, i, v);
        escaped = this.builtOut[i] || (typeof v !== "string" && this.numericCol[i]) ? s : copyEscape(s);
      }
      line += escaped;
      if (sum) {
        // A JS number is exactly the double PostgreSQL parses from String(v): hash its bits directly.
        const c = this.plainCanonical[i] ? s : typeof v === "number" && this.floatCol[i] ? floatHex(v) : canonicalOf(s, v, cols[i]);
        // Converter outputs of these kinds (and integers read as bigint) are ASCII: length = bytes.
        canon += "V" + (this.asciiOut[i] || typeof v === "bigint" ? c.length : Buffer.byteLength(c)) + ":" + c;
      }
    }
    if (sum) sum.addText(canon);
    return line + "\n";
  }

  private convert(row: unknown[], i: number, v: SqliteValue): string {
    const col = this.cols[i];
    try {
      return toPgText(v, col) as string;
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      const key = keyFromRow(row, this.keyIdx, this.keyNames);
      throw new RowProblem(
        new MigrationError("TYPE_MISMATCH", `${this.t.name}.${col.column} (${col.pgType}) at key ${JSON.stringify(key)}: ${e.message}. Fix the value in the source or cast the column, e.g. --cast ${this.t.name}.${col.column}=text.`, { table: this.t.name, column: col.column, key, step: "copy" }, e),
      );
    }
  }

  /** Text with a special character: reject NUL and invalid UTF-8, else escape for COPY. */
  private checkedEscape(row: unknown[], i: number, v: string): string {
    const t = this.t;
    const col = this.cols[i];
    if (v.includes("\u0000")) {
      const key = keyFromRow(row, this.keyIdx, this.keyNames);
      throw new RowProblem(new MigrationError("ROW_REJECTED", `${t.name}.${col.column} at key ${JSON.stringify(key)} contains a NUL (\\0) byte, which PostgreSQL text cannot store. Remove it in the source or cast the column to bytea (--cast ${t.name}.${col.column}=bytea).`, { table: t.name, column: col.column, key, step: "copy", reason: "nul-byte" }));
    }
    // better-sqlite3 replaces invalid UTF-8 with U+FFFD; only then compare with the stored bytes.
    if (v.includes("\uFFFD") && !rawTextMatches(this.db, t, col.column, row, this.keyIdx, this.keyNames, v)) {
      const key = keyFromRow(row, this.keyIdx, this.keyNames);
      throw new RowProblem(new MigrationError("ROW_REJECTED", `${t.name}.${col.column} at key ${JSON.stringify(key)} is not valid UTF-8. Repair the text in the source or cast the column to bytea (--cast ${t.name}.${col.column}=bytea).`, { table: t.name, column: col.column, key, step: "copy", reason: "invalid-utf8" }));
    }
    return copyEscape(v);
  }
}

/** canonicalFromPgText, with sourceCanonical()'s marker when it cannot (e.g. JSON jsonb would refuse). */
function canonicalOf(s: string, v: SqliteValue, col: TargetColumn): string {
  try {
    if (col.epoch) return instantCanonical(v, { ...col, epoch: col.epoch }) as string;
    return canonicalFromPgText(s, col) as string;
  } catch {
    return "\u0000unconvertible:" + (Buffer.isBuffer(v) ? v.toString("hex") : String(v));
  }
}

export interface EncodeResult {
  rows: number;
  problem: MigrationError | null;
}

/** Room past CHUNK so a typical row still fits before the chunk is handed on. */
const SLACK = 64 * 1024;

function newChunk(size: number): Utf8Writable {
  // A fresh ArrayBuffer per chunk (offset 0, not the shared pool) so a worker can transfer it whole.
  return Buffer.from(new ArrayBuffer(size)) as Utf8Writable;
}

/**
 * Yields COPY text as UTF-8 chunks of about `chunk` bytes; `state` holds the row count and the
 * first row problem (encoding stops there, the caller aborts the table). Each line is written
 * straight into the chunk's bytes, so no chunk-sized string is ever built (those strings lived
 * long enough to reach the old generation and made the GC, and peak RSS, grow). Every yielded
 * Buffer starts at offset 0 of its own ArrayBuffer and is never written again.
 */
export function* encodeChunks(rows: Iterable<unknown[]>, enc: TableEncoder, state: EncodeResult, chunk = CHUNK): Generator<Buffer, void, void> {
  let buf = newChunk(chunk + SLACK);
  let pos = 0;
  for (const row of rows) {
    let line: string;
    try {
      line = enc.encode(row);
    } catch (e) {
      if (!(e instanceof RowProblem)) throw e;
      state.problem = e.error;
      break;
    }
    state.rows++;
    // A UTF-16 code unit is at most 3 UTF-8 bytes.
    const max = line.length * 3;
    if (pos + max > buf.length) {
      if (pos > 0) yield buf.subarray(0, pos);
      buf = newChunk(Math.max(chunk + SLACK, max));
      pos = 0;
    }
    pos += buf.utf8Write(line, pos);
    if (pos >= chunk) {
      yield buf.subarray(0, pos);
      buf = newChunk(chunk + SLACK);
      pos = 0;
    }
  }
  if (pos > 0) yield buf.subarray(0, pos);
}
