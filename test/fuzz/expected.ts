/**
 * The fidelity checker's own idea of what a SQLite value becomes in a PostgreSQL column: one
 * canonical string per cell, computed from the SQLite value and, independently, from PostgreSQL's
 * text rendering of the stored value. Written from the conversions values.ts documents (booleans
 * from their spellings, Unix seconds/milliseconds and ISO text as timestamps, decimals rounded
 * half away from zero to the declared scale, text bytes as bytea) without importing the engine,
 * so a bug in the engine's converters cannot hide itself.
 *
 * UNREPRESENTABLE means no value of the column's type equals the SQLite value; a run that exits 0
 * with such a cell has changed data.
 */

export type SqliteCell = null | bigint | number | string | Buffer;
export const UNREPRESENTABLE = Symbol("unrepresentable");
export type Canon = string | null | typeof UNREPRESENTABLE;

export interface PgColumnType {
  /** format_type() output, e.g. "numeric(10,2)", "character varying(255)", "bigint" */
  type: string;
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  bigint: [-(2n ** 63n), 2n ** 63n - 1n],
  integer: [-(2n ** 31n), 2n ** 31n - 1n],
  smallint: [-(2n ** 15n), 2n ** 15n - 1n],
};

function floatBits(n: number): string {
  if (Number.isNaN(n)) return "nan";
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b.toString("hex");
}

/** JavaScript's shortest round-trip rendering, which the engine documents for reals sent as text. */
function realText(n: number): string {
  return String(n);
}

function numericText(v: SqliteCell): string | null {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? realText(v) : v > 0 ? "Infinity" : v < 0 ? "-Infinity" : "NaN";
  if (typeof v === "string") return v.trim();
  return null;
}

/** Exact decimal value as {neg, digits, exp}: value = digits * 10^exp. */
function parseDecimal(s: string): { neg: boolean; digits: bigint; exp: number } | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return null;
  const frac = m[3] ?? "";
  return { neg: m[1] === "-", digits: BigInt((m[2] || "0") + frac), exp: (m[4] ? Number(m[4]) : 0) - frac.length };
}

/** Canonical decimal: no exponent, no trailing fractional zeros, no "-0". */
function decimalCanon(d: { neg: boolean; digits: bigint; exp: number }): string {
  let digits = d.digits;
  let exp = d.exp;
  while (exp < 0 && digits % 10n === 0n && digits !== 0n) {
    digits /= 10n;
    exp++;
  }
  if (digits === 0n) return "0";
  let s: string;
  if (exp >= 0) s = digits.toString() + "0".repeat(exp);
  else {
    const str = digits.toString().padStart(-exp + 1, "0");
    s = str.slice(0, str.length + exp) + "." + str.slice(str.length + exp);
  }
  return (d.neg ? "-" : "") + s;
}

function roundToScale(d: { neg: boolean; digits: bigint; exp: number }, scale: number): { neg: boolean; digits: bigint; exp: number } {
  if (d.exp >= -scale) return d;
  const drop = BigInt(-scale - d.exp);
  const div = 10n ** drop;
  let q = d.digits / div;
  const r = d.digits % div;
  if (r * 2n >= div) q += 1n; // half away from zero (magnitude rounding)
  return { neg: d.neg, digits: q, exp: -scale };
}

function intDigits(d: { digits: bigint; exp: number }): number {
  if (d.digits === 0n) return 0;
  const len = d.digits.toString().length + d.exp;
  return Math.max(0, len);
}

const BOOL: Record<string, string> = { "1": "true", "0": "false", t: "true", f: "false", true: "true", false: "false", y: "true", n: "false", yes: "true", no: "false", on: "true", off: "false" };

const ISO = /^\s*(\d{4})[-/](\d{2})[-/](\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$/i;
const MIN_US = -62135596800000000n; // 0001-01-01 00:00:00 UTC
const MAX_US = 253402300800000000n; // 10000-01-01 00:00:00 UTC

function daysFromCivil(y: number, m: number, d: number): number {
  // Howard Hinnant's days_from_civil (proleptic Gregorian), valid for every year in range.
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function validYmd(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const dim = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return d <= dim;
}

/** Microseconds since 1970 UTC for a SQLite value in a timestamp column, or UNREPRESENTABLE. */
function timestampMicros(v: SqliteCell): bigint | typeof UNREPRESENTABLE {
  let us: bigint;
  if (typeof v === "bigint") {
    const a = v < 0n ? -v : v;
    us = a >= 100_000_000_000n ? v * 1000n : v * 1_000_000n;
  } else if (typeof v === "number") {
    if (!Number.isFinite(v)) return UNREPRESENTABLE;
    us = BigInt(Math.round(Math.abs(v) >= 1e11 ? v * 1000 : v * 1e6));
  } else if (typeof v === "string") {
    const m = ISO.exec(v);
    if (!m) {
      if (/^\s*-?\d+(\.\d+)?\s*$/.test(v)) return timestampMicros(/\./.test(v) ? Number(v) : BigInt(v.trim()));
      return UNREPRESENTABLE;
    }
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
    if (!validYmd(y, mo, d) || h > 23 || mi > 59 || s > 59) return UNREPRESENTABLE;
    const frac = BigInt(((m[7] ?? "") + "000000").slice(0, 6));
    let offMin = 0;
    const off = m[8];
    if (off && off.toUpperCase() !== "Z") {
      const digits = off.slice(1).replace(":", "");
      offMin = (off[0] === "-" ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
    }
    us = (BigInt(daysFromCivil(y, mo, d)) * 86400n + BigInt(h * 3600 + mi * 60 + s - offMin * 60)) * 1_000_000n + frac;
  } else return UNREPRESENTABLE;
  if (us < MIN_US || us >= MAX_US) return UNREPRESENTABLE;
  return us;
}

/** PostgreSQL's ISO rendering of a timestamp (DateStyle ISO, TimeZone UTC) as microseconds. */
function pgTimestampMicros(s: string): bigint {
  const m = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([+-]\d{2})(?::(\d{2}))?)?( BC)?$/.exec(s);
  if (!m) throw new Error(`unexpected PostgreSQL timestamp rendering ${JSON.stringify(s)}`);
  if (m[10]) throw new Error(`BC timestamp ${s}`);
  const off = m[8] ? (Number(m[8]) * 60 + Math.sign(Number(m[8]) || 1) * Number(m[9] ?? 0)) * 60 : 0;
  const secs = BigInt(daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]))) * 86400n + BigInt(Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]) - off);
  return secs * 1_000_000n + BigInt(((m[7] ?? "") + "000000").slice(0, 6));
}

function stableJson(x: unknown): string {
  if (Array.isArray(x)) return "[" + x.map(stableJson).join(",") + "]";
  if (x && typeof x === "object") {
    const o = x as Record<string, unknown>;
    return "{" + Object.keys(o).sort().map((k) => JSON.stringify(k) + ":" + stableJson(o[k])).join(",") + "}";
  }
  return JSON.stringify(x);
}

function baseType(t: string): { base: string; p?: number; s?: number } {
  const m = /^([a-z ]+?)(?:\((\d+)(?:,(\d+))?\))?$/.exec(t.trim());
  if (!m) return { base: t };
  return { base: m[1], ...(m[2] ? { p: Number(m[2]) } : {}), ...(m[3] ? { s: Number(m[3]) } : {}) };
}

/** Canonical form of what a SQLite value must become in a column of this PostgreSQL type. */
export function expectedCanon(v: SqliteCell, pgType: string): Canon {
  if (v === null) return null;
  const { base, p, s } = baseType(pgType);
  switch (base) {
    case "bigint":
    case "integer":
    case "smallint": {
      let n: bigint;
      if (typeof v === "bigint") n = v;
      else if (typeof v === "number") {
        if (!Number.isInteger(v)) return UNREPRESENTABLE;
        n = BigInt(v);
      } else if (typeof v === "string" && /^\s*[-+]?\d+\s*$/.test(v)) n = BigInt(v.trim());
      else return UNREPRESENTABLE;
      const [lo, hi] = INT_RANGES[base];
      return n < lo || n > hi ? UNREPRESENTABLE : n.toString();
    }
    case "double precision":
    case "real": {
      if (typeof v === "number") return floatBits(v);
      if (typeof v === "bigint") return floatBits(Number(v));
      if (typeof v === "string") {
        const t = v.trim();
        if (/^[+-]?(infinity|inf)$/i.test(t)) return floatBits(t.startsWith("-") ? -Infinity : Infinity);
        if (/^nan$/i.test(t)) return "nan";
        if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return UNREPRESENTABLE;
        const n = Number(t);
        return Number.isFinite(n) ? floatBits(n) : UNREPRESENTABLE;
      }
      return UNREPRESENTABLE;
    }
    case "numeric": {
      const text = numericText(v);
      if (text === null) return UNREPRESENTABLE;
      if (/^[+-]?infinity$/i.test(text)) return p === undefined ? (text.startsWith("-") ? "-Infinity" : "Infinity") : UNREPRESENTABLE;
      if (/^nan$/i.test(text)) return "NaN";
      let d = parseDecimal(text);
      if (!d) return UNREPRESENTABLE;
      if (p !== undefined) {
        d = roundToScale(d, s ?? 0);
        if (intDigits(d) > p - (s ?? 0)) return UNREPRESENTABLE;
      }
      return decimalCanon(d);
    }
    case "boolean": {
      if (typeof v === "bigint") return v === 1n ? "true" : v === 0n ? "false" : UNREPRESENTABLE;
      if (typeof v === "number") return v === 1 ? "true" : v === 0 ? "false" : UNREPRESENTABLE;
      if (typeof v === "string") return BOOL[v.trim().toLowerCase()] ?? UNREPRESENTABLE;
      return UNREPRESENTABLE;
    }
    case "timestamp without time zone":
    case "timestamp with time zone": {
      const us = timestampMicros(v);
      return us === UNREPRESENTABLE ? us : us.toString();
    }
    case "date": {
      const us = timestampMicros(v);
      if (us === UNREPRESENTABLE) return us;
      if (us % 86_400_000_000n !== 0n) return UNREPRESENTABLE;
      return us.toString();
    }
    case "bytea": {
      if (Buffer.isBuffer(v)) return v.toString("hex");
      if (typeof v === "string") return Buffer.from(v, "utf8").toString("hex");
      return Buffer.from(typeof v === "number" ? realText(v) : v.toString(), "utf8").toString("hex");
    }
    case "jsonb":
    case "json": {
      if (Buffer.isBuffer(v)) return UNREPRESENTABLE;
      const text = typeof v === "string" ? v : typeof v === "number" ? realText(v) : v.toString();
      try {
        const parsed: unknown = JSON.parse(text);
        if (base === "jsonb" && /\\u0000/i.test(text)) return UNREPRESENTABLE;
        return stableJson(parsed);
      } catch {
        return UNREPRESENTABLE;
      }
    }
    case "uuid": {
      if (typeof v !== "string") return UNREPRESENTABLE;
      const hex = v.trim().replace(/^\{|\}$/g, "").replace(/-/g, "").toLowerCase();
      if (!/^[0-9a-f]{32}$/.test(hex)) return UNREPRESENTABLE;
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
    default: {
      // text, varchar(n), character varying(n), and anything else rendered as its text.
      if (Buffer.isBuffer(v)) return UNREPRESENTABLE;
      const text = typeof v === "string" ? v : typeof v === "number" ? realText(v) : v.toString();
      if (text.includes("\u0000")) return UNREPRESENTABLE;
      if (/^(character varying|varchar|character)$/.test(base) && p !== undefined && [...text].length > p) return UNREPRESENTABLE;
      return text;
    }
  }
}

/** Canonical form of PostgreSQL's text rendering (bytea as hex) of a stored value. */
export function actualCanon(text: string | null, pgType: string): string | null {
  if (text === null) return null;
  const { base } = baseType(pgType);
  switch (base) {
    case "double precision":
    case "real":
      return floatBits(Number(text));
    case "numeric": {
      if (/^-?Infinity$|^NaN$/.test(text)) return text;
      return decimalCanon(parseDecimal(text)!);
    }
    case "boolean":
      return text === "t" || text === "true" ? "true" : "false";
    case "timestamp without time zone":
    case "timestamp with time zone":
      return pgTimestampMicros(text).toString();
    case "date":
      return (BigInt(daysFromCivil(Number(text.slice(0, 4)), Number(text.slice(5, 7)), Number(text.slice(8, 10)))) * 86_400_000_000n).toString();
    case "jsonb":
    case "json":
      return stableJson(JSON.parse(text));
    default:
      return text;
  }
}
