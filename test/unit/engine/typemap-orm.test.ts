/** The ORM types the data decides (issue 13, real-ORM corpus): TIME -> time, TEXT with a
 * json_valid CHECK -> json/jsonb, and the canonical forms `--cast c=uuid` and time are copied and
 * verified in. */
import Database from "better-sqlite3";
import { decideTypes } from "../../../migrate/engine/decide";
import { introspect } from "../../../migrate/engine/introspect";
import { jsonbChange, normaliseTime, normaliseUuid, timeOkSql, toPgText } from "../../../migrate/engine/values";

function decisions(sql: string, strictTypes = false): [string, string, string, number][] {
  const db = new Database(":memory:");
  try {
    db.exec(sql);
    const d = decideTypes(db, introspect(db), { strictTypes });
    return [...d.decisions.map((x): [string, string, string, number] => [x.column, x.from, x.to, x.rows]), ...d.refusals.map((e): [string, string, string, number] => [String(e.meta.column), "refused", e.code, Number(e.meta.rows)])];
  } finally {
    db.close();
  }
}

describe("time-of-day text", () => {
  it("is written in PostgreSQL's own spelling of time", () => {
    expect(["00:00:00.000000", "23:59:59.999999", "12:00:00.000001", "06:07", "06:07:08", "06:07:08.50"].map(normaliseTime)).toEqual([
      "00:00:00", "23:59:59.999999", "12:00:00.000001", "06:07:00", "06:07:08", "06:07:08.5",
    ]);
  });

  it.each([["24:00:00"], ["23:60:00"], ["23:59:60"], ["12:00:00.1234567"], ["12:00:00+02"], [" 12:00"], ["12:00:00."], ["1:00"], ["12:00:00Z"]])("%j is not time the type holds exactly", (v) => {
    expect(() => normaliseTime(v)).toThrow(/is not time-of-day text/);
  });

  it("numbers and BLOBs are not time", () => {
    expect(() => normaliseTime(3600n)).toThrow('"3600" is not time-of-day text');
    expect(() => normaliseTime(Buffer.from("12:00"))).toThrow("a BLOB is not time-of-day text");
  });

  it("SQLite's test (timeOkSql, used by the decision) accepts exactly what normaliseTime accepts", () => {
    const db = new Database(":memory:");
    try {
      const vals = ["00:00", "23:59", "24:00", "19:99", "12:00:00", "12:00:0", "12:00:00.1", "12:00:00.123456", "12:00:00.1234567", "12:00:00.", "12:00:00.12a", "12:00:00,5", "12:00:00Z", "1:00:00", "ab:cd", "", "12:00 ", "29:00"];
      const sql = db.prepare(`SELECT ${timeOkSql("v")} AS ok FROM (SELECT ? AS v)`).pluck();
      const got = vals.map((v) => [v, sql.get(v) === 1]);
      const want = vals.map((v) => {
        try {
          normaliseTime(v);
          return [v, true];
        } catch {
          return [v, false];
        }
      });
      expect(got).toEqual(want);
      expect(got.filter(([, ok]) => ok).map(([v]) => v)).toEqual(["00:00", "23:59", "12:00:00", "12:00:00.1", "12:00:00.123456"]);
    } finally {
      db.close();
    }
  });
});

describe("uuid text (--cast t.c=uuid)", () => {
  it("every spelling PostgreSQL's uuid reads becomes its lower-case 8-4-4-4-12 form", () => {
    const want = "6f1e0c4a-9b1d-4c55-8d1e-2b7a4e9c0f11";
    expect(["6f1e0c4a9b1d4c558d1e2b7a4e9c0f11", "6F1E0C4A-9B1D-4C55-8D1E-2B7A4E9C0F11", "{6f1e0c4a-9b1d-4c55-8d1e-2b7a4e9c0f11}", "6f1e-0c4a-9b1d-4c55-8d1e-2b7a-4e9c-0f11"].map(normaliseUuid)).toEqual([want, want, want, want]);
    expect(toPgText("00000000000040008000000000000002", { kind: "uuid" })).toBe("00000000-0000-4000-8000-000000000002");
  });

  it("refuses what is not a UUID, and 16-byte BLOBs (their byte order is not in the file)", () => {
    expect(() => normaliseUuid("6f1e0c4a9b1d4c558d1e2b7a4e9c0f1")).toThrow('"6f1e0c4a9b1d4c558d1e2b7a4e9c0f1" is not UUID text');
    expect(() => normaliseUuid("6f1e0c4a9b1d4c558d1e2b7a4e9c0f1g")).toThrow(/is not UUID text/);
    expect(() => normaliseUuid("6f1e0c4a9-b1d4c558d1e2b7a4e9c0f11")).toThrow(/is not UUID text/);
    expect(() => normaliseUuid(Buffer.alloc(16))).toThrow("a 16-byte BLOB is not UUID text");
  });
});

describe("jsonbChange: what jsonb would change in a JSON value", () => {
  it.each([
    ['{"kind": "widget", "n": 1, "nested": {"list": [1, 2.5, null, true, "\\u00fc"]}}', null],
    ['[1, "two", {"three": 3}]', null],
    ['{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}', null],
    ['"text"', null],
    ['{"e": "1e3 is text", "x": 1.50}', null],
    ['{"a": 1, "a": 2}', 'the duplicate key "a", of which jsonb keeps the last'],
    ['{"a": [{"b": 1, "c": {"b": 2}, "b": 3}]}', 'the duplicate key "b", of which jsonb keeps the last'],
    ['{"\\u0061": 1, "a": 2}', 'the duplicate key "a", of which jsonb keeps the last'],
    ['[1e3]', "the number 1e3, which jsonb writes as 1000"],
    ['{"x": 2.5E-1}', "the number 2.5E-1, which jsonb writes as 0.25"],
    ['[-0]', "the number -0, which jsonb writes without its sign"],
    ['[-0.00]', "the number -0.00, which jsonb writes without its sign"],
    ['["a\\u0000b"]', "a \\u0000 escape, which jsonb refuses"],
  ])("%s", (json, why) => {
    expect(JSON.parse(json)).toBeDefined();
    expect(jsonbChange(json)).toBe(why);
  });
});

describe("decisions for the ORM types", () => {
  it("TIME: time when every value is time-of-day text, else text with the count of the others", () => {
    expect(
      decisions(`
        CREATE TABLE t (id INTEGER PRIMARY KEY, good TIME, mixed TIME, num TIME, none TIME);
        INSERT INTO t VALUES (1, '23:59:59.999999', '12:00', 3600, NULL), (2, '00:00:00.000000', '25:00:00', '12:00', NULL), (3, NULL, '12:00:00+02:00', NULL, NULL);
      `),
    ).toEqual([
      ["mixed", "time", "text", 2],
      ["num", "time", "text", 1],
    ]);
  });

  it("TIME under --strict: values time cannot hold are refused before any DDL", () => {
    expect(decisions(`CREATE TABLE t (id INTEGER PRIMARY KEY, at TIME); INSERT INTO t VALUES (1, '12:00'), (2, 'noon');`, true)).toEqual([["at", "refused", "TYPE_MISMATCH", 1]]);
  });

  it("TEXT with CHECK (json_valid(c)): jsonb when jsonb keeps every value, json when it would not, text when a value is not JSON", () => {
    expect(
      decisions(`
        CREATE TABLE t (id INTEGER PRIMARY KEY,
          a text CHECK ((JSON_VALID("a") OR "a" IS NULL)),
          b TEXT CHECK (json_valid(b)),
          c TEXT CHECK (json_valid([c])),
          d TEXT,
          e TEXT CHECK (json_valid('e')));
        PRAGMA ignore_check_constraints = ON;
        INSERT INTO t VALUES (1, '{"b": 1, "a": [1.5, "\\u00fc"]}', '{"x": 1, "x": 2}', '{"ok": true}', '{"d": 1}', '{"e": 1}'),
                             (2, NULL, '[1]', 'not json', '[2]', '[3]');
      `),
    ).toEqual([
      ["a", "text", "jsonb", 1],
      ["b", "text", "json", 2],
      ["c", "text", "text", 1],
    ]);
  });

  it("TEXT with a json_valid CHECK becomes json/jsonb under --strict too (a narrowing that keeps every value, not a widening)", () => {
    expect(decisions(`CREATE TABLE t (id INTEGER PRIMARY KEY, j TEXT CHECK (json_valid(j))); INSERT INTO t VALUES (1, '[1e3]');`, true)).toEqual([["j", "text", "json", 1]]);
  });
});
