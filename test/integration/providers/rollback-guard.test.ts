/**
 * MigrationRollbackGuard (issue 6 part 4), serialized and rehydrated like the Pulumi host does:
 * create installs PostgreSQL-side capture, delete replays the app's PostgreSQL writes into the
 * SQLite file and removes the capture, and a replay that would lose SQLite writes refuses with
 * ROLLBACK_UNSAFE, leaving the SQLite file byte-identical and the PostgreSQL capture in place.
 */
import Database from "better-sqlite3";
import { installCapture, runMigration } from "../../../migrate/engine";
import { rollbackGuardProvider } from "../../../migrate/providers/dynamic-providers";
import { createTestDatabase, withClient } from "../../support/db";
import {
  REPO_ROOT,
  rehydrate,
  requireBuiltDist,
  serializeProvider,
  startProviderHost,
  wireSecret,
  type HostError,
  type Props,
  type ProviderHost,
  type RehydratedProvider,
} from "../../support/provider-host";
import { editSource, makeSource, sha256File, tempDir } from "./source-fixture";

function sqliteRows(file: string, sql: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}
async function pgRows(url: string, sql: string): Promise<unknown[]> {
  return withClient(url, async (c) => (await c.query(sql)).rows);
}
const TRIGGERS = "SELECT k.relname AS tbl FROM pg_trigger g JOIN pg_class k ON k.oid = g.tgrelid WHERE g.tgname = '_armp_pg_capture' ORDER BY 1";
const CAPTURE_TABLES = "SELECT relname FROM pg_class WHERE relname IN ('_armp_pg_changelog', '_armp_pg_rollback_state') ORDER BY 1";

describe("MigrationRollbackGuard, serialized and rehydrated", () => {
  let guard: RehydratedProvider;
  let text: string;

  beforeAll(async () => {
    requireBuiltDist();
    text = await serializeProvider(rollbackGuardProvider);
    guard = rehydrate(text);
  });

  it("serializes to a small trampoline that loads dist/ at call time", () => {
    expect(text.length).toBeLessThan(3000);
    expect(text).toContain('require("./dist/migrate/providers/lifecycles")');
    expect(text).not.toMatch(/better-sqlite3|@pulumi\/pulumi|class /);
  });

  it("create installs PostgreSQL triggers; delete replays the app's writes into SQLite and removes them", async () => {
    const source = makeSource(tempDir("armp-prov-guard-"));
    const db = await createTestDatabase("prov_guard");
    await runMigration(source, { url: db.url, schema: "public" });
    const news = (): Props => ({ __provider: "", sourcePath: source, targetUrl: db.url, targetSchema: "public" });

    expect(await guard.check({}, news())).toEqual({ inputs: news(), failures: [] });
    const g = await guard.create(news());
    expect(g.id).toMatch(/^rollback-guard-[0-9a-f-]{36}$/);
    // The URL goes back wrapped as a secret, so state never holds it in plain text.
    expect(g.outs).toEqual({ sourcePath: source, targetUrl: wireSecret(db.url), targetSchema: "public", capturedTables: ["organization", "publication", "researcher"] });
    expect(await pgRows(db.url, TRIGGERS)).toEqual([{ tbl: "organization" }, { tbl: "publication" }, { tbl: "researcher" }]);
    expect(await guard.diff(g.id, g.outs!, news())).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await guard.diff(g.id, g.outs!, { ...news(), sourcePath: `${source}.other` })).toEqual({ changes: true, replaces: ["sourcePath"], deleteBeforeReplace: true });

    // The app, switched to PostgreSQL, writes there.
    await withClient(db.url, async (c) => {
      await c.query("INSERT INTO researcher (id, name, orcid) VALUES (3, 'Hedy', '0000-0002-0000-0003')");
      await c.query("UPDATE publication SET title = 'Graphs, revised', score = 9.5, open_access = false WHERE id = 1");
      await c.query("DELETE FROM publication WHERE id = 3");
    });

    // Update (only a rotated password reaches it) re-installs without forgetting the app's writes.
    const u = await guard.update(g.id, g.outs!, news());
    expect(u.outs).toEqual(g.outs);
    expect(await pgRows(db.url, "SELECT tbl, op, pk::text FROM _armp_pg_changelog ORDER BY seq")).toEqual([
      { tbl: "researcher", op: "I", pk: "[3]" },
      { tbl: "publication", op: "U", pk: "[1]" },
      { tbl: "publication", op: "D", pk: "[3]" },
    ]);

    await guard.delete(g.id, u.outs!);
    expect(sqliteRows(source, "SELECT id, title, year, open_access, score, organization_id, created_at FROM publication ORDER BY id")).toEqual([
      { id: 1, title: "Graphs, revised", year: 2020, open_access: 0, score: 9.5, organization_id: 1, created_at: "2020-01-02 03:04:05" },
      { id: 2, title: "Ångström scale", year: null, open_access: 0, score: 2.5, organization_id: 2, created_at: "2021-06-07 08:09:10" },
    ]);
    expect(sqliteRows(source, "SELECT id, name, orcid FROM researcher ORDER BY id")).toEqual([
      { id: 1, name: "Ada", orcid: "0000-0001-2345-6789" },
      { id: 2, name: "Grace", orcid: null },
      { id: 3, name: "Hedy", orcid: "0000-0002-0000-0003" },
    ]);
    expect(await pgRows(db.url, TRIGGERS)).toEqual([]);
    expect(await pgRows(db.url, CAPTURE_TABLES)).toEqual([]);
    await db.drop();
  });

  it("delete refuses with ROLLBACK_UNSAFE when SQLite was written after the switch: file untouched, triggers kept", async () => {
    const source = makeSource(tempDir("armp-prov-guard-unsafe-"));
    const db = await createTestDatabase("prov_guard_unsafe");
    installCapture(source);
    await runMigration(source, { url: db.url, schema: "public" });
    const g = await guard.create({ __provider: "", sourcePath: source, targetUrl: db.url, targetSchema: "public" });
    await withClient(db.url, (c) => c.query("UPDATE researcher SET name = 'Ada L.' WHERE id = 1"));
    // Something still wrote to SQLite after the switch: two writes PostgreSQL never saw.
    editSource(source, "INSERT INTO researcher (id, name) VALUES (9, 'Late'); UPDATE researcher SET orcid = 'x' WHERE id = 2;");
    const before = sha256File(source);

    const err = (await guard.delete(g.id, g.outs!).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { code?: string };
    expect(err.code).toBe("ROLLBACK_UNSAFE");
    expect(err.message).toMatch(/^ROLLBACK_UNSAFE: The SQLite file was written after the cut-over: 2 write\(s\) in _armp_changelog \(after seq 0\) never reached PostgreSQL/);
    expect(err.message).toContain("run `armp-migrate sync`");
    expect(err.message).not.toContain(new URL(db.url).password);
    expect(sha256File(source)).toBe(before);
    expect(await pgRows(db.url, TRIGGERS)).toEqual([{ tbl: "organization" }, { tbl: "publication" }, { tbl: "researcher" }]);
    expect(await pgRows(db.url, "SELECT tbl, op FROM _armp_pg_changelog ORDER BY seq")).toEqual([{ tbl: "researcher", op: "U" }]);

    // Through @pulumi/pulumi's real provider host, as `pulumi destroy` calls it: the delete fails
    // with the coded message (what the engine shows and stops on), and no password anywhere.
    let host: ProviderHost | undefined;
    try {
      host = await startProviderHost({ cwd: REPO_ROOT });
      await host.configure();
      const urn = "urn:pulumi:dev::armp-postgres::armp:migrate:Migration$pulumi-nodejs:dynamic/migrate:MigrationRollbackGuard::armp-rollback-guard";
      const hostErr = (await host.delete(urn, g.id, { ...g.outs!, __provider: text }).then(
        () => undefined,
        (e: unknown) => e,
      )) as HostError;
      expect(hostErr.code).toBe(2); // grpc UNKNOWN: the host's mapping of a provider error
      expect(hostErr.details).toMatch(/^ROLLBACK_UNSAFE: The SQLite file was written after the cut-over: 2 write\(s\)/);
      expect(host.output()).not.toContain(new URL(db.url).password);
    } finally {
      await host?.stop();
    }
    expect(sha256File(source)).toBe(before);
    expect(await pgRows(db.url, TRIGGERS)).toEqual([{ tbl: "organization" }, { tbl: "publication" }, { tbl: "researcher" }]);
    await db.drop();
  });
});
