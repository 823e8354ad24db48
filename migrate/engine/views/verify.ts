/**
 * Checking a created view against SQLite's: both sides run `SELECT * FROM view` and the rows are
 * compared as a count and an order-independent digest (the sum, modulo 2^128, of each row's
 * sha256), so neither side has to sort. Values are rendered the same way on both sides, chosen by
 * the PostgreSQL column's type:
 * - numbers (and booleans, as SQLite stores them: 1/0): integers as exact digits; other values as
 *   doubles rounded to 12 significant digits, because SQLite sums REALs in a different order than
 *   PostgreSQL (and computes NUMERIC columns in doubles), which changes the last bits only;
 * - timestamps and dates: ISO text 'YYYY-MM-DD HH:MM:SS[.fff]' (a missing time is midnight,
 *   trailing zeros of fractions dropped; timestamptz read in UTC); a number stored in SQLite is
 *   left as a number, so such rows show as a mismatch rather than being guessed equal;
 * - bytea as \x hex, json re-serialised, text as it is; a SQLite number in a text column as
 *   SQLite writes it as text (a REAL with ".0" when integral), which the translation reproduces.
 */
import { createHash } from "crypto";
import type { Client } from "pg";
import type { SqliteDb } from "../sqlite";
import type { ViewPlan } from "./index";

export interface ViewCheck {
  name: string;
  match: boolean;
  sourceRows: number;
  targetRows: number;
  sourceDigest: string;
  targetDigest: string;
}

type Render = "number" | "bool" | "timestamp" | "date" | "bytea" | "json" | "text";

const OIDS: Record<number, Render> = { 16: "bool", 20: "number", 21: "number", 23: "number", 700: "number", 701: "number", 1700: "number", 1082: "date", 1114: "timestamp", 1184: "timestamp", 17: "bytea", 114: "json", 3802: "json" };

const MOD = 1n << 128n;
const FETCH_ROWS = 10000;

export function renderNumber(s: string): string {
  const t = s.trim();
  if (/^[-+]?\d+$/.test(t)) return BigInt(t).toString();
  const n = Number(t);
  if (!Number.isFinite(n)) return t;
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 53) return String(n);
  return String(Number(n.toPrecision(12)));
}

export function renderTimestamp(s: string, dateOnly: boolean): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(?:\+00(?::00)?|Z)?$/.exec(s.trim());
  if (!m) return s;
  if (dateOnly) return m[1];
  const frac = (m[5] ?? "").replace(/0+$/, "").replace(/^\.$/, "");
  return `${m[1]} ${m[2] ?? "00"}:${m[3] ?? "00"}:${m[4] ?? "00"}${frac}`;
}

/** One SQLite value as the column's PostgreSQL type renders (see the file comment). */
function fromSqlite(v: unknown, r: Render): string {
  if (v === null || v === undefined) return "\u0000N";
  if (typeof v === "bigint") return r === "text" ? v.toString() : renderNumber(v.toString());
  // Integers arrive as BigInt (safeIntegers), so a number is a REAL: as text SQLite writes 2.0.
  if (typeof v === "number") return r === "text" ? (Number.isInteger(v) && Math.abs(v) < 1e15 ? `${v}.0` : String(v)) : renderNumber(String(v));
  if (Buffer.isBuffer(v)) return r === "bytea" ? "\\x" + v.toString("hex") : v.toString("utf8");
  const s = String(v);
  if (r === "number" || r === "bool") return /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(s) ? renderNumber(s) : s;
  if (r === "timestamp" || r === "date") return renderTimestamp(s, r === "date");
  if (r === "bytea") return "\\x" + Buffer.from(s, "utf8").toString("hex");
  if (r === "json") return canonicalJson(s);
  return s;
}

function fromPg(v: string | null, r: Render): string {
  if (v === null) return "\u0000N";
  if (r === "bool") return v === "t" ? "1" : v === "f" ? "0" : v;
  if (r === "number") return renderNumber(v);
  if (r === "timestamp" || r === "date") return renderTimestamp(v, r === "date");
  if (r === "json") return canonicalJson(v);
  return v;
}

function canonicalJson(s: string): string {
  try {
    return JSON.stringify(JSON.parse(s));
  } catch {
    return s;
  }
}

function rowHash(parts: string[]): bigint {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\u0001");
  return BigInt("0x" + h.digest("hex").slice(0, 32));
}

function qi(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export async function checkView(db: SqliteDb, c: Client, schemaName: string, v: ViewPlan): Promise<ViewCheck> {
  // Timestamps as UTC ISO text, on this transaction only (the session may be reused); the rows
  // come through a cursor in batches, so a large view is never held in memory at once.
  let targetSum = 0n;
  let targetRows = 0;
  let renders: Render[] = [];
  await c.query("BEGIN");
  try {
    await c.query("SET LOCAL TIME ZONE 'UTC'");
    await c.query("SET LOCAL DateStyle = 'ISO, YMD'");
    await c.query(`DECLARE armp_view_rows NO SCROLL CURSOR FOR SELECT * FROM ${qi(schemaName)}.${qi(v.pgName)}`);
    for (;;) {
      const res = await c.query({ text: `FETCH ${FETCH_ROWS} FROM armp_view_rows`, rowMode: "array", types: { getTypeParser: () => (x: string) => x } });
      if (renders.length === 0) renders = res.fields.map((f) => OIDS[f.dataTypeID] ?? "text");
      for (const row of res.rows as (string | null)[][]) targetSum = (targetSum + rowHash(row.map((x, i) => fromPg(x, renders[i])))) % MOD;
      targetRows += res.rows.length;
      if (res.rows.length < FETCH_ROWS) break;
    }
  } finally {
    await c.query("COMMIT");
  }
  let sourceSum = 0n;
  let sourceRows = 0;
  const stmt = db.prepare(`SELECT * FROM ${qi(v.name)}`).raw(true).safeIntegers(true);
  for (const row of stmt.iterate() as Iterable<unknown[]>) {
    sourceRows++;
    sourceSum = (sourceSum + rowHash(row.map((x, i) => fromSqlite(x, renders[i] ?? "text")))) % MOD;
  }
  const hex = (x: bigint): string => x.toString(16).padStart(32, "0");
  return { name: v.name, match: sourceRows === targetRows && sourceSum === targetSum, sourceRows, targetRows, sourceDigest: hex(sourceSum), targetDigest: hex(targetSum) };
}
