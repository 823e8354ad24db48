/** knex column builders whose PostgreSQL reads after a default migration differ from the schema
 * knex builds on PostgreSQL itself: increments/integer/smallint become bigint (node-pg returns
 * strings where knex's own int4/int2 columns give numbers) and decimal(10,2) becomes double
 * precision (knex's SQLite dialect declares it "float", so the scale is gone: 12.5, not "12.50").
 * The date, datetime, time and json columns of the same table do read the same. And JS Dates,
 * which knex's better-sqlite3 client stores as epoch milliseconds, come back shifted when they
 * lie within 1e11 ms of 1970 (read as seconds although the column holds milliseconds). These
 * tests fail until the engine handles them; the rest of the knex corpus is knex.test.ts. */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate } from "./corpus";
import { createGapSchema, insertRows, pgKnex, readAll, sqliteKnex } from "./knex-corpus";

describe("knex 3 column builders a default migration does not carry (engine findings)", () => {
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
        const r = await migrate(src, migrated.url);
        expect({ code: r.code, err: r.err, tables: r.tables }).toEqual({ code: 0, err: "", tables: { gap: 2 } });
        expect(sha256File(src)).toBe(hash);
        const want = await readAll(n, "gap");
        expect(want[0]).toEqual({ id: 1, count: 2147483647, level: -32768, big: "9007199254740993", price: "12.50", day: new Date(2024, 1, 29), seen: new Date(2024, 1, 29, 23, 59, 59, 999), alarm: "23:59:59", doc: { a: [1, 2] } });
        expect(await readAll(m, "gap")).toEqual(want);
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
      const r = await migrate(src, db.url);
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
