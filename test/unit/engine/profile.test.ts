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

  it("reports every value PostgreSQL would reject or that the engine converts", () => {
    expect(plan.findings.map((f) => [f.column, f.kind, f.rows, f.blocking, f.sampleKey])).toEqual([
      ["n", "text-in-numeric", 2, true, { id: 2 }],
      ["r", "text-in-numeric", 1, true, { id: 2 }],
      ["ts", "unix-timestamps", 2, false, undefined],
      ["ts", "text-timestamps", 1, false, undefined],
      ["ts", "bad-timestamps", 1, true, { id: 4 }],
      ["flag", "boolean-spellings", 3, false, undefined],
      ["flag", "bad-booleans", 1, true, undefined],
      ["code", "over-length", 2, true, undefined],
      ["body", "nul-bytes", 1, true, undefined],
      ["body", "blob-in-text", 1, true, undefined],
      ["body", "invalid-utf8", 1, true, { id: 3 }],
      // bad-json names no sample key yet (profile.ts does not pass it on); bad-booleans never did.
      ["doc", "bad-json", 1, true, undefined],
      ["parent_id", "orphaned-fk", 2, false, { id: 2 }],
    ]);
    expect(new Set(plan.findings.map((f) => f.table))).toEqual(new Set(["m"]));
  });

  it("says what to do", () => {
    const byKind = new Map(plan.findings.map((f) => [`${f.column}:${f.kind}`, f.decision]));
    expect(byKind.get("n:text-in-numeric")).toBe("PostgreSQL rejects these in bigint; fix the data or cast the column (--cast m.n=text)");
    expect(byKind.get("body:nul-bytes")).toBe("PostgreSQL text cannot hold NUL (\\0) bytes; strip them or cast the column to bytea (--cast m.body=bytea)");
    expect(byKind.get("flag:boolean-spellings")).toBe("spellings 0, 1, true mapped to true/false");
  });
});
