/**
 * Issue 6 part 4: PostgreSQL-side capture and rollback into SQLite, against the real cluster.
 * Writes made to PostgreSQL after the cut-over must all land in SQLite with SQLite's own storage
 * (INTEGER/REAL/TEXT/BLOB), and an unsafe rollback must refuse without touching the file.
 */
import * as path from "path";
import Database from "better-sqlite3";
import { installCapture, installTargetCapture, isMigrationError, removeTargetCapture, rollbackChanges, runMigration, syncChanges, targetCaptureStatus, verify, type MigrationError } from "../../../migrate/engine";
import { generateArmp } from "../../../bench/armp-data";
import { runMigrateCli } from "../../support/cli";
import { createTestDatabase, withClient } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";

const FIXTURE = `
CREATE TABLE org (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE item (
  id INTEGER PRIMARY KEY, org_id INTEGER REFERENCES org(id), title TEXT, active BOOLEAN,
  created DATETIME, day DATE, price DECIMAL(10,2), ratio REAL, meta JSON, data BLOB);
CREATE TABLE tag (item_id INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (item_id, tag)) WITHOUT ROWID;
CREATE TABLE note (body TEXT);
INSERT INTO org VALUES (1, 'Acme'), (2, 'Globex');
INSERT INTO item VALUES
  (1, 1, 'first', 1, '2024-01-02 03:04:05', '2024-01-02', 10.5, 0.25, '{"k": 1}', x'0102'),
  (2, 2, 'second', 0, '2024-02-03 04:05:06', '2024-02-03', 7, 1.5, NULL, NULL);
INSERT INTO tag VALUES (1, 'x'), (1, 'y'), (2, 'x');
INSERT INTO note VALUES ('n1');
`;

function makeSource(name: string): string {
  const file = path.join(tempDir(name), `${name}.sqlite`);
  const db = new Database(file);
  db.exec(FIXTURE);
  db.close();
  return file;
}

function rows(file: string, sql: string): unknown[][] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).raw(true).safeIntegers(true).all() as unknown[][];
  } finally {
    db.close();
  }
}

/** Writes the application would make to PostgreSQL after the cut-over; returns the new item ids. */
async function appWrites(url: string): Promise<{ orgId: bigint; a: bigint; b: bigint }> {
  return withClient(url, async (c) => {
    const org = await c.query<{ id: string }>("INSERT INTO org (name) VALUES ('Ünïcødé 組織 🚀') RETURNING id");
    const orgId = BigInt(org.rows[0].id);
    const a = await c.query<{ id: string }>(
      `INSERT INTO item (org_id, title, active, created, day, price, ratio, meta, data)
       VALUES ($1, 'naïve café — ✓', true, '2026-11-25 12:34:56.25', '2026-11-25', 1234.50, 0.1, '{"b": [1, 2], "a": "x"}', '\\x00ff10') RETURNING id`,
      [orgId.toString()],
    );
    const b = await c.query<{ id: string }>("INSERT INTO item (org_id, title, active) VALUES (NULL, NULL, false) RETURNING id");
    await c.query("UPDATE item SET title = 'first (edited)', price = 9.99, active = false WHERE id = 1");
    await c.query("DELETE FROM tag WHERE item_id = 2");
    await c.query("DELETE FROM item WHERE id = 2");
    await c.query("UPDATE tag SET tag = 'z' WHERE item_id = 1 AND tag = 'y'"); // key change: D + I
    await c.query("INSERT INTO tag VALUES ($1, 'new')", [a.rows[0].id]);
    await c.query("UPDATE note SET body = 'n1 (edited)'");
    await c.query("INSERT INTO note VALUES ('n2')");
    return { orgId, a: BigInt(a.rows[0].id), b: BigInt(b.rows[0].id) };
  });
}

const cli = runMigrateCli;

describe("rollback: PostgreSQL writes after the cut-over replayed into SQLite", () => {
  let pg: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    pg = await createTestDatabase("rollback");
  });
  afterAll(async () => {
    await pg.drop();
  });

  it("puts every insert/update/delete into SQLite with SQLite storage, verify says identical, and a second rollback applies nothing", async () => {
    const src = makeSource("rb1");
    const target = { url: pg.url, schema: "rb1" };
    await withClient(pg.url, (c) => c.query("CREATE SCHEMA rb1"));
    expect((await runMigration(src, target)).ok).toBe(true);
    const installed = await installTargetCapture(target, { sourcePath: src });
    expect(installed).toEqual({ installed: true, tables: ["item", "note", "org", "tag"], lastSeq: 0, appliedSeq: 0 });
    expect(await installTargetCapture(target, { sourcePath: src })).toEqual(installed);

    const ids = await appWrites(`${pg.url}?options=-csearch_path%3Drb1`);
    expect(ids).toEqual({ orgId: 3n, a: 3n, b: 4n });
    // 1 org + 2 items + (1 update) + 1 tag delete + 1 item delete + D/I tag + 1 tag + note U + note I
    expect((await targetCaptureStatus(target)).lastSeq).toBe(11);

    const r = await rollbackChanges(target, src);
    expect(r).toEqual({
      fromSeq: 0, toSeq: 11, changes: 11, applied: 12, upserts: 8, deletes: 4, lost: 0, pending: 0,
      // note has no primary key: reloaded whole (1 row deleted, 2 inserted)
      tables: { note: { upserts: 2, deletes: 1 }, tag: { upserts: 2, deletes: 2 }, item: { upserts: 3, deletes: 1 }, org: { upserts: 1, deletes: 0 } },
      seconds: expect.any(Number),
    });

    expect(rows(src, "SELECT * FROM org ORDER BY id")).toEqual([[1n, "Acme"], [2n, "Globex"], [3n, "Ünïcødé 組織 🚀"]]);
    expect(rows(src, "SELECT id, org_id, title, active, created, day, price, typeof(price), ratio, meta, data FROM item ORDER BY id")).toEqual([
      [1n, 1n, "first (edited)", 0n, "2024-01-02 03:04:05", "2024-01-02", 9.99, "real", 0.25, '{"k": 1}', Buffer.from([1, 2])],
      [3n, 3n, "naïve café — ✓", 1n, "2026-11-25 12:34:56.25", "2026-11-25", 1234.5, "real", 0.1, '{"a": "x", "b": [1, 2]}', Buffer.from([0x00, 0xff, 0x10])],
      [4n, null, null, 0n, null, null, null, "null", null, null, null],
    ]);
    expect(rows(src, "SELECT * FROM tag ORDER BY item_id, tag")).toEqual([[1n, "x"], [1n, "z"], [3n, "new"]]);
    expect(rows(src, "SELECT body FROM note ORDER BY body")).toEqual([["n1 (edited)"], ["n2"]]);
    expect(rows(src, "PRAGMA foreign_key_check")).toEqual([]);

    const v = await verify(src, target);
    expect(v.tables.map((t) => [t.table, t.sourceRows, t.targetRows, t.match]).sort()).toEqual([
      ["item", 3, 3, true], ["note", 2, 2, true], ["org", 3, 3, true], ["tag", 3, 3, true],
    ]);
    expect(v.ok).toBe(true);

    const hash = sha256File(src);
    const again = await rollbackChanges(target, src);
    expect(again).toMatchObject({ fromSeq: 11, toSeq: 11, changes: 0, applied: 0, lost: 0, tables: {} });
    expect(sha256File(src)).toBe(hash);

    expect(await removeTargetCapture(target)).toEqual({ removedTriggers: 4, droppedChanges: 0 });
    expect(await targetCaptureStatus(target)).toEqual({ installed: false, tables: [], lastSeq: 0, appliedSeq: 0 });
  });

  it("ARMP x0.005: writes after the cut-over (incl. ON DELETE CASCADE children) all land in SQLite and verify says identical", async () => {
    const src = path.join(tempDir("rbarmp"), "armp.sqlite");
    generateArmp(src, { scale: 0.005 });
    const target = { url: pg.url, schema: "rbarmp" };
    await withClient(pg.url, (c) => c.query("CREATE SCHEMA rbarmp"));
    expect((await runMigration(src, target)).ok).toBe(true);
    await installTargetCapture(target, { sourcePath: src });
    const { pubId, victim, victimChildren } = await withClient(`${pg.url}?options=-csearch_path%3Drbarmp`, async (c) => {
      const org = (await c.query<{ id: string }>("INSERT INTO organization (name, is_active, created_at) VALUES ('Ünï 組織 rb', true, '2026-11-25 10:00:00') RETURNING id")).rows[0].id;
      const pub = await c.query<{ id: string }>(
        `INSERT INTO publication (doi, title, abstract, publication_date, year, impact_score, apc_cost, is_open_access, pdf_thumbnail, organization_id, harvested_at, metadata)
         VALUES ('rb/1', 'naïve ✓', NULL, '2026-11-25', 2026, 1.25, 1999.95, true, '\\xdeadbeef', $1, '2026-11-25 12:00:00.5', '{"k": [1, "ü"]}') RETURNING id`,
        [org],
      );
      const researcher = (await c.query<{ id: string }>("SELECT min(id) AS id FROM researcher")).rows[0].id;
      await c.query("INSERT INTO publication_author VALUES ($1, $2, 1, true)", [pub.rows[0].id, researcher]);
      await c.query("UPDATE publication SET citation_count = citation_count + 1 WHERE id IN (SELECT id FROM publication ORDER BY id LIMIT 5)");
      await c.query("UPDATE researcher SET email = NULL WHERE id = $1", [researcher]);
      const v = (await c.query<{ id: string; n: string }>("SELECT publication_id AS id, count(*) AS n FROM publication_author WHERE publication_id NOT IN (SELECT id FROM publication ORDER BY id LIMIT 5) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")).rows[0];
      await c.query("DELETE FROM publication WHERE id = $1", [v.id]); // cascades to publication_author / project_publication
      return { pubId: BigInt(pub.rows[0].id), victim: BigInt(v.id), victimChildren: Number(v.n) };
    });
    expect(victimChildren).toBeGreaterThan(0);
    const r = await rollbackChanges(target, src);
    expect(r.lost).toBe(0);
    expect(r.tables.publication).toEqual({ upserts: 6, deletes: 1 });
    expect(r.tables.organization).toEqual({ upserts: 1, deletes: 0 });
    expect(r.tables.researcher).toEqual({ upserts: 1, deletes: 0 });
    expect(r.tables.publication_author.deletes).toBe(victimChildren);
    expect(rows(src, `SELECT doi, title, abstract, publication_date, year, impact_score, apc_cost, typeof(apc_cost), is_open_access, hex(pdf_thumbnail), harvested_at, metadata FROM publication WHERE id = ${pubId}`)).toEqual([
      ["rb/1", "naïve ✓", null, "2026-11-25", 2026n, 1.25, 1999.95, "real", 1n, "DEADBEEF", "2026-11-25 12:00:00.5", '{"k": [1, "ü"]}'],
    ]);
    expect(rows(src, `SELECT count(*) FROM publication_author WHERE publication_id = ${victim}`)).toEqual([[0n]]);
    expect(rows(src, `SELECT count(*) FROM publication WHERE id = ${victim}`)).toEqual([[0n]]);
    const v = await verify(src, target);
    expect(v.tables.filter((t) => !t.match)).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it("refuses (ROLLBACK_UNSAFE, file untouched) when SQLite was written after the cut-over, and succeeds after those writes are synced", async () => {
    const src = makeSource("rb2");
    const target = { url: pg.url, schema: "rb2" };
    await withClient(pg.url, (c) => c.query("CREATE SCHEMA rb2"));
    installCapture(src);
    expect((await runMigration(src, target)).ok).toBe(true);
    await syncChanges(src, target);
    await installTargetCapture(target, { sourcePath: src });
    await withClient(pg.url, (c) => c.query("UPDATE rb2.org SET name = 'Acme (pg)' WHERE id = 1"));
    // The app (wrongly) still writes to SQLite after the switch: 2 writes.
    const w = new Database(src);
    w.exec("INSERT INTO org VALUES (50, 'late'); UPDATE org SET name = 'Globex (sqlite)' WHERE id = 2");
    w.close();

    const hash = sha256File(src);
    const err = await rollbackChanges(target, src).then(() => undefined, (e: unknown) => e);
    expect(isMigrationError(err)).toBe(true);
    expect((err as MigrationError).code).toBe("ROLLBACK_UNSAFE");
    expect((err as MigrationError).message).toMatch(/^The SQLite file was written after the cut-over: 2 write\(s\) in _armp_changelog \(after seq 0\) never reached PostgreSQL/);
    expect((err as MigrationError).meta).toMatchObject({ unsyncedWrites: 2, syncedSeq: 0, step: "rollback" });
    expect(sha256File(src)).toBe(hash);

    // Keep them: sync pushes them into PostgreSQL (its writes are captured there too), then rollback.
    await syncChanges(src, target);
    const r = await rollbackChanges(target, src);
    expect(r).toMatchObject({ changes: 3, applied: 3, upserts: 3, deletes: 0, lost: 0, tables: { org: { upserts: 3, deletes: 0 } } });
    expect(rows(src, "SELECT * FROM org ORDER BY id")).toEqual([[1n, "Acme (pg)"], [2n, "Globex (sqlite)"], [50n, "late"]]);
    expect((await verify(src, target)).ok).toBe(true);
    // Rollback's own writes went through SQLite capture; they do not count as unsynced.
    expect(await rollbackChanges(target, src)).toMatchObject({ changes: 0, applied: 0 });
  });

  it("without SQLite capture, refuses (ROLLBACK_UNSAFE, file untouched) when the fingerprint recorded at install-target no longer matches", async () => {
    const src = makeSource("rb4");
    const target = { url: pg.url, schema: "rb4" };
    await withClient(pg.url, (c) => c.query("CREATE SCHEMA rb4"));
    await runMigration(src, target);
    await installTargetCapture(target, { sourcePath: src });
    await withClient(pg.url, (c) => c.query("UPDATE rb4.org SET name = 'Acme (pg)' WHERE id = 1"));
    const w = new Database(src);
    w.exec("INSERT INTO tag VALUES (2, 'late'); UPDATE org SET name = 'Globex (sqlite)' WHERE id = 2");
    w.close();
    // Re-running install must not bless the SQLite writes: the first fingerprint is kept.
    await installTargetCapture(target, { sourcePath: src });
    const hash = sha256File(src);
    const err = (await rollbackChanges(target, src).then(() => undefined, (e: unknown) => e)) as MigrationError;
    expect(err.code).toBe("ROLLBACK_UNSAFE");
    expect(err.message).toMatch(/^The SQLite file was written after the cut-over: 2 table\(s\) changed since `capture install-target` recorded it: org \(2 -> 2 rows\), tag \(3 -> 4 rows\)\. /);
    expect(err.meta).toMatchObject({ changedTables: ["org", "tag"], table: "org" });
    expect(sha256File(src)).toBe(hash);
    expect(rows(src, "SELECT * FROM org ORDER BY id")).toEqual([[1n, "Acme"], [2n, "Globex (sqlite)"]]);
  });

  it("refuses (ROLLBACK_UNSAFE, nothing committed) when SQLite rejects a replayed row: a UNIQUE value swapped between two rows", async () => {
    const src = path.join(tempDir("rb5"), "rb5.sqlite");
    const w = new Database(src);
    w.exec("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE); INSERT INTO u VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    w.close();
    const target = { url: pg.url, schema: "rb5" };
    await withClient(pg.url, (c) => c.query("CREATE SCHEMA rb5"));
    await runMigration(src, target);
    await installTargetCapture(target, { sourcePath: src });
    await withClient(pg.url, (c) => c.query("UPDATE rb5.u SET email = 'tmp' WHERE id = 1; UPDATE rb5.u SET email = 'a' WHERE id = 2; UPDATE rb5.u SET email = 'b' WHERE id = 1; UPDATE rb5.u SET email = 'c2' WHERE id = 3"));
    const hash = sha256File(src);
    const err = (await rollbackChanges(target, src).then(() => undefined, (e: unknown) => e)) as MigrationError;
    expect(err.code).toBe("ROLLBACK_UNSAFE");
    expect(err.message).toBe("SQLite rejected a replayed row of u: UNIQUE constraint failed: u.email. Nothing was written. The PostgreSQL rows break a constraint SQLite enforces (e.g. a UNIQUE value moved between two rows, or a foreign key); fix the rows in PostgreSQL and run rollback again.");
    expect(err.meta).toMatchObject({ table: "u", sqliteCode: "SQLITE_CONSTRAINT_UNIQUE" });
    expect(sha256File(src)).toBe(hash);
    expect(rows(src, "SELECT * FROM u ORDER BY id")).toEqual([[1n, "a"], [2n, "b"], [3n, "c"]]);
  });

  it("a crash between the SQLite COMMIT and recording the position is recovered: the next rollback replays the same rows (with and without SQLite capture)", async () => {
    for (const withSqliteCapture of [false, true]) {
      const name = withSqliteCapture ? "rb6c" : "rb6";
      const src = makeSource(name);
      const target = { url: pg.url, schema: name };
      await withClient(pg.url, (c) => c.query(`CREATE SCHEMA ${name}`));
      if (withSqliteCapture) installCapture(src);
      await runMigration(src, target);
      if (withSqliteCapture) await syncChanges(src, target);
      await installTargetCapture(target, { sourcePath: src });
      await withClient(pg.url, (c) => c.query(`UPDATE ${name}.org SET name = 'Acme (pg)' WHERE id = 1; INSERT INTO ${name}.org (name) VALUES ('new')`));
      const crash = await rollbackChanges(target, src, { afterSqliteCommit: () => { throw new Error("simulated crash"); } }).then(() => undefined, (e: unknown) => e);
      expect((crash as MigrationError).message).toMatch(/simulated crash/);
      // SQLite has the rows; the position does not.
      expect(rows(src, "SELECT * FROM org ORDER BY id")).toEqual([[1n, "Acme (pg)"], [2n, "Globex"], [3n, "new"]]);
      expect(await targetCaptureStatus(target)).toMatchObject({ lastSeq: 2, appliedSeq: 0 });
      const r = await rollbackChanges(target, src);
      expect(r).toMatchObject({ fromSeq: 0, toSeq: 2, changes: 2, applied: 2, upserts: 2, lost: 0 });
      expect(rows(src, "SELECT * FROM org ORDER BY id")).toEqual([[1n, "Acme (pg)"], [2n, "Globex"], [3n, "new"]]);
      expect((await verify(src, target)).ok).toBe(true);
      expect(await rollbackChanges(target, src)).toMatchObject({ changes: 0, applied: 0 });
      // A real SQLite write after that is still caught.
      const w = new Database(src);
      w.exec("UPDATE org SET name = 'late' WHERE id = 2");
      w.close();
      const err = (await rollbackChanges(target, src).then(() => undefined, (e: unknown) => e)) as MigrationError;
      expect(err.code).toBe("ROLLBACK_UNSAFE");
    }
  });

  it("refuses a value SQLite cannot hold (double NaN) and names table, column and key", async () => {
    const src = makeSource("rb3");
    const target = { url: pg.url, schema: "rb3" };
    await withClient(pg.url, (c) => c.query("CREATE SCHEMA rb3"));
    await runMigration(src, target);
    await installTargetCapture(target, { sourcePath: src });
    await withClient(pg.url, (c) => c.query("UPDATE rb3.item SET ratio = 'NaN' WHERE id = 2"));
    const hash = sha256File(src);
    const err = (await rollbackChanges(target, src).then(() => undefined, (e: unknown) => e)) as MigrationError;
    expect(err.code).toBe("ROLLBACK_UNSAFE");
    expect(err.message).toBe("item.ratio (double precision) at key [2] cannot be stored in SQLite: NaN has no SQLite REAL form (SQLite stores it as NULL). Nothing was written; change that value in PostgreSQL (or stop and keep PostgreSQL), then run rollback again.");
    expect(err.meta).toMatchObject({ table: "item", column: "ratio", key: { pk: "[2]" } });
    expect(sha256File(src)).toBe(hash);
  });

  it("armp-migrate capture install-target, rollback (human and --json), capture remove-target", async () => {
    const src = makeSource("rbcli");
    const args = ["--target", pg.url, "--schema", "rbcli"];
    await withClient(pg.url, (c) => c.query("CREATE SCHEMA rbcli"));
    expect((await cli(["run", "--source", src, ...args, "--json"])).code).toBe(0);
    const inst = await cli(["capture", "install-target", ...args, "--source", src]);
    expect(inst).toEqual({ code: 0, out: "target capture installed on 4 table(s): item, note, org, tag; changelog at seq 0, rollback position 0\n", err: "" });
    await withClient(pg.url, (c) => c.query("INSERT INTO rbcli.org (name) VALUES ('cli'); DELETE FROM rbcli.tag WHERE item_id = 2"));
    const rb = await cli(["rollback", "--source", src, ...args]);
    expect(rb.code).toBe(0);
    expect(rb.out.replace(/\d+\.\d\d s;/, "S s;")).toBe(
      ["table  upserts  deletes", "tag          0        1", "org          1        0", "rolled back: applied 2 row change(s) to SQLite from 2 PostgreSQL changelog entries (seq 0 -> 2), lost 0, S s; point the app back at SQLite now", ""].join("\n"),
    );
    const again = await cli(["rollback", "--source", src, ...args, "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ fromSeq: 2, toSeq: 2, changes: 0, applied: 0, lost: 0, pending: 0 });
    expect(rows(src, "SELECT * FROM org ORDER BY id")).toEqual([[1n, "Acme"], [2n, "Globex"], [3n, "cli"]]);
    expect(await cli(["capture", "remove-target", ...args])).toEqual({ code: 0, out: "target capture removed: 4 trigger(s) dropped, 0 unreplayed changelog entries discarded\n", err: "" });
    const missing = await cli(["rollback", "--source", src, ...args]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^armp-migrate rollback failed \[CONFIG_INVALID\]: PostgreSQL-side capture is not installed in schema rbcli/);
    expect((await cli(["capture", "install-target"])).code).toBe(2);
  });
});
