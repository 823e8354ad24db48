/**
 * Type decisions from the data, made before any DDL. SQLite never enforces a declared type
 * (VARCHAR(19) holds 40 characters, INTEGER holds 'n/a', NUMERIC holds a geometry blob), so the
 * declared mapping is checked against what each column really holds:
 *
 * - default policy: keep every value SQLite accepted. A column whose values the declared type
 *   cannot hold is widened to the narrowest PostgreSQL type that holds them all, and the decision
 *   (with the row count that forced it and a sample key) is shown by `plan`, the run report and the
 *   schema resource's preview;
 * - `strictTypes`: refuse instead, here, before any DDL;
 * - a mix no PostgreSQL type holds exactly (BLOBs beside other values) is refused either way, with
 *   a cast that works.
 *
 * Numbers in DATE/DATETIME/TIMESTAMP columns are a decision too: read as Unix time only when the
 * column's own text values show it holds instants; a column of numbers only keeps the numbers
 * (nothing in the file says which epoch or unit they count from — a Core Data store counts from
 * 2001), unless `epochs` says otherwise.
 */
import * as fs from "fs";
import { jsonSafe, MigrationError } from "./errors";
import { quoteSqliteIdent as qi, type SourceSchema, type SourceTable } from "./introspect";
import { mayMerge, mergedKey, uniqueKeysOf } from "./key-equality";
import { loadNative, nativeExtensionPath } from "./native";
import { canProfileInThreads, parallelScans, parseCounts, scanSql, type ProfileScan } from "./profile-thread";
import { keyColumns, keyOf } from "./profile";
import type { SqliteDb } from "./sqlite";
import { mapColumn, type ColumnMapping, type MappingOptions } from "./typemap";
import { EPOCH_OFFSET_SECONDS, epochUnit, jsonbChange, timeOkSql, toPgText, ValueError, type Epoch, type SqliteValue } from "./values";

/**
 * How numbers in a DATE/DATETIME/TIMESTAMP column are read: "unix" (seconds, or ms when
 * |n| >= 1e11), "unix-ms" (milliseconds), "coredata" (seconds since 2001-01-01 UTC), or kept as "number".
 */
export type EpochChoice = Epoch | "number";

/** The choices `--epoch` and the stack config `epochs` accept. */
export const EPOCH_CHOICES: readonly EpochChoice[] = ["unix", "unix-ms", "coredata", "number"];

export interface DecisionOptions extends MappingOptions {
  /** Refuse (TYPE_MISMATCH, before any DDL) instead of widening a column. Defaults to false. */
  strictTypes?: boolean;
  /** "table.column" -> how numbers in that date/time column are read. Defaults to the data's evidence. */
  epochs?: Record<string, EpochChoice>;
  /** Threads that read the profile scans at once (run's --jobs). Defaults to 1 (this thread only). */
  jobs?: number;
}

export interface TypeDecision {
  table: string;
  column: string;
  /** The declared type's mapping. */
  from: string;
  /** The type the column gets. */
  to: string;
  /** Rows whose values forced the decision. */
  rows: number;
  reason: string;
  sampleKey?: Record<string, unknown>;
  /** Numbers read as instants: the epoch and unit chosen, why, and one stored value before -> after. */
  instants?: InstantDecision;
}

export interface InstantDecision {
  epoch: Epoch;
  /** The unit of the example (unix: seconds, or milliseconds when |n| >= 1e11). */
  unit: "s" | "ms";
  /** What decided it: "option" (--epoch / epochs), "core data", "date text", "default". */
  by: "option" | "core data" | "date text" | "default";
  example?: { stored: string; converted: string };
}

export interface Decisions {
  /** "table.column" -> decided PostgreSQL type and reason, fed to the mapping (MappingOptions.decided). */
  decided: Record<string, { pgType: string; reason: string; epoch?: Epoch }>;
  decisions: TypeDecision[];
  /** Columns that cannot be loaded as they are: `run` and the schema step refuse with the first. */
  refusals: MigrationError[];
}

interface Stats {
  null: number;
  integer: number;
  real: number;
  text: number;
  blob: number;
  /** integers beyond ±2^53 (a double cannot hold them exactly) */
  big: number;
  /** text longer than the varchar length */
  over: number;
  /** text with a NUL byte or bytes that are not UTF-8 (PostgreSQL text holds neither); -1: not counted in SQL */
  badText: number;
  /** integers with more digits than numeric(p,s) allows before the point */
  intOverflow: number;
  /** values of a boolean column that are boolean spellings */
  boolOk: number;
  /** text values that are plain ISO dates or date-times (armp_iso_ok; in a DATE column, dates only); -1: not counted in SQL */
  iso: number;
  /** text values of a JSON column the extension could not show jsonb reads (invalidJson reads only those); -1: not counted in SQL */
  json: number;
}

/** The spellings toPgText reads as booleans (values.ts BOOL_SPELLINGS), as a SQLite condition. */
const BOOL_OK = (C: string): string =>
  `(typeof(${C}) IN ('integer', 'real') AND ${C} IN (0, 1)) OR (typeof(${C}) = 'text' AND lower(trim(${C})) IN ('1', '0', 't', 'f', 'true', 'false', 'y', 'n', 'yes', 'no', 'on', 'off'))`;

const LIMIT_2_53 = "9007199254740992";

/**
 * The decisions for every table of the source, and a TYPE_MISMATCH for each column that cannot be
 * kept. With `jobs` >= 2 and the extension loaded, the tables' scans are read at once on worker
 * threads (profile-thread.ts); the decisions are the same either way.
 */
export function decideTypes(db: SqliteDb, schema: SourceSchema, opts: DecisionOptions = {}, sourcePath: string | null = db.name): Decisions {
  const out: Decisions = { decided: {}, decisions: [], refusals: [] };
  const strict = schema.tables.length > 0 ? strictTables(db) : new Set<string>();
  const open = schema.tables.map((t) => profiledColumns(t, opts, strict.has(t.name)));
  // The armp_copy extension counts everything in one C aggregate (armp_profile); without it the
  // same counts come from SQL expressions, and text validity is checked per column later (badText).
  const native = open.some((o) => o.length > 0) && String(db.pragma("encoding", { simple: true })).toUpperCase() === "UTF-8" && loadNative(db);
  const stats = native ? nativeStatsOf(db, schema.tables, open, opts.jobs ?? 1, sourcePath) : (i: number): Stats[] => sqlStats(db, qi(schema.tables[i].name), open[i]);
  schema.tables.forEach((t, i) => {
    decideNullKeys(db, t, out);
    if (open[i].length > 0) decideTable(db, t, open[i], stats(i), opts, out);
    decideKeyCollisions(db, t, opts, out);
  });
  return out;
}

/** Tables declared STRICT (PRAGMA table_list, SQLite 3.37+). */
function strictTables(db: SqliteDb): Set<string> {
  try {
    const rows = db.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND strict").all() as { name: string }[];
    return new Set(rows.map((r) => r.name));
  } catch {
    return new Set();
  }
}

/**
 * The columns whose values the profile reads: not cast by the user, not the rowid alias (always an
 * integer), and not a STRICT table's INT/INTEGER, REAL or BLOB column (SQLite stores nothing else
 * there but NULL, so no decision can come of it). Generated columns are read: SQLite computes their
 * values, and an untyped one is typed by them.
 */
function profiledColumns(t: SourceTable, opts: DecisionOptions, strict: boolean): ColumnMapping[] {
  const declared = { ...opts, decided: undefined };
  return t.columns.flatMap((col) => {
    const c = mapColumn(t, col, declared);
    if (c.overridden || c.identity) return [];
    if (strict && !col.generated && strictHoldsOnly(col.declType, c.kind)) return [];
    return [c];
  });
}

/** A STRICT column of this declared type and kind holds only values decideColumn keeps as they are. */
function strictHoldsOnly(declType: string, kind: ColumnMapping["kind"]): boolean {
  const d = declType.trim().toUpperCase();
  return ((d === "INT" || d === "INTEGER") && kind === "int") || (d === "REAL" && kind === "float") || (d === "BLOB" && kind === "bytea");
}

/**
 * F4: a PRIMARY KEY / UNIQUE whose rows SQLite keeps apart and the mapped types make equal ('no'
 * and 0 in a BOOLEAN, ISO text and Unix time in a TIMESTAMP, 2^53+1 and 2^53 in a DOUBLE) would
 * reject the load after DDL. Decided here instead: the key's columns whose conversion merges
 * values keep the original representation (text), shown as a decision line; --strict, a cast
 * override, or text that still merges (a REAL's decimal text equal to an integer) refuse, naming
 * table, columns, key and both rows. Keys are read only when a probe finds a column whose
 * conversion is not injective on its data (key-equality.ts).
 */
function decideKeyCollisions(db: SqliteDb, t: SourceTable, opts: DecisionOptions, out: Decisions): void {
  if (out.refusals.some((e) => e.meta.table === t.name)) return;
  for (const key of uniqueKeysOf(t)) {
    for (let pass = 0; pass < 2; pass++) {
      const cols = key.map((k) => mapColumn(t, t.columns.find((c) => c.name === k)!, { ...opts, decided: out.decided }));
      const lossy = cols.filter((c) => !c.identity && mayMerge(db, t, c));
      if (lossy.length === 0) break;
      const m = mergedKey(db, t, key, cols, key.map((k) => out.decided[`${t.name}.${k}`]?.epoch));
      if (!m) break;
      const pair = `${JSON.stringify(m.values[0])} (row ${JSON.stringify(m.rowKeys[0])}) and ${JSON.stringify(m.values[1])} (row ${JSON.stringify(m.rowKeys[1])})`;
      const what = `${m.rows} row(s) of the key (${key.join(", ")}) are distinct in SQLite but equal as ${cols.map((c) => c.pgType).join(", ")}, e.g. ${pair}, both ${JSON.stringify(Object.values(m.as).join(", "))}`;
      const changeable = lossy.filter((c) => !c.overridden && c.kind !== "text");
      if (pass === 0 && changeable.length > 0 && !opts.strictTypes) {
        for (const c of changeable) {
          const k = `${t.name}.${c.column}`;
          const to = badText(db, t, c, { text: 1, badText: -1 } as Stats).rows > 0 ? "bytea" : "text";
          const reason = `${what}; ${to} keeps every value as written, so the key holds them apart`;
          const from = mapColumn(t, t.columns.find((x) => x.name === c.column)!, { ...opts, decided: undefined }).pgType;
          out.decided[k] = { pgType: to, reason };
          out.decisions = out.decisions.filter((d) => !(d.table === t.name && d.column === c.column));
          out.decisions.push(jsonSafe({ table: t.name, column: c.column, from, to, rows: m.rows, reason, sampleKey: m.rowKeys[1] }) as TypeDecision);
        }
        continue;
      }
      const col = (changeable[0] ?? lossy[0]).column;
      const fix = opts.strictTypes && changeable.length > 0
        ? `Drop --strict (strictTypes) to keep ${changeable.map((c) => c.column).join(", ")} as text, cast ${changeable.length > 1 ? "them" : "it"} (${changeable.map((c) => `--cast ${t.name}.${c.column}=text`).join(" ")}), or make those rows' keys distinct in a copy of the file`
        : `Make those rows' keys distinct in a copy of the file (or delete one of them there) and migrate the copy${lossy.some((c) => c.overridden) ? ", or choose a cast that keeps the values apart" : ""}`;
      out.refusals.push(new MigrationError("TYPE_MISMATCH", `${t.name}.${col}: ${what}; the PostgreSQL key would reject the load${opts.strictTypes && changeable.length > 0 ? " (--strict keeps the declared types)" : ""}. ${fix}; nothing was created in the target.`, { table: t.name, column: col, key: m.rowKeys[1], rows: m.rows, step: "profile", keyColumns: key, values: m.values, rowKeys: m.rowKeys }));
      return;
    }
  }
}

/**
 * NULL in a PRIMARY KEY column of a rowid table (not the INTEGER PRIMARY KEY): SQLite's legacy
 * quirk stores it, PostgreSQL's PRIMARY KEY makes every key column NOT NULL. Refused here, before
 * any DDL, naming the rowid of the first such row: turning the key into a UNIQUE (NULLs distinct,
 * as in SQLite) would load the rows but leave the table without a primary key, which capture,
 * sync and every ORM reading the target key rows by — so the user decides, on a copy of the file.
 */
function decideNullKeys(db: SqliteDb, t: SourceTable, out: Decisions): void {
  if (t.withoutRowid || t.rowidAlias !== null || t.primaryKey.length === 0) return;
  // Nothing to refuse when no key column can hold NULL (one index probe per key column).
  for (const k of t.primaryKey) {
    const K = qi(k);
    const r = db.prepare(`SELECT count(*) AS n, min(rowid) AS r FROM ${qi(t.name)} WHERE ${K} IS NULL`).safeIntegers(true).get() as { n: bigint; r: bigint | null };
    if (r.n === 0n) continue;
    const rows = Number(r.n);
    const key = `${t.name}.${k}`;
    const pk = t.primaryKey.map((c) => qi(c)).join(", ");
    out.refusals.push(
      new MigrationError(
        "TYPE_MISMATCH",
        `${key}: ${rows} row(s) hold NULL in the PRIMARY KEY (${t.primaryKey.join(", ")}) (e.g. rowid ${r.r}); SQLite allows NULL in a non-INTEGER primary key of a rowid table, PostgreSQL does not. Give those rows a key in a copy of the file (e.g. UPDATE ${qi(t.name)} SET ${K} = <value> WHERE ${K} IS NULL) or delete them there, and migrate the copy; nothing was created in the target`,
        jsonSafe({ table: t.name, column: k, key: { rowid: r.r }, primaryKey: t.primaryKey, rows, step: "profile", declared: `PRIMARY KEY (${pk})` }) as Record<string, unknown>,
      ),
    );
  }
}

function decideTable(db: SqliteDb, t: SourceTable, open: ColumnMapping[], stats: Stats[], opts: DecisionOptions, out: Decisions): void {
  const T = qi(t.name);
  const keySel = keyColumns(t).map(qi).join(", ");
  const sample = (where: string): Record<string, unknown> | undefined => {
    const row = db.prepare(`SELECT ${keySel} FROM ${T} WHERE ${where} LIMIT 1`).safeIntegers(true).get() as Record<string, unknown> | undefined;
    return row ? keyOf(t, row) : undefined;
  };
  open.forEach((c, i) => {
    const d = decideColumn(db, t, c, stats[i], opts, sample);
    if (!d) return;
    const key = `${t.name}.${c.column}`;
    // A decision that keeps the declared type (numbers read as Unix time) is not a widening.
    const widens = d.to !== c.pgType && !d.narrows;
    if (d.refuse || (opts.strictTypes && widens)) {
      const why = d.refuse ? d.reason : `${d.reason}; --strict keeps the declared type, so these rows cannot be loaded`;
      const fix = d.refuse ? d.fix : `Drop --strict (strictTypes) to widen the column to ${d.to}, cast it (--cast ${key}=${d.to}), or fix the rows in SQLite`;
      out.refusals.push(new MigrationError("TYPE_MISMATCH", `${key} (${c.declType || "no declared type"}): ${why}. ${fix}.`, { table: t.name, column: c.column, key: d.sampleKey, rows: d.rows, step: "profile", declared: c.pgType, ...(d.refuse ? {} : { widenedTo: d.to }) }));
      return;
    }
    out.decided[key] = { pgType: d.to, reason: d.reason, ...(d.instants ? { epoch: d.instants.epoch } : {}) };
    out.decisions.push(jsonSafe({ table: t.name, column: c.column, from: c.pgType, to: d.to, rows: d.rows, reason: d.reason, ...(d.sampleKey ? { sampleKey: d.sampleKey } : {}), ...(d.instants ? { instants: d.instants } : {}) }) as TypeDecision);
  });
}

const STAT_ORDER = ["null", "integer", "real", "text", "blob", "badText", "over", "big", "intOverflow", "boolOk", "iso", "json"] as const;

/** armp_profile's spec token for one column (see the C file). */
function profileSpec(c: ColumnMapping): string {
  let f = "u";
  if (c.kind === "int") f += "g";
  if (c.kind === "text" && c.maxLength !== undefined) f += `l${c.maxLength}`;
  const digits = numericIntDigits(c.pgType);
  if (digits !== null) f += `d${digits}`;
  if (digits !== null && c.scale !== undefined) f += `s${c.scale}`;
  if (c.kind === "bool") f += "b";
  // A DATE column's plain text is a date alone (decideInstants counts those as dates).
  if (c.kind === "date") f += "tD";
  if (c.kind === "timestamp" || c.kind === "timestamptz") f += "t";
  if (c.kind === "json" || c.kind === "jsonb") f += "j";
  return f;
}

/** A table whose `rowid` is the real rowid (no column shadows it), so rowid ranges partition it. */
function byRowid(t: SourceTable): boolean {
  return !t.withoutRowid && !t.columns.some((c) => ["rowid", "oid", "_rowid_"].includes(c.name.toLowerCase()));
}

/**
 * Each table's armp_profile counts, as Stats per profiled column. One thread: each table's scan
 * when its turn comes. With `jobs` >= 2 (and a file worth a thread): every table's scan at once
 * (profile-thread.ts); an error reading a table is raised at that table's turn, as before.
 */
function nativeStatsOf(db: SqliteDb, tables: SourceTable[], open: ColumnMapping[][], jobs: number, sourcePath: string | null): (i: number) => Stats[] {
  const scans: ProfileScan[] = tables.map((t, i) => ({ table: qi(t.name), columns: open[i].map((c) => qi(c.column)), spec: open[i].map(profileSpec).join(","), byRowid: byRowid(t) }));
  const one = (s: ProfileScan): Stats[] => toStats(parseCounts((db.prepare(scanSql(s)).get(s.spec) as { p: string | null }).p, s.columns.length));
  const extension = nativeExtensionPath();
  if (extension === null || !canProfileInThreads(jobs, sourcePath, db)) return (i) => one(scans[i]);
  const idx = scans.map((s, i) => (s.columns.length > 0 ? i : -1)).filter((i) => i >= 0);
  const results = parallelScans(db, sourcePath, extension, idx.map((i) => scans[i]), jobs);
  const byTable = new Map(idx.map((t, k) => [t, results[k]]));
  return (i) => {
    const r = byTable.get(i);
    if (!r) return one(scans[i]);
    if ("error" in r) throw r.error;
    return toStats(r.counts);
  };
}

function toStats(counts: number[][]): Stats[] {
  return counts.map((v) => {
    const out = {} as Stats;
    STAT_ORDER.forEach((k, j) => (out[k] = v[j] ?? 0));
    return out;
  });
}

function sqlStats(db: SqliteDb, T: string, cols: ColumnMapping[]): Stats[] {
  const agg: string[] = ["count(*) AS n"];
  cols.forEach((c, i) => {
    const C = qi(c.column);
    for (const ty of ["null", "integer", "real", "text", "blob"]) agg.push(`total(typeof(${C}) = '${ty}') AS "${i}_${ty}"`);
    if (c.kind === "bool") agg.push(`total(${BOOL_OK(C)}) AS "${i}_boolOk"`);
    if (c.kind === "int") agg.push(`total(typeof(${C}) = 'integer' AND (${C} > ${LIMIT_2_53} OR ${C} < -${LIMIT_2_53})) AS "${i}_big"`);
    if (c.kind === "text" && c.maxLength !== undefined) agg.push(`total(typeof(${C}) = 'text' AND length(${C}) > ${c.maxLength}) AS "${i}_over"`);
    const digits = numericIntDigits(c.pgType);
    if (digits !== null && digits <= 18) agg.push(`total(typeof(${C}) = 'integer' AND (${C} >= 1e${digits} OR ${C} <= -1e${digits})) AS "${i}_intOverflow"`);
  });
  const r = db.prepare(`SELECT ${agg.join(", ")} FROM ${T}`).get() as Record<string, number>;
  return cols.map((_, i) => {
    const out = {} as Stats;
    for (const k of STAT_ORDER) out[k] = r[`${i}_${k}`] ?? 0;
    out.badText = -1;
    out.iso = -1;
    out.json = -1;
    return out;
  });
}

interface ColumnDecision {
  to: string;
  rows: number;
  reason: string;
  sampleKey?: Record<string, unknown>;
  /** No type holds these values exactly: refused whatever the policy, with `fix`. */
  refuse?: boolean;
  fix?: string;
  instants?: InstantDecision;
  /** A narrower type that holds every value exactly (TEXT with a JSON_VALID check -> json): not a widening, so --strict takes it too. */
  narrows?: boolean;
}

function decideColumn(db: SqliteDb, t: SourceTable, c: ColumnMapping, s: Stats, opts: DecisionOptions, sample: (where: string) => Record<string, unknown> | undefined): ColumnDecision | null {
  const C = qi(c.column);
  const key = `${t.name}.${c.column}`;
  const nonNull = s.integer + s.real + s.text + s.blob;
  if (nonNull === 0) return null;
  const numbers = s.integer + s.real;
  // BLOBs: bytea holds them; beside other values nothing holds the mix exactly.
  if (s.blob > 0 && c.kind !== "bytea") {
    if (s.blob === nonNull) return { to: "bytea", rows: s.blob, reason: `every value is a BLOB (${s.blob} row(s)); ${c.pgType} cannot hold them, bytea keeps their bytes`, sampleKey: sample(`typeof(${C}) = 'blob'`) };
    return {
      to: "bytea",
      rows: s.blob,
      refuse: true,
      reason: `holds ${s.blob} BLOB value(s) beside ${mix(s, ["integer", "real", "text"])}; no PostgreSQL type holds that mix exactly`,
      fix: `Cast the column to bytea (--cast ${key}=bytea: text is stored as its UTF-8 bytes and numbers as their decimal text), or fix the rows in SQLite`,
      sampleKey: sample(`typeof(${C}) = 'blob'`),
    };
  }
  if (c.kind === "bytea") {
    if (s.blob > 0) {
      if (s.blob === nonNull) return null;
      return {
        to: "bytea",
        rows: nonNull - s.blob,
        refuse: true,
        reason: `holds ${s.blob} BLOB value(s) beside ${mix(s, ["integer", "real", "text"])}; bytea would turn the others into bytes, text cannot hold the BLOBs`,
        fix: `Cast the column to bytea to keep the others as bytes (--cast ${key}=bytea: text as its UTF-8 bytes, numbers as their decimal text), or fix the rows in SQLite`,
        sampleKey: sample(`typeof(${C}) <> 'blob'`),
      };
    }
    // A BLOB (or untyped) column holding no BLOB at all: the values' own type keeps them exactly.
    if (s.text === 0) return numbersType(s, `holds only numbers (${mix(s, ["integer", "real"])}), no BLOB`);
    if (numbers === 0) return textOrBytea(db, t, c, s, `holds only text (${s.text} row(s)), no BLOB; text keeps it`, sample);
    return textOrBytea(db, t, c, s, `holds ${mix(s, ["integer", "real", "text"])}, no BLOB; text keeps every value (numbers as their decimal text)`, sample);
  }
  switch (c.kind) {
    case "int":
      if (s.text > 0) return textOrBytea(db, t, c, s, `${s.text} text value(s) that are not integers beside ${mix(s, ["integer", "real"])}; text keeps every value (numbers as their decimal text)`, sample, s.text);
      if (s.real > 0) {
        const where = `typeof(${C}) = 'real'`;
        return s.big > 0
          ? { to: "numeric", rows: s.real, reason: `${s.real} non-integer value(s) and integers beyond ±2^53; numeric holds both exactly`, sampleKey: sample(where) }
          : { to: "double precision", rows: s.real, reason: `${s.real} non-integer value(s) (REAL); double precision holds them and every integer here (all within ±2^53)`, sampleKey: sample(where) };
      }
      return null;
    case "float":
      if (s.text > 0) return textOrBytea(db, t, c, s, `${s.text} text value(s) that are not numbers beside ${mix(s, ["integer", "real"])}; text keeps every value (numbers as their decimal text)`, sample, s.text);
      return null;
    case "numeric": {
      if (s.text > 0) return textOrBytea(db, t, c, s, `${s.text} text value(s) that are not numbers beside ${mix(s, ["integer", "real"])}; text keeps every value (numbers as their decimal text)`, sample, s.text);
      const lost = numericLoss(db, t, c, s);
      if (lost.rows > 0) return { to: "numeric", rows: lost.rows, reason: `${lost.rows} value(s) do not fit ${c.pgType} exactly (e.g. ${lost.example}: ${lost.why}); numeric without precision keeps them`, sampleKey: lost.sampleKey };
      return null;
    }
    case "bool": {
      const bad = nonNull - s.boolOk;
      if (bad === 0) {
        // A key of this column alone holds distinct values in SQLite; two spellings of one boolean
        // ('no' and 0) would make the PostgreSQL key reject the load, so text keeps them apart.
        const keyed = [t.primaryKey, ...t.uniques].some((k) => k.length === 1 && k[0] === c.column);
        if (!keyed || s.text === 0) return null;
        const truth = `CASE WHEN typeof(${C}) = 'text' THEN lower(trim(${C})) IN ('1', 't', 'true', 'y', 'yes', 'on') ELSE ${C} = 1 END`;
        const dup = db.prepare(`SELECT count(*) AS n FROM (SELECT ${truth} AS __bool FROM ${qi(t.name)} WHERE ${C} IS NOT NULL GROUP BY __bool HAVING count(*) > 1)`).get() as { n: number };
        if (dup.n === 0) return null;
        return textOrBytea(db, t, c, s, `the column is a key, and its distinct values include two spellings of one boolean (e.g. 0 and 'no'); text keeps them distinct`, sample, nonNull, sample(`typeof(${C}) = 'text'`));
      }
      const where = `${C} IS NOT NULL AND NOT (${BOOL_OK(C)})`;
      const ex = db.prepare(`SELECT ${C} AS v FROM ${qi(t.name)} WHERE ${where} LIMIT 1`).safeIntegers(true).get() as { v: SqliteValue } | undefined;
      const shown = JSON.stringify(typeof ex?.v === "bigint" ? Number(ex.v) : ex?.v);
      if (s.text === 0 && s.real === 0) return { to: "bigint", rows: bad, reason: `${bad} value(s) that are not 0/1 (e.g. ${shown}); bigint keeps every integer`, sampleKey: sample(where) };
      return textOrBytea(db, t, c, s, `${bad} value(s) that are not boolean spellings (e.g. ${shown}); text keeps every value`, sample, bad, sample(where));
    }
    case "date":
    case "timestamp":
    case "timestamptz":
      return decideInstants(db, t, c, s, opts, sample);
    case "time":
      return decideTime(db, t, c, s, sample);
    case "text":
    case "json":
    case "jsonb": {
      const bad = badText(db, t, c, s);
      if (bad.rows > 0) return { to: "bytea", rows: bad.rows, reason: `${bad.rows} text value(s) with a NUL byte or bytes that are not UTF-8; PostgreSQL text holds neither, bytea keeps their exact bytes`, sampleKey: bad.sampleKey };
      if (c.kind === "jsonb" || c.kind === "json") {
        // The extension's scan found every text value to be JSON jsonb reads: nothing to read here.
        const bad = s.json === 0 ? { rows: 0 } : invalidJson(db, t, c);
        if (bad.rows > 0) return { to: "text", rows: bad.rows, reason: `${bad.rows} value(s) are not valid JSON; text keeps them as written`, sampleKey: bad.sampleKey };
        // Numbers are JSON numbers as they are, except a REAL ±Infinity (SQLite stores 9e999 so): no JSON spells it.
        if (s.real > 0) {
          const inf = `typeof(${C}) = 'real' AND abs(${C}) > 1.7976931348623157e308`;
          const n = Number(db.prepare(`SELECT count(*) FROM ${qi(t.name)} WHERE ${inf}`).pluck().get());
          if (n > 0) return { to: "text", rows: n, reason: `${n} value(s) are REAL infinities, which JSON cannot spell; text keeps them (as Infinity / -Infinity)`, sampleKey: sample(inf) };
        }
        return null;
      }
      if (c.kind === "text" && c.maxLength === undefined && s.text > 0) {
        const j = decideJsonCheck(db, t, c, s);
        if (j) return j;
      }
      if (s.over > 0 && c.maxLength !== undefined) return { to: "text", rows: s.over, reason: `${s.over} value(s) longer than ${c.maxLength} characters (SQLite does not enforce the length); text keeps them`, sampleKey: sample(`typeof(${C}) = 'text' AND length(${C}) > ${c.maxLength}`) };
      return null;
    }
    default:
      return null;
  }
}

/**
 * A declared TIME column (typemap: time): time when every value is time-of-day text PostgreSQL's
 * time holds exactly (values.ts normaliseTime; the copy writes PostgreSQL's own spelling, e.g.
 * 00:00:00.000000 as 00:00:00, and verification compares those); anything else (numbers, offsets,
 * a seventh fractional digit, 24:00) keeps the whole column text, as written.
 */
function decideTime(db: SqliteDb, t: SourceTable, c: ColumnMapping, s: Stats, sample: (where: string) => Record<string, unknown> | undefined): ColumnDecision | null {
  const C = qi(c.column);
  const nonNull = s.integer + s.real + s.text + s.blob;
  const ok = s.text === 0 ? 0 : (db.prepare(`SELECT count(*) AS n FROM ${qi(t.name)} WHERE ${timeOkSql(C)}`).get() as { n: number }).n;
  if (ok === nonNull) return null;
  const where = `${C} IS NOT NULL AND NOT ${timeOkSql(C)}`;
  const ex = db.prepare(`SELECT ${C} AS v FROM ${qi(t.name)} WHERE ${where} LIMIT 1`).safeIntegers(true).get() as { v: SqliteValue } | undefined;
  const shown = JSON.stringify(typeof ex?.v === "bigint" ? ex.v.toString() : ex?.v);
  const rows = nonNull - ok;
  return textOrBytea(db, t, c, s, `${rows} value(s) are not time-of-day text HH:MM[:SS[.ffffff]] that time holds exactly (e.g. ${shown}); text keeps every value as written`, sample, rows, sample(where));
}

/** The column is checked by json_valid(column) in its table's CREATE TABLE (Django's JSONField on SQLite). */
function hasJsonValidCheck(db: SqliteDb, t: SourceTable, column: string): boolean {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(t.name) as { sql: string | null } | undefined;
  if (!row?.sql) return false;
  const e = column.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const spellings = [`"${e.replace(/"/g, '""')}"`, `\`${e.replace(/`/g, "``")}\``, `\\[${e}\\]`, ...(/^[A-Za-z_][A-Za-z0-9_$]*$/.test(column) ? [e] : [])];
  return new RegExp(`json_valid\\s*\\(\\s*(?:${spellings.join("|")})\\s*\\)`, "i").test(row.sql);
}

/**
 * A TEXT column with a CHECK (json_valid(column)) holds JSON: when every value is JSON that
 * PostgreSQL reads (no text beside it that fails, no number stored as a number), it becomes
 * jsonb if jsonb keeps every value (values.ts jsonbChange: no duplicate keys, no \u0000, no
 * number jsonb would respell such as 1e3 -> 1000 or -0 -> 0; spacing and key order are jsonb's
 * own, and verification compares the values), else json, which keeps the text byte for byte.
 * Values that are not JSON keep the column text, with a decision line.
 */
function decideJsonCheck(db: SqliteDb, t: SourceTable, c: ColumnMapping, s: Stats): ColumnDecision | null {
  if (!hasJsonValidCheck(db, t, c.column)) return null;
  const C = qi(c.column);
  const keySel = keyColumns(t).map(qi).join(", ");
  const nonNull = s.integer + s.real + s.text + s.blob;
  if (s.text !== nonNull) return { to: "text", rows: nonNull - s.text, reason: `CHECK (json_valid(${c.column})), but ${nonNull - s.text} value(s) are stored as numbers, not JSON text; text keeps every value as written` };
  let invalid = 0;
  let invalidKey: Record<string, unknown> | undefined;
  let change: { why: string; key: Record<string, unknown> } | undefined;
  for (const row of db.prepare(`SELECT ${keySel}, ${C} AS __v FROM ${qi(t.name)} WHERE typeof(${C}) = 'text'`).safeIntegers(true).iterate() as Iterable<Record<string, unknown>>) {
    const v = row.__v as string;
    try {
      JSON.parse(v);
    } catch {
      invalid++;
      invalidKey ??= keyOf(t, row);
      continue;
    }
    if (change === undefined) {
      const why = jsonbChange(v);
      if (why !== null) change = { why, key: keyOf(t, row) };
    }
  }
  if (invalid > 0) return { to: "text", rows: invalid, reason: `CHECK (json_valid(${c.column})), but ${invalid} value(s) are not JSON PostgreSQL reads (SQLite 3.42-3.44 json_valid accepts JSON5); text keeps every value as written`, sampleKey: invalidKey };
  if (change) return { to: "json", rows: s.text, narrows: true, reason: `CHECK (json_valid(${c.column})) and all ${s.text} value(s) are JSON; json keeps the text exactly, jsonb would not (${change.why})`, sampleKey: change.key };
  return { to: "jsonb", rows: s.text, narrows: true, reason: `CHECK (json_valid(${c.column})) and all ${s.text} value(s) are JSON that jsonb keeps (no duplicate keys, no \\u0000, no number jsonb respells); jsonb orders keys and spaces them its own way, verification compares values` };
}

function mix(s: Stats, kinds: ("integer" | "real" | "text")[]): string {
  const parts = kinds.filter((k) => s[k] > 0).map((k) => `${s[k]} ${k}`);
  return parts.length ? parts.join(", ") : "no other values";
}

/** The narrowest type for a column of numbers only. */
function numbersType(s: Stats, why: string): ColumnDecision {
  if (s.real === 0) return { to: "bigint", rows: s.integer, reason: `${why}; bigint holds them` };
  return s.big > 0 ? { to: "numeric", rows: s.integer + s.real, reason: `${why}; numeric holds them (integers beyond ±2^53)` } : { to: "double precision", rows: s.integer + s.real, reason: `${why}; double precision holds them` };
}

/** text, or bytea when some text has a NUL byte or is not UTF-8 (PostgreSQL text holds neither). */
function textOrBytea(db: SqliteDb, t: SourceTable, c: ColumnMapping, s: Stats, reason: string, sample: (where: string) => Record<string, unknown> | undefined, rows = s.text, sampleKey?: Record<string, unknown>): ColumnDecision {
  const C = qi(c.column);
  const bad = badText(db, t, c, s);
  if (bad.rows > 0) return { to: "bytea", rows: bad.rows, reason: `${reason}, but ${bad.rows} text value(s) have a NUL byte or are not UTF-8, so bytea keeps their exact bytes`, sampleKey: bad.sampleKey };
  return { to: "text", rows, reason, sampleKey: sampleKey ?? sample(`typeof(${C}) = 'text'`) };
}

/**
 * Numbers in a date/time column. Text values that read as dates show the column holds instants,
 * so its numbers are read as Unix time too (seconds, or milliseconds when |n| >= 1e11); a column of
 * numbers only keeps them, because nothing in the file says which epoch and unit they count from.
 * Text that is neither a date nor a number makes the column text.
 */
function decideInstants(db: SqliteDb, t: SourceTable, c: ColumnMapping, s: Stats, opts: DecisionOptions, sample: (where: string) => Record<string, unknown> | undefined): ColumnDecision | null {
  const C = qi(c.column);
  const key = `${t.name}.${c.column}`;
  let dates = 0;
  let numericText = 0;
  let bad = 0;
  let badKey: Record<string, unknown> | undefined;
  let withTime = 0;
  let timeKey: Record<string, unknown> | undefined;
  const numericTexts: { v: string; key: Record<string, unknown> }[] = [];
  const keySel = keyColumns(t).map(qi).join(", ");
  if (s.text > 0) {
    // Plain ISO spellings (valid fields, year 0001-9999) are what toPgText reads as they are. The
    // extension counts them in the table's scan; without it SQLite's own date functions tell (a
    // day or hour out of range comes back changed or NULL). Only the other text is read here.
    const fast =
      s.iso >= 0
        ? c.kind === "date"
          ? `length(${C}) = 10 AND armp_iso_ok(${C})`
          : `armp_iso_ok(${C})`
        : c.kind === "date"
          ? `date(${C}) = ${C}`
          : `(datetime(${C}) = ${C} OR strftime('%Y-%m-%d %H:%M:%f', ${C}) = ${C} OR strftime('%Y-%m-%dT%H:%M:%fZ', ${C}) = ${C} OR strftime('%Y-%m-%dT%H:%M:%S', ${C}) = ${C} OR date(${C}) = ${C})`;
    const plain = `typeof(${C}) = 'text' AND ${C} >= '0001' AND ${fast}`;
    dates = s.iso >= 0 ? s.iso : (db.prepare(`SELECT count(*) AS n FROM ${qi(t.name)} WHERE ${plain}`).get() as { n: number }).n;
    const stmt = db.prepare(`SELECT ${keySel}, ${C} AS __v FROM ${qi(t.name)} WHERE typeof(${C}) = 'text' AND NOT (${plain})`).safeIntegers(true);
    for (const row of (dates === s.text ? [] : stmt.iterate()) as Iterable<Record<string, unknown>>) {
      const v = row.__v as string;
      if (/^\s*-?\d+(\.\d+)?\s*$/.test(v)) {
        numericText++;
        numericTexts.push({ v, key: keyOf(t, row) });
        continue;
      }
      try {
        if (!calendarValid(toPgText(v, c))) throw new ValueError(`${v} is not a calendar date`);
        dates++;
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        if (c.kind === "date" && readsAs(v, "timestamp")) {
          withTime++;
          timeKey ??= keyOf(t, row);
          continue;
        }
        bad++;
        badKey ??= keyOf(t, row);
      }
    }
  }
  if (bad > 0) return textOrBytea(db, t, c, s, `${bad} text value(s) that are not dates or times; text keeps every value as written`, sample, bad, badKey);
  const numbers = s.integer + s.real + numericText;
  // A number or a Unix clock as the column's DEFAULT (DATETIME DEFAULT 0, DEFAULT (unixepoch()))
  // is the schema saying its numbers are instants counted from the Unix epoch.
  const numericDefault = /^[(\s]*([-+]?(\d|\.\d)|unixepoch\s*\(|strftime\s*\(\s*'%s')/i.test(t.columns.find((x) => x.name === c.column)?.defaultSql ?? "");
  // Core Data keeps NSDate attributes as TIMESTAMP columns of its Z* entity tables, in seconds
  // since 2001-01-01 UTC; the file says it is a Core Data store (Z_METADATA and Z_PRIMARYKEY).
  const coreDataColumn = dates + withTime === 0 && isCoreDataEntity(db, t);
  const by: InstantDecision["by"] = opts.epochs?.[key] ? "option" : coreDataColumn ? "core data" : dates + withTime > 0 ? "date text" : "default";
  let choice: EpochChoice = opts.epochs?.[key] ?? (coreDataColumn ? "coredata" : dates + withTime > 0 || numericDefault ? "unix" : "number");
  let noInstant = "";
  if (choice !== "number") {
    // A number read as an instant must be one PostgreSQL holds (years 1-9999): decided here, not
    // refused by the copy after DDL (a REAL 9e113 beside a Unix-clock DEFAULT).
    const out = unrepresentableInstants(db, t, c, choice, numericTexts);
    if (out.rows > 0) {
      const what = `${out.rows} number(s) are no instant PostgreSQL holds when read as ${EPOCH_WORDS[choice]} (e.g. ${out.example}: ${out.why})`;
      if (by === "option") {
        return { to: c.pgType, rows: out.rows, refuse: true, reason: `--epoch ${key}=${choice}: ${what}`, fix: `Use --epoch ${key}=number to keep the numbers, cast the column to text (--cast ${key}=text), or fix the rows in SQLite`, sampleKey: out.sampleKey };
      }
      if (dates + withTime > 0) return textOrBytea(db, t, c, s, `${what}, and the column's ${dates + withTime} text value(s) are dates; text keeps every value as written (numbers as their decimal text)`, sample, out.rows, out.sampleKey);
      // Only numbers: they stay numbers (as with no evidence at all), the reason says why.
      noInstant = `${what}, so `;
      choice = "number";
    }
  }
  if (c.kind === "date" && choice !== "number") {
    // A date column cannot hold a time of day: text with one, or a number that is not midnight UTC
    // (the Core Data origin, 2001-01-01, is a midnight: the same test holds for it).
    const ms = choice === "unix-ms" ? "1" : choice === "coredata" ? "0" : `abs(${C}) >= 1e11`;
    const notMidnight = numbers === 0 ? 0 : (db.prepare(`SELECT count(*) AS n FROM ${qi(t.name)} WHERE typeof(${C}) IN ('integer', 'real') AND (CASE WHEN ${ms} THEN ${C} % 86400000 ELSE ${C} % 86400 END) <> 0`).get() as { n: number }).n;
    if (withTime + notMidnight > 0) {
      const ts = opts.timestamptz ? "timestamptz" : "timestamp";
      return { to: ts, rows: withTime + notMidnight, reason: `${withTime + notMidnight} value(s) have a time of day (text, or a number that is not midnight UTC); ${ts} keeps it`, sampleKey: timeKey ?? sample(`typeof(${C}) IN ('integer', 'real')`) };
    }
  }
  if (numbers === 0) return null;
  const example = db.prepare(`SELECT ${C} AS v FROM ${qi(t.name)} WHERE typeof(${C}) IN ('integer', 'real') LIMIT 1`).safeIntegers(true).get() as { v: SqliteValue } | undefined;
  if (choice !== "number") {
    // Not a type change: the declared type stays; the decision is still shown with an example.
    let converted: string | null = null;
    try {
      converted = example ? toPgText(example.v, { ...c, epoch: choice }) : null;
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
    }
    const stored = example ? String(example.v) : "";
    const ex = example ? ` (e.g. ${stored} -> ${converted ?? "out of range"})` : "";
    const what = EPOCH_WORDS[choice];
    const why =
      by === "option"
        ? `--epoch ${key}=${choice}`
        : by === "core data"
          ? `this is a Core Data store (Z_METADATA and Z_PRIMARYKEY) and ${t.name} one of its entity tables, whose timestamps count from 2001; --epoch ${key}=number keeps the numbers`
          : by === "date text"
            ? `the column's ${dates + withTime} text value(s) are dates, so its numbers are instants too`
            : "its DEFAULT is a number or a Unix clock, so its numbers are instants";
    const unit = example ? epochUnit(typeof example.v === "bigint" || typeof example.v === "number" ? example.v : 0, choice) : choice === "unix-ms" ? "ms" : "s";
    return {
      to: c.pgType,
      rows: numbers,
      reason: `${numbers} number(s) read as ${what}${ex}: ${why}`,
      sampleKey: sample(`typeof(${C}) IN ('integer', 'real')`),
      instants: { epoch: choice, unit, by, ...(example && converted !== null ? { example: { stored, converted } } : {}) },
    };
  }
  if (dates > 0) {
    return {
      to: c.pgType,
      rows: numbers,
      refuse: true,
      reason: `--epoch ${key}=number keeps the numbers, but the column also holds ${dates} date text value(s)`,
      fix: `Use --epoch ${key}=unix (or unix-ms, coredata), or cast the column to text (--cast ${key}=text)`,
    };
  }
  const coreData = isCoreData(db) ? ` This is a Core Data store: its timestamps count seconds from 2001-01-01 UTC (--epoch ${key}=coredata).` : "";
  const why = noInstant
    ? `holds only numbers (${mix({ ...s, text: numericText }, ["integer", "real", "text"])}); ${noInstant}they are kept as numbers`
    : `holds only numbers (${mix({ ...s, text: numericText }, ["integer", "real", "text"])}) and nothing in the file says which epoch or unit they count from, so they are kept as numbers.${coreData} --epoch ${key}=unix reads them as Unix time`;
  if (numericText > 0) return { to: "text", rows: numbers, reason: `${why}; ${numericText} are stored as text, so text keeps every value`, sampleKey: sample(`typeof(${C}) = 'text'`) };
  return numbersType(s, why);
}

/** Seconds from 0001-01-01 to 1970-01-01, and from 1970-01-01 to 10000-01-01 (the years toPgText renders). */
const MIN_UNIX_S = -62135596800;
const END_UNIX_S = 253402300800;

/**
 * Numbers of a date/time column that are no instant when read with `epoch` (outside years 1-9999,
 * ±Infinity): SQL passes over the numbers surely inside (one day of margin), the rest are
 * converted as the copy converts them (toPgText), as are numeric text values.
 */
function unrepresentableInstants(db: SqliteDb, t: SourceTable, c: ColumnMapping, epoch: Epoch, numericTexts: { v: string; key: Record<string, unknown> }[]): { rows: number; example?: string; why?: string; sampleKey?: Record<string, unknown> } {
  const C = qi(c.column);
  const [lo, hi] = [MIN_UNIX_S + 86400, END_UNIX_S - 86400];
  const off = Number(EPOCH_OFFSET_SECONDS[epoch]);
  const safe =
    epoch === "unix-ms"
      ? `${C} BETWEEN ${lo}000 AND ${hi}000`
      : epoch === "coredata"
        ? `${C} BETWEEN ${lo - off} AND ${hi - off}`
        : `${C} BETWEEN ${lo} AND 99999999999 OR ${C} BETWEEN 100000000000 AND ${hi}000 OR ${C} BETWEEN ${lo}000 AND -100000000000`;
  const keySel = keyColumns(t).map(qi).join(", ");
  const target = { kind: "timestamp" as const, epoch };
  let rows = 0;
  let example: string | undefined;
  let why: string | undefined;
  let sampleKey: Record<string, unknown> | undefined;
  const check = (v: SqliteValue, key: () => Record<string, unknown>): void => {
    let reason = "not a calendar date";
    try {
      if (calendarValid(toPgText(v, target))) return;
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      reason = e.message;
    }
    rows++;
    if (example === undefined) [example, why, sampleKey] = [String(v), reason, key()];
  };
  const stmt = db.prepare(`SELECT ${keySel}, ${C} AS __v FROM ${qi(t.name)} WHERE typeof(${C}) IN ('integer', 'real') AND NOT (${safe})`).safeIntegers(true);
  for (const row of stmt.iterate() as Iterable<Record<string, unknown>>) check(row.__v as SqliteValue, () => keyOf(t, row));
  for (const n of numericTexts) check(n.v, () => n.key);
  return { rows, example, why, sampleKey };
}

function readsAs(v: string, kind: "timestamp"): boolean {
  try {
    return calendarValid(toPgText(v, { kind }));
  } catch {
    return false;
  }
}

/**
 * Whether converted date/time text names a real instant PostgreSQL accepts: toPgText checks the
 * shape, not the calendar (2021-02-30, 24:00:01), and PostgreSQL would reject such a row mid-copy.
 */
export function calendarValid(text: string | null): boolean {
  if (text === null) return true;
  const m = /^(\d{4,})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2}))?/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  if (y < 1 || days === undefined || d < 1 || d > days) return false;
  if (m[4] === undefined) return true;
  return Number(m[4]) <= 23 && Number(m[5]) <= 59 && Number(m[6]) <= 59;
}

/** How a decision line names each epoch. */
const EPOCH_WORDS: Record<Epoch, string> = {
  unix: "Unix time, seconds or milliseconds when |n| >= 1e11, UTC",
  "unix-ms": "Unix time in milliseconds, UTC",
  coredata: "seconds since 2001-01-01 00:00:00 UTC (Core Data)",
};

/** A table of a Core Data store that holds entities (Z*, not Core Data's own Z_ tables). */
function isCoreDataEntity(db: SqliteDb, t: SourceTable): boolean {
  return /^Z[A-Z0-9]/.test(t.name) && isCoreData(db);
}

function isCoreData(db: SqliteDb): boolean {
  const n = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('Z_METADATA', 'Z_PRIMARYKEY')").get() as { n: number };
  return n.n === 2;
}

/** Digits numeric(p,s) allows before the decimal point, or null when the type has no precision. */
function numericIntDigits(pgType: string): number | null {
  const m = /^numeric\((\d+)(?:,(\d+))?\)$/.exec(pgType.replace(/\s+/g, ""));
  return m ? Number(m[1]) - Number(m[2] ?? 0) : null;
}

/**
 * Values a numeric(p,s) column cannot keep exactly: integers with too many digits (counted in SQL),
 * and REALs whose shortest decimal form has more than s decimals (PostgreSQL would round them) or
 * too many digits before the point.
 */
function numericLoss(db: SqliteDb, t: SourceTable, c: ColumnMapping, s: Stats): { rows: number; example?: string; why?: string; sampleKey?: Record<string, unknown> } {
  const m = /^numeric\((\d+)(?:,(\d+))?\)$/.exec(c.pgType.replace(/\s+/g, ""));
  if (!m) return { rows: 0 };
  const p = Number(m[1]);
  const scale = Number(m[2] ?? 0);
  const C = qi(c.column);
  if (s.real === 0 && s.intOverflow === 0) return { rows: 0 };
  // With the extension, armp_profile already counted reals that do not fit (intOverflow): read
  // the column here only to name an example, and only when there is one.
  if (s.iso >= 0 && s.intOverflow === 0) return { rows: 0 };
  let rows = 0;
  let example: string | undefined;
  let why: string | undefined;
  let sampleKey: Record<string, unknown> | undefined;
  const keySel = keyColumns(t).map(qi).join(", ");
  const digits = p - scale;
  const where = `typeof(${C}) = 'real'` + (s.intOverflow > 0 && digits <= 18 ? ` OR (typeof(${C}) = 'integer' AND (${C} >= 1e${digits} OR ${C} <= -1e${digits}))` : "");
  const stmt = db.prepare(`SELECT ${keySel}, ${C} AS __v FROM ${qi(t.name)} WHERE ${where}`).safeIntegers(true);
  for (const row of stmt.iterate() as Iterable<Record<string, unknown>>) {
    const v = row.__v as number | bigint;
    const text = typeof v === "bigint" ? v.toString() : decimalOf(v);
    if (text === null) {
      rows++;
      if (!example) [example, why, sampleKey] = [String(v), "not a finite number", keyOf(t, row)];
      continue;
    }
    const [ip, fp = ""] = text.replace(/^-/, "").split(".");
    const intDigits = ip.replace(/^0+/, "").length;
    if (fp.length > scale || intDigits > p - scale) {
      rows++;
      if (!example) [example, why, sampleKey] = [text, fp.length > scale ? `${fp.length} decimals, the type keeps ${scale}` : `${intDigits} digits before the point, the type allows ${p - scale}`, keyOf(t, row)];
    }
  }
  return { rows, example, why, sampleKey };
}

/** A double's shortest round-trip decimal text without an exponent, or null for ±Infinity/NaN. */
export function decimalOf(n: number): string | null {
  if (!Number.isFinite(n)) return null;
  const s = String(n);
  if (!/e/i.test(s)) return s;
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/i.exec(s)!;
  const digits = m[2] + (m[3] ?? "");
  const exp = Number(m[4]);
  if (exp >= 0) return m[1] + (digits.length <= exp + 1 ? digits + "0".repeat(exp + 1 - digits.length) : digits.slice(0, exp + 1) + "." + digits.slice(exp + 1));
  return m[1] + "0." + "0".repeat(-exp - 1) + digits;
}

/**
 * Text values PostgreSQL's text cannot hold: a NUL byte, or bytes that are not UTF-8. Counted in the
 * table's scan by armp_text_ok when the extension is loaded; otherwise here, decoding only the rows
 * with a byte outside ASCII (the GLOB class, evaluated in C, finds stray lead bytes like 0xff too).
 */
function badText(db: SqliteDb, t: SourceTable, c: ColumnMapping, s: Stats): { rows: number; sampleKey?: Record<string, unknown> } {
  const C = qi(c.column);
  const keySel = keyColumns(t).map(qi).join(", ");
  const first = (where: string): Record<string, unknown> | undefined => {
    const row = db.prepare(`SELECT ${keySel} FROM ${qi(t.name)} WHERE ${where} LIMIT 1`).safeIntegers(true).get() as Record<string, unknown> | undefined;
    return row ? keyOf(t, row) : undefined;
  };
  if (s.text === 0) return { rows: 0 };
  // Counted by armp_profile (and armp_text_ok finds a sample) when the extension is loaded.
  if (s.badText >= 0) return s.badText === 0 ? { rows: 0 } : { rows: s.badText, sampleKey: first(`typeof(${C}) = 'text' AND NOT armp_text_ok(${C})`) };
  const nul = (db.prepare(`SELECT count(*) AS n FROM ${qi(t.name)} WHERE typeof(${C}) = 'text' AND instr(CAST(${C} AS BLOB), x'00') > 0`).get() as { n: number }).n;
  const dec = new TextDecoder("utf-8", { fatal: true });
  let rows = nul;
  let sampleKey = nul > 0 ? first(`typeof(${C}) = 'text' AND instr(CAST(${C} AS BLOB), x'00') > 0`) : undefined;
  const stmt = db.prepare(`SELECT ${keySel}, CAST(${C} AS BLOB) AS __b FROM ${qi(t.name)} WHERE typeof(${C}) = 'text' AND instr(CAST(${C} AS BLOB), x'00') = 0 AND ${C} GLOB '*[^' || char(1) || '-' || char(127) || ']*'`).safeIntegers(true);
  for (const row of stmt.iterate() as Iterable<Record<string, unknown>>) {
    try {
      dec.decode(row.__b as Buffer);
    } catch {
      rows++;
      sampleKey ??= keyOf(t, row);
    }
  }
  return { rows, sampleKey };
}

/** Text values PostgreSQL's jsonb would refuse: SQLite's json_valid filters, JSON.parse decides. */
function invalidJson(db: SqliteDb, t: SourceTable, c: ColumnMapping): { rows: number; sampleKey?: Record<string, unknown> } {
  const C = qi(c.column);
  const keySel = keyColumns(t).map(qi).join(", ");
  let rows = 0;
  let sampleKey: Record<string, unknown> | undefined;
  const stmt = db.prepare(`SELECT ${keySel}, ${C} AS __v FROM ${qi(t.name)} WHERE typeof(${C}) = 'text' AND (NOT json_valid(${C}) OR instr(${C}, '\\u0000') > 0)`).safeIntegers(true);
  for (const row of stmt.iterate() as Iterable<Record<string, unknown>>) {
    const v = row.__v as string;
    let ok = true;
    try {
      JSON.parse(v);
      // jsonb refuses the NUL escape (\u0000) that JSON itself allows.
      if (/(^|[^\\])(\\\\)*\\u0000/.test(v)) ok = false;
    } catch {
      ok = false;
    }
    if (!ok) {
      rows++;
      sampleKey ??= keyOf(t, row);
    }
  }
  return { rows, sampleKey };
}

/**
 * Decisions are a full pass over the data; a process asks for the same file's several times (the
 * Pulumi program's fingerprint and index list, the schema step's check and its DDL), so they are
 * kept per file state: path, size and mtime of the file and of its -wal.
 */
const cache = new Map<string, Decisions>();

function stateKey(sourcePath: string, opts: DecisionOptions): string {
  const st = (p: string): string => {
    try {
      const s = fs.statSync(p);
      return `${s.size}:${s.mtimeMs}:${s.ino}`;
    } catch {
      return "-";
    }
  };
  const { castOverrides, timestamptz, textCollation, strictTypes, epochs } = opts;
  return JSON.stringify([fs.realpathSync(sourcePath), st(sourcePath), st(`${sourcePath}-wal`), castOverrides ?? {}, !!timestamptz, textCollation ?? "C", !!strictTypes, epochs ?? {}]);
}

/**
 * The mapping options with the data's decisions added (`decided`), for one open source. Throws the
 * first refusal (TYPE_MISMATCH, naming table, column and a key), unless `collect` is set (plan
 * lists them instead).
 */
export function withDecisions<T extends DecisionOptions>(db: SqliteDb, sourcePath: string | null, schema: SourceSchema, opts: T, collect = false): T & { decided: Decisions["decided"]; decisions: TypeDecision[]; refusals: MigrationError[] } {
  const key = sourcePath ? stateKey(sourcePath, opts) : null;
  let d = key ? cache.get(key) : undefined;
  if (!d) {
    d = decideTypes(db, schema, opts, sourcePath);
    if (key) {
      if (cache.size > 16) cache.clear();
      cache.set(key, d);
    }
  }
  if (!collect && d.refusals.length > 0) {
    const [first, ...rest] = d.refusals;
    const more = rest.length > 0 ? ` ${rest.length} more column(s) are refused too: ${rest.map((e) => `${String(e.meta.table)}.${String(e.meta.column)}`).join(", ")} (armp-migrate plan lists them all).` : "";
    throw new MigrationError(first.code, first.message + more, { ...first.meta, ...(rest.length > 0 ? { alsoRefused: rest.map((e) => ({ table: e.meta.table, column: e.meta.column })) } : {}) });
  }
  return { ...opts, decided: d.decided, decisions: d.decisions, refusals: d.refusals };
}

/** Decision lines as the run report and `plan` print them. */
export function decisionLines(decisions: readonly TypeDecision[]): string[] {
  return decisions.map((d) => `${d.table}.${d.column}: ${d.from === d.to ? d.from : `${d.from} -> ${d.to}`}: ${d.reason}${d.sampleKey ? ` (e.g. key ${JSON.stringify(d.sampleKey)})` : ""}`);
}
