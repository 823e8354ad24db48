/** Peewee corpus: models over peewee's field types (BigAuto, Char, FixedChar, Text, Integer,
 * BigInteger, SmallInteger, Boolean, Date, DateTime, Time, Timestamp, Decimal, Float, Double, Blob,
 * UUID, BinaryUUID, IP, Bit, self ForeignKey, ManyToMany), `create_tables` and inserts on
 * SQLite, `armp-migrate run` at its default options, then the same models bound to PostgreSQL:
 * every row, the queries and a new write must come back equal. Boolean, Time and JSON fields
 * (model Gap) do not, and are asserted by peewee-gaps.test.ts. */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate, runPython, type Attempts, type Rows } from "./corpus";

type Created = { read: Rows; queries: Attempts; gap_queries: Attempts };
type ReadBack = Created & { writes: Attempts; gap_writes: Attempts };

describe("Peewee 4.5 models read back through the ORM on PostgreSQL", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let src: string;
  let created: Created;
  let hashBefore: string;
  beforeAll(async () => {
    db = await createTestDatabase("orm_peewee");
    src = path.join(tempDir("orm-peewee"), "app.sqlite");
    created = runPython<Created>("peewee_corpus.py", ["create", src]);
    hashBefore = sha256File(src);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("builds the SQLite corpus through peewee (the data the rest compares against)", () => {
    const [t1, t2] = created.read["thing"];
    expect([t1.price, t1.stamp, t1.uid, t1.buid, t1.ip, t2.big, t2.precise]).toEqual([
      ["Decimal", "99999999.99"], ["datetime", "2024-01-02T03:04:05.678000"], ["UUID", "6f1e0c4a-9b1d-4c55-8d1e-2b7a4e9c0f11"],
      ["UUID", "00000000-0000-4000-8000-000000000002"], ["str", "192.168.0.1"], ["int", "-9223372036854775808"], ["float", "inf"],
    ]);
    expect([created.read["thing.parent_id"], created.read["thing.tags"]]).toEqual([[null, 1], [[1, 2], [2]]]);
    expect(created.queries["sum price"]).toEqual({ ok: ["Decimal", "99999999.98"] });
  });

  it("migrates with default options, every table copied and verified, the source untouched", async () => {
    const r = await migrate(src, db.url);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
    expect(r.tables).toEqual({ gap: 2, tag: 2, thing: 2, thing_tag_through: 3 });
    expect(sha256File(src)).toBe(hashBefore);
  });

  it("reads equal objects, answers the same queries and takes a new write through the ORM on PostgreSQL", () => {
    const back = runPython<ReadBack>("peewee_corpus.py", ["read", db.url]);
    const tables = Object.keys(created.read).filter((t) => t !== "gap");
    expect(tables).toEqual(["gap.thing_id", "tag", "thing", "thing.parent_id", "thing.tags", "thing_tag_through"]);
    for (const t of tables) expect([t, back.read[t]]).toEqual([t, created.read[t]]);
    expect(back.queries).toEqual(created.queries);
    expect(back.writes).toEqual({
      "new thing": {
        ok: ["list", [["int", "3"], ["int", "3"], ["dict", {
          id: ["int", "3"], char: ["str", "new"], fixed: ["str", "n"], text: null, integer: ["int", "1"], big: ["int", "2"], small: ["int", "3"],
          day: ["date", "2025-01-02"], moment: ["datetime", "2025-01-02T03:04:05"],
          stamp: ["datetime", "2025-01-02T03:04:05"], price: ["Decimal", "1.20"], ratio: ["float", "2.5"], precise: ["float", "0.5"], blob: ["bytes", "6e6577"],
          uid: ["UUID", "12345678-1234-4234-8234-123456789abc"], buid: ["UUID", "6f1e0c4a-9b1d-4c55-8d1e-2b7a4e9c0f11"], ip: ["str", "10.1.2.3"],
          bits: ["int", "2"],
        }]]],
      },
    });
    expect(sha256File(src)).toBe(hashBefore);
  });
});
