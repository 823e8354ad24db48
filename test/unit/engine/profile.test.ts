/** Profile findings on a crafted fixture: exact kinds, row counts, blocking flags and sample keys. */
import { planMigration } from "../../../migrate/engine";
import { sqliteFile } from "./fixture";

const src = sqliteFile(`
PRAGMA foreign_keys = OFF; -- better-sqlite3 enforces FKs by default; the apps we migrate did not
CREATE TABLE parent (id INTEGER PRIMARY KEY);
INSERT INTO parent VALUES (1), (2);
CREATE TABLE m (
  id INTEGER PRIMARY KEY,
  n INTEGER,
  r REAL,
  ts DATETIME,
  flag BOOLEAN,
  code VARCHAR(3),
  body TEXT,
  doc JSON,
  parent_id INTEGER REFERENCES parent(id)
);
INSERT INTO m VALUES
  (1, 1,      1.5,   '2024-01-01 10:00:00', 1,       'abc',  'ok',                       '{"a":1}', 1),
  (2, 'x',    'y',   1704103200,            0,       'abcd', CAST(x'610062' AS TEXT),    'nope',    3),
  (3, '7',    '2.5', 1704103200123,         'true',  NULL,   CAST(x'41ff42' AS TEXT),    NULL,      NULL),
  (4, 2.5,    NULL,  'soon',                'maybe', 'toolong', x'00',                   '[1,2]',   9),
  (5, NULL,   NULL,  NULL,                  NULL,    NULL,   'é',                        NULL,      2);
`);

// Row 3's body is "A", a stray 0xff, "B": invalid UTF-8 with no valid multi-byte character, which
// a length() <> byte-length pre-filter misses (SQLite's length() counts a stray lead byte as one
// character). Row 5's "é" is valid non-ASCII and must not be reported.
describe("planMigration profile", () => {
  const plan = planMigration(src);

  it("counts typeof() per column", () => {
    const m = plan.profiles.find((p) => p.table === "m")!;
    expect(m.rows).toBe(5);
    expect(Object.fromEntries(m.columns.map((c) => [c.column, [c.types.null, c.types.integer, c.types.real, c.types.text, c.types.blob]]))).toEqual({
      id: [0, 5, 0, 0, 0],
      n: [1, 2, 1, 1, 0],
      r: [2, 0, 2, 1, 0],
      ts: [1, 2, 0, 2, 0],
      flag: [1, 2, 0, 2, 0],
      code: [2, 0, 0, 3, 0],
      body: [0, 0, 0, 4, 1],
      doc: [2, 0, 0, 3, 0],
      parent_id: [1, 4, 0, 0, 0],
    });
    expect(m.columns.map((c) => c.nulls)).toEqual([0, 1, 2, 1, 1, 2, 0, 2, 1]);
  });

  it("widens each column whose values its declared type cannot hold, with the rows that forced it and a key", () => {
    expect(plan.decisions.map((d) => [d.column, d.from, d.to, d.rows, d.sampleKey])).toEqual([
      ["n", "bigint", "text", 1, { id: 2 }],
      ["r", "double precision", "text", 1, { id: 2 }],
      ["ts", "timestamp", "text", 1, { id: 4 }],
      ["flag", "boolean", "text", 1, { id: 4 }],
      ["code", "varchar(3)", "text", 2, { id: 2 }],
      ["doc", "jsonb", "text", 1, { id: 2 }],
    ]);
    // The DDL carries the decisions; the declared types are in the column lines.
    const m = plan.tables.find((t) => t.table === "m")!;
    expect(Object.fromEntries(m.columns.map((c) => [c.column, c.pgType]))).toEqual({
      id: "bigint", n: "text", r: "text", ts: "text", flag: "text", code: "text", body: "text", doc: "text", parent_id: "bigint",
    });
  });

  it("refuses, with a cast that works, a mix no type holds exactly; the other findings stay", () => {
    expect(plan.refusals).toEqual([
      {
        code: "TYPE_MISMATCH",
        message: "m.body (TEXT): holds 1 BLOB value(s) beside 4 text; no PostgreSQL type holds that mix exactly. Cast the column to bytea (--cast m.body=bytea: text is stored as its UTF-8 bytes and numbers as their decimal text), or fix the rows in SQLite.",
        meta: { table: "m", column: "body", key: { id: 4 }, rows: 1, step: "profile", declared: "text" },
      },
    ]);
    expect(plan.findings.map((f) => [f.column, f.kind, f.rows, f.blocking, f.sampleKey])).toEqual([
      ["body", "nul-bytes", 1, true, undefined],
      ["body", "blob-in-text", 1, true, undefined],
      ["body", "invalid-utf8", 1, true, { id: 3 }],
      ["parent_id", "orphaned-fk", 2, false, { id: 2 }],
    ]);
    expect(new Set(plan.findings.map((f) => f.table))).toEqual(new Set(["m"]));
  });

  it("says why", () => {
    const why = new Map(plan.decisions.map((d) => [d.column, d.reason]));
    expect(why.get("n")).toBe("1 text value(s) that are not integers beside 2 integer, 1 real; text keeps every value (numbers as their decimal text)");
    expect(why.get("code")).toBe("2 value(s) longer than 3 characters (SQLite does not enforce the length); text keeps them");
    expect(why.get("flag")).toBe('1 value(s) that are not boolean spellings (e.g. "maybe"); text keeps every value');
  });
});
