/**
 * The providers under @pulumi/pulumi's real dynamic-provider host, driven over gRPC exactly as
 * the Pulumi engine drives it: Configure, then Check/Diff/Create/Update/Delete with Struct
 * properties carrying `__provider`, secret envelopes and (for preview) the unknown sentinel.
 */
import { fingerprintSchema } from "../../../migrate/engine";
import { dataProvider, schemaProvider } from "../../../migrate/providers/dynamic-providers";
import { createTestDatabase, withClient } from "../../support/db";
import {
  REPO_ROOT,
  requireBuiltDist,
  serializeProvider,
  startProviderHost,
  SECRET_SIG,
  SECRET_SIG_KEY,
  UNKNOWN,
  wireSecret,
  type HostError,
  type Props,
  type ProviderHost,
} from "../../support/provider-host";
import { editSource, makeSource, sha256File, tempDir } from "./source-fixture";

const URN = "urn:pulumi:dev::armp-postgres::armp:migrate:Migration$pulumi-nodejs:dynamic/migrate:MigrationSchema::armp-schema";

/** Paths to every string holding `needle` outside a secret envelope. */
function plaintextPaths(v: unknown, needle: string, at = "$"): string[] {
  if (typeof v === "string") return v.includes(needle) ? [at] : [];
  if (Array.isArray(v)) return v.flatMap((x, i) => plaintextPaths(x, needle, `${at}[${i}]`));
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG_KEY] === SECRET_SIG) return [];
    return Object.entries(o).flatMap(([k, x]) => plaintextPaths(x, needle, `${at}.${k}`));
  }
  return [];
}

async function tablesIn(url: string): Promise<string[]> {
  return withClient(url, async (c) => (await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).rows.map((r) => r.table_name as string));
}

describe("MigrationSchema over gRPC through @pulumi/pulumi's dynamic-provider host", () => {
  let host: ProviderHost;
  let providerText: string;

  beforeAll(async () => {
    requireBuiltDist();
    providerText = await serializeProvider(schemaProvider);
    host = await startProviderHost({ cwd: REPO_ROOT });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it("runs check, create, diff (none / preview unknowns / compatible), update and delete with a secret URL", async () => {
    // What the engine learns from Configure: the host does not accept secrets, so the real engine
    // strips envelopes before calling it. We still send them: the providers must cope either way.
    expect(await host.configure()).toEqual({ acceptSecrets: false });

    const source = makeSource(tempDir("armp-wire-"));
    const hash = sha256File(source);
    const db = await createTestDatabase("prov_wire");
    const password = new URL(db.url).password;
    const inputs = (): Props => ({
      __provider: providerText,
      sourcePath: source,
      schemaFingerprint: fingerprintSchema(source, { castOverrides: {}, timestamptz: false }) as unknown as Props,
      targetUrl: wireSecret(db.url),
      targetSchema: "public",
      castOverrides: {},
      timestamptz: false,
      textCollation: "C",
    });
    try {
      const checked = await host.check(URN, {}, inputs());
      expect(checked).toEqual({ inputs: inputs(), failures: [] });

      const bad = await host.check(URN, {}, { ...inputs(), targetUrl: wireSecret("mysql://u:pw@h/db"), timestamptz: "yes" });
      expect(bad.failures).toEqual([
        { property: "timestamptz", reason: "timestamptz must be a boolean, got a string" },
        { property: "targetUrl", reason: "targetUrl must use postgres:// or postgresql://, not mysql://" },
      ]);

      const created = await host.create(URN, inputs());
      expect(created.id).toMatch(/^schema-/);
      expect(created.properties.tables).toEqual(["organization", "publication", "researcher"]);
      expect(created.properties.__provider).toBe(providerText);
      expect(created.properties.targetUrl).toEqual(wireSecret(db.url));
      expect(plaintextPaths(created.properties, password)).toEqual([]);
      expect(plaintextPaths(created.properties, db.url)).toEqual([]);
      expect(await tablesIn(db.url)).toEqual(["organization", "publication", "researcher"]);

      const olds = created.properties;
      expect(await host.diff(URN, created.id, olds, inputs())).toEqual({ changes: "DIFF_NONE", replaces: [], deleteBeforeReplace: false });

      // Preview: the URL comes from a resource being replaced, and a nested fingerprint value is
      // unknown. The provider must answer without touching the database.
      const preview = inputs();
      (preview.schemaFingerprint as { tables: Record<string, { hash: string }> }).tables.publication.hash = UNKNOWN;
      expect(await host.diff(URN, created.id, olds, { ...preview, targetUrl: UNKNOWN })).toEqual({
        changes: "DIFF_SOME",
        replaces: ["schemaFingerprint", "targetUrl"],
        deleteBeforeReplace: true,
      });
      expect(await host.diff(URN, created.id, olds, { ...inputs(), sourcePath: UNKNOWN })).toEqual({ changes: "DIFF_SOME", replaces: [], deleteBeforeReplace: false });

      editSource(source, "CREATE TABLE project (id INTEGER PRIMARY KEY, title TEXT NOT NULL);");
      const hash2 = sha256File(source);
      expect(await host.diff(URN, created.id, olds, inputs())).toEqual({ changes: "DIFF_SOME", replaces: [], deleteBeforeReplace: false });
      const updated = await host.update(URN, created.id, olds, inputs());
      expect(updated.properties.tables).toEqual(["organization", "publication", "researcher", "project"]);
      expect(plaintextPaths(updated.properties, password)).toEqual([]);
      expect(await tablesIn(db.url)).toEqual(["organization", "project", "publication", "researcher"]);

      // As the real engine sends state back: envelopes stripped (acceptSecrets=false).
      const stripped = { ...updated.properties, targetUrl: db.url };
      await host.delete(URN, created.id, stripped);
      expect(await tablesIn(db.url)).toEqual([]);
      expect(sha256File(source)).toBe(hash2);
      expect(hash2).not.toBe(hash);
    } finally {
      await db.drop();
    }
  });

  it("a failed create reports a coded error with no password, to the engine or on the host's output", async () => {
    const source = makeSource(tempDir("armp-wire-err-"));
    const db = await createTestDatabase("prov_wire_err");
    const u = new URL(db.url);
    u.password = "Not-The-Pa55word-" + Date.now().toString(36);
    try {
      const props = {
        __provider: providerText,
        sourcePath: source,
        schemaFingerprint: fingerprintSchema(source, { castOverrides: {}, timestamptz: false }) as unknown as Props,
        targetUrl: wireSecret(u.toString()),
        targetSchema: "public",
        castOverrides: {},
        timestamptz: false,
        textCollation: "C",
      };
      const err = (await host.create(URN, props).catch((e: unknown) => e)) as HostError;
      expect(err.code).toBe(2); // grpc UNKNOWN, as the host maps provider errors
      expect(err.details).toMatch(/^TARGET_AUTH_FAILED: PostgreSQL at .*refused the credentials/);
      expect(err.details).not.toContain(u.password);
      // Delete errors are printed by the host to stderr: make one happen and check the output.
      await host.delete(URN, "schema-x", { ...props, tables: ["organization"] }).catch(() => undefined);
      expect(host.output()).not.toContain(u.password);
      expect(host.output()).not.toContain(new URL(db.url).password);
      expect(host.engine.logs.filter((l) => l.message.includes(u.password))).toEqual([]);
      expect(await tablesIn(db.url)).toEqual([]);
    } finally {
      await db.drop();
    }
  });

  it("answers the engine's delete-before-replace question for dependents: unknown schema id means replace the data, unknown tables only update", async () => {
    const dataText = await serializeProvider(dataProvider);
    const urn = URN.replace(/MigrationSchema::armp-schema$/, "MigrationData::armp-data");
    const fp = { hash: "d1", tables: { organization: { rows: 3, maxRowid: 3, hash: "h" } } };
    const news = { __provider: dataText, schemaId: "schema-1", tables: ["organization"], dataFingerprint: fp, jobs: 2, sourcePath: "a.sqlite", targetUrl: wireSecret("postgres://u:pw@h/db"), targetSchema: "public" };
    const olds = { ...news, copiedTables: ["organization"], copyReport: { tables: [], totals: {}, warnings: [] } };
    expect(await host.diff(urn, "data-1", olds, news)).toEqual({ changes: "DIFF_NONE", replaces: [], deleteBeforeReplace: false });
    expect(await host.diff(urn, "data-1", olds, { ...news, schemaId: UNKNOWN, tables: UNKNOWN })).toEqual({
      changes: "DIFF_SOME",
      replaces: ["schemaId"],
      deleteBeforeReplace: true,
    });
    // Preview of a schema *update* (new column, new table): the id is kept, `tables` is unknown.
    // That is an update of the data, not a full re-copy.
    expect(await host.diff(urn, "data-1", olds, { ...news, tables: UNKNOWN, dataFingerprint: { ...fp, hash: "d2" } })).toEqual({
      changes: "DIFF_SOME",
      replaces: [],
      deleteBeforeReplace: false,
    });
  });
});
