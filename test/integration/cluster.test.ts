import { createTestDatabase, withClient } from "../support/db";

describe("test PostgreSQL cluster", () => {
  it("is PostgreSQL 15+ with SCRAM passwords and a fresh database per file", async () => {
    const db = await createTestDatabase("cluster");
    try {
      const row = await withClient(db.url, async (c) => (await c.query("SELECT current_setting('server_version_num')::int AS v, current_setting('password_encryption') AS enc, current_database() AS d")).rows[0]);
      expect(row.v).toBeGreaterThanOrEqual(150000);
      expect(row.enc).toBe("scram-sha-256");
      expect(row.d).toBe(db.name);
    } finally {
      await db.drop();
    }
  });
});
