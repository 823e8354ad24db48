/** Django corpus: a generated project (auth, admin, sessions, contenttypes + models holding every
 * built-in field type) migrated on SQLite, copied by `armp-migrate run` at its default options,
 * then read back by the same project pointed at PostgreSQL: every row of every model, the
 * queries an app runs, and new writes must come back equal. The field types that do not survive
 * a default migration live in shop.Gap and are asserted by django-gaps.test.ts. */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate, runPython } from "./corpus";
import { DJANGO_TABLE_ROWS, type DjangoCreated, type DjangoReadBack } from "./django-expected";

describe("Django 5.2 project (USE_TZ=False) read back through the ORM on PostgreSQL", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dir: string;
  let src: string;
  let created: DjangoCreated;
  let hashBefore: string;
  beforeAll(async () => {
    db = await createTestDatabase("orm_django");
    dir = tempDir("orm-django");
    src = path.join(dir, "db.sqlite3");
    created = runPython<DjangoCreated>("django_corpus.py", ["create", path.join(dir, "project"), src, "0"]);
    hashBefore = sha256File(src);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("builds the SQLite corpus through Django (the data the rest compares against)", () => {
    expect(Object.fromEntries(Object.entries(created.read).map(([m, rows]) => [m, rows.length]))).toEqual({
      "admin.LogEntry": 1, "auth.Group": 1, "auth.Permission": 44, "auth.User": 2, "contenttypes.ContentType": 11, "sessions.Session": 1,
      "shop.Author": 2, "shop.Gap": 3, "shop.Item": 3, "shop.Profile": 1, "shop.Tag": 3,
    });
    const [i1, i2] = created.read["shop.Item"];
    expect([i1.price, i1.moment, i1.big, i2.big, i1.data, i1.tags]).toEqual([
      ["Decimal", "99999999.99"], ["datetime", "2024-02-29T23:59:59.999999"], ["int", "9223372036854775807"], ["int", "-9223372036854775808"],
      ["dict", { kind: ["str", "widget"], n: ["int", "1"], nested: ["dict", { list: ["list", [["int", "1"], ["float", "2.5"], null, ["bool", "True"], ["str", "ü"]]] }] }], [1, 3],
    ]);
    expect(created.queries["session"]).toEqual({ ok: ["list", [["dict", { cart: ["list", [["int", "1"], ["int", "2"], ["dict", { qty: ["int", "3"] }]]], user: ["str", "zoë"] }]]] });
  });

  it("migrates with default options, every table copied and verified, the source untouched", async () => {
    const r = await migrate(src, db.url);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
    expect(r.tables).toEqual(DJANGO_TABLE_ROWS);
    expect(sha256File(src)).toBe(hashBefore);
  });

  it("reads equal objects, answers the same queries and takes new writes through the ORM on PostgreSQL", () => {
    const back = runPython<DjangoReadBack>("django_corpus.py", ["read", path.join(dir, "project"), db.url, "0"]);
    const models = Object.keys(created.read).filter((m) => m !== "shop.Gap");
    expect(models.length).toBe(10);
    for (const model of models) expect([model, back.read[model]]).toEqual([model, created.read[model]]);
    expect(back.queries).toEqual(created.queries);
    expect(back.writes).toEqual({
      "new item": {
        ok: ["list", [["int", "3"], ["int", "4"], ["int", "4"], ["dict", {
          id: ["int", "4"], char: ["str", "new"], text: ["str", "t"], integer: ["int", "1"], big: ["int", "2"], small: ["int", "3"],
          positive: ["int", "4"], positive_small: ["int", "5"], positive_big: ["int", "6"], flag: ["bool", "True"], maybe: null,
          day: ["date", "2025-01-02"], moment: ["datetime", "2025-01-02T03:04:05"], price: ["Decimal", "1.23"], ratio: ["float", "2.5"],
          data: ["dict", { kind: ["str", "new"] }], blob: ["bytes", "6e6577"], email: ["str", "n@example.com"], slug: ["str", "new"],
          url: ["str", "https://new.example"], attachment: ["FieldFile", "files/new.bin"], note: null, author_id: ["int", "3"],
        }]]],
      },
      update: { ok: ["list", [["Decimal", "0.99"], ["dict", { changed: ["bool", "True"] }]]] },
      "new user": { ok: ["int", "3"] },
    });
    expect(sha256File(src)).toBe(hashBefore);
  });
});
