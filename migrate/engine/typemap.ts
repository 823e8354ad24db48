/**
 * SQLite declared type -> PostgreSQL type (issue 2, "Map types faithfully"). Every decision carries
 * a human reason so `plan` can show it, and any column can be overridden with castOverrides.
 */
import type { SourceColumn, SourceTable } from "./introspect";

export interface MappingOptions {
  /** "table.column" -> PostgreSQL type, e.g. { "publication.year": "integer" } */
  castOverrides?: Record<string, string>;
  /** DATETIME/TIMESTAMP -> timestamptz instead of timestamp. Default false. */
  timestamptz?: boolean;
  /**
   * Collation of text and varchar columns whose SQLite collation is BINARY (SQLite's default):
   * a PostgreSQL collation name, or "database" for none (the database's default). Default "C",
   * which orders and compares by bytes exactly as SQLite's BINARY does.
   */
  textCollation?: string;
  /**
   * "table.column" -> type decided from the data (decide.ts: values the declared type cannot hold).
   * A cast override wins over a decision.
   */
  decided?: Record<string, { pgType: string; reason: string }>;
  /** Source name ("table", "table.column") -> PostgreSQL name (names.ts). */
  renames?: Record<string, string>;
  /** Target schema that holds the case-insensitive collation (caseInsensitiveCollation). Default "public". */
  collationSchema?: string;
}

/** The collation NOCASE and unicase columns get; created in the target schema before the tables. */
export const CASE_INSENSITIVE_COLLATION = "armp_case_insensitive";

/**
 * SQLite collations that compare text ignoring case: SQLite's NOCASE (folds A-Z only) and the
 * unicase collation Anki and other apps register (Unicode case folding).
 */
export function isCaseInsensitiveCollation(sqliteCollation: string): boolean {
  return /^(nocase|unicase)$/i.test(sqliteCollation);
}

function pgIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** COLLATE operand for the case-insensitive collation in this schema. */
export function caseInsensitiveCollationName(schema = "public"): string {
  return `${pgIdent(schema)}.${pgIdent(CASE_INSENSITIVE_COLLATION)}`;
}

/**
 * ICU root locale at strength 2 (und-u-ks-level2): letters that differ only in case are equal,
 * accents still count. Nondeterministic, so = and UNIQUE use it rather than the bytes.
 */
export function caseInsensitiveCollationDdl(schema = "public"): string {
  return `CREATE COLLATION IF NOT EXISTS ${caseInsensitiveCollationName(schema)} (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`;
}

/** True when any of these columns needs caseInsensitiveCollationDdl run first. */
export function usesCaseInsensitiveCollation(cols: { collation?: string }[]): boolean {
  return cols.some((c) => c.collation?.endsWith("." + pgIdent(CASE_INSENSITIVE_COLLATION)) === true);
}

/** How values are normalised on the way in and compared by verify. */
export type ValueKind = "int" | "float" | "numeric" | "text" | "bool" | "date" | "timestamp" | "timestamptz" | "time" | "uuid" | "bytea" | "jsonb" | "json" | "other";

export interface ColumnMapping {
  column: string;
  declType: string;
  pgType: string;
  kind: ValueKind;
  /** numeric scale when declared (numeric(p,s)), varchar length when declared. */
  scale?: number;
  maxLength?: number;
  /** COLLATE clause operand as SQL (e.g. `"C"`); absent: the database's default collation. */
  collation?: string;
  /** Set when the SQLite collation has no PostgreSQL equivalent (plan and run show it). */
  collationNote?: string;
  identity: boolean;
  reason: string;
  overridden: boolean;
  /** The type was decided from the data, not from the declaration (decide.ts). */
  decided?: boolean;
}

/** SQLite's own affinity rules (https://sqlite.org/datatype3.html section 3.1), in their order. */
export function sqliteAffinity(declType: string): "INTEGER" | "TEXT" | "BLOB" | "REAL" | "NUMERIC" {
  const t = declType.toUpperCase();
  if (t.includes("INT")) return "INTEGER";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "TEXT";
  if (t.includes("BLOB") || t.trim() === "") return "BLOB";
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return "REAL";
  return "NUMERIC";
}

function params(declType: string): number[] {
  const m = /\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(declType);
  if (!m) return [];
  return m[2] === undefined ? [Number(m[1])] : [Number(m[1]), Number(m[2])];
}

export function mapDeclaredType(declType: string, opts: MappingOptions = {}): { pgType: string; reason: string } {
  const t = declType.toUpperCase().trim();
  const base = t.replace(/\(.*$/, "").trim();
  const p = params(t);
  const ts = opts.timestamptz ? "timestamptz" : "timestamp";
  if (/^(BOOL|BOOLEAN)$/.test(base)) return { pgType: "boolean", reason: "BOOLEAN; 0/1 and 'true'/'false' spellings become boolean" };
  if (base === "DATE") return { pgType: "date", reason: "DATE" };
  if (base === "DATETIME" || base === "TIMESTAMP") return { pgType: ts, reason: `${base}; ISO text and Unix seconds/milliseconds become ${ts}` };
  if (base === "JSON" || base === "JSONB") return { pgType: "jsonb", reason: "JSON" };
  if (/^(NUMERIC|DECIMAL)$/.test(base)) {
    if (p.length === 2) return { pgType: `numeric(${p[0]},${p[1]})`, reason: `${base}(p,s) keeps precision and scale` };
    if (p.length === 1) return { pgType: `numeric(${p[0]})`, reason: `${base}(p) keeps precision` };
    return { pgType: "numeric", reason: `${base} without precision` };
  }
  if (/^(VARCHAR|NVARCHAR|CHARACTER VARYING|VARYING CHARACTER|NATIVE CHARACTER|NCHAR|CHAR|CHARACTER)$/.test(base) && p.length >= 1) {
    // CHAR(n) would pad with spaces in PostgreSQL and change values; varchar(n) keeps them exact.
    return { pgType: `varchar(${p[0]})`, reason: `${base}(n) keeps its length limit (values longer than n are rejected; plan counts them)` };
  }
  if (base === "TEXT" || base === "CLOB") return { pgType: "text", reason: base };
  if (base === "BLOB") return { pgType: "bytea", reason: "BLOB" };
  if (/^(REAL|DOUBLE|DOUBLE PRECISION|FLOAT)$/.test(base)) return { pgType: "double precision", reason: `${base}: SQLite REAL is an 8-byte IEEE float, never float4` };
  // SQLite has no time type: the data decides (decide.ts decideTime). time when every value is
  // time-of-day text PostgreSQL's time holds exactly (HH:MM[:SS[.f{1,6}]]), else text.
  if (base === "TIME") return { pgType: "time", reason: "TIME; time-of-day text HH:MM[:SS[.ffffff]] becomes time (other values keep the column text, decided from the data)" };
  const aff = sqliteAffinity(t);
  switch (aff) {
    case "INTEGER":
      return { pgType: "bigint", reason: `${t || "?"} has INTEGER affinity; SQLite integers are 64-bit` };
    case "TEXT":
      return { pgType: "text", reason: `${t} has TEXT affinity` };
    case "BLOB":
      // No declared type is BLOB affinity too: values are kept as given, so the data decides the
      // type (decide.ts: numbers only -> bigint/double precision, text only -> text).
      return t === "" ? { pgType: "bytea", reason: "no declared type (BLOB affinity: any value, kept as given)" } : { pgType: "bytea", reason: `${t} has BLOB affinity` };
    case "REAL":
      return { pgType: "double precision", reason: `${t} has REAL affinity (8-byte float)` };
    default:
      return { pgType: "numeric", reason: `${t} has NUMERIC affinity` };
  }
}

/** Classifies a PostgreSQL type (as written in DDL or by format_type()) for value handling. */
export function kindOfPgType(pgType: string): { kind: ValueKind; scale?: number; maxLength?: number } {
  const t = pgType.toLowerCase().trim();
  const p = params(t);
  if (/^(bigint|integer|int|int2|int4|int8|smallint|serial|bigserial|smallserial)$/.test(t)) return { kind: "int" };
  if (/^(double precision|float8|float)$/.test(t)) return { kind: "float" };
  if (/^(numeric|decimal)/.test(t)) return p.length === 2 ? { kind: "numeric", scale: p[1] } : p.length === 1 ? { kind: "numeric", scale: 0 } : { kind: "numeric" };
  if (t === "text") return { kind: "text" };
  if (/^(varchar|character varying)/.test(t)) return p.length ? { kind: "text", maxLength: p[0] } : { kind: "text" };
  if (t === "boolean" || t === "bool") return { kind: "bool" };
  if (t === "date") return { kind: "date" };
  if (t === "timestamp" || t === "timestamp without time zone") return { kind: "timestamp" };
  if (t === "timestamptz" || t === "timestamp with time zone") return { kind: "timestamptz" };
  if (t === "time" || t === "time without time zone") return { kind: "time" };
  if (t === "uuid") return { kind: "uuid" };
  if (t === "bytea") return { kind: "bytea" };
  if (t === "jsonb") return { kind: "jsonb" };
  if (t === "json") return { kind: "json" };
  return { kind: "other" };
}

export function mapColumn(table: SourceTable, col: SourceColumn, opts: MappingOptions = {}): ColumnMapping {
  const override = opts.castOverrides?.[`${table.name}.${col.name}`];
  const identity = table.rowidAlias === col.name && !override;
  const decided = override || identity ? undefined : opts.decided?.[`${table.name}.${col.name}`];
  let pgType: string;
  let reason: string;
  let collation: string | undefined;
  let collationNote: string | undefined;
  if (override) {
    // "text COLLATE \"de-x-icu\"" overrides the collation too.
    const m = /^([\s\S]*?)\s+COLLATE\s+(\S[\s\S]*)$/i.exec(override.trim());
    pgType = m ? m[1] : override;
    collation = m ? m[2] : undefined;
    reason = `cast override ${table.name}.${col.name}=${override}`;
  } else if (identity) {
    pgType = "bigint";
    reason = table.autoincrement
      ? "INTEGER PRIMARY KEY AUTOINCREMENT: identity column, sequence set past max(id)"
      : "INTEGER PRIMARY KEY (rowid alias, auto-assigned by SQLite): identity column, sequence set past max(id)";
  } else if (decided) {
    pgType = decided.pgType;
    reason = `decided from the data: ${decided.reason}`;
  } else {
    ({ pgType, reason } = mapDeclaredType(col.declType, opts));
  }
  const kind = kindOfPgType(pgType);
  // A cast override without COLLATE keeps the collation decision (a type change is not an order change).
  if (kind.kind === "text" && collation === undefined) ({ collation, reason, collationNote } = textCollationOf(table.name, col, reason, opts));
  return { column: col.name, declType: col.declType, pgType, ...kind, ...(collation ? { collation } : {}), ...(collationNote ? { collationNote } : {}), identity, reason, overridden: !!override, ...(decided ? { decided: true } : {}) };
}

/**
 * SQLite compares text with the column's collation, BINARY (memcmp) unless declared otherwise.
 * PostgreSQL's "C" collation is the same byte order, so BINARY columns get it by default and ORDER
 * BY, range conditions and UNIQUE behave as they did in SQLite (a database collation such as
 * en_US.UTF-8 would reorder them; it also sorts several times slower when indexes are built).
 *
 * NOCASE and unicase columns get the ICU case-insensitive collation: the app relies on = , UNIQUE,
 * GROUP BY and DISTINCT ignoring case (a UNIQUE NOCASE email column rejects "A@x" beside "a@x"),
 * and without it PostgreSQL would silently accept duplicates and miss lookups. What differs, and
 * is said in the note: letters outside A-Z fold too (NOCASE folds only A-Z; run refuses before any
 * DDL when that would make a UNIQUE or PRIMARY KEY reject rows, see checkCaseInsensitiveKeys),
 * ORDER BY follows ICU's root order instead of folded bytes, and PostgreSQL 15 refuses LIKE on a
 * nondeterministic collation (an error, not a wrong answer). --cast 't.c=text COLLATE "C"' keeps
 * a column case-sensitive. RTRIM and collations other apps register (Android's LOCALIZED, UNICODE, ...)
 * have no clear equivalent: the database's collation applies, with a note.
 */
function textCollationOf(table: string, col: SourceColumn, reason: string, opts: MappingOptions): { collation?: string; reason: string; collationNote?: string } {
  if (isCaseInsensitiveCollation(col.collation)) {
    const collation = caseInsensitiveCollationName(opts.collationSchema);
    const note =
      `SQLite COLLATE ${col.collation} ignores case; PostgreSQL gets COLLATE ${collation} (ICU und-u-ks-level2, nondeterministic), so =, UNIQUE and GROUP BY ignore case as in SQLite` +
      `${col.collation.toUpperCase() === "NOCASE" ? " (also for letters outside A-Z, which NOCASE compares exactly)" : ""}; ORDER BY follows ICU order, and LIKE on this column fails in PostgreSQL 15 (write ${pgIdent(col.name)} COLLATE "C" ILIKE ...); --cast '${table}.${col.name}=text COLLATE "C"' keeps it case-sensitive`;
    return { collation, reason: `${reason}; ${note}`, collationNote: note };
  }
  if (col.collation !== "BINARY") {
    const builtin = col.collation === "RTRIM";
    const note = `SQLite COLLATE ${col.collation}${builtin ? "" : " (registered by the application)"} has no PostgreSQL equivalent; the database's collation applies, so = and UNIQUE compare exactly (override with --cast to a type with COLLATE)`;
    return { reason: `${reason}; ${note}`, collationNote: note };
  }
  const want = opts.textCollation ?? "C";
  if (want === "database") return { reason: `${reason}; the database's collation (text collation "database")` };
  const collation = pgIdent(want);
  return { collation, reason: want === "C" ? `${reason}; COLLATE "C" keeps SQLite's BINARY (byte) order` : `${reason}; COLLATE ${collation} (text collation option)` };
}

/** Every column, generated ones included (ddl.ts renders them generated or as plain copied columns). */
export function mapTable(table: SourceTable, opts: MappingOptions = {}): ColumnMapping[] {
  return table.columns.map((c) => mapColumn(table, c, opts));
}
