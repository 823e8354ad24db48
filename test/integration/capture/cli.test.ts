/** `armp-migrate capture install|remove` and `armp-migrate sync` end to end through main(). */
import * as path from "path";
import Database from "better-sqlite3";
import { runMigrateCli } from "../../support/cli";
import { createTestDatabase, withClient } from "../../support/db";
import { tempDir } from "../engine/helpers";

const cli = runMigrateCli;

describe("armp-migrate capture / sync", () => {
  let pg: Awaited<ReturnType<typeof createTestDatabase>>;
  let src: string;
  beforeAll(async () => {
    pg = await createTestDatabase("capcli");
    src = path.join(tempDir("capcli"), "app.sqlite");
    const db = new Database(src);
    db.exec("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(8,2)); INSERT INTO item VALUES (1, 'a', 1.5), (2, 'b', 2)");
    db.close();
  });
  afterAll(async () => {
    await pg.drop();
  });

  it("installs, syncs with a human and a JSON report, removes", async () => {
    const inst = await cli(["capture", "install", "--source", src]);
    expect(inst.code).toBe(0);
    expect(inst.out).toMatch(/^capture installed \(id [0-9a-f-]{36}\) on 1 table\(s\): item; changelog at seq 0\n$/);
    expect((await cli(["run", "--source", src, "--target", pg.url, "--json"])).code).toBe(0);

    const db = new Database(src);
    db.exec("INSERT INTO item VALUES (3, 'c', 3.25); UPDATE item SET price = 9.99 WHERE id = 1; DELETE FROM item WHERE id = 2");
    db.close();

    const human = await cli(["sync", "--source", src, "--target", pg.url, "--batch", "2"]);
    expect(human.code).toBe(0);
    expect(human.out.replace(/, \d+\.\d\d s;/, ", X s;")).toBe(
      "table  upserts  deletes\nitem         2        1\napplied 3 row change(s) from 3 changelog entries (seq 0 -> 3) in 2 batch(es), X s; no changes pending\n",
    );
    const json = await cli(["sync", "--source", src, "--target", pg.url, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ fromSeq: 3, toSeq: 3, changes: 0, applied: 0, batches: 0, pending: 0, oldestPendingSeconds: null, tables: {} });
    expect(await withClient(pg.url, async (c) => (await c.query("SELECT id, name, price::text FROM item ORDER BY id")).rows)).toEqual([
      { id: "1", name: "a", price: "9.99" },
      { id: "3", name: "c", price: "3.25" },
    ]);
    expect((await cli(["verify", "--source", src, "--target", pg.url])).code).toBe(0);

    const rm = await cli(["capture", "remove", "--source", src]);
    expect(rm).toEqual({ code: 0, out: "capture removed: 3 trigger(s) dropped, 3 changelog entries discarded\n", err: "" });
  });

  it("rejects a capture subcommand it does not know and a sync without capture", async () => {
    const bad = await cli(["capture", "frobnicate", "--source", src]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^capture needs install or remove\n/);
    const none = await cli(["sync", "--source", src, "--target", pg.url]);
    expect(none.code).toBe(2);
    expect(none.err).toContain("armp-migrate sync failed [CONFIG_INVALID]: Change capture is not installed");
  });
});
