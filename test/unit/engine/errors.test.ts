/** MigrationError's shape (what providers and the CLI print) and password redaction. */
import { MigrationError, redactUrl } from "../../../migrate/engine";
import { asMigrationError, jsonSafe } from "../../../migrate/engine/errors";
import { scrubSecrets } from "../../../migrate/engine/url";

describe("MigrationError", () => {
  it("carries code, JSON-safe meta and cause; toJSON leaves the cause (and any password in it) out", () => {
    const cause = Object.assign(new Error("password authentication failed for postgres://app:s3cret@db/x"), { code: "28P01" });
    const e = new MigrationError("ROW_REJECTED", "PostgreSQL rejected a row of t. Fix the row in the source.", { table: "t", column: "c", key: { id: 9007199254740993n, b: Buffer.from([1, 255]) }, step: "copy" }, cause);
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.message]).toEqual(["MigrationError", "ROW_REJECTED", "PostgreSQL rejected a row of t. Fix the row in the source."]);
    expect(e.cause).toBe(cause);
    expect(e.meta).toEqual({ table: "t", column: "c", key: { id: "9007199254740993", b: "\\x01ff" }, step: "copy" });
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: "ROW_REJECTED", message: "PostgreSQL rejected a row of t. Fix the row in the source.", meta: { table: "t", column: "c", key: { id: "9007199254740993", b: "\\x01ff" }, step: "copy" } });
    expect(JSON.stringify(e)).not.toContain("s3cret");
    expect(new MigrationError("INTERNAL", "x").cause).toBeUndefined();
  });

  it("asMigrationError keeps coded errors (adding the step) and wraps anything else as INTERNAL with the cause", () => {
    const coded = new MigrationError("LOCK_HELD", "busy", {});
    expect(asMigrationError(coded, "run")).toBe(coded);
    expect(coded.meta).toEqual({ step: "run" });
    const boom = new TypeError("boom");
    const w = asMigrationError(boom, "copy t");
    expect([w.code, w.message, w.meta, w.cause]).toEqual(["INTERNAL", "Unexpected failure during copy t: boom. This is a bug; rerun with the same input and report it.", { step: "copy t" }, boom]);
  });

  it("jsonSafe: safe bigints become numbers, others strings; Buffers become bytea hex; nested", () => {
    expect(jsonSafe({ a: [1n, 2n ** 63n - 1n], b: { c: Buffer.from("hi") }, d: null, e: "s" })).toEqual({ a: [1, "9223372036854775807"], b: { c: "\\x6869" }, d: null, e: "s" });
  });
});

describe("redactUrl / scrubSecrets", () => {
  it("hides the password and keeps everything else", () => {
    expect(redactUrl("postgres://app:s3cret@db.internal:5432/armp?sslmode=require")).toBe("postgres://app:***@db.internal:5432/armp?sslmode=require");
    expect(redactUrl("postgres://app@db:5432/armp")).toBe("postgres://app@db:5432/armp");
    expect(redactUrl("postgres://app:p%40ss%2Fw@db/x")).toBe("postgres://app:***@db/x");
  });

  it("falls back to hiding all credentials when the URL does not parse", () => {
    expect(redactUrl("not a url //user:pw@host/db")).toBe("not a url //***@host/db");
  });

  it("removes the decoded password from driver text", () => {
    expect(scrubSecrets("auth failed for p@ss/w and again p@ss/w", ["postgres://app:p%40ss%2Fw@db/x"])).toBe("auth failed for *** and again ***");
  });

  it("replaces a whole URL by its redacted form, and hides an unparsable one whole", () => {
    expect(scrubSecrets("dial postgres://app:p%40ss%2Fw@db/x: refused (p%40ss%2Fw)", ["postgres://app:p%40ss%2Fw@db/x"])).toBe("dial postgres://app:***@db/x: refused (***)");
    expect(scrubSecrets("bad url ::nope:: given", ["::nope::"])).toBe("bad url *** given");
    expect(scrubSecrets("nothing secret in postgres://app@db/x", ["postgres://app@db/x"])).toBe("nothing secret in postgres://app@db/x");
  });
});
