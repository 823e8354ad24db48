import * as path from "path";
import Database from "better-sqlite3";
import { generateArmp } from "../../../bench/armp-data";
import { runMigrateCli } from "../../support/cli";
import { LOCK_KEY, MigrationError, runMigration } from "../../../migrate/engine";
import { createTestDatabase, withClient } from "../../support/db";
import { sha256File, tempDir } from "./helpers";

const cli = runMigrateCli;

describe("ARMP database (generated, scale 0.01) through engine and CLI", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let src: string;
  let hash: string;
  let rows: Record<string, number>;
  beforeAll(async () => {
    db = await createTestDatabase("armp");
    src = path.join(tempDir("armp"), "armp.sqlite");
    rows = generateArmp(src, { scale: 0.01, seed: 7 }).rows;
    hash = sha256File(src);
  });
  afterAll(async () => {
    expect(sha256File(src)).toBe(hash);
    await db.drop();
  });

  it("generates the documented row counts deterministically", () => {
    expect(rows).toEqual({ organization: 15, researcher: 400, publication: 1500, project: 50, harvest_log: 300, publication_author: 1200, project_publication: 300 });
    const again = path.join(tempDir("armp2"), "armp.sqlite");
    generateArmp(again, { scale: 0.01, seed: 7 });
    expect(sha256File(again)).toBe(hash);
  });

  it("runs via the CLI with equal rows and checksums, mapped types, keys, sequences and a usable schema", async () => {
    const r = await cli(["run", "--source", src, "--target", db.url, "--jobs", "2", "--json"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(Object.fromEntries(report.tables.map((t: { table: string; rowsWritten: number }) => [t.table, t.rowsWritten]))).toEqual(rows);
    for (const t of report.tables) expect([t.table, t.checksumMatch, t.sourceChecksum === t.targetChecksum, t.sequenceOk]).toEqual([t.table, true, true, true]);
    // Foreign keys are validated beside the indexes and checksums; the report shows them as they ended.
    expect(Object.fromEntries(report.verify.tables.map((t: { table: string; foreignKeysOk: boolean }) => [t.table, t.foreignKeysOk]))).toEqual(Object.fromEntries(Object.keys(rows).map((t) => [t, true])));
    expect(report.warnings).toEqual([]);
    expect(report.indexes.created).toEqual(["idx_org_short", "idx_harvest_source_started", "idx_publication_year", "idx_researcher_org", "harvest_log_organization_id_idx", "project_organization_id_idx", "publication_organization_id_idx", "project_publication_publication_id_idx", "publication_author_researcher_id_idx"]);

    await withClient(db.url, async (c) => {
      const cols = await c.query("SELECT column_name, data_type, character_maximum_length AS len, is_nullable FROM information_schema.columns WHERE table_name = 'publication' ORDER BY ordinal_position");
      expect(cols.rows.map((x) => `${x.column_name}:${x.data_type}${x.len ? `(${x.len})` : ""}:${x.is_nullable}`)).toEqual([
        "id:bigint:NO", "doi:character varying(255):YES", "title:text:NO", "abstract:text:YES", "publication_date:date:YES", "year:bigint:YES", "citation_count:bigint:YES",
        "impact_score:double precision:YES", "apc_cost:numeric:YES", "is_open_access:boolean:YES", "pdf_thumbnail:bytea:YES", "organization_id:bigint:NO", "harvested_at:timestamp without time zone:YES", "metadata:jsonb:YES",
      ]);
      // REAL survives to the last bit: PostgreSQL's sum in id order equals the same sum over SQLite's values.
      const s = new Database(src, { readonly: true, fileMustExist: true });
      const vals = (s.prepare("SELECT impact_score FROM publication WHERE impact_score IS NOT NULL ORDER BY id").pluck().all() as number[]);
      s.close();
      const jsSum = vals.reduce((a, b) => a + b, 0);
      const sums = await c.query("SELECT (SELECT sum(impact_score ORDER BY id) FROM publication)::text AS pg, $1::float8::text AS js", [jsSum]);
      expect(sums.rows[0].pg).toBe(sums.rows[0].js);
      const ins = await c.query("INSERT INTO publication (title, organization_id) VALUES ('new', 1) RETURNING id");
      expect(ins.rows[0].id).toBe("1501");
      const dup = await c.query("INSERT INTO publication (doi, title, organization_id) VALUES ('10.1001/armp.1', 'dup', 1)").catch((e: { code: string }) => e.code);
      expect(dup).toBe("23505");
      const cons = await c.query("SELECT conname, contype, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'publication_author'::regclass ORDER BY conname");
      expect(cons.rows.map((x) => `${x.conname} ${x.def}`)).toEqual([
        "publication_author_pkey PRIMARY KEY (publication_id, researcher_id)",
        "publication_author_publication_id_fkey FOREIGN KEY (publication_id) REFERENCES publication(id) ON DELETE CASCADE",
        "publication_author_researcher_id_fkey FOREIGN KEY (researcher_id) REFERENCES researcher(id) ON DELETE CASCADE",
      ]);
      const partial = await c.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_org_short'");
      expect(partial.rows[0].indexdef).toBe("CREATE UNIQUE INDEX idx_org_short ON public.organization USING btree (short_name) WHERE (short_name IS NOT NULL)");
      const v = await c.query("SELECT harvested_at::text AS h, is_open_access AS b, apc_cost::text AS a, metadata::text AS m FROM publication WHERE id IN (1, 2, 3, 8, 10) ORDER BY id");
      expect(v.rows.map((x) => x.b)).toEqual([true, false, true, false, false]);
      await c.query("DELETE FROM publication WHERE id = 1501");
      await c.query("UPDATE researcher SET h_index = h_index + 1 WHERE id = 123");
    });

    const ver = await cli(["verify", "--source", src, "--target", db.url]);
    expect(ver.code).toBe(1);
    expect(ver.out).toMatch(/\nresearcher +400 +400 +MISMATCH +ok +\{"id":123\}\n/);

    const again = await cli(["run", "--source", src, "--target", db.url]);
    expect(again.code).toBe(3);
    expect(again.err).toContain("[TARGET_NOT_EMPTY]");
    expect(again.err).not.toContain(new URL(db.url).password);

    const replaced = await cli(["run", "--source", src, "--target", db.url, "--replace", "--json"]);
    expect(replaced.code).toBe(0);
    expect(JSON.parse(replaced.out).totals.rowsWritten).toBe(3765);
    expect((await cli(["verify", "--source", src, "--target", db.url])).code).toBe(0);
  });

  it("refuses to run while another migration holds the advisory lock", async () => {
    await withClient(db.url, async (c) => {
      await c.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
      const err = await runMigration(src, { url: db.url, schema: "other" }).catch((e: MigrationError) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as MigrationError).code).toBe("LOCK_HELD");
    });
  });

  it("plans without touching anything and reports findings with cast decisions", async () => {
    const r = await cli(["plan", "--source", src, "--json"]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out);
    const f = plan.findings.map((x: { table: string; column?: string; kind: string; rows: number; blocking: boolean }) => `${x.table}.${x.column} ${x.kind} ${x.rows} ${x.blocking}`);
    expect(f).toContain("publication.harvested_at unix-timestamps 706 false");
    expect(f).toContain("publication.is_open_access boolean-spellings 1500 false");
    expect(plan.findings.filter((x: { blocking: boolean }) => x.blocking)).toEqual([]);
  });
});
