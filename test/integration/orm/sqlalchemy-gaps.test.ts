/** SQLAlchemy types a default `armp-migrate run` does not carry as the types SQLAlchemy's
 * PostgreSQL dialect expects: Uuid (CHAR(32) hex on SQLite -> varchar(32), not uuid), Time
 * (kept as text) and Interval (stored by SQLite's dialect as a DATETIME offset from the epoch ->
 * timestamp, not interval). The ORM reads str/str/datetime where it wrote UUID/time/timedelta,
 * its lookups fail and new rows cannot be written. These tests fail until the engine handles
 * them; the rest of the corpus is sqlalchemy.test.ts. */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate, runPython, type Attempts, type Rows } from "./corpus";

type Created = { read: Rows; queries: Attempts; gap_queries: Attempts };
type ReadBack = Created & { writes: Attempts; gap_writes: Attempts };

describe("SQLAlchemy 2.1 types a default migration does not carry (engine findings)", () => {
  it("Uuid, Time and Interval read back equal, their lookups answer the same, and a new row is written", async () => {
    const db = await createTestDatabase("orm_sqlalchemy_gaps");
    try {
      const src = path.join(tempDir("orm-sqlalchemy-gaps"), "app.sqlite");
      const created = runPython<Created>("sqlalchemy_corpus.py", ["create", src]);
      const hash = sha256File(src);
      const r = await migrate(src, db.url);
      expect({ code: r.code, err: r.err, tables: r.tables }).toEqual({ code: 0, err: "", tables: { gap: 2, member: 4, person: 3, team: 2 } });
      const back = runPython<ReadBack>("sqlalchemy_corpus.py", ["read", db.url]);
      expect(sha256File(src)).toBe(hash);
      expect(created.read["gap"][0]).toEqual({
        id: ["int", "1"], person_id: ["int", "1"], token: ["UUID", "6f1e0c4a-9b1d-4c55-8d1e-2b7a4e9c0f11"], alarm: ["time", "23:59:59.999999"], wait: ["timedelta", "3d 14400s 5us"],
      });
      expect(back.read["gap"]).toEqual(created.read["gap"]);
      expect(back.gap_queries).toEqual(created.gap_queries);
      expect(back.gap_writes).toEqual({
        "new gap": { ok: ["dict", { id: ["int", "3"], person_id: ["int", "3"], token: ["UUID", "12345678-1234-4234-8234-123456789abc"], alarm: ["time", "06:07:08"], wait: ["timedelta", "0d 300s 0us"] }] },
      });
    } finally {
      await db.drop();
    }
  });
});
