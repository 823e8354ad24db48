/**
 * npm run bench:copy -- --scale 10 — issue 2 "Performance": in ONE run, on one throwaway
 * PostgreSQL cluster and one generated ARMP SQLite file, time side by side
 *   1. the ceiling: raw `psql \copy` of CSV exports into constraint-free tables,
 *   2. pgloader (Debian package) sqlite:// -> postgresql://,
 *   3. `armp-migrate run --jobs N --json` (schema, copy, constraints, indexes, verification),
 * each into its own fresh database, and print ratios to the ceiling and peak RSS. Ratios, not
 * absolute numbers, are the result: the machine is shared. Nothing here asserts a time.
 * The source file's sha256 is printed before and after every tool (all must leave it untouched).
 *
 * Options: --scale <n> (default 1; 1 ~ 375k rows), --seed <n> (42), --jobs <n> (2, used for
 * armp-migrate AND the ceiling's table parallelism), --profile (adds armp-migrate --jobs 1), --js (adds
 * armp-migrate with ARMP_MIGRATE_NATIVE=0: every row converted in JavaScript, for the side-by-side ratio),
 * --pairs <n> (then n more ceiling/armp-migrate pairs, alternating, with each pair's ratio and the
 * median), --json-out <file>, --keep (leave the temp dir and print its path).
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { parseArgs } from "util";
import { createTables } from "../migrate/engine";
import type { RunReport } from "../migrate/engine";
import { generateArmp } from "./armp-data";
import { exportCeilingCsv, type CsvExport } from "./support/ceiling-csv";
import { startCluster, stopCluster, type ClusterInfo } from "./support/pg-cluster";
import { inParallel, requireBinary, runTimed, GNU_TIME, type TimedResult } from "./support/timed-process";

const PSQL = process.env.ARMP_PSQL_BIN ?? "/usr/bin/psql";
const PGLOADER = process.env.ARMP_PGLOADER_BIN ?? "/usr/bin/pgloader";
const REPO = path.resolve(__dirname, "..", "..");
const CLI = path.join(REPO, "bin", "armp-migrate.js");
const RSS_TARGET_MB = 300;
const RATIO_TARGET = 2;

interface ToolResult {
  tool: string;
  seconds: number;
  peakRssMB: number;
  rows: number;
  ok: boolean;
  note: string;
}

function sha256(file: string): string {
  const h = createHash("sha256");
  const fd = fs.openSync(file, "r");
  const buf = Buffer.allocUnsafe(4 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/** URLs handed to child processes carry no password (it travels in PGPASSWORD), so `ps` and our logs never show it. */
function dbUrl(c: ClusterInfo, db: string, withPassword: boolean): string {
  return `postgres://${c.superuser}${withPassword ? ":" + encodeURIComponent(c.password) : ""}@127.0.0.1:${c.port}/${db}`;
}

async function withDb<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Rows each tool actually left in its database, per source table (a tool may skip or reject rows). */
async function countRows(url: string, tables: string[]): Promise<{ total: number; missing: string[] }> {
  return withDb(url, async (c) => {
    let total = 0;
    const missing: string[] = [];
    for (const t of tables) {
      try {
        const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM public."${t.replace(/"/g, '""')}"`);
        total += Number(r.rows[0].n);
      } catch {
        missing.push(t);
      }
    }
    return { total, missing };
  });
}

function tail(file: string, lines: number): string {
  return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** pgloader dies without an ERROR line when SBCL runs out of heap; its last words say so. */
function lastLines(text: string, n: number): string {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).slice(-n).join(" | ").slice(0, 400);
}

function fmtTable(rows: (string | number)[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (typeof c === "number" ? String(c).padStart(w[i]) : String(c).padEnd(w[i]))).join("  ").trimEnd()).join("\n");
}

const mb = (kib: number): number => Math.round((kib / 1024) * 10) / 10;
const s2 = (x: number): string => x.toFixed(2);

async function main(): Promise<number> {
  const { values: o } = parseArgs({
    options: {
      scale: { type: "string", default: "1" },
      seed: { type: "string", default: "42" },
      jobs: { type: "string", default: "2" },
      profile: { type: "boolean", default: false },
      js: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      pairs: { type: "string", default: "0" },
      "json-out": { type: "string" },
    },
  });
  const scale = Number(o.scale);
  const seed = Number(o.seed);
  const jobs = Number(o.jobs);
  const pairs = Number(o.pairs);
  if (!(scale > 0) || !Number.isInteger(seed) || !Number.isInteger(jobs) || jobs < 1 || !Number.isInteger(pairs) || pairs < 0) {
    process.stderr.write("usage: bench:copy [--scale <n> (>0)] [--seed <int>] [--jobs <n> (>=1)] [--profile] [--js] [--pairs <n> (>=0)] [--keep] [--json-out <file>]\n");
    return 2;
  }
  requireBinary(PSQL, "install it with `apt-get install -y postgresql-client` or set ARMP_PSQL_BIN");
  requireBinary(PGLOADER, "install it with `apt-get install -y pgloader` or set ARMP_PGLOADER_BIN");
  requireBinary(GNU_TIME, "install GNU time with `apt-get install -y time` or set ARMP_GNU_TIME");
  requireBinary(path.join(REPO, "dist", "migrate", "cli.js"), "run `npm run build` first");

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "armp-bench-copy-"));
  const log = (m: string): void => void process.stdout.write(m + "\n");
  let cluster: ClusterInfo | undefined;
  try {
    cluster = await startCluster();
    const c = cluster;
    const env = { PGPASSWORD: c.password, PGSSLMODE: "disable" };
    // Untimed, before every tool: each starts with clean shared buffers and a fresh checkpoint
    // cycle, instead of paying for the writes of the tools before it (a checkpoint used to fall
    // inside whichever tool ran when checkpoint_timeout expired).
    const checkpoint = async (): Promise<void> => {
      const r = await runTimed(PSQL, ["-X", "-q", "-d", dbUrl(c, "postgres", false), "-c", "CHECKPOINT"], { env, outPrefix: path.join(work, "checkpoint") });
      if (r.exitCode !== 0) throw new Error(`CHECKPOINT failed (exit ${r.exitCode})`);
    };
    const dropDb = (db: string): Promise<void> => withDb(c.adminUrl, async (a) => void (await a.query(`DROP DATABASE ${db}`)));
    const pairDbs = Array.from({ length: pairs }, (_, k) => `armp_p${k + 1}`);
    // No autovacuum: the loads of one tool (the ceiling's 3.7 M unfrozen rows especially) would be
    // vacuumed and analyzed while the next tool runs, inside its timing. With --pairs, armp-migrate
    // runs after a ceiling load each time and measured 2.15x, 2.33x, 2.29x, 2.41x with autovacuum on.
    await withDb(c.adminUrl, async (a) => {
      await a.query("ALTER SYSTEM SET autovacuum = off");
      await a.query("SELECT pg_reload_conf()");
    });
    const dbs = ["ceiling", "pgloader", "pgloader_cast", "pgloader_text", "pgloader_batch", "armp", ...(o.profile ? ["armp_j1"] : []), ...(o.js ? ["armp_js"] : []), ...pairDbs];
    await withDb(c.adminUrl, async (a) => {
      for (const d of dbs) await a.query(`CREATE DATABASE ${d}`);
    });
    log(`bench:copy scale=${scale} seed=${seed} jobs=${jobs} cluster=PostgreSQL 15 on 127.0.0.1:${c.port} (fsync off, autovacuum off) cores=${os.cpus().length}`);

    // 1. Source (not part of any ratio).
    const source = path.join(work, "armp.sqlite");
    let t0 = process.hrtime.bigint();
    const gen = generateArmp(source, { scale, seed });
    const genSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const sourceRows = Object.values(gen.rows).reduce((a, b) => a + b, 0);
    const tables = Object.keys(gen.rows);
    const sizeMB = fs.statSync(source).size / 2 ** 20;
    const shas: { when: string; sha256: string }[] = [{ when: "after generation", sha256: sha256(source) }];
    log(`source: ${source} ${sizeMB.toFixed(1)} MB, ${sourceRows} rows in ${tables.length} tables, generated in ${s2(genSeconds)} s (not timed in ratios)`);
    log(`source sha256 ${shas[0].sha256}`);
    const checkSha = (when: string): void => {
      const h = sha256(source);
      shas.push({ when, sha256: h });
      log(`source sha256 after ${when}: ${h} ${h === shas[0].sha256 ? "(unchanged)" : "(CHANGED!)"}`);
    };

    // 2. Ceiling: the engine's DDL (columns, types, NOT NULL, defaults; no PK/UNIQUE/FK/index) + CSV via the engine's encoder.
    const ceilingUrl = dbUrl(c, "ceiling", true);
    await createTables(source, { url: ceilingUrl });
    const csvDir = path.join(work, "csv");
    fs.mkdirSync(csvDir);
    t0 = process.hrtime.bigint();
    const csv: CsvExport[] = await exportCeilingCsv(source, ceilingUrl, csvDir);
    const exportSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    log(`ceiling CSV export (engine's toPgText per value; not timed in ratios): ${s2(exportSeconds)} s, ${(csv.reduce((a, x) => a + x.bytes, 0) / 2 ** 20).toFixed(1)} MB`);
    checkSha("CSV export");
    const bySize = [...csv].sort((a, b) => b.bytes - a.bytes);
    const runCeiling = async (): Promise<{ seconds: number; copies: TimedResult[] }> => {
      await checkpoint();
      const started = process.hrtime.bigint();
      const copies = await inParallel(bySize, jobs, (x) =>
        runTimed(PSQL, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dbUrl(c, "ceiling", false), "-c", `\\copy public."${x.table}" FROM '${x.file}' WITH (FORMAT csv)`], { env, outPrefix: path.join(work, `psql-${x.table}`) }),
      );
      return { seconds: Number(process.hrtime.bigint() - started) / 1e9, copies };
    };
    const { seconds: ceilingSeconds, copies } = await runCeiling();
    const failedCopies = copies.map((r, i) => ({ r, x: bySize[i] })).filter(({ r }) => r.exitCode !== 0);
    const ceilingCount = await countRows(ceilingUrl, tables);
    const results: ToolResult[] = [{
      tool: `psql \\copy CSV (ceiling, ${jobs} at a time)`,
      seconds: ceilingSeconds,
      peakRssMB: mb(Math.max(...copies.map((r) => r.peakRssKiB))),
      rows: ceilingCount.total,
      ok: failedCopies.length === 0,
      note: failedCopies.map(({ r, x }) => `${x.table}: ${tail(r.stderrFile, 3)}`).join("; "),
    }];
    checkSha("psql \\copy");

    // 3. pgloader: its defaults first (what a user tries), then the smallest load-file CAST that gets past
    //    its schema error, then one that keeps every row by loading DATETIME as text (types not faithful),
    //    then that with 10,000-row batches: the default prefetch of 100,000 rows exhausts SBCL's 1 GiB
    //    heap on the publication table, this one finishes.
    const pgloaderRuns = [
      { label: "pgloader 3.6.7 (defaults)", db: "pgloader", cast: "", with: "" },
      { label: "pgloader + CAST datetime drop default", db: "pgloader_cast", cast: "type datetime to timestamptz drop default", with: "" },
      { label: "pgloader + CAST datetime to text", db: "pgloader_text", cast: "type datetime to text drop default", with: "" },
      { label: "pgloader + CAST datetime to text, 10k-row batches", db: "pgloader_batch", cast: "type datetime to text drop default", with: ", batch rows = 10000, prefetch rows = 10000" },
    ];
    for (const v of pgloaderRuns) {
      const into = `postgresql://${c.superuser}@127.0.0.1:${c.port}/${v.db}`;
      let args = [`sqlite://${source}`, into];
      if (v.cast) {
        const loadFile = path.join(work, `${v.db}.load`);
        fs.writeFileSync(loadFile, `LOAD DATABASE\n  FROM sqlite://${source}\n  INTO ${into}\n  WITH include drop, create tables, create indexes, reset sequences${v.with}\n  CAST ${v.cast}\n;\n`);
        args = [loadFile];
      }
      await checkpoint();
      const pgl = await runTimed(PGLOADER, ["--root-dir", path.join(work, `${v.db}-root`), ...args], { env, outPrefix: path.join(work, v.db) });
      const pglCount = await countRows(dbUrl(c, v.db, true), tables);
      const pglOut = fs.readFileSync(pgl.stdoutFile, "utf8") + fs.readFileSync(pgl.stderrFile, "utf8");
      const pglErrors = pglOut.split("\n").filter((l) => /\b(ERROR|FATAL)\b/.test(l)).map((l) => l.replace(/^\S+Z /, "").trim());
      results.push({
        tool: v.label,
        seconds: pgl.seconds,
        peakRssMB: mb(pgl.peakRssKiB),
        rows: pglCount.total,
        ok: pgl.exitCode === 0 && pglCount.total === sourceRows && pglErrors.length === 0,
        note: [`exit ${pgl.exitCode}`, pglErrors.length ? `${pglErrors.length} ERROR line(s), first: ${pglErrors[0].slice(0, 200)}` : pgl.exitCode !== 0 ? `last output: ${lastLines(pglOut, 3)}` : "", pglCount.missing.length ? `missing tables: ${pglCount.missing.join(", ")}` : ""].filter(Boolean).join("; "),
      });
      checkSha(v.label);
      // Counted: drop it, so its files (and the kernel's pending writes of them) are gone before
      // the next tool runs, as the ceiling's are when its tables are truncated.
      await dropDb(v.db);
    }

    // 4. armp-migrate run (includes constraints, indexes and verification), as a user runs it.
    const runArmp = async (db: string, j: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ res: TimedResult; report?: RunReport; count: { total: number; missing: string[] } }> => {
      await checkpoint();
      const res = await runTimed(process.execPath, [CLI, "run", "--source", source, "--target", dbUrl(c, db, false), "--jobs", String(j), "--json"], { env: { ...env, ...extraEnv }, cwd: REPO, outPrefix: path.join(work, db) });
      let report: RunReport | undefined;
      try {
        report = JSON.parse(fs.readFileSync(res.stdoutFile, "utf8")) as RunReport;
      } catch {
        report = undefined;
      }
      const count = await countRows(dbUrl(c, db, true), tables);
      // Counted: dropped, like pgloader's databases, so no tool inherits another's files.
      await dropDb(db);
      return { res, report, count };
    };
    const armpRuns: { jobs: number; label: string; run: Awaited<ReturnType<typeof runArmp>> }[] = [];
    armpRuns.push({ jobs, label: "", run: await runArmp("armp", jobs) });
    checkSha(`armp-migrate --jobs ${jobs}`);
    if (o.profile) {
      armpRuns.push({ jobs: 1, label: "", run: await runArmp("armp_j1", 1) });
      checkSha("armp-migrate --jobs 1");
    }
    if (o.js) {
      armpRuns.push({ jobs, label: ", JavaScript encoder only", run: await runArmp("armp_js", jobs, { ARMP_MIGRATE_NATIVE: "0" }) });
      checkSha(`armp-migrate --jobs ${jobs} (ARMP_MIGRATE_NATIVE=0)`);
    }
    // 4b. --pairs: the ceiling and armp-migrate again, alternating, so the ratio is seen over several
    //     side-by-side pairs (the shared host's speed drifts between minutes, not within one pair).
    const pairResults: { ceiling: number; armp: number; ok: boolean }[] = [];
    for (const db of pairDbs) {
      await withDb(ceilingUrl, async (x) => {
        await x.query(`TRUNCATE ${tables.map((t) => `public."${t}"`).join(", ")}`);
      });
      const ce = await runCeiling();
      const ar = await runArmp(db, jobs);
      pairResults.push({ ceiling: ce.seconds, armp: ar.res.seconds, ok: ce.copies.every((r) => r.exitCode === 0) && ar.res.exitCode === 0 && !!ar.report?.ok && ar.count.total === sourceRows });
      checkSha(`pair ${pairResults.length}`);
    }
    for (const { jobs: j, label, run } of armpRuns) {
      results.push({
        tool: `armp-migrate run --jobs ${j}${label} (incl. verify)`,
        seconds: run.res.seconds,
        peakRssMB: mb(run.res.peakRssKiB),
        rows: run.count.total,
        ok: run.res.exitCode === 0 && !!run.report?.ok,
        note: run.res.exitCode !== 0 ? `exit ${run.res.exitCode}: ${tail(run.res.stderrFile, 3)}` : "",
      });
    }

    // 5. Report.
    const ceiling = results[0].seconds;
    log("");
    log(fmtTable([
      ["tool", "seconds", "x ceiling", "peak RSS MB", "rows", "status"],
      ...results.map((r) => [r.tool, s2(r.seconds), (r.seconds / ceiling).toFixed(2), r.peakRssMB.toFixed(1), r.rows, r.ok ? "ok" : "FAILED (see below)"]),
    ]));
    for (const r of results) if (r.note) log(`${r.ok ? "note" : "FAILED"} ${r.tool}: ${r.note}`);

    for (const { jobs: j, label, run } of armpRuns) {
      const rep = run.report;
      if (!rep || !("copy" in rep)) continue;
      const copyS = rep.copy.totals.seconds;
      const verS = rep.verify.seconds;
      // run.ts: keys and secondary indexes are built, and the target sums computed beside them, inside
      // the copy step; verification then compares the sums while the foreign keys are validated.
      const other = rep.seconds - copyS - verS;
      log("");
      log(`armp-migrate --jobs ${j}${label}: process ${s2(run.res.seconds)} s, engine ${s2(rep.seconds)} s = load+keys+indexes+sequences with the target sums alongside ${s2(copyS)} s (${((copyS / rep.seconds) * 100).toFixed(0)}%, ${(copyS / ceiling).toFixed(2)}x ceiling) + verification ${s2(verS)} s + foreign-key validation, schema and views beyond that ${s2(other)} s; startup/exit outside the engine ${s2(run.res.seconds - rep.seconds)} s`);
      log(fmtTable([["table", "rows", "MB", "copy s", "checksum"], ...rep.tables.map((t) => [t.table, t.rowsWritten, (t.bytes / 2 ** 20).toFixed(1), s2(t.seconds), t.checksumMatch ? "ok" : "MISMATCH"])]));
    }

    if (pairResults.length > 0) {
      const armpMain = results.find((r) => r.tool === `armp-migrate run --jobs ${jobs} (incl. verify)`)!;
      const all = [{ ceiling, armp: armpMain.seconds, ok: armpMain.ok }, ...pairResults];
      const ratios = all.map((x) => x.armp / x.ceiling).sort((a, b) => a - b);
      log("");
      log(`side by side (ceiling, then armp-migrate --jobs ${jobs}; pair 0 is the run above):`);
      all.forEach((x, k) => log(`  pair ${k}: ceiling ${s2(x.ceiling)} s, armp-migrate ${s2(x.armp)} s = ${(x.armp / x.ceiling).toFixed(2)}x${x.ok ? "" : " (FAILED)"}`));
      const mid = ratios.length >> 1;
      const median = ratios.length % 2 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
      const within = ratios.filter((r) => r <= RATIO_TARGET).length;
      log(`  ratio over ${all.length} pairs: median ${median.toFixed(2)}x, min ${ratios[0].toFixed(2)}x, max ${ratios[ratios.length - 1].toFixed(2)}x; <= ${RATIO_TARGET}x in ${within} of ${all.length}`);
    }

    const armp = results.find((r) => r.tool === `armp-migrate run --jobs ${jobs} (incl. verify)`)!;
    const pgls = results.filter((r) => r.tool.startsWith("pgloader"));
    const verdict = (b: boolean): string => (b ? "met" : "NOT met");
    log("");
    log("targets (issue 2):");
    log(`  armp-migrate incl. verification <= ${RATIO_TARGET}x ceiling: ${(armp.seconds / ceiling).toFixed(2)}x -> ${verdict(armp.ok && armp.seconds <= RATIO_TARGET * ceiling)}`);
    for (const pg of pgls) {
      // A run that did not load the data is no yardstick: its time is time to failure.
      const v = pg.ok ? verdict(armp.ok && armp.seconds < pg.seconds) : "no comparison";
      log(`  ahead of ${pg.tool}: ${s2(armp.seconds)} s vs ${s2(pg.seconds)} s${pg.ok ? ` (${(pg.seconds / armp.seconds).toFixed(2)}x armp-migrate's time)` : ` (pgloader did not load the data correctly: ${pg.rows}/${sourceRows} rows; its time is time to failure)`} -> ${v}`);
    }
    log(`  peak RSS <= ${RSS_TARGET_MB} MB: ${armp.peakRssMB.toFixed(1)} MB -> ${verdict(armp.peakRssMB <= RSS_TARGET_MB)}`);
    log(`  rows: source ${sourceRows}, armp-migrate ${armp.rows}, ceiling ${results[0].rows}, ${pgls.map((p) => `${p.tool} ${p.rows}`).join(", ")}`);
    const untouched = shas.every((x) => x.sha256 === shas[0].sha256);
    log(`source sha256 identical before/after every tool: ${untouched ? "yes" : "NO"} (${shas[0].sha256})`);

    if (o["json-out"]) {
      fs.writeFileSync(o["json-out"], JSON.stringify({ scale, seed, jobs, sourceRows, sourceMB: sizeMB, genSeconds, exportSeconds, results, pairs: pairResults, shas, armpReports: armpRuns.map((a) => ({ jobs: a.jobs, label: a.label, report: a.run.report })) }, null, 2));
    }
    if (o.keep) log(`kept ${work}`);
    return untouched ? 0 : 1;
  } finally {
    if (cluster) stopCluster(cluster);
    if (!o.keep) fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench:copy failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
