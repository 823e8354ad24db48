/** `armp-migrate cutover [--freeze] [--json]` through main(): exit 0 when the gate passes, 1 when blocked. */
import * as path from "path";
import Database from "better-sqlite3";
import { runMigrateCli } from "../../support/cli";
import { installCapture, removeCapture, runMigration } from "../../../migrate/engine";
import { createTestDatabase, withClient } from "../../support/db";
import { tempDir } from "../engine/helpers";

const cli = runMigrateCli;

describe("armp-migrate cutover", () => {
  let pg: Awaited<ReturnType<typeof createTestDatabase>>;
  let src: string;
  beforeAll(async () => {
    pg = await createTestDatabase("cutcli");
    src = path.join(tempDir("cutcli"), "app.sqlite");
    const db = new Database(src);
    db.exec("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO item VALUES (1, 'a'), (2, 'b')");
    db.close();
    installCapture(src);
    await runMigration(src, { url: pg.url });
  });
  afterAll(async () => {
    removeCapture(src);
    await pg.drop();
  });

  it("drains, verifies and prints the freeze in ms (exit 0); --json carries the report", async () => {
    const db = new Database(src);
    db.exec("INSERT INTO item VALUES (3, 'c'); UPDATE item SET name = 'aa' WHERE id = 1");
    db.close();
    const human = await cli(["cutover", "--source", src, "--target", pg.url, "--freeze"]);
    expect(human.err).toBe("");
    expect(human.code).toBe(0);
    expect(human.out.replace(/frozen for \d+\.\d ms; \d+\.\d\d s/, "frozen for X ms; Y s")).toBe(
      "cut-over gate passed: 1 table(s) identical, sequences past max, capture drained (catch-up 2 sync(s), 2 row(s); final sync 0 row(s)); writes frozen for X ms; Y s. Switch the app to PostgreSQL now, then run sync once more (writes that waited on the freeze commit to SQLite).\n",
    );
    expect(await withClient(pg.url, async (c) => (await c.query("SELECT id, name FROM item ORDER BY id")).rows)).toEqual([{ id: "1", name: "aa" }, { id: "2", name: "b" }, { id: "3", name: "c" }]);
    const json = await cli(["cutover", "--source", src, "--target", pg.url, "--json"]);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.out) as { ok: boolean; frozen: boolean; freezeMs: null; catchUp: { syncs: number; applied: number }; finalSync: { pending: number }; verify: { ok: boolean } };
    expect([r.ok, r.frozen, r.freezeMs, r.catchUp.syncs, r.catchUp.applied, r.finalSync.pending, r.verify.ok]).toEqual([true, false, null, 1, 0, 0, true]);
  });

  it("exits 1 naming the table and key when the target differs", async () => {
    await withClient(pg.url, (c) => c.query("UPDATE item SET name = 'tampered' WHERE id = 2"));
    const r = await cli(["cutover", "--source", src, "--target", pg.url, "--freeze"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain('armp-migrate cutover failed [CUTOVER_BLOCKED]: Cut-over blocked for ' + src + ': table item differs (source 3 rows, target 3; keys {"id":2}).');
    await withClient(pg.url, (c) => c.query("UPDATE item SET name = 'b' WHERE id = 2"));
  });
});
