/**
 * armp-pgbouncer render against the test cluster: both userlist modes produce files a real
 * pgbouncer accepts, with the documented modes, and errors never print a password.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { renderPgBouncerIni } from "../../../pgbouncer";
import { HELP, main } from "../../../pgbouncer/cli";
import { adminUrl, clusterInfo, createTestDatabase, withClient } from "../../support/db";
import { startPgBouncer } from "../../support/pgbouncer";

const suffix = randomBytes(4).toString("hex");
const ROLE = `pgb_cli_${suffix}`;
const PASSWORD = `cli-${suffix}-secret`;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let backendUrl: string;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

beforeAll(async () => {
  db = await createTestDatabase("pgbcli");
  // PostgreSQL hashes this password itself (random salt): only --admin-url can reproduce it.
  await withClient(adminUrl(), (c) => c.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`));
  backendUrl = `postgres://${ROLE}:${PASSWORD}@127.0.0.1:${clusterInfo().port}/${db.name}`;
});

afterAll(async () => {
  await db?.drop();
  await withClient(adminUrl(), (c) => c.query(`DROP ROLE IF EXISTS ${ROLE}`));
});

async function loginThrough(port: number): Promise<string> {
  const c = new Client({ host: "127.0.0.1", port, user: ROLE, password: PASSWORD, database: db.name });
  await c.connect();
  try {
    return (await c.query<{ u: string }>("SELECT current_user AS u")).rows[0].u;
  } finally {
    await c.end();
  }
}

describe("armp-pgbouncer render", () => {
  it.each([
    ["--admin-url: the server's verifier", true],
    ["plaintext, owner-only", false],
  ])("%s: writes files pgbouncer runs with", async (_label, withAdmin) => {
    let result!: { code: number; out: string; err: string };
    let outDir = "";
    const bouncer = await startPgBouncer(async ({ port, dir }) => {
      outDir = path.join(dir, "cli");
      result = await run(["render", "--backend", backendUrl, "--listen", `127.0.0.1:${port}`, "--out", outDir, ...(withAdmin ? ["--admin-url", adminUrl()] : [])]);
      return { ini: fs.readFileSync(path.join(outDir, "pgbouncer.ini"), "utf8"), userlist: fs.readFileSync(path.join(outDir, "userlist.txt"), "utf8") };
    });
    try {
      const stored = await withClient(adminUrl(), async (c) => (await c.query<{ p: string }>("SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1", [ROLE])).rows[0].p);
      expect(result).toEqual({
        code: 0,
        out: `wrote ${outDir}/pgbouncer.ini (0644)\nwrote ${outDir}/userlist.txt (0600, ${withAdmin ? "SCRAM verifier read from pg_authid" : "plaintext password, owner-only"})\n`,
        err: "",
      });
      expect(fs.readFileSync(path.join(outDir, "userlist.txt"), "utf8")).toBe(`"${ROLE}" "${withAdmin ? stored : PASSWORD}"\n`);
      expect(fs.statSync(path.join(outDir, "userlist.txt")).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(outDir, "pgbouncer.ini")).mode & 0o777).toBe(0o644);
      expect(fs.readFileSync(path.join(outDir, "pgbouncer.ini"), "utf8")).toBe(
        renderPgBouncerIni({
          listenAddr: "127.0.0.1",
          listenPort: bouncer.port,
          backend: { host: "127.0.0.1", port: clusterInfo().port, database: db.name },
          authFile: path.join(outDir, "userlist.txt"),
          unixSocketDir: "",
          users: [],
        }),
      );
      expect(await loginThrough(bouncer.port)).toBe(ROLE);
    } finally {
      await bouncer.stop();
    }
  });

  it("explains the userlist choice in --help", async () => {
    expect(await run(["render", "--help"])).toEqual({ code: 0, out: HELP, err: "" });
    expect(HELP).toContain("--admin-url <url>   read the role's verifier from pg_authid (needs a superuser URL)");
    expect(HELP).toContain("write the plaintext password from --backend into userlist.txt, readable by its\n                      owner only (0600)");
  });

  it("fails with the option named and no password in the output", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "armp-pgb-cli-"));
    try {
      const noPw = await run(["render", "--backend", `postgres://${ROLE}@127.0.0.1:5432/${db.name}`, "--listen", "127.0.0.1:6432", "--out", out]);
      expect(noPw).toEqual({
        code: 2,
        out: "",
        err: `error [CONFIG_INVALID]: --backend postgres://${ROLE}@127.0.0.1:5432/${db.name} has no password; put it in the URL or pass --admin-url to read the role's SCRAM verifier.\n`,
      });
      const badPool = await run(["render", "--backend", backendUrl, "--listen", "127.0.0.1:6432", "--out", out, "--default-pool-size", "101"]);
      expect(badPool).toEqual({
        code: 2,
        out: "",
        err: "error [CONFIG_INVALID]: default_pool_size (defaultPoolSize): 101 exceeds max_client_conn (maxClientConn) = 100; lower default_pool_size or raise max_client_conn.\n",
      });
      const badAdmin = await run(["render", "--backend", backendUrl, "--listen", "127.0.0.1:6432", "--out", out, "--admin-url", backendUrl]);
      expect(badAdmin).toEqual({
        code: 1,
        out: "",
        err: `error [TARGET_AUTH_FAILED]: --admin-url postgres://${ROLE}:***@127.0.0.1:${clusterInfo().port}/${db.name} may not read pg_authid (superuser only); pass a superuser URL or omit --admin-url.\n`,
      });
      expect(fs.readdirSync(out)).toEqual([]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
