/**
 * armp-migrate: plan | run | verify over the engine. Exit codes: 0 success (verify identical),
 * 1 verification mismatch, 2 usage/config error, 3 any other MigrationError (code printed).
 * Human tables on stdout by default, --json for machines; progress only when stderr is a TTY.
 */
import { parseArgs } from "util";
import { columnType, columnWarnings, cutover, installCapture, isMigrationError, planMigration, redactUrl, removeCapture, runMigration, syncChanges, verify, type CutoverReport, type MigrationPlan, type NameChange, type RunReport, type SyncReport, type VerifyReport } from "./engine";
import { installTargetCapture, removeTargetCapture, rollbackChanges, type RollbackReport } from "./engine";
import { decisionLines, type EpochChoice } from "./engine";

const USAGE = `usage: armp-migrate <plan|run|verify|sync|cutover> --source <file.sqlite> [--target <postgres-url>] [options]
       armp-migrate capture <install|remove> --source <file.sqlite>
       armp-migrate capture <install-target|remove-target> --target <postgres-url> [--source <file.sqlite>]
       armp-migrate rollback --source <file.sqlite> --target <postgres-url>
  capture install-target record every write to the target's migrated tables (at the cut-over), so
                         rollback can replay them into SQLite; remove-target drops that again
  rollback               replay PostgreSQL's writes into the SQLite file (refuses with
                         ROLLBACK_UNSAFE, exit 3, rather than lose any write)
  capture install        add change-capture triggers + changelog to the source (the only writes
                         to it; install before the copy); capture remove drops them again
  sync                   replay captured changes into the target (resumable, idempotent)
  cutover                gate the switch: sync until drained, verify, sequences; exit 0 = switch
  --freeze               (cutover) hold SQLite's write lock for the final sync + verify
  --max-freeze-ms <n>    (cutover --freeze) upper bound on the freeze (default 1000); if the
                         final sync + check would exceed it the lock is released and retried
                         (3 attempts), then CUTOVER_FREEZE_EXCEEDED, exit 4: nothing lost, the
                         app not switched, retry later. The app's busy_timeout must exceed it.
  --batch <n>            changelog entries per sync transaction (default 1000)
  --schema <name>        target schema (default public)
  --jobs <n>             tables copied in parallel (run; default 2)
  --replace              drop and reload target tables that already exist (run)
  --cast <t.col=type>    override a column's PostgreSQL type (repeatable)
  --strict               refuse (TYPE_MISMATCH, before any DDL) a column whose values its
                         declared type cannot hold, instead of widening it (the default)
  --epoch <t.col=unix|unix-ms|coredata|number>
                         numbers in a DATE/DATETIME/TIMESTAMP column: read as Unix time
                         (s, or ms when |n| >= 1e11), Unix ms, Core Data seconds since
                         2001-01-01 UTC, or kept as numbers (default: Core Data in a Core
                         Data store's Z* tables, Unix when the column's text values are
                         dates, numbers when it holds numbers only) (repeatable)
  --rename <name=new>    PostgreSQL name of a table, view or index (name=new) or of a column
                         (table.column=new), overriding the automatic one (repeatable; plan
                         lists every name that differs from the source's); give the same
                         renames to verify, sync, cutover, rollback and capture install-target
  --timestamptz          map DATETIME/TIMESTAMP to timestamptz
  --text-collation <c>   collation of text columns that SQLite compares bytewise (its default,
                         BINARY): "C" (default, the same byte order), another PostgreSQL
                         collation, or "database" for the database's default
  --json                 machine-readable output`;

function table(rows: (string | number)[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (typeof c === "number" ? String(c).padStart(w[i]) : String(c).padEnd(w[i]))).join("  ").trimEnd()).join("\n");
}

function printNames(names: NameChange[], prefix: string): string[] {
  return names.map((n) => `${prefix}${n.kind} ${n.source} -> ${n.target}  (${n.reason})`);
}

function printPlan(p: MigrationPlan): string {
  const out: string[] = [p.ddl];
  if (p.names.length > 0) out.push("", "-- name map (PostgreSQL names that differ from the source's)", ...printNames(p.names, "-- "));
  out.push("", "-- decided from the data (values the declared type cannot hold, numbers read as instants)");
  if (p.decisions.length === 0) out.push("-- none");
  for (const l of decisionLines(p.decisions)) out.push(`-- ${l}`);
  for (const r of p.refusals) out.push(`-- REFUSED [${r.code}] ${r.message}`);
  out.push("", "-- column decisions");
  for (const t of p.tables) for (const c of t.columns) out.push(`-- ${t.table}.${c.column}: ${c.declType || "(none)"} -> ${columnType(c)}  (${c.reason})`);
  const notes = p.tables.flatMap(columnWarnings);
  out.push("", "-- defaults and generated columns not carried as written");
  out.push(...(notes.length === 0 ? ["-- none"] : notes.map((w) => `-- ${w}`)));
  out.push("", "-- profile findings (rows at risk)");
  if (p.findings.length === 0) out.push("-- none");
  for (const f of p.findings) out.push(`-- ${f.blocking ? "BLOCKING " : ""}${f.table}${f.column ? "." + f.column : ""} ${f.kind}: ${f.rows} row(s)${f.sampleKey ? ` e.g. key ${JSON.stringify(f.sampleKey)}` : ""}; ${f.decision}`);
  return out.join("\n");
}

function printRun(r: RunReport): string {
  const rows: (string | number)[][] = [["table", "read", "written", "bytes", "seconds", "checksum"]];
  for (const t of r.tables) rows.push([t.table, t.rowsRead, t.rowsWritten, t.bytes, t.seconds.toFixed(2), t.checksumMatch ? "ok" : "MISMATCH " + t.differingKeys.join(" ")]);
  rows.push(["TOTAL", r.totals.rowsRead, r.totals.rowsWritten, r.totals.bytes, r.totals.seconds.toFixed(2), r.ok ? "ok" : "FAILED"]);
  const extra = [...r.skipped.map((x) => `${x.type} ${x.name} skipped: ${x.reason}`), ...printNames(r.names, "name: "), ...decisionLines(r.decisions).map((d) => `decided: ${d}`), ...instantMismatchLines(r.verify), ...r.warnings.map((w) => `warning: ${w}`), ...r.views.filter((v) => v.status !== "verified").map((v) => (v.status === "skipped" ? `view ${v.name} skipped: ${v.reason}\n  original: ${v.original}` : `view ${v.name} created but its rows differ from SQLite's: ${v.sourceRows} source rows, ${v.targetRows} target rows (digests ${v.sourceDigest} / ${v.targetDigest})`)), ...r.indexes.skipped.map((i) => `index ${i.name} skipped: ${i.reason}`)];
  return [table(rows), ...extra].join("\n");
}

function printVerify(v: VerifyReport): string {
  const rows: (string | number)[][] = [["table", "source rows", "target rows", "checksum", "sequences", "differing keys"]];
  for (const t of v.tables) rows.push([t.table, t.sourceRows, t.targetRows, t.match ? "ok" : "MISMATCH", t.sequenceOk ? "ok" : "BEHIND", t.differingKeys.join(" ")]);
  return table(rows) + instantMismatchLines(v).map((l) => `\n${l}`).join("") + `\n${v.ok ? "identical" : "DIFFERENT"} (${v.seconds.toFixed(2)} s)`;
}

/** verify.ts instantMismatch: epoch columns whose stored numbers differ from the target's instants. */
function instantMismatchLines(v: VerifyReport): string[] {
  return v.tables.flatMap((t) => (t.instantMismatch ? [`${t.instantMismatch.code}: ${t.instantMismatch.message}`] : []));
}

function printSync(r: SyncReport): string {
  const rows: (string | number)[][] = [["table", "upserts", "deletes"]];
  for (const [t, n] of Object.entries(r.tables)) rows.push([t, n.upserts, n.deletes]);
  const lag = r.pending === 0 ? "no changes pending" : `${r.pending} change(s) pending, oldest ${r.oldestPendingSeconds ?? 0} s old`;
  return [
    ...(rows.length > 1 ? [table(rows)] : []),
    `applied ${r.applied} row change(s) from ${r.changes} changelog entries (seq ${r.fromSeq} -> ${r.toSeq}) in ${r.batches} batch(es), ${r.seconds.toFixed(2)} s; ${lag}`,
    ...r.warnings.map((w) => `warning: ${w}`),
  ].join("\n");
}

function printCutover(r: CutoverReport): string {
  const freeze = r.frozen ? `writes frozen for ${r.freezeMs!.toFixed(1)} ms` : "no write freeze";
  return `cut-over gate passed: ${r.verify.tables.length} table(s) identical, sequences past max, capture drained (catch-up ${r.catchUp.syncs} sync(s), ${r.catchUp.applied} row(s); final sync ${r.finalSync.applied} row(s)); ${freeze}; ${r.seconds.toFixed(2)} s. Switch the app to PostgreSQL now, then run sync once more (writes that waited on the freeze commit to SQLite).`;
}

function printRollback(r: RollbackReport): string {
  const rows: (string | number)[][] = [["table", "upserts", "deletes"]];
  for (const [t, n] of Object.entries(r.tables)) rows.push([t, n.upserts, n.deletes]);
  return [
    ...(rows.length > 1 ? [table(rows)] : []),
    `rolled back: applied ${r.applied} row change(s) to SQLite from ${r.changes} PostgreSQL changelog entries (seq ${r.fromSeq} -> ${r.toSeq}), lost ${r.lost}, ${r.seconds.toFixed(2)} s` +
      (r.pending ? `; ${r.pending} write(s) reached PostgreSQL after the replay: stop the app and run rollback again` : "; point the app back at SQLite now"),
  ].join("\n");
}

/** capture install-target / remove-target: PostgreSQL-side capture for rollback (needs only --target). */
async function captureTarget(sub: "install-target" | "remove-target", o: { target?: string; schema?: string; source?: string; json?: boolean }, named: { renames?: Record<string, string> }): Promise<number> {
  if (!o.target) {
    process.stderr.write(`capture ${sub} needs --target\n${USAGE}\n`);
    return 2;
  }
  const target = { url: o.target, ...(o.schema ? { schema: o.schema } : {}) };
  try {
    if (sub === "install-target") {
      const r = await installTargetCapture(target, o.source ? { sourcePath: o.source, ...named } : {});
      process.stdout.write((o.json ? JSON.stringify(r, null, 2) : `target capture installed on ${r.tables.length} table(s): ${r.tables.join(", ")}; changelog at seq ${r.lastSeq}, rollback position ${r.appliedSeq}`) + "\n");
    } else {
      const r = await removeTargetCapture(target);
      process.stdout.write((o.json ? JSON.stringify(r, null, 2) : `target capture removed: ${r.removedTriggers} trigger(s) dropped, ${r.droppedChanges} unreplayed changelog entries discarded`) + "\n");
    }
    return 0;
  } catch (e) {
    if (!isMigrationError(e)) throw e;
    if (o.json) process.stdout.write(JSON.stringify({ error: e.toJSON() }, null, 2) + "\n");
    process.stderr.write(`armp-migrate capture ${sub} failed [${e.code}]: ${e.message}\n`);
    return e.code === "CONFIG_INVALID" ? 2 : 3;
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        source: { type: "string" },
        target: { type: "string" },
        schema: { type: "string" },
        jobs: { type: "string" },
        batch: { type: "string" },
        json: { type: "boolean" },
        freeze: { type: "boolean" },
        "max-freeze-ms": { type: "string" },
        replace: { type: "boolean" },
        cast: { type: "string", multiple: true },
        rename: { type: "string", multiple: true },
        timestamptz: { type: "boolean" },
        strict: { type: "boolean" },
        epoch: { type: "string", multiple: true },
        "text-collation": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  const cmd = positionals[0];
  if (o.help || !cmd) {
    process.stdout.write(USAGE + "\n");
    return o.help ? 0 : 2;
  }
  const known = ["plan", "run", "verify", "sync", "capture", "cutover", "rollback"];
  const sub = positionals[1];
  const renames: Record<string, string> = {};
  for (const r of o.rename ?? []) {
    const i = r.lastIndexOf("=");
    if (i <= 0 || i === r.length - 1) {
      process.stderr.write(`--rename ${r}: expected name=new or table.column=new\n`);
      return 2;
    }
    renames[r.slice(0, i)] = r.slice(i + 1);
  }
  const named = o.rename ? { renames } : {};
  if (cmd === "capture" && (sub === "install-target" || sub === "remove-target")) return captureTarget(sub, o, named);
  if (cmd === "capture" && sub !== "install" && sub !== "remove") {
    process.stderr.write(`capture needs install or remove\n${USAGE}\n`);
    return 2;
  }
  if (!known.includes(cmd) || !o.source || (cmd !== "plan" && cmd !== "capture" && !o.target)) {
    process.stderr.write(`${!known.includes(cmd) ? `unknown command ${cmd}` : "missing --source or --target"}\n${USAGE}\n`);
    return 2;
  }
  const batchSize = o.batch === undefined ? 1000 : Number(o.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    process.stderr.write(`--batch ${o.batch}: expected a positive integer\n`);
    return 2;
  }
  const castOverrides: Record<string, string> = {};
  for (const c of o.cast ?? []) {
    const m = /^([^=]+\.[^=.]+)=(.+)$/.exec(c);
    if (!m) {
      process.stderr.write(`--cast ${c}: expected table.column=type\n`);
      return 2;
    }
    castOverrides[m[1]] = m[2];
  }
  const epochs: Record<string, EpochChoice> = {};
  for (const e of o.epoch ?? []) {
    const m = /^([^=]+\.[^=.]+)=(unix|unix-ms|coredata|number)$/.exec(e);
    if (!m) {
      process.stderr.write(`--epoch ${e}: expected table.column=unix, unix-ms, coredata or number\n`);
      return 2;
    }
    epochs[m[1]] = m[2] as EpochChoice;
  }
  const jobs = o.jobs === undefined ? 2 : Number(o.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) {
    process.stderr.write(`--jobs ${o.jobs}: expected a positive integer\n`);
    return 2;
  }
  const target = { url: o.target ?? "", ...(o.schema ? { schema: o.schema } : {}) };
  const mapping = { castOverrides, timestamptz: !!o.timestamptz, strictTypes: !!o.strict, epochs, ...(o["text-collation"] ? { textCollation: o["text-collation"] } : {}), ...named };
  const write = (human: string, data: unknown): void => void process.stdout.write((o.json ? JSON.stringify(data, null, 2) : human) + "\n");
  const tty = process.stderr.isTTY === true;
  try {
    if (cmd === "plan") {
      const p = planMigration(o.source, { ...mapping, schema: o.schema });
      write(printPlan(p), p);
      return 0;
    }
    if (cmd === "capture") {
      if (sub === "install") {
        const c = installCapture(o.source);
        write(`capture installed (id ${c.id}) on ${c.tables.length} table(s): ${c.tables.join(", ")}; changelog at seq ${c.lastSeq}`, c);
      } else {
        const r = removeCapture(o.source);
        write(`capture removed: ${r.removedTriggers} trigger(s) dropped, ${r.droppedChanges} changelog entries discarded`, r);
      }
      return 0;
    }
    if (cmd === "sync") {
      const r = await syncChanges(o.source, target, { batchSize, ...named });
      write(printSync(r), r);
      return 0;
    }
    if (cmd === "cutover") {
      const maxFreezeMs = o["max-freeze-ms"] === undefined ? undefined : Number(o["max-freeze-ms"]);
      const r = await cutover(o.source, target, { batchSize, freeze: !!o.freeze, maxFreezeMs, ...named });
      write(printCutover(r), r);
      return 0;
    }
    if (cmd === "rollback") {
      const r = await rollbackChanges(target, o.source, named);
      write(printRollback(r), r);
      return 0;
    }
    if (cmd === "verify") {
      const v = await verify(o.source, target, named);
      write(printVerify(v), v);
      return v.ok ? 0 : 1;
    }
    const r = await runMigration(o.source, target, {
      ...mapping,
      jobs,
      replace: !!o.replace,
      onProgress: tty ? (p) => process.stderr.write("step" in p ? `\r\x1b[K${p.step}...` : `\r\x1b[K${p.table}: ${p.rows}/${p.totalRows} rows`) : undefined,
    });
    if (tty) process.stderr.write("\r\x1b[K");
    write(printRun(r), r);
    return r.ok ? 0 : 1;
  } catch (e) {
    if (tty) process.stderr.write("\r\x1b[K");
    if (isMigrationError(e)) {
      if (o.json) process.stdout.write(JSON.stringify({ error: e.toJSON() }, null, 2) + "\n");
      process.stderr.write(`armp-migrate ${cmd} failed [${e.code}]: ${e.message}\n`);
      if (e.code === "CUTOVER_FREEZE_EXCEEDED") return 4;
      return e.code === "CONFIG_INVALID" ? 2 : e.code === "VERIFY_MISMATCH" || e.code === "CUTOVER_BLOCKED" ? 1 : 3;
    }
    process.stderr.write(`armp-migrate ${cmd} failed: ${e instanceof Error ? e.message : String(e)} (target ${redactUrl(target.url)})\n`);
    return 3;
  }
}
