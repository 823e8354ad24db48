/**
 * Identifiers PostgreSQL cannot take as they are, migrated by `armp-migrate run` into a real
 * PostgreSQL 15: two 70-byte column names sharing their first 63 bytes (PostgreSQL alone would
 * make them one column and fail), a 70-byte table and index name, a multi-byte name, a system
 * column name, objects named like another table's generated key / index / identity-sequence name,
 * and --rename overrides. Rows, names and sequences are read back; the source is unchanged.
 */
import Database from "better-sqlite3";
import { createHash } from "crypto";
import * as path from "path";
import { runMigrateCli } from "../../support/cli";
import { createTestDatabase, withClient } from "../../support/db";
import { sha256File, tempDir } from "./helpers";
import * as fs from "fs";
import { installCapture, runMigration, syncChanges, verify, type RunReport } from "../../../migrate/engine";

const LONG_TABLE = "weather_station_readings_" + "x".repeat(45);
const SHARED = "reading_".padEnd(63, "x");
const COL_LOW = SHARED + "_lowest";
const COL_HIGH = SHARED + "_higher";
const COL_E = "é".repeat(35);
const LONG_INDEX = "idx_" + "y".repeat(66);

/** The documented form of a generated name: 54 bytes of the name, "_", 8 hex digits of SHA-1(seed). */
const hashed = (cut: string, seed: string): string => `${cut}_${createHash("sha1").update(seed).digest("hex").slice(0, 8)}`;
const PG_TABLE = hashed(LONG_TABLE.slice(0, 54), LONG_TABLE);
const PG_LOW = hashed(SHARED.slice(0, 54), COL_LOW);
const PG_HIGH = hashed(SHARED.slice(0, 54), COL_HIGH);
// 54 bytes of a two-byte character are 27 characters.
const PG_E = hashed("é".repeat(27), COL_E);
const PG_XMIN = hashed("xmin", "xmin");
const PG_INDEX = hashed(LONG_INDEX.slice(0, 54), LONG_INDEX);

const q = (s: string): string => `"${s}"`;

describe("identifiers over 63 bytes and colliding names", () => {
  const dir = tempDir("names");
  const src = path.join(dir, "names.sqlite");
  beforeAll(() => {
    for (const n of [LONG_TABLE, COL_LOW, COL_HIGH, COL_E, LONG_INDEX]) expect(Buffer.byteLength(n)).toBe(70);
    const db = new Database(src);
    db.exec(`
      CREATE TABLE ${q(LONG_TABLE)} (id INTEGER PRIMARY KEY, ${q(COL_LOW)} TEXT NOT NULL, ${q(COL_HIGH)} INTEGER, ${q(COL_E)} TEXT, xmin INTEGER);
      CREATE UNIQUE INDEX ${q(LONG_INDEX)} ON ${q(LONG_TABLE)} (${q(COL_LOW)});
      CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL UNIQUE, total REAL);
      -- named like the primary key of orders, its UNIQUE(customer) and its identity sequence
      CREATE TABLE orders_pkey (id INTEGER PRIMARY KEY, label TEXT);
      CREATE INDEX orders_customer_key ON orders_pkey (label);
      CREATE TABLE orders_id_seq (n INTEGER);
      CREATE TABLE items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders (id), qty INTEGER NOT NULL);
      CREATE INDEX items_big ON items (qty) WHERE qty > 10;
      INSERT INTO ${q(LONG_TABLE)} VALUES (1, 'north', -12, 'été', 7), (2, 'south', 31, NULL, NULL);
      INSERT INTO orders VALUES (1, 'ada', 9.5), (5, 'bob', 20.25);
      INSERT INTO orders_pkey VALUES (1, 'first'), (2, 'second');
      INSERT INTO orders_id_seq VALUES (42);
      INSERT INTO items VALUES (1, 1, 3), (2, 5, 12), (3, 5, 40);
    `);
    db.close();
  });

  it("migrates every table with unique PostgreSQL names, the renames applied, rows and checksums exact", async () => {
    const before = sha256File(src);
    const t = await createTestDatabase("names");
    try {
      const res = await runMigrateCli(["run", "--source", src, "--target", t.url, "--json", "--rename", "items=line_items", "--rename", "items.qty=quantity"]);
      expect(res.err).toBe("");
      expect(res.code).toBe(0);
      const r = JSON.parse(res.out) as RunReport;
      expect(r.ok).toBe(true);
      expect(r.tables.map((x) => [x.table, x.rowsWritten, x.checksumMatch, x.sequenceOk])).toEqual([
        ["orders", 2, true, true],
        ["items", 3, true, true],
        ["orders_id_seq", 1, true, true],
        ["orders_pkey", 2, true, true],
        [LONG_TABLE, 2, true, true],
      ]);
      expect(r.names.map((n) => [n.kind, n.source, n.target])).toEqual([
        ["table", "items", "line_items"],
        ["table", LONG_TABLE, PG_TABLE],
        ["index", LONG_INDEX, PG_INDEX],
        ["column", "items.qty", "quantity"],
        ["constraint", "orders(id) primary key", hashed("orders_pkey", "primary key\0orders\0id")],
        ["constraint", "orders(customer) unique", hashed("orders_customer_key", "unique\0orders\0customer")],
        ["sequence", "orders.id identity", hashed("orders_id_seq", "sequence\0orders\0id")],
        ["column", `${LONG_TABLE}.${COL_LOW}`, PG_LOW],
        ["column", `${LONG_TABLE}.${COL_HIGH}`, PG_HIGH],
        ["column", `${LONG_TABLE}.${COL_E}`, PG_E],
        ["column", `${LONG_TABLE}.xmin`, PG_XMIN],
        ["constraint", `${LONG_TABLE}(id) primary key`, hashed(PG_TABLE.slice(0, 54), `${PG_TABLE}_pkey`)],
      ]);
      expect(r.indexes.skipped).toEqual([]);
      expect(r.indexes.created).toEqual(["items_big", "orders_customer_key", PG_INDEX, "line_items_order_id_idx"]);
      const got = await withClient(t.url, async (c) => ({
        relations: (await c.query("SELECT relname, relkind::text FROM pg_class WHERE relnamespace = 'public'::regnamespace")).rows.map((x) => `${x.relkind} ${x.relname}`).sort(),
        columns: (await c.query(`SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 ORDER BY attnum`, [`"${PG_TABLE}"`])).rows.map((x) => x.attname),
        long: (await c.query(`SELECT id, "${PG_LOW}" AS low, "${PG_HIGH}" AS high, "${PG_E}" AS e, "${PG_XMIN}" AS x FROM "${PG_TABLE}" ORDER BY id`)).rows,
        items: (await c.query(`SELECT id, order_id, quantity FROM line_items ORDER BY id`)).rows,
        orders: (await c.query(`SELECT id, customer, total FROM orders ORDER BY id`)).rows,
        partial: (await c.query(`SELECT pg_get_indexdef('items_big'::regclass) AS d`)).rows[0].d,
        // identity sequences continue after max(id), including the one named by the DDL
        nextOrder: (await c.query(`INSERT INTO orders (customer) VALUES ('cy') RETURNING id`)).rows[0].id,
        nextLong: (await c.query(`INSERT INTO "${PG_TABLE}" ("${PG_LOW}") VALUES ('east') RETURNING id`)).rows[0].id,
        seqOwner: (await c.query(`SELECT pg_get_serial_sequence('orders', 'id') AS s`)).rows[0].s,
      }));
      expect(got.relations).toEqual([
        `i ${PG_INDEX}`,
        "i items_big",
        "r line_items",
        "S line_items_id_seq",
        "i line_items_order_id_idx",
        "i line_items_pkey",
        "r orders",
        "i orders_customer_key",
        `i ${hashed("orders_customer_key", "unique\0orders\0customer")}`,
        "r orders_id_seq",
        `S ${hashed("orders_id_seq", "sequence\0orders\0id")}`,
        "r orders_pkey",
        "S orders_pkey_id_seq",
        "i orders_pkey_pkey",
        `i ${hashed("orders_pkey", "primary key\0orders\0id")}`,
        `r ${PG_TABLE}`,
        `i ${hashed(PG_TABLE.slice(0, 54), `${PG_TABLE}_pkey`)}`,
        `S ${PG_TABLE.slice(0, 56)}_id_seq`,
      ].sort());
      expect(got.columns).toEqual(["id", PG_LOW, PG_HIGH, PG_E, PG_XMIN]);
      expect(got.long).toEqual([
        { id: "1", low: "north", high: "-12", e: "été", x: "7" },
        { id: "2", low: "south", high: "31", e: null, x: null },
      ]);
      expect(got.items).toEqual([
        { id: "1", order_id: "1", quantity: "3" },
        { id: "2", order_id: "5", quantity: "12" },
        { id: "3", order_id: "5", quantity: "40" },
      ]);
      expect(got.orders).toEqual([
        { id: "1", customer: "ada", total: 9.5 },
        { id: "5", customer: "bob", total: 20.25 },
      ]);
      expect(got.partial).toBe("CREATE INDEX items_big ON public.line_items USING btree (quantity) WHERE (quantity > 10)");
      expect(got.nextOrder).toBe("6");
      expect(got.nextLong).toBe("3");
      expect(got.seqOwner).toBe(`public.${hashed("orders_id_seq", "sequence\0orders\0id")}`);

      // verify reads the same names back (with the same renames)
      const v = await runMigrateCli(["verify", "--source", src, "--target", t.url, "--json", "--rename", "items=line_items", "--rename", "items.qty=quantity"]);
      expect(v.code).toBe(1); // orders and the long table gained a row above
      const vr = JSON.parse(v.out) as { tables: { table: string; match: boolean }[] };
      expect(vr.tables.map((x) => [x.table, x.match])).toEqual([
        ["orders", false],
        ["items", true],
        ["orders_id_seq", true],
        ["orders_pkey", true],
        [LONG_TABLE, false],
      ]);
    } finally {
      await t.drop();
    }
    expect(sha256File(src)).toBe(before);
  });

  it("syncs captured writes into the renamed and hashed tables and columns", async () => {
    // Capture writes triggers into the file it is installed in: a copy, never the fixture.
    const copy = path.join(dir, "names-capture.sqlite");
    fs.copyFileSync(src, copy);
    const renames = { items: "line_items", "items.qty": "quantity" };
    installCapture(copy);
    const t = await createTestDatabase("names_sync");
    try {
      expect((await runMigration(copy, { url: t.url }, { renames })).ok).toBe(true);
      const db = new Database(copy);
      db.exec(`
        INSERT INTO ${q(LONG_TABLE)} (id, ${q(COL_LOW)}, ${q(COL_HIGH)}, xmin) VALUES (9, 'west', 4, 1);
        UPDATE ${q(LONG_TABLE)} SET ${q(COL_E)} = 'ça' WHERE id = 2;
        UPDATE items SET qty = 99 WHERE id = 1;
        DELETE FROM items WHERE id = 3;
      `);
      db.close();
      const r = await syncChanges(copy, { url: t.url }, { renames });
      expect(r.tables).toEqual({ [LONG_TABLE]: { upserts: 2, deletes: 0 }, items: { upserts: 1, deletes: 1 } });
      const got = await withClient(t.url, async (c) => ({
        long: (await c.query(`SELECT id, "${PG_LOW}" AS low, "${PG_HIGH}" AS high, "${PG_E}" AS e, "${PG_XMIN}" AS x FROM "${PG_TABLE}" ORDER BY id`)).rows,
        items: (await c.query(`SELECT id, quantity FROM line_items ORDER BY id`)).rows,
      }));
      expect(got).toEqual({
        long: [
          { id: "1", low: "north", high: "-12", e: "été", x: "7" },
          { id: "2", low: "south", high: "31", e: "ça", x: null },
          { id: "9", low: "west", high: "4", e: null, x: "1" },
        ],
        items: [
          { id: "1", quantity: "99" },
          { id: "2", quantity: "12" },
        ],
      });
      const v = await verify(copy, { url: t.url }, { renames });
      expect(v.tables.map((x) => [x.table, x.sourceRows, x.match, x.sequenceOk])).toEqual([
        ["orders", 2, true, true],
        ["items", 2, true, true],
        ["orders_id_seq", 1, true, true],
        ["orders_pkey", 2, true, true],
        [LONG_TABLE, 3, true, true],
      ]);
    } finally {
      await t.drop();
    }
  });

  it("refuses a rename onto a name another table has, before any DDL (CONFIG_INVALID, exit 2)", async () => {
    const before = sha256File(src);
    const t = await createTestDatabase("names_bad");
    try {
      const res = await runMigrateCli(["run", "--source", src, "--target", t.url, "--rename", "items=orders"]);
      expect(res.code).toBe(2);
      expect(res.err).toBe(
        `armp-migrate run failed [CONFIG_INVALID]: table orders and table items would both be named "orders" in PostgreSQL (tables, views, indexes and sequences share one namespace per schema). Give one of them another name with --rename (renames option).\n`,
      );
      const tables = await withClient(t.url, async (c) => (await c.query("SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace")).rows[0].n);
      expect(tables).toBe(0);
    } finally {
      await t.drop();
    }
    expect(sha256File(src)).toBe(before);
  });

  it("shows the name map in plan", async () => {
    const res = await runMigrateCli(["plan", "--source", src, "--rename", "items.qty=quantity"]);
    expect(res.code).toBe(0);
    const section = res.out.split("\n-- name map (PostgreSQL names that differ from the source's)\n")[1].split("\n\n")[0].split("\n");
    expect(section.slice(0, 4)).toEqual([
      `-- table ${LONG_TABLE} -> ${PG_TABLE}  (70 bytes; PostgreSQL keeps 63)`,
      `-- index ${LONG_INDEX} -> ${PG_INDEX}  (70 bytes; PostgreSQL keeps 63)`,
      "-- column items.qty -> quantity  (renamed)",
      `-- constraint orders(id) primary key -> ${hashed("orders_pkey", "primary key\0orders\0id")}  ("orders_pkey" is taken by another object in PostgreSQL)`,
    ]);
    expect(res.out).toContain(`CREATE INDEX IF NOT EXISTS "items_big" ON "public"."items" ("quantity") WHERE "quantity" > 10;`);
  });
});
