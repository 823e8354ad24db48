/**
 * Runs a command under GNU time so every tool in bench:copy is measured the same way: wall-clock
 * seconds from our own clock and peak RSS (`%M`, KiB, the largest process GNU time waited for).
 * Output goes to files, not memory, so a chatty tool cannot inflate our own RSS.
 */
import { spawn } from "child_process";
import * as fs from "fs";

export const GNU_TIME = process.env.ARMP_GNU_TIME ?? "/usr/bin/time";

export interface TimedResult {
  exitCode: number;
  seconds: number;
  peakRssKiB: number;
  stdoutFile: string;
  stderrFile: string;
}

export function requireBinary(bin: string, hint: string): void {
  if (!fs.existsSync(bin)) throw new Error(`${bin} not found: ${hint}`);
}

export async function runTimed(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; outPrefix: string }): Promise<TimedResult> {
  const timeFile = `${opts.outPrefix}.time`;
  const stdoutFile = `${opts.outPrefix}.stdout`;
  const stderrFile = `${opts.outPrefix}.stderr`;
  const out = fs.openSync(stdoutFile, "w");
  const err = fs.openSync(stderrFile, "w");
  const started = process.hrtime.bigint();
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(GNU_TIME, ["-f", "%M", "-o", timeFile, cmd, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ["ignore", out, err] });
      child.on("error", reject);
      child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // GNU time prefixes "Command exited with non-zero status N" on failure; the number is the last line.
    const lines = fs.readFileSync(timeFile, "utf8").trim().split("\n");
    const peakRssKiB = Number(lines[lines.length - 1]);
    return { exitCode, seconds, peakRssKiB: Number.isFinite(peakRssKiB) ? peakRssKiB : NaN, stdoutFile, stderrFile };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
}

/** Runs `fn` over `items` with at most `jobs` in flight, in the order given (largest first for balance). */
export async function inParallel<T, R>(items: T[], jobs: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return results;
}
