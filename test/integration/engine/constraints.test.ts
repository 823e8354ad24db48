/**
 * Keys and foreign keys after the load (finishTables): keys table by table, foreign keys added
 * NOT VALID and validated on parallel connections. SQLite does not enforce foreign keys by default,
 * so an orphaned row must leave its key NOT VALID with a warning (rows kept), a key that cannot
 * exist in PostgreSQL is left out with a warning, and a duplicate primary key fails the run with
 * the table and constraint named and the target restored.
 */
import * as path from "path";
import Database from "better-sqlite3";
import { MigrationError, runMigration } from "../../../migrate/engine";
import { createTestDatabase, withClient } from "../../support/db";
import { sha256File, tempDir } from "./helpers";

function fixture(name: string, sql: string): string {
  const p = path.join(tempDir("constraints"), name);
  const d = new Database(p);
  // better-sqlite3 turns foreign keys on; SQLite's own default (and most apps) leave them off.
  d.pragma("foreign_keys = OFF");
  d.exec(sql);
  d.close();
  return p;
}

describe("constraints after the load", () => {
  const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });

  it("validates good foreign keys, keeps orphaned ones NOT VALID and leaves impossible ones out, with warnings in declaration order", async () => {
    const src = fixture(
      "fk.sqlite",
      `CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT, team TEXT);
       CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author(id), team TEXT REFERENCES author(team), editor_id INTEGER REFERENCES author(id));
       INSERT INTO author VALUES (1, 'Ann', 'red'), (2, 'Bo', 'red');
       INSERT INTO book VALUES (10, 1, 'red', 2), (11, 2, 'red', 1), (12, 99, 'red', 1);`,
    );
    const before = sha256File(src);
    const d = await createTestDatabase("fk");
    dbs.push(d);
    const r = await runMigration(src, { url: d.url }, { jobs: 2 });
    expect(r.tables.map((t) => [t.table, t.rowsWritten, t.checksumMatch])).toEqual([
      ["author", 2, true],
      ["book", 3, true],
    ]);
    expect(r.warnings.filter((w) => w.includes("foreign key"))).toEqual([
      "book: foreign key book_author_id_fkey added NOT VALID because some rows reference missing author rows; fix them, then ALTER TABLE ... VALIDATE CONSTRAINT book_author_id_fkey",
      'book: foreign key book_team_fkey not created: there is no unique constraint matching given keys for referenced table "author"',
    ]);
    const fks = await withClient(d.url, async (c) => (await c.query("SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' ORDER BY conname")).rows);
    expect(fks).toEqual([
      { conname: "book_author_id_fkey", convalidated: false },
      { conname: "book_editor_id_fkey", convalidated: true },
    ]);
    expect(r.verify.tables.map((t) => [t.table, t.foreignKeysOk])).toEqual([
      ["author", true],
      ["book", false],
    ]);
    expect(sha256File(src)).toBe(before);
  });

  it("refuses NULL in a primary key SQLite let through before any DDL, naming table, column and rowid", async () => {
    // SQLite lets a non-INTEGER PRIMARY KEY hold NULLs (legacy behaviour); PostgreSQL cannot.
    const src = fixture(
      "pk.sqlite",
      `CREATE TABLE tag (code TEXT PRIMARY KEY, label TEXT);
       INSERT INTO tag VALUES ('a', 'A'), (NULL, 'none'), (NULL, 'none again');
       CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);
       INSERT INTO note VALUES (1, 'x');`,
    );
    const before = sha256File(src);
    const d = await createTestDatabase("pk");
    dbs.push(d);
    const e = await runMigration(src, { url: d.url }, { jobs: 2 }).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(MigrationError);
    const err = e as MigrationError;
    expect({ code: err.code, table: err.meta.table, column: err.meta.column, key: err.meta.key, rows: err.meta.rows, step: err.meta.step }).toEqual({ code: "TYPE_MISMATCH", table: "tag", column: "code", key: { rowid: 2 }, rows: 2, step: "profile" });
    const left = await withClient(d.url, async (c) => (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows);
    expect(left).toEqual([]);
    expect(sha256File(src)).toBe(before);
  });

  it("builds secondary indexes beside the keys: a bad one is skipped with its reason, the rest and the foreign keys are in place", async () => {
    const src = fixture(
      "builds.sqlite",
      `CREATE TABLE team (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
       CREATE TABLE player (id INTEGER PRIMARY KEY, team_id INTEGER REFERENCES team(id), nick TEXT);
       CREATE INDEX player_nick ON player(nick);
       INSERT INTO team VALUES (1, 'a'), (2, 'b');
       INSERT INTO player VALUES (1, 1, 'x'), (2, 2, 'y'), (3, 1, 'z');`,
    );
    const d = await createTestDatabase("builds");
    dbs.push(d);
    const r = await runMigration(src, { url: d.url }, { jobs: 2, extraIndexes: [{ name: "player_bad", table: "player", columns: ["nick"], unique: false, where: "no_such_column > 0" }] });
    expect({ ok: r.ok, created: r.indexes.created, skipped: r.indexes.skipped.map((x) => x.name), warnings: r.warnings }).toEqual({
      ok: true,
      created: ["player_nick", "player_team_id_idx"],
      skipped: ["player_bad"],
      warnings: [],
    });
    expect(r.indexes.skipped[0].reason).toContain('column "no_such_column" does not exist');
    const state = await withClient(d.url, async (c) => ({
      fks: (await c.query("SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f'")).rows,
      indexes: (await c.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname")).rows.map((x) => x.indexname as string),
    }));
    expect(state).toEqual({ fks: [{ conname: "player_team_id_fkey", convalidated: true }], indexes: ["player_nick", "player_pkey", "player_team_id_idx", "team_name_key", "team_pkey"] });
  });

  it("creates a partial index whose SQLite predicate compares a boolean with 1", async () => {
    const src = fixture(
      "partial.sqlite",
      `CREATE TABLE member (id INTEGER PRIMARY KEY, IsActive BOOLEAN NOT NULL DEFAULT 1, name TEXT);
       CREATE INDEX member_active ON member(name) WHERE IsActive = 1;
       INSERT INTO member VALUES (1, 1, 'a'), (2, 0, 'b'), (3, 'true', 'c');`,
    );
    const d = await createTestDatabase("partial");
    dbs.push(d);
    const r = await runMigration(src, { url: d.url }, { jobs: 2 });
    expect({ ok: r.ok, created: r.indexes.created, skipped: r.indexes.skipped }).toEqual({ ok: true, created: ["member_active"], skipped: [] });
    const ix = await withClient(d.url, async (c) => {
      const def = (await c.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'member_active'")).rows[0].indexdef as string;
      const rows = (await c.query(`SELECT id FROM member WHERE "IsActive" ORDER BY id`)).rows.map((x) => Number(x.id));
      return { def, rows };
    });
    expect(ix).toEqual({ def: 'CREATE INDEX member_active ON public.member USING btree (name) WHERE ("IsActive" = true)', rows: [1, 3] });
  });
});
