/**
 * max_prepared_statements is rendered by pgBouncer version (infra/pgbouncer.ts
 * maxPreparedStatementsFor): both renderings against real binaries. The host's pgBouncer
 * (Debian bookworm: 1.18) starts with the rendering for its version and refuses the one for 1.24;
 * the 1.24.1 image's acceptance of its rendering is asserted by stack.test.ts (SHOW CONFIG).
 */
import { spawnSync } from "child_process";
import { renderPgBouncerIni, renderUserlist, scramSha256Verifier, type PgBouncerSettings } from "../../pgbouncer";
import { maxPreparedStatementsFor, pgbouncerVersion } from "../../infra/pgbouncer";
import { findPgBouncerBin, startPgBouncer } from "../../bench/support/pgbouncer-process";

jest.setTimeout(60_000);

const hostVersion = (() => {
  const out = spawnSync(findPgBouncerBin(), ["--version"], { encoding: "utf8" }).stdout;
  const m = /PgBouncer (\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new Error(`cannot read the host pgbouncer's version from: ${out}`);
  return m[1] as string;
})();

function settings(port: number, userlistPath: string, dir: string, image: string): PgBouncerSettings {
  const max = maxPreparedStatementsFor(image);
  return {
    listenAddr: "127.0.0.1",
    listenPort: port,
    backend: { host: "127.0.0.1", port: 1, database: "armp" },
    authFile: userlistPath,
    unixSocketDir: dir,
    users: [{ name: "armp_app", verifier: scramSha256Verifier("pw") }],
    ...(max !== undefined ? { maxPreparedStatements: max } : {}),
  };
}

/** The first log line containing `needle`, waiting up to 10 s for pgBouncer to write it; the whole log if it never does. */
async function logLine(log: () => string, needle: string): Promise<string> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const line = log().split("\n").find((l) => l.includes(needle));
    if (line !== undefined) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
  return log();
}

describe("max_prepared_statements by pgBouncer version", () => {
  it("reads the version from image tags", () => {
    expect(pgbouncerVersion("edoburu/pgbouncer:v1.24.1-p1")).toEqual([1, 24]);
    expect(pgbouncerVersion("edoburu/pgbouncer:1.20.1")).toEqual([1, 20]);
    expect(pgbouncerVersion("registry:5000/pgbouncer:latest")).toBeUndefined();
    expect(maxPreparedStatementsFor("edoburu/pgbouncer:v1.24.1-p1")).toBe(200);
    expect(maxPreparedStatementsFor("edoburu/pgbouncer:v1.21.0-p0")).toBe(200);
    expect(maxPreparedStatementsFor("edoburu/pgbouncer:1.20.1")).toBeUndefined();
    expect(maxPreparedStatementsFor("pgbouncer:latest")).toBeUndefined();
  });

  it(`the host's pgBouncer ${hostVersion} starts with the rendering for its own version (no max_prepared_statements)`, async () => {
    expect(hostVersion).toBe("1.18.0");
    let ini = "";
    const b = await startPgBouncer(({ port, dir, userlistPath }) => {
      const s = settings(port, userlistPath, dir, `edoburu/pgbouncer:${hostVersion}`);
      ini = renderPgBouncerIni(s);
      return { ini, userlist: renderUserlist(s.users) };
    });
    try {
      expect(ini).not.toContain("max_prepared_statements");
      // pgBouncer logs "process up" just after it starts listening, which is when startPgBouncer returns.
      expect(await logLine(b.log, "process up: ")).toContain("process up: PgBouncer 1.18.0");
    } finally {
      await b.stop();
    }
  });

  it("the same pgBouncer refuses the rendering for 1.24 (why older versions get none)", async () => {
    const err = await startPgBouncer(({ port, dir, userlistPath }) => {
      const s = settings(port, userlistPath, dir, "edoburu/pgbouncer:v1.24.1-p1");
      return { ini: renderPgBouncerIni(s), userlist: renderUserlist(s.users) };
    }).then(
      async (b) => {
        await b.stop();
        return new Error("pgbouncer 1.18 started");
      },
      (e: Error) => e,
    );
    expect(err.message).toContain("ERROR unknown parameter: pgbouncer/max_prepared_statements");
    expect(err.message).toContain("FATAL cannot load config file");
  });
});
