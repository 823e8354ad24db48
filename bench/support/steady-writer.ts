/** A steady app writer in a child process (issue 6 benchmarks): one write per transaction. */
import { spawn } from "child_process";
import * as path from "path";

// The app: one write per transaction (insert a publication, update one), busy_timeout 5 s so the
// freeze makes it wait rather than fail; prints how many writes waited longer than 50 ms.
const WRITER = `
const Database = require("better-sqlite3");
const [file, seconds, rate] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const db = new Database(file, { timeout: 5000 });
const ins = db.prepare("INSERT INTO publication (doi, title, year, organization_id) VALUES (?, 'bench', 2024, 1)");
const upd = db.prepare("UPDATE publication SET citation_count = citation_count + 1 WHERE id = ?");
const sleep = new Int32Array(new SharedArrayBuffer(4));
const t0 = Date.now();
let writes = 0, waited = 0, maxMs = 0;
for (let i = 0; Date.now() - t0 < seconds * 1000; i++) {
  const s = Date.now();
  const id = ins.run("10.bench-cut/" + process.pid + "/" + i).lastInsertRowid;
  upd.run(id);
  writes += 2;
  const ms = Date.now() - s;
  if (ms > 50) waited++;
  maxMs = Math.max(maxMs, ms);
  if (i === 0) process.stdout.write("ready\\n");
  const due = t0 + ((i + 1) * 2000) / rate - Date.now();
  if (due > 0) Atomics.wait(sleep, 0, 0, due);
}
db.close();
process.stdout.write(JSON.stringify({ writes, waited, maxMs }) + "\\n");
`;

export function startWriter(file: string, seconds: number, rate: number): { ready: Promise<void>; done: Promise<{ writes: number; waited: number; maxMs: number }> } {
  const child = spawn(process.execPath, ["-e", WRITER, file, String(seconds), String(rate)], { cwd: path.join(__dirname, "../../.."), stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  let ready: () => void = () => undefined;
  const readyP = new Promise<void>((r) => (ready = r));
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.startsWith("ready\n")) ready();
  });
  const done = new Promise<{ writes: number; waited: number; maxMs: number }>((res, rej) =>
    child.on("exit", (code) => (ready(), code === 0 ? res(JSON.parse(out.split("\n")[1]) as { writes: number; waited: number; maxMs: number }) : rej(new Error(`writer exited ${code}`)))),
  );
  return { ready: readyP, done };
}

