/**
 * Keys under the case-insensitive collation (typemap.ts textCollationOf): SQLite's NOCASE folds
 * only A-Z, and an app's unicase folds by its own tables, while PostgreSQL's ICU collation at
 * strength 2 also equates other case pairs ("Ä"/"ä", "Σ"/"σ"). A PRIMARY KEY or UNIQUE over such a
 * column can therefore hold rows SQLite keeps apart and PostgreSQL would reject after the whole
 * load. This finds them before any DDL, with ICU's own comparison at the same strength
 * (Intl.Collator "und", sensitivity "accent"), so `run` refuses with the table, column and keys.
 */
import { MigrationError } from "./errors";
import { quoteSqliteIdent as qi, type SourceTable } from "./introspect";
import type { SqliteDb } from "./sqlite";
import { CASE_INSENSITIVE_COLLATION, type ColumnMapping } from "./typemap";

export interface KeyCollision {
  table: string;
  /** The key's columns, and the case-insensitive one(s) among them. */
  key: string[];
  columns: string[];
  /** Two rows' key values that SQLite keeps apart and PostgreSQL's collation makes equal. */
  values: [Record<string, unknown>, Record<string, unknown>];
  /** How many such pairs of neighbouring rows there are. */
  rows: number;
}

const icu = new Intl.Collator("und", { sensitivity: "accent" });

function asText(v: unknown): string {
  return Buffer.isBuffer(v) ? v.toString("hex") : String(v);
}

/** Unique keys (PRIMARY KEY, UNIQUE, unique non-partial indexes) with a case-insensitive column. */
function keysOf(t: SourceTable, ci: Set<string>): string[][] {
  const keys = [t.primaryKey, ...t.uniques, ...t.indexes.filter((i) => i.unique && i.origin === "c" && !i.where && !i.expression).map((i) => i.columns)];
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = JSON.stringify(k);
    if (k.length === 0 || seen.has(id) || !k.some((c) => ci.has(c))) return false;
    seen.add(id);
    return true;
  });
}

export function caseInsensitiveKeyCollisions(db: SqliteDb, t: SourceTable, columns: ColumnMapping[]): KeyCollision[] {
  const ci = new Set(columns.filter((c) => c.collation?.endsWith(`."${CASE_INSENSITIVE_COLLATION}"`)).map((c) => c.column));
  const out: KeyCollision[] = [];
  for (const key of keysOf(t, ci)) {
    // NULLs never collide in a UNIQUE key; reading without ORDER BY needs no collation.
    const rows = db.prepare(`SELECT ${key.map(qi).join(", ")} FROM ${qi(t.name)} WHERE ${key.map((c) => `${qi(c)} IS NOT NULL`).join(" AND ")}`).raw(true).all() as unknown[][];
    const cmp = (a: unknown[], b: unknown[]): number => {
      for (let i = 0; i < key.length; i++) {
        const x = asText(a[i]);
        const y = asText(b[i]);
        const d = ci.has(key[i]) ? icu.compare(x, y) : x < y ? -1 : x > y ? 1 : 0;
        if (d !== 0) return d;
      }
      return 0;
    };
    rows.sort(cmp);
    let first: [unknown[], unknown[]] | null = null;
    let n = 0;
    for (let i = 1; i < rows.length; i++) {
      if (cmp(rows[i - 1], rows[i]) === 0) {
        n++;
        first ??= [rows[i - 1], rows[i]];
      }
    }
    if (first) {
      const named = (r: unknown[]): Record<string, unknown> => Object.fromEntries(key.map((c, i) => [c, r[i]]));
      out.push({ table: t.name, key, columns: key.filter((c) => ci.has(c)), values: [named(first[0]), named(first[1])], rows: n });
    }
  }
  return out;
}

/** The refusal `run` raises before any DDL when a key would reject rows (see the file comment). */
export function keyCollisionError(c: KeyCollision): MigrationError {
  const col = c.columns[0];
  return new MigrationError(
    "COLLATION_KEY_CONFLICT",
    `Table ${c.table}: ${c.rows} row(s) have a key (${c.key.join(", ")}) that SQLite's collation keeps apart but PostgreSQL's case-insensitive collation makes equal, e.g. ${JSON.stringify(c.values[0])} and ${JSON.stringify(c.values[1])}; the key would reject them. Re-run with --cast '${c.table}.${col}=text COLLATE "C"' to keep ${col} case-sensitive (exact), or make those rows' keys distinct in SQLite.`,
    { table: c.table, column: col, key: c.values[0], step: "plan" },
  );
}
