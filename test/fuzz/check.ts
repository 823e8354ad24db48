/**
 * One fidelity case: write the database, hash it, run the real CLI (`node bin/armp-migrate.js run
 * --json`) into a fresh PostgreSQL database, then either compare every table value by value
 * (exit 0) or check the refusal (exit 3: a coded, non-INTERNAL error naming the table, and an
 * empty target). The source file's sha256 must not change either way.
 */
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Database from "better-sqlite3";
import { Client } from "pg";
import { actualCanon, expectedCanon, UNREPRESENTABLE, type Canon, type SqliteCell } from "./expected";
import { quoteIdent, writeDb, type BuiltDb, type DbSpec } from "./model";
import { checkAppsMigrated, checkAppsRefused, compareDir, expectedCollationConflict, snapshotDir, type RunJson } from "./check-apps";
import { withClient } from "../support/db";

export const REPO = path.resolve(__dirname, "../..");
const BIN = path.join(REPO, "bin", "armp-migrate.js");

export interface CheckOptions {
  /** superuser URL of the cluster's maintenance database (postgres) */
  adminUrl: string;
  /** An exit 3 must come before any DDL (meta.targetRestored absent), not from a rollback after it. */
  requirePreDdl: boolean;
}

export type Outcome = { kind: "migrated"; tables: number; rows: number } | { kind: "refused"; code: string; preDdl: boolean; message: string };

/** A property failure: carries the repro SQL and what the CLI printed. */
export class FidelityError extends Error {}

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function runCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

let dbCounter = 0;

function dbUrl(adminUrl: string, name: string): string {
  const u = new URL(adminUrl);
  u.pathname = "/" + name;
  return u.toString();
}

/** PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1) without splitting a character. */
export function pgTruncate(name: string): string {
  let out = "";
  let bytes = 0;
  for (const ch of name) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > 63) break;
    out += ch;
    bytes += n;
  }
  return out;
}

function describe(v: SqliteCell): string {
  if (v === null) return "NULL";
  if (typeof v === "bigint") return `integer ${v}`;
  if (typeof v === "number") return `real ${Object.is(v, -0) ? "-0" : String(v)}`;
  if (typeof v === "string") return `text ${JSON.stringify(v.length > 60 ? v.slice(0, 60) + "..." : v)}`;
  return `blob X'${v.toString("hex")}'`;
}

function fail(built: BuiltDb, what: string, cli?: { code: number | null; out: string; err: string }): never {
  const out = cli ? `\n--- exit ${cli.code}\n--- stdout (first 3000 chars)\n${cli.out.slice(0, 3000)}\n--- stderr\n${cli.err.slice(0, 3000)}` : "";
  throw new FidelityError(`${what}\n--- repro (${built.statements.length} statements)\n${built.statements.join("\n")}${out}`);
}

interface PgCol {
  name: string;
  type: string;
}

async function targetRelations(c: Client): Promise<string[]> {
  const r = await c.query<{ relname: string; relkind: string }>("SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r','p','v','m','f') ORDER BY relname");
  return r.rows.map((x) => `${x.relname} (${x.relkind})`);
}

/** Compares one table: row count, then the multiset of canonical rows, then names the first column that differs. */
async function compareTable(c: Client, built: BuiltDb, file: string, t: BuiltDb["tables"][number], cli: { code: number | null; out: string; err: string }): Promise<number> {
  // A name PostgreSQL cannot take is renamed by the engine and listed in the run's name map
  // (names.ts); the check follows the map the run reported, and otherwise looks the name up itself.
  let mapped: string | undefined;
  try {
    const names = (JSON.parse(cli.out) as { names?: { kind: string; source: string; target: string }[] }).names ?? [];
    mapped = names.find((n) => n.kind === "table" && n.source === t.name)?.target;
  } catch {
    mapped = undefined;
  }
  const pgName = mapped ?? (await findPgTable(c, t.name));
  if (!pgName) fail(built, `table ${JSON.stringify(t.name)} is missing from the target`, cli);
  const cols = await c.query<{ attname: string; type: string }>(
    "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    [quoteIdent(pgName)],
  );
  const pgCols: PgCol[] = cols.rows.map((r) => ({ name: r.attname, type: r.type }));
  if (pgCols.length !== t.cols.length) fail(built, `table ${t.name}: source has ${t.cols.length} columns, target ${pgCols.length} (${pgCols.map((x) => x.name).join(", ")})`, cli);
  const src = new Database(file, { readonly: true, fileMustExist: true });
  let srcRows: SqliteCell[][];
  try {
    const st = src.prepare(`SELECT ${t.cols.map((x) => quoteIdent(x.name)).join(", ")} FROM ${quoteIdent(t.name)}`);
    st.safeIntegers(true);
    srcRows = st.raw(true).all() as SqliteCell[][];
  } finally {
    src.close();
  }
  const sel = pgCols.map((pc) => (pc.type === "bytea" ? `encode(${quoteIdent(pc.name)}, 'hex')` : `${quoteIdent(pc.name)}::text`)).join(", ");
  const pgRows = (await c.query({ text: `SELECT ${sel} FROM ${quoteIdent(pgName)}`, rowMode: "array" })).rows as (string | null)[][];
  if (pgRows.length !== srcRows.length) fail(built, `table ${t.name}: ${srcRows.length} rows in SQLite, ${pgRows.length} in PostgreSQL`, cli);
  const expected: Canon[][] = srcRows.map((r) => r.map((v, i) => expectedCanon(v, pgCols[i].type)));
  expected.forEach((r, ri) =>
    r.forEach((v, ci) => {
      if (v === UNREPRESENTABLE) fail(built, `table ${t.name} column ${t.cols[ci].name}: the run exited 0 but SQLite's ${describe(srcRows[ri][ci])} has no equal ${pgCols[ci].type} value`, cli);
    }),
  );
  const actual = pgRows.map((r) => r.map((v, i) => actualCanon(v, pgCols[i].type)));
  const key = (r: Canon[]): string => JSON.stringify(r);
  const e = expected.map(key).sort();
  const a = actual.map(key).sort();
  if (e.join("\n") !== a.join("\n")) {
    for (let ci = 0; ci < pgCols.length; ci++) {
      const ec = expected.map((r) => JSON.stringify(r[ci])).sort();
      const ac = actual.map((r) => JSON.stringify(r[ci])).sort();
      const missing = ec.filter((x) => !ac.includes(x));
      const extra = ac.filter((x) => !ec.includes(x));
      if (missing.length || extra.length || ec.join() !== ac.join()) {
        const srcIdx = expected.findIndex((r) => missing.includes(JSON.stringify(r[ci])));
        fail(built, `table ${t.name} column ${t.cols[ci].name} (${pgCols[ci].type}): values differ; expected (canonical) ${missing.slice(0, 3).join(" ")} not in target${srcIdx >= 0 ? ` (SQLite ${describe(srcRows[srcIdx][ci])})` : ""}; target has ${extra.slice(0, 3).join(" ")}`, cli);
      }
    }
    fail(built, `table ${t.name}: every column matches as a multiset but the rows are paired differently`, cli);
  }
  return srcRows.length;
}

async function findPgTable(c: Client, name: string): Promise<string | null> {
  for (const n of [name, pgTruncate(name)]) {
    const r = await c.query("SELECT 1 FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = $1 AND relkind IN ('r','p')", [n]);
    if (r.rowCount) return n;
  }
  return null;
}

export async function checkCase(spec: DbSpec, opts: CheckOptions): Promise<Outcome> {
  return checkBuilt((file) => writeDb(spec, file), opts);
}

/** The same check for a hand-written SQL script (regression cases): every table and view it creates. */
export async function checkSql(sql: string, opts: CheckOptions): Promise<Outcome> {
  return checkBuilt((file) => {
    const db = new Database(file);
    try {
      db.exec(sql);
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid").pluck().all() as string[]).map((name) => ({
        name,
        cols: (db.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(name) as { name: string; type: string }[]).map((c) => ({ name: c.name, type: c.type, notNull: false, unique: false })),
        rows: [],
      }));
      const views = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'view'").pluck().all() as string[]).map((name) => ({ name, table: "" }));
      return { tables, views, statements: [sql] };
    } finally {
      db.close();
    }
  }, opts);
}

async function checkBuilt(build: (file: string) => BuiltDb, opts: CheckOptions): Promise<Outcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-fuzz-"));
  const file = path.join(dir, "source.sqlite");
  const dbName = `fuzz_${process.pid}_${dbCounter++}`;
  try {
    const built = build(file);
    const before = sha256(file);
    // Every file beside the source (a WAL-mode source may have its -wal), by name and bytes.
    const dirBefore = snapshotDir(dir);
    await withClient(opts.adminUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
    try {
      const url = dbUrl(opts.adminUrl, dbName);
      const cli = await runCli(["run", "--source", file, "--target", url, "--json"]);
      if (sha256(file) !== before) fail(built, "the source file changed (sha256)", cli);
      const dirChange = compareDir(dirBefore, snapshotDir(dir));
      if (dirChange) fail(built, dirChange, cli);
      // Read from the file after the listing check (a reader of a WAL file leaves -wal/-shm behind).
      const conflict = expectedCollationConflict(built, file);
      return await withClient(url, async (c) => {
        await c.query("SET DateStyle = ISO; SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET IntervalStyle = postgres");
        if (cli.code === 0) {
          let report: { ok?: boolean; views?: { name: string; status: string }[] };
          try {
            report = JSON.parse(cli.out) as typeof report;
          } catch {
            return fail(built, "exit 0 but stdout is not the JSON report", cli);
          }
          if (report.ok !== true) fail(built, "exit 0 but the report says ok: false", cli);
          let rows = 0;
          for (const t of built.tables) rows += await compareTable(c, built, file, t, cli);
          for (const v of report.views ?? []) {
            if (v.status !== "created") continue;
            const sv = built.views.find((x) => x.name === v.name);
            if (!sv) fail(built, `the report lists view ${v.name} that the source does not have`, cli);
            const src = new Database(file, { readonly: true });
            const n = (src.prepare(`SELECT count(*) AS n FROM ${quoteIdent(sv.name)}`).get() as { n: number }).n;
            src.close();
            const pgName = pgTruncate(sv.name);
            const m = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(pgName)}`);
            if (Number(m.rows[0].n) !== n) fail(built, `view ${sv.name}: ${n} rows in SQLite, ${m.rows[0].n} in PostgreSQL`, cli);
          }
          const appProblem = await checkAppsMigrated(c, built, file, report as RunJson, conflict);
          if (appProblem) fail(built, appProblem, cli);
          return { kind: "migrated", tables: built.tables.length, rows };
        }
        if (cli.code === 3) {
          let err: { code?: string; message?: string; meta?: { table?: string; column?: string; targetRestored?: boolean } };
          try {
            err = (JSON.parse(cli.out) as { error: typeof err }).error;
          } catch {
            return fail(built, "exit 3 without a JSON error on stdout (not a MigrationError)", cli);
          }
          if (!err?.code) fail(built, "exit 3 but the JSON has no error code", cli);
          if (err.code === "INTERNAL") fail(built, `exit 3 with an INTERNAL error (a bug): ${err.message}`, cli);
          const tableNames = built.tables.map((t) => t.name);
          if (!err.meta?.table || !tableNames.includes(err.meta.table)) fail(built, `error ${err.code} does not name a source table in meta.table (got ${JSON.stringify(err.meta?.table)})`, cli);
          const tbl = built.tables.find((t) => t.name === err.meta!.table)!;
          if ((err.code === "TYPE_MISMATCH" || err.code === "ROW_REJECTED") && (!err.meta.column || !tbl.cols.some((x) => x.name === err.meta!.column))) fail(built, `error ${err.code} does not name a column of ${tbl.name} in meta.column (got ${JSON.stringify(err.meta.column)})`, cli);
          const rels = await targetRelations(c);
          if (rels.length) fail(built, `exit 3 (${err.code}) but the target still has ${rels.join(", ")}`, cli);
          const appRefusal = checkAppsRefused(built, err.code, err.meta.table, conflict);
          if (appRefusal) fail(built, appRefusal, cli);
          const preDdl = err.meta.targetRestored !== true;
          if (opts.requirePreDdl && !preDdl) fail(built, `error ${err.code} was raised after DDL (meta.targetRestored), not before it: ${err.message}`, cli);
          return { kind: "refused", code: err.code, preDdl, message: err.message ?? "" };
        }
        return fail(built, `unexpected exit code ${cli.code}`, cli);
      });
    } finally {
      await withClient(opts.adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
