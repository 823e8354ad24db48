import * as fs from "fs";
import * as path from "path";
import Database from "better-sqlite3";
import { MigrationError, runMigration } from "../../../migrate/engine";
import { freePort } from "../../support/pg-cluster";
import { createTestDatabase, withClient } from "../../support/db";
import { copyChinook, sha256File, tempDir } from "./helpers";

async function failure(p: Promise<unknown>): Promise<MigrationError> {
  const e = await p.then(() => null, (x: unknown) => x);
  if (!(e instanceof MigrationError)) throw new Error(`expected a MigrationError, got ${String(e)}`);
  return e;
}

function fixture(dir: string, name: string, sql: string): string {
  const p = path.join(dir, name);
  const d = new Database(p);
  d.exec(sql);
  d.close();
  return p;
}

describe("bad input gives a coded error naming table/column/key, and nothing is lost", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const dir = tempDir("bad");
  beforeAll(async () => {
    db = await createTestDatabase("bad");
  });
  afterAll(async () => {
    await db.drop();
  });
  const tablesInTarget = (): Promise<string[]> => withClient(db.url, async (c) => (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.tablename as string));

  it("missing, non-SQLite and corrupt files", async () => {
    expect((await failure(runMigration(path.join(dir, "nope.sqlite"), { url: db.url }))).code).toBe("SOURCE_UNREADABLE");
    const txt = path.join(dir, "notes.sqlite");
    fs.writeFileSync(txt, "this is not a database\n".repeat(100));
    expect((await failure(runMigration(txt, { url: db.url }))).code).toBe("SOURCE_NOT_SQLITE");
    const corrupt = copyChinook(dir);
    const buf = fs.readFileSync(corrupt);
    buf.fill(0xa5, 4096, 4096 * 8); // wipe the btree pages right after the header page
    fs.writeFileSync(corrupt, buf);
    const h = sha256File(corrupt);
    expect((await failure(runMigration(corrupt, { url: db.url }))).code).toBe("SOURCE_UNREADABLE");
    expect(sha256File(corrupt)).toBe(h);
    expect(await tablesInTarget()).toEqual([]);
  });

  it("a source locked by a writer", async () => {
    const src = fixture(dir, "locked.sqlite", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');");
    const writer = new Database(src);
    writer.exec("BEGIN EXCLUSIVE; INSERT INTO t VALUES (2, 'b');");
    try {
      expect((await failure(runMigration(src, { url: db.url }))).code).toBe("SOURCE_LOCKED");
    } finally {
      writer.exec("ROLLBACK");
      writer.close();
    }
  });

  it("unreachable target and wrong password (never echoed)", async () => {
    const src = copyChinook(tempDir("bad2"));
    const port = await freePort();
    expect((await failure(runMigration(src, { url: `postgres://u:secret-pw@127.0.0.1:${port}/x` }))).code).toBe("TARGET_UNREACHABLE");
    const u = new URL(db.url);
    u.password = "wrong-Password-123";
    const e = await failure(runMigration(src, { url: u.toString() }));
    expect(e.code).toBe("TARGET_AUTH_FAILED");
    expect(e.message).not.toContain("wrong-Password-123");
    expect(JSON.stringify(e.meta)).not.toContain("wrong-Password-123");
  });

  it("a target table that already exists with other content", async () => {
    const src = fixture(dir, "exists.sqlite", `CREATE TABLE "user" (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO "user" VALUES (1, 'a');`);
    await withClient(db.url, (c) => c.query(`CREATE TABLE "user" (x int); INSERT INTO "user" VALUES (42)`));
    const e = await failure(runMigration(src, { url: db.url }));
    expect([e.code, e.meta.table]).toEqual(["TARGET_NOT_EMPTY", "user"]);
    expect(await withClient(db.url, async (c) => (await c.query(`SELECT x FROM "user"`)).rows)).toEqual([{ x: 42 }]);
    await withClient(db.url, (c) => c.query(`DROP TABLE "user"`));
  });

  const rowCases: [string, string, Record<string, unknown>, Record<string, string>?][] = [
    ["text column cast to integer", `CREATE TABLE q (id INTEGER PRIMARY KEY, year_text TEXT); INSERT INTO q VALUES (1, '2020'), (5, 'abc');`, { code: "ROW_REJECTED", table: "q", column: "year_text", key: { id: 5 } }, { "q.year_text": "integer" }],
  ];
  it.each(rowCases)("a row PostgreSQL rejects: %s", async (_name, sql, expected, casts) => {
    const src = fixture(tempDir("row"), "src.sqlite", sql);
    const h = sha256File(src);
    const e = await failure(runMigration(src, { url: db.url }, { castOverrides: casts }));
    expect({ code: e.code, table: e.meta.table, column: e.meta.column, key: e.meta.key }).toEqual(expected);
    expect(e.message).toContain("--cast");
    expect(sha256File(src)).toBe(h);
    expect(await tablesInTarget()).toEqual([]);
  });
});
