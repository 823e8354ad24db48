/** SQLAlchemy types a plain default migration did not carry, read back through the ORM on
 * PostgreSQL: Time (TIME) becomes time, decided from the data (every value is time-of-day text);
 * Uuid (CHAR(32) hex on SQLite) takes the documented override --cast gap.token=uuid (nothing in
 * the file says 32 hex digits are a UUID rather than, say, an MD5). Still not equal, asserted as
 * it is: Interval, which SQLAlchemy's SQLite dialect stores as a DATETIME offset from 1970-01-01;
 * the copy reads it as the timestamp it is, SQLAlchemy on PostgreSQL expects interval, and no
 * cast turns a timestamp into its distance from the epoch. */
import * as path from "path";
import { createTestDatabase } from "../../support/db";
import { sha256File, tempDir } from "../engine/helpers";
import { migrate, runPython, type Attempts, type Rows } from "./corpus";

type Created = { read: Rows; queries: Attempts; gap_queries: Attempts };
type ReadBack = Created & { writes: Attempts; gap_writes: Attempts };

describe("SQLAlchemy 2.1 Uuid and Time read back equal; Interval is the known gap", () => {
  it("Uuid (--cast) and Time (decided) read back equal and their lookups answer the same; Interval reads a datetime", async () => {
    const db = await createTestDatabase("orm_sqlalchemy_gaps");
    try {
      const src = path.join(tempDir("orm-sqlalchemy-gaps"), "app.sqlite");
      const created = runPython<Created>("sqlalchemy_corpus.py", ["create", src]);
      const hash = sha256File(src);
      const r = await migrate(src, db.url, ["--cast", "gap.token=uuid"]);
      expect({ code: r.code, err: r.err, tables: r.tables }).toEqual({ code: 0, err: "", tables: { gap: 2, member: 4, person: 3, team: 2 } });
      const back = runPython<ReadBack>("sqlalchemy_corpus.py", ["read", db.url]);
      expect(sha256File(src)).toBe(hash);
      expect(created.read["gap"][0]).toEqual({
        id: ["int", "1"], person_id: ["int", "1"], token: ["UUID", "6f1e0c4a-9b1d-4c55-8d1e-2b7a4e9c0f11"], alarm: ["time", "23:59:59.999999"], wait: ["timedelta", "3d 14400s 5us"],
      });
      const withoutWait = (rows: Record<string, unknown>[]): Record<string, unknown>[] => rows.map(({ wait: _w, ...rest }) => rest);
      expect(withoutWait(back.read["gap"])).toEqual(withoutWait(created.read["gap"]));
      expect(back.read["gap"].map((g) => g.wait)).toEqual([["datetime", "1970-01-04T04:00:00.000005"], ["datetime", "1969-12-31T00:00:00.000001"]]);
      const { "interval gt": interval, ...rest } = back.gap_queries;
      expect(rest).toEqual({ "by uuid": { ok: ["int", "2"] }, "time lt": { ok: ["list", [["int", "2"]]] } });
      expect(created.gap_queries).toEqual({ ...rest, "interval gt": { ok: ["list", [["int", "1"]]] } });
      expect(interval).toEqual({ error: "ProgrammingError: (psycopg2.errors.UndefinedFunction) operator does not exist: timestamp without time zone > interval" });
      expect(back.gap_writes).toEqual({ "new gap": { error: 'ProgrammingError: (psycopg2.errors.DatatypeMismatch) column "wait" is of type timestamp without time zone but expression is of type interval' } });
    } finally {
      await db.drop();
    }
  });
});
