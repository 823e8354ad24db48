/**
 * The Migration component during a preview in which the schema resource is updated: the engine
 * then knows the schema's id (an update keeps it) but not its provider-computed outputs (`tables`
 * is unknown until the update runs). Which resources' inputs go unknown decides what preview
 * shows: the index resource must see only program-time values plus the schema id, so that adding
 * a column and a table to the source shows no change for it; data and verification get the
 * unknowns their diffs answer with "update".
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Database from "better-sqlite3";
import * as pulumi from "@pulumi/pulumi";
import { fkCoveringIndexes, sourceIndexes } from "../../../migrate/engine";
import { UNKNOWN } from "../../../migrate/providers/wire-values";

const recorded: { name: string; inputs: Record<string, unknown> }[] = [];

pulumi.runtime.setMocks(
  {
    newResource(args) {
      recorded.push({ name: args.name, inputs: args.inputs as Record<string, unknown> });
      // A preview of an update returns the inputs as outputs: provider-added outputs are unknown.
      return { id: `${args.name}-id`, state: { ...(args.inputs as Record<string, unknown>) } };
    },
    call: () => ({}),
  },
  "armp-postgres",
  "dev",
  true,
);

function makeSource(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "armp-mig-preview-")), "src.sqlite");
  const db = new Database(file);
  db.exec(`
    CREATE TABLE organization (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE publication (id INTEGER PRIMARY KEY, title TEXT, doi TEXT, organization_id INTEGER REFERENCES organization(id));
    CREATE INDEX idx_pub_title ON publication (title);
  `);
  db.close();
  return file;
}

/**
 * Property names whose value is, or contains, an unknown: the wire sentinel, or the marker the
 * mock monitor hands `newResource` in its place (`{ __pulumiUnknown: true }`).
 */
function unknownKeys(inputs: Record<string, unknown>, expected: readonly string[]): string[] {
  const has = (v: unknown): boolean => {
    if (v === UNKNOWN) return true;
    if (Array.isArray(v)) return v.some(has);
    if (typeof v !== "object" || v === null) return false;
    return (v as { __pulumiUnknown?: unknown }).__pulumiUnknown === true || Object.values(v).some(has);
  };
  return expected.filter((k) => !(k in inputs) || inputs[k] === undefined || has(inputs[k])).sort();
}

jest.setTimeout(30_000);

describe("Migration component in preview, schema being updated", () => {
  it("keeps every index input known, and leaves unknown only what data and verification read from outputs", async () => {
    const source = makeSource();
    const { Migration } = await import("../../../migrate/providers/migration");
    const m = new Migration("armp", { sourcePath: source, targetUrl: "postgres://armp:pw@db:5432/armp", extraIndexes: [{ table: "publication", columns: ["doi"] }] });
    // Registration is asynchronous; every resource is recorded once the last one has an urn.
    await new Promise<void>((r) => m.verification.urn.apply(() => r()));
    const inputs = (name: string) => {
      const { __provider: _p, ...rest } = recorded.find((x) => x.name === name)!.inputs;
      return rest;
    };

    expect(unknownKeys(inputs("armp-indexes"), ["schemaId", "sourceIndexes", "fkIndexes", "extraIndexes", "targetUrl", "targetSchema"])).toEqual([]);
    expect(inputs("armp-indexes")).toMatchObject({
      schemaId: "armp-schema-id",
      sourceIndexes: sourceIndexes(source),
      fkIndexes: fkCoveringIndexes(source),
      extraIndexes: [{ name: "idx_publication_doi", table: "publication", columns: ["doi"], unique: false }],
      targetSchema: "public",
    });
    expect(unknownKeys(inputs("armp-data"), ["schemaId", "tables", "dataFingerprint", "jobs", "sourcePath", "targetUrl", "targetSchema"])).toEqual(["tables"]);
    expect(inputs("armp-data").schemaId).toBe("armp-schema-id");
    expect(unknownKeys(inputs("armp-verification"), ["sourcePath", "targetUrl", "targetSchema", "tables", "dataHash", "indexNames", "trigger"])).toEqual([
      "indexNames",
      "tables",
    ]);
  });
});
