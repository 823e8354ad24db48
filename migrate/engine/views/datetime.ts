/**
 * SQLite's date and time functions in PostgreSQL. SQLite computes on a "time value" (ISO text,
 * 'now', a Julian day number, or Unix seconds with the 'unixepoch' modifier), applies modifiers
 * left to right and returns text; here the time value becomes a `timestamp` (UTC, as SQLite's are),
 * the modifiers become interval arithmetic and date_trunc, and the result is the same text via
 * to_char. The timestamp behind a datetime()/date() result is kept beside the text so a comparison
 * with a timestamp column compares instants (which, for ISO values, orders as SQLite's text does).
 */
import type { T } from "./catalog";
import { Untranslatable } from "./sql-text";

export interface E {
  sql: string;
  t: T;
  /** For date/time function results: the same value as a PostgreSQL timestamp expression. */
  ts?: string;
  /** The value of a string literal. */
  lit?: string;
  /** The text of a numeric literal. */
  num?: string;
  /** A column reference (it has an affinity in SQLite's comparison rules; expressions have none). */
  col?: boolean;
}

const NOW = "(now() AT TIME ZONE 'UTC')";
const ISO = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/;
const UNITS: Record<string, string> = { day: "days", days: "days", hour: "hours", hours: "hours", minute: "mins", minutes: "mins", second: "secs", seconds: "secs", month: "months", months: "months", year: "years", years: "years" };

function lit(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}

function julianToTs(x: string): string {
  return `(TIMESTAMP '1970-01-01 00:00:00' + ((${x}) - 2440587.5) * INTERVAL '1 day')`;
}

/** The time value (first argument) and modifiers as one timestamp expression. */
export function timeValue(fn: string, args: E[]): string {
  if (args.length === 0) return NOW;
  const [v, ...mods] = args;
  const modLits = mods.map((m) => {
    if (m.lit === undefined) throw new Untranslatable(`${fn}() with a modifier that is not a literal cannot be translated`);
    return m.lit.trim().toLowerCase();
  });
  const unixepoch = modLits[0] === "unixepoch";
  let ts: string;
  if (v.lit !== undefined) {
    const s = v.lit.trim();
    if (s.toLowerCase() === "now") ts = NOW;
    else if (ISO.test(s)) ts = `TIMESTAMP ${lit(s.replace("T", " "))}`;
    else if (/^[-+]?\d+(\.\d+)?$/.test(s)) ts = unixepoch ? `(to_timestamp(${s}) AT TIME ZONE 'UTC')` : julianToTs(s);
    else throw new Untranslatable(`${fn}('${v.lit}') is not a time value PostgreSQL can read`);
  } else if (v.t === "null") {
    ts = "NULL::timestamp";
  } else if (v.t === "timestamp") {
    ts = v.sql;
  } else if (v.t === "timestamptz") {
    ts = `((${v.sql}) AT TIME ZONE 'UTC')`;
  } else if (v.t === "date") {
    ts = `(${v.sql})::timestamp`;
  } else if (v.t === "text" || v.t === "unknown") {
    ts = v.ts ?? `(${v.sql})::timestamp`;
  } else if (v.t === "int" || v.t === "float" || v.t === "numeric") {
    ts = unixepoch ? `(to_timestamp(${v.sql}) AT TIME ZONE 'UTC')` : julianToTs(v.sql);
  } else {
    throw new Untranslatable(`${fn}() of a ${v.t} value cannot be translated`);
  }
  for (const [i, m] of modLits.entries()) {
    if (m === "unixepoch" && i === 0) continue;
    const shift = /^([-+]?\d+(?:\.\d+)?)\s+([a-z]+)$/.exec(m);
    const start = /^start of (day|month|year)$/.exec(m);
    if (shift && (UNITS[shift[2]] === "months" || UNITS[shift[2]] === "years")) {
      if (!/^[-+]?\d+$/.test(shift[1])) throw new Untranslatable(`${fn}() modifier '${m}' (a fractional month or year) has no PostgreSQL translation`);
      // SQLite moves the year/month fields and lets an overflowing day roll into the next month
      // (2001-01-31 +1 month is 2001-03-03); PostgreSQL would clamp to 2001-02-28. Shifting the
      // first of the month and adding the offset within the month back gives SQLite's result.
      ts = `(date_trunc('month', ${ts}) + INTERVAL ${lit(`${shift[1]} ${UNITS[shift[2]]}`)} + (${ts} - date_trunc('month', ${ts})))`;
    } else if (shift && UNITS[shift[2]]) ts = `(${ts} + INTERVAL ${lit(`${shift[1]} ${UNITS[shift[2]]}`)})`;
    else if (start) ts = `date_trunc('${start[1]}', ${ts})`;
    else if (m === "utc") continue; // values are UTC already
    else throw new Untranslatable(`${fn}() modifier '${m}' has no PostgreSQL translation (localtime and weekday depend on the machine or need a calendar rule)`);
  }
  return ts;
}

const STRFTIME: Record<string, (ts: string) => string> = {
  d: (ts) => `to_char(${ts}, 'DD')`,
  f: (ts) => `to_char(${ts}, 'SS.MS')`,
  H: (ts) => `to_char(${ts}, 'HH24')`,
  j: (ts) => `to_char(${ts}, 'DDD')`,
  J: (ts) => `(extract(epoch FROM ${ts})::float8 / 86400 + 2440587.5)::text`,
  m: (ts) => `to_char(${ts}, 'MM')`,
  M: (ts) => `to_char(${ts}, 'MI')`,
  s: (ts) => `floor(extract(epoch FROM ${ts}))::bigint::text`,
  S: (ts) => `to_char(${ts}, 'SS')`,
  u: (ts) => `to_char(${ts}, 'ID')`,
  w: (ts) => `extract(dow FROM ${ts})::int::text`,
  Y: (ts) => `to_char(${ts}, 'YYYY')`,
  G: (ts) => `to_char(${ts}, 'IYYY')`,
  V: (ts) => `to_char(${ts}, 'IW')`,
};

/** datetime/date/time/julianday/unixepoch/strftime, or null when `fn` is none of them. */
export function dateFunction(fn: string, args: E[]): E | null {
  switch (fn) {
    case "datetime": {
      const ts = timeValue(fn, args);
      return { sql: `to_char(${ts}, 'YYYY-MM-DD HH24:MI:SS')`, t: "text", ts };
    }
    case "date": {
      const ts = timeValue(fn, args);
      return { sql: `to_char(${ts}, 'YYYY-MM-DD')`, t: "text", ts: `date_trunc('day', ${ts})` };
    }
    case "time":
      return { sql: `to_char(${timeValue(fn, args)}, 'HH24:MI:SS')`, t: "text" };
    case "julianday":
      return { sql: `(extract(epoch FROM ${timeValue(fn, args)})::float8 / 86400 + 2440587.5)`, t: "float" };
    case "unixepoch":
      return { sql: `floor(extract(epoch FROM ${timeValue(fn, args)}))::bigint`, t: "int" };
    case "strftime": {
      const [f, ...rest] = args;
      if (f?.lit === undefined) throw new Untranslatable("strftime() with a format that is not a literal cannot be translated");
      const ts = timeValue(fn, rest);
      const parts: string[] = [];
      let text = "";
      for (let i = 0; i < f.lit.length; i++) {
        const ch = f.lit[i];
        if (ch !== "%") {
          text += ch;
          continue;
        }
        const spec = f.lit[++i];
        if (spec === "%") {
          text += "%";
          continue;
        }
        const conv = STRFTIME[spec];
        if (!conv) throw new Untranslatable(`strftime() format %${spec ?? ""} has no PostgreSQL translation`);
        if (text) parts.push(lit(text));
        text = "";
        parts.push(conv(ts));
      }
      if (text) parts.push(lit(text));
      return { sql: parts.length === 0 ? "''" : parts.length === 1 ? parts[0] : `(${parts.join(" || ")})`, t: "text" };
    }
    default:
      return null;
  }
}

/** CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME: SQLite's are UTC text. */
export function currentKeyword(name: string): E | null {
  switch (name.toUpperCase()) {
    case "CURRENT_TIMESTAMP":
      return { sql: `to_char(${NOW}, 'YYYY-MM-DD HH24:MI:SS')`, t: "text", ts: NOW };
    case "CURRENT_DATE":
      return { sql: `to_char(${NOW}, 'YYYY-MM-DD')`, t: "text", ts: `date_trunc('day', ${NOW})` };
    case "CURRENT_TIME":
      return { sql: `to_char(${NOW}, 'HH24:MI:SS')`, t: "text" };
    default:
      return null;
  }
}
