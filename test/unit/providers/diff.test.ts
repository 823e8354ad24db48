/**
 * The providers' diff logic on plain data, exactly as the host hands it over: old outputs (with
 * the URL in a secret envelope and `__provider` present) against new inputs, including the
 * preview sentinel at any depth. No database is involved — diff must never need one.
 */
import type { DataFingerprint, IndexSpec, SchemaFingerprint } from "../../../migrate/engine";
import { diffCapture } from "../../../migrate/providers/capture-diff";
import { diffData, tablesToCopyOnUpdate, tablesToRecopy } from "../../../migrate/providers/data-diff";
import { desiredIndexes, diffIndexes, planIndexChange } from "../../../migrate/providers/indexes-diff";
import { diffRollbackGuard } from "../../../migrate/providers/rollback-guard-diff";
import { diffSchema, planSchemaChange } from "../../../migrate/providers/schema-diff";
import { diffVerification } from "../../../migrate/providers/verification-diff";
import { SECRET_SIG, SECRET_SIG_KEY, UNKNOWN } from "../../../migrate/providers/wire-values";

const URL_A = "postgres://armp:s3cret-pw@db.internal:5432/armp";
const URL_A_ROTATED = "postgres://armp:n3w-pw@db.internal:5432/armp";
const URL_B = "postgres://armp:s3cret-pw@other-host:5432/armp";
const envelope = (v: unknown) => ({ [SECRET_SIG_KEY]: SECRET_SIG, value: v });
const NO_CHANGE = { changes: false, replaces: [], deleteBeforeReplace: false };
const UPDATE = { changes: true, replaces: [], deleteBeforeReplace: false };
const replace = (...keys: string[]) => ({ changes: true, replaces: keys, deleteBeforeReplace: true });

const fp: SchemaFingerprint = {
  hash: "s1",
  tables: {
    organization: { hash: "o1", columns: ["id", "name", "ror_id"] },
    publication: { hash: "p1", columns: ["id", "title", "year"] },
  },
};
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function schemaNews(f: SchemaFingerprint, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { __provider: "exports.handler = …", sourcePath: "data/armp.sqlite", schemaFingerprint: f, targetUrl: URL_A, targetSchema: "public", castOverrides: {}, timestamptz: false, ...over };
}
function schemaOlds(f: SchemaFingerprint): Record<string, unknown> {
  return { ...schemaNews(f), targetUrl: envelope(URL_A), tables: Object.keys(f.tables) };
}

describe("MigrationSchema diff", () => {
  it("reports no change when the program recomputes the same fingerprint", () => {
    expect(diffSchema(schemaOlds(fp), schemaNews(clone(fp)))).toEqual(NO_CHANGE);
  });

  it("reads state from before textCollation as \"database\": keeping it changes nothing, \"C\" replaces", () => {
    const before = schemaOlds(fp);
    expect(before.textCollation).toBeUndefined();
    expect(diffSchema(before, schemaNews(clone(fp), { textCollation: "database" }))).toEqual(NO_CHANGE);
    expect(diffSchema(before, schemaNews(clone(fp), { textCollation: "C" }))).toEqual(replace("textCollation"));
    expect(diffSchema({ ...before, textCollation: "C" }, schemaNews(clone(fp), { textCollation: "C" }))).toEqual(NO_CHANGE);
  });

  it("reads state from before renames as none: {} changes nothing, a rename replaces; data and verification only update", () => {
    const before = schemaOlds(fp);
    expect(before.renames).toBeUndefined();
    expect(diffSchema(before, schemaNews(clone(fp), { renames: {} }))).toEqual(NO_CHANGE);
    expect(diffSchema(before, schemaNews(clone(fp), { renames: { publication: "publications" } }))).toEqual(replace("renames"));
    expect(diffSchema({ ...before, renames: { publication: "publications" } }, schemaNews(clone(fp), { renames: { publication: "publications" } }))).toEqual(NO_CHANGE);
    expect(diffSchema(before, schemaNews(clone(fp), { renames: UNKNOWN }))).toEqual(replace("renames"));
    const verOlds = { sourcePath: "a", targetUrl: envelope(URL_A), targetSchema: "public", tables: [], dataHash: "d", indexNames: [], trigger: "", report: { ok: true } };
    const verNews = { sourcePath: "a", targetUrl: URL_A, targetSchema: "public", tables: [], dataHash: "d", indexNames: [], trigger: "" };
    expect(diffVerification(verOlds, { ...verNews, renames: {} })).toEqual(NO_CHANGE);
    expect(diffVerification(verOlds, { ...verNews, renames: { a: "b" } })).toEqual(UPDATE);
  });

  it("updates in place for a new table and a new column", () => {
    const next = clone(fp);
    next.hash = "s2";
    next.tables.publication = { hash: "p2", columns: ["id", "title", "year", "doi"] };
    next.tables.project = { hash: "j1", columns: ["id", "title"] };
    expect(planSchemaChange(fp, next)).toEqual({ addTables: ["project"], addColumns: [{ table: "publication", column: "doi" }], incompatible: [] });
    expect(diffSchema(schemaOlds(fp), schemaNews(next))).toEqual(UPDATE);
  });

  it("replaces (delete first) when a column's definition changes", () => {
    const next = clone(fp);
    next.hash = "s3";
    next.tables.publication = { hash: "p3", columns: ["id", "title", "year"] };
    expect(planSchemaChange(fp, next)).toEqual({ addTables: [], addColumns: [], incompatible: ["table publication: column definitions changed"] });
    expect(diffSchema(schemaOlds(fp), schemaNews(next))).toEqual(replace("schemaFingerprint"));
  });

  it("replaces when a column or a table disappears, even alongside compatible additions", () => {
    const next = clone(fp);
    next.hash = "s4";
    delete next.tables.organization;
    next.tables.publication = { hash: "p4", columns: ["id", "title", "doi"] };
    expect(planSchemaChange(fp, next)).toEqual({
      addTables: [],
      addColumns: [],
      incompatible: ["table organization was removed from the source", "table publication: column(s) year removed or redefined"],
    });
    expect(diffSchema(schemaOlds(fp), schemaNews(next))).toEqual(replace("schemaFingerprint"));
  });

  it("updates for a password rotation but replaces for another database or schema", () => {
    expect(diffSchema(schemaOlds(fp), schemaNews(fp, { targetUrl: URL_A_ROTATED }))).toEqual(UPDATE);
    expect(diffSchema(schemaOlds(fp), schemaNews(fp, { targetUrl: URL_B }))).toEqual(replace("targetUrl"));
    expect(diffSchema(schemaOlds(fp), schemaNews(fp, { targetSchema: "armp" }))).toEqual(replace("targetSchema"));
    expect(diffSchema(schemaOlds(fp), schemaNews(fp, { timestamptz: true }))).toEqual(replace("timestamptz"));
  });

  it("accepts secret envelopes in the new inputs too", () => {
    expect(diffSchema(schemaOlds(fp), schemaNews(fp, { targetUrl: envelope(URL_A) }))).toEqual(NO_CHANGE);
  });

  it("handles unknowns at any depth without deciding anything it cannot know", () => {
    const nested = clone(fp) as unknown as { tables: { publication: { hash: string; columns: string[] } } };
    nested.tables.publication.columns = ["id", UNKNOWN];
    expect(diffSchema(schemaOlds(fp), schemaNews(nested as unknown as SchemaFingerprint))).toEqual(replace("schemaFingerprint"));
    expect(diffSchema(schemaOlds(fp), schemaNews(fp, { targetUrl: UNKNOWN }))).toEqual(replace("targetUrl"));
    expect(diffSchema(schemaOlds(fp), schemaNews(fp, { targetUrl: envelope(UNKNOWN) }))).toEqual(replace("targetUrl"));
    expect(diffSchema(schemaOlds(fp), schemaNews(fp, { sourcePath: UNKNOWN }))).toEqual(UPDATE);
    expect(diffSchema(schemaOlds(fp), schemaNews(fp, { castOverrides: { "publication.year": UNKNOWN } }))).toEqual(replace("castOverrides"));
  });
});

const dfp: DataFingerprint = {
  hash: "d1",
  tables: { organization: { rows: 3, maxRowid: 3, hash: "do1" }, publication: { rows: 10, maxRowid: 12, hash: "dp1" } },
};
function dataNews(f: DataFingerprint, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { __provider: "…", schemaId: "schema-1", tables: ["organization", "publication"], dataFingerprint: f, jobs: 2, sourcePath: "data/armp.sqlite", targetUrl: URL_A, targetSchema: "public", ...over };
}
function dataOlds(f: DataFingerprint): Record<string, unknown> {
  return { ...dataNews(f), targetUrl: envelope(URL_A), copiedTables: ["organization", "publication"], copyReport: { tables: [] } };
}

describe("MigrationData diff", () => {
  it("reports no change for the same data and ignores its own outputs", () => {
    expect(diffData(dataOlds(dfp), dataNews(clone(dfp)))).toEqual(NO_CHANGE);
  });

  it("updates when rows change and re-copies only the changed and the new tables", () => {
    const next = clone(dfp);
    next.hash = "d2";
    next.tables.publication = { rows: 11, maxRowid: 13, hash: "dp2" };
    next.tables.project = { rows: 0, maxRowid: null, hash: "dj0" };
    expect(diffData(dataOlds(dfp), dataNews(next, { tables: ["organization", "publication", "project"] }))).toEqual(UPDATE);
    expect(
      tablesToRecopy({ tables: ["organization", "publication"], dataFingerprint: dfp }, { tables: ["organization", "publication", "project"], dataFingerprint: next }),
    ).toEqual(["project", "publication"]);
  });

  it("replaces when the schema was rebuilt, including when that is still unknown in preview", () => {
    expect(diffData(dataOlds(dfp), dataNews(dfp, { schemaId: "schema-2" }))).toEqual(replace("schemaId"));
    // The engine's delete-before-replace question: every input from the schema unknown at once.
    expect(diffData(dataOlds(dfp), dataNews(dfp, { schemaId: UNKNOWN, tables: UNKNOWN }))).toEqual(replace("schemaId"));
  });

  it("updates, never replaces, when the schema is only updated and its tables output is unknown in preview", () => {
    // Preview of "new column + new table": the schema keeps its id, its `tables` output is unknown.
    const next = clone(dfp);
    next.hash = "d2";
    next.tables.grant_call = { rows: 2, maxRowid: 2, hash: "dg1" };
    expect(diffData(dataOlds(dfp), dataNews(next, { tables: UNKNOWN }))).toEqual(UPDATE);
    expect(diffData(dataOlds(dfp), dataNews(dfp, { tables: UNKNOWN }))).toEqual(UPDATE);
    expect(diffData(dataOlds(dfp), dataNews(dfp, { tables: ["organization", UNKNOWN] }))).toEqual(UPDATE);
    expect(diffData(dataOlds(dfp), dataNews(dfp, { dataFingerprint: UNKNOWN }))).toEqual(UPDATE);
    expect(diffData(dataOlds(dfp), dataNews(dfp, { tables: ["publication", "organization"] }))).toEqual(NO_CHANGE);
  });

  it("replaces only for identity: another database or schema, never for a password rotation", () => {
    expect(diffData(dataOlds(dfp), dataNews(dfp, { targetUrl: URL_A_ROTATED }))).toEqual(UPDATE);
    expect(diffData(dataOlds(dfp), dataNews(dfp, { targetUrl: URL_B }))).toEqual(replace("targetUrl"));
    expect(diffData(dataOlds(dfp), dataNews(dfp, { targetSchema: "armp" }))).toEqual(replace("targetSchema"));
    expect(diffData(dataOlds(dfp), dataNews(dfp, { sourcePath: "elsewhere.sqlite", jobs: UNKNOWN }))).toEqual(UPDATE);
  });

  it("treats a nested unknown fingerprint and a jobs change as updates", () => {
    const next = clone(dfp) as unknown as { tables: { publication: { rows: unknown } } };
    next.tables.publication.rows = UNKNOWN;
    expect(diffData(dataOlds(dfp), dataNews(next as unknown as DataFingerprint))).toEqual(UPDATE);
    expect(diffData(dataOlds(dfp), dataNews(dfp, { jobs: 4 }))).toEqual(UPDATE);
  });
});

describe("MigrationData with capture", () => {
  const next = clone(dfp);
  next.hash = "d2";
  next.tables.publication = { rows: 11, maxRowid: 13, hash: "dp2" };
  next.tables.project = { rows: 1, maxRowid: 1, hash: "dj1" };
  const withProject = ["organization", "publication", "project"];

  it("updates when capture is switched on, reinstalled or off, and ignores its syncReport output", () => {
    expect(diffData(dataOlds(dfp), dataNews(dfp, { captureId: "cap-1" }))).toEqual(UPDATE);
    expect(diffData({ ...dataOlds(dfp), captureId: "cap-1", syncReport: { applied: 3 } }, dataNews(dfp, { captureId: "cap-2" }))).toEqual(UPDATE);
    expect(diffData({ ...dataOlds(dfp), captureId: "cap-1", syncReport: { applied: 3 } }, dataNews(dfp))).toEqual(UPDATE);
    expect(diffData({ ...dataOlds(dfp), captureId: "cap-1", syncReport: { applied: 3 } }, dataNews(dfp, { captureId: UNKNOWN }))).toEqual(UPDATE);
    expect(diffData({ ...dataOlds(dfp), captureId: "cap-1", syncReport: { applied: 3 } }, dataNews(clone(dfp), { captureId: "cap-1" }))).toEqual(NO_CHANGE);
  });

  it("copies only new tables under the same capture (sync replays the rest), re-copies changed ones otherwise", () => {
    const olds = { tables: ["organization", "publication"], dataFingerprint: dfp };
    expect(tablesToCopyOnUpdate({ ...olds, captureId: "cap-1" }, { tables: withProject, dataFingerprint: next, captureId: "cap-1" })).toEqual(["project"]);
    expect(tablesToCopyOnUpdate({ ...olds, captureId: "cap-1" }, { tables: ["organization", "publication"], dataFingerprint: next, captureId: "cap-1" })).toEqual([]);
    // Just switched on, or reinstalled: writes before the install are in no changelog.
    expect(tablesToCopyOnUpdate(olds, { tables: withProject, dataFingerprint: next, captureId: "cap-1" })).toEqual(["project", "publication"]);
    expect(tablesToCopyOnUpdate({ ...olds, captureId: "cap-0" }, { tables: withProject, dataFingerprint: next, captureId: "cap-1" })).toEqual(["project", "publication"]);
    // Off: exactly the pre-capture rule.
    expect(tablesToCopyOnUpdate({ ...olds, captureId: "cap-1" }, { tables: withProject, dataFingerprint: next })).toEqual(["project", "publication"]);
  });
});

describe("MigrationCapture diff", () => {
  const news = (over: Record<string, unknown> = {}) => ({ __provider: "…", sourcePath: "data/armp.sqlite", tables: ["organization", "publication"], ...over });
  const olds = { ...news(), captureId: "cap-1", capturedTables: ["organization", "publication"] };

  it("ignores its outputs and the table order", () => {
    expect(diffCapture(olds, news())).toEqual(NO_CHANGE);
    expect(diffCapture(olds, news({ tables: ["publication", "organization"] }))).toEqual(NO_CHANGE);
  });

  it("updates (re-installs) for a new table, replaces for another file, also when unknown", () => {
    expect(diffCapture(olds, news({ tables: ["organization", "project", "publication"] }))).toEqual(UPDATE);
    expect(diffCapture(olds, news({ tables: UNKNOWN }))).toEqual(UPDATE);
    expect(diffCapture(olds, news({ sourcePath: "other.sqlite" }))).toEqual(replace("sourcePath"));
    expect(diffCapture(olds, news({ sourcePath: UNKNOWN }))).toEqual(replace("sourcePath"));
  });
});

const pubDoi: IndexSpec = { name: "idx_publication_doi", table: "publication", columns: ["doi"], unique: false };
const orgRor: IndexSpec = { name: "idx_organization_ror_id", table: "organization", columns: ["ror_id"], unique: true };
const fkPubOrg: IndexSpec = { name: "publication_organization_id_fk_idx", table: "publication", columns: ["organization_id"], unique: false };

function indexNews(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { __provider: "…", schemaId: "schema-1", sourceIndexes: [orgRor], fkIndexes: [fkPubOrg], extraIndexes: [pubDoi], targetUrl: URL_A, targetSchema: "public", ...over };
}

describe("MigrationIndexes diff", () => {
  const olds = { ...indexNews(), targetUrl: envelope(URL_A), indexNames: ["idx_organization_ror_id", "publication_organization_id_fk_idx", "idx_publication_doi"] };

  it("reports no change, updates on a spec change, replaces when the schema was rebuilt", () => {
    expect(diffIndexes(olds, indexNews())).toEqual(NO_CHANGE);
    expect(diffIndexes(olds, indexNews({ extraIndexes: [] }))).toEqual(UPDATE);
    expect(diffIndexes(olds, indexNews({ extraIndexes: [{ ...pubDoi, columns: [UNKNOWN] }] }))).toEqual(UPDATE);
    expect(diffIndexes(olds, indexNews({ schemaId: UNKNOWN }))).toEqual(replace("schemaId"));
  });

  it("replaces only for identity (schema id, target database, target schema); index lists only update", () => {
    expect(diffIndexes(olds, indexNews({ schemaId: "schema-2" }))).toEqual(replace("schemaId"));
    expect(diffIndexes(olds, indexNews({ targetUrl: URL_B }))).toEqual(replace("targetUrl"));
    expect(diffIndexes(olds, indexNews({ targetSchema: "armp" }))).toEqual(replace("targetSchema"));
    expect(diffIndexes(olds, indexNews({ targetUrl: URL_A_ROTATED }))).toEqual(UPDATE);
    expect(diffIndexes(olds, indexNews({ sourceIndexes: UNKNOWN, fkIndexes: UNKNOWN, extraIndexes: UNKNOWN }))).toEqual(UPDATE);
  });

  it("plans only the difference, and a redefined index is dropped then rebuilt", () => {
    const title: IndexSpec = { name: "idx_publication_title", table: "publication", columns: ["title"], unique: false };
    const doiUnique: IndexSpec = { ...pubDoi, unique: true };
    expect(planIndexChange([orgRor, fkPubOrg, pubDoi], [orgRor, doiUnique, title])).toEqual({
      drop: ["idx_publication_doi", "publication_organization_id_fk_idx"],
      create: [doiUnique, title],
    });
  });

  it("merges the three lists by name, the source's definition first", () => {
    expect(desiredIndexes({ sourceIndexes: [orgRor], fkIndexes: [fkPubOrg], extraIndexes: [{ ...orgRor, unique: false }, pubDoi] })).toEqual([orgRor, fkPubOrg, pubDoi]);
  });
});

describe("MigrationVerification diff", () => {
  const news = (over: Record<string, unknown> = {}) => ({ __provider: "…", sourcePath: "a.sqlite", targetUrl: URL_A, targetSchema: "public", tables: ["t"], dataHash: "d1", indexNames: ["i"], trigger: "", ...over });
  const olds = { ...news(), targetUrl: envelope(URL_A), report: { ok: true, tables: [], seconds: 0.1 } };

  it("re-verifies on any watched change and never replaces", () => {
    expect(diffVerification(olds, news())).toEqual(NO_CHANGE);
    expect(diffVerification(olds, news({ dataHash: "d2" }))).toEqual(UPDATE);
    expect(diffVerification(olds, news({ indexNames: UNKNOWN }))).toEqual(UPDATE);
    expect(diffVerification(olds, news({ trigger: "2" }))).toEqual(UPDATE);
    expect(diffVerification(olds, news({ targetUrl: URL_B }))).toEqual(UPDATE);
    expect(diffVerification(olds, news({ targetSchema: "armp", tables: UNKNOWN, dataHash: UNKNOWN }))).toEqual(UPDATE);
  });

  it("forces a re-verification (update) when a refresh recorded a failing report, and only then", () => {
    const drifted = { ...olds, report: { ok: false, tables: [{ table: "t", match: false, differingKeys: ['{"id":4}'] }], seconds: 0.2 } };
    expect(diffVerification(drifted, news())).toEqual(UPDATE);
    expect(diffVerification({ ...drifted, report: envelope(drifted.report) }, news())).toEqual(UPDATE);
    expect(diffVerification(drifted, news({ trigger: "2" }))).toEqual(UPDATE);
    // A passing refresh (new timings) is no change: preview after a clean refresh stays empty.
    expect(diffVerification({ ...olds, report: { ok: true, tables: [], seconds: 9.9 } }, news())).toEqual(NO_CHANGE);
    // State written before read() existed, or with no report at all, is no change either.
    const { report: _none, ...noReport } = olds;
    expect(diffVerification(noReport, news())).toEqual(NO_CHANGE);
  });
});

describe("MigrationRollbackGuard diff", () => {
  const news = (over: Record<string, unknown> = {}) => ({ __provider: "exports.handler = …", sourcePath: "data/armp.sqlite", targetUrl: URL_A, targetSchema: "public", ...over });
  const olds = { ...news(), targetUrl: envelope(URL_A), capturedTables: ["organization", "publication"] };

  it("replaces on another database, schema or SQLite file; a rotated password only updates", () => {
    expect(diffRollbackGuard(olds, news())).toEqual(NO_CHANGE);
    expect(diffRollbackGuard(olds, news({ targetUrl: URL_A_ROTATED }))).toEqual(UPDATE);
    expect(diffRollbackGuard(olds, news({ targetUrl: URL_B }))).toEqual(replace("targetUrl"));
    expect(diffRollbackGuard(olds, news({ targetSchema: "armp" }))).toEqual(replace("targetSchema"));
    expect(diffRollbackGuard(olds, news({ sourcePath: "other.sqlite" }))).toEqual(replace("sourcePath"));
    expect(diffRollbackGuard(olds, news({ sourcePath: UNKNOWN }))).toEqual(replace("sourcePath"));
    // capturedTables is the provider's output, never an input: a different list changes nothing.
    expect(diffRollbackGuard({ ...olds, capturedTables: ["organization"] }, news())).toEqual(NO_CHANGE);
  });
});
