/**
 * Content checksums computed independently on both sides (issue 2, "Verify"). Each row becomes a
 * canonical text (per column: N for NULL, else V<bytes>:<value>), hashed with md5; the table sum
 * adds the two 64-bit halves of every row hash modulo 2^64, so it is order-independent and can be
 * computed over any key range for bisection. PostgreSQL renders the stored values itself
 * (float8send bits, encode(bytea,'hex'), ISO timestamps in UTC); the source side applies the
 * documented normalisation of values.ts. Equal data => equal sums; any changed cell changes the row hash.
 */
import { createHash, hash as oneShotHash } from "crypto";
import type { Client } from "pg";
import { qualified, quoteIdent } from "./ddl";
import { quoteSqliteIdent as qi, type SourceTable } from "./introspect";
import type { TargetColumn } from "./copy";
import type { SqliteDb } from "./sqlite";
import { canonicalFromPgText, toPgText, type SqliteValue } from "./values";

const MOD = 1n << 64n;

export interface RangeSum {
  rows: number;
  checksum: string;
}

export function pgCanonicalExpr(c: TargetColumn): string {
  const q = quoteIdent(c.column);
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

export function pgRowHashExpr(cols: TargetColumn[]): string {
  const parts = cols.map((c) => {
    const e = pgCanonicalExpr(c);
    return `CASE WHEN ${quoteIdent(c.column)} IS NULL THEN 'N' ELSE 'V' || octet_length(${e}) || ':' || ${e} END`;
  });
  return `md5(concat(${parts.join(", ")}))`;
}

export function sourceCanonical(v: SqliteValue, c: TargetColumn): string | null {
  if (v === null) return null;
  try {
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
  private ah = 0;
  private al = 0;
  private bh = 0;
  private bl = 0;
  private a = 0n;
  private b = 0n;

  addText(canonicalRow: string): void {
    this.addDigest(md5Digest(canonicalRow));
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
    return finishSum(this.rows, this.a, this.b);
  }
}

export function finishSum(rows: number, a: bigint, b: bigint): RangeSum {
  const norm = (x: bigint): string => (((x % MOD) + MOD) % MOD).toString(16).padStart(16, "0");
  return { rows, checksum: norm(a) + norm(b) };
}

/** Source-side sum over rows matching `where` (SQLite SQL on the key column) . */
export function sourceSum(db: SqliteDb, t: SourceTable, cols: TargetColumn[], where = "", params: unknown[] = []): RangeSum {
  const sql = `SELECT ${cols.map((c) => qi(c.column)).join(", ")} FROM ${qi(t.name)}${where ? ` WHERE ${where}` : ""}`;
  const sum = new RowSum();
  for (const row of db.prepare(sql).raw(true).safeIntegers(true).iterate(...params) as Iterable<unknown[]>) sum.addText(sourceRowText(row, cols));
  return sum.finish();
}

export async function targetSum(c: Client, schema: string, table: string, cols: TargetColumn[], where = "", params: unknown[] = []): Promise<RangeSum> {
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
  const sql = `SELECT ${[...names, ...keyCols.map((k) => k.column)].map(qi).join(", ")} FROM ${qi(t.name)}${where ? ` WHERE ${where}` : ""}`;
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
  const stmt = db.prepare(`SELECT ${cols.map((c) => qi(c.column)).join(", ")} FROM ${qi(t.name)} WHERE ${keyCols.map((k) => `${qi(k.column)} = ?`).join(" AND ")}`).raw(true).safeIntegers(true);
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
    const m = await targetRowMap(c, schema, table, cols, keyCols, `(${keyCols.map((k) => quoteIdent(k.column)).join(", ")}) IN (${tuples})`, part.flat());
    for (const [k, h] of m) out.set(k, h);
  }
  return out;
}
