/**
 * The Migration component under Pulumi mocks: it must register the four migration resources in
 * order, with exactly the inputs the providers expect (fingerprints computed from the SQLite
 * file at program time), the URL secret, and the dependsOn chain that makes destroy run
 * verification → indexes → data → schema.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Database from "better-sqlite3";
import * as pulumi from "@pulumi/pulumi";
import { fingerprintData, fingerprintSchema, fkCoveringIndexes, sourceIndexes } from "../../../migrate/engine";

interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const recorded: Recorded[] = [];
const transformed: pulumi.ResourceTransformationArgs[] = [];

pulumi.runtime.setMocks(
  {
    newResource(args) {
      recorded.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
      const i = args.inputs as Record<string, unknown>;
      const extra: Record<string, unknown> = {};
      if (args.type.endsWith(":MigrationSchema")) extra.tables = Object.keys((i.schemaFingerprint as { tables: object }).tables);
      if (args.type.endsWith(":MigrationData")) extra.copiedTables = i.tables;
      if (args.type.endsWith(":MigrationIndexes")) extra.indexNames = ["idx_a"];
      if (args.type.endsWith(":MigrationCapture")) Object.assign(extra, { captureId: "cap-1", capturedTables: i.tables });
      if (args.type.endsWith(":MigrationVerification")) extra.report = { ok: true, tables: [], seconds: 0 };
      return { id: `${args.name}-id`, state: { ...i, ...extra } };
    },
    call: () => ({}),
  },
  "armp-postgres",
  "dev",
  false,
);

const URL = "postgres://armp:pw-in-url@db:5432/armp";
/** How a secret input reaches the resource monitor: the registration itself marks it secret. */
const SECRET_URL = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: URL };

function makeSource(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "armp-mig-unit-")), "src.sqlite");
  const db = new Database(file);
  db.exec(`
    CREATE TABLE organization (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE publication (id INTEGER PRIMARY KEY, title TEXT, doi TEXT, organization_id INTEGER REFERENCES organization(id));
    INSERT INTO organization VALUES (1, 'A');
    INSERT INTO publication VALUES (1, 'T', '10.1/x', 1);
  `);
  db.close();
  return file;
}

const resolve = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((r) => o.apply((v) => r(v)));

// Pulumi serializes each dynamic provider with its closure serializer, which loads the TypeScript
// compiler into jest's module registry on first use: seconds, not the unit default of 5.
jest.setTimeout(30_000);

describe("Migration component", () => {
  it("wires schema → data → indexes → verification with exact inputs and a secret URL", async () => {
    const source = makeSource();
    const { Migration } = await import("../../../migrate/providers/migration");
    const m = new Migration(
      "armp",
      { sourcePath: source, targetUrl: URL, extraIndexes: [{ table: "publication", columns: ["doi"] }, { table: "organization", columns: ["name"], unique: true, name: "org_name_uq" }] },
      { transformations: [(a) => void transformed.push(a)] },
    );
    const report = await resolve(m.report);
    expect(report).toEqual({ ok: true, tables: [], seconds: 0 });

    expect(recorded.map((r) => [r.type, r.name])).toEqual([
      ["armp:migrate:Migration", "armp"],
      ["pulumi-nodejs:dynamic/migrate:MigrationSchema", "armp-schema"],
      ["pulumi-nodejs:dynamic/migrate:MigrationData", "armp-data"],
      ["pulumi-nodejs:dynamic/migrate:MigrationIndexes", "armp-indexes"],
      ["pulumi-nodejs:dynamic/migrate:MigrationVerification", "armp-verification"],
    ]);
    const inputs = (name: string) => {
      const { __provider, ...rest } = recorded.find((r) => r.name === name)!.inputs;
      expect(typeof __provider).toBe("string");
      expect((__provider as string).length).toBeLessThan(3000);
      return rest;
    };
    const schemaFp = fingerprintSchema(source, { castOverrides: {}, timestamptz: false });
    const dataFp = fingerprintData(source);
    expect(inputs("armp-schema")).toEqual({ sourcePath: source, schemaFingerprint: schemaFp, targetUrl: SECRET_URL, targetSchema: "public", castOverrides: {}, timestamptz: false, strictTypes: false, epochs: {}, textCollation: "C" });
    expect(inputs("armp-data")).toEqual({
      schemaId: "armp-schema-id",
      tables: ["organization", "publication"],
      dataFingerprint: dataFp,
      jobs: 2,
      sourcePath: source,
      targetUrl: SECRET_URL,
      targetSchema: "public",
    });
    expect(inputs("armp-indexes")).toEqual({
      schemaId: "armp-schema-id",
      sourceIndexes: sourceIndexes(source),
      fkIndexes: fkCoveringIndexes(source),
      extraIndexes: [
        { name: "idx_publication_doi", table: "publication", columns: ["doi"], unique: false },
        { name: "org_name_uq", table: "organization", columns: ["name"], unique: true },
      ],
      targetUrl: SECRET_URL,
      targetSchema: "public",
    });
    expect(inputs("armp-verification")).toEqual({
      sourcePath: source,
      targetUrl: SECRET_URL,
      targetSchema: "public",
      tables: ["organization", "publication"],
      dataHash: dataFp.hash,
      indexNames: ["idx_a"],
      trigger: "",
    });
    expect(fkCoveringIndexes(source).map((i) => i.table)).toEqual(["publication"]);

    // Secret everywhere it is stored, and the chain that orders create and (reversed) destroy.
    for (const r of [m.schema, m.data, m.indexes, m.verification]) expect(await pulumi.isSecret(r.targetUrl)).toBe(true);
    const opts = (name: string) => transformed.find((t) => t.name === name)!.opts as pulumi.CustomResourceOptions;
    expect(opts("armp-schema").dependsOn).toBeUndefined();
    // An Output (capture is decided from the resolved arg): off, data follows the schema only.
    expect(await resolve(opts("armp-data").dependsOn as pulumi.Output<pulumi.Resource[]>)).toEqual([m.schema]);
    expect(await resolve(m.capture)).toBeUndefined();
    // Off: no rollback guard either (it replays into SQLite, which off never writes).
    expect(await resolve(m.rollbackGuard)).toBeUndefined();
    expect(opts("armp-indexes").dependsOn).toEqual([m.data]);
    expect(opts("armp-verification").dependsOn).toEqual([m.data, m.indexes]);
    for (const name of ["armp-schema", "armp-data", "armp-indexes", "armp-verification"]) {
      expect(opts(name).additionalSecretOutputs).toEqual(["targetUrl"]);
      expect(opts(name).parent).toBe(m);
    }
  });

  it("with capture on, registers MigrationCapture before the data, which depends on it and carries its id", async () => {
    recorded.length = 0;
    transformed.length = 0;
    const source = makeSource();
    const { Migration } = await import("../../../migrate/providers/migration");
    const m = new Migration("armp", { sourcePath: source, targetUrl: URL, capture: true }, { transformations: [(a) => void transformed.push(a)] });
    await resolve(m.report);
    const capture = await resolve(m.capture);
    expect(capture).toBeDefined();
    const guard = await resolve(m.rollbackGuard);
    expect(guard).toBeDefined();
    // Registered from an apply: wait for its registration before reading what was recorded.
    await resolve(guard!.id);

    const names = recorded.map((r) => r.name);
    expect([...names].sort()).toEqual(["armp", "armp-capture", "armp-data", "armp-indexes", "armp-rollback-guard", "armp-schema", "armp-verification"]);
    expect(names.indexOf("armp-capture")).toBeLessThan(names.indexOf("armp-data"));
    expect(names.indexOf("armp-verification")).toBeLessThan(names.indexOf("armp-rollback-guard"));
    const { __provider, ...captureInputs } = recorded.find((r) => r.name === "armp-capture")!.inputs;
    expect(typeof __provider).toBe("string");
    expect((__provider as string).length).toBeLessThan(3000);
    expect(recorded.find((r) => r.name === "armp-capture")!.type).toBe("pulumi-nodejs:dynamic/migrate:MigrationCapture");
    // No URL: capture only ever touches the SQLite file.
    expect(captureInputs).toEqual({ sourcePath: source, tables: ["organization", "publication"] });
    const { __provider: _p, ...dataInputs } = recorded.find((r) => r.name === "armp-data")!.inputs;
    expect(dataInputs).toEqual({
      schemaId: "armp-schema-id",
      tables: ["organization", "publication"],
      dataFingerprint: fingerprintData(source),
      jobs: 2,
      sourcePath: source,
      targetUrl: SECRET_URL,
      targetSchema: "public",
      captureId: "cap-1",
    });
    const opts = (name: string) => transformed.find((t) => t.name === name)!.opts as pulumi.CustomResourceOptions;
    expect(await resolve(opts("armp-data").dependsOn as pulumi.Output<pulumi.Resource[]>)).toEqual([m.schema, capture]);
    expect(opts("armp-capture").parent).toBe(m);
    expect(opts("armp-capture").dependsOn).toBeUndefined();

    // The rollback guard: PostgreSQL-side capture after verification, replayed on destroy. It
    // depends on capture, so destroy replays into SQLite before the SQLite triggers are removed.
    const guardRec = recorded.find((r) => r.name === "armp-rollback-guard")!;
    expect(guardRec.type).toBe("pulumi-nodejs:dynamic/migrate:MigrationRollbackGuard");
    const { __provider: gp, ...guardInputs } = guardRec.inputs;
    expect((gp as string).length).toBeLessThan(3000);
    expect(guardInputs).toEqual({ sourcePath: source, targetUrl: SECRET_URL, targetSchema: "public" });
    expect(await pulumi.isSecret(guard!.targetUrl)).toBe(true);
    expect(opts("armp-rollback-guard").dependsOn).toEqual([m.verification, m.data, capture]);
    expect(opts("armp-rollback-guard").additionalSecretOutputs).toEqual(["targetUrl"]);
    expect(opts("armp-rollback-guard").parent).toBe(m);
  });

  it("rejects an extra index on a column the source does not have, naming the argument", async () => {
    const source = makeSource();
    const { resolveExtraIndexes } = await import("../../../migrate/providers/migration");
    const fp = fingerprintSchema(source);
    expect(() => resolveExtraIndexes([{ table: "publication", columns: ["titel"] }], fp)).toThrow(
      'extraIndexes[0]: column(s) titel not in table "publication"; it has id, title, doi, organization_id.',
    );
    expect(() => resolveExtraIndexes([{ table: "pubs", columns: ["doi"] }], fp)).toThrow('extraIndexes[0]: table "pubs" is not in the source; use one of organization, publication.');
  });

  it("names an extra index's table and columns as PostgreSQL has them after renames", async () => {
    const source = makeSource();
    const { resolveExtraIndexes } = await import("../../../migrate/providers/migration");
    const fp = fingerprintSchema(source);
    expect(resolveExtraIndexes([{ table: "publication", columns: ["doi", "title"] }], fp, { publication: "works", "publication.doi": "doi_key" })).toEqual([
      { name: "idx_publication_doi_title", table: "works", columns: ["doi_key", "title"], unique: false },
    ]);
  });
});
