/**
 * libpq's sslmode semantics in the engine's connections (migrate/engine/pg.ts + tls.ts), against
 * a real TLS cluster whose pg_hba.conf has only hostssl lines and whose certificate is signed by a
 * CA made in the test: every mode, the CA and host-name checks, each refusal with its own code.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { connect } from "../../../migrate/engine/pg";
import type { MigrationError } from "../../../migrate/engine/errors";
import { clusterInfo } from "../../support/db";
import { startTlsCluster, type TlsCluster } from "../../support/tls-cluster";

let cluster: TlsCluster;
beforeAll(async () => {
  cluster = await startTlsCluster();
});
afterAll(() => cluster?.stop());

/** Connects, returns whether the session is encrypted and the server's TLS version, closes. */
async function session(url: string): Promise<{ ssl: boolean; user: string }> {
  const c = await connect({ url });
  try {
    const r = await c.query<{ ssl: boolean; user: string }>("SELECT s.ssl, current_user AS user FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()");
    return r.rows[0]!;
  } finally {
    await c.end();
  }
}

async function failure(url: string): Promise<MigrationError> {
  const e = await connect({ url }).then(
    async (c) => {
      await c.end();
      throw new Error("connected, expected a refusal");
    },
    (err: unknown) => err as MigrationError,
  );
  return e;
}

const redacted = (url: string): string => {
  const u = new URL(url);
  u.password = "***";
  return u.toString();
};

describe("sslmode against a hostssl-only server", () => {
  it("disable: refused by pg_hba.conf as unencrypted, with TARGET_TLS_REQUIRED and the fix", async () => {
    const url = cluster.url({ query: "sslmode=disable" });
    const e = await failure(url);
    expect(e.code).toBe("TARGET_TLS_REQUIRED");
    expect(e.message).toBe(
      `PostgreSQL at ${redacted(url)} accepts only encrypted connections from this client (no pg_hba.conf entry for host "127.0.0.1", user "${cluster.superuser}", database "postgres", no encryption); ` +
        "the password was not checked. Add sslmode=require to the URL (or verify-full with sslrootcert=<the server's CA file> to also check the certificate).",
    );
    expect(e.meta).toEqual({ step: "connect", pgCode: "28000", sslmode: "disable" });
  });

  it("allow (plain refused, then TLS), prefer, require: encrypted without verification", async () => {
    for (const mode of ["allow", "prefer", "require"]) {
      expect([mode, await session(cluster.url({ query: `sslmode=${mode}` }))]).toEqual([mode, { ssl: true, user: cluster.superuser }]);
    }
    // No sslmode at all is libpq's default, prefer.
    expect(await session(cluster.url({}))).toEqual({ ssl: true, user: cluster.superuser });
  });

  it("verify-ca checks the chain only (an IP address is fine); verify-full also checks the host name", async () => {
    const ca = encodeURIComponent(cluster.caFile);
    expect(await session(cluster.url({ query: `sslmode=verify-ca&sslrootcert=${ca}` }))).toEqual({ ssl: true, user: cluster.superuser });
    expect(await session(cluster.url({ host: "localhost", query: `sslmode=verify-full&sslrootcert=${ca}` }))).toEqual({ ssl: true, user: cluster.superuser });
    // require with a CA behaves as verify-ca (libpq's rule for a root certificate that is present).
    expect(await session(cluster.url({ query: `sslmode=require&sslrootcert=${ca}` }))).toEqual({ ssl: true, user: cluster.superuser });

    const byIp = cluster.url({ query: `sslmode=verify-full&sslrootcert=${ca}` });
    const e = await failure(byIp);
    expect(e.code).toBe("TARGET_TLS_FAILED");
    expect(e.message).toBe(
      `The TLS certificate of PostgreSQL at ${redacted(byIp)} is not for this host name (Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ). ` +
        "Connect by a name the certificate lists (the provider's endpoint name, not an IP address or alias), or use sslmode=verify-ca to check only the CA.",
    );
  });

  it("a wrong CA is refused with TARGET_TLS_FAILED naming the CA file, for verify-ca, verify-full and require+sslrootcert", async () => {
    const wrong = encodeURIComponent(cluster.wrongCaFile);
    for (const [mode, host] of [["verify-ca", "127.0.0.1"], ["verify-full", "localhost"], ["require", "127.0.0.1"]] as const) {
      const url = cluster.url({ host, query: `sslmode=${mode}&sslrootcert=${wrong}` });
      const e = await failure(url);
      expect([mode, e.code, e.message]).toEqual([
        mode,
        "TARGET_TLS_FAILED",
        `The TLS certificate of PostgreSQL at ${redacted(url)} is not signed by the CA in ${cluster.wrongCaFile} (unable to verify the first certificate). ` +
          "Set sslrootcert to the CA that issued the server's certificate (your provider's CA bundle), or use sslmode=require to encrypt without verifying it.",
      ]);
      expect(e.meta).toEqual({ step: "connect", pgCode: "UNABLE_TO_VERIFY_LEAF_SIGNATURE", sslmode: mode });
    }
    // sslrootcert=system: the test CA is not among the system's trusted roots.
    const sys = cluster.url({ host: "localhost", query: "sslmode=verify-full&sslrootcert=system" });
    const e = await failure(sys);
    expect([e.code, e.message.split(" (")[0]]).toEqual(["TARGET_TLS_FAILED", `The TLS certificate of PostgreSQL at ${redacted(sys)} is not signed by the system's trusted roots`]);
  });

  it("verify-full without sslrootcert and without ~/.postgresql/root.crt fails before connecting, naming the file and the fixes", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "armp-home-"));
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const e = await failure(cluster.url({ host: "localhost", query: "sslmode=verify-full" }));
      expect([e.code, e.message]).toEqual([
        "CONFIG_INVALID",
        `sslmode=verify-full verifies the server certificate but no CA is given and ${home}/.postgresql/root.crt does not exist. ` +
          "Add sslrootcert=<CA file> to the URL (your provider's CA bundle), sslrootcert=system for the system's trusted roots, or use sslmode=require to encrypt without verification.",
      ]);
      // libpq's default file, when present, is used.
      fs.mkdirSync(path.join(home, ".postgresql"));
      fs.copyFileSync(cluster.caFile, path.join(home, ".postgresql", "root.crt"));
      expect(await session(cluster.url({ host: "localhost", query: "sslmode=verify-full" }))).toEqual({ ssl: true, user: cluster.superuser });
    } finally {
      process.env.HOME = saved;
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("28000 and 28P01 are told apart: pg_hba.conf reject, role without LOGIN, wrong password", async () => {
    const hba = cluster.url({ database: cluster.rejectedDatabase, query: "sslmode=require" });
    const e1 = await failure(hba);
    expect([e1.code, e1.message]).toEqual([
      "TARGET_HBA_REJECTED",
      `PostgreSQL at ${redacted(hba)} does not accept this client's address, user or database (pg_hba.conf rejects connection for host "127.0.0.1", user "${cluster.superuser}", database "${cluster.rejectedDatabase}", SSL encryption); ` +
        "the password was not checked. Allow this host in the server's pg_hba.conf (a host/hostssl line for this address, user and database) or, on a managed service, in its network rules (security group, authorized networks).",
    ]);

    const admin = await cluster.superClient();
    try {
      await admin.query("CREATE ROLE armp_nologin NOLOGIN PASSWORD 'nologin-Pass-1'");
    } finally {
      await admin.end();
    }
    const nologin = cluster.url({ user: "armp_nologin", password: "nologin-Pass-1", query: "sslmode=require" });
    const e2 = await failure(nologin);
    expect([e2.code, e2.message]).toEqual([
      "TARGET_AUTH_FAILED",
      `PostgreSQL at ${redacted(nologin)} refused the login (role "armp_nologin" is not permitted to log in). Check that the role exists and has LOGIN.`,
    ]);

    const wrong = cluster.url({ password: "Wr0ng-Pass-word", query: "sslmode=require" });
    const e3 = await failure(wrong);
    expect([e3.code, e3.message]).toEqual([
      "TARGET_AUTH_FAILED",
      `PostgreSQL at ${redacted(wrong)} refused the credentials (password authentication failed for user "${cluster.superuser}"). Check the user name and password in the target URL.`,
    ]);
    expect(`${e3.message} ${JSON.stringify(e3.meta)}`).not.toContain("Wr0ng-Pass-word");
  });
});

describe("sslmode against a server without TLS (the shared test cluster, ssl = off)", () => {
  const plain = (query: string): string => {
    const i = clusterInfo();
    return `postgresql://${i.superuser}:${encodeURIComponent(i.password)}@127.0.0.1:${i.port}/postgres?${query}`;
  };

  it("prefer and allow fall back to plain TCP; disable is plain", async () => {
    for (const mode of ["prefer", "allow", "disable"]) {
      expect([mode, await session(plain(`sslmode=${mode}`))]).toEqual([mode, { ssl: false, user: clusterInfo().superuser }]);
    }
  });

  it("require is refused with TARGET_TLS_FAILED saying the server offers no TLS", async () => {
    const url = plain("sslmode=require");
    const e = await failure(url);
    expect([e.code, e.message]).toEqual([
      "TARGET_TLS_FAILED",
      `PostgreSQL at ${redacted(url)} does not offer TLS, and sslmode=require requires it. Turn on ssl in the server's configuration, or use sslmode=prefer (or disable) for a server on a trusted network.`,
    ]);
  });

  it("an unknown sslmode is a CONFIG_INVALID naming the valid ones", async () => {
    const e = await failure(plain("sslmode=required"));
    expect([e.code, e.message]).toEqual(["CONFIG_INVALID", "sslmode=required is not a libpq sslmode; use one of disable, allow, prefer, require, verify-ca, verify-full."]);
  });
});
