/**
 * The profile scans read on worker threads (profile-thread.ts, profile-worker.ts), big tables in
 * rowid ranges, give the same decisions as one thread reading one statement per table, on a file
 * with every kind of finding. ts-jest has no compiled worker, so this loads the built engine from
 * dist/ (npm run build) for the threaded runs and compares with this tree's source on one thread.
 */
import * as fs from "fs";
import * as path from "path";
import Database from "better-sqlite3";
import { decideTypes as decideFromSource } from "../../../migrate/engine/decide";
import { introspect } from "../../../migrate/engine/introspect";
import { openSource } from "../../../migrate/engine/sqlite";
import { sqliteFile } from "./fixture";

const DIST = path.resolve(__dirname, "..", "..", "..", "dist", "migrate", "engine");
if (!fs.existsSync(path.join(DIST, "profile-worker.js"))) {
  throw new Error("dist/ has no compiled profile worker: run `npm run build` first (npm test does).");
}
const dist = {
  decide: require(path.join(DIST, "decide.js")) as typeof import("../../../migrate/engine/decide"),
  thread: require(path.join(DIST, "profile-thread.js")) as typeof import("../../../migrate/engine/profile-thread"),
  introspect: require(path.join(DIST, "introspect.js")) as typeof import("../../../migrate/engine/introspect"),
  sqlite: require(path.join(DIST, "sqlite.js")) as typeof import("../../../migrate/engine/sqlite"),
};

const ROWS = 300;

/** Every finding kind decide.ts makes, spread over rowid, WITHOUT ROWID, shadowed-rowid, STRICT and empty tables. */
function buildSource(): string {
  const p = sqliteFile(`
    CREATE TABLE wide (id INTEGER PRIMARY KEY, code VARCHAR(4), n INTEGER, r INTEGER, big INTEGER, f REAL, amount NUMERIC(6,2),
      flag BOOLEAN, flag2 BOOLEAN, day DATE, at DATETIME, stamp DATETIME, doc JSON, body TEXT, pic INTEGER, mix TEXT, fine TEXT);
    CREATE TABLE keyed (a TEXT, b INTEGER, note VARCHAR(2), PRIMARY KEY (a, b));
    CREATE TABLE wr (k INTEGER PRIMARY KEY, v VARCHAR(3), w INTEGER) WITHOUT ROWID;
    CREATE TABLE shadow (rowid TEXT, x INTEGER);
    CREATE TABLE st (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, a ANY) STRICT;
    CREATE TABLE empty (x VARCHAR(1), y INTEGER);
  `);
  const db = new Database(p);
  try {
    db.transaction(() => {
      const w = db.prepare("INSERT INTO wide VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      for (let i = 1; i <= ROWS; i++) {
        w.run(
          i,
          i % 50 === 0 ? "toolong" : "ab",
          i === 171 ? "n/a" : i,
          i % 97 === 0 ? i + 0.5 : i,
          i === 250 ? 9007199254740993n : i % 60 === 0 ? 1.25 : i,
          i % 120 === 0 ? "x" : i / 4,
          i % 77 === 0 ? 1.005 : i / 100,
          i % 90 === 0 ? 7 : i % 2,
          i % 80 === 0 ? "maybe" : i % 3 === 0 ? "yes" : 0,
          i % 110 === 0 ? "2021-03-04 05:06:07" : "2021-03-04",
          i % 3 === 0 ? 1600000000 + i : "2020-01-02 03:04:05",
          1700000000 + i,
          i % 70 === 0 ? "{bad" : '{"a":1}',
          i % 130 === 0 ? Buffer.from([0x61, 0xff, 0x62]) : "plain",
          Buffer.from([i & 255]),
          i % 140 === 0 ? Buffer.from([1, 2]) : "t",
          "ok",
        );
      }
      // body's 0xff bytes must be stored as TEXT: cast the BLOBs inserted above.
      db.exec("UPDATE wide SET body = CAST(body AS TEXT) WHERE typeof(body) = 'blob'");
      const k = db.prepare("INSERT INTO keyed VALUES (?, ?, ?)");
      for (let i = 1; i <= ROWS; i++) k.run(i === 222 ? null : `k${i}`, i, i % 45 === 0 ? "abc" : "a");
      const r = db.prepare("INSERT INTO wr VALUES (?, ?, ?)");
      for (let i = 1; i <= ROWS; i++) r.run(i, i % 33 === 0 ? "abcd" : "a", i % 101 === 0 ? "w" : i);
      const s = db.prepare("INSERT INTO shadow VALUES (?, ?)");
      for (let i = 1; i <= ROWS; i++) s.run(`r${i}`, i % 66 === 0 ? 2.5 : i);
      const t = db.prepare("INSERT INTO st VALUES (?, ?, ?, CAST(? AS TEXT), ?, ?)");
      for (let i = 1; i <= ROWS; i++) t.run(i, i, i / 2, i % 150 === 0 ? Buffer.from([0x41, 0x00, 0x42]) : "t", Buffer.from([i & 255]), i % 2 ? "s" : i);
    })();
  } finally {
    db.close();
  }
  return p;
}

type Decide = typeof decideFromSource;
function decisionsJson(decide: Decide, open: typeof openSource, intro: typeof introspect, file: string, jobs: number): string {
  const db = open(file);
  try {
    const d = decide(db, intro(db), { jobs }, file);
    return JSON.stringify({ decided: d.decided, decisions: d.decisions, refusals: d.refusals.map((e) => ({ code: e.code, message: e.message, meta: e.meta })) }, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
  } finally {
    db.close();
  }
}

describe("threaded profile", () => {
  let file: string;
  let single: string;
  const saved = { ...dist.thread.profileTuning };
  beforeAll(() => {
    file = buildSource();
    single = decisionsJson(decideFromSource, openSource, introspect, file, 1);
  });
  afterEach(() => Object.assign(dist.thread.profileTuning, saved));

  it("the single-threaded profile finds every kind on this file", () => {
    const d = JSON.parse(single) as { decisions: { table: string; column: string; from: string; to: string; rows: number }[]; refusals: { code: string; meta: { table: string; column: string; rows: number } }[] };
    expect(d.decisions.map((x) => `${x.table}.${x.column}: ${x.from} -> ${x.to} (${x.rows})`)).toEqual([
      "keyed.note: varchar(2) -> text (6)",
      "shadow.x: bigint -> double precision (4)",
      "st.t: text -> bytea (2)",
      "st.a: numeric -> text (150)",
      "wide.code: varchar(4) -> text (6)",
      "wide.n: bigint -> text (1)",
      "wide.r: bigint -> double precision (3)",
      "wide.big: bigint -> numeric (5)",
      "wide.f: double precision -> text (2)",
      "wide.amount: numeric(6,2) -> numeric (3)",
      "wide.flag: boolean -> bigint (3)",
      "wide.flag2: boolean -> text (3)",
      "wide.day: date -> timestamp (2)",
      "wide.at: timestamp -> timestamp (100)",
      "wide.stamp: timestamp -> bigint (300)",
      "wide.doc: jsonb -> text (4)",
      "wide.body: text -> bytea (2)",
      "wide.pic: bigint -> bytea (300)",
      "wr.v: varchar(3) -> text (9)",
      "wr.w: bigint -> text (2)",
    ]);
    expect(d.refusals.map((e) => `${e.code} ${e.meta.table}.${e.meta.column} (${e.meta.rows})`)).toEqual(["TYPE_MISMATCH keyed.a (1)", "TYPE_MISMATCH wide.mix (2)"]);
  });

  it("the built engine on one thread gives the same decisions as this tree's source", () => {
    expect(decisionsJson(dist.decide.decideTypes, dist.sqlite.openSource, dist.introspect.introspect, file, 1)).toBe(single);
  });

  it.each([
    ["this thread and 2 workers", true, 3],
    ["workers only", false, 2],
  ])("%s, tables in rowid ranges of 7, give identical decisions", (_, mainScans, jobs) => {
    Object.assign(dist.thread.profileTuning, { minBytes: 0, splitRows: 7, mainScans });
    expect(decisionsJson(dist.decide.decideTypes, dist.sqlite.openSource, dist.introspect.introspect, file, jobs)).toBe(single);
    const last = dist.thread.lastParallelScan;
    // wide, keyed and st in 16 rowid ranges each (300 rows / 7, at most 16); wr (WITHOUT ROWID),
    // shadow (a column named rowid) and empty (no rows) in one part each.
    expect(last.parts).toBe(16 + 16 + 1 + 1 + 16 + 1);
    expect(last.readAgain).toBe(0);
    if (!mainScans) expect(last.byWorkers).toBe(last.parts);
    else expect(last.byWorkers).toBeLessThanOrEqual(last.parts);
  });

  it("parts no worker reads are read on this thread, with the same decisions", () => {
    const broken = path.join(path.dirname(file), "broken-worker.js");
    fs.writeFileSync(broken, "throw new Error('this worker cannot start');\n");
    Object.assign(dist.thread.profileTuning, { minBytes: 0, splitRows: 7, mainScans: false, giveUpMs: 100, workerFile: broken });
    expect(decisionsJson(dist.decide.decideTypes, dist.sqlite.openSource, dist.introspect.introspect, file, 2)).toBe(single);
    expect(dist.thread.lastParallelScan).toEqual({ parts: 51, workers: 2, byWorkers: 0, readAgain: 51 });
  });

  it("the source file is not written", () => {
    const before = fs.readFileSync(file);
    Object.assign(dist.thread.profileTuning, { minBytes: 0, splitRows: 7 });
    decisionsJson(dist.decide.decideTypes, dist.sqlite.openSource, dist.introspect.introspect, file, 2);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});
