/**
 * Collations an application registers itself (Anki's unicase, Android's LOCALIZED): the file is
 * written as such an app writes it (the schema names the collation; SQLite only lets a connection
 * that has the collation declare it, so the fixture declares NOCASE and renames it through
 * writable_schema, leaving the index b-trees in NOCASE order, which unicase shares for ASCII).
 * `run` reads it with the extension's stand-ins, maps NOCASE/unicase to the ICU case-insensitive
 * collation, reports the rest, and refuses before any DDL when a case-insensitive key would reject
 * rows SQLite keeps apart.
 */
import Database from "better-sqlite3";
import * as path from "path";
import { runMigrateCli } from "../../support/cli";
import { createTestDatabase, withClient } from "../../support/db";
import { restoringEnv, sha256File, tempDir } from "./helpers";

/** Builds a database whose schema says COLLATE <name> for what was created as NOCASE. */
function appCollationFile(file: string, ddl: string, rows: string, renames: [string, string][]): void {
  const db = new Database(file);
  db.exec(ddl);
  db.exec(rows);
  db.unsafeMode(true);
  db.pragma("writable_schema = ON");
  const upd = db.prepare("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE sql LIKE '%' || ? || '%'");
  for (const [from, to] of renames) upd.run(from, to, from);
  const v = db.pragma("schema_version", { simple: true }) as number;
  db.pragma(`schema_version = ${v + 1}`);
  db.pragma("writable_schema = OFF");
  db.close();
}

const DDL = `
  CREATE TABLE deck (id INTEGER PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE /*u*/ UNIQUE, kind TEXT COLLATE NOCASE);
  CREATE TABLE label (id INTEGER PRIMARY KEY, title TEXT, loc TEXT COLLATE NOCASE /*l*/);
  CREATE INDEX label_title ON label (title COLLATE NOCASE /*i*/);
  CREATE TABLE tag (name TEXT COLLATE NOCASE /*w*/ PRIMARY KEY, n INTEGER) WITHOUT ROWID;`;
const ROWS = `
  INSERT INTO deck (name, kind) VALUES ('Default', 'A'), ('spanish', 'b'), ('Ämter', 'a');
  INSERT INTO label (title, loc) VALUES ('Zebra', 'de'), ('apple', 'fr'), (NULL, NULL);
  INSERT INTO tag (name, n) VALUES ('b', 1), ('A', 2), ('c', 3), ('_x', 4);`;
const RENAMES: [string, string][] = [
  ["COLLATE NOCASE /*u*/", "COLLATE unicase"],
  ["COLLATE NOCASE /*l*/", "COLLATE LOCALIZED"],
  ["COLLATE NOCASE /*i*/", "COLLATE unicase"],
  ["COLLATE NOCASE /*w*/", "COLLATE unicase"],
];

const CI = '"public"."armp_case_insensitive"';
const noteUnicase = (table: string) =>
  `SQLite COLLATE unicase ignores case; PostgreSQL gets COLLATE ${CI} (ICU und-u-ks-level2, nondeterministic), so =, UNIQUE and GROUP BY ignore case as in SQLite; ORDER BY follows ICU order, and LIKE on this column fails in PostgreSQL 15 (write "name" COLLATE "C" ILIKE ...); --cast '${table}.name=text COLLATE "C"' keeps it case-sensitive`;
const NOTE_UNICASE = noteUnicase("deck");
const NOTE_NOCASE = `SQLite COLLATE NOCASE ignores case; PostgreSQL gets COLLATE ${CI} (ICU und-u-ks-level2, nondeterministic), so =, UNIQUE and GROUP BY ignore case as in SQLite (also for letters outside A-Z, which NOCASE compares exactly); ORDER BY follows ICU order, and LIKE on this column fails in PostgreSQL 15 (write "kind" COLLATE "C" ILIKE ...); --cast 'deck.kind=text COLLATE "C"' keeps it case-sensitive`;
const NOTE_LOCALIZED = "SQLite COLLATE LOCALIZED (registered by the application) has no PostgreSQL equivalent; the database's collation applies, so = and UNIQUE compare exactly (override with --cast to a type with COLLATE)";

describe("collations the application registers", () => {
  const dir = tempDir("appcoll");
  const src = path.join(dir, "collection.anki2");
  let hash: string;
  beforeAll(() => {
    appCollationFile(src, DDL, ROWS, RENAMES);
    hash = sha256File(src);
  });
  afterAll(() => expect(sha256File(src)).toBe(hash));

  it("is a file plain SQLite cannot compare on (the reason the stand-ins exist)", () => {
    const db = new Database(src, { readonly: true });
    try {
      expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'deck'").pluck().get()).toBe("CREATE TABLE deck (id INTEGER PRIMARY KEY, name TEXT NOT NULL COLLATE unicase UNIQUE, kind TEXT COLLATE NOCASE)");
      expect(() => db.prepare("SELECT id FROM deck WHERE name = 'default'").get()).toThrow("no such collation sequence: unicase");
    } finally {
      db.close();
    }
  });

  it("plan creates the case-insensitive collation first and says what each column gets", async () => {
    const r = await runMigrateCli(["plan", "--source", src]);
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe(`CREATE COLLATION IF NOT EXISTS ${CI} (provider = icu, locale = 'und-u-ks-level2', deterministic = false);`);
    expect(lines.filter((l) => l.startsWith("-- deck.") || l.startsWith("-- label."))).toEqual([
      '-- deck.id: INTEGER -> bigint  (INTEGER PRIMARY KEY (rowid alias, auto-assigned by SQLite): identity column, sequence set past max(id))',
      `-- deck.name: TEXT -> text COLLATE ${CI}  (TEXT; ${NOTE_UNICASE})`,
      `-- deck.kind: TEXT -> text COLLATE ${CI}  (TEXT; ${NOTE_NOCASE})`,
      '-- label.id: INTEGER -> bigint  (INTEGER PRIMARY KEY (rowid alias, auto-assigned by SQLite): identity column, sequence set past max(id))',
      '-- label.title: TEXT -> text COLLATE "C"  (TEXT; COLLATE "C" keeps SQLite\'s BINARY (byte) order)',
      `-- label.loc: TEXT -> text  (TEXT; ${NOTE_LOCALIZED})`,
    ]);
    expect(r.out).toContain("-- profile findings (rows at risk)\n-- none");
  });

  it("run copies every row exactly, and PostgreSQL compares deck.name ignoring case as the app's SQLite did", async () => {
    const t = await createTestDatabase("appcoll");
    try {
      const r = await runMigrateCli(["run", "--source", src, "--target", t.url, "--json"]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out);
      expect(report.tables.map((x: { table: string; rowsWritten: number; checksumMatch: boolean }) => [x.table, x.rowsWritten, x.checksumMatch])).toEqual([
        ["deck", 3, true],
        ["label", 3, true],
        ["tag", 4, true],
      ]);
      expect(report.warnings).toEqual([`deck.name: ${NOTE_UNICASE}`, `deck.kind: ${NOTE_NOCASE}`, `label.loc: ${NOTE_LOCALIZED}`, `tag.name: ${noteUnicase("tag")}`]);
      expect(report.indexes.created).toEqual(["label_title"]);
      await withClient(t.url, async (c) => {
        const cols = await c.query("SELECT table_name, column_name, collation_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'text' ORDER BY table_name, ordinal_position");
        expect(cols.rows).toEqual([
          { table_name: "deck", column_name: "name", collation_name: "armp_case_insensitive" },
          { table_name: "deck", column_name: "kind", collation_name: "armp_case_insensitive" },
          { table_name: "label", column_name: "title", collation_name: "C" },
          { table_name: "label", column_name: "loc", collation_name: null },
          { table_name: "tag", column_name: "name", collation_name: "armp_case_insensitive" },
        ]);
        // A WITHOUT ROWID table keyed by the app's collation: read in its key order, every row.
        expect((await c.query("SELECT name, n::int FROM tag ORDER BY n")).rows).toEqual([
          { name: "b", n: 1 },
          { name: "A", n: 2 },
          { name: "c", n: 3 },
          { name: "_x", n: 4 },
        ]);
        await expect(c.query("INSERT INTO tag (name, n) VALUES ('B', 5)")).rejects.toMatchObject({ code: "23505" });
        expect((await c.query("SELECT id::int, name, kind FROM deck ORDER BY id")).rows).toEqual([
          { id: 1, name: "Default", kind: "A" },
          { id: 2, name: "spanish", kind: "b" },
          { id: 3, name: "Ämter", kind: "a" },
        ]);
        expect((await c.query("SELECT id::int, title, loc FROM label ORDER BY id")).rows).toEqual([
          { id: 1, title: "Zebra", loc: "de" },
          { id: 2, title: "apple", loc: "fr" },
          { id: 3, title: null, loc: null },
        ]);
        expect((await c.query("SELECT id::int FROM deck WHERE name = 'DEFAULT'")).rows).toEqual([{ id: 1 }]);
        expect((await c.query("SELECT kind, count(*)::int AS n FROM deck GROUP BY kind ORDER BY kind COLLATE \"C\"")).rows).toEqual([
          { kind: "A", n: 2 },
          { kind: "b", n: 1 },
        ]);
        await expect(c.query("INSERT INTO deck (name) VALUES ('SPANISH')")).rejects.toMatchObject({ code: "23505" });
        // The documented PostgreSQL 15 limit: LIKE refuses a nondeterministic collation; "C" works.
        await expect(c.query("SELECT 1 FROM deck WHERE name LIKE 'S%'")).rejects.toMatchObject({ code: "0A000" });
        expect((await c.query("SELECT id::int FROM deck WHERE name COLLATE \"C\" ILIKE 'S%'")).rows).toEqual([{ id: 2 }]);
      });
    } finally {
      await t.drop();
    }
  });

  it("without the stand-ins refuses at open, naming every table and column that uses an unknown collation", async () => {
    const r = await restoringEnv(["ARMP_MIGRATE_STANDINS"], async () => {
      process.env.ARMP_MIGRATE_STANDINS = "0";
      return runMigrateCli(["plan", "--source", src, "--json"]);
    });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out).error).toEqual({
      code: "SOURCE_COLLATION_UNKNOWN",
      message:
        "The SQLite source uses collation(s) the application registers itself, which this reader does not have: deck.name COLLATE unicase, label.title (index label_title) COLLATE unicase, tag.name COLLATE unicase, label.loc COLLATE LOCALIZED. Build the armp_copy extension (`npm run build` with a C compiler; it supplies read-only stand-ins), then retry.",
      meta: { step: "open", path: src, table: "deck", column: "name", collation: "unicase" },
    });
  });
});

describe("a case-insensitive key SQLite keeps apart", () => {
  const dir = tempDir("cikey");
  const src = path.join(dir, "words.sqlite");
  let hash: string;
  beforeAll(() => {
    const db = new Database(src);
    // NOCASE folds only A-Z: 'Äpfel' and 'äpfel' are two keys in SQLite, one under ICU strength 2.
    db.exec("CREATE TABLE word (id INTEGER PRIMARY KEY, w TEXT NOT NULL COLLATE NOCASE UNIQUE); INSERT INTO word (w) VALUES ('Äpfel'), ('apfel'), ('äpfel'), ('Birne')");
    db.close();
    hash = sha256File(src);
  });
  afterAll(() => expect(sha256File(src)).toBe(hash));

  const message =
    'Table word: 1 row(s) have a key (w) that SQLite\'s collation keeps apart but PostgreSQL\'s case-insensitive collation makes equal, e.g. {"w":"Äpfel"} and {"w":"äpfel"}; the key would reject them. Re-run with --cast \'word.w=text COLLATE "C"\' to keep w case-sensitive (exact), or make those rows\' keys distinct in SQLite.';

  it("plan reports it as blocking", async () => {
    const r = await runMigrateCli(["plan", "--source", src, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).findings).toEqual([{ table: "word", column: "w", kind: "case-fold-collision", rows: 1, blocking: true, decision: message, sampleKey: { w: "Äpfel" } }]);
  });

  it("run refuses before any DDL, naming table, column and key; a cast to COLLATE C migrates it exactly", async () => {
    const t = await createTestDatabase("cikey");
    try {
      const r = await runMigrateCli(["run", "--source", src, "--target", t.url, "--json"]);
      expect(r.code).toBe(3);
      expect(JSON.parse(r.out).error).toEqual({ code: "COLLATION_KEY_CONFLICT", message, meta: { table: "word", column: "w", key: { w: "Äpfel" }, step: "plan" } });
      const tables = () => withClient(t.url, async (c) => (await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).rows.map((x) => x.table_name as string));
      expect(await tables()).toEqual([]);
      const ok = await runMigrateCli(["run", "--source", src, "--target", t.url, "--cast", 'word.w=text COLLATE "C"', "--json"]);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.out).warnings).toEqual([]);
      expect(await tables()).toEqual(["word"]);
      const got = await withClient(t.url, async (c) => (await c.query("SELECT w, collation_name FROM word, information_schema.columns WHERE table_name = 'word' AND column_name = 'w' ORDER BY id")).rows);
      expect(got).toEqual(["Äpfel", "apfel", "äpfel", "Birne"].map((w) => ({ w, collation_name: "C" })));
    } finally {
      await t.drop();
    }
  });
});
