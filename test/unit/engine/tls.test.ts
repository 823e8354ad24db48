/** libpq's TLS parameters turned into node-postgres's: what each sslmode tries and verifies. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { attempts, splitTls, sslOptions } from "../../../migrate/engine/tls";

describe("splitTls", () => {
  it("takes libpq's TLS parameters out of the URL and keeps everything else", () => {
    expect(splitTls("postgresql://u:p%40w@db.example.com:5433/armp?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x&uselibpqcompat=true", {})).toEqual({
      tls: { mode: "verify-full", rootCert: "/etc/ca.pem" },
      url: "postgresql://u:p%40w@db.example.com:5433/armp?application_name=x",
    });
  });

  it("falls back to PGSSLMODE / PGSSLROOTCERT / PGSSLCERT / PGSSLKEY, then libpq's prefer", () => {
    expect(splitTls("postgres://u@h/d", {}).tls).toEqual({ mode: "prefer" });
    expect(splitTls("postgres://u@h/d", { PGSSLMODE: "require", PGSSLROOTCERT: "system", PGSSLCERT: "/c.crt", PGSSLKEY: "/c.key" }).tls).toEqual({ mode: "require", rootCert: "system", cert: "/c.crt", key: "/c.key" });
    // The URL wins over the environment.
    expect(splitTls("postgres://u@h/d?sslmode=disable", { PGSSLMODE: "verify-full" }).tls).toEqual({ mode: "disable" });
  });

  it("refuses a mode libpq does not know", () => {
    expect(() => splitTls("postgres://u@h/d?sslmode=true", {})).toThrow("sslmode=true is not a libpq sslmode; use one of disable, allow, prefer, require, verify-ca, verify-full.");
  });
});

describe("attempts and sslOptions", () => {
  it("tries TLS and plain TCP in libpq's order", () => {
    expect(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].map((m) => attempts(m as never))).toEqual([[false], [false, true], [true, false], [true], [true], [true]]);
  });

  it("require and prefer encrypt without verification; verify-ca checks only the chain; verify-full also the name", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-tls-unit-"));
    const ca = path.join(dir, "ca.pem");
    fs.writeFileSync(ca, "PEM");
    try {
      expect(sslOptions({ mode: "require" }, "db.example.com", {})).toEqual({ servername: "db.example.com", rejectUnauthorized: false });
      expect(sslOptions({ mode: "prefer" }, "10.0.0.1", {})).toEqual({ rejectUnauthorized: false });
      const vca = sslOptions({ mode: "verify-ca", rootCert: ca }, "db.example.com", {});
      expect([vca.rejectUnauthorized, vca.ca, vca.servername, typeof vca.checkServerIdentity, vca.checkServerIdentity?.("x", {} as never)]).toEqual([true, "PEM", "db.example.com", "function", undefined]);
      // libpq: a root certificate given with require makes it verify-ca.
      const req = sslOptions({ mode: "require", rootCert: ca }, "db.example.com", {});
      expect([req.rejectUnauthorized, req.ca, typeof req.checkServerIdentity]).toEqual([true, "PEM", "function"]);
      expect(sslOptions({ mode: "verify-full", rootCert: ca }, "db.example.com", {})).toEqual({ servername: "db.example.com", rejectUnauthorized: true, ca: "PEM" });
      // "system": Node's trusted roots (no ca option), full verification.
      expect(sslOptions({ mode: "verify-full", rootCert: "system" }, "db.example.com", {})).toEqual({ servername: "db.example.com", rejectUnauthorized: true });
      // libpq's default file under HOME.
      fs.mkdirSync(path.join(dir, ".postgresql"));
      fs.writeFileSync(path.join(dir, ".postgresql", "root.crt"), "HOME-PEM");
      expect(sslOptions({ mode: "verify-full" }, "db.example.com", { HOME: dir }).ca).toBe("HOME-PEM");
      expect(() => sslOptions({ mode: "verify-ca", rootCert: path.join(dir, "missing.pem") }, "h", {})).toThrow(`Cannot read the root certificate ${path.join(dir, "missing.pem")} (sslmode=verify-ca)`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
