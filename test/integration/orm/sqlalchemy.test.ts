/** SQLAlchemy 2 corpus: declarative models over the generic types, `create_all` and inserts on
 * SQLite, `armp-migrate run` at its default options, then the same models read through an
 * engine on PostgreSQL: every row, the queries, and new writes must come back equal. The types a
 * default migration does not carry (Uuid, Time, Interval) live in table gap and are asserted by
 * sqlalchemy-gaps.test.ts. */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate, runPython, type Attempts, type Rows } from "./corpus";

type Created = { read: Rows; queries: Attempts; gap_queries: Attempts };
type ReadBack = Created & { writes: Attempts; gap_writes: Attempts };

describe("SQLAlchemy 2.1 models read back through the ORM on PostgreSQL", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let src: string;
  let created: Created;
  let hashBefore: string;
  beforeAll(async () => {
    db = await createTestDatabase("orm_sqlalchemy");
    src = path.join(tempDir("orm-sqlalchemy"), "app.sqlite");
    created = runPython<Created>("sqlalchemy_corpus.py", ["create", src]);
    hashBefore = sha256File(src);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("builds the SQLite corpus through SQLAlchemy (the data the rest compares against)", () => {
    const [p1, p2] = created.read["person"];
    expect([p1.balance, p1.seen, p1.color, p1.points, p2.points, p2.prefs, p2.manager_id]).toEqual([
      ["Decimal", "99999999.99"], ["datetime", "2024-02-29T23:59:59.999999"], ["enum", "Color.ultra_violet"], ["int", "9223372036854775807"],
      ["int", "-9223372036854775808"], ["list", [["int", "1"], ["str", "two"], ["dict", { three: ["int", "3"] }]]], ["int", "1"],
    ]);
    expect([created.read["person.teams"], created.read["team.people"]]).toEqual([[[1, 2], [1], [2]], [[1, 2], [1, 3]]]);
    expect([created.queries["sum balance"], created.queries["json key"]]).toEqual([{ ok: ["Decimal", "100000010.48"] }, { ok: ["list", [["int", "1"]]] }]);
  });

  it("migrates with default options, every table copied and verified, the source untouched", async () => {
    const r = await migrate(src, db.url);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
    expect(r.tables).toEqual({ gap: 2, member: 4, person: 3, team: 2 });
    expect(sha256File(src)).toBe(hashBefore);
  });

  it("reads equal objects, answers the same queries and takes new writes through the ORM on PostgreSQL", () => {
    const back = runPython<ReadBack>("sqlalchemy_corpus.py", ["read", db.url]);
    for (const t of ["team", "person", "person.teams", "team.people"]) expect([t, back.read[t]]).toEqual([t, created.read[t]]);
    expect(back.queries).toEqual(created.queries);
    expect(back.writes).toEqual({
      "new person": {
        ok: ["list", [["int", "4"], ["int", "3"], ["dict", {
          id: ["int", "4"], name: ["str", "New"], bio: null, age: ["int", "1"], points: ["int", "2"], active: ["bool", "True"], verified: null,
          born: ["date", "2025-01-02"], seen: ["datetime", "2025-01-02T03:04:05"], balance: ["Decimal", "1.20"], score: ["float", "2.5"],
          avatar: ["bytes", "6e6577"], prefs: ["dict", { theme: ["str", "new"] }], color: ["enum", "Color.green"], manager_id: ["int", "1"],
        }]]],
      },
      update: { ok: ["list", [["Decimal", "0.99"], ["dict", { changed: ["bool", "True"] }]]] },
    });
    expect(sha256File(src)).toBe(hashBefore);
  });
});
