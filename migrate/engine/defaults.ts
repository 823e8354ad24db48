/**
 * SQLite DEFAULT clauses and generated-column expressions -> PostgreSQL, for the *mapped* column
 * (ColumnMapping.kind/pgType). The rule: the PostgreSQL default produces the value SQLite would
 * have stored, converted exactly as the copy converts stored values (values.ts toPgText); when no
 * such default exists it is dropped with a reason that plan and run report. A default never
 * makes CREATE TABLE fail: constant defaults are evaluated by SQLite itself (an in-memory
 * database, with the column's affinity) and the converted text is checked against the column's
 * PostgreSQL type before it is written into the DDL.
 */
import Database from "better-sqlite3";
import { quoteIdent, quoteLiteral } from "./ddl";
import { calledFunctions, parseExpr, ParseError, type Expr } from "./sqlexpr";
import { sqliteAffinity, type ColumnMapping } from "./typemap";
import { jsonbText, normaliseDecimal, toPgText, ValueError, type SqliteValue } from "./values";

export interface DefaultTranslation {
  sql: string | null;
  /** Set when the SQLite default could not be carried over (plan and run show it). */
  dropped?: string;
  /** Set when the default was carried with a caveat worth reading (plan and run show it). */
  note?: string;
}

let scratch: Database.Database | null = null;
let deterministic: Set<string> | null = null;

/** An in-memory SQLite (never the source) where constant defaults are evaluated. */
function scratchDb(): Database.Database {
  if (scratch === null) {
    scratch = new Database(":memory:");
    // SQLITE_DETERMINISTIC (0x800): the function always gives the same result for the same arguments.
    const fns = scratch.prepare("SELECT name, flags FROM pragma_function_list").all() as { name: string; flags: number }[];
    deterministic = new Set(fns.filter((f) => (f.flags & 0x800) !== 0).map((f) => f.name.toLowerCase()));
  }
  return scratch;
}

const AFFINITY_DECL = { INTEGER: "INTEGER", TEXT: "TEXT", BLOB: "BLOB", REAL: "REAL", NUMERIC: "NUMERIC" } as const;

/** (affinity, default text) -> the value SQLite stored for it (an Error when it could not evaluate it). */
const stored = new Map<string, SqliteValue | Error>();

/** The value SQLite stores for a constant default in a column of this declared type (affinity applied). */
function sqliteStoredDefault(defaultSql: string, declType: string): SqliteValue {
  const aff = declType.trim() === "" ? "" : AFFINITY_DECL[sqliteAffinity(declType)];
  const key = `${aff}\0${defaultSql}`;
  if (!stored.has(key)) {
    try {
      stored.set(key, evaluate(defaultSql, aff));
    } catch (e) {
      // Errors from better-sqlite3 may come from another realm (jest): keep their message either way.
      stored.set(key, e instanceof Error ? e : new Error(typeof (e as { message?: unknown }).message === "string" ? (e as { message: string }).message : String(e)));
    }
  }
  const v = stored.get(key)!;
  if (v instanceof Error) throw v;
  return v;
}

function evaluate(defaultSql: string, aff: string): SqliteValue {
  const db = scratchDb();
  db.exec("DROP TABLE IF EXISTS armp_default");
  // PRAGMA table_xinfo drops the parentheses of DEFAULT (expr); a lone "word" must stay bare, as
  // SQLite reads DEFAULT "0" as a string but ("0") as a column reference.
  // prepare() compiles exactly one statement: the source's text can only ever be this default.
  try {
    db.prepare(`CREATE TABLE armp_default (v ${aff} DEFAULT ${defaultSql})`).run();
  } catch {
    db.prepare(`CREATE TABLE armp_default (v ${aff} DEFAULT (${defaultSql}))`).run();
  }
  db.exec("INSERT INTO armp_default DEFAULT VALUES");
  const row = db.prepare("SELECT v FROM armp_default").raw(true).safeIntegers(true).get() as [SqliteValue];
  db.exec("DROP TABLE armp_default");
  return row[0];
}

const DATE_FUNCTIONS = new Set(["datetime", "date", "time", "julianday", "unixepoch", "strftime", "timediff"]);

/** Words a "(" may follow that are not function calls (for expressions the parser does not cover). */
const SQL_KEYWORDS = new Set(["in", "and", "or", "not", "cast", "case", "when", "then", "else", "exists", "like", "glob", "between", "is", "escape", "match", "regexp", "collate", "select"]);

/** True when the expression's value depends on the clock (CURRENT_*, 'now' or a date function without a time value). */
function readsClock(e: Expr): boolean {
  switch (e.t) {
    case "now":
      return true;
    case "call": {
      if (DATE_FUNCTIONS.has(e.name)) {
        const timeArg = e.name === "strftime" ? e.args[1] : e.args[0];
        if (timeArg === undefined || (timeArg.t === "str" && timeArg.value.trim().toLowerCase() === "now")) return true;
      }
      return e.args.some(readsClock);
    }
    case "unary":
    case "cast":
      return readsClock(e.e);
    case "bin":
      return readsClock(e.l) || readsClock(e.r);
    case "case":
      return [e.base, ...e.whens.flat(), e.else].some((x) => x !== null && readsClock(x));
    default:
      return false;
  }
}

/**
 * SQLite default SQL (PRAGMA table_xinfo dflt_value) -> PostgreSQL default for a column of the
 * mapped kind; a dropped default's reason starts with "DEFAULT <the SQLite text>".
 */
export function translateDefault(sqliteSql: string | null, m: ColumnMapping): DefaultTranslation {
  if (sqliteSql === null) return { sql: null };
  const r = translate(sqliteSql.trim(), m);
  return r.dropped ? { ...r, dropped: `DEFAULT ${r.dropped}` } : r;
}

function translate(src: string, m: ColumnMapping): DefaultTranslation {
  let e: Expr | null = null;
  try {
    e = parseExpr(src);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
  if (e !== null && readsClock(e)) return clockDefault(src, e, m);
  const fns = e !== null ? calledFunctions(e) : [...src.matchAll(/([A-Za-z_]\w*)\s*\(/g)].map((x) => x[1].toLowerCase()).filter((f) => !SQL_KEYWORDS.has(f));
  scratchDb();
  const nonDet = fns.find((f) => !deterministic!.has(f) && !DATE_FUNCTIONS.has(f));
  if (nonDet !== undefined) {
    const known = scratchDb().prepare("SELECT 1 FROM pragma_function_list WHERE name = ?").get(nonDet) !== undefined;
    return drop(known ? `${src}: ${nonDet}() gives a new value on every call and PostgreSQL has no function giving the same values; set the default by hand` : `${src}: ${nonDet}() is not a built-in SQLite function (application-defined?); set the default by hand`);
  }
  if (e === null && /\bnow\b|current_(timestamp|date|time)/i.test(src)) return drop(`${src}: the clock-reading expression is not understood; set the default by hand`);
  let v: SqliteValue;
  try {
    v = sqliteStoredDefault(src, m.declType);
  } catch (err) {
    return drop(`${src}: SQLite cannot evaluate it outside the source database (${(err as Error).message}); set the default by hand`);
  }
  return constantDefault(src, v, m);
}

function drop(reason: string): DefaultTranslation {
  return { sql: null, dropped: reason };
}

/** The value SQLite stores, converted as the copy converts it, as a PostgreSQL literal the column's type accepts. */
function constantDefault(src: string, v: SqliteValue, m: ColumnMapping): DefaultTranslation {
  if (v === null) return { sql: null };
  const shown = Buffer.isBuffer(v) ? `X'${v.toString("hex")}'` : typeof v === "string" ? JSON.stringify(v) : String(v);
  const cannot = (why: string): DefaultTranslation => drop(`${src} (SQLite stores ${shown}) ${why}`);
  let text: string | null;
  try {
    text = toPgText(v, m);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    return cannot(`cannot be converted for ${m.pgType}: ${err.message}`);
  }
  if (text === null) return { sql: null };
  if (text.includes("\u0000")) return cannot(`contains a NUL character, which ${m.pgType} cannot hold`);
  switch (m.kind) {
    case "int": {
      if (!/^-?\d+$/.test(text) || BigInt(text) > 2n ** 63n - 1n || BigInt(text) < -(2n ** 63n)) return cannot(`is not a 64-bit integer for ${m.pgType}`);
      const lim = m.pgType === "integer" || m.pgType === "int" || m.pgType === "int4" ? 2n ** 31n : m.pgType === "smallint" || m.pgType === "int2" ? 2n ** 15n : 2n ** 63n;
      if (BigInt(text) >= lim || BigInt(text) < -lim) return cannot(`is out of range for ${m.pgType}`);
      return { sql: text };
    }
    case "float":
      if (/^(-?Infinity|NaN)$/.test(text)) return { sql: quoteLiteral(text) };
      if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text)) return cannot(`is not a number for ${m.pgType}`);
      // "-0" keeps its sign only as a float literal ('-0'); other numbers are exact as written.
      return { sql: text === "-0" ? "'-0'" : text.trim() };
    case "numeric": {
      const n = normaliseDecimal(text, m.scale);
      if (n === null) return cannot(`is not a decimal number for ${m.pgType}`);
      const p = /\(\s*(\d+)/.exec(m.pgType);
      if (p && n.replace(/^-/, "").split(".")[0].replace(/^0+/, "").length > Number(p[1]) - (m.scale ?? 0)) return cannot(`does not fit ${m.pgType}`);
      return { sql: n };
    }
    case "bool":
      return { sql: text === "t" ? "true" : "false" };
    case "text":
      if (m.maxLength !== undefined && [...text].length > m.maxLength) return cannot(`is longer than ${m.pgType} allows`);
      return { sql: quoteLiteral(text) };
    case "jsonb":
    case "json":
      try {
        jsonbText(text);
      } catch (err) {
        return cannot(`is not JSON for ${m.pgType} (${(err as Error).message})`);
      }
      return { sql: quoteLiteral(text) };
    case "date":
    case "timestamp":
    case "timestamptz":
    case "time":
    case "uuid":
    case "bytea":
      return { sql: quoteLiteral(text) };
    case "other":
      return cannot(`is not checked for the cast type ${m.pgType}; set the default by hand (ALTER TABLE ... SET DEFAULT)`);
  }
}

/** A PostgreSQL expression with the SQLite storage class its value has. */
interface Typed {
  sql: string;
  type: "int" | "float" | "text" | "null";
}

/**
 * What a date function of 'now' produces: the instant as a PostgreSQL timestamp (UTC wall clock,
 * or the shifted wall clock after 'localtime'), how SQLite renders it, and the precision kept.
 */
interface ClockValue {
  ts: string;
  /** "iso": text the copy reads as a date-time; "date"/"time": those texts; "unix": integer seconds; "julian": float days; "text": other text; "digits": text of digits only. */
  shape: "iso" | "date" | "time" | "unix" | "julian" | "text" | "digits";
  /** to_char format rendering the text shapes exactly as SQLite does. */
  format?: string;
  precision: "second" | "milliseconds" | "day";
  note?: string;
}

class Untranslatable extends Error {}

const UTC_NOW = "now() AT TIME ZONE 'UTC'";

/** The zone SQLite's 'localtime' means on this machine (the one running the migration). */
export function localZone(): string {
  return process.env.TZ && process.env.TZ.trim() !== "" ? process.env.TZ.replace(/^:/, "") : Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** strftime format -> to_char format and the shape of its output, or null when a specifier has no equivalent. */
function strftimeFormat(fmt: string): { format: string; shape: ClockValue["shape"]; precision: ClockValue["precision"] } | null {
  const specs: Record<string, string> = { Y: "YYYY", m: "MM", d: "DD", H: "HH24", M: "MI", S: "SS", f: "SS.MS", j: "DDD", F: "YYYY-MM-DD", T: "HH24:MI:SS" };
  let out = "";
  let lit = "";
  let precision: ClockValue["precision"] = "second";
  const flush = (): void => {
    if (lit) out += '"' + lit.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
    lit = "";
  };
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== "%") {
      lit += fmt[i];
      continue;
    }
    const c = fmt[++i];
    if (c === "%") {
      lit += "%";
      continue;
    }
    const s = specs[c];
    if (s === undefined) return null;
    if (c === "f") precision = "milliseconds";
    flush();
    out += s;
  }
  flush();
  const iso: Record<string, ClockValue["precision"]> = { "%Y-%m-%d %H:%M:%S": "second", "%Y-%m-%dT%H:%M:%S": "second", "%Y-%m-%d %H:%M:%f": "milliseconds", "%Y-%m-%dT%H:%M:%f": "milliseconds", "%Y-%m-%dT%H:%M:%SZ": "second", "%Y-%m-%dT%H:%M:%fZ": "milliseconds", "%F %T": "second", "%FT%T": "second" };
  if (iso[fmt] !== undefined) return { format: out, shape: "iso", precision: iso[fmt] };
  if (fmt === "%Y-%m-%d" || fmt === "%F") return { format: out, shape: "date", precision: "day" };
  if (/^(%[YmdHMSj])+$/.test(fmt)) return { format: out, shape: "digits", precision };
  return { format: out, shape: "text", precision };
}

/** A date function applied to 'now' with its modifiers, or Untranslatable with the reason. */
function clockCall(e: Expr): ClockValue {
  let name: string;
  let args: Expr[];
  if (e.t === "now") {
    name = e.name === "CURRENT_TIMESTAMP" ? "datetime" : e.name === "CURRENT_DATE" ? "date" : "time";
    args = [];
  } else if (e.t === "call" && DATE_FUNCTIONS.has(e.name)) {
    name = e.name;
    args = e.args;
  } else throw new Untranslatable("it is not a date function of 'now'");
  if (name === "timediff") throw new Untranslatable("timediff() has no PostgreSQL equivalent");
  let fmt: string | null = null;
  if (name === "strftime") {
    const f = args[0];
    if (f === undefined || f.t !== "str") throw new Untranslatable("strftime()'s format is not a string literal");
    fmt = f.value;
    args = args.slice(1);
  }
  const mods = args.slice(1);
  if (args.length > 0 && !(args[0].t === "str" && args[0].value.trim().toLowerCase() === "now")) throw new Untranslatable("its time value is not 'now'");
  let ts = UTC_NOW;
  let subsec = false;
  let note: string | undefined;
  let day = false;
  for (const mod of mods) {
    if (mod.t !== "str") throw new Untranslatable("a modifier is not a string literal");
    const m = mod.value.trim().toLowerCase().replace(/\s+/g, " ");
    const shift = /^([+-]?)\s*(\d+(?:\.\d+)?) (day|hour|minute|second)s?$/.exec(m);
    if (shift) {
      ts = `(${ts}) ${shift[1] === "-" ? "-" : "+"} interval '${shift[2]} ${shift[3]}s'`;
      if (shift[3] !== "day" || shift[2].includes(".")) day = false;
    } else if (/^([+-]?)\s*\d+(?:\.\d+)? (month|year)s?$/.test(m)) {
      throw new Untranslatable(`modifier '${mod.value}': SQLite and PostgreSQL add months and years differently at month ends`);
    } else if (m === "start of day" || m === "start of month" || m === "start of year") {
      ts = `date_trunc('${m.slice(9)}', ${ts})`;
      day = true;
    } else if (m === "localtime") {
      const z = localZone();
      ts = `(${ts}) AT TIME ZONE 'UTC' AT TIME ZONE ${quoteLiteral(z)}`;
      note = `SQLite's 'localtime' is the zone of the machine that wrote the row; carried as ${quoteLiteral(z)}, the zone of the machine that ran the migration (not PostgreSQL's TimeZone setting)`;
    } else if (m === "subsec" || m === "subsecond") {
      subsec = true;
    } else {
      throw new Untranslatable(`modifier '${mod.value}' is not translated`);
    }
  }
  const precision = (p: ClockValue["precision"]): ClockValue["precision"] => (day ? "day" : p);
  switch (name) {
    case "datetime":
      return { ts, shape: "iso", format: subsec ? "YYYY-MM-DD HH24:MI:SS.MS" : "YYYY-MM-DD HH24:MI:SS", precision: precision(subsec ? "milliseconds" : "second"), note };
    case "date":
      return { ts, shape: "date", format: "YYYY-MM-DD", precision: "day", note };
    case "time":
      return { ts, shape: "time", format: subsec ? "HH24:MI:SS.MS" : "HH24:MI:SS", precision: precision(subsec ? "milliseconds" : "second"), note };
    case "julianday":
      return { ts, shape: "julian", precision: precision("milliseconds"), note };
    case "unixepoch":
      if (subsec) throw new Untranslatable("unixepoch(..., 'subsec') is a fraction of seconds the copy reads with a heuristic");
      return { ts, shape: "unix", precision: precision("second"), note };
    default: {
      if (fmt === "%s") return { ts, shape: "unix", precision: precision("second"), note };
      const f = strftimeFormat(fmt!);
      if (f === null) throw new Untranslatable(`strftime format '${fmt}' has a specifier with no to_char equivalent`);
      return { ts, shape: f.shape, format: f.format, precision: f.precision === "day" ? "day" : precision(f.precision), note };
    }
  }
}

function epochSeconds(c: ClockValue): string {
  return `floor(extract(epoch from ${c.ts}))::bigint`;
}

function toChar(c: ClockValue): string {
  return `to_char(${c.ts}, '${c.format!.replace(/'/g, "''")}')`;
}

/** Rendered length of a to_char format (all its fields are fixed width). */
function formatLength(format: string): number {
  return format.replace(/"((?:[^"\\]|\\.)*)"/g, (_m, s: string) => "x".repeat(s.replace(/\\(.)/g, "$1").length)).replace(/HH24/g, "00").replace(/YYYY/g, "0000").replace(/DDD/g, "000").replace(/MS/g, "000").length;
}

/** A default that reads the clock: the same instant rendered as SQLite renders it, converted as the copy converts it. */
function clockDefault(src: string, e: Expr, m: ColumnMapping): DefaultTranslation {
  const cannot = (why: string): DefaultTranslation => drop(`${src} ${why}; set the default by hand`);
  let c: ClockValue;
  try {
    c = clockCall(e);
  } catch (err) {
    if (!(err instanceof Untranslatable)) throw err;
    return e.t === "call" || e.t === "now" ? cannot(`is not translated: ${err.message}`) : clockArithmetic(src, e, m);
  }
  const ok = (sql: string): DefaultTranslation => (c.note ? { sql, note: c.note } : { sql });
  const aff = m.declType.trim() === "" ? "BLOB" : sqliteAffinity(m.declType);
  // SQLite converts text of digits to a number in INTEGER, NUMERIC and REAL columns.
  const shape = c.shape === "digits" && aff !== "TEXT" && aff !== "BLOB" ? "number" : c.shape;
  switch (m.kind) {
    case "timestamp":
    case "timestamptz": {
      if (shape !== "iso" && shape !== "date" && shape !== "unix") return cannot(`gives ${shapeText(shape)}, which the copy does not read as a ${m.pgType}`);
      const p = shape === "date" ? "day" : c.precision;
      const t = p === "day" ? `date_trunc('day', ${c.ts})` : `date_trunc('${p}', ${c.ts})`;
      if (m.kind === "timestamp") return ok(t);
      // DEFAULT takes a b_expr: AT TIME ZONE needs the parentheses.
      return ok(c.ts === UTC_NOW ? `date_trunc('${p}', CURRENT_TIMESTAMP)` : `((${t}) AT TIME ZONE 'UTC')`);
    }
    case "time":
      // CURRENT_TIME, time('now', ...): SQLite's HH:MM:SS text of the instant, which time holds exactly.
      if (shape === "time" && c.format !== undefined) return ok(`(${toChar(c)})::time`);
      return cannot(`gives ${shapeText(shape)}, which the copy does not read as a time of day`);
    case "date":
      if (shape === "date" || (shape === "iso" && c.precision === "day")) return ok(c.ts === UTC_NOW ? `((${UTC_NOW})::date)` : `((${c.ts})::date)`);
      return cannot(`gives ${shapeText(shape)}, which the copy does not read as a date (it has a time of day)`);
    case "text": {
      let sql: string;
      let len: number;
      if (shape === "unix") {
        sql = `${epochSeconds(c)}::text`;
        len = 10;
      } else if (c.format !== undefined && shape !== "julian" && shape !== "number") {
        sql = toChar(c);
        len = formatLength(c.format);
      } else return cannot(`gives ${shapeText(shape)}, whose text SQLite renders differently from PostgreSQL`);
      if (m.maxLength !== undefined && len > m.maxLength) return cannot(`renders ${len} characters, more than ${m.pgType} holds`);
      return ok(sql);
    }
    case "int":
      if (shape === "unix") return ok(epochSeconds(c));
      if (shape === "number") return ok(`${toChar(c)}::bigint`);
      return cannot(`gives ${shapeText(shape)}, which is not an integer`);
    case "float":
    case "numeric": {
      const cast = m.kind === "float" ? "double precision" : m.pgType;
      if (shape === "unix") return ok(`${epochSeconds(c)}::${cast}`);
      if (shape === "number") return ok(`${toChar(c)}::${cast}`);
      if (shape === "julian") {
        const jd = `(extract(epoch from date_trunc('milliseconds', ${c.ts})) / 86400 + 2440587.5)::double precision`;
        // PostgreSQL's float8 text is the shortest exact form, as the copy renders SQLite's REAL.
        return ok(m.kind === "float" ? jd : `${jd}::text::${cast}`);
      }
      return cannot(`gives ${shapeText(shape)}, which is not a number`);
    }
    default:
      return cannot(`has no equivalent for ${m.pgType}`);
  }
}

function shapeText(shape: string): string {
  return { iso: "date-time text", date: "date text", time: "time-of-day text", unix: "Unix seconds", julian: "a Julian day number", text: "formatted text", digits: "text of digits", number: "a number made of date digits" }[shape] ?? shape;
}

/** Integer arithmetic on Unix seconds, e.g. strftime('%s','now') * 1000 in an integer column. */
function clockArithmetic(src: string, e: Expr, m: ColumnMapping): DefaultTranslation {
  let r: Typed;
  try {
    r = typedExpr(e, { column: () => null, clock: true });
  } catch (err) {
    if (!(err instanceof Untranslatable)) throw err;
    return drop(`${src} is not translated: ${err.message}; set the default by hand`);
  }
  const out = fitTo(r, m);
  if (out === null) return drop(`${src} gives ${r.type === "int" ? "an integer" : r.type === "float" ? "a float" : "text"} that the copy would not store the same way in ${m.pgType}; set the default by hand`);
  return { sql: out };
}

interface TypeEnv {
  /** The mapped column a name refers to, or null when there is none. */
  column: (name: string) => { sql: string; type: Typed["type"] } | null;
  clock: boolean;
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * A SQLite expression as PostgreSQL SQL with the storage class of its value, for the operators and
 * functions whose results are the same in both (given operand types); Untranslatable otherwise.
 */
function typedExpr(e: Expr, env: TypeEnv): Typed {
  const sub = (x: Expr): Typed => typedExpr(x, env);
  switch (e.t) {
    case "num": {
      if (/^0[xX]/.test(e.text)) {
        const v = BigInt(e.text);
        if (v > 2n ** 64n - 1n) throw new Untranslatable(`hex literal ${e.text} is too large`);
        return { sql: String(BigInt.asIntN(64, v)), type: "int" };
      }
      if (/^\d+$/.test(e.text) && BigInt(e.text) <= INT64_MAX) return { sql: e.text, type: "int" };
      const n = Number(e.text);
      return { sql: `${quoteLiteral(String(n))}::double precision`, type: "float" };
    }
    case "str":
      return { sql: `${quoteLiteral(e.value)}::text`, type: "text" };
    case "dq": {
      const c = env.column(e.value);
      return c ?? { sql: `${quoteLiteral(e.value)}::text`, type: "text" };
    }
    case "col": {
      const c = env.column(e.name);
      if (!c) throw new Untranslatable(`no column ${e.name}`);
      return c;
    }
    case "null":
      return { sql: "NULL", type: "null" };
    case "bool":
      return { sql: e.value ? "1" : "0", type: "int" };
    case "unary": {
      const x = sub(e.e);
      if (e.op === "+") return x;
      if (e.op === "-" && (x.type === "int" || x.type === "float")) return { sql: `(- ${x.sql})`, type: x.type };
      throw new Untranslatable(`unary ${e.op} on ${x.type}`);
    }
    case "bin": {
      const l = sub(e.l);
      const r = sub(e.r);
      const num = (t: Typed["type"]): boolean => t === "int" || t === "float" || t === "null";
      if (["+", "-", "*"].includes(e.op) && num(l.type) && num(r.type)) return { sql: `(${l.sql} ${e.op} ${r.sql})`, type: l.type === "float" || r.type === "float" ? "float" : "int" };
      // SQLite's x / 0 and x % 0 are NULL; PostgreSQL's are errors.
      if (e.op === "/" && num(l.type) && num(r.type)) return { sql: `(${l.sql} / NULLIF(${r.sql}, 0))`, type: l.type === "float" || r.type === "float" ? "float" : "int" };
      if (e.op === "%" && (l.type === "int" || l.type === "null") && (r.type === "int" || r.type === "null")) return { sql: `(${l.sql} % NULLIF(${r.sql}, 0))`, type: "int" };
      if (e.op === "||") {
        const txt = (x: Typed): string => {
          if (x.type === "text" || x.type === "null") return x.sql;
          if (x.type === "int") return `(${x.sql})::text`;
          throw new Untranslatable("|| on a float (SQLite and PostgreSQL render floats differently)");
        };
        return { sql: `(${txt(l)} || ${txt(r)})`, type: "text" };
      }
      throw new Untranslatable(`operator ${e.op} on ${l.type} and ${r.type}`);
    }
    case "call":
      return typedCall(e.name, e.args, env);
    case "cast": {
      const x = sub(e.e);
      const aff = sqliteAffinity(e.type);
      if (x.type === "null") return x;
      if (aff === "INTEGER" && x.type === "int") return x;
      if (aff === "REAL" && (x.type === "int" || x.type === "float")) return { sql: `(${x.sql})::double precision`, type: "float" };
      if (aff === "TEXT" && x.type === "text") return x;
      if (aff === "TEXT" && x.type === "int") return { sql: `(${x.sql})::text`, type: "text" };
      throw new Untranslatable(`CAST(${x.type} AS ${e.type})`);
    }
    default:
      throw new Untranslatable(`${e.t} expressions are not translated`);
  }
}

function typedCall(name: string, args: Expr[], env: TypeEnv): Typed {
  if (env.clock && DATE_FUNCTIONS.has(name)) {
    const c = clockCall({ t: "call", name, args });
    // Arithmetic reads SQLite's text of digits as the number it spells.
    if (c.shape === "unix") return { sql: epochSeconds(c), type: "int" };
    if (c.shape === "digits") return { sql: `${toChar(c)}::bigint`, type: "int" };
    throw new Untranslatable(`${name}() gives ${shapeText(c.shape)} here`);
  }
  const a = args.map((x) => typedExpr(x, env));
  const types = a.map((x) => x.type);
  const all = (t: Typed["type"]): boolean => types.every((x) => x === t || x === "null");
  const same = (): Typed["type"] | null => {
    const set = new Set(types.filter((t) => t !== "null"));
    return set.size <= 1 ? ([...set][0] ?? "null") : null;
  };
  switch (name) {
    case "lower":
    case "upper":
      // SQLite changes the case of ASCII letters only, as PostgreSQL does under COLLATE "C".
      if (a.length === 1 && all("text")) return { sql: `${name}((${a[0].sql}) COLLATE "C")`, type: "text" };
      break;
    case "length":
      if (a.length === 1 && all("text")) return { sql: `length(${a[0].sql})`, type: "int" };
      break;
    case "abs":
      if (a.length === 1 && (types[0] === "int" || types[0] === "float")) return { sql: `abs(${a[0].sql})`, type: types[0] };
      break;
    case "coalesce":
    case "ifnull": {
      const t = same();
      if (a.length >= 2 && t !== null && (name === "coalesce" || a.length === 2)) return { sql: `coalesce(${a.map((x) => x.sql).join(", ")})`, type: t };
      break;
    }
    case "nullif": {
      const t = same();
      if (a.length === 2 && t !== null) return { sql: `nullif(${a[0].sql}, ${a[1].sql})`, type: t };
      break;
    }
    case "trim":
    case "ltrim":
    case "rtrim":
      if (a.length === 1 && all("text")) return { sql: `${name === "trim" ? "btrim" : name}(${a[0].sql}, ' ')`, type: "text" };
      break;
    case "substr":
    case "substring": {
      // Only start >= 1 and length >= 0 mean the same in both.
      const lit = (x: Expr | undefined, min: number): boolean => x !== undefined && x.t === "num" && /^\d+$/.test(x.text) && Number(x.text) >= min;
      if ((a.length === 2 || a.length === 3) && (types[0] === "text" || types[0] === "null") && lit(args[1], 1) && (a.length === 2 || lit(args[2], 0))) {
        return { sql: `substr(${a.map((x) => x.sql).join(", ")})`, type: "text" };
      }
      break;
    }
    default:
      throw new Untranslatable(`${name}() is not translated`);
  }
  throw new Untranslatable(`${name}(${types.join(", ")}) is not translated`);
}

/** A typed expression as the value of a column of the mapped kind (the column's affinity, then the copy's conversion), or null. */
function fitTo(r: Typed, m: ColumnMapping): string | null {
  if (r.type === "null") return `NULL::${m.pgType}`;
  switch (m.kind) {
    case "int":
      return r.type === "int" ? r.sql : null;
    case "float":
      return r.type === "float" ? r.sql : r.type === "int" ? `(${r.sql})::double precision` : null;
    case "numeric":
      return r.type === "int" ? `(${r.sql})::numeric` : null;
    case "text":
      if (m.maxLength !== undefined) return null;
      return r.type === "text" ? r.sql : r.type === "int" ? `(${r.sql})::text` : null;
    default:
      return null;
  }
}

export interface GeneratedTranslation {
  /** The PostgreSQL expression for GENERATED ALWAYS AS (...) STORED, or null: a plain column whose values are copied. */
  sql: string | null;
  /** Why the expression is not carried (plan and run report it). */
  reason?: string;
}

/**
 * A generated column's SQLite expression -> PostgreSQL, over the other columns as mapped. Only
 * expressions whose values are the same in both are translated (verification proves it on the
 * data); references to generated columns are not (PostgreSQL forbids them).
 */
export function translateGenerated(expression: string | null, m: ColumnMapping, cols: ColumnMapping[], generated: Set<string>): GeneratedTranslation {
  if (expression === null) return { sql: null, reason: "its expression could not be read from CREATE TABLE" };
  let e: Expr;
  try {
    e = parseExpr(expression);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    return { sql: null, reason: `the expression is not understood (${err.message})` };
  }
  const env: TypeEnv = {
    clock: false,
    column: (name) => {
      const c = cols.find((x) => x.column === name) ?? cols.find((x) => x.column.toLowerCase() === name.toLowerCase());
      if (!c) return null;
      if (generated.has(c.column)) throw new Untranslatable(`it refers to the generated column ${c.column} (PostgreSQL does not allow that)`);
      if (c.kind === "int" || c.kind === "float") return { sql: quoteIdent(c.column), type: c.kind };
      // Only TEXT affinity guarantees SQLite holds text there (an untyped column keeps numbers as numbers).
      if (c.kind === "text" && c.declType.trim() !== "" && sqliteAffinity(c.declType) === "TEXT") return { sql: quoteIdent(c.column), type: "text" };
      throw new Untranslatable(`column ${c.column} is ${c.pgType}, whose SQLite values do not compute the same way`);
    },
  };
  let r: Typed;
  try {
    r = typedExpr(e, env);
  } catch (err) {
    if (!(err instanceof Untranslatable)) throw err;
    return { sql: null, reason: err.message };
  }
  const sql = fitTo(r, m);
  if (sql === null) return { sql: null, reason: `it gives ${r.type === "int" ? "an integer" : r.type === "float" ? "a float" : "text"}, which SQLite would store differently in ${m.pgType}` };
  return { sql };
}
