/**
 * runMigration(): what `armp-migrate run` does, in steps that each leave the target consistent:
 * lock -> check target -> create tables -> copy -> keys and secondary indexes (beside the target
 * checksums) -> foreign keys validated (beside verification) -> views.
 * A failure after the tables were created drops the tables this run created, so the target is as
 * before the run and a re-run needs no flag.
 */
import type { IndexSpec } from "./ddl";
import { asMigrationError, MigrationError } from "./errors";
import { copyTables, pool, validateForeignKey, warningsOf, type CopyProgress, type CopyReport, type IndexBuild } from "./copy";
import { caseInsensitiveKeyCollisions, keyCollisionError } from "./collations";
import { acquireLock } from "./lock";
import type { DecisionOptions, TypeDecision } from "./decide";
import { namesOf, type NameChange } from "./names";
import { columnWarnings, fkCoveringIndexesOf, planFromSchema, readDecided, sourceIndexesOf } from "./plan";
import { schemaOf, Sessions, tableExists, withTarget, type TargetRef } from "./pg";
import { createIndexesOn, createTables, dropTables } from "./target-ddl";
import { openSource, withSource } from "./sqlite";
import { createViewsOn } from "./views/create";
import { checkView } from "./views/verify";
import { foreignKeysOk, targetSumsInParts, verifyTables, type VerifyReport } from "./verify";
import type { RangeSum } from "./checksum";

export interface RunTableReport {
  table: string;
  rowsRead: number;
  rowsWritten: number;
  bytes: number;
  seconds: number;
  checksumMatch: boolean;
  sourceChecksum: string;
  targetChecksum: string;
  sequenceOk: boolean;
  differingKeys: string[];
}

export interface RunViewReport {
  name: string;
  status: "verified" | "mismatch" | "skipped";
  reason?: string;
  original?: string;
  sourceRows?: number;
  targetRows?: number;
  sourceDigest?: string;
  targetDigest?: string;
}

export interface RunReport {
  ok: boolean;
  tables: RunTableReport[];
  totals: { rowsRead: number; rowsWritten: number; bytes: number; seconds: number };
  indexes: { created: string[]; skipped: { name: string; reason: string }[] };
  /**
   * Per view: created and equal to SQLite's (row count and digest, views/verify.ts), created with
   * different rows (both counts and digests), or skipped with the reason and the original SQL.
   */
  views: RunViewReport[];
  skipped: { name: string; type: string; reason: string }[];
  /** Column types decided from the data before any DDL (decide.ts). */
  decisions: TypeDecision[];
  /** Names that differ in PostgreSQL from the source's (names.ts). */
  names: NameChange[];
  warnings: string[];
  copy: CopyReport;
  verify: VerifyReport;
  seconds: number;
}

export interface RunOptions extends DecisionOptions {
  jobs?: number;
  replace?: boolean;
  extraIndexes?: IndexSpec[];
  onProgress?: (p: CopyProgress | { step: string }) => void;
}

export async function runMigration(sourcePath: string, targetRef: TargetRef, runOpts: RunOptions = {}): Promise<RunReport> {
  const started = process.hrtime.bigint();
  // Every step of the run reuses idle connections (Sessions) instead of opening ~40.
  const target: TargetRef = { ...targetRef, sessions: new Sessions() };
  const s = schemaOf(target);
  // The profile step: every value checked against its column's type before anything touches the
  // target, so a value no type can hold (or any widening under strictTypes) refuses before DDL; names are checked (CONFIG_INVALID) here too.
  runOpts.onProgress?.({ step: "profile" });
  const { schema, opts: decided } = readDecided(sourcePath, runOpts);
  const opts: RunOptions & { decided: typeof decided.decided } = decided;
  const plan = planFromSchema(schema, s, opts);
  // Before any DDL: a case-insensitive key that would reject rows (collations.ts).
  const collisions = withSource(sourcePath, (db) => schema.tables.flatMap((t, i) => caseInsensitiveKeyCollisions(db, t, plan.tables[i].columns)));
  if (collisions.length > 0) throw keyCollisionError(collisions[0]);
  const names = schema.tables.map((t) => namesOf(t).table);
  const lock = await acquireLock(target);
  let created = false;
  try {
    const existing = await withTarget(target, "check target", async (c) => {
      const out: string[] = [];
      for (const n of names) if (await tableExists(c, s, n)) out.push(n);
      return out;
    });
    if (existing.length > 0) {
      if (!opts.replace) {
        throw new MigrationError("TARGET_NOT_EMPTY", `The target schema ${s} already has table(s) ${existing.join(", ")}. Re-run with --replace to drop and reload them, or migrate into an empty database or another --schema.`, { table: existing[0], tables: existing, step: "check target" });
      }
      opts.onProgress?.({ step: "drop existing tables" });
      await dropTables(target, existing);
    }
    opts.onProgress?.({ step: "create tables" });
    await createTables(sourcePath, target, opts);
    created = true;
    // The source checksums come from the copy pass itself (same snapshot, same converted values),
    // so verification only has to read the target; see docs/README-bench-copy.md.
    // The target sums start as soon as every table is loaded, on connections of their own beside
    // the key builds; verification then only compares them.
    // Secondary indexes are built in the key queue (largest tables first; CREATE INDEX takes a
    // SHARE lock, which the sums' ACCESS SHARE never waits for), so they exist before the foreign
    // keys are validated; the validations then run beside verification.
    // Each build records its result at its declared position: the report lists them as declared.
    type IndexResult = { created: string[] } | { skipped: { name: string; reason: string } };
    const declared = [...sourceIndexesOf(schema, opts), ...fkCoveringIndexesOf(schema), ...(opts.extraIndexes ?? [])];
    const results = new Array<IndexResult>(declared.length);
    const indexBuilds: IndexBuild[] = declared.map((ix, i) => ({
      table: ix.table,
      build: async (c) => {
        try {
          results[i] = { created: await createIndexesOn(c, s, [ix]) };
        } catch (e) {
          results[i] = { skipped: { name: ix.name, reason: e instanceof Error ? e.message : String(e) } };
        }
      },
    }));
    let targetSums: Promise<Map<string, RangeSum>> | undefined;
    const copied = await copyTables(sourcePath, target, {
      jobs: opts.jobs,
      renames: opts.renames,
      onProgress: opts.onProgress,
      checksum: true,
      deferValidation: true,
      indexBuilds,
      afterLoad: (tables) => {
        targetSums = targetSumsInParts(target, tables, opts.jobs ?? 2);
        // Awaited by verification; a failure before that point must not go unhandled.
        targetSums.catch(() => undefined);
      },
    });
    const deferred = copied.deferred ?? { slots: [], pending: [] };
    const { deferred: _deferred, ...copy } = copied;
    const jobs = opts.jobs ?? 2;
    opts.onProgress?.({ step: "validate foreign keys" });
    const validating = pool(deferred.pending, jobs, (v) => withTarget(target, "constraints", (c) => validateForeignKey(c, s, deferred, v)));
    opts.onProgress?.({ step: "verify" });
    const sums = new Map(copy.tables.flatMap((r) => (r.sourceSum ? [[r.table, r.sourceSum] as const] : [])));
    const verifying = verifyTables(sourcePath, target, { jobs, sourceSums: sums, targetSums, renames: opts.renames });
    const [fkDone, verDone] = await Promise.allSettled([validating, verifying]);
    if (fkDone.status === "rejected") throw fkDone.reason;
    if (verDone.status === "rejected") throw verDone.reason;
    const ver = verDone.value;
    const indexes: RunReport["indexes"] = { created: [], skipped: [] };
    // The validations' outcomes, and the foreign keys as they are now (verify's snapshot was taken
    // before the validations committed).
    copy.warnings = warningsOf(deferred);
    await withTarget(target, "verify", async (c) => {
      for (const t of ver.tables) {
        const st = schema.tables.find((x) => x.name === t.table);
        if (st) t.foreignKeysOk = await foreignKeysOk(c, s, st);
      }
    });
    for (const r of results) {
      if ("created" in r) indexes.created.push(...r.created);
      else indexes.skipped.push(r.skipped);
    }
    // Views after the load, so each is checked against SQLite's rows (count + digest).
    const views: RunReport["views"] = [];
    await withTarget(target, "views", async (c) => {
      const made = await createViewsOn(c, s, plan.views);
      const byName = new Map(plan.views.map((v) => [v.name, v]));
      const db = openSource(sourcePath);
      try {
        for (const r of made) {
          const v = byName.get(r.name)!;
          if (r.status !== "created") {
            views.push({ name: r.name, status: "skipped", reason: r.reason, original: r.original });
            continue;
          }
          let chk;
          try {
            chk = await checkView(db, c, s, v);
          } catch (e) {
            // The view exists but reading it fails on these rows (e.g. text that is no timestamp).
            views.push({ name: r.name, status: "mismatch", reason: `reading the view failed: ${e instanceof Error ? e.message : String(e)}; the view was created, fix its data or rewrite it by hand` });
            continue;
          }
          views.push({ name: r.name, status: chk.match ? "verified" : "mismatch", sourceRows: chk.sourceRows, targetRows: chk.targetRows, sourceDigest: chk.sourceDigest, targetDigest: chk.targetDigest });
        }
      } finally {
        db.close();
      }
    });
    const vb = new Map(ver.tables.map((t) => [t.table, t]));
    const tables: RunTableReport[] = copy.tables.map((r) => {
      const v = vb.get(r.table)!;
      return { ...r, checksumMatch: v.match, sourceChecksum: v.sourceChecksum, targetChecksum: v.targetChecksum, sequenceOk: v.sequenceOk, differingKeys: v.differingKeys };
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      ok: ver.ok,
      tables,
      totals: { ...copy.totals, seconds },
      indexes,
      views,
      skipped: schema.skipped,
      decisions: decided.decisions,
      names: plan.names,
      warnings: [
        ...copy.warnings,
        ...plan.tables.flatMap(columnWarnings),
        ...plan.tables.flatMap((t) => t.columns.flatMap((c) => (c.collationNote ? [`${t.table}.${c.column}: ${c.collationNote}`] : []))),
      ],
      copy,
      verify: ver,
      seconds,
    };
  } catch (e) {
    if (created) await dropTables(target, names).catch(() => undefined);
    const err = asMigrationError(e, "run");
    if (created) err.meta.targetRestored = true;
    throw err;
  } finally {
    await target.sessions!.close();
    await lock.release();
  }
}
