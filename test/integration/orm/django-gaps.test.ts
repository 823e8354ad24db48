/** The Django field types a plain default migration did not carry (shop.Gap, JSON lookups,
 * USE_TZ=True), read back through the ORM on PostgreSQL:
 * - TimeField (TIME): time, decided from the data (every value is time-of-day text);
 * - JSONField (text + CHECK (JSON_VALID)): jsonb, decided from the data, so key lookups work;
 * - UUIDField (char(32)) and DecimalField (Django declares a bare "decimal" on SQLite, so the
 *   scale is only in the model): the documented overrides --cast shop_gap.uid=uuid and
 *   --cast shop_gap.amount=numeric(10,2) — nothing in the file says a char(32) of hex digits is a
 *   UUID (an MD5 is too) or that 12.5 had two decimals;
 * - DateTimeField under USE_TZ=True: --timestamptz.
 * Still not equal (asserted as they are, so a change shows): DurationField, which SQLite stores as
 * bigint microseconds; no cast makes that an interval (PostgreSQL reads a bare number as seconds),
 * so Django reads an int where it wrote a timedelta and its duration lookups fail; and
 * GenericIPAddressField (char(39)): values read back equal, but Django's lookup binds inet. */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate, runPython } from "./corpus";
import { DJANGO_TABLE_ROWS, type DjangoCreated, type DjangoReadBack } from "./django-expected";

const CASTS = ["--cast", "shop_gap.uid=uuid", "--cast", "shop_gap.amount=numeric(10,2)"];

async function corpus(useTz: "0" | "1", options: string[]): Promise<{ created: DjangoCreated; back: DjangoReadBack; out: string }> {
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
    return { created, back, out: r.out };
  } finally {
    await db.drop();
  }
}

type Report = { decisions: { table: string; column: string; from: string; to: string; rows: number }[] };

describe("Django 5.2 field types decided from the data or cast as documented, read back through the ORM", () => {
  it("USE_TZ=False: Time, JSON, UUID and Decimal fields read back equal; their lookups and writes work; Duration is the known gap", async () => {
    const { created, back, out } = await corpus("0", CASTS);
    const rep = JSON.parse(out) as Report;
    expect(rep.decisions.filter((d) => d.table.startsWith("shop_")).map((d) => [d.table, d.column, d.from, d.to, d.rows])).toEqual([
      ["shop_item", "data", "text", "jsonb", 3],
    ]);
    expect(created.read["shop.Gap"][1]).toEqual({
      id: ["int", "2"], item_id: ["int", "2"], uid: ["UUID", "00000000-0000-4000-8000-000000000002"], duration: ["timedelta", "-1d 0s 1us"],
      clock: ["time", "00:00:00"], amount: ["Decimal", "12.50"], ip: ["str", "2001:db8::1"],
    });
    const withoutDuration = (rows: Record<string, unknown>[]): Record<string, unknown>[] => rows.map(({ duration: _d, ...rest }) => rest);
    expect(withoutDuration(back.read["shop.Gap"])).toEqual(withoutDuration(created.read["shop.Gap"]));
    // DurationField: bigint microseconds come back as the int Django stored on SQLite.
    expect(back.read["shop.Gap"].map((g) => g.duration)).toEqual([["int", "273600000005"], ["int", "-86399999999"], ["int", "0"]]);
    expect(back.read["shop.Item"]).toEqual(created.read["shop.Item"]);
    const { "duration gt": dur, ip, ...rest } = back.gap_queries;
    const { "duration gt": durWas, ip: ipWas, ...restWas } = created.gap_queries;
    expect(rest).toEqual(restWas);
    expect(rest).toEqual({
      "json key": { ok: ["list", [["int", "1"]]] }, "json nested": { ok: ["list", [["int", "1"]]] }, "json has_key": { ok: ["list", [["int", "3"]]] },
      "get by uuid": { ok: ["int", "2"] }, "time lt": { ok: ["list", [["int", "2"]]] },
    });
    expect([durWas, ipWas]).toEqual([{ ok: ["list", [["int", "1"]]] }, { ok: ["list", [["int", "2"]]] }]);
    expect([dur.error?.split(":")[0], ip.error?.split(":")[0]]).toEqual(["ProgrammingError", "ProgrammingError"]);
    expect(back.queries).toEqual(created.queries);
    // A new row cannot be written: Django binds the timedelta as interval into the bigint column.
    expect(back.gap_writes).toEqual({
      "new gap": { error: 'ProgrammingError: column "duration" is of type bigint but expression is of type interval' },
      "update gap": { error: "TypeError: unsupported operand type(s) for +=: 'int' and 'datetime.timedelta'" },
      "count by uid of new row": { ok: ["int", "0"] },
    });
  });

  it("USE_TZ=True with --timestamptz: every model reads back equal (aware datetimes), the queries answer the same", async () => {
    const { created, back } = await corpus("1", ["--timestamptz", ...CASTS]);
    for (const model of Object.keys(created.read).filter((m) => m !== "shop.Gap")) expect([model, back.read[model]]).toEqual([model, created.read[model]]);
    expect(created.read["shop.Item"][0].moment).toEqual(["datetime", "2024-02-29T23:59:59.999999+00:00"]);
    expect(back.queries).toEqual(created.queries);
    expect(back.writes["update"]).toEqual({ ok: ["list", [["Decimal", "0.99"], ["dict", { changed: ["bool", "True"] }]]] });
  });
});
