/** Per-test SQLite fixtures in a temp dir, and the source-hash check every test ends with. */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `armp-${prefix}-`));
}

export function sha256File(p: string): string {
  return createHash("sha256").update(fs.readFileSync(p)).digest("hex");
}

export function copyChinook(dir: string): string {
  const dst = path.join(dir, "chinook.sqlite");
  fs.copyFileSync(path.join(__dirname, "../../../../shared/data/chinook.sqlite"), dst);
  return dst;
}

/** Runs fn, then puts the named environment variables back as they were (set or unset). */
export async function restoringEnv<T>(names: string[], fn: () => Promise<T>): Promise<T> {
  const saved = names.map((n) => [n, process.env[n]] as const);
  try {
    return await fn();
  } finally {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  }
}
