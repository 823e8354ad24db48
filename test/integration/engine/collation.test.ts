/**
 * Text collation on a real target: with a database whose default collation is linguistic (ICU
 * en-US), the migrated columns still order exactly as SQLite ordered them (BINARY = PostgreSQL "C"),
 * unless --text-collation database is asked for; NOCASE columns get the ICU case-insensitive
 * collation, and the report says what that changes.
 */
import Database from "better-sqlite3";
import * as path from "path";
import { runMigration } from "../../../migrate/engine";
import { adminUrl, withClient } from "../../support/db";
import { sha256File, tempDir } from "./helpers";

const WORDS = ["b", "B", "a", "A", "_x", "Zebra", "äpfel", "apfel", "10", "9"];

describe("text collation", () => {
  const dir = tempDir("collation");
  const src = path.join(dir, "words.sqlite");
  const dbs: string[] = [];
  beforeAll(() => {
    const db = new Database(src);
    db.exec("CREATE TABLE word (id INTEGER PRIMARY KEY, w TEXT NOT NULL, tag TEXT COLLATE NOCASE)");
    const ins = db.prepare("INSERT INTO word (w, tag) VALUES (?, ?)");
    for (const w of WORDS) ins.run(w, w.toUpperCase());
    db.close();
  });
  afterAll(async () => {
    await withClient(adminUrl(), async (c) => {
      for (const n of dbs) await c.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
    });
  });

  /** A database whose default collation orders linguistically (ICU en-US), unlike SQLite. */
  const icuDatabase = async (name: string): Promise<string> => {
    const full = `${name}_${process.pid}`;
    await withClient(adminUrl(), (c) => c.query(`CREATE DATABASE "${full}" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`));
    dbs.push(full);
    return adminUrl(full);
  };

  const sqliteOrder = (): string[] => {
    const db = new Database(src, { readonly: true });
    try {
      return (db.prepare("SELECT w FROM word ORDER BY w").all() as { w: string }[]).map((r) => r.w);
    } finally {
      db.close();
    }
  };

  it("keeps SQLite's byte order with COLLATE \"C\" and gives the NOCASE column the case-insensitive collation", async () => {
    const before = sha256File(src);
    const url = await icuDatabase("coll_c");
    const r = await runMigration(src, { url }, { jobs: 2 });
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([
      'word.tag: SQLite COLLATE NOCASE ignores case; PostgreSQL gets COLLATE "public"."armp_case_insensitive" (ICU und-u-ks-level2, nondeterministic), so =, UNIQUE and GROUP BY ignore case as in SQLite (also for letters outside A-Z, which NOCASE compares exactly); ORDER BY follows ICU order, and LIKE on this column fails in PostgreSQL 15 (write "tag" COLLATE "C" ILIKE ...); --cast \'word.tag=text COLLATE "C"\' keeps it case-sensitive',
    ]);
    const got = await withClient(url, async (c) => ({
      collations: (await c.query("SELECT column_name, collation_name FROM information_schema.columns WHERE table_name = 'word' ORDER BY ordinal_position")).rows,
      order: (await c.query("SELECT w FROM word ORDER BY w")).rows.map((x) => x.w as string),
    }));
    expect(got.collations).toEqual([
      { column_name: "id", collation_name: null },
      { column_name: "w", collation_name: "C" },
      { column_name: "tag", collation_name: "armp_case_insensitive" },
    ]);
    expect(sqliteOrder()).toEqual(["10", "9", "A", "B", "Zebra", "_x", "a", "apfel", "b", "äpfel"]);
    expect(got.order).toEqual(sqliteOrder());
    expect(sha256File(src)).toBe(before);
  });

  it("uses the database's collation with textCollation \"database\" (and then orders differently)", async () => {
    const url = await icuDatabase("coll_db");
    const r = await runMigration(src, { url }, { jobs: 2, textCollation: "database" });
    expect(r.ok).toBe(true);
    const got = await withClient(url, async (c) => ({
      collation: (await c.query("SELECT collation_name FROM information_schema.columns WHERE table_name = 'word' AND column_name = 'w'")).rows[0].collation_name,
      order: (await c.query("SELECT w FROM word ORDER BY w")).rows.map((x) => x.w as string),
    }));
    expect(got).toEqual({ collation: null, order: ["_x", "10", "9", "a", "A", "apfel", "äpfel", "b", "B", "Zebra"] });
  });
});
