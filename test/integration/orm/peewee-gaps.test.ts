/** Peewee fields a plain default migration did not carry, read back, queried and written through
 * the ORM on PostgreSQL: TimeField (TIME) becomes time, decided from the data; BooleanField
 * (declared INTEGER on SQLite: 0/1 are also counts, so the file does not say boolean) and
 * JSONField (declared TEXT, no CHECK: the file does not say JSON) take the documented overrides
 * --cast gap.flag=boolean --cast gap.maybe=boolean --cast gap.data=jsonb. */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate, runPython, type Attempts, type Rows } from "./corpus";

type Created = { read: Rows; queries: Attempts; gap_queries: Attempts };
type ReadBack = Created & { writes: Attempts; gap_writes: Attempts };

describe("Peewee 4.5 Boolean, Time and JSON fields read back equal (Time decided, Boolean/JSON cast)", () => {
  it("Boolean, Time and JSON fields read back equal, their lookups answer the same, and a new row is written", async () => {
    const db = await createTestDatabase("orm_peewee_gaps");
    try {
      const src = path.join(tempDir("orm-peewee-gaps"), "app.sqlite");
      const created = runPython<Created>("peewee_corpus.py", ["create", src]);
      const hash = sha256File(src);
      const r = await migrate(src, db.url, ["--cast", "gap.flag=boolean", "--cast", "gap.maybe=boolean", "--cast", "gap.data=jsonb"]);
      expect({ code: r.code, err: r.err, tables: r.tables }).toEqual({ code: 0, err: "", tables: { gap: 2, tag: 2, thing: 2, thing_tag_through: 3 } });
      const back = runPython<ReadBack>("peewee_corpus.py", ["read", db.url]);
      expect(sha256File(src)).toBe(hash);
      expect(created.read["gap"][1]).toEqual({
        id: ["int", "2"], thing: ["Thing", "2"], flag: ["bool", "False"], maybe: ["bool", "True"], clock: ["time", "00:00:00"],
        data: ["list", [["int", "1"], ["str", "two"], ["dict", { three: ["int", "3"] }]]],
      });
      expect(back.read["gap"]).toEqual(created.read["gap"]);
      expect(back.gap_queries).toEqual(created.gap_queries);
      expect(back.gap_writes).toEqual({
        "new gap": { ok: ["dict", { id: ["int", "3"], flag: ["bool", "True"], maybe: ["bool", "False"], clock: ["time", "06:07:08"], data: ["dict", { kind: ["str", "new"] }] }] },
      });
    } finally {
      await db.drop();
    }
  });
});
