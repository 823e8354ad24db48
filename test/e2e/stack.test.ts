/**
 * Issue 5: the project's own program (Pulumi.yaml at the repo root) under a real Pulumi CLI and
 * engine, in external mode against the throwaway PostgreSQL cluster. The parts that need a Docker
 * engine or provider plugins (docker containers, @pulumi/postgresql) are switched off by config:
 * neither a Docker engine nor those plugins exist on this machine. What runs is everything that
 * works without them: the migration's dynamic providers and the app env file.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Database from "better-sqlite3";
import { generateArmp } from "../../bench/armp-data";
import { adminUrl, createTestDatabase, withClient } from "../support/db";
import { PulumiStack, urnName, type PreviewStep } from "../support/pulumi-cli";

const sha256 = (file: string): string => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

interface TableReport {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
  match: boolean;
}

const byName = (steps: PreviewStep[]): Record<string, string> =>
  Object.fromEntries(steps.filter((s) => !s.urn.includes("pulumi:pulumi:Stack")).map((s) => [urnName(s.urn), s.op]));

const changed = (steps: PreviewStep[]): Record<string, string> =>
  Object.fromEntries(Object.entries(byName(steps)).filter(([, op]) => op !== "same"));

describe("pulumi up / preview / destroy on the project's own program", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "armp-e2e-"));
  const source = path.join(work, "armp.db");
  const envFile = path.join(work, "app.env");
  const originalEnv = "# ARMP app settings\nDATABASE_URL=sqlite:///./data/armp.db\nSECRET_KEY=keep-me\n";
  const stack = new PulumiStack(`e2e-${process.pid}`);
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sourceHash = "";

  beforeAll(async () => {
    generateArmp(source, { scale: 0.01, seed: 7 });
    fs.writeFileSync(envFile, originalEnv);
    db = await createTestDatabase("e2e");
    stack.init();
    stack.setConfig("armp-postgres:postgresMode", "external");
    stack.setConfig("armp-postgres:manageRole", "false");
    stack.setConfig("armp-postgres:databaseUrl", db.url, { secret: true });
    stack.setConfig("armp-postgres:pgbouncerEnabled", "false");
    stack.setConfig("armp-postgres:sourcePath", source);
    stack.setConfig("armp-postgres:envFile", envFile);
    stack.setConfigJson("armp-postgres:extraIndexes", [
      { table: "publication", columns: ["doi"] },
      { table: "researcher", columns: ["orcid"] },
    ]);
  });

  afterAll(async () => {
    // Timings for the closing note (issue 5 asks for the wall time of each step).
    console.log(stack.timings.map((t) => `${t.step}: ${t.seconds.toFixed(1)} s`).join("\n"));
    stack.run("cleanup destroy", ["destroy", "--yes", "--skip-preview"], { allowFailure: true });
    stack.run("stack rm", ["stack", "rm", "--yes", "--force"], { allowFailure: true });
    stack.cleanup();
    await db?.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("previews the migration resources, applies them, verifies every table, then previews no change", async () => {
    sourceHash = sha256(source);
    const first = stack.preview();
    const ops = byName(first.steps);
    for (const r of ["armp-schema", "armp-data", "armp-indexes", "armp-verification"]) {
      expect(ops[r]).toBe("create");
    }

    stack.run("up (create)", ["up", "--yes", "--skip-preview"]);
    const out = stack.outputs();
    const report = out.migrationReport as { ok: boolean; tables: TableReport[] };
    expect(report.ok).toBe(true);
    expect(report.tables.map((t) => t.table).sort()).toEqual(
      ["harvest_log", "organization", "project", "project_publication", "publication", "publication_author", "researcher"],
    );
    for (const t of report.tables) {
      expect(t.match).toBe(true);
      expect(t.targetRows).toBe(t.sourceRows);
      expect(t.targetChecksum).toBe(t.sourceChecksum);
    }
    const sqliteCounts = new Database(source, { readonly: true, fileMustExist: true });
    try {
      const orgs = (sqliteCounts.prepare("SELECT count(*) AS n FROM organization").get() as { n: number }).n;
      const pgOrgs = await withClient(db.url, async (c) => Number((await c.query("SELECT count(*) AS n FROM organization")).rows[0].n));
      expect(pgOrgs).toBe(orgs);
    } finally {
      sqliteCounts.close();
    }
    // The app env file now points at PostgreSQL; unrelated lines are kept.
    const env = fs.readFileSync(envFile, "utf8");
    expect(env).toContain("SECRET_KEY=keep-me");
    expect(env).toMatch(/^DATABASE_URL=postgres(ql)?:\/\//m);

    expect(sha256(source)).toBe(sourceHash);
    const again = stack.preview(["--expect-no-changes"]);
    expect(changed(again.steps)).toEqual({});
  });

  it("shows a new column and table as schema and data updates, applies them and verifies again", async () => {
    const w = new Database(source); // the test plays the app writing to its own database
    try {
      w.exec(`ALTER TABLE organization ADD COLUMN website TEXT; UPDATE organization SET website = 'https://example.org/' || id WHERE id % 3 = 0;
              CREATE TABLE grant_call (id INTEGER PRIMARY KEY, title TEXT NOT NULL, closes_on DATE);
              INSERT INTO grant_call (title, closes_on) VALUES ('Open call', '2025-03-01'), ('Ünïcode call', NULL);`);
    } finally {
      w.close();
    }
    sourceHash = sha256(source);
    const p = stack.preview(["--diff"]);
    const ops = changed(p.steps);
    expect(ops["armp-schema"]).toBe("update");
    expect(ops["armp-data"]).toBe("update");
    expect(ops["armp-indexes"]).toBeUndefined();

    stack.run("up (schema+data change)", ["up", "--yes", "--skip-preview"]);
    const report = stack.outputs().migrationReport as { ok: boolean; tables: TableReport[] };
    expect(report.ok).toBe(true);
    expect(report.tables.find((t) => t.table === "grant_call")).toMatchObject({ sourceRows: 2, targetRows: 2, match: true });
    const websites = await withClient(db.url, async (c) => Number((await c.query("SELECT count(website) AS n FROM organization")).rows[0].n));
    const w2 = new Database(source, { readonly: true });
    try {
      expect(websites).toBe((w2.prepare("SELECT count(website) AS n FROM organization").get() as { n: number }).n);
    } finally {
      w2.close();
    }
    expect(sha256(source)).toBe(sourceHash);
  });

  it("shows an extra-index change as a change of the index resource only", async () => {
    stack.setConfigJson("armp-postgres:extraIndexes", [
      { table: "publication", columns: ["doi"] },
      { table: "project", columns: ["funder"] },
    ]);
    const ops = changed(stack.preview().steps);
    expect(ops["armp-indexes"]).toBe("update");
    expect(ops["armp-schema"]).toBeUndefined();
    expect(ops["armp-data"]).toBeUndefined();
    stack.run("up (index change)", ["up", "--yes", "--skip-preview"]);
    const names = await withClient(db.url, async (c) =>
      (await c.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname IN ('idx_publication_doi','idx_researcher_orcid','idx_project_funder') ORDER BY 1")).rows.map((r) => r.indexname),
    );
    expect(names).toEqual(["idx_project_funder", "idx_publication_doi"]);
  });

  it("fails the next verification when the target drifts, naming the table and key", async () => {
    const key = await withClient(db.url, async (c) => {
      const row = (await c.query("SELECT id FROM publication ORDER BY id LIMIT 1 OFFSET 3")).rows[0];
      await c.query("DELETE FROM publication_author WHERE publication_id = $1", [row.id]);
      await c.query("DELETE FROM project_publication WHERE publication_id = $1", [row.id]);
      await c.query("DELETE FROM publication WHERE id = $1", [row.id]);
      return row.id as number;
    });
    const r = stack.run("up --refresh (drifted)", ["up", "--yes", "--skip-preview", "--refresh"], { allowFailure: true });
    expect(r.code).not.toBe(0);
    const text = r.stdout + r.stderr;
    expect(text).toContain("VERIFY_MISMATCH");
    expect(text).toContain("publication");
    expect(text).toContain(String(key));
  });

  it("keeps every password out of the exported state", () => {
    const exported = stack.run("stack export", ["stack", "export"]).stdout;
    const password = decodeURIComponent(new URL(db.url).password);
    expect(password.length).toBeGreaterThan(5);
    expect(exported).not.toContain(password);
    expect(exported).not.toContain(encodeURIComponent(password));
    expect(exported).toContain("4dabf18193072939515e22adb298388d"); // secrets are stored encrypted, as secrets
  });

  it("destroys what it created in PostgreSQL, restores the env file and leaves the source untouched", async () => {
    stack.run("destroy", ["destroy", "--yes", "--skip-preview"]);
    const tables = await withClient(db.url, async (c) =>
      (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.tablename),
    );
    expect(tables).toEqual([]);
    expect(fs.readFileSync(envFile, "utf8")).toBe(originalEnv);
    expect(sha256(source)).toBe(sourceHash);
    expect(adminUrl()).toContain("127.0.0.1");
  });
});
