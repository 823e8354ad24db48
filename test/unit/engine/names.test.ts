/** names.ts: the source -> PostgreSQL name map, exactly (no servers). */
import { createHash } from "crypto";
import { introspect, type SourceSchema } from "../../../migrate/engine/introspect";
import { MigrationError } from "../../../migrate/engine/errors";
import { buildNameMap, clipBytes, namesOf, pgSequenceName, renameColumnsIn, type NameMap } from "../../../migrate/engine/names";
import { planFromSchema } from "../../../migrate/engine/plan";
import { withSource } from "../../../migrate/engine/sqlite";
import { SCHEMA_SQL, sqliteFile } from "./fixture";

const schemaOf = (sql: string): SourceSchema => withSource(sqliteFile(sql), (db) => introspect(db));
const sha8 = (s: string): string => createHash("sha1").update(s).digest("hex").slice(0, 8);

/** Every name the map gives, flattened, so two maps can be compared name by name. */
function allNames(m: NameMap, schema: SourceSchema, only?: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of schema.tables) {
    if (only && !only.includes(t.name)) continue;
    const n = m.of(t);
    out[`table ${t.name}`] = n.table;
    out[`pk ${t.name}`] = n.pk;
    out[`sequence ${t.name}`] = String(n.sequence);
    for (const c of t.columns) out[`column ${t.name}.${c.name}`] = n.column(c.name);
    for (const u of t.uniques) out[`unique ${t.name}(${u.join(",")})`] = n.unique(u);
    for (const fk of t.foreignKeys) {
      out[`fk ${t.name}(${fk.columns.join(",")})`] = n.fk(fk);
      out[`fk index ${t.name}(${fk.columns.join(",")})`] = n.fkIndex(fk.columns);
    }
    for (const ix of t.indexes) if (ix.origin === "c") out[`index ${ix.name}`] = m.index(ix.name);
  }
  return out;
}

function configError(fn: () => unknown): MigrationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MigrationError) return e;
    throw e;
  }
  throw new Error("expected a MigrationError");
}

const SHARED = "reading_".padEnd(63, "x");
const LONG_SQL = `
CREATE TABLE station (id INTEGER PRIMARY KEY, "${SHARED}_lowest" REAL, "${SHARED}_higher" REAL, "${"é".repeat(35)}" TEXT);
CREATE TABLE sample (id INTEGER PRIMARY KEY, station_id INTEGER REFERENCES station (id), v REAL);
`;

describe("name map", () => {
  it("keeps every name of a source PostgreSQL can take as it is, with PostgreSQL's own derived names", () => {
    const schema = schemaOf(SCHEMA_SQL);
    const m = buildNameMap(schema);
    expect(m.changes).toEqual([]);
    const names = allNames(m, schema);
    for (const [k, v] of Object.entries(names)) {
      if (k.startsWith("table ")) expect(v).toBe(k.slice(6));
      if (k.startsWith("column ")) expect(v).toBe(k.slice(k.indexOf(".") + 1));
    }
    expect(names["pk Order Items"]).toBe("Order Items_pkey");
    expect(names["unique user(E-mail Address)"]).toBe("user_E-mail Address_key");
    expect(names["fk Order Items(userId)"]).toBe("Order Items_userId_fkey");
    expect(names["fk index Order Items(userId)"]).toBe("Order Items_userId_idx");
    expect(names["sequence user"]).toBe("null");
  });

  it("gives two 70-byte columns sharing 63 bytes distinct names: 54 bytes, '_', 8 hex digits of SHA-1(full name)", () => {
    const schema = schemaOf(LONG_SQL);
    const m = buildNameMap(schema);
    expect(m.column("station", `${SHARED}_lowest`)).toBe(`${SHARED.slice(0, 54)}_${sha8(`${SHARED}_lowest`)}`);
    expect(m.column("station", `${SHARED}_higher`)).toBe(`${SHARED.slice(0, 54)}_${sha8(`${SHARED}_higher`)}`);
    // A two-byte character is never split: 27 of them are 54 bytes.
    expect(m.column("station", "é".repeat(35))).toBe(`${"é".repeat(27)}_${sha8("é".repeat(35))}`);
    for (const c of m.changes) expect(Buffer.byteLength(c.target)).toBeLessThanOrEqual(63);
    expect(m.changes.map((c) => [c.kind, c.reason])).toEqual([
      ["column", "70 bytes; PostgreSQL keeps 63"],
      ["column", "70 bytes; PostgreSQL keeps 63"],
      ["column", "70 bytes; PostgreSQL keeps 63"],
    ]);
    // Deterministic: the same source gives the same names.
    expect(allNames(buildNameMap(schemaOf(LONG_SQL)), schemaOf(LONG_SQL))).toEqual(allNames(m, schema));
  });

  it("changes no name when an unrelated table (long-named or not) is added", () => {
    const before = schemaOf(LONG_SQL);
    const after = schemaOf(LONG_SQL + `CREATE TABLE aaa (id INTEGER PRIMARY KEY, x TEXT UNIQUE); CREATE TABLE "${"z".repeat(80)}" (id INTEGER PRIMARY KEY, station_id INTEGER REFERENCES station (id));`);
    expect(allNames(buildNameMap(after), after, ["station", "sample"])).toEqual(allNames(buildNameMap(before), before));
  });

  it("renames a derived name taken by another object; tables and source indexes keep theirs", () => {
    const schema = schemaOf(`
      CREATE TABLE a_b (id INTEGER PRIMARY KEY, c TEXT UNIQUE);
      CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT, c TEXT, UNIQUE (b, c));
      CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
      CREATE TABLE t_pkey (n INTEGER);
      CREATE INDEX t_v_key ON t_pkey (n);
      CREATE TABLE t_id_seq (n INTEGER);
    `);
    const m = buildNameMap(schema);
    const a = schema.tables.find((t) => t.name === "a")!;
    const ab = schema.tables.find((t) => t.name === "a_b")!;
    const t = schema.tables.find((x) => x.name === "t")!;
    // Tables are named in name order: a's UNIQUE (b, c) takes "a_b_c_key" first.
    expect(m.of(a).unique(["b", "c"])).toBe("a_b_c_key");
    expect(m.of(ab).unique(["c"])).toBe(`a_b_c_key_${sha8("unique\0a_b\0c")}`);
    expect(m.of(t).pk).toBe(`t_pkey_${sha8("primary key\0t\0id")}`);
    expect(m.of(t).sequence).toBe(`t_id_seq_${sha8("sequence\0t\0id")}`);
    expect(m.index("t_v_key")).toBe("t_v_key");
    expect(m.table("t_pkey")).toBe("t_pkey");
    // Asked again, a derived name is the same one.
    expect(m.of(ab).unique(["c"])).toBe(m.of(ab).unique(["c"]));
    expect(m.changes.map((c) => `${c.kind} ${c.source} -> ${c.target}: ${c.reason}`)).toEqual([
      `constraint a_b(c) unique -> a_b_c_key_${sha8("unique\0a_b\0c")}: "a_b_c_key" is taken by another object in PostgreSQL`,
      `constraint t(id) primary key -> t_pkey_${sha8("primary key\0t\0id")}: "t_pkey" is taken by another object in PostgreSQL`,
      `sequence t.id identity -> t_id_seq_${sha8("sequence\0t\0id")}: "t_id_seq", PostgreSQL's own choice, is taken by another object`,
    ]);
  });

  it("applies renames (matched case-insensitively, as SQLite names are) and derives key names from them", () => {
    const schema = schemaOf(SCHEMA_SQL);
    const m = buildNameMap(schema, { USER: "account", "Order Items.userId": "account_id", tag_label: "tag_label_ix" });
    const oi = schema.tables.find((t) => t.name === "Order Items")!;
    expect(m.table("user")).toBe("account");
    expect(m.of(schema.tables.find((t) => t.name === "user")!).pk).toBe("account_pkey");
    expect(m.column("Order Items", "userId")).toBe("account_id");
    expect(m.of(oi).fk(oi.foreignKeys[0])).toBe("Order Items_account_id_fkey");
    expect(m.changes.filter((c) => c.reason === "renamed").map((c) => [c.kind, c.source, c.target])).toEqual([
      ["table", "user", "account"],
      ["index", "tag_label", "tag_label_ix"],
      ["column", "Order Items.userId", "account_id"],
    ]);
  });

  it("refuses renames it cannot apply with CONFIG_INVALID naming the object", () => {
    const schema = schemaOf(SCHEMA_SQL);
    const onto = configError(() => buildNameMap(schema, { tag: "user" }));
    expect(onto.code).toBe("CONFIG_INVALID");
    // Renames claim their names first, so the table that keeps its own name is the one refused.
    expect(onto.message).toBe(`table user and table tag would both be named "user" in PostgreSQL (tables, views, indexes and sequences share one namespace per schema). Give one of them another name with --rename (renames option).`);
    expect(onto.meta).toEqual({ table: "user", name: "user", collidesWith: "table tag" });
    const col = configError(() => buildNameMap(schema, { "tag.label": "n" }));
    expect(col.message).toBe(`column tag.n and column tag.label would both be named "n" in PostgreSQL (columns of tag). Give one of them another name with --rename (renames option).`);
    expect(col.meta).toEqual({ table: "tag", column: "n", name: "n", collidesWith: "column tag.label" });
    const unknown = configError(() => buildNameMap(schema, { "tag.nope": "x" }));
    expect(unknown.message).toBe("Rename tag.nope=x: tag.nope is not a table, view, index or table.column of the SQLite source. Check the name (tables: user, Order Items, tag, item_tag).");
    const long = configError(() => buildNameMap(schema, { tag: "x".repeat(64) }));
    expect(long.message).toBe(`Rename tag=${"x".repeat(64)}: a PostgreSQL name must be 1 to 63 bytes (this one is 64). Choose a shorter name.`);
  });

  it("names a 70-byte view like a table, and the plan creates it under that name", () => {
    const view = "v".repeat(70);
    const schema = schemaOf(`CREATE TABLE t (id INTEGER PRIMARY KEY); CREATE VIEW "${view}" AS SELECT id FROM t;`);
    const plan = planFromSchema(schema, "public");
    expect(plan.names).toEqual([{ kind: "view", source: view, target: `${"v".repeat(54)}_${sha8(view)}`, reason: "70 bytes; PostgreSQL keeps 63" }]);
    expect(plan.views.map((v) => [v.name, v.pgName, v.sql])).toEqual([[view, `${"v".repeat(54)}_${sha8(view)}`, `CREATE VIEW "public"."${"v".repeat(54)}_${sha8(view)}" ("id") AS SELECT "t"."id" AS "id" FROM "public"."t"`]]);
  });

  it("names a table outside any named schema as its schema names it", () => {
    const schema = schemaOf(LONG_SQL);
    const m = buildNameMap(schema);
    const lone = schemaOf(LONG_SQL).tables.find((t) => t.name === "station")!;
    expect(namesOf(lone).table).toBe(m.table("station"));
    expect(lone.columns.map((c) => namesOf(lone).column(c.name))).toEqual(lone.columns.map((c) => m.column("station", c.name)));
  });

  it("computes PostgreSQL's own identity sequence name (longer part cut first) and clips on character boundaries", () => {
    expect(pgSequenceName("orders", "id")).toBe("orders_id_seq");
    expect(pgSequenceName("a".repeat(70), "id")).toBe("a".repeat(56) + "_id_seq");
    expect(pgSequenceName("a".repeat(70), "b".repeat(70))).toBe("a".repeat(29) + "_" + "b".repeat(29) + "_seq");
    expect(clipBytes("aé", 2)).toBe("a");
    expect(clipBytes("aé", 3)).toBe("aé");
  });

  it("rewrites renamed columns in a partial index predicate, leaving strings and other names alone", () => {
    const schema = schemaOf(`CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER, "Note" TEXT); CREATE INDEX t_q ON t (qty) WHERE qty > 1;`);
    buildNameMap(schema, { "t.qty": "quantity", "t.note": "remark" });
    const t = schema.tables[0];
    expect(renameColumnsIn(`qty > 10 AND "Note" <> 'qty' AND id = 1`, t)).toBe(`"quantity" > 10 AND "remark" <> 'qty' AND id = 1`);
  });
});
