/**
 * Runs a real pgbouncer process on a free port from rendered files (tests and bench:pool).
 *
 * pgBouncer 1.18 exits with "PgBouncer should not run as root"; its `-u USER` option reads the
 * config and then drops to USER, so as root we start it with `-u postgres` (the same user as the
 * test cluster) and hand that user the files. The child is pgbouncer itself (no wrapper), so
 * stop() signals exactly the process we started.
 */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { chownToOwner, freePort } from "./pg-cluster";

export interface PgBouncerProcess {
  readonly port: number;
  readonly dir: string;
  readonly iniPath: string;
  readonly userlistPath: string;
  readonly pid: number;
  /** What pgbouncer wrote to stderr/stdout so far (its log). */
  log(): string;
  stop(): Promise<void>;
}

export function findPgBouncerBin(): string {
  const candidates = [process.env.ARMP_PGBOUNCER_BIN, "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].filter((p): p is string => !!p);
  for (const c of candidates) if (fs.existsSync(c)) return c;
  const which = spawnSync("sh", ["-c", "command -v pgbouncer"], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error("pgbouncer binary not found. Install it with `apt-get install -y pgbouncer` or set ARMP_PGBOUNCER_BIN; .ci/run does this for CI.");
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`pgbouncer exited (${child.exitCode ?? child.signalCode}) before listening on ${port}:\n${log()}`));
        return;
      }
      const sock = net.connect({ host: "127.0.0.1", port });
      sock.once("connect", () => {
        sock.destroy();
        resolve();
      });
      sock.once("error", () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`pgbouncer did not listen on ${port} within ${timeoutMs} ms:\n${log()}`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

/**
 * Starts pgbouncer. `render` receives the port and directory chosen here and returns the file
 * texts, so callers put them into the settings (listenPort, authFile, unixSocketDir) rather than
 * editing rendered text.
 */
export async function startPgBouncer(
  render: (ctx: { port: number; dir: string; userlistPath: string }) => { ini: string; userlist: string } | Promise<{ ini: string; userlist: string }>,
): Promise<PgBouncerProcess> {
  const bin = findPgBouncerBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-pgb-"));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const iniPath = path.join(dir, "pgbouncer.ini");
  const userlistPath = path.join(dir, "userlist.txt");
  const files = await render({ port, dir, userlistPath });
  fs.writeFileSync(iniPath, files.ini, { mode: 0o644 });
  fs.writeFileSync(userlistPath, files.userlist, { mode: 0o600 });
  chownToOwner(dir);
  const args = isRoot ? ["-u", "postgres", iniPath] : [iniPath];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const log = (): string => output;
  try {
    await waitForPort(port, child, log, 10_000);
  } catch (e) {
    child.kill("SIGKILL");
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    dir,
    iniPath,
    userlistPath,
    pid: child.pid ?? -1,
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM is pgBouncer's immediate shutdown: clients are dropped, nothing to wait for.
        child.kill("SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
