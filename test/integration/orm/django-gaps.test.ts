/** Django field types that a default `armp-migrate run` does not carry as the types Django's
 * PostgreSQL backend expects, so the ORM reads different objects, its lookups fail, or its
 * writes change values: UUIDField (char(32) hex, not uuid), GenericIPAddressField (char(39), not
 * inet: new writes gain a "/32"), DurationField (bigint microseconds, not interval), TimeField
 * (kept as text), DecimalField's scale (Django declares a bare "decimal" on SQLite), JSONField
 * lookups (text, not jsonb), and every DateTimeField under USE_TZ=True (timestamp, not
 * timestamptz). These tests fail until the engine handles them; the rest of the corpus is
 * django.test.ts. */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate, runPython } from "./corpus";
import { DJANGO_TABLE_ROWS, type DjangoCreated, type DjangoReadBack } from "./django-expected";

async function corpus(useTz: "0" | "1", options: string[] = []): Promise<{ created: DjangoCreated; back: DjangoReadBack }> {
  const db = await createTestDatabase("orm_django_gaps");
  try {
    const dir = tempDir("orm-django-gaps");
    const src = path.join(dir, "db.sqlite3");
    const created = runPython<DjangoCreated>("django_corpus.py", ["create", path.join(dir, "project"), src, useTz]);
    const hash = sha256File(src);
    const r = await migrate(src, db.url, options);
    expect({ code: r.code, err: r.err, tables: r.tables }).toEqual({ code: 0, err: "", tables: DJANGO_TABLE_ROWS });
    const back = runPython<DjangoReadBack>("django_corpus.py", ["read", path.join(dir, "project"), db.url, useTz]);
    expect(sha256File(src)).toBe(hash);
    return { created, back };
  } finally {
    await db.drop();
  }
}

const NEW_GAP = {
  id: ["int", "4"], item_id: ["int", "4"], uid: ["UUID", "12345678-1234-4234-8234-123456789abc"],
  duration: ["timedelta", "0d 300s 0us"], clock: ["time", "06:07:08"], amount: ["Decimal", "3.00"], ip: ["str", "10.1.2.3"],
};

describe("Django 5.2 field types a default migration does not carry (engine findings)", () => {
  it("USE_TZ=False: UUID/Duration/Time/Decimal-scale fields read back equal, and JSON/IP/UUID/duration/time lookups and writes work", async () => {
    const { created, back } = await corpus("0");
    expect(back.read["shop.Gap"]).toEqual(created.read["shop.Gap"]);
    expect(back.gap_queries).toEqual(created.gap_queries);
    expect(back.gap_writes).toEqual({ "new gap": { ok: ["dict", NEW_GAP] }, "update gap": { ok: ["timedelta", "3d 14401s 5us"] }, "count by uid of new row": { ok: ["int", "1"] } });
  });

  it("USE_TZ=True: every model reads back equal (aware datetimes)", async () => {
    const { created, back } = await corpus("1");
    for (const model of Object.keys(created.read).filter((m) => m !== "shop.Gap")) expect([model, back.read[model]]).toEqual([model, created.read[model]]);
    expect(back.queries).toEqual(created.queries);
    expect(back.writes["update"]).toEqual({ ok: ["list", [["Decimal", "0.99"], ["dict", { changed: ["bool", "True"] }]]] });
  });
});
