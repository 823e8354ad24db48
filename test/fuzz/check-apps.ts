/**
 * The fidelity checks of the app categories (gen-apps.ts), computed from the SQLite file itself and
 * from PostgreSQL's catalog, never from the engine's code: virtual tables skipped with exactly
 * the shadow tables SQLite lists, app collations mapped (ICU case-insensitive for the case-folding
 * ones, the default plus a report line for the rest) or refused before DDL when case-folded keys
 * collide, generated columns present and GENERATED where no report line says otherwise, views
 * with the SQLite view's rows (count and an ordered digest), Core Data instants equal to
 * 2001-01-01 + the stored seconds, and the source directory byte for byte as it was.
 * Each check returns a problem (a sentence) or null; check.ts turns a problem into a failure.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import Database from "better-sqlite3";
import type { Client } from "pg";
import { CASE_FOLDING, GENERATED_VOCAB, type AppsBuilt } from "./gen-apps";
import { quoteIdent } from "./model";

/** File name -> sha256 of every file in the directory. */
export function snapshotDir(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of fs.readdirSync(dir).sort()) m.set(f, createHash("sha256").update(fs.readFileSync(path.join(dir, f))).digest("hex"));
  return m;
}

export function compareDir(before: Map<string, string>, after: Map<string, string>): string | null {
  const added = [...after.keys()].filter((f) => !before.has(f));
  const removed = [...before.keys()].filter((f) => !after.has(f));
  const changed = [...before.keys()].filter((f) => after.has(f) && after.get(f) !== before.get(f));
  if (!added.length && !removed.length && !changed.length) return null;
  return `the source directory changed: ${[added.length ? `added ${added.join(", ")}` : "", removed.length ? `removed ${removed.join(", ")}` : "", changed.length ? `bytes changed in ${changed.join(", ")}` : ""].filter(Boolean).join("; ")} (before: ${[...before.keys()].join(", ")})`;
}

/** ICU comparison at secondary strength (case ignored, accents kept), as und-u-ks-level2 compares. */
const LEVEL2 = new Intl.Collator("und", { sensitivity: "accent" });

function readColumn(file: string, table: string, column: string): (string | null)[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT ${quoteIdent(column)} FROM ${quoteIdent(table)}`).pluck().all() as (string | null)[];
  } finally {
    db.close();
  }
}

/**
 * The collision a case-insensitive key would meet in PostgreSQL (two distinct values SQLite keeps
 * apart that ICU level 2 equates), or null. Read from the file before the run.
 */
export function expectedCollationConflict(built: BuiltLike, file: string): string | null {
  const cs = built.apps?.collations;
  if (!cs) return null;
  for (const c of cs.cols) {
    if (!c.key || !CASE_FOLDING.has(c.coll.toLowerCase())) continue;
    const vals = readColumn(file, cs.table, c.name).filter((v): v is string => v !== null);
    for (let i = 0; i < vals.length; i++)
      for (let j = i + 1; j < vals.length; j++) if (vals[i] !== vals[j] && LEVEL2.compare(vals[i], vals[j]) === 0) return `${cs.table}.${c.name}: ${JSON.stringify(vals[i])} and ${JSON.stringify(vals[j])} are one key under COLLATE ${c.coll} in PostgreSQL`;
  }
  return null;
}

interface BuiltLike {
  apps?: AppsBuilt;
}

export interface RunJson {
  skipped?: { name: string; type: string; module?: string; shadowTables?: string[]; reason: string }[];
  views?: { name: string; status: string; reason?: string }[];
  warnings?: string[];
}

/** A refusal: COLLATION_KEY_CONFLICT exactly when a collision was expected (other codes may come first). */
export function checkAppsRefused(built: BuiltLike, code: string, table: string | undefined, conflict: string | null): string | null {
  if (code === "COLLATION_KEY_CONFLICT") {
    if (!conflict) return `refused with COLLATION_KEY_CONFLICT (table ${table}) but no two key values of a case-insensitive column are equal under ICU level 2`;
    if (table !== built.apps?.collations?.table) return `COLLATION_KEY_CONFLICT names table ${table}, expected ${built.apps?.collations?.table} (${conflict})`;
  }
  return null;
}

function sqliteCanon(v: unknown): string | null {
  if (v === null) return null;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Object.is(v, -0) ? "0" : String(v);
  if (Buffer.isBuffer(v)) return "x" + v.toString("hex");
  return String(v);
}

const NUMERIC_OIDS = new Set([20, 21, 23, 700, 701, 1700]);

function pgCanon(v: string | null, oid: number): string | null {
  if (v === null) return null;
  if (oid === 17) return "x" + v.replace(/^\\x/, "");
  if (!NUMERIC_OIDS.has(oid)) return v;
  if (/^-?\d+$/.test(v)) return BigInt(v).toString();
  const n = Number(v);
  return Object.is(n, -0) ? "0" : String(n);
}

function digest(rows: (string | null)[][], unordered: number[]): { n: number; digest: string } {
  const lines = rows.map((r) => JSON.stringify(r.map((v, i) => (v !== null && unordered.includes(i) ? v.split(",").sort().join(",") : v)))).sort();
  return { n: rows.length, digest: createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 16) };
}

async function pgColumns(c: Client, table: string): Promise<Map<string, { type: string; generated: string; collation: string | null }>> {
  const r = await c.query<{ attname: string; type: string; attgenerated: string; collname: string | null }>(
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated, co.collname FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped",
    [quoteIdent(table)],
  );
  return new Map(r.rows.map((x) => [x.attname, { type: x.type, generated: x.attgenerated, collation: x.collname }]));
}

const CORE_DATA_ORIGIN_US = 978_307_200_000_000n;

/** Checks after exit 0. */
export async function checkAppsMigrated(c: Client, built: BuiltLike, file: string, report: RunJson, conflict: string | null): Promise<string | null> {
  const apps = built.apps;
  if (!apps) return null;
  if (conflict) return `the run exited 0 although ${conflict} (a UNIQUE/PRIMARY KEY there rejects one of them, or the key is not case-insensitive)`;
  const warnings = report.warnings ?? [];
  const src = new Database(file, { readonly: true, fileMustExist: true });
  try {
    // 1. Virtual tables: skipped with exactly the shadow tables SQLite lists, none of them in the target.
    if (apps.virtual.length) {
      const list = src.prepare("PRAGMA table_list").all() as { name: string; type: string }[];
      const rels = (await c.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r','p','v','m','f')")).rows.map((r) => r.relname.toLowerCase());
      for (const v of apps.virtual) {
        // An FTS table with content= keeps no <name>_content: a table of that name is the app's (copied),
        // although PRAGMA table_list calls it shadow by its name alone.
        const shadows = list.filter((x) => x.type === "shadow" && x.name.toLowerCase().startsWith(v.name.toLowerCase() + "_") && x.name !== v.externalContent).map((x) => x.name).sort();
        if (!shadows.length) return `virtual table ${v.name} (${v.module}): SQLite lists no shadow tables (generator bug)`;
        const s = (report.skipped ?? []).find((x) => x.name === v.name);
        if (!s) return `virtual table ${v.name} (${v.module}) is not in the report's skipped list`;
        if (s.module !== v.module) return `virtual table ${v.name}: skipped with module ${s.module}, expected ${v.module}`;
        if (JSON.stringify([...(s.shadowTables ?? [])].sort()) !== JSON.stringify(shadows)) return `virtual table ${v.name}: skipped with shadow tables ${JSON.stringify(s.shadowTables)}, SQLite lists ${JSON.stringify(shadows)}`;
        if (!s.reason.includes(`(${v.rows} row(s))`)) return `virtual table ${v.name}: the skip line does not say its ${v.rows} row(s): ${s.reason}`;
        const leaked = [v.name, ...shadows].filter((n) => rels.includes(n.toLowerCase()));
        if (leaked.length) return `virtual table ${v.name}: the target has ${leaked.join(", ")}`;
        for (const sh of shadows) if ((report.skipped ?? []).some((x) => x.name === sh)) return `shadow table ${sh} has a skip line of its own (expected one line with ${v.name})`;
      }
    }
    // 2. App collations: the target collation of each column and a report line for it.
    if (apps.collations) {
      const cols = await pgColumns(c, apps.collations.table);
      for (const col of apps.collations.cols) {
        const pc = cols.get(col.name);
        if (!pc) return `${apps.collations.table}.${col.name} (COLLATE ${col.coll}) is missing from the target`;
        const folds = CASE_FOLDING.has(col.coll.toLowerCase());
        const want = folds ? "armp_case_insensitive" : "default";
        if (pc.collation !== want) return `${apps.collations.table}.${col.name} (COLLATE ${col.coll}): target collation ${pc.collation}, expected ${want}`;
        const line = warnings.find((w) => w.startsWith(`${apps.collations!.table}.${col.name}: `) && w.toLowerCase().includes(`collate ${col.coll.toLowerCase()}`));
        if (!line) return `${apps.collations.table}.${col.name} (COLLATE ${col.coll}): no report line names the collation`;
      }
    }
    // 3. Generated columns: present (values compared with the table), GENERATED unless a report line says copied.
    if (apps.generated) {
      const cols = await pgColumns(c, apps.generated.table);
      for (const g of apps.generated.cols) {
        const pc = cols.get(g.name);
        if (!pc) return `generated column ${apps.generated.table}.${g.name} (${GENERATED_VOCAB[g.kind].expr}) is missing from the target`;
        const plain = warnings.some((w) => w.startsWith(`${apps.generated!.table}.${g.name}: generated column`));
        if (plain && pc.generated !== "") return `${apps.generated.table}.${g.name}: reported as a plain column but the target column is GENERATED (${pc.generated})`;
        if (!plain && pc.generated !== "s") return `${apps.generated.table}.${g.name} (${GENERATED_VOCAB[g.kind].expr}): no report line, yet the target column is not GENERATED ALWAYS ... STORED`;
        if (g.kind === "untranslatable" && !plain) return `${apps.generated.table}.${g.name}: printf() has no PostgreSQL equivalent, expected a plain column with a report line`;
      }
    }
    // 5. Views over mixed-case tables: created, verified, and equal to SQLite's rows by our own digest.
    for (const v of apps.views) {
      const r = (report.views ?? []).find((x) => x.name === v.name);
      if (!r) return `view ${v.name} is not in the report`;
      if (r.status !== "verified") return `view ${v.name}: ${r.status}${r.reason ? ` (${r.reason})` : ""} (report: ${JSON.stringify(r)})`;
      const st = src.prepare(`SELECT * FROM ${quoteIdent(v.name)}`);
      st.safeIntegers(true);
      const srows = (st.raw(true).all() as unknown[][]).map((row) => row.map(sqliteCanon));
      const res = await c.query({ text: `SELECT * FROM ${quoteIdent(v.name)}`, rowMode: "array", types: { getTypeParser: () => (x: string) => x } });
      const prows = (res.rows as (string | null)[][]).map((row) => row.map((x, i) => pgCanon(x, res.fields[i].dataTypeID)));
      const a = digest(srows, v.unordered);
      const b = digest(prows, v.unordered);
      if (a.n !== b.n || a.digest !== b.digest) return `view ${v.name}: SQLite ${a.n} rows (digest ${a.digest}), PostgreSQL ${b.n} rows (digest ${b.digest}); SQLite ${JSON.stringify(srows.slice(0, 3))}, PostgreSQL ${JSON.stringify(prows.slice(0, 3))}`;
    }
    // 6. Core Data: instants equal 2001-01-01 + the stored seconds; without Z_METADATA the numbers stay numbers.
    if (apps.coreData) {
      for (const t of apps.coreData.tables) {
        const cols = await pgColumns(c, t.name);
        if (!cols.size) return `table ${t.name} is missing from the target`;
        if (!apps.coreData.withMetadata) {
          for (const tc of t.tsCols) {
            const nonNull = src.prepare(`SELECT count(${quoteIdent(tc)}) FROM ${quoteIdent(t.name)}`).pluck().get() as number;
            const type = cols.get(tc)?.type;
            if (nonNull > 0 && type !== "double precision" && type !== "bigint") return `${t.name}.${tc}: TIMESTAMP holding only numbers in a file that is no Core Data store became ${type}; the README says they stay numbers (bigint / double precision)`;
          }
          continue;
        }
        for (const tc of t.tsCols) if (cols.get(tc)?.type !== "timestamp without time zone") return `${t.name}.${tc}: Core Data TIMESTAMP became ${cols.get(tc)?.type}, expected timestamp without time zone`;
        const st = src.prepare(`SELECT Z_PK, Z_ENT, Z_OPT, ZTITLE, ${t.tsCols.join(", ")} FROM ${quoteIdent(t.name)} ORDER BY Z_PK`);
        const srows = (st.raw(true).all() as unknown[][]).map((r) => [
          String(r[0]),
          String(r[1]),
          String(r[2]),
          r[3] as string | null,
          ...r.slice(4).map((x) => (x === null ? null : (BigInt(Math.round((x as number) * 1e6)) + CORE_DATA_ORIGIN_US).toString())),
        ]);
        const q = `SELECT "Z_PK"::text, "Z_ENT"::text, "Z_OPT"::text, "ZTITLE", ${t.tsCols.map((tc) => `(extract(epoch FROM ${quoteIdent(tc)}) * 1000000)::numeric(30,0)::text`).join(", ")} FROM ${quoteIdent(t.name)} ORDER BY "Z_PK"`;
        const prows = (await c.query({ text: q, rowMode: "array" })).rows as (string | null)[][];
        if (JSON.stringify(srows) !== JSON.stringify(prows)) return `Core Data table ${t.name}: expected (µs since 1970 = 2001-01-01 + seconds) ${JSON.stringify(srows.slice(0, 3))}, target ${JSON.stringify(prows.slice(0, 3))}`;
      }
    }
  } finally {
    src.close();
  }
  return null;
}
