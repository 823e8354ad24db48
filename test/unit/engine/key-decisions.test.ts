/** F4 and seed 60122 (issue 13): key collisions and numbers that are no instant, decided in the profile step with exact lines. */
import { decideTypes } from "../../../migrate/engine/decide";
import { introspect } from "../../../migrate/engine/introspect";
import { withSource } from "../../../migrate/engine/sqlite";
import { sqliteFile } from "./fixture";

const src = sqliteFile(`
CREATE TABLE a (k BIGINT, b BOOL, PRIMARY KEY (k, b));
INSERT INTO a VALUES (9223372036854775807, 'true'), (9223372036854775807, 1), (5, 'false');
CREATE TABLE clean (ts TIMESTAMP UNIQUE, b BOOLEAN UNIQUE);
INSERT INTO clean VALUES ('2020-01-01 00:00:00', 0), ('2020-01-02 00:00:00', 1);
CREATE TABLE u ("end" TIMESTAMP DEFAULT (strftime('%s','now')));
INSERT INTO u VALUES (25007), (8.993882656068765e+119);
`);

function decide(strictTypes: boolean): ReturnType<typeof decideTypes> {
  return withSource(src, (db) => decideTypes(db, introspect(db), { strictTypes }));
}

describe("key and instant decisions", () => {
  it("keeps a multi-column key's boolean as text, leaves clean keys alone, keeps numbers that are no instant", () => {
    const d = decide(false);
    expect(d.refusals).toEqual([]);
    expect(d.decisions.map((x) => [x.table, x.column, x.from, x.to, x.rows])).toEqual([
      ["a", "b", "boolean", "text", 1],
      ["u", "end", "timestamp", "double precision", 2],
    ]);
    expect(d.decisions[0].reason).toBe(
      `1 row(s) of the key (k, b) are distinct in SQLite but equal as bigint, boolean, e.g. {"k":"9223372036854775807","b":1} (row {"k":"9223372036854775807","b":1,"rowid":2}) and {"k":"9223372036854775807","b":"true"} (row {"k":"9223372036854775807","b":"true","rowid":1}), both "9223372036854775807, t"; text keeps every value as written, so the key holds them apart`,
    );
  });

  it("--strict refuses the key collision in the profile step, naming the columns and both rows", () => {
    const d = decide(true);
    const e = d.refusals.find((x) => x.meta.table === "a")!;
    expect([e.code, e.meta.column, e.meta.step, e.meta.keyColumns, e.meta.rowKeys]).toEqual(["TYPE_MISMATCH", "b", "profile", ["k", "b"], [{ k: "9223372036854775807", b: 1, rowid: 2 }, { k: "9223372036854775807", b: "true", rowid: 1 }]]);
    expect(e.message).toMatch(/^a\.b: 1 row\(s\) of the key \(k, b\) are distinct in SQLite .* \(--strict keeps the declared types\)\. Drop --strict \(strictTypes\) to keep b as text, cast it \(--cast a\.b=text\)/);
  });
});
