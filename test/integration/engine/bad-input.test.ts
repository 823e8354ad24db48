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
  const rowCases: RowCase[] = [
    {
      name: "text column cast to integer",
      sql: `CREATE TABLE q (id INTEGER PRIMARY KEY, year_text TEXT); INSERT INTO q VALUES (1, '2020'), (5, 'abc');`,
      casts: { "q.year_text": "integer" },
      code: "ROW_REJECTED",
      meta: { table: "q", column: "year_text", key: { id: 5 }, value: "abc", pgCode: "22P02", step: "copy", targetRestored: true },
    },
  ];

  /**
   * Values the declared type cannot hold. By default the column is widened to a type that holds
   * them and every value arrives exactly; with strictTypes the run refuses in the profile step,
   * before it connects to the target at all.
   */
  interface WidenCase {
    name: string;
    sql: string;
    table: string;
    column: string;
    key: Record<string, unknown>;
    rows: number;
    declared: string;
    widenedTo: string;
    /** The column's values in PostgreSQL, by id, rendered as text (bytea as hex). */
    values: (string | null)[];
  }
  /** A table t(id, name) whose row `id` holds the bytes `hex` as TEXT, after a good row 1. */
  const badText = (name: string, good: string, id: number, hex: string): WidenCase => ({
    name,
    sql: `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, '${good}'), (${id}, CAST(x'${hex}' AS TEXT));`,
    table: "t",
    column: "name",
    key: { id },
    rows: 1,
    declared: "text",
    widenedTo: "bytea",
    values: ["\\x" + Buffer.from(good, "utf8").toString("hex"), "\\x" + hex],
  });
  const widenCases: WidenCase[] = [
    { ...badText("NUL byte in text", "ok", 2, "610062"), sql: `CREATE TABLE "My Table" (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO "My Table" VALUES (1, 'ok'), (2, CAST(x'610062' AS TEXT));`, table: "My Table" },
    badText("invalid UTF-8", "fine", 7, "41ff42"),
    // The extension checks text 8 bytes at a time while it is ASCII: bad bytes deep in a value.
    badText("NUL byte after 13 ASCII bytes", "fine and long enough to span words", 3, `${"61".repeat(13)}00${"62".repeat(9)}`),
    badText("invalid UTF-8 after ASCII and a valid two-byte sequence", "Zürich, Zürich, Zürich", 4, `${"61".repeat(9)}c3a9${"61".repeat(7)}ff61`),
    badText("UTF-8 sequence cut off after 16 ASCII bytes", "ok", 6, `${"61".repeat(16)}e6`),
    {
      name: "out-of-range date",
      sql: `CREATE TABLE ev (id INTEGER PRIMARY KEY, d DATE); INSERT INTO ev VALUES (1, '2020-01-31'), (2, '2021-02-30');`,
      table: "ev",
      column: "d",
      key: { id: 2 },
      rows: 1,
      declared: "date",
      widenedTo: "text",
      values: ["2020-01-31", "2021-02-30"],
    },
    {
      name: "text in an INTEGER column",
      sql: `CREATE TABLE p (id INTEGER PRIMARY KEY, year INTEGER); INSERT INTO p VALUES (1, 2020), (2, 'abc');`,
      table: "p",
      column: "year",
      key: { id: 2 },
      rows: 1,
      declared: "bigint",
      widenedTo: "text",
      values: ["2020", "abc"],
    },
    {
      name: "VARCHAR(19) holding longer values (SQLite never enforces the length)",
      sql: `CREATE TABLE researcher (id INTEGER PRIMARY KEY, orcid VARCHAR(19)); INSERT INTO researcher VALUES (1, '0000-0001-2345-6789'), (2, '0000-0001-2345-6789-EXTRA');`,
      table: "researcher",
      column: "orcid",
      key: { id: 2 },
      rows: 1,
      declared: "varchar(19)",
      widenedTo: "text",
      values: ["0000-0001-2345-6789", "0000-0001-2345-6789-EXTRA"],
    },
    {
      name: "a geometry BLOB in a column SQLite gives NUMERIC affinity",
      sql: `CREATE TABLE geo (id INTEGER PRIMARY KEY, geom GEOMETRY); INSERT INTO geo VALUES (1, x'0101000000'), (2, x'00');`,
      table: "geo",
      column: "geom",
      key: { id: 1 },
      rows: 2,
      declared: "numeric",
      widenedTo: "bytea",
      values: ["\\x0101000000", "\\x00"],
    },
  ];

  it.each(widenCases)("widened by default, every value exact: $name", async ({ sql, table, column, declared, widenedTo, rows, values }) => {
    const src = fixture(tempDir("widen"), "src.sqlite", sql);
    const h = sha256File(src);
    const r = await runMigration(src, { url: db.url });
    expect(r.ok).toBe(true);
    expect(r.decisions.map((d) => [d.table, d.column, d.from, d.to, d.rows])).toEqual([[table, column, declared, widenedTo, rows]]);
    const got = await withClient(db.url, async (c) => {
      const type = (await c.query("SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2", [`"${table}"`, column])).rows[0].t as string;
      const v = (await c.query(`SELECT "${column}"::text AS v FROM "${table}" ORDER BY id`)).rows.map((x) => x.v as string | null);
      await c.query(`DROP TABLE "${table}"`);
      return { type, v };
    });
    expect(got).toEqual({ type: widenedTo, v: values });
    expect(sha256File(src)).toBe(h);
  });

  it.each(widenCases)("--strict refuses in the profile step, before any DDL: $name", async ({ sql, table, column, key, rows, declared, widenedTo }) => {
    const src = fixture(tempDir("strict"), "src.sqlite", sql);
    const h = sha256File(src);
    const sockets = openSockets();
    const e = await failure(runMigration(src, { url: db.url }, { strictTypes: true }));
    expect({ code: e.code, meta: e.meta }).toEqual({ code: "TYPE_MISMATCH", meta: { table, column, key, rows, step: "profile", declared, widenedTo } });
    expect(e.message).toContain(`--cast ${table}.${column}=${widenedTo}`);
    // Refused before the target was even opened: no connection, no table.
    expect(openSockets()).toBe(sockets);
    expect(await tablesInTarget()).toEqual([]);
    expect(sha256File(src)).toBe(h);
  });

  it("a BLOB among text values is refused before any DDL, with a cast that works", async () => {
    const src = fixture(tempDir("mixed"), "src.sqlite", `CREATE TABLE f (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO f VALUES (1, 'plain'), (2, x'deadbeef');`);
    const h = sha256File(src);
    const e = await failure(runMigration(src, { url: db.url }));
    expect({ code: e.code, meta: e.meta }).toEqual({ code: "TYPE_MISMATCH", meta: { table: "f", column: "body", key: { id: 2 }, rows: 1, step: "profile", declared: "text" } });
    expect(await tablesInTarget()).toEqual([]);
    // The hint in the message works: with the cast the run loads both rows as bytes.
    expect(e.message).toContain("--cast f.body=bytea");
    const r = await runMigration(src, { url: db.url }, { castOverrides: { "f.body": "bytea" } });
    expect(r.ok).toBe(true);
    expect(await withClient(db.url, async (c) => (await c.query(`SELECT body::text AS v FROM f ORDER BY id`)).rows.map((x) => x.v))).toEqual(["\\x706c61696e", "\\xdeadbeef"]);
    await withClient(db.url, (c) => c.query("DROP TABLE f"));
    expect(sha256File(src)).toBe(h);
  });

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

  it.each(rowCases)("a row PostgreSQL rejects after DDL (an explicit cast the data does not fit): $name", async ({ sql, casts, code, meta }) => {
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
