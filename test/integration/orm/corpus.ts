/** Drives the ORM corpus scripts (Python in .tools/orm-venv, made by .ci/run) and migrates their
 * SQLite files with `armp-migrate run` at its default options. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runMigrateCli } from "../../support/cli";

export const VENV_PYTHON = path.resolve(__dirname, "../../../.tools/orm-venv/bin/python");

/** A value as corpus_common.canon prints it: [python type, text], or a container of them. */
export type Canon = null | [string, unknown];
export type Rows = Record<string, Record<string, unknown>[]>;
export type Attempts = Record<string, { ok?: Canon; error?: string }>;

/** Runs one corpus script and parses the JSON it prints; its stderr is in the error when it fails.
 * A missing venv is a failure that says how to make it, never a skip. */
export function runPython<T>(script: string, args: string[]): T {
  if (!fs.existsSync(VENV_PYTHON)) {
    throw new Error(`the ORM venv is missing (${VENV_PYTHON}): run .ci/run, or python3 -m venv .tools/orm-venv && .tools/orm-venv/bin/pip install -r test/integration/orm/requirements.txt`);
  }
  const r = spawnSync(VENV_PYTHON, ["-W", "error::RuntimeWarning", path.join(__dirname, script), ...args], {
    cwd: __dirname,
    encoding: "utf8",
    maxBuffer: 64 << 20,
    timeout: 150_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${script} ${args[0]} exited with ${r.status}:\n${r.stderr}`);
  // ORM_CORPUS_OUT=<dir> keeps each script's JSON for diagnosing a mismatch by hand.
  if (process.env.ORM_CORPUS_OUT) fs.writeFileSync(path.join(process.env.ORM_CORPUS_OUT, `${path.basename(script, ".py")}-${args[0]}-${process.pid}-${Date.now()}.json`), r.stdout);
  return JSON.parse(r.stdout) as T;
}

/** `armp-migrate run --source <file> --target <url> [options]`: exit code and rows per table. */
export async function migrate(source: string, target: string, options: string[] = []): Promise<{ code: number; out: string; err: string; tables: Record<string, number> }> {
  const r = await runMigrateCli(["run", "--source", source, "--target", target, "--json", ...options]);
  let tables: Record<string, number> = {};
  try {
    const rep = JSON.parse(r.out) as { tables?: { table: string; rowsWritten: number }[] };
    tables = Object.fromEntries((rep.tables ?? []).map((t) => [t.table, t.rowsWritten]));
  } catch {
    // not a report: the exit code and stderr say what happened
  }
  return { ...r, tables };
}
