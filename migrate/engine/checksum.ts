/**
 * Content checksums computed independently on both sides. Each row becomes a
 * canonical text (per column: N for NULL, else V<bytes>:<value>) and is hashed; the table sum adds
 * the row hashes modulo 2^64, so it is order-independent and can be computed over any key range
 * for bisection. Two row hashes exist (ChecksumAlgo): "h64", PostgreSQL's hashtextextended(text, 0)
 * (hash64.ts; ~4x cheaper than md5 on both sides), used whenever the server computes the same
 * value as hash64.ts for a probe string; and "md5" (the two 64-bit halves of md5, summed), the
 * fallback for servers where it does not (big-endian). PostgreSQL renders the stored values itself
 * (float8send bits, encode(bytea,'hex'), ISO timestamps in UTC); the source side applies the
 * documented normalisation of values.ts. Equal data => equal sums; any changed cell changes the row hash.
 */
import { createHash, hash as oneShotHash } from "crypto";
import type { Client } from "pg";
import { qualified, quoteIdent } from "./ddl";
import { quoteSqliteIdent as qi, type SourceTable } from "./introspect";
import type { TargetColumn } from "./copy";
import type { SqliteDb } from "./sqlite";
import { canonicalFromPgText, EPOCH_ORIGIN, instantCanonical, sourceColumnSql, toPgText, type Epoch, type SqliteValue } from "./values";
import { hashBytes64, hashText64, last, Utf8Scratch } from "./hash64";

/** Row hash behind a table checksum: "h64" = hashtextextended(row, 0), "md5" = md5 halves. */
export type ChecksumAlgo = "h64" | "md5";

/** Covers every hash64 tail length and multi-byte UTF-8, so a server that agrees on it agrees on all rows. */
const PROBE = "armp probe: naïve 学习 😀 \t 0123456789 abcdefghijk";

/**
 * The checksum algorithm this server can compute identically to us: "h64" when its
 * hashtextextended agrees with hash64.ts on probe strings of every tail length, else "md5"
 * (also when ARMP_MIGRATE_CHECKSUM=md5).
 */
export async function checksumAlgo(c: Client): Promise<ChecksumAlgo> {
  // Operators can insist on md5 sums (e.g. to compare with reports made before h64 existed).
  if (process.env.ARMP_MIGRATE_CHECKSUM === "md5") return "md5";
  const probes = Array.from({ length: 12 }, (_, i) => PROBE.slice(0, PROBE.length - i));
  const r = await c.query<{ h: string[] }>(`SELECT array_agg(lpad(to_hex(hashtextextended(p COLLATE "C", 0)), 16, '0') ORDER BY i) AS h FROM unnest($1::text[]) WITH ORDINALITY AS x(p, i)`, [probes]).catch(() => null);
  return r !== null && r.rows[0].h.every((h, i) => h === hashText64(probes[i])) ? "h64" : "md5";
}

const MOD = 1n << 64n;

export interface RangeSum {
  rows: number;
  checksum: string;
  /** Row hash the sum was built with (absent: md5, as before h64 existed). */
  algo?: ChecksumAlgo;
}

/**
 * A column whose numbers were read as instants (c.epoch): seconds since the epoch's origin, six
 * decimals, computed by PostgreSQL from the stored instant (the origin subtracted as a timestamp,
 * not the copy's offset), compared with the number SQLite holds (values.ts instantCanonical).
 */
function pgInstantExpr(q: string, kind: TargetColumn["kind"], epoch: Epoch): string {
  const origin = EPOCH_ORIGIN[epoch];
  if (kind === "date") return `round((${q} - DATE '${origin.slice(0, 10)}')::numeric * 86400, 6)::text`;
  const lit = kind === "timestamptz" ? `TIMESTAMPTZ '${origin}+00'` : `TIMESTAMP '${origin}'`;
  return `round(extract(epoch FROM (${q} - ${lit})), 6)::text`;
}

export function pgCanonicalExpr(c: TargetColumn): string {
  const q = quoteIdent(c.target);
  if (c.epoch && (c.kind === "date" || c.kind === "timestamp" || c.kind === "timestamptz")) return pgInstantExpr(q, c.kind, c.epoch);
  switch (c.kind) {
    case "float":
      return `encode(float8send(${q}), 'hex')`;
    case "bool":
      return `CASE WHEN ${q} THEN 't' ELSE 'f' END`;
    case "bytea":
      return `encode(${q}, 'hex')`;
    default:
      return `${q}::text`;
  }
}

/**
 * One column's piece of the canonical row text in SQL: 'N' for NULL, else 'V<bytes>:<value>'.
 * Strict || yields NULL for NULL, so COALESCE supplies the 'N'. Where the byte count follows
 * from the value without rendering it (float8: 16 hex digits; boolean; bytea: twice its
 * length; text and varchar: their own length) it is not rendered twice.
 */
function pgColumnPiece(c: TargetColumn): string {
  const q = quoteIdent(c.target);
  switch (c.kind) {
    case "float":
      return `COALESCE('V16:' || encode(float8send(${q}), 'hex'), 'N')`;
    case "bool":
      return `COALESCE(CASE WHEN ${q} THEN 'V1:t' WHEN NOT ${q} THEN 'V1:f' END, 'N')`;
    case "bytea":
      return `COALESCE('V' || (2 * octet_length(${q})) || ':' || encode(${q}, 'hex'), 'N')`;
    case "text":
      return `COALESCE('V' || octet_length(${q}) || ':' || ${q}, 'N')`;
    default: {
      const e = pgCanonicalExpr(c);
      return `COALESCE('V' || octet_length(${e}) || ':' || ${e}, 'N')`;
    }
  }
}

/** a || b || ... nested as a balanced tree: each byte is copied log2(n) times, not up to n times. */
function concatTree(parts: string[]): string {
  if (parts.length === 1) return parts[0];
  const mid = parts.length >> 1;
  return `(${concatTree(parts.slice(0, mid))} || ${concatTree(parts.slice(mid))})`;
}

/**
 * The canonical row text in SQL (sourceRowText builds the same text from the source): COALESCEd
 * pieces joined by || in a balanced tree. 15-25 % less PostgreSQL CPU than concat() over CASE
 * expressions on the scale-10 ARMP tables (docs/README-bench-copy.md), and the same text.
 */
export function pgRowTextExpr(cols: TargetColumn[]): string {
  return cols.length === 0 ? "''" : concatTree(cols.map(pgColumnPiece));
}

export function pgRowHashExpr(cols: TargetColumn[]): string {
  return `md5(${pgRowTextExpr(cols)})`;
}

export function sourceCanonical(v: SqliteValue, c: TargetColumn): string | null {
  if (v === null) return null;
  try {
    if (c.epoch) return instantCanonical(v, { ...c, epoch: c.epoch });
    return canonicalFromPgText(toPgText(v, c), c);
  } catch {
    // Unconvertible values never made it to PostgreSQL; mark them so the rows cannot match.
    return "\u0000unconvertible:" + (Buffer.isBuffer(v) ? v.toString("hex") : String(v));
  }
}

/** The canonical row text that is md5-hashed (PostgreSQL builds the same text in pgRowHashExpr). */
export function sourceRowText(row: unknown[], cols: TargetColumn[]): string {
  let s = "";
  for (let i = 0; i < cols.length; i++) {
    const v = sourceCanonical(row[i] as SqliteValue, cols[i]);
    s += v === null ? "N" : `V${Buffer.byteLength(v)}:${v}`;
  }
  return s;
}

export function sourceRowHash(row: unknown[], cols: TargetColumn[]): string {
  return createHash("md5").update(sourceRowText(row, cols)).digest("hex");
}

/**
 * md5 of a row's canonical text as raw bytes. crypto.hash (one shot, Node >= 20.12) skips the
 * Hash object per row, which dominated verification's Node time; createHash is the fallback.
 */
export const md5Digest: (text: string) => Buffer =
  typeof oneShotHash === "function" ? (text) => oneShotHash("md5", text, "buffer") : (text) => createHash("md5").update(text).digest();

/** Folding into BigInt every 2^20 rows keeps each 32-bit lane sum below 2^53, so Number adds stay exact. */
const FOLD_EVERY = 1 << 20;
const TWO32 = 2n ** 32n;

/**
 * Order-independent table sum: the two 64-bit halves of every row's md5 added modulo 2^64, exactly
 * as targetSum() makes PostgreSQL do it. The halves are added as four 32-bit Number lanes (no
 * per-row BigInt or hex parsing); the result is the same number, so the checksum text is unchanged.
 */
export class RowSum {
  rows = 0;
  private readonly scratch: Utf8Scratch | null;
  private ah = 0;
  private al = 0;
  private bh = 0;
  private bl = 0;
  private a = 0n;
  private b = 0n;

  constructor(readonly algo: ChecksumAlgo = "md5") {
    this.scratch = algo === "h64" ? new Utf8Scratch() : null;
  }

  addText(canonicalRow: string): void {
    const sc = this.scratch;
    if (sc === null) {
      this.addDigest(md5Digest(canonicalRow));
      return;
    }
    // write() first: it may replace the scratch arrays (rows over ~21 K characters), and the
    // arguments would otherwise be the old, too small ones (the hash of stale bytes).
    const n = sc.write(canonicalRow);
    hashBytes64(sc.bytes, sc.words, n);
    // One 64-bit value per row: its halves go to the b lanes; a stays 0.
    this.bh += last.hi;
    this.bl += last.lo;
    if (++this.rows % FOLD_EVERY === 0) this.fold();
  }

  addDigest(d: Buffer): void {
    this.ah += d.readUInt32BE(0);
    this.al += d.readUInt32BE(4);
    this.bh += d.readUInt32BE(8);
    this.bl += d.readUInt32BE(12);
    if (++this.rows % FOLD_EVERY === 0) this.fold();
  }

  private fold(): void {
    this.a += BigInt(this.ah) * TWO32 + BigInt(this.al);
    this.b += BigInt(this.bh) * TWO32 + BigInt(this.bl);
    this.ah = this.al = this.bh = this.bl = 0;
  }

  finish(): RangeSum {
    this.fold();
    return this.algo === "h64" ? finishSum64(this.rows, this.b) : finishSum(this.rows, this.a, this.b);
  }
}

const norm64 = (x: bigint): string => (((x % MOD) + MOD) % MOD).toString(16).padStart(16, "0");

export function finishSum(rows: number, a: bigint, b: bigint): RangeSum {
  return { rows, checksum: norm64(a) + norm64(b), algo: "md5" };
}

/** The sum over the union of two disjoint row sets (sums must use the same row hash). */
export function combineSums(x: RangeSum, y: RangeSum): RangeSum {
  const algo = x.algo ?? "md5";
  if (algo !== (y.algo ?? "md5")) throw new Error(`cannot add a ${algo} sum to a ${y.algo ?? "md5"} sum`);
  if (algo === "h64") return finishSum64(x.rows + y.rows, BigInt("0x" + x.checksum) + BigInt("0x" + y.checksum));
  const half = (c: string, i: number): bigint => BigInt("0x" + c.slice(i * 16, i * 16 + 16));
  return finishSum(x.rows + y.rows, half(x.checksum, 0) + half(y.checksum, 0), half(x.checksum, 1) + half(y.checksum, 1));
}

/** h64 sums are one 64-bit number (16 hex digits), so they never look like an md5 sum (32). */
export function finishSum64(rows: number, s: bigint): RangeSum {
  return { rows, checksum: norm64(s), algo: "h64" };
}

/** Source-side sum over rows matching `where` (SQLite SQL on the key column) . */
export function sourceSum(db: SqliteDb, t: SourceTable, cols: TargetColumn[], algo: ChecksumAlgo, where = "", params: unknown[] = []): RangeSum {
  const sql = `SELECT ${cols.map((c) => sourceColumnSql(qi(c.column), c.kind)).join(", ")} FROM ${qi(t.name)}${where ? ` WHERE ${where}` : ""}`;
  const sum = new RowSum(algo);
  for (const row of db.prepare(sql).raw(true).safeIntegers(true).iterate(...params) as Iterable<unknown[]>) sum.addText(sourceRowText(row, cols));
  return sum.finish();
}

/** Kinds whose canonical value is the column's own text output, which its piece needs twice (byte count and text). */
const RENDERED_KINDS = new Set<TargetColumn["kind"]>(["int", "numeric", "date", "timestamp", "timestamptz", "time", "uuid", "jsonb", "json", "other"]);

/**
 * The rows of `table` (matching `where`) with every RENDERED_KINDS column already rendered to
 * text, once per row, by a subquery PostgreSQL does not flatten (OFFSET 0); the pieces then read
 * that text twice. PostgreSQL has no common-subexpression elimination, so `'V' ||
 * octet_length(x::text) || ':' || x::text` ran int8out, date_out, numeric_out, jsonb_out... twice
 * per value: publication's sum at scale 10 took 4.0 s of CPU that way and 3.3 s this way, with
 * the same text and so the same sum.
 */
function renderedOnce(schema: string, table: string, cols: TargetColumn[], where: string): { cols: TargetColumn[]; from: string } {
  const select = cols.map((c) => (c.epoch ? `${pgCanonicalExpr(c)} AS ${quoteIdent(c.target)}` : RENDERED_KINDS.has(c.kind) ? `${quoteIdent(c.target)}::text AS ${quoteIdent(c.target)}` : quoteIdent(c.target))).join(", ");
  return {
    cols: cols.map((c) => (RENDERED_KINDS.has(c.kind) || c.epoch ? { ...c, kind: "text", epoch: undefined } : c)),
    from: `(SELECT ${select || "1"} FROM ${qualified(schema, table)}${where ? ` WHERE ${where}` : ""} OFFSET 0) AS rendered`,
  };
}

/** `table`: the PostgreSQL table name (names.ts). */
export async function targetSum(c: Client, schema: string, table: string, cols: TargetColumn[], algo: ChecksumAlgo, where = "", params: unknown[] = []): Promise<RangeSum> {
  if (algo === "h64") {
    const r = renderedOnce(schema, table, cols, where);
    // sum(bigint) accumulates exactly (numeric result); the signed values are the same modulo 2^64.
    const h = await c.query<{ n: string; s: string }>(`SELECT count(*) AS n, COALESCE(sum(hashtextextended(${pgRowTextExpr(r.cols)} COLLATE "C", 0)), 0)::text AS s FROM ${r.from}`, params);
    return finishSum64(Number(h.rows[0].n), BigInt(h.rows[0].s));
  }
  const r = await c.query<{ n: string; a: string; b: string }>(
    `SELECT count(*) AS n, COALESCE(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0)::text AS a, COALESCE(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)::text AS b
       FROM (SELECT ${pgRowHashExpr(cols)} AS h FROM ${qualified(schema, table)}${where ? ` WHERE ${where}` : ""}) s`,
    params,
  );
  return finishSum(Number(r.rows[0].n), BigInt(r.rows[0].a), BigInt(r.rows[0].b));
}

/** Per-row (key -> hash) on the source, keys rendered canonically so they compare with PostgreSQL's. */
export function sourceRowMap(db: SqliteDb, t: SourceTable, cols: TargetColumn[], keyCols: TargetColumn[], where = "", params: unknown[] = []): Map<string, string> {
  const names = cols.map((c) => c.column);
  const sql = `SELECT ${[...cols, ...keyCols].map((c) => sourceColumnSql(qi(c.column), c.kind)).join(", ")} FROM ${qi(t.name)}${where ? ` WHERE ${where}` : ""}`;
  const out = new Map<string, string>();
  for (const row of db.prepare(sql).raw(true).safeIntegers(true).iterate(...params) as Iterable<unknown[]>) {
    const keyVals = row.slice(names.length);
    const key = keyJson(keyCols, keyVals.map((v, i) => sourceCanonical(v as SqliteValue, keyCols[i])));
    out.set(key, sourceRowHash(row, cols));
  }
  return out;
}

export async function targetRowMap(c: Client, schema: string, table: string, cols: TargetColumn[], keyCols: TargetColumn[], where = "", params: unknown[] = []): Promise<Map<string, string>> {
  const r = await c.query({
    text: `SELECT ${keyCols.map((k) => pgCanonicalExpr(k)).join(", ")}, ${pgRowHashExpr(cols)} AS h FROM ${qualified(schema, table)}${where ? ` WHERE ${where}` : ""}`,
    values: params,
    rowMode: "array",
  });
  const out = new Map<string, string>();
  for (const row of r.rows as (string | null)[][]) out.set(keyJson(keyCols, row.slice(0, keyCols.length)), row[keyCols.length] as string);
  return out;
}

function keyJson(keyCols: TargetColumn[], vals: (string | null)[]): string {
  const o: Record<string, unknown> = {};
  keyCols.forEach((k, i) => {
    const v = vals[i];
    o[k.column] = k.kind === "int" && v !== null && Number.isSafeInteger(Number(v)) ? Number(v) : v;
  });
  return JSON.stringify(o);
}

/** A source key rendered as verify's differingKeys render it (canonical values, JSON object). */
export function sourceKeyJson(keyCols: TargetColumn[], vals: SqliteValue[]): string {
  return keyJson(keyCols, vals.map((v, i) => sourceCanonical(v, keyCols[i])));
}

/**
 * Per-row (key -> hash) on the source for the given keys only (cut-over's keyed check): one
 * prepared primary-key lookup per key, the same canonical text and md5 as sourceRowMap. Keys with
 * no row are absent from the map.
 */
export function sourceRowMapByKeys(db: SqliteDb, t: SourceTable, cols: TargetColumn[], keyCols: TargetColumn[], keys: SqliteValue[][]): Map<string, string> {
  const stmt = db.prepare(`SELECT ${cols.map((c) => sourceColumnSql(qi(c.column), c.kind)).join(", ")} FROM ${qi(t.name)} WHERE ${keyCols.map((k) => `${qi(k.column)} = ?`).join(" AND ")}`).raw(true).safeIntegers(true);
  const out = new Map<string, string>();
  for (const key of keys) {
    const row = stmt.get(...(key as unknown[])) as unknown[] | undefined;
    if (row) out.set(sourceKeyJson(keyCols, key), sourceRowHash(row, cols));
  }
  return out;
}

/**
 * Per-row (key -> hash) on the target for the given keys only: the same SQL row hash as
 * targetRowMap, selected with `WHERE (key) IN (...)` in batches. Keys are PostgreSQL text as sync
 * writes them (toPgText); a key that cannot be converted cannot be in the target and is skipped.
 */
export async function targetRowMapByKeys(c: Client, schema: string, table: string, cols: TargetColumn[], keyCols: TargetColumn[], keys: SqliteValue[][], batch = 1000): Promise<Map<string, string>> {
  const encoded: string[][] = [];
  for (const key of keys) {
    try {
      encoded.push(key.map((v, i) => toPgText(v, keyCols[i]) as string));
    } catch {
      // Unconvertible key: sync could not have written it, so it is (correctly) missing here.
    }
  }
  const out = new Map<string, string>();
  const per = Math.max(1, Math.floor(batch / keyCols.length));
  for (let i = 0; i < encoded.length; i += per) {
    const part = encoded.slice(i, i + per);
    let n = 0;
    const tuples = part.map(() => "(" + keyCols.map((k) => `$${++n}::${k.pgType}`).join(", ") + ")").join(", ");
    const m = await targetRowMap(c, schema, table, cols, keyCols, `(${keyCols.map((k) => quoteIdent(k.target)).join(", ")}) IN (${tuples})`, part.flat());
    for (const [k, h] of m) out.set(k, h);
  }
  return out;
}
