/**
 * Text collations: SQLite compares text bytewise (BINARY) unless a column declares COLLATE;
 * PostgreSQL's "C" is that order. declaredCollations reads COLLATE from CREATE TABLE (no PRAGMA
 * reports it), mapColumn turns it into the column's COLLATE clause or a note.
 */
import Database from "better-sqlite3";
import { columnType } from "../../../migrate/engine/ddl";
import { declaredCollations, introspect } from "../../../migrate/engine/introspect";
import { mapSqliteError } from "../../../migrate/engine/sqlite";
import { mapTable } from "../../../migrate/engine/typemap";

describe("declaredCollations", () => {
  it("finds COLLATE among a column's constraints, whatever the quoting, and nowhere else", () => {
    const sql = `CREATE TABLE "t x" (
      id INTEGER PRIMARY KEY,
      name TEXT COLLATE NOCASE,
      "odd ""name""" VARCHAR(10) NOT NULL collate rtrim, -- COLLATE NOCASE in a comment
      [br] TEXT COLLATE my_coll,
      \`bt\` TEXT CHECK (bt COLLATE NOCASE <> 'x') DEFAULT 'COLLATE NOCASE',
      /* COLLATE NOCASE */ plain TEXT,
      CONSTRAINT u UNIQUE (plain COLLATE NOCASE),
      CHECK (name COLLATE BINARY <> '')
    )`;
    expect([...declaredCollations(sql)]).toEqual([
      ["name", "NOCASE"],
      ['odd "name"', "RTRIM"],
      ["br", "my_coll"],
    ]);
  });

  it("finds none in CREATE TABLE ... AS SELECT", () => {
    expect(declaredCollations("CREATE TABLE t AS SELECT 'a' COLLATE NOCASE AS x").size).toBe(0);
  });
});

describe("text column collation", () => {
  const db = new Database(":memory:");
  db.exec(`CREATE TABLE person (id INTEGER PRIMARY KEY, email TEXT NOT NULL COLLATE NOCASE, name VARCHAR(80), code TEXT COLLATE BINARY, born DATE, note TEXT)`);
  const [t] = introspect(db).tables;
  afterAll(() => db.close());

  it("gives BINARY text and varchar columns COLLATE \"C\" and NOCASE the schema's ICU case-insensitive collation, with a note", () => {
    const cols = mapTable(t, { collationSchema: "app" });
    expect(cols.map((c) => [c.column, columnType(c), c.collationNote ?? null])).toEqual([
      ["id", "bigint", null],
      [
        "email",
        'text COLLATE "app"."armp_case_insensitive"',
        'SQLite COLLATE NOCASE ignores case; PostgreSQL gets COLLATE "app"."armp_case_insensitive" (ICU und-u-ks-level2, nondeterministic), so =, UNIQUE and GROUP BY ignore case as in SQLite (also for letters outside A-Z, which NOCASE compares exactly); ORDER BY follows ICU order, and LIKE on this column fails in PostgreSQL 15 (write "email" COLLATE "C" ILIKE ...); --cast \'person.email=text COLLATE "C"\' keeps it case-sensitive',
      ],
      ["name", 'varchar(80) COLLATE "C"', null],
      ["code", 'text COLLATE "C"', null],
      ["born", "date", null],
      ["note", 'text COLLATE "C"', null],
    ]);
    expect(cols.find((c) => c.column === "name")!.reason).toBe(`VARCHAR(n) keeps its length limit (values longer than n are rejected; plan counts them); COLLATE "C" keeps SQLite's BINARY (byte) order`);
  });

  it("uses the textCollation option (a name, or none for \"database\"), also under a cast override, unless the override has its own COLLATE", () => {
    const icu = mapTable(t, { textCollation: "und-x-icu", castOverrides: { "person.email": 'text COLLATE "de-x-icu"', "person.note": "varchar(9)" } });
    expect(icu.map((c) => columnType(c))).toEqual(["bigint", 'text COLLATE "de-x-icu"', 'varchar(80) COLLATE "und-x-icu"', 'text COLLATE "und-x-icu"', "date", 'varchar(9) COLLATE "und-x-icu"']);
    expect(icu.find((c) => c.column === "email")!.kind).toBe("text");
    const database = mapTable(t, { textCollation: "database" });
    expect(database.map((c) => columnType(c))).toEqual(["bigint", 'text COLLATE "public"."armp_case_insensitive"', "varchar(80)", "text", "date", "text"]);
  });
});

describe("collations without a PostgreSQL equivalent", () => {
  it("leave RTRIM and app-registered names to the database's collation, saying which is which", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (a TEXT COLLATE RTRIM, b TEXT COLLATE nocase, c TEXT)");
    const [t] = introspect(db).tables;
    db.close();
    // An app's collation as introspect reports it (the name as written; a live one needs the app).
    const cols = mapTable({ ...t, columns: [...t.columns, { ...t.columns[2], name: "d", collation: "LOCALIZED" }] });
    const rest = "has no PostgreSQL equivalent; the database's collation applies, so = and UNIQUE compare exactly (override with --cast to a type with COLLATE)";
    expect(cols.map((c) => [c.column, columnType(c), c.collationNote ?? null])).toEqual([
      ["a", "text", `SQLite COLLATE RTRIM ${rest}`],
      [
        "b",
        'text COLLATE "public"."armp_case_insensitive"',
        'SQLite COLLATE NOCASE ignores case; PostgreSQL gets COLLATE "public"."armp_case_insensitive" (ICU und-u-ks-level2, nondeterministic), so =, UNIQUE and GROUP BY ignore case as in SQLite (also for letters outside A-Z, which NOCASE compares exactly); ORDER BY follows ICU order, and LIKE on this column fails in PostgreSQL 15 (write "b" COLLATE "C" ILIKE ...); --cast \'t.b=text COLLATE "C"\' keeps it case-sensitive',
      ],
      ["c", 'text COLLATE "C"', null],
      ["d", "text", `SQLite COLLATE LOCALIZED (registered by the application) ${rest}`],
    ]);
  });
});

describe("mapSqliteError: a collation SQLite does not have", () => {
  it("is SOURCE_COLLATION_UNKNOWN naming the table, with SQLite's error as the cause", () => {
    const db = new Database(":memory:");
    let raw: unknown;
    try {
      db.prepare("SELECT 'a' = 'b' COLLATE unicase").get();
    } catch (e) {
      raw = e;
    } finally {
      db.close();
    }
    expect((raw as { code: string }).code).toBe("SQLITE_ERROR_MISSING_COLLSEQ");
    const e = mapSqliteError(raw, { table: "deck", step: "rollback" });
    expect([e.code, e.meta, e.cause]).toEqual(["SOURCE_COLLATION_UNKNOWN", { table: "deck", step: "rollback" }, raw]);
    expect(e.message).toBe(
      "The SQLite source uses a collation the application registers itself (table deck) (no such collation sequence: unicase). Reading needs the armp_copy extension's stand-in (`npm run build` with a C compiler). Writing (capture, rollback) never uses one, as its order could differ from the application's in the file's indexes: those steps cannot touch tables with this collation.",
    );
  });
});
