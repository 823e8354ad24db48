/**
 * Value profiling before any DDL: what SQLite actually stores per
 * column, and which rows would not survive the mapped PostgreSQL type. SQLite does not enforce
 * declared types or foreign keys, so these findings are the migration's real risk list.
 */
import { jsonSafe } from "./errors";
import { quoteSqliteIdent as qi, type SourceTable } from "./introspect";
import type { SqliteDb } from "./sqlite";
import type { ColumnMapping } from "./typemap";
import { toPgText, ValueError, type SqliteValue } from "./values";

export interface ColumnProfile {
  column: string;
  /** typeof() histogram: counts of null/integer/real/text/blob. */
  types: { null: number; integer: number; real: number; text: number; blob: number };
  nulls: number;
}

export type FindingKind =
  | "text-in-numeric"
  | "unix-timestamps"
  | "text-timestamps"
  | "bad-timestamps"
  | "boolean-spellings"
  | "bad-booleans"
  | "invalid-utf8"
  | "nul-bytes"
  | "over-length"
  | "blob-in-text"
  | "bad-json"
  | "orphaned-fk"
  /** a PRIMARY KEY/UNIQUE over a case-insensitive column would reject rows (collations.ts) */
  | "case-fold-collision";

export interface Finding {
  table: string;
  column?: string;
  kind: FindingKind;
  /** Rows concerned. */
  rows: number;
  /** true when these rows will make the copy fail unless the column is cast or the data fixed. */
  blocking: boolean;
  /** What the engine does about it, or what the user should do. */
  decision: string;
  sampleKey?: Record<string, unknown>;
}

export interface TableProfile {
  table: string;
  rows: number;
  columns: ColumnProfile[];
}

/** Columns that identify a row in messages: the primary key, else SQLite's rowid. */
export function keyColumns(t: SourceTable): string[] {
  return t.primaryKey.length > 0 ? t.primaryKey : t.withoutRowid ? t.columns.map((c) => c.name) : ["rowid"];
}

export function keyOf(t: SourceTable, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keyColumns(t)) out[k] = row[k];
  return jsonSafe(out) as Record<string, unknown>;
}

export function profileTable(db: SqliteDb, t: SourceTable, cols: ColumnMapping[], allTables: SourceTable[]): { profile: TableProfile; findings: Finding[] } {
  const T = qi(t.name);
  const agg: string[] = ["count(*) AS n"];
  cols.forEach((c, i) => {
    const C = qi(c.column);
    for (const ty of ["null", "integer", "real", "text", "blob"]) agg.push(`sum(typeof(${C}) = '${ty}') AS "${i}_${ty}"`);
  });
  const r = db.prepare(`SELECT ${agg.join(", ")} FROM ${T}`).get() as Record<string, number | null>;
  const rows = r.n ?? 0;
  const columns: ColumnProfile[] = cols.map((c, i) => {
    const g = (ty: string): number => r[`${i}_${ty}`] ?? 0;
    return { column: c.column, types: { null: g("null"), integer: g("integer"), real: g("real"), text: g("text"), blob: g("blob") }, nulls: g("null") };
  });
  const findings: Finding[] = [];
  const keySel = keyColumns(t).map(qi).join(", ");
  const add = (f: Omit<Finding, "table">): void => {
    if (f.rows > 0) findings.push({ table: t.name, ...f });
  };

  for (const [i, c] of cols.entries()) {
    const C = qi(c.column);
    const p = columns[i].types;
    const scan = (where: string, fn: (v: SqliteValue, key: Record<string, unknown>) => void): void => {
      const stmt = db.prepare(`SELECT ${keySel}, ${C} AS __v FROM ${T} WHERE ${where}`).safeIntegers(true);
      for (const row of stmt.iterate() as Iterable<Record<string, unknown>>) fn(row.__v as SqliteValue, keyOf(t, row));
    };
    if (c.kind === "int" || c.kind === "float" || c.kind === "numeric") {
      let bad = 0;
      let sample: Record<string, unknown> | undefined;
      const intOnly = c.kind === "int";
      scan(`typeof(${C}) IN ('text','blob')${intOnly ? ` OR typeof(${C}) = 'real'` : ""}`, (v, key) => {
        const s = Buffer.isBuffer(v) ? "" : String(v);
        const ok = intOnly ? /^\s*[-+]?\d+\s*$/.test(s) || (typeof v === "number" && Number.isInteger(v)) : /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(s);
        if (!ok) {
          bad++;
          sample ??= key;
        }
      });
      add({ column: c.column, kind: "text-in-numeric", rows: bad, blocking: true, decision: `PostgreSQL rejects these in ${c.pgType}; fix the data or cast the column (--cast ${t.name}.${c.column}=text)`, sampleKey: sample });
      continue;
    }
    if (c.kind === "timestamp" || c.kind === "timestamptz" || c.kind === "date") {
      let bad = 0;
      let sample: Record<string, unknown> | undefined;
      scan(`${C} IS NOT NULL`, (v, key) => {
        try {
          toPgText(v, c);
        } catch (e) {
          if (!(e instanceof ValueError)) throw e;
          bad++;
          sample ??= key;
        }
      });
      add({ column: c.column, kind: "unix-timestamps", rows: p.integer + p.real, blocking: false, decision: "numbers read as Unix time: seconds, or milliseconds when |n| >= 1e11; stored as UTC" });
      add({ column: c.column, kind: "text-timestamps", rows: p.text - bad, blocking: false, decision: "ISO text normalised to YYYY-MM-DD HH:MM:SS[.ffffff]; offsets converted to UTC" });
      add({ column: c.column, kind: "bad-timestamps", rows: bad, blocking: true, decision: `not a recognisable date/time; fix the data or cast the column (--cast ${t.name}.${c.column}=text)`, sampleKey: sample });
      continue;
    }
    if (c.kind === "bool") {
      const dist = db.prepare(`SELECT ${C} AS v, count(*) AS n FROM ${T} WHERE ${C} IS NOT NULL GROUP BY ${C}`).safeIntegers(true).all() as { v: SqliteValue; n: bigint }[];
      let bad = 0;
      const spellings: string[] = [];
      for (const d of dist) {
        try {
          toPgText(d.v, c);
          spellings.push(Buffer.isBuffer(d.v) ? "<blob>" : String(d.v));
        } catch {
          bad += Number(d.n);
        }
      }
      add({ column: c.column, kind: "boolean-spellings", rows: rows - p.null - bad, blocking: false, decision: `spellings ${spellings.slice(0, 8).join(", ")} mapped to true/false` });
      add({ column: c.column, kind: "bad-booleans", rows: bad, blocking: true, decision: `values that are not boolean spellings; fix them or cast the column (--cast ${t.name}.${c.column}=text)` });
      continue;
    }
    if (c.kind === "text" || c.kind === "jsonb" || c.kind === "json") {
      const nul = db.prepare(`SELECT count(*) AS n FROM ${T} WHERE typeof(${C}) = 'text' AND instr(CAST(${C} AS BLOB), x'00') > 0`).get() as { n: number };
      add({ column: c.column, kind: "nul-bytes", rows: nul.n, blocking: true, decision: `PostgreSQL text cannot hold NUL (\\0) bytes; strip them or cast the column to bytea (--cast ${t.name}.${c.column}=bytea)` });
      add({ column: c.column, kind: "blob-in-text", rows: p.blob, blocking: true, decision: `BLOB values in a text column; cast the column to bytea (--cast ${t.name}.${c.column}=bytea)` });
      if (c.maxLength !== undefined) {
        const over = db.prepare(`SELECT count(*) AS n FROM ${T} WHERE length(${C}) > ?`).get(c.maxLength) as { n: number };
        add({ column: c.column, kind: "over-length", rows: over.n, blocking: true, decision: `longer than ${c.maxLength} characters; PostgreSQL rejects them in ${c.pgType}: cast the column (--cast ${t.name}.${c.column}=text)` });
      }
      let badUtf8 = 0;
      let sample: Record<string, unknown> | undefined;
      const dec = new TextDecoder("utf-8", { fatal: true });
      // Only rows with a byte outside ASCII can be invalid. The GLOB class (evaluated in C) finds
      // them all, stray lead bytes like 0xff included; comparing length() with the byte length
      // does not, because SQLite's length() counts a stray lead byte as one character.
      const stmt = db.prepare(`SELECT ${keySel}, CAST(${C} AS BLOB) AS __b FROM ${T} WHERE typeof(${C}) = 'text' AND ${C} GLOB '*[^' || char(1) || '-' || char(127) || ']*'`).safeIntegers(true);
      for (const row of stmt.iterate() as Iterable<Record<string, unknown>>) {
        try {
          dec.decode(row.__b as Buffer);
        } catch {
          badUtf8++;
          sample ??= keyOf(t, row);
        }
      }
      add({ column: c.column, kind: "invalid-utf8", rows: badUtf8, blocking: true, decision: `bytes that are not UTF-8; repair the text or cast the column to bytea (--cast ${t.name}.${c.column}=bytea)`, sampleKey: sample });
      if (c.kind === "jsonb") {
        let bad = 0;
        scan(`typeof(${C}) = 'text'`, (v, key) => {
          try {
            toPgText(v, c);
            JSON.parse(String(v));
          } catch {
            bad++;
            sample ??= key;
          }
        });
        add({ column: c.column, kind: "bad-json", rows: bad, blocking: true, decision: `not valid JSON; fix it or cast the column (--cast ${t.name}.${c.column}=text)` });
      }
    }
  }

  for (const fk of t.foreignKeys) {
    const parent = allTables.find((x) => x.name === fk.refTable) ?? allTables.find((x) => x.name.toLowerCase() === fk.refTable.toLowerCase());
    if (!parent) {
      add({ column: fk.columns.join(","), kind: "orphaned-fk", rows: rows, blocking: true, decision: `references missing table ${fk.refTable}` });
      continue;
    }
    const notNull = fk.columns.map((c) => `c.${qi(c)} IS NOT NULL`).join(" AND ");
    const join = fk.columns.map((c, i) => `p.${qi(fk.refColumns[i])} = c.${qi(c)}`).join(" AND ");
    const sql = `FROM ${T} AS c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${qi(parent.name)} AS p WHERE ${join})`;
    const n = (db.prepare(`SELECT count(*) AS n ${sql}`).get() as { n: number }).n;
    const sampleRow = n > 0 ? (db.prepare(`SELECT ${keyColumns(t).map((k) => `c.${qi(k)}`).join(", ")} ${sql} LIMIT 1`).safeIntegers(true).get() as Record<string, unknown>) : undefined;
    add({
      column: fk.columns.join(","),
      kind: "orphaned-fk",
      rows: n,
      blocking: false,
      decision: `rows point at missing ${fk.refTable} rows (SQLite did not enforce the key); the constraint is added NOT VALID so new rows are checked; fix the rows then VALIDATE CONSTRAINT`,
      sampleKey: sampleRow ? keyOf(t, sampleRow) : undefined,
    });
  }
  return { profile: { table: t.name, rows, columns }, findings };
}
