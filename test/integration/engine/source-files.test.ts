/**
 * The source's directory is left as it was: `plan` and `run` over a WAL-mode file (whose -wal/-shm
 * a read-only connection creates) or a rollback-journal file leave the same file names with the
 * same bytes; with the application holding the WAL open its files stay and it keeps writing; and
 * -wal/-shm the engine created but the application opened meanwhile are never removed under it.
 * Virtual tables: `run` copies the application's tables, not the shadow tables, and prints one line
 * per skipped virtual table.
 */
import Database from "better-sqlite3";
import { spawn, type ChildProcessWithoutNullStreams } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { openSource } from "../../../migrate/engine/sqlite";
import { runMigrateCli } from "../../support/cli";
import { createTestDatabase, withClient } from "../../support/db";
import { sha256File, tempDir } from "./helpers";

/** Every file in the directory with its bytes' sha256. */
function listing(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((n) => [n, createHash("sha256").update(fs.readFileSync(path.join(dir, n))).digest("hex")]));
}

function makeSource(file: string, journal: "wal" | "delete"): void {
  const db = new Database(file);
  db.pragma(`journal_mode = ${journal}`);
  db.exec("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO item (name) VALUES ('one'), ('two'), ('three')");
  db.close();
}

/** The application: a separate process holding the database open, inserting on request. */
class Writer {
  static readonly all: Writer[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = "";
  private err = "";
  private waiting: ((line: string) => void)[] = [];
  constructor(file: string) {
    const script = `
      const Database = require("better-sqlite3");
      const db = new Database(process.argv[1], { timeout: 5000 });
      db.pragma("journal_mode = wal");
      const ins = db.prepare("INSERT INTO item (name) VALUES (?)");
      const count = db.prepare("SELECT count(*) FROM item").pluck();
      require("readline").createInterface({ input: process.stdin }).on("line", (l) => {
        try {
          if (l === "quit") { db.close(); process.stdout.write("closed\\n"); process.exit(0); }
          if (l === "checkpoint") { const r = db.pragma("wal_checkpoint(TRUNCATE)")[0]; process.stdout.write("busy " + r.busy + " wal " + require("fs").statSync(process.argv[1] + "-wal").size + "\\n"); return; }
          ins.run(l);
          process.stdout.write("rows " + count.get() + "\\n");
        } catch (e) {
          process.stdout.write("error " + e.message + "\\n");
        }
      });
      process.stdout.write("rows " + count.get() + "\\n");`;
    this.child = spawn(process.execPath, ["-e", script, file], { cwd: path.join(__dirname, "..", "..", "..") });
    Writer.all.push(this);
    this.child.stderr.on("data", (d: Buffer) => (this.err += d.toString()));
    this.child.stdout.on("data", (d: Buffer) => {
      this.buf += d.toString();
      let i: number;
      while ((i = this.buf.indexOf("\n")) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.waiting.shift()?.(line);
      }
    });
  }
  /** The writer's next line; a writer that says nothing for 10 s fails the test (with its stderr). */
  private next(): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer silent for 10 s; stderr: ${this.err}`)), 10_000);
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }
  ready(): Promise<string> {
    return this.next();
  }
  send(line: string): Promise<string> {
    const p = this.next();
    this.child.stdin.write(line + "\n");
    return p;
  }
  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

afterEach(() => {
  for (const w of Writer.all.splice(0)) w.kill();
});

describe("the source's directory after plan and run", () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    t = await createTestDatabase("srcfiles");
  });
  afterAll(async () => {
    await t.drop();
  });

  const items = () => withClient(t.url, async (c) => (await c.query("SELECT id::int, name FROM item ORDER BY id")).rows);

  for (const journal of ["wal", "delete"] as const) {
    it(`has the same files with the same bytes (journal_mode ${journal})`, async () => {
      const dir = tempDir(`src-${journal}`);
      const src = path.join(dir, "app.db");
      makeSource(src, journal);
      const before = listing(dir);
      expect(Object.keys(before)).toEqual(["app.db"]);
      // The file header says which mode the reader meets: 2/2 is WAL, 1/1 a rollback journal.
      expect([...fs.readFileSync(src).subarray(18, 20)]).toEqual(journal === "wal" ? [2, 2] : [1, 1]);
      const plan = await runMigrateCli(["plan", "--source", src]);
      expect(plan.code).toBe(0);
      expect(listing(dir)).toEqual(before);
      const run = await runMigrateCli(["run", "--source", src, "--target", t.url, "--replace", "--json"]);
      expect(run.err).toBe("");
      expect(run.code).toBe(0);
      expect(listing(dir)).toEqual(before);
      expect(await items()).toEqual([
        { id: 1, name: "one" },
        { id: 2, name: "two" },
        { id: 3, name: "three" },
      ]);
    });
  }

  it("leaves a live writer's -wal and -shm in place, reads what it committed, and the writer keeps working", async () => {
    const dir = tempDir("src-live");
    const src = path.join(dir, "app.db");
    makeSource(src, "wal");
    const app = new Writer(src);
    expect(await app.ready()).toBe("rows 3");
    // Committed but not checkpointed: these rows live only in app.db-wal.
    expect(await app.send("four")).toBe("rows 4");
    const before = listing(dir);
    expect(Object.keys(before)).toEqual(["app.db", "app.db-shm", "app.db-wal"]);
    const run = await runMigrateCli(["run", "--source", src, "--target", t.url, "--replace", "--json"]);
    expect(run.code).toBe(0);
    const after = listing(dir);
    // Readers take read marks in the shared-memory index (app.db-shm); the database and its WAL are untouched.
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect([after["app.db"], after["app.db-wal"]]).toEqual([before["app.db"], before["app.db-wal"]]);
    expect(await items()).toEqual([
      { id: 1, name: "one" },
      { id: 2, name: "two" },
      { id: 3, name: "three" },
      { id: 4, name: "four" },
    ]);
    expect(await app.send("five")).toBe("rows 5");
    expect(await app.send("quit")).toBe("closed");
    // The application, as the last connection, checkpointed and removed its own files.
    expect(Object.keys(listing(dir))).toEqual(["app.db"]);
    const db = new Database(src, { readonly: true });
    expect(db.prepare("SELECT name FROM item ORDER BY id").pluck().all()).toEqual(["one", "two", "three", "four", "five"]);
    db.close();
  });

  it("keeps the -wal/-shm it created when the application opened them meanwhile", async () => {
    const dir = tempDir("src-late");
    const src = path.join(dir, "app.db");
    makeSource(src, "wal");
    const reader = openSource(src);
    expect(reader.prepare("SELECT count(*) FROM item").pluck().get()).toBe(3);
    expect(Object.keys(listing(dir))).toEqual(["app.db", "app.db-shm", "app.db-wal"]);
    const app = new Writer(src);
    expect(await app.ready()).toBe("rows 3");
    expect(await app.send("four")).toBe("rows 4");
    // An empty -wal, as after any checkpoint: only the locks can tell that the application is there.
    expect(await app.send("checkpoint")).toBe("busy 0 wal 0");
    // The engine's last connection closes while the application uses the files: they must stay.
    reader.close();
    const kept = listing(dir);
    expect(Object.keys(kept)).toEqual(["app.db", "app.db-shm", "app.db-wal"]);
    expect(await app.send("five")).toBe("rows 5");
    expect(await app.send("quit")).toBe("closed");
    expect(Object.keys(listing(dir))).toEqual(["app.db"]);
    const db = new Database(src, { readonly: true });
    expect(db.prepare("SELECT name FROM item ORDER BY id").pluck().all()).toEqual(["one", "two", "three", "four", "five"]);
    db.close();
  });
});

describe("virtual tables in a run", () => {
  it("copies the application's tables only and prints each skipped virtual table once", async () => {
    const dir = tempDir("src-vt");
    const src = path.join(dir, "app.db");
    const db = new Database(src);
    db.exec(`
      CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
      INSERT INTO note (body) VALUES ('alpha beta'), ('gamma');
      CREATE VIRTUAL TABLE note_fts USING fts5(body, content='note', content_rowid='id');
      INSERT INTO note_fts (rowid, body) SELECT id, body FROM note;
      CREATE VIRTUAL TABLE words USING fts4(w);
      INSERT INTO words VALUES ('x'), ('y');
      CREATE VIRTUAL TABLE box USING rtree(id, x0, x1, y0, y1);
      INSERT INTO box VALUES (1, 0, 1, 0, 1);`);
    db.unsafeMode(true);
    db.pragma("writable_schema = ON");
    db.exec("INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', 'mystery', 'mystery', 0, 'CREATE VIRTUAL TABLE mystery USING nosuchmodule(a)')");
    db.pragma("writable_schema = OFF");
    db.close();
    const hash = sha256File(src);
    const t = await createTestDatabase("srcvt");
    try {
      const r = await runMigrateCli(["run", "--source", src, "--target", t.url]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const lines = r.out.trimEnd().split("\n");
      expect(lines[0].split(/\s+/)).toEqual(["table", "read", "written", "bytes", "seconds", "checksum"]);
      expect(lines[1].split(/\s+/).filter((_, i) => i !== 3 && i !== 4)).toEqual(["note", "2", "2", "ok"]);
      expect(lines.slice(3)).toEqual([
        "virtual table box skipped: rtree virtual table (1 row(s)) not copied; its shadow tables box_node, box_parent, box_rowid are skipped with it; PostgreSQL's spatial index is a GiST index (PostGIS geometry, or box/range columns): recreate it by hand",
        "virtual table mystery skipped: nosuchmodule virtual table (module nosuchmodule is not available to this reader) not copied; PostgreSQL has no equivalent: recreate what it provides by hand",
        "virtual table note_fts skipped: fts5 virtual table (2 row(s)) not copied; its shadow tables note_fts_config, note_fts_data, note_fts_docsize, note_fts_idx are skipped with it; PostgreSQL's full-text search is a tsvector column (or expression) with a GIN index: recreate it by hand over the migrated text",
        "virtual table words skipped: fts4 virtual table (2 row(s)) not copied; its shadow tables words_content, words_docsize, words_segdir, words_segments, words_stat are skipped with it; PostgreSQL's full-text search is a tsvector column (or expression) with a GIN index: recreate it by hand over the migrated text",
      ]);
      const got = await withClient(t.url, async (c) => ({
        tables: (await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).rows.map((x) => x.table_name as string),
        notes: (await c.query("SELECT id::int, body FROM note ORDER BY id")).rows,
      }));
      expect(got).toEqual({ tables: ["note"], notes: [{ id: 1, body: "alpha beta" }, { id: 2, body: "gamma" }] });
      expect(sha256File(src)).toBe(hash);
    } finally {
      await t.drop();
    }
  });
});
