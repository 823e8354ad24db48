/**
 * The four providers in process, the way Pulumi runs them: each provider serialized with
 * Pulumi's own closure serializer, rehydrated like the host does (require-from-string, cwd =
 * repo root, code loaded from dist/), then check → create → diff → update → delete against the
 * shared test PostgreSQL and real SQLite files, asserting the database after every step.
 */
import { fingerprintData, fingerprintSchema, fkCoveringIndexes, sourceIndexes } from "../../../migrate/engine";
import { dataProvider, indexesProvider, schemaProvider, verificationProvider } from "../../../migrate/providers/dynamic-providers";
import { SECRET_SIG, SECRET_SIG_KEY } from "../../../migrate/providers/wire-values";
import { createTestDatabase, withClient } from "../../support/db";
import { rehydrate, requireBuiltDist, serializeProvider, type Props, type RehydratedProvider as HostProvider } from "../../support/provider-host";
import { editSource, makeSource, sha256File, tempDir } from "./source-fixture";

/** The shared helper's type predates read(); the host calls it on refresh when a provider has one. */
type RehydratedProvider = HostProvider & { read(id: string, props: Props): Promise<{ id: string; props: Props }> };

const NO_CHANGE = { changes: false, replaces: [], deleteBeforeReplace: false };
const UPDATE = { changes: true, replaces: [], deleteBeforeReplace: false };

async function tablesIn(url: string): Promise<string[]> {
  return withClient(url, async (c) => (await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).rows.map((r) => r.table_name as string));
}
async function columnsOf(url: string, table: string): Promise<string[]> {
  return withClient(url, async (c) =>
    (await c.query("SELECT column_name || ' ' || data_type || COALESCE(' COLLATE ' || collation_name, '') AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position", [table])).rows.map((r) => r.c as string),
  );
}
async function indexNames(url: string): Promise<string[]> {
  return withClient(url, async (c) => (await c.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%key' ORDER BY 1")).rows.map((r) => r.indexname as string));
}
async function rowCount(url: string, table: string): Promise<number> {
  return withClient(url, async (c) => Number((await c.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n));
}

function schemaInputs(source: string, url: string): Props {
  return {
    __provider: "(set by the host)",
    sourcePath: source,
    schemaFingerprint: fingerprintSchema(source, { castOverrides: {}, timestamptz: false }),
    targetUrl: url,
    targetSchema: "public",
    castOverrides: {},
    timestamptz: false,
    textCollation: "C",
  };
}

describe("migration providers, serialized and rehydrated like the Pulumi host does", () => {
  let providers: Record<"schema" | "data" | "indexes" | "verification", RehydratedProvider>;
  let texts: string[];

  beforeAll(async () => {
    requireBuiltDist();
    texts = await Promise.all([schemaProvider, dataProvider, indexesProvider, verificationProvider].map((p) => serializeProvider(p)));
    const [schema, data, indexes, verification] = texts.map((t) => rehydrate(t) as RehydratedProvider);
    providers = { schema, data, indexes, verification };
  });

  it("serializes to small, stable text that only loads dist/ at call time", () => {
    for (const t of texts) {
      expect(t.length).toBeLessThan(3000);
      expect(t).toContain('require("./dist/migrate/providers/lifecycles")');
      expect(t).not.toMatch(/better-sqlite3|pg-copy-streams|@pulumi\/pulumi|class /);
    }
  });

  it("MigrationSchema: create, no-op diff, compatible update, incompatible replace, delete", async () => {
    const dir = tempDir("armp-prov-schema-");
    const source = makeSource(dir);
    const db = await createTestDatabase("prov_schema");
    const p = providers.schema;
    try {
      const news = schemaInputs(source, db.url);
      expect(await p.check({}, news)).toEqual({ inputs: news, failures: [] });
      expect(await tablesIn(db.url)).toEqual([]);

      let hash = sha256File(source);
      const created = await p.create(news);
      expect(created.id).toMatch(/^schema-[0-9a-f-]{36}$/);
      const outs = created.outs!;
      expect(outs.tables).toEqual(["organization", "publication", "researcher"]);
      expect(outs.targetUrl).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: db.url });
      expect(outs.schemaFingerprint).toEqual(news.schemaFingerprint);
      expect(await tablesIn(db.url)).toEqual(["organization", "publication", "researcher"]);
      expect(await columnsOf(db.url, "researcher")).toEqual(["id bigint", "name text COLLATE C", "orcid character varying COLLATE C"]);
      expect(sha256File(source)).toBe(hash);

      expect(await p.diff(created.id, outs, schemaInputs(source, db.url))).toEqual(NO_CHANGE);

      // Compatible: a new column on an existing table and a new table.
      editSource(source, "ALTER TABLE researcher ADD COLUMN email TEXT; CREATE TABLE project (id INTEGER PRIMARY KEY, title TEXT NOT NULL, budget INTEGER);");
      hash = sha256File(source);
      const compatible = schemaInputs(source, db.url);
      expect(await p.diff(created.id, outs, compatible)).toEqual(UPDATE);
      expect(await tablesIn(db.url)).toEqual(["organization", "publication", "researcher"]);
      const updated = await p.update(created.id, outs, compatible);
      const outs2 = updated.outs!;
      expect(outs2.tables).toEqual(["organization", "publication", "researcher", "project"]);
      expect(await tablesIn(db.url)).toEqual(["organization", "project", "publication", "researcher"]);
      expect(await columnsOf(db.url, "researcher")).toEqual(["id bigint", "name text COLLATE C", "orcid character varying COLLATE C", "email text COLLATE C"]);
      expect(await columnsOf(db.url, "project")).toEqual(["id bigint", "title text COLLATE C", "budget bigint"]);
      expect(await p.diff(created.id, outs2, schemaInputs(source, db.url))).toEqual(NO_CHANGE);

      // Incompatible: project.budget INTEGER → TEXT cannot be ALTERed in place.
      editSource(source, "DROP TABLE project; CREATE TABLE project (id INTEGER PRIMARY KEY, title TEXT NOT NULL, budget TEXT);");
      hash = sha256File(source);
      expect(await p.diff(created.id, outs2, schemaInputs(source, db.url))).toEqual({ changes: true, replaces: ["schemaFingerprint"], deleteBeforeReplace: true });
      expect(await columnsOf(db.url, "project")).toEqual(["id bigint", "title text COLLATE C", "budget bigint"]);

      // Delete-before-replace: the old resource drops exactly what it created.
      await withClient(db.url, (c) => c.query("CREATE TABLE not_ours (id int)"));
      await p.delete(created.id, outs2);
      expect(await tablesIn(db.url)).toEqual(["not_ours"]);
      expect(sha256File(source)).toBe(hash);
    } finally {
      await db.drop();
    }
  });

  it("errors never carry the target password", async () => {
    const dir = tempDir("armp-prov-err-");
    const source = makeSource(dir);
    const db = await createTestDatabase("prov_err");
    try {
      const u = new URL(db.url);
      const password = "Wr0ng-Pa55-" + Date.now().toString(36);
      u.password = password;
      const err = (await providers.schema.create(schemaInputs(source, u.toString())).catch((e: unknown) => e)) as Error & { code: string };
      // Loaded natively from dist/ (another module realm than jest's), so compare by name.
      expect(err.name).toBe("MigrationError");
      expect(err.code).toBe("TARGET_AUTH_FAILED");
      expect(err.message).toBe(
        `TARGET_AUTH_FAILED: PostgreSQL at postgres://${u.username}:***@${u.host}/${db.name} refused the credentials ` +
          `(password authentication failed for user "${u.username}"). Check the user name and password in the target URL.`,
      );
      expect(err.message).not.toContain(password);
      expect(err.stack).not.toContain(password);
      expect(await tablesIn(db.url)).toEqual([]);
    } finally {
      await db.drop();
    }
  });

  it("schema → data → indexes → verification: create, re-sync a changed table, add an index, catch tampering, destroy in reverse", async () => {
    const dir = tempDir("armp-prov-chain-");
    const source = makeSource(dir);
    const db = await createTestDatabase("prov_chain");
    const { schema, data, indexes, verification } = providers;
    try {
      const hash0 = sha256File(source);
      const s = await schema.create(schemaInputs(source, db.url));
      const dataNews = (): Props => ({
        __provider: "",
        schemaId: s.id,
        tables: s.outs!.tables,
        dataFingerprint: fingerprintData(source),
        jobs: 2,
        sourcePath: source,
        targetUrl: db.url,
        targetSchema: "public",
      });
      expect(await data.check({}, dataNews())).toEqual({ inputs: dataNews(), failures: [] });
      const d = await data.create(dataNews());
      expect(d.id).toMatch(/^data-/);
      expect(d.outs!.copiedTables).toEqual(["organization", "publication", "researcher"]);
      expect((d.outs!.copyReport as { totals: { rowsWritten: number } }).totals.rowsWritten).toBe(8);
      expect([await rowCount(db.url, "organization"), await rowCount(db.url, "publication"), await rowCount(db.url, "researcher")]).toEqual([3, 3, 2]);
      expect(await data.diff(d.id, d.outs!, dataNews())).toEqual(NO_CHANGE);

      const extra = [{ name: "idx_researcher_orcid", table: "researcher", columns: ["orcid"], unique: false }];
      const indexNews = (extraIndexes: unknown[]): Props => ({
        __provider: "",
        schemaId: s.id,
        sourceIndexes: sourceIndexes(source),
        fkIndexes: fkCoveringIndexes(source),
        extraIndexes,
        targetUrl: db.url,
        targetSchema: "public",
      });
      const ix = await indexes.create(indexNews([]));
      const ownIndexes = (ix.outs!.indexNames as string[]).slice().sort();
      expect(ownIndexes).toContain("idx_publication_year");
      expect(await indexNames(db.url)).toEqual(ownIndexes);
      expect(await indexes.diff(ix.id, ix.outs!, indexNews([]))).toEqual(NO_CHANGE);
      expect(await indexes.diff(ix.id, ix.outs!, indexNews(extra))).toEqual(UPDATE);
      const ix2 = await indexes.update(ix.id, ix.outs!, indexNews(extra));
      expect(await indexNames(db.url)).toEqual([...ownIndexes, "idx_researcher_orcid"].sort());

      const verifyNews = (trigger: string): Props => ({
        __provider: "",
        sourcePath: source,
        targetUrl: db.url,
        targetSchema: "public",
        tables: d.outs!.copiedTables,
        dataHash: (dataNews().dataFingerprint as { hash: string }).hash,
        indexNames: ix2.outs!.indexNames,
        trigger,
      });
      const v = await verification.create(verifyNews(""));
      const report = v.outs!.report as { ok: boolean; tables: { table: string; sourceRows: number; targetRows: number; match: boolean }[] };
      expect(report.ok).toBe(true);
      expect(report.tables.map((t) => [t.table, t.sourceRows, t.targetRows, t.match])).toEqual([
        ["organization", 3, 3, true],
        ["publication", 3, 3, true],
        ["researcher", 2, 2, true],
      ]);
      expect(sha256File(source)).toBe(hash0);

      // The source gains a row in one table: only that table is re-copied.
      editSource(source, "INSERT INTO researcher (id, name, orcid) VALUES (3, 'Barbara', '0000-0002-0000-0003');");
      const hash1 = sha256File(source);
      expect(await data.diff(d.id, d.outs!, dataNews())).toEqual(UPDATE);
      const d2 = await data.update(d.id, d.outs!, dataNews());
      expect((d2.outs!.copyReport as { tables: { table: string; rowsWritten: number }[] }).tables.map((t) => [t.table, t.rowsWritten])).toEqual([["researcher", 3]]);
      expect(await rowCount(db.url, "researcher")).toBe(3);
      expect(await verification.diff(v.id, v.outs!, verifyNews(""))).toEqual(UPDATE);
      const v2 = await verification.update(v.id, v.outs!, verifyNews(""));
      expect((v2.outs!.report as { ok: boolean }).ok).toBe(true);

      // Refresh with nothing drifted: read re-verifies, and the next diff sees no change.
      const password = new URL(db.url).password;
      const refreshedClean = await verification.read(v.id, v2.outs!);
      expect(refreshedClean.id).toBe(v.id);
      expect(refreshedClean.props.targetUrl).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: db.url });
      expect((refreshedClean.props.report as { ok: boolean }).ok).toBe(true);
      // The same finding keeps the recorded report, timings included: refresh changes no state.
      expect(refreshedClean.props.report).toEqual(v2.outs!.report);
      expect(await verification.diff(v.id, refreshedClean.props, verifyNews(""))).toEqual(NO_CHANGE);

      // Someone edits the target behind the stack's back. Refresh records the failing report
      // (never throws for a mismatch), whether the URL comes wrapped or plain as the engine sends it.
      await withClient(db.url, (c) => c.query("UPDATE publication SET title = 'Tampered' WHERE id = 2"));
      for (const state of [v2.outs!, { ...v2.outs!, targetUrl: db.url }]) {
        const refreshed = await verification.read(v.id, state);
        expect(refreshed.id).toBe(v.id);
        expect(refreshed.props.targetUrl).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: db.url });
        expect(JSON.stringify({ ...refreshed.props, targetUrl: null })).not.toContain(password);
        const drift = refreshed.props.report as { ok: boolean; tables: { table: string; sourceRows: number; targetRows: number; match: boolean; differingKeys: string[] }[] };
        expect(drift.ok).toBe(false);
        expect(drift.tables.map((t) => [t.table, t.sourceRows, t.targetRows, t.match, t.differingKeys])).toEqual([
          ["organization", 3, 3, true, []],
          ["publication", 3, 3, false, ['{"id":2}']],
          ["researcher", 3, 3, true, []],
        ]);
        // The recorded failure forces an update (never a replace), even with unchanged inputs.
        expect(await verification.diff(v.id, refreshed.props, verifyNews(""))).toEqual(UPDATE);
      }
      const drifted = (await verification.read(v.id, v2.outs!)).props;

      // That update re-verifies and fails with the per-table report.
      const err = (await verification.update(v.id, drifted, verifyNews("")).catch((e: unknown) => e)) as Error & { code: string; meta: { report: { ok: boolean } } };
      expect(err.code).toBe("VERIFY_MISMATCH");
      // The host forwards only the message to the engine: it must lead with the code.
      expect(err.message.split("\n")[0]).toBe(`VERIFY_MISMATCH: Target does not match ${source}:`);
      expect(err.message).toContain("publication: rows source=3 target=3");
      expect(err.message).toContain('differing keys {"id":2}');
      expect(err.message).not.toContain(password);
      expect(err.meta.report.ok).toBe(false);
      const again = (await verification.update(v.id, v2.outs!, verifyNews("again")).catch((e: unknown) => e)) as Error & { code: string };
      expect(again.code).toBe("VERIFY_MISMATCH");

      // A refresh that cannot log in records why (coded, no password) instead of failing the whole
      // refresh before the role's own refresh; the recorded failure forces a re-verifying update,
      // which fails with the same code and says what to run.
      const wrong = new URL(db.url);
      wrong.password = "Wr0ng-Refresh-" + Date.now().toString(36);
      const unread = (await verification.read(v.id, { ...v2.outs!, targetUrl: wrong.toString() })).props as { report: { ok: boolean; unreachable: string; tables: unknown[] } };
      const hint =
        "If the app role's password was changed outside Pulumi, `pulumi up --refresh` sets it back (the stack's DatabaseAccess checks the login on refresh); " +
        "with armp-postgres:manageRole=false, put the server's current URL into armp-postgres:databaseUrl and run `pulumi up`.";
      const redactedWrong = `postgres://${wrong.username}:***@${wrong.host}/${db.name}`;
      expect([unread.report.ok, unread.report.unreachable, unread.report.tables.length]).toEqual([
        false,
        `TARGET_AUTH_FAILED: PostgreSQL at ${redactedWrong} refused the credentials (password authentication failed for user "${wrong.username}"). Check the user name and password in the target URL. ${hint}`,
        3,
      ]);
      // The URL itself goes back as a secret envelope; the recorded report never holds the password.
      expect(JSON.stringify(unread.report)).not.toContain(wrong.password);
      expect(await verification.diff(v.id, unread, verifyNews(""))).toEqual(UPDATE);
      const readErr = (await verification.update(v.id, unread, { ...verifyNews(""), targetUrl: wrong.toString() }).catch((e: unknown) => e)) as Error & { code: string };
      expect([readErr.code, readErr.message]).toEqual([
        "TARGET_AUTH_FAILED",
        `TARGET_AUTH_FAILED: PostgreSQL at ${redactedWrong} refused the credentials (password authentication failed for user "${wrong.username}"). Check the user name and password in the target URL. ${hint}`,
      ]);
      expect(`${readErr.message}\n${readErr.stack}`).not.toContain(wrong.password);

      // Destroy in reverse order; each step removes only its own work.
      await verification.delete(v.id, v2.outs!);
      await indexes.delete(ix.id, ix2.outs!);
      expect(await indexNames(db.url)).toEqual([]);
      await data.delete(d.id, d2.outs!);
      expect([await rowCount(db.url, "organization"), await rowCount(db.url, "publication"), await rowCount(db.url, "researcher")]).toEqual([0, 0, 0]);
      await schema.delete(s.id, s.outs!);
      expect(await tablesIn(db.url)).toEqual([]);
      expect(sha256File(source)).toBe(hash1);
    } finally {
      await db.drop();
    }
  });
});
