/**
 * Keys SQLite keeps apart that the mapped PostgreSQL types make equal (issue 13, finding F4): a
 * PRIMARY KEY or UNIQUE holds 'no' and 0 in a BOOLEAN, '2020-01-01 00:00:00' and 1577836800 in a
 * TIMESTAMP, 9007199254740993 and 9007199254740992.0 in a DOUBLE, 1 and '1' in an untyped column:
 * distinct in SQLite, one value after conversion, so the PostgreSQL key would reject the load after
 * DDL. decide.ts asks here, per key, before any DDL.
 *
 * Cost on clean files stays near zero: a key is only read when one of its columns has a conversion
 * that is not injective on its data, which one LIMIT-1 probe per column tells (a TIMESTAMP of plain
 * 'YYYY-MM-DD HH:MM:SS' text, a BOOLEAN of 0/1 integers, a TEXT column of text only are injective).
 * Case-insensitive text collations are collations.ts's (ICU equality, not a value conversion).
 */
import { jsonSafe } from "./errors";
import { quoteSqliteIdent as qi, type SourceTable } from "./introspect";
import { keyColumns, keyOf } from "./profile";
import type { SqliteDb } from "./sqlite";
import type { ColumnMapping } from "./typemap";
import { normaliseDecimal, sourceColumnSql, toPgText, ValueError, type Epoch, type SqliteValue } from "./values";

/** The column lists PostgreSQL gets a unique index for: PRIMARY KEY (unless the rowid alias), UNIQUE, unique indexes. */
export function uniqueKeysOf(t: SourceTable): string[][] {
  const keys = [t.rowidAlias !== null ? [] : t.primaryKey, ...t.uniques, ...t.indexes.filter((i) => i.unique && i.origin === "c" && !i.where && !i.expression).map((i) => i.columns)];
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = JSON.stringify(k);
    if (k.length === 0 || seen.has(id) || k.some((c) => !t.columns.some((x) => x.name === c))) return false;
    seen.add(id);
    return true;
  });
}

const PLAIN_TS_GLOB = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'";
const PLAIN_DATE_GLOB = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'";
const UUID_GLOB = `'${["8", "4", "4", "4", "12"].map((n) => "[0-9a-f]".repeat(Number(n))).join("-")}'`;
const BIG = "9007199254740992";

/**
 * Whether the column's conversion can map two values SQLite keeps apart to one PostgreSQL value,
 * given what the column holds (one probe, LIMIT 1 each).
 */
export function mayMerge(db: SqliteDb, t: SourceTable, c: ColumnMapping): boolean {
  const C = qi(c.column);
  const T = qi(t.name);
  const any = (where: string): boolean => db.prepare(`SELECT 1 FROM ${T} WHERE ${C} IS NOT NULL AND (${where}) LIMIT 1`).get() !== undefined;
  const classes = (types: string[]): number => types.filter((ty) => any(`typeof(${C}) = '${ty}'`)).length;
  switch (c.kind) {
    case "bool":
      return any(`typeof(${C}) IN ('text', 'real')`);
    case "date":
      return any(`typeof(${C}) <> 'text' OR NOT ${C} GLOB ${PLAIN_DATE_GLOB}`);
    case "timestamp":
    case "timestamptz":
      return any(`typeof(${C}) <> 'text' OR NOT ${C} GLOB ${PLAIN_TS_GLOB}`);
    case "float":
      // Doubles are exact below 2^53; an integer beyond it rounds onto its neighbours.
      return any(`typeof(${C}) = 'text' OR (typeof(${C}) = 'integer' AND (${C} > ${BIG} OR ${C} < -${BIG}))`);
    case "numeric":
    case "int":
      // A REAL's decimal text (2^62 is 4611686018427388000) can equal an integer SQLite keeps apart.
      return any(`typeof(${C}) = 'text'`) || (any(`typeof(${C}) = 'real' AND (${C} >= ${BIG}.0 OR ${C} <= -${BIG}.0)`) && any(`typeof(${C}) = 'integer' AND (${C} >= ${BIG} OR ${C} <= -${BIG})`));
    case "text":
      return classes(["integer", "real", "text"]) > 1;
    case "bytea":
      return classes(["integer", "real", "text", "blob"]) > 1;
    case "json":
    case "jsonb":
      // jsonb drops whitespace, sorts keys and compares numbers by value.
      return any("1");
    default:
      return /^uuid$/i.test(c.pgType.trim()) ? any(`typeof(${C}) <> 'text' OR NOT ${C} GLOB ${UUID_GLOB}`) : false;
  }
}

function stableJson(x: unknown): string {
  if (Array.isArray(x)) return "[" + x.map(stableJson).join(",") + "]";
  if (x && typeof x === "object") {
    const o = x as Record<string, unknown>;
    return "{" + Object.keys(o).sort().map((k) => JSON.stringify(k) + ":" + stableJson(o[k])).join(",") + "}";
  }
  return JSON.stringify(x);
}

function decimalForm(text: string): string {
  const d = normaliseDecimal(text);
  if (d === null) return text;
  const trimmed = d.includes(".") ? d.replace(/0+$/, "").replace(/\.$/, "") : d;
  return trimmed === "-0" ? "0" : trimmed;
}

/** What PostgreSQL's = compares for a value converted for this column (toPgText's text). */
function equalityForm(text: string, c: ColumnMapping): string {
  switch (c.kind) {
    case "int":
    case "numeric":
      return decimalForm(text);
    case "float": {
      const n = Number(text);
      return Number.isNaN(n) ? "NaN" : n === 0 ? "0" : String(n);
    }
    case "json":
    case "jsonb":
      try {
        return stableJson(JSON.parse(text));
      } catch {
        return text;
      }
    default:
      return /^uuid$/i.test(c.pgType.trim()) ? text.toLowerCase().replace(/[{}-]/g, "") : text;
  }
}

export interface KeyMerge {
  key: string[];
  /** Pairs of rows (neighbours in the key's equality classes) that become one key. */
  rows: number;
  /** The first pair's key values as SQLite holds them, and the row key of each. */
  values: [Record<string, unknown>, Record<string, unknown>];
  rowKeys: [Record<string, unknown>, Record<string, unknown>];
  /** The value both become, per key column. */
  as: Record<string, string>;
}

/**
 * The first two rows whose key values are distinct in SQLite and equal once converted for the
 * mapped columns (`cols`, in key order; `epochs` for date/time columns read as instants), or null.
 */
export function mergedKey(db: SqliteDb, t: SourceTable, key: string[], cols: ColumnMapping[], epochs: (Epoch | undefined)[]): KeyMerge | null {
  const rowKey = keyColumns(t);
  const withRowid = !t.withoutRowid && rowKey[0] !== "rowid";
  const sel = [...rowKey.map((k) => `${qi(k)} AS ${qi(k)}`), ...(withRowid ? ["rowid AS __rowid"] : []), ...cols.map((c, i) => `${sourceColumnSql(qi(c.column), c.kind)} AS __k${i}`)].join(", ");
  const notNull = key.map((k) => `${qi(k)} IS NOT NULL`).join(" AND ");
  const stmt = db.prepare(`SELECT ${sel} FROM ${qi(t.name)} WHERE ${notNull}`).safeIntegers(true);
  const seen = new Map<string, Record<string, unknown>>();
  let rows = 0;
  let first: KeyMerge | null = null;
  for (const row of stmt.iterate() as Iterable<Record<string, unknown>>) {
    const forms = cols.map((c, i) => {
      const v = row[`__k${i}`] as SqliteValue;
      try {
        const text = toPgText(v, { ...c, ...(epochs[i] ? { epoch: epochs[i] } : {}) });
        return text === null ? "" : equalityForm(text, c);
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        // The copy refuses such a value anyway (decide.ts names it); it equals nothing here.
        return `\u0000unconverted ${typeof v} ${String(v)}`;
      }
    });
    const id = JSON.stringify(forms);
    const prev = seen.get(id);
    if (!prev) {
      seen.set(id, row);
      continue;
    }
    rows++;
    const named = (r: Record<string, unknown>): Record<string, unknown> => jsonSafe(Object.fromEntries(key.map((k, i) => [k, r[`__k${i}`]]))) as Record<string, unknown>;
    const ident = (r: Record<string, unknown>): Record<string, unknown> => ({ ...keyOf(t, r), ...(withRowid ? (jsonSafe({ rowid: r.__rowid }) as Record<string, unknown>) : {}) });
    first ??= { key, rows: 0, values: [named(prev), named(row)], rowKeys: [ident(prev), ident(row)], as: Object.fromEntries(key.map((k, i) => [k, forms[i]])) };
  }
  return first ? { ...first, rows } : null;
}
