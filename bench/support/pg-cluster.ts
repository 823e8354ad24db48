/**
 * A throwaway PostgreSQL cluster for integration tests: initdb in a temp dir, a free port on
 * 127.0.0.1, SCRAM password auth over TCP. PostgreSQL refuses to run as root, so when the tests
 * run as root the cluster is owned by and started as the `postgres` user (Debian's package
 * creates it). Missing binaries are an error, never a skip: .ci/run installs them.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export interface ClusterInfo {
  readonly dir: string;
  readonly port: number;
  readonly superuser: string;
  readonly password: string;
  /** postgres://superuser:password@127.0.0.1:port/postgres */
  readonly adminUrl: string;
  readonly binDir: string;
}

/** Finds the PostgreSQL server binaries (Debian puts them in /usr/lib/postgresql/<v>/bin). */
export function findPgBinDir(): string {
  const fromEnv = process.env.ARMP_PG_BINDIR;
  if (fromEnv && fs.existsSync(path.join(fromEnv, "initdb"))) return fromEnv;
  const base = "/usr/lib/postgresql";
  if (fs.existsSync(base)) {
    const versions = fs
      .readdirSync(base)
      .filter((v) => fs.existsSync(path.join(base, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return path.join(base, versions[0], "bin");
  }
  const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim()) return path.dirname(fs.realpathSync(which.stdout.trim()));
  throw new Error(
    "PostgreSQL server binaries (initdb, pg_ctl) not found. Install them with `apt-get install -y postgresql` " +
      "or set ARMP_PG_BINDIR; .ci/run does this for CI.",
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** Runs a PostgreSQL binary as the cluster owner (the `postgres` user when we are root). */
export function runAsOwner(bin: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): string {
  const env = { ...process.env, ...opts.env };
  if (isRoot) {
    return execFileSync("runuser", ["-u", "postgres", "--", bin, ...args], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }
  return execFileSync(bin, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Makes `dir` (and its parents under the temp dir) usable by the cluster owner. */
export function chownToOwner(dir: string): void {
  if (isRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
}

export interface StartClusterOptions {
  port?: number;
  extraConf?: string;
  /** The server binaries to run (initdb, pg_ctl, postgres); default: findPgBinDir(). */
  binDir?: string;
}

export async function startCluster(opts: StartClusterOptions = {}): Promise<ClusterInfo> {
  const binDir = opts.binDir ?? findPgBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-pg-"));
  fs.chmodSync(dir, 0o755);
  const dataDir = path.join(dir, "data");
  const superuser = "armp_test_admin";
  const password = "test-" + Math.random().toString(36).slice(2);
  const pwFile = path.join(dir, "pwfile");
  fs.writeFileSync(pwFile, password + "\n", { mode: 0o600 });
  chownToOwner(dir);
  runAsOwner(path.join(binDir, "initdb"), [
    "-D", dataDir, "-U", superuser, "--pwfile", pwFile, "--auth-host=scram-sha-256", "--auth-local=trust",
    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
  ]);
  fs.rmSync(pwFile);
  const port = opts.port ?? (await freePort());
  const conf = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${dir}'`,
    `max_connections = 200`,
    `fsync = off`,
    `synchronous_commit = off`,
    `full_page_writes = off`,
    `shared_buffers = 256MB`,
    `max_wal_size = 4GB`,
    `password_encryption = 'scram-sha-256'`,
    opts.extraConf ?? "",
  ].join("\n");
  fs.appendFileSync(path.join(dataDir, "postgresql.auto.conf"), "\n" + conf + "\n");
  runAsOwner(path.join(binDir, "pg_ctl"), ["-D", dataDir, "-l", path.join(dir, "server.log"), "-w", "-t", "60", "start"]);
  const adminUrl = `postgres://${superuser}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return { dir, port, superuser, password, adminUrl, binDir };
}

export function stopCluster(info: Pick<ClusterInfo, "dir" | "binDir">): void {
  try {
    runAsOwner(path.join(info.binDir, "pg_ctl"), ["-D", path.join(info.dir, "data"), "-m", "immediate", "-w", "stop"]);
  } finally {
    fs.rmSync(info.dir, { recursive: true, force: true });
  }
}
