/**
 * Issue 20 item 5: a Core Data store (Z_METADATA, Z_PRIMARYKEY, Z* entity tables whose TIMESTAMP
 * columns hold seconds since 2001-01-01 UTC as REAL) is read with the 2001 epoch, the decision is
 * printed with an example, `--epoch t.c=number` keeps the numbers, and verification compares the
 * target's instants turned back into numbers with the numbers SQLite stores: a wrong offset in the
 * copy (injected through EPOCH_OFFSET_SECONDS) is caught with VERIFY_MISMATCH naming the column.
 */
import Database from "better-sqlite3";
import * as path from "path";
import { fingerprintSchema } from "../../../migrate/engine/plan";
import { runMigration } from "../../../migrate/engine/run";
import { EPOCH_OFFSET_SECONDS } from "../../../migrate/engine/values";
import { runMigrateCli } from "../../support/cli";
import { createTestDatabase, withClient } from "../../support/db";
import { sha256File, tempDir } from "./helpers";

/** A Core Data-shaped store, as an iOS app's persistent store looks (built here, not copied). */
function makeStore(file: string): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
    CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
    CREATE TABLE ZEVENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZTITLE VARCHAR, ZTIMESTAMP TIMESTAMP, ZCREATED TIMESTAMP);
    INSERT INTO Z_PRIMARYKEY VALUES (1, 'Event', 0, 3);
    INSERT INTO Z_METADATA VALUES (1, 'C0FFEE00-0000-4000-8000-000000000001', x'62706c6973743030');
  `);
  const ins = db.prepare("INSERT INTO ZEVENT (Z_PK, Z_ENT, Z_OPT, ZTITLE, ZTIMESTAMP, ZCREATED) VALUES (?, 1, 1, ?, ?, ?)");
  // 599529600 s after 2001-01-01 is 2020-01-01; 568036800.25 is 2019-01-01 12:00:00.25;
  // -31622400 is 2000-01-01 (before the origin); 6.5e-5 is a fraction of the origin second.
  ins.run(1, "new year 2020", 599529600.0, 599529600.5);
  ins.run(2, "noon 2019", 568036800.25, 0.000065);
  ins.run(3, "y2k", -31622400.0, null);
  db.close();
}

async function rows(url: string, sql: string): Promise<unknown[]> {
  return withClient(url, async (c) => (await c.query(sql)).rows);
}

describe("Core Data epoch (issue 20 item 5)", () => {
  const dir = tempDir("coredata");
  const src = path.join(dir, "store.sqlite");
  makeStore(src);
  const hash = sha256File(src);

  afterAll(() => expect(sha256File(src)).toBe(hash));

  it("reads ZTIMESTAMP as seconds since 2001 and says so in plan and run", async () => {
    const t = await createTestDatabase("coredata");
    try {
      const plan = await runMigrateCli(["plan", "--source", src, "--json"]);
      expect(plan.code).toBe(0);
      const decisions = (JSON.parse(plan.out) as { decisions: { table: string; column: string; to: string; instants?: unknown }[] }).decisions.filter((d) => d.table === "ZEVENT");
      expect(decisions.map((d) => [d.column, d.to, d.instants])).toEqual([
        ["ZTIMESTAMP", "timestamp", { epoch: "coredata", unit: "s", by: "core data", example: { stored: "599529600", converted: "2020-01-01 00:00:00" } }],
        ["ZCREATED", "timestamp", { epoch: "coredata", unit: "s", by: "core data", example: { stored: "599529600.5", converted: "2020-01-01 00:00:00.5" } }],
      ]);
      // The schema resource's preview shows the fingerprint's decisions; the epoch is part of its hash.
      const fp = fingerprintSchema(src);
      expect(fp.decisions?.filter((d) => d.startsWith("ZEVENT.ZTIMESTAMP: "))).toEqual([
        "ZEVENT.ZTIMESTAMP: timestamp: 3 number(s) read as seconds since 2001-01-01 00:00:00 UTC (Core Data) (e.g. 599529600 -> 2020-01-01 00:00:00): this is a Core Data store (Z_METADATA and Z_PRIMARYKEY) and ZEVENT one of its entity tables, whose timestamps count from 2001; --epoch ZEVENT.ZTIMESTAMP=number keeps the numbers (e.g. key {\"Z_PK\":1})",
      ]);
      expect(fingerprintSchema(src, { epochs: { "ZEVENT.ZTIMESTAMP": "unix" } }).hash).not.toBe(fp.hash);
      const run = await runMigrateCli(["run", "--source", src, "--target", t.url]);
      expect(run.err).toBe("");
      expect(run.code).toBe(0);
      expect(run.out).toContain(
        "decided: ZEVENT.ZTIMESTAMP: timestamp: 3 number(s) read as seconds since 2001-01-01 00:00:00 UTC (Core Data) (e.g. 599529600 -> 2020-01-01 00:00:00): this is a Core Data store (Z_METADATA and Z_PRIMARYKEY) and ZEVENT one of its entity tables, whose timestamps count from 2001; --epoch ZEVENT.ZTIMESTAMP=number keeps the numbers",
      );
      expect(await rows(t.url, `SELECT "Z_PK" AS k, "ZTIMESTAMP"::text AS ts, "ZCREATED"::text AS cr FROM "ZEVENT" ORDER BY 1`)).toEqual([
        { k: "1", ts: "2020-01-01 00:00:00", cr: "2020-01-01 00:00:00.5" },
        { k: "2", ts: "2019-01-01 12:00:00.25", cr: "2001-01-01 00:00:00.000065" },
        { k: "3", ts: "2000-01-01 00:00:00", cr: null },
      ]);
      const json = await runMigrateCli(["verify", "--source", src, "--target", t.url, "--json"]);
      expect(json.code).toBe(0);
      expect((JSON.parse(json.out) as { ok: boolean }).ok).toBe(true);
    } finally {
      await t.drop();
    }
  });

  it("--epoch ZEVENT.ZTIMESTAMP=number keeps the stored numbers", async () => {
    const t = await createTestDatabase("coredata");
    try {
      const run = await runMigrateCli(["run", "--source", src, "--target", t.url, "--epoch", "ZEVENT.ZTIMESTAMP=number", "--json"]);
      expect(run.code).toBe(0);
      expect(await rows(t.url, `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = '"ZEVENT"'::regclass AND attname IN ('ZTIMESTAMP', 'ZCREATED') ORDER BY attnum`)).toEqual([{ t: "double precision" }, { t: "timestamp without time zone" }]);
      expect(await rows(t.url, `SELECT "ZTIMESTAMP" AS v FROM "ZEVENT" ORDER BY "Z_PK"`)).toEqual([{ v: 599529600 }, { v: 568036800.25 }, { v: -31622400 }]);
    } finally {
      await t.drop();
    }
  });

  it("a wrong offset in the copy is caught by verify, naming the column", async () => {
    const t = await createTestDatabase("coredata");
    const saved = EPOCH_OFFSET_SECONDS.coredata;
    try {
      // The copy reads Core Data seconds as Unix seconds (2019 arrives as 1988); verification
      // does not use this table, it subtracts 2001-01-01 in PostgreSQL.
      EPOCH_OFFSET_SECONDS.coredata = 0n;
      const r = await runMigration(src, { url: t.url });
      expect(await rows(t.url, `SELECT "ZTIMESTAMP"::text AS ts FROM "ZEVENT" WHERE "Z_PK" = 2`)).toEqual([{ ts: "1988-01-01 12:00:00.25" }]);
      expect(r.ok).toBe(false);
      const v = r.verify.tables.find((x) => x.table === "ZEVENT")!;
      expect([v.match, v.differingKeys, v.instantMismatch?.code, v.instantMismatch?.columns]).toEqual([false, ['{"Z_PK":1}', '{"Z_PK":2}', '{"Z_PK":3}'], "VERIFY_MISMATCH", ["ZTIMESTAMP", "ZCREATED"]]);
      expect(r.verify.tables.filter((x) => !x.match).map((x) => x.table)).toEqual(["ZEVENT"]);
    } finally {
      EPOCH_OFFSET_SECONDS.coredata = saved;
      await t.drop();
    }
  });
});
