/**
 * libpq's TLS parameters for node-postgres. A postgres:// URL means the same thing to every client
 * this package runs (the migration, the providers, the stack's probes) as it does to psql and the
 * app's libpq driver: `sslmode` is disable / allow / prefer (libpq's default) / require /
 * verify-ca / verify-full, and `sslrootcert` is a CA file, or `system` for the OS's trusted roots.
 *
 * node-postgres does not follow libpq by itself: pg-connection-string reads `sslmode=require` as
 * verify-full (a self-signed server fails with "self-signed certificate"), and it has no
 * fallback for prefer/allow (the client gives up when the server declines TLS). So the TLS
 * parameters are taken out of the URL here and turned into node-postgres's explicit `ssl` option,
 * one connection attempt per TLS choice, in libpq's order:
 *
 * | sslmode     | attempts              | verification                                       |
 * |-------------|-----------------------|----------------------------------------------------|
 * | disable     | plain                 | -                                                  |
 * | allow       | plain, then TLS       | none                                               |
 * | prefer      | TLS, then plain       | none                                               |
 * | require     | TLS                   | none; with sslrootcert: the chain (as verify-ca)   |
 * | verify-ca   | TLS                   | the chain against sslrootcert                      |
 * | verify-full | TLS                   | the chain and the host name against the certificate|
 *
 * verify-* without sslrootcert use ~/.postgresql/root.crt like libpq, and fail with the fix when it
 * does not exist. sslcert/sslkey (client certificates) are read from their files.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { ConnectionOptions } from "tls";
import { MigrationError } from "./errors";

export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface PgTls {
  mode: SslMode;
  /** A CA file path, "system", or undefined (libpq's default file for verify-*). */
  rootCert?: string;
  cert?: string;
  key?: string;
}

/** Query parameters that are TLS settings: removed from the URL node-postgres parses. */
const TLS_PARAMS = ["sslmode", "sslrootcert", "sslcert", "sslkey", "ssl", "uselibpqcompat"];

export function isSslMode(v: string): v is SslMode {
  return (SSL_MODES as readonly string[]).includes(v);
}

/**
 * The URL's TLS settings (falling back to PGSSLMODE / PGSSLROOTCERT / PGSSLCERT / PGSSLKEY, then
 * libpq's default `prefer`) and the URL without them. Throws CONFIG_INVALID for an unknown sslmode.
 */
export function splitTls(url: string, env: NodeJS.ProcessEnv = process.env): { tls: PgTls; url: string } {
  const u = new URL(url);
  const q = u.searchParams;
  const mode = q.get("sslmode") ?? env.PGSSLMODE ?? "prefer";
  if (!isSslMode(mode)) {
    throw new MigrationError("CONFIG_INVALID", `sslmode=${mode} is not a libpq sslmode; use one of ${SSL_MODES.join(", ")}.`, { step: "connect", sslmode: mode });
  }
  const pick = (param: string, envName: string): string | undefined => {
    const v = q.get(param) ?? env[envName];
    return v === undefined || v === "" ? undefined : v;
  };
  const tls: PgTls = { mode };
  const rootCert = pick("sslrootcert", "PGSSLROOTCERT");
  const cert = pick("sslcert", "PGSSLCERT");
  const key = pick("sslkey", "PGSSLKEY");
  if (rootCert !== undefined) tls.rootCert = rootCert;
  if (cert !== undefined) tls.cert = cert;
  if (key !== undefined) tls.key = key;
  for (const p of TLS_PARAMS) q.delete(p);
  return { tls, url: u.toString() };
}

/** TLS on or off, in the order libpq tries them for the mode. */
export function attempts(mode: SslMode): boolean[] {
  switch (mode) {
    case "disable":
      return [false];
    case "allow":
      return [false, true];
    case "prefer":
      return [true, false];
    default:
      return [true];
  }
}

function readFile(what: string, file: string, mode: SslMode): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new MigrationError("CONFIG_INVALID", `Cannot read the ${what} ${file} (sslmode=${mode}): ${(e as Error).message}. Fix the path in the URL's ${what === "root certificate" ? "sslrootcert" : what === "client certificate" ? "sslcert" : "sslkey"} parameter.`, { step: "connect", file }, e);
  }
}

/** libpq's default root certificate file. */
export function defaultRootCert(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.HOME ?? os.homedir(), ".postgresql", "root.crt");
}

/**
 * node-postgres's `ssl` option for one attempt with TLS on. `host` is the server's name as in the
 * URL (verify-full checks it against the certificate).
 */
export function sslOptions(tls: PgTls, host: string, env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  const o: ConnectionOptions = {};
  if (tls.cert !== undefined) o.cert = readFile("client certificate", tls.cert, tls.mode);
  if (tls.key !== undefined) o.key = readFile("client key", tls.key, tls.mode);
  // SNI only for names: node refuses an IP address as servername.
  if (!net.isIP(host)) o.servername = host;
  const verify = tls.mode === "verify-ca" || tls.mode === "verify-full" || (tls.mode === "require" && tls.rootCert !== undefined);
  if (!verify) {
    o.rejectUnauthorized = false;
    return o;
  }
  o.rejectUnauthorized = true;
  const rootCert = tls.rootCert ?? defaultRootCert(env);
  if (rootCert !== "system") {
    if (tls.rootCert === undefined && !fs.existsSync(rootCert)) {
      throw new MigrationError(
        "CONFIG_INVALID",
        `sslmode=${tls.mode} verifies the server certificate but no CA is given and ${rootCert} does not exist. ` +
          "Add sslrootcert=<CA file> to the URL (your provider's CA bundle), sslrootcert=system for the system's trusted roots, or use sslmode=require to encrypt without verification.",
        { step: "connect", sslmode: tls.mode },
      );
    }
    o.ca = readFile("root certificate", rootCert, tls.mode);
  }
  // verify-ca (and require with a CA): the chain only; the name in the certificate is not checked.
  if (tls.mode !== "verify-full") o.checkServerIdentity = () => undefined;
  return o;
}
