import Database from "better-sqlite3";
import { fingerprintSchema } from "../../../migrate/engine";
import { schemaLifecycle } from "../../../migrate/providers/schema-lifecycle";
import { createTestDatabase, withClient } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { buildMixed } from "./fixtures";

function inputs(source: string, url: string): Record<string, unknown> {
  return { sourcePath: source, schemaFingerprint: fingerprintSchema(source, { castOverrides: {}, timestamptz: false, textCollation: "C" }), targetUrl: url, targetSchema: "public", castOverrides: {}, timestamptz: false, textCollation: "C" };
}

async function viewsIn(url: string): Promise<string[]> {
  return withClient(url, async (c) => (await c.query("SELECT table_name FROM information_schema.views WHERE table_schema = 'public' ORDER BY 1")).rows.map((r) => r.table_name as string));
}

describe("the Pulumi schema step creates the views", () => {
  it("creates them on create, re-creates them when only a view changed, and drops them with the tables", async () => {
    const db = await createTestDatabase("schemaviews");
    const src = buildMixed(tempDir("schemaviews"));
    try {
      const before = sha256File(src);
      const created = await schemaLifecycle.create(inputs(src, db.url));
      const views = created.outs.views!;
      expect(views.filter((v) => v.status === "created").map((v) => v.name)).toEqual(["active_authors", "book_dates", "cheap", "code_lookup", "float_text", "inactive", "long_books", "price_tags", "Author Books", "author_titles"]);
      expect(views.filter((v) => v.status === "skipped")).toEqual([
        { name: "untranslatable", pgName: "untranslatable", status: "skipped", reason: "function typeof() has no PostgreSQL translation; rewrite it for PostgreSQL by hand", original: "CREATE VIEW untranslatable AS SELECT typeof(Title) AS t FROM BookItem" },
      ]);
      expect(await viewsIn(db.url)).toEqual(["Author Books", "active_authors", "author_titles", "book_dates", "cheap", "code_lookup", "float_text", "inactive", "long_books", "price_tags"]);
      // Tables are empty until the data step; the views read them already.
      expect(await withClient(db.url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM "Author Books"`)).rows[0].n)).toBe(0);
      expect(sha256File(src)).toBe(before);

      // Only a view changes: the diff is an in-place update, which re-creates the views.
      const w = new Database(src);
      w.exec(`DROP VIEW cheap; CREATE VIEW cheap AS SELECT title FROM bookitem WHERE price < 10`);
      w.close();
      const news = inputs(src, db.url);
      expect(await schemaLifecycle.diff(created.id, created.outs as unknown as Record<string, unknown>, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
      const updated = await schemaLifecycle.update(created.id, created.outs as unknown as Record<string, unknown>, news);
      expect(updated.outs.views!.find((v) => v.name === "cheap")).toEqual({ name: "cheap", pgName: "cheap", status: "created" });
      const cols = await withClient(db.url, async (c) => (await c.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'cheap' ORDER BY ordinal_position")).rows.map((r) => r.column_name));
      expect(cols).toEqual(["Title"]);

      await schemaLifecycle.delete(created.id, updated.outs as unknown as Record<string, unknown>);
      expect(await viewsIn(db.url)).toEqual([]);
    } finally {
      await db.drop();
    }
  });
});
