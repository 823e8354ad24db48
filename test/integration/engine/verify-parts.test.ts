/**
 * verify() sums a big table in heap page ranges on several connections (verify.ts sumParts): the
 * parts must add up to the whole-table sum, and a change in any part must still be found and
 * narrowed to its key.
 */
import * as path from "path";
import Database from "better-sqlite3";
import { runMigration, verify } from "../../../migrate/engine";
import { checksumAlgo, combineSums, targetSum } from "../../../migrate/engine/checksum";
import { targetColumns } from "../../../migrate/engine/copy";
import { introspect } from "../../../migrate/engine/introspect";
import { openSource } from "../../../migrate/engine/sqlite";
import { sumParts, targetSumsInParts } from "../../../migrate/engine/verify";
import { createTestDatabase, withClient } from "../../support/db";
import { sha256File, tempDir } from "./helpers";

describe("verify in heap page ranges", () => {
  it("adds the parts of a big table up to its whole sum and finds changes in the first and the last part", async () => {
    const file = path.join(tempDir("verify-parts"), "parts.sqlite");
    const w = new Database(file);
    w.exec("CREATE TABLE big (id INTEGER PRIMARY KEY, note TEXT, score REAL); CREATE TABLE small (id INTEGER PRIMARY KEY, name TEXT)");
    const ins = w.prepare("INSERT INTO big VALUES (?, ?, ?)");
    w.transaction(() => {
      for (let i = 1; i <= 30000; i++) ins.run(i, `row ${i} ${"x".repeat(200)}`, i / 7);
      w.prepare("INSERT INTO small VALUES (1, 'one')").run();
    })();
    w.close();
    const hash = sha256File(file);
    const db = await createTestDatabase("verify_parts");
    try {
      const run = await runMigration(file, { url: db.url });
      expect(run.ok).toBe(true);
      const src = openSource(file);
      try {
        const t = introspect(src).tables.find((x) => x.name === "big")!;
        await withClient(db.url, async (c) => {
          const cols = await targetColumns(c, "public", t);
          const algo = await checksumAlgo(c);
          const pages = Number((await c.query("SELECT pg_relation_size('big') / 8192 AS n")).rows[0].n);
          const parts = sumParts([{ table: "big", pages }, { table: "small", pages: 1 }], 2).filter((p) => p.table === "big");
          expect(parts.length).toBe(4);
          const sums = [];
          for (const p of parts) sums.push(await targetSum(c, "public", "big", cols, algo, p.where, p.params));
          expect(sums.every((x) => x.rows > 6000)).toBe(true);
          const whole = await targetSum(c, "public", "big", cols, algo);
          expect(sums.reduce((a, b) => combineSums(a, b))).toEqual(whole);
          expect(whole.rows).toBe(30000);
          // run's variant (parts in transactions of their own, on connections of its own) agrees.
          const small = introspect(src).tables.find((x) => x.name === "small")!;
          const inParts = await targetSumsInParts({ url: db.url }, [t, small], 2);
          expect([inParts.get("big"), inParts.get("small")]).toEqual([whole, await targetSum(c, "public", "small", await targetColumns(c, "public", small), algo)]);
          // One change in the first page range, one in the last.
          await c.query("UPDATE big SET note = 'changed' WHERE id = 2");
          await c.query("DELETE FROM big WHERE id = 29990");
        });
      } finally {
        src.close();
      }
      const ver = await verify(file, { url: db.url });
      expect(ver.tables.map((t) => [t.table, t.match, t.sourceRows, t.targetRows, t.differingKeys])).toEqual([
        ["big", false, 30000, 29999, ['{"id":2}', '{"id":29990}']],
        ["small", true, 1, 1, []],
      ]);
    } finally {
      await db.drop();
    }
    expect(sha256File(file)).toBe(hash);
  });
});
