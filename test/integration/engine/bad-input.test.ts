import * as fs from "fs";
import * as path from "path";
import Database from "better-sqlite3";
import { MigrationError, runMigration } from "../../../migrate/engine";
import { freePort } from "../../support/pg-cluster";
import { adminUrl, createTestDatabase, withClient } from "../../support/db";
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

  // One object per case, and a one-parameter test function: jest-each passes a `done` callback to
  // any test function declaring more parameters than the row has values, so rows of different
  // lengths ([name, sql, expected] next to [name, sql, expected, casts]) made the shorter ones wait
  // for a `done()` that never came, 180 s each (jest.setTimeout in the setup file wins over
  // --testTimeout), which looked like a worker that never exits.
  interface RowCase {
    name: string;
    sql: string;
    casts?: Record<string, string>;
    code: string;
    meta: Record<string, unknown>;
  }
  /** A table t(id, name) whose row `id` holds the bytes `hex` as TEXT, after a good row 1. */
  const badText = (name: string, good: string, id: number, hex: string, reason: string): RowCase => ({
    name,
    sql: `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, '${good}'), (${id}, CAST(x'${hex}' AS TEXT));`,
    code: "ROW_REJECTED",
    meta: { table: "t", column: "name", key: { id }, reason, step: "copy", targetRestored: true },
  });
  const rowCases: RowCase[] = [
    {
      name: "text column cast to integer",
      sql: `CREATE TABLE q (id INTEGER PRIMARY KEY, year_text TEXT); INSERT INTO q VALUES (1, '2020'), (5, 'abc');`,
      casts: { "q.year_text": "integer" },
      code: "ROW_REJECTED",
      meta: { table: "q", column: "year_text", key: { id: 5 }, value: "abc", pgCode: "22P02", step: "copy", targetRestored: true },
    },
    {
      name: "NUL byte in text",
      sql: `CREATE TABLE "My Table" (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO "My Table" VALUES (1, 'ok'), (2, CAST(x'610062' AS TEXT));`,
      code: "ROW_REJECTED",
      meta: { table: "My Table", column: "note", key: { id: 2 }, reason: "nul-byte", step: "copy", targetRestored: true },
    },
    badText("invalid UTF-8", "fine", 7, "41ff42", "invalid-utf8"),
    // The extension checks text 8 bytes at a time while it is ASCII: bad bytes deep in a value.
    badText("NUL byte after 13 ASCII bytes", "fine and long enough to span words", 3, `${"61".repeat(13)}00${"62".repeat(9)}`, "nul-byte"),
    badText("invalid UTF-8 after ASCII and a valid two-byte sequence", "Zürich, Zürich, Zürich", 4, `${"61".repeat(9)}c3a9${"61".repeat(7)}ff61`, "invalid-utf8"),
    badText("UTF-8 sequence cut off after 16 ASCII bytes", "ok", 6, `${"61".repeat(16)}e6`, "invalid-utf8"),
    {
      name: "out-of-range date",
      sql: `CREATE TABLE ev (a INTEGER, b INTEGER, d DATE, PRIMARY KEY (a, b)); INSERT INTO ev VALUES (1, 1, '2020-01-31'), (1, 2, '2021-02-30');`,
      code: "ROW_REJECTED",
      meta: { table: "ev", column: "d", key: { a: 1, b: 2 }, value: "2021-02-30", pgCode: "22008", step: "copy", targetRestored: true },
    },
    {
      name: "text in an INTEGER column",
      sql: `CREATE TABLE p (id INTEGER PRIMARY KEY, year INTEGER); INSERT INTO p VALUES (1, 2020), (2, 'abc');`,
      code: "ROW_REJECTED",
      meta: { table: "p", column: "year", key: { id: 2 }, value: "abc", pgCode: "22P02", step: "copy", targetRestored: true },
    },
  ];
  /** Sessions the engine left on the test database; the server drops a backend shortly after its socket closes. */
  const engineSessions = async (): Promise<number[]> => {
    let pids: number[] = [];
    for (let i = 0; i < 40; i++) {
      pids = await withClient(adminUrl(), async (c) => (await c.query("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'armp-migrate'", [db.name])).rows.map((r) => r.pid as number));
      if (pids.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return pids;
  };
  const openSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;

  it.each(rowCases)("a row PostgreSQL rejects: $name", async ({ sql, casts, code, meta }) => {
    const src = fixture(tempDir("row"), "src.sqlite", sql);
    const h = sha256File(src);
    const sockets = openSockets();
    // The counter sees pg sockets (so the equality below is not vacuous).
    await withClient(db.url, () => Promise.resolve(expect(openSockets()).toBe(sockets + 1)));
    const e = await failure(runMigration(src, { url: db.url }, { castOverrides: casts }));
    expect({ code: e.code, meta: e.meta }).toEqual({ code, meta });
    expect(e.message).toContain("--cast");
    // Every engine connection is closed, including the one whose COPY was aborted.
    expect(openSockets()).toBe(sockets);
    expect(await engineSessions()).toEqual([]);
    expect(sha256File(src)).toBe(h);
    // No half-copied table: the run dropped what it created.
    expect(await tablesInTarget()).toEqual([]);
  });
});
