/**
 * Proves the verifier with a real PostgreSQL: it is stored verbatim (what pgBouncer needs to log in
 * with it), a client logs in with the plaintext password, and for passwords PostgreSQL hashed itself
 * we reproduce its verifier byte for byte from its salt.
 */
import { randomBytes } from "crypto";
import { Client } from "pg";
import { parseScramVerifier, scramSha256Verifier } from "../../../pgbouncer";
import { adminUrl, clusterInfo, withClient } from "../../support/db";

const suffix = randomBytes(4).toString("hex");
const roles: string[] = [];

afterAll(async () => {
  await withClient(adminUrl(), async (c) => {
    for (const r of roles) await c.query(`DROP ROLE IF EXISTS ${r}`);
  });
});

async function login(user: string, password: string): Promise<string> {
  const c = new Client({ host: "127.0.0.1", port: clusterInfo().port, user, password, database: "postgres" });
  try {
    await c.connect();
    return (await c.query<{ u: string }>("SELECT current_user AS u")).rows[0].u;
  } catch (e) {
    return `${(e as { code?: string }).code} ${(e as Error).message}`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe("SCRAM verifiers against PostgreSQL 15", () => {
  it("ALTER ROLE ... PASSWORD '<verifier>' stores it verbatim and the plaintext logs in", async () => {
    const role = `scram_a_${suffix}`;
    roles.push(role);
    const password = `pw-${suffix}`;
    const verifier = scramSha256Verifier(password);
    const stored = await withClient(adminUrl(), async (c) => {
      await c.query(`CREATE ROLE ${role} LOGIN`);
      await c.query(`ALTER ROLE ${role} PASSWORD '${verifier}'`);
      return (await c.query<{ p: string }>("SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1", [role])).rows[0].p;
    });
    expect(stored).toBe(verifier);
    expect(await login(role, password)).toBe(role);
    expect(await login(role, `${password}x`)).toBe(`28P01 password authentication failed for user "${role}"`);
  });

  it.each([
    ["ascii", "correct horse battery staple"],
    ["nfkc ligature and a non-ASCII space", "\uFB01nance\u00A0pass"],
    ["accents", "p\u00E4ssw\u00F6rd"],
  ])("reproduces the verifier PostgreSQL computed itself (%s)", async (label, password) => {
    const role = `scram_${label.replace(/[^a-z]/g, "").slice(0, 10)}_${suffix}`;
    roles.push(role);
    const stored = await withClient(adminUrl(), async (c) => {
      await c.query("SET password_encryption = 'scram-sha-256'");
      await c.query(`CREATE ROLE ${role} LOGIN PASSWORD ${c.escapeLiteral(password)}`);
      return (await c.query<{ p: string }>("SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1", [role])).rows[0].p;
    });
    const parsed = parseScramVerifier(stored)!;
    expect(scramSha256Verifier(password, { salt: parsed.salt, iterations: parsed.iterations })).toBe(stored);
  });
});
