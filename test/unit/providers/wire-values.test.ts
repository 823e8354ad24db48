/** Reading the host's property bags, validating them, and keeping the target URL out of errors. */
import { MigrationError } from "../../../migrate/engine/errors";
import { checkShape, readProps } from "../../../migrate/providers/lifecycle-support";
import { scrubSecrets } from "../../../migrate/engine/url";
import { redactError, targetIdentity } from "../../../migrate/providers/target";
import { containsUnknown, reveal, sameValue, secret, SECRET_SIG, SECRET_SIG_KEY, UNKNOWN } from "../../../migrate/providers/wire-values";

const URL = "postgres://armp:p%40ss-w0rd@db:5433/armp";

describe("wire values", () => {
  it("finds the unknown sentinel at any depth", () => {
    expect(containsUnknown({ a: [{ b: { c: UNKNOWN } }] })).toBe(true);
    expect(containsUnknown({ a: [{ b: { c: "known" } }], d: null })).toBe(false);
    expect(containsUnknown({ s: secret(UNKNOWN) })).toBe(true);
  });

  it("reveals nested secret envelopes and drops __provider", () => {
    expect(secret("x")).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: "x" });
    expect(reveal({ a: secret({ b: [secret(1), 2] }) })).toEqual({ a: { b: [1, 2] } });
    expect(readProps({ __provider: "text", targetUrl: secret(URL), n: 1 })).toEqual({ targetUrl: URL, n: 1 });
  });

  it("compares structurally, ignoring key order but not array order", () => {
    expect(sameValue({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(sameValue({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameValue({ a: 1 }, { a: 1, b: undefined })).toBe(true);
  });
});

describe("target URL handling", () => {
  it("identifies the database without the password", () => {
    expect(targetIdentity(URL, "public")).toBe("armp@db:5433/armp?schema=public");
    expect(targetIdentity("postgres://armp:other@db/armp", "s")).toBe("armp@db:5432/armp?schema=s");
  });

  it("scrubs the URL and both spellings of its password", () => {
    expect(scrubSecrets(`connect ${URL} failed; password p@ss-w0rd or p%40ss-w0rd`, [URL])).toBe("connect postgres://armp:***@db:5433/armp failed; password *** or ***");
  });

  it("rethrows as a MigrationError with message, stack and meta scrubbed, code kept", () => {
    const src = new MigrationError("TARGET_AUTH_FAILED", `auth failed for ${URL}`, { step: "connect", dsn: URL });
    const out = redactError(src, [URL], "schema.create");
    expect(out).toBeInstanceOf(MigrationError);
    expect(out.code).toBe("TARGET_AUTH_FAILED");
    expect(out.message).toBe("auth failed for postgres://armp:***@db:5433/armp");
    expect(out.meta).toEqual({ step: "connect", dsn: "postgres://armp:***@db:5433/armp" });
    expect(out.stack).not.toContain("p@ss-w0rd");
    expect(out.stack).not.toContain("p%40ss-w0rd");
    const plain = redactError(new Error("boom p@ss-w0rd"), [URL], "data.create");
    expect(plain.code).toBe("INTERNAL");
    expect(plain.message).toBe("Unexpected failure during data.create: boom ***. This is a bug; rerun with the same input and report it.");
  });
});

describe("check()", () => {
  const shape = { sourcePath: { kind: "string" }, targetUrl: { kind: "string" }, jobs: { kind: "number" }, tables: { kind: "array", optional: true } } as const;

  it("accepts complete inputs and unknowns", () => {
    expect(checkShape({ sourcePath: "a.sqlite", targetUrl: secret(URL), jobs: 2 }, shape)).toEqual([]);
    expect(checkShape({ sourcePath: UNKNOWN, targetUrl: UNKNOWN, jobs: UNKNOWN }, shape)).toEqual([]);
  });

  it("names each bad property without quoting the URL", () => {
    expect(checkShape({ targetUrl: "mysql://u:pw@h/db", jobs: 0, tables: "x" }, shape)).toEqual([
      { property: "sourcePath", reason: "sourcePath is required" },
      { property: "tables", reason: "tables must be an array, got a string" },
      { property: "targetUrl", reason: "targetUrl must use postgres:// or postgresql://, not mysql://" },
      { property: "jobs", reason: "jobs must be a whole number of at least 1, got 0" },
    ]);
    expect(checkShape({ sourcePath: "a", targetUrl: "not a url pw", jobs: 1 }, shape)).toEqual([
      { property: "targetUrl", reason: "targetUrl is not a URL: pass a postgres://user:password@host:port/database URL" },
    ]);
  });
});
