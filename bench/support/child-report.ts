/**
 * The protocol of the writer processes the benchmarks and tests start: the child prints `ready`
 * on its first line once it has written, and one JSON report on the next line before it exits 0.
 */
import type { ChildProcessByStdio } from "child_process";
import type { Readable, Writable } from "stream";

/**
 * `ready` resolves at the child's first line (or when it dies first: `report` then rejects with
 * its stderr); `report` resolves with the parsed second line when the child exits 0.
 */
export function childReport<T>(child: ChildProcessByStdio<Writable | null, Readable, Readable>, label: string): { ready: Promise<void>; report: Promise<T> } {
  let out = "";
  let err = "";
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((res) => (markReady = res));
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.startsWith("ready\n")) markReady();
  });
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const report = new Promise<T>((res, rej) => {
    child.on("error", (e) => (markReady(), rej(new Error(`${label} did not start: ${e.message}`))));
    child.on("exit", (code) => {
      markReady();
      if (code !== 0) return rej(new Error(`${label} exited ${code}: ${err}`));
      res(JSON.parse(out.split("\n")[1]) as T);
    });
  });
  return { ready, report };
}
