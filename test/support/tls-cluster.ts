/**
 * A PostgreSQL cluster that behaves like a managed service: TLS with a server certificate signed
 * by a CA made here with openssl (subjectAltName DNS:localhost only, so verify-full passes for
 * "localhost" and fails for "127.0.0.1"), pg_hba.conf with `hostssl` lines only (a plain TCP
 * connection is refused with "no encryption"), and an admin role that is CREATEROLE CREATEDB but
 * not a superuser (what RDS, Cloud SQL, Azure and Neon hand out). A second, unrelated CA is there
 * to be refused.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { chownToOwner, runAsOwner, startCluster, stopCluster, type ClusterInfo, type StartClusterOptions } from "./pg-cluster";

export interface TlsCluster extends ClusterInfo {
  /** The CA that signed the server certificate. */
  readonly caFile: string;
  /** A CA that signed nothing the server has. */
  readonly wrongCaFile: string;
  /** The non-superuser admin (CREATEROLE CREATEDB LOGIN). */
  readonly managedAdmin: { user: string; password: string };
  /** The database pg_hba.conf rejects outright (for TARGET_HBA_REJECTED). */
  readonly rejectedDatabase: string;
  /** postgresql://user:password@host:port/database?query, URL-encoded. */
  url(o: { user?: string; password?: string; host?: string; database?: string; query?: string }): string;
  /** Superuser connection over the Unix socket (pg_hba: trust), for setup and assertions. */
  superClient(database?: string): Promise<Client>;
  stop(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
}

/** A CA (EC P-256, 1 day) named `name` in dir: name.key, name.crt. */
function makeCa(dir: string, name: string, cn: string): void {
  openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "1", "-subj", `/CN=${cn}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    dir,
  );
}

/** `binDir` picks the server version (test/integration/tls/pg-servers.ts); `extraConf` is appended to postgresql.auto.conf. */
export async function startTlsCluster(opts: Pick<StartClusterOptions, "binDir" | "extraConf"> = {}): Promise<TlsCluster> {
  const info = await startCluster(opts);
  const tlsDir = path.join(info.dir, "tls");
  fs.mkdirSync(tlsDir);
  makeCa(tlsDir, "ca", "armp test CA");
  makeCa(tlsDir, "wrong-ca", "armp unrelated CA");
  openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], tlsDir);
  fs.writeFileSync(path.join(tlsDir, "server.ext"), "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
  openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "server.ext"], tlsDir);
  for (const f of fs.readdirSync(tlsDir)) fs.chmodSync(path.join(tlsDir, f), f.endsWith(".key") ? 0o600 : 0o644);
  chownToOwner(tlsDir);

  const dataDir = path.join(info.dir, "data");
  const rejectedDatabase = "armp_hba_rejected";
  fs.writeFileSync(
    path.join(dataDir, "pg_hba.conf"),
    [
      "local all all trust",
      `hostssl ${rejectedDatabase} all 127.0.0.1/32 reject`,
      "hostssl all all 127.0.0.1/32 scram-sha-256",
      "",
    ].join("\n"),
  );
  fs.appendFileSync(
    path.join(dataDir, "postgresql.auto.conf"),
    `ssl = on\nssl_cert_file = '${path.join(tlsDir, "server.crt")}'\nssl_key_file = '${path.join(tlsDir, "server.key")}'\n`,
  );
  chownToOwner(dataDir);
  runAsOwner(path.join(info.binDir, "pg_ctl"), ["-D", dataDir, "-w", "-t", "60", "restart", "-l", path.join(info.dir, "server.log")]);

  const managedAdmin = { user: "armp_cloud_admin", password: "cloud-Admin-" + Math.random().toString(36).slice(2) };
  const superClient = async (database = "postgres"): Promise<Client> => {
    const c = new Client({ host: info.dir, port: info.port, user: info.superuser, database });
    await c.connect();
    return c;
  };
  const c = await superClient();
  try {
    await c.query(`CREATE ROLE ${managedAdmin.user} LOGIN CREATEROLE CREATEDB PASSWORD '${managedAdmin.password}'`);
  } finally {
    await c.end();
  }

  return {
    ...info,
    caFile: path.join(tlsDir, "ca.crt"),
    wrongCaFile: path.join(tlsDir, "wrong-ca.crt"),
    managedAdmin,
    rejectedDatabase,
    url: (o) => {
      const user = o.user ?? info.superuser;
      const password = o.password ?? info.password;
      const q = o.query ? `?${o.query}` : "";
      return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${o.host ?? "127.0.0.1"}:${info.port}/${encodeURIComponent(o.database ?? "postgres")}${q}`;
    },
    superClient,
    stop: () => stopCluster(info),
  };
}
