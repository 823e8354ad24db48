/**
 * The compiled CLI encodes tables of WORKER_MIN_ROWS or more on worker threads; ts-jest runs the
 * in-thread path only (there is no compiled worker under it). These tests run the built CLI
 * (dist/, made by `npm run build` before jest) so the worker path is exercised: it must give the
 * same checksums as the in-thread path, and a rejected row in a worker must still be reported with
 * its table, column and key.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Database from "better-sqlite3";
import { generateArmp } from "../../../bench/armp-data";
import { WORKER_MIN_ROWS } from "../../../migrate/engine/encode-thread";
import { REPO_ROOT } from "../../support/pulumi-cli";
import { createTestDatabase, withClient } from "../../support/db";
import { sha256File, tempDir } from "./helpers";
import { createTables } from "../../../migrate/engine";
import { sourceSelect, targetColumns } from "../../../migrate/engine/copy";
import { introspect } from "../../../migrate/engine/introspect";

interface CliTable { table: string; rowsRead: number; rowsWritten: number; sourceChecksum: string; targetChecksum: string; checksumMatch: boolean }

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string; err: string } {
  const cli = path.join(REPO_ROOT, "bin", "armp-migrate.js");
  if (!fs.existsSync(path.join(REPO_ROOT, "dist", "migrate", "engine", "encode-worker.js"))) {
    throw new Error("dist/ is missing the compiled encode worker: run `npm run build` first (npm test does).");
  }
  const r = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("worker-thread encoding in the built CLI", () => {
  let src: string;
  let hash: string;
  let rows: Record<string, number>;
  const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];

  beforeAll(() => {
    src = path.join(tempDir("workers"), "armp.sqlite");
    // scale 0.14: publication (21,000 rows) and publication_author (16,800) straddle the threshold.
    rows = generateArmp(src, { scale: 0.14, seed: 11 }).rows;
    hash = sha256File(src);
  });
  afterAll(async () => {
    expect(sha256File(src)).toBe(hash);
    for (const d of dbs) await d.drop();
  });

  it("gives the same rows and checksums with and without encode workers", async () => {
    expect(rows.publication).toBeGreaterThanOrEqual(WORKER_MIN_ROWS);
    expect(rows.publication_author).toBeLessThan(WORKER_MIN_ROWS);
    const a = await createTestDatabase("workers_on");
    const b = await createTestDatabase("workers_off");
    dbs.push(a, b);
    const on = runCli(["run", "--source", src, "--target", a.url, "--jobs", "2", "--json"]);
    const off = runCli(["run", "--source", src, "--target", b.url, "--jobs", "2", "--json"], { ARMP_MIGRATE_ENCODE_THREADS: "0" });
    expect({ code: on.code, err: on.err }).toEqual({ code: 0, err: "" });
    expect({ code: off.code, err: off.err }).toEqual({ code: 0, err: "" });
    const tablesOn = (JSON.parse(on.out) as { ok: boolean; tables: CliTable[] }).tables;
    const tablesOff = (JSON.parse(off.out) as { ok: boolean; tables: CliTable[] }).tables;
    const summary = (ts: CliTable[]) =>
      Object.fromEntries(ts.map((t) => [t.table, { rows: t.rowsWritten, source: t.sourceChecksum, target: t.targetChecksum, match: t.checksumMatch }]));
    expect(summary(tablesOn)).toEqual(summary(tablesOff));
    for (const t of tablesOn) {
      expect(t.rowsWritten).toBe(rows[t.table]);
      expect(t.checksumMatch).toBe(true);
    }
    const n = await withClient(a.url, async (c) => Number((await c.query("SELECT count(*) AS n FROM publication")).rows[0].n));
    expect(n).toBe(rows.publication);
  });

  it("reports a row rejected inside a worker with its table, column and key, and leaves no table behind", async () => {
    const bad = path.join(tempDir("workers-bad"), "armp.sqlite");
    fs.copyFileSync(src, bad);
    const w = new Database(bad);
    try {
      w.prepare("UPDATE publication SET title = 'nul' || char(0) || 'byte' WHERE id = 20500").run();
    } finally {
      w.close();
    }
    const badHash = sha256File(bad);
    const d = await createTestDatabase("workers_bad");
    dbs.push(d);
    // An explicit type for the column: the profile keeps it, and the row is rejected in the copy.
    const r = runCli(["run", "--source", bad, "--target", d.url, "--jobs", "2", "--json", "--cast", "publication.title=text"]);
    expect(r.code).toBe(3);
    const err = JSON.parse(r.out) as { error: { code: string; meta: Record<string, unknown> } };
    expect(err.error.code).toBe("ROW_REJECTED");
    expect(err.error.meta).toMatchObject({ table: "publication", column: "title", key: { id: 20500 } });
    const tables = await withClient(d.url, async (c) => (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows);
    expect(tables).toEqual([]);
    expect(sha256File(bad)).toBe(badHash);
  });

  describe("one table split across two workers (ARMP_MIGRATE_SPLIT_MIN_ROWS)", () => {
    const split = { ARMP_MIGRATE_SPLIT_MIN_ROWS: "5000" };

    it("gives the same rows and checksums as one reader", async () => {
      const a = await createTestDatabase("split_on");
      const b = await createTestDatabase("split_off");
      dbs.push(a, b);
      const on = runCli(["run", "--source", src, "--target", a.url, "--jobs", "2", "--json"], split);
      const off = runCli(["run", "--source", src, "--target", b.url, "--jobs", "2", "--json"], { ARMP_MIGRATE_ENCODE_THREADS: "0" });
      expect({ code: on.code, err: on.err }).toEqual({ code: 0, err: "" });
      expect({ code: off.code, err: off.err }).toEqual({ code: 0, err: "" });
      const summary = (out: string) =>
        Object.fromEntries((JSON.parse(out) as { tables: CliTable[] }).tables.map((t) => [t.table, { rows: t.rowsWritten, source: t.sourceChecksum, target: t.targetChecksum, match: t.checksumMatch }]));
      expect(summary(on.out)).toEqual(summary(off.out));
    });

    it("produces byte-for-byte the COPY text of one reader, in rowid order, across rowid gaps", async () => {
      // The compiled module (dist/, built before jest) is the one with a worker file next to it.
      const compiled = require(path.join(REPO_ROOT, "dist", "migrate", "engine", "encode-thread.js")) as typeof import("../../../migrate/engine/encode-thread");
      const gappy = path.join(tempDir("split-gaps"), "armp.sqlite");
      fs.copyFileSync(src, gappy);
      const w = new Database(gappy);
      try {
        w.pragma("foreign_keys = OFF");
        w.prepare("DELETE FROM publication WHERE id % 7 = 3 OR id BETWEEN 4000 AND 9100").run();
      } finally {
        w.close();
      }
      const d = await createTestDatabase("split_text");
      dbs.push(d);
      await createTables(gappy, { url: d.url });
      const db = new Database(gappy, { readonly: true });
      try {
        const t = introspect(db).tables.find((x) => x.name === "publication")!;
        const cols = await withClient(d.url, (c) => targetColumns(c, "public", t));
        const sel = sourceSelect(t, cols);
        const job = { sourcePath: gappy, table: t, cols, keyIdx: sel.keyIdx, keyNames: sel.keyNames, checksum: "h64" as const, native: null };
        const drain = async (s: ReturnType<typeof compiled.workerChunks>): Promise<{ text: string; rows: number; sum: string | undefined }> => {
          let text = "";
          try {
            for await (const ch of s.chunks) {
              text += ch.toString();
              s.release();
            }
          } finally {
            await s.close();
          }
          const r = s.result();
          return { text, rows: r.rows, sum: r.sum?.checksum };
        };
        const one = await drain(compiled.workerChunks({ ...job, sql: sel.sql }));
        const blocks = compiled.rowidBlocks(db, t)!;
        expect(blocks.count).toBeGreaterThan(4);
        const two = await drain(compiled.splitWorkerChunks({ ...job, sql: sel.rangeSql! }, blocks, 2));
        const expectedRows = Number((db.prepare("SELECT count(*) AS n FROM publication").get() as { n: number }).n);
        expect(one.rows).toBe(expectedRows);
        expect({ rows: two.rows, sum: two.sum }).toEqual({ rows: one.rows, sum: one.sum });
        expect(two.text === one.text).toBe(true);
      } finally {
        db.close();
      }
    });

    it.each([
      ["a row PostgreSQL rejects (COPY line -> key)", "UPDATE publication SET publication_date = '2021-02-30' WHERE id = 20500", "ROW_REJECTED", { table: "publication", column: "publication_date", key: { id: 20500 } }],
      ["a value a split worker cannot convert", "UPDATE publication SET is_open_access = 'maybe' WHERE id = 14000", "TYPE_MISMATCH", { table: "publication", column: "is_open_access", key: { id: 14000 } }],
    ])("reports %s with its table, column and key, and leaves no table behind", async (_what, update, code, meta) => {
      const bad = path.join(tempDir("split-bad"), "armp.sqlite");
      fs.copyFileSync(src, bad);
      const w = new Database(bad);
      try {
        w.prepare(update).run();
      } finally {
        w.close();
      }
      const badHash = sha256File(bad);
      const d = await createTestDatabase("split_bad");
      dbs.push(d);
      // Explicit types: the profile keeps them, and the bad value meets the copy inside a worker.
      const r = runCli(["run", "--source", bad, "--target", d.url, "--jobs", "1", "--json", "--cast", "publication.publication_date=date", "--cast", "publication.is_open_access=boolean"], split);
      expect(r.code).toBe(3);
      const err = JSON.parse(r.out) as { error: { code: string; meta: Record<string, unknown> } };
      expect(err.error.code).toBe(code);
      expect(err.error.meta).toMatchObject(meta);
      const tables = await withClient(d.url, async (c) => (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows);
      expect(tables).toEqual([]);
      expect(sha256File(bad)).toBe(badHash);
    });
  });
});
