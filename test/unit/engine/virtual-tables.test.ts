/**
 * Virtual tables are skipped with their shadow tables, one entry each naming them, whether the
 * module is compiled into the reader (fts5, fts4, rtree: PRAGMA table_list marks their shadows) or
 * not (only the module's known suffixes say which tables are its own); an application table that
 * merely looks like a shadow (an FTS table's external content) is still copied.
 */
import Database from "better-sqlite3";
import { introspect, virtualModule } from "../../../migrate/engine/introspect";
import { planFromSchema } from "../../../migrate/engine/plan";

describe("virtualModule", () => {
  it("reads the module after USING, whatever the quoting of the table name", () => {
    expect(virtualModule("CREATE VIRTUAL TABLE docs USING fts5(title, body)")).toBe("fts5");
    expect(virtualModule('CREATE VIRTUAL TABLE IF NOT EXISTS "using x" USING FTS4 (body)')).toBe("fts4");
    expect(virtualModule("create virtual table [g] using rtree_i32(id, a, b)")).toBe("rtree_i32");
    expect(virtualModule("CREATE VIRTUAL TABLE t USING")).toBe("");
  });
});

describe("introspect: virtual and shadow tables", () => {
  const db = new Database(":memory:");
  db.exec(`
    CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);
    CREATE TABLE ext_content (id INTEGER PRIMARY KEY, body TEXT);
    -- Before the FTS table exists: SQLite then counts ext_content among ext's shadows (read-only).
    INSERT INTO ext_content (body) VALUES ('z');
    CREATE VIRTUAL TABLE docs USING fts5(title, body);
    CREATE VIRTUAL TABLE old USING fts4(body);
    CREATE VIRTUAL TABLE geo USING rtree(id, minx, maxx);
    CREATE VIRTUAL TABLE ext USING fts5(body, content='ext_content', content_rowid='id');
    INSERT INTO docs VALUES ('a', 'b c'), ('d', 'e');
    INSERT INTO old VALUES ('x');
    INSERT INTO geo VALUES (1, 0, 1);
  `);
  // A module this reader does not have, with tables named like its shadows (as another build of
  // SQLite would have left them) and one that is not.
  db.exec("CREATE TABLE far_node (nodeno INTEGER PRIMARY KEY, data BLOB); CREATE TABLE far_rowid (rowid INTEGER PRIMARY KEY, nodeno); CREATE TABLE far_notes (id INTEGER PRIMARY KEY)");
  db.unsafeMode(true);
  db.pragma("writable_schema = ON");
  db.exec("INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', 'far', 'far', 0, 'CREATE VIRTUAL TABLE far USING geopoly(a)'), ('table', 'mystery', 'mystery', 0, 'CREATE VIRTUAL TABLE mystery USING nosuchmodule(a, b)')");
  db.pragma("writable_schema = OFF");
  afterAll(() => db.close());

  it("copies only the application's tables", () => {
    expect(introspect(db).tables.map((t) => t.name)).toEqual(["ext_content", "far_notes", "note"]);
  });

  it("skips each virtual table once, naming its shadow tables, its rows and what PostgreSQL offers", () => {
    const fts = "PostgreSQL's full-text search is a tsvector column (or expression) with a GIN index: recreate it by hand over the migrated text";
    const gist = "PostgreSQL's spatial index is a GiST index (PostGIS geometry, or box/range columns): recreate it by hand";
    expect(introspect(db).skipped).toEqual([
      { name: "docs", type: "virtual table", module: "fts5", shadowTables: ["docs_config", "docs_content", "docs_data", "docs_docsize", "docs_idx"], reason: `fts5 virtual table (2 row(s)) not copied; its shadow tables docs_config, docs_content, docs_data, docs_docsize, docs_idx are skipped with it; ${fts}` },
      { name: "ext", type: "virtual table", module: "fts5", shadowTables: ["ext_config", "ext_data", "ext_docsize", "ext_idx"], reason: `fts5 virtual table (1 row(s)) not copied; its shadow tables ext_config, ext_data, ext_docsize, ext_idx are skipped with it; ${fts}` },
      { name: "far", type: "virtual table", module: "geopoly", shadowTables: ["far_node", "far_rowid"], reason: `geopoly virtual table (module geopoly is not available to this reader) not copied; its shadow tables far_node, far_rowid are skipped with it; ${gist}` },
      { name: "geo", type: "virtual table", module: "rtree", shadowTables: ["geo_node", "geo_parent", "geo_rowid"], reason: `rtree virtual table (1 row(s)) not copied; its shadow tables geo_node, geo_parent, geo_rowid are skipped with it; ${gist}` },
      { name: "mystery", type: "virtual table", module: "nosuchmodule", shadowTables: [], reason: "nosuchmodule virtual table (module nosuchmodule is not available to this reader) not copied; PostgreSQL has no equivalent: recreate what it provides by hand" },
      { name: "old", type: "virtual table", module: "fts4", shadowTables: ["old_content", "old_docsize", "old_segdir", "old_segments", "old_stat"], reason: `fts4 virtual table (1 row(s)) not copied; its shadow tables old_content, old_docsize, old_segdir, old_segments, old_stat are skipped with it; ${fts}` },
    ]);
  });

  it("plan's DDL has one comment line per skipped virtual table and no statement for a shadow", () => {
    const ddl = planFromSchema(introspect(db), "public").ddl;
    expect(ddl.split("\n").filter((l) => l.startsWith("--")).map((l) => l.slice(0, l.indexOf(":")))).toEqual([
      "-- virtual table docs skipped",
      "-- virtual table ext skipped",
      "-- virtual table far skipped",
      "-- virtual table geo skipped",
      "-- virtual table mystery skipped",
      "-- virtual table old skipped",
    ]);
    expect(ddl.match(/CREATE TABLE "public"\."(\w+)"/g)).toEqual(['CREATE TABLE "public"."ext_content"', 'CREATE TABLE "public"."far_notes"', 'CREATE TABLE "public"."note"']);
  });
});
