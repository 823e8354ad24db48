/**
 * Issue 6: capture on the SQLite source + catch-up sync into PostgreSQL, against the real cluster.
 */
import * as path from "path";
import Database from "better-sqlite3";
import { generateArmp } from "../../../bench/armp-data";
import { fingerprintData, installCapture, removeCapture, runMigration, syncChanges, verify, type SyncReport } from "../../../migrate/engine";
import { createTestDatabase, withClient } from "../../support/db";
import { tempDir } from "../engine/helpers";
import { startWriter } from "./writer";

function masterRows(file: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").all();
  } finally {
    db.close();
  }
}

function changelog(file: string): { tbl: string; op: string; pk: string }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT tbl, op, pk FROM _armp_changelog ORDER BY seq").all() as { tbl: string; op: string; pk: string }[];
  } finally {
    db.close();
  }
}

const SMALL = `
CREATE TABLE k (id INTEGER PRIMARY KEY, v TEXT);
CREATE TABLE nokey (a TEXT, b INTEGER);
CREATE TABLE wr (x TEXT, y INTEGER, z TEXT, PRIMARY KEY (x, y)) WITHOUT ROWID;
INSERT INTO k VALUES (1, 'a'), (2, 'b');
INSERT INTO nokey VALUES ('p', 1);
INSERT INTO wr VALUES ('q', 1, 'z');
`;

describe("capture triggers (small fixture)", () => {
  let pg: Awaited<ReturnType<typeof createTestDatabase>>;
  let src: string;
  beforeAll(async () => {
    pg = await createTestDatabase("capsmall");
    src = path.join(tempDir("capsmall"), "small.sqlite");
    const db = new Database(src);
    db.exec(SMALL);
    db.close();
  });
  afterAll(async () => {
    await pg.drop();
  });

  it("logs the key and op of every write (rowid for key-less tables, D+I for a key change), syncs them, and removal restores the schema exactly", async () => {
    const before = masterRows(src);
    const data0 = fingerprintData(src);
    const first = installCapture(src);
    expect(first).toEqual({ installed: true, id: expect.stringMatching(/^[0-9a-f-]{36}$/), tables: ["k", "nokey", "wr"], lastSeq: 0 });
    // Idempotent: same installation, same triggers.
    expect(installCapture(src)).toEqual(first);
    // sqlite_master ordered by type, name: tables, then triggers.
    expect((masterRows(src) as { name: string }[]).map((r) => r.name)).toEqual([
      "_armp_capture", "_armp_changelog", "k", "nokey", "wr",
      "_armp_capture_k_d", "_armp_capture_k_i", "_armp_capture_k_u", "_armp_capture_nokey_d", "_armp_capture_nokey_i", "_armp_capture_nokey_u", "_armp_capture_wr_d", "_armp_capture_wr_i", "_armp_capture_wr_u",
    ]);
    // Install and remove alone change nothing the application can see.
    expect(fingerprintData(src)).toEqual(data0);

    const target = { url: pg.url };
    const run = await runMigration(src, target, { jobs: 1 });
    expect(run.tables.map((t) => [t.table, t.rowsWritten])).toEqual([["k", 2], ["nokey", 1], ["wr", 1]]);

    const db = new Database(src);
    db.exec("INSERT INTO k VALUES (3, 'c'); UPDATE k SET v = 'bb' WHERE id = 2; UPDATE k SET id = 20 WHERE id = 1; DELETE FROM k WHERE id = 3; INSERT INTO nokey VALUES ('r', 2); UPDATE wr SET z = 'zz'; DELETE FROM wr; INSERT INTO wr VALUES ('s', 2, 'new')");
    db.close();
    expect(changelog(src)).toEqual([
      { tbl: "k", op: "I", pk: "[3]" },
      { tbl: "k", op: "U", pk: "[2]" },
      { tbl: "k", op: "D", pk: "[1]" },
      { tbl: "k", op: "I", pk: "[20]" },
      { tbl: "k", op: "D", pk: "[3]" },
      { tbl: "nokey", op: "I", pk: "[2]" },
      { tbl: "wr", op: "U", pk: '["q",1]' },
      { tbl: "wr", op: "D", pk: '["q",1]' },
      { tbl: "wr", op: "I", pk: '["s",2]' },
    ]);

    const r = await syncChanges(src, target);
    expect(r).toMatchObject({ fromSeq: 0, toSeq: 9, changes: 9, batches: 1, pending: 0, oldestPendingSeconds: null, warnings: [] });
    // k: upsert 2 and 20, delete 1 and 3; nokey reloaded whole (1 old row deleted, 2 inserted); wr: delete q, upsert s.
    expect(r.tables).toEqual({ k: { upserts: 2, deletes: 2 }, nokey: { upserts: 2, deletes: 1 }, wr: { upserts: 1, deletes: 1 } });
    expect(await withClient(pg.url, async (c) => (await c.query("SELECT id, v FROM k ORDER BY id")).rows)).toEqual([{ id: "2", v: "bb" }, { id: "20", v: "a" }]);
    expect(await withClient(pg.url, async (c) => (await c.query("SELECT a, b FROM nokey ORDER BY a")).rows)).toEqual([{ a: "p", b: "1" }, { a: "r", b: "2" }]);
    expect(await withClient(pg.url, async (c) => (await c.query("SELECT x, y, z FROM wr")).rows)).toEqual([{ x: "s", y: "2", z: "new" }]);
    const v = await verify(src, target);
    expect(v.tables.map((t) => [t.table, t.sourceRows, t.targetRows, t.match, t.sequenceOk])).toEqual([["k", 2, 2, true, true], ["nokey", 2, 2, true, true], ["wr", 1, 1, true, true]]);
    expect(v.ok).toBe(true);

    const data1 = fingerprintData(src);
    expect(removeCapture(src)).toEqual({ removedTriggers: 9, droppedChanges: 9 });
    expect(masterRows(src)).toEqual(before);
    expect(fingerprintData(src)).toEqual(data1);
    expect(removeCapture(src)).toEqual({ removedTriggers: 0, droppedChanges: 0 });
  });

  it("refuses to sync a source without capture, naming the command to run", async () => {
    await expect(syncChanges(src, { url: pg.url })).rejects.toMatchObject({ code: "CONFIG_INVALID", message: expect.stringContaining("armp-migrate capture install") });
  });
});

describe("ARMP: a writer during the copy, then sync (scale 0.005)", () => {
  let pg: Awaited<ReturnType<typeof createTestDatabase>>;
  let src: string;
  beforeAll(async () => {
    pg = await createTestDatabase("capsync");
    src = path.join(tempDir("capsync"), "armp.sqlite");
    generateArmp(src, { scale: 0.005, seed: 11 });
    // The application's choice, and what zero downtime needs: in WAL mode the copy's read
    // snapshot does not block the writer (a rollback journal would).
    const db = new Database(src);
    db.pragma("journal_mode = WAL");
    db.close();
  });
  afterAll(async () => {
    await pg.drop();
  });

  it("every write made before, during and after the copy reaches PostgreSQL; interrupted sync resumes; a second sync applies nothing", async () => {
    const before = masterRows(src);
    installCapture(src);
    const target = { url: pg.url };
    const writer = startWriter(src, 300, 200);
    await writer.ready;
    const copyStart = Date.now();
    const run = await runMigration(src, target, { jobs: 2 });
    const copyEnd = Date.now();
    const summary = await writer.done;
    expect(run.tables.length).toBe(7);
    expect(summary.writes).toBe(300);

    const lite = new Database(src, { readonly: true });
    const total = (lite.prepare("SELECT count(*) AS n, max(seq) AS m FROM _armp_changelog").get() as { n: number; m: number });
    const duringCopy = (lite.prepare("SELECT count(*) AS n FROM _armp_changelog WHERE at BETWEEN ? AND ?").get(copyStart / 86400000 + 2440587.5, copyEnd / 86400000 + 2440587.5) as { n: number }).n;
    lite.close();
    expect(duringCopy).toBeGreaterThan(0);
    expect(total.n).toBe(total.m);

    // Interrupted after the first committed batch: that batch's position is kept.
    await expect(syncChanges(src, target, { batchSize: 100, afterBatch: () => { throw new Error("simulated crash"); } })).rejects.toThrow("simulated crash");
    const pos = await withClient(pg.url, async (c) => Number((await c.query("SELECT last_seq FROM public._armp_sync_state")).rows[0].last_seq));
    expect(pos).toBe(100);

    const r: SyncReport = await syncChanges(src, target, { batchSize: 100 });
    expect(r).toMatchObject({ fromSeq: 100, toSeq: total.m, changes: total.n - 100, pending: 0, oldestPendingSeconds: null, warnings: [] });
    expect(r.batches).toBe(Math.ceil((total.n - 100) / 100));

    const v = await verify(src, target);
    expect(v.tables.filter((t) => !t.match || !t.sequenceOk)).toEqual([]);
    expect(v.ok).toBe(true);

    await withClient(pg.url, async (c) => {
      const ids = (sql: string, p: unknown[]): Promise<number[]> => c.query(sql, p).then((x) => x.rows.map((row: { id: string }) => Number(row.id)));
      expect(await ids("SELECT id FROM publication WHERE id = ANY($1) ORDER BY id", [summary.alivePubs])).toEqual(summary.alivePubs);
      expect(summary.alivePubs.length).toBe(25);
      expect(await ids("SELECT id FROM publication WHERE id = ANY($1)", [summary.deletedPubs])).toEqual([]);
      expect(summary.deletedPubs.length).toBe(25);
      const upd = (await c.query("SELECT id, title, citation_count FROM publication WHERE id = ANY($1)", [Object.keys(summary.updatedPubs).map(Number)])).rows as { id: string; title: string; citation_count: number }[];
      expect(Object.fromEntries(upd.map((u) => [u.id, { title: u.title, citation_count: Number(u.citation_count) }]))).toEqual(summary.updatedPubs);
      expect(await ids("SELECT id FROM organization WHERE id = ANY($1) ORDER BY id", [summary.movedOrgs.map((m) => m[1])])).toEqual(summary.movedOrgs.map((m) => m[1]));
      expect(await ids("SELECT id FROM organization WHERE id = ANY($1)", [summary.movedOrgs.map((m) => m[0])])).toEqual([]);
      const pp = (await c.query("SELECT count(*)::int AS n FROM project_publication WHERE (project_id, publication_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))", [summary.deletedProjectPubs.map((x) => x[0]), summary.deletedProjectPubs.map((x) => x[1])])).rows[0].n;
      expect(pp).toBe(0);
      expect(summary.deletedProjectPubs.length).toBe(50);
      const pa = (await c.query("SELECT count(*)::int AS n FROM publication_author WHERE (publication_id, researcher_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))", [summary.insertedAuthors.map((x) => x[0]), summary.insertedAuthors.map((x) => x[1])])).rows[0].n;
      expect(pa).toBe(summary.insertedAuthors.length);
    });

    const again = await syncChanges(src, target, { batchSize: 100 });
    expect(again).toMatchObject({ fromSeq: total.m, toSeq: total.m, changes: 0, applied: 0, batches: 0, pending: 0 });

    const data = fingerprintData(src);
    removeCapture(src);
    expect(masterRows(src)).toEqual(before);
    expect(fingerprintData(src)).toEqual(data);
  });
});
