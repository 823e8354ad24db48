/** knex corpus: a schema from knex's column builders and rows inserted through knex on SQLite
 * (better-sqlite3), migrated by `armp-migrate run` at its default options, then read through
 * knex's pg client; it must read what the same schema and inserts give when knex builds them on
 * PostgreSQL itself. */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate } from "./corpus";
import { ACCOUNTS, createSchema, insertRows, pgKnex, readAll, sqliteKnex } from "./knex-corpus";

describe("knex 3 schema read back through knex's pg client", () => {
  let migrated: Awaited<ReturnType<typeof createTestDatabase>>;
  let native: Awaited<ReturnType<typeof createTestDatabase>>;
  let src: string;
  beforeAll(async () => {
    migrated = await createTestDatabase("orm_knex");
    native = await createTestDatabase("orm_knex_native");
    src = path.join(tempDir("orm-knex"), "app.sqlite");
    const lite = sqliteKnex(src);
    try {
      await createSchema(lite);
      await insertRows(lite, "account");
      await insertRows(lite, "post");
    } finally {
      await lite.destroy();
    }
    const pg = pgKnex(native.url);
    try {
      await createSchema(pg);
      await insertRows(pg, "account");
      await insertRows(pg, "post");
    } finally {
      await pg.destroy();
    }
  });
  afterAll(async () => {
    await migrated.drop();
    await native.drop();
  });

  it("migrates, and knex reads the same rows as from the schema it builds on PostgreSQL, then inserts after them", async () => {
    const hash = sha256File(src);
    const r = await migrate(src, migrated.url);
    expect({ code: r.code, err: r.err, tables: r.tables }).toEqual({ code: 0, err: "", tables: { account: 3, post: 3 } });
    const m = pgKnex(migrated.url);
    const n = pgKnex(native.url);
    try {
      const accounts = await readAll(m, "account");
      expect(accounts).toEqual(await readAll(n, "account"));
      expect(await readAll(m, "post")).toEqual(await readAll(n, "post"));
      expect(accounts[0]).toEqual({ ...ACCOUNTS[0], id: "1", visits: "2147483647", level: "-32768" });
      expect(accounts.map((a) => [a.id, a.email, a.active, a.prefs])).toEqual([
        ["1", "ada@example.com", true, { theme: "dark", nested: { list: [1, 2.5, null, true, "ü"] } }],
        ["2", "zoë@example.org", false, [1, "two", { three: 3 }]],
        ["3", "x@example.net", true, null],
      ]);
      const created = (await m("account").select("created_at").orderBy("id")) as { created_at: unknown }[];
      expect(created.map((c) => c.created_at instanceof Date && !Number.isNaN(c.created_at.getTime()))).toEqual([true, true, true]);
      const [ins] = (await m("account").insert({ email: "new@example.com", visits: 1, active: false }).returning("id")) as { id: string }[];
      expect(ins.id).toBe("4");
      const [post] = (await m("post").insert({ account_id: 4, title: "new" }).returning("id")) as { id: string }[];
      expect(post.id).toBe("4");
      expect(await m("post").join("account", "account.id", "post.account_id").where("account.plan", "team plan").orderBy("post.id").pluck("post.title")).toEqual(["first", "second"]);
      expect(await m("account").where("prefs", "@>", JSON.stringify({ theme: "dark" })).pluck("id")).toEqual(["1"]);
    } finally {
      await m.destroy();
      await n.destroy();
    }
    expect(sha256File(src)).toBe(hash);
  });
});
