/** knex column builders a plain default migration did not carry as knex's own PostgreSQL schema,
 * with the documented overrides: knex's SQLite dialect declares increments/integer as "integer",
 * smallint as "integer" too and decimal(10,2) as "float", so the file holds neither the width
 * nor the scale; --cast gap.count=integer --cast gap.level=smallint --cast gap.price=numeric(10,2)
 * give them back. The increments key stays a bigint identity (a cast would drop the identity), so
 * node-pg reads it as a string where knex's own int4 serial gives a number: asserted as it is.
 * JS Dates, which better-sqlite3 stores as epoch milliseconds, read as the same instants with
 * --epoch event.at=unix-ms (the default reads |n| < 1e11 as seconds: nothing in a column of
 * numbers only says its unit). */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate } from "./corpus";
import { createGapSchema, insertRows, pgKnex, readAll, sqliteKnex } from "./knex-corpus";

describe("knex 3 column builders read as from knex's own PostgreSQL schema, with the documented overrides", () => {
  it("increments, integer, smallint and decimal columns read as from knex's own PostgreSQL schema", async () => {
    const migrated = await createTestDatabase("orm_knex_gaps");
    const native = await createTestDatabase("orm_knex_gaps_native");
    const src = path.join(tempDir("orm-knex-gaps"), "app.sqlite");
    try {
      const lite = sqliteKnex(src);
      try {
        await createGapSchema(lite);
        await insertRows(lite, "gap");
      } finally {
        await lite.destroy();
      }
      const n = pgKnex(native.url);
      const m = pgKnex(migrated.url);
      try {
        await createGapSchema(n);
        await insertRows(n, "gap");
        const hash = sha256File(src);
        const r = await migrate(src, migrated.url, ["--cast", "gap.count=integer", "--cast", "gap.level=smallint", "--cast", "gap.price=numeric(10,2)"]);
        expect({ code: r.code, err: r.err, tables: r.tables }).toEqual({ code: 0, err: "", tables: { gap: 2 } });
        expect(sha256File(src)).toBe(hash);
        const want = await readAll(n, "gap");
        expect(want[0]).toEqual({ id: 1, count: 2147483647, level: -32768, big: "9007199254740993", price: "12.50", day: new Date(2024, 1, 29), seen: new Date(2024, 1, 29, 23, 59, 59, 999), alarm: "23:59:59", doc: { a: [1, 2] } });
        expect(await readAll(m, "gap")).toEqual(want.map((w) => ({ ...w, id: String(w.id) })));
      } finally {
        await m.destroy();
        await n.destroy();
      }
    } finally {
      await migrated.drop();
      await native.drop();
    }
  });

  it("JS Dates stored by knex on SQLite (epoch milliseconds) read back as the same instants", async () => {
    const db = await createTestDatabase("orm_knex_dates");
    const src = path.join(tempDir("orm-knex-dates"), "app.sqlite");
    const at = ["2024-02-29T23:59:59.999Z", "1969-12-31T23:59:59.001Z", "1972-06-30T12:00:00.000Z", "2038-01-19T03:14:08.000Z"];
    try {
      const lite = sqliteKnex(src);
      try {
        await lite.schema.createTable("event", (t) => {
          t.bigIncrements("id");
          t.datetime("at");
        });
        for (const a of at) await lite("event").insert({ at: new Date(a) });
      } finally {
        await lite.destroy();
      }
      const r = await migrate(src, db.url, ["--epoch", "event.at=unix-ms"]);
      expect({ code: r.code, err: r.err, tables: r.tables }).toEqual({ code: 0, err: "", tables: { event: 4 } });
      const m = pgKnex(db.url);
      try {
        const rows = (await m("event").select("at").orderBy("id")) as { at: Date }[];
        expect(rows.map((x) => x.at.toISOString())).toEqual(at);
      } finally {
        await m.destroy();
      }
    } finally {
      await db.drop();
    }
  });
});
