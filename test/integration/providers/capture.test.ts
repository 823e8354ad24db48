/**
 * MigrationCapture + MigrationData with capture on (issue 6 parts 1-2), serialized and
 * rehydrated like the Pulumi host does: capture create installs the triggers (the only write to
 * the source), writes to SQLite after the copy reach PostgreSQL through the data resource's
 * update as an incremental sync, and capture delete leaves sqlite_master's user rows exactly as
 * they were before the install.
 */
import Database from "better-sqlite3";
import { fingerprintData, fingerprintSchema, verify } from "../../../migrate/engine";
import { captureProvider, dataProvider, schemaProvider } from "../../../migrate/providers/dynamic-providers";
import { createTestDatabase, withClient } from "../../support/db";
import { rehydrate, requireBuiltDist, serializeProvider, type Props, type RehydratedProvider } from "../../support/provider-host";
import { editSource, makeSource, tempDir } from "./source-fixture";

const UPDATE = { changes: true, replaces: [], deleteBeforeReplace: false };
const NO_CHANGE = { changes: false, replaces: [], deleteBeforeReplace: false };

function masterRows(file: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").all();
  } finally {
    db.close();
  }
}
function captureObjects(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE name LIKE '\\_armp\\_%' ESCAPE '\\' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}
async function rows(url: string, sql: string): Promise<unknown[]> {
  return withClient(url, async (c) => (await c.query(sql)).rows);
}

describe("MigrationCapture and MigrationData with capture, serialized and rehydrated", () => {
  let capture: RehydratedProvider;
  let data: RehydratedProvider;
  let schema: RehydratedProvider;
  let captureText: string;

  beforeAll(async () => {
    requireBuiltDist();
    captureText = await serializeProvider(captureProvider);
    [capture, data, schema] = await Promise.all([captureText, serializeProvider(dataProvider), serializeProvider(schemaProvider)].map(async (t) => rehydrate(await t)));
  });

  it("serializes to a small trampoline that loads dist/ at call time", () => {
    expect(captureText.length).toBeLessThan(3000);
    expect(captureText).toContain('require("./dist/migrate/providers/lifecycles")');
    expect(captureText).not.toMatch(/better-sqlite3|@pulumi\/pulumi|class /);
  });

  it("create installs triggers, data update syncs later SQLite writes, delete restores the source schema", async () => {
    const source = makeSource(tempDir("armp-prov-capture-"));
    const db = await createTestDatabase("prov_capture");
    const before = masterRows(source);
    const tables = ["organization", "publication", "researcher"];
    const captureNews = (): Props => ({ __provider: "", sourcePath: source, tables });

    expect(await capture.check({}, captureNews())).toEqual({ inputs: captureNews(), failures: [] });
    const cap = await capture.create(captureNews());
    expect(cap.id).toMatch(/^capture-[0-9a-f-]{36}$/);
    const captureId = cap.outs!.captureId as string;
    expect(captureId).toMatch(/^[0-9a-f-]{36}$/);
    expect(cap.outs).toEqual({ sourcePath: source, tables, captureId, capturedTables: tables });
    expect(captureObjects(source)).toEqual([
      "_armp_capture",
      "_armp_capture_organization_d",
      "_armp_capture_organization_i",
      "_armp_capture_organization_u",
      "_armp_capture_publication_d",
      "_armp_capture_publication_i",
      "_armp_capture_publication_u",
      "_armp_capture_researcher_d",
      "_armp_capture_researcher_i",
      "_armp_capture_researcher_u",
      "_armp_changelog",
    ]);
    expect(await capture.diff(cap.id, cap.outs!, captureNews())).toEqual(NO_CHANGE);

    const s = await schema.create({ __provider: "", sourcePath: source, schemaFingerprint: fingerprintSchema(source, { castOverrides: {}, timestamptz: false }), targetUrl: db.url, targetSchema: "public", castOverrides: {}, timestamptz: false, textCollation: "C" });
    const dataNews = (): Props => ({ __provider: "", schemaId: s.id, tables: s.outs!.tables, dataFingerprint: fingerprintData(source), jobs: 2, sourcePath: source, targetUrl: db.url, targetSchema: "public", captureId });
    const d = await data.create(dataNews());
    const created = d.outs!.syncReport as { sourceId: string; changes: number; applied: number; pending: number };
    // Nothing was written between install and copy: the create's sync has nothing to replay.
    expect([created.sourceId, created.changes, created.applied, created.pending]).toEqual([captureId, 0, 0, 0]);

    // The app keeps writing to SQLite after the copy.
    editSource(
      source,
      `INSERT INTO researcher (id, name, orcid) VALUES (3, 'Hedy', '0000-0002-0000-0003');
       UPDATE publication SET title = 'Graphs, revised', score = 9.5 WHERE id = 1;
       DELETE FROM publication WHERE id = 3;
       UPDATE researcher SET orcid = '0000-0009-9999-9999' WHERE id = 2;`,
    );
    expect(await data.diff(d.id, d.outs!, dataNews())).toEqual(UPDATE);
    const u = await data.update(d.id, d.outs!, dataNews());
    const sync = u.outs!.syncReport as { changes: number; applied: number; upserts: number; deletes: number; pending: number; oldestPendingSeconds: number | null; tables: Record<string, unknown> };
    expect([sync.changes, sync.applied, sync.upserts, sync.deletes, sync.pending, sync.oldestPendingSeconds]).toEqual([4, 4, 3, 1, 0, null]);
    expect(sync.tables).toEqual({ publication: { upserts: 1, deletes: 1 }, researcher: { upserts: 2, deletes: 0 } });
    // Sync, not a re-copy: the copy report is the create's, untouched.
    expect(u.outs!.copyReport).toEqual(d.outs!.copyReport);
    expect(await rows(db.url, "SELECT id::int, title, score FROM publication ORDER BY id")).toEqual([
      { id: 1, title: "Graphs, revised", score: 9.5 },
      { id: 2, title: "Ångström scale", score: 2.5 },
    ]);
    expect(await rows(db.url, "SELECT id::int, name, orcid FROM researcher ORDER BY id")).toEqual([
      { id: 1, name: "Ada", orcid: "0000-0001-2345-6789" },
      { id: 2, name: "Grace", orcid: "0000-0009-9999-9999" },
      { id: 3, name: "Hedy", orcid: "0000-0002-0000-0003" },
    ]);
    const report = await verify(source, { url: db.url, schema: "public" });
    expect(report.ok).toBe(true);

    // A table new to the source: capture re-installs (covers it), the data update copies it.
    editSource(source, "CREATE TABLE project (id INTEGER PRIMARY KEY, title TEXT NOT NULL); INSERT INTO project VALUES (1, 'P1');");
    const withProject = [...tables, "project"];
    expect(await capture.diff(cap.id, cap.outs!, { ...captureNews(), tables: withProject })).toEqual(UPDATE);
    const cap2 = await capture.update(cap.id, cap.outs!, { ...captureNews(), tables: withProject });
    expect(cap2.outs!.captureId).toBe(captureId);
    expect(cap2.outs!.capturedTables).toEqual(["organization", "project", "publication", "researcher"]);
    const s2 = await schema.update(s.id, s.outs!, { __provider: "", sourcePath: source, schemaFingerprint: fingerprintSchema(source, { castOverrides: {}, timestamptz: false }), targetUrl: db.url, targetSchema: "public", castOverrides: {}, timestamptz: false, textCollation: "C" });
    editSource(source, "INSERT INTO project VALUES (2, 'P2'); INSERT INTO organization (name, ror_id) VALUES ('ETH', '05a28rw58');");
    const news3 = { ...dataNews(), tables: s2.outs!.tables };
    const u2 = await data.update(d.id, u.outs!, news3);
    const copied = (u2.outs!.copyReport as { tables: { table: string; rowsWritten: number }[] }).tables.map((t) => [t.table, t.rowsWritten]);
    expect(copied).toEqual([["project", 2]]);
    expect((u2.outs!.syncReport as { tables: Record<string, unknown> }).tables).toEqual({ organization: { upserts: 1, deletes: 0 }, project: { upserts: 1, deletes: 0 } });
    expect(await rows(db.url, "SELECT id::int, title FROM project ORDER BY id")).toEqual([
      { id: 1, title: "P1" },
      { id: 2, title: "P2" },
    ]);
    expect(await rows(db.url, "SELECT id::int, name FROM organization WHERE id = 4")).toEqual([{ id: 4, name: "ETH" }]);
    expect((await verify(source, { url: db.url, schema: "public" })).ok).toBe(true);

    // Delete: triggers and changelog gone; user schema as before the install (plus the test's own table).
    await data.delete(d.id, u2.outs!);
    await capture.delete(cap.id, cap2.outs!);
    expect(captureObjects(source)).toEqual([]);
    const project = masterRows(source).filter((r) => (r as { tbl_name: string }).tbl_name === "project");
    expect(project).toHaveLength(1);
    expect(masterRows(source).filter((r) => (r as { tbl_name: string }).tbl_name !== "project")).toEqual(before);
    // Deleting again (already removed, or the file is gone) is not an error.
    await capture.delete(cap.id, cap2.outs!);
    expect(masterRows(source).filter((r) => (r as { tbl_name: string }).tbl_name !== "project")).toEqual(before);
  });
});
