/** The knex corpus: one schema written with knex's column builders and rows inserted through
 * knex, run against SQLite (better-sqlite3 client, then migrated) and natively against
 * PostgreSQL (pg client): what the app reads from the migrated database must equal what it reads
 * from the one knex built on PostgreSQL itself. */
import { knex, type Knex } from "knex";

export function sqliteKnex(filename: string): Knex {
  return knex({ client: "better-sqlite3", connection: { filename }, useNullAsDefault: true });
}

export function pgKnex(url: string): Knex {
  return knex({ client: "pg", connection: url });
}

/** Column builders whose PostgreSQL reads after a default migration equal knex's own PostgreSQL
 * schema (knex-gaps.test.ts has the ones that do not). Integers are bigIncrements/bigInteger:
 * the migration makes every SQLite integer a bigint, which node-pg returns as a string. */
export async function createSchema(k: Knex): Promise<void> {
  await k.schema.createTable("account", (t) => {
    t.bigIncrements("id");
    t.string("email", 100).notNullable().unique();
    t.text("bio");
    t.bigInteger("visits").notNullable();
    t.bigInteger("level");
    t.double("score");
    t.float("ratio");
    t.boolean("active").notNullable();
    t.binary("avatar");
    t.jsonb("prefs");
    t.uuid("token");
    t.enu("plan", ["free", "pro", "team plan"]);
    t.timestamps(true, true);
  });
  await k.schema.createTable("post", (t) => {
    t.bigIncrements("id");
    t.bigInteger("account_id").unsigned().notNullable().references("id").inTable("account");
    t.string("title", 200).notNullable();
    t.text("body");
    t.index(["account_id"]);
  });
}

export async function createGapSchema(k: Knex): Promise<void> {
  await k.schema.createTable("gap", (t) => {
    t.increments("id");
    t.integer("count");
    t.smallint("level");
    t.bigInteger("big");
    t.decimal("price", 10, 2);
    t.date("day");
    t.datetime("seen");
    t.time("alarm");
    t.json("doc");
  });
}

export const ACCOUNTS = [
  {
    email: "ada@example.com", bio: "multi\nline 'quoted' \"text\" \\", visits: 2147483647, level: -32768, score: 0.1, ratio: 1.5, active: true,
    avatar: Buffer.from(Array.from({ length: 256 }, (_, i) => i)), prefs: { theme: "dark", nested: { list: [1, 2.5, null, true, "ü"] } },
    token: "6f1e0c4a-9b1d-4c55-8d1e-2b7a4e9c0f11", plan: "team plan",
  },
  { email: "zoë@example.org", bio: null, visits: -2147483648, level: 32767, score: -1.5e-300, ratio: 0, active: false, avatar: Buffer.alloc(0), prefs: [1, "two", { three: 3 }], token: null, plan: "free" },
  { email: "x@example.net", bio: "Ünïcödé 🐍 日本語", visits: 0, level: null, score: null, ratio: null, active: true, avatar: null, prefs: null, token: "00000000-0000-4000-8000-000000000002", plan: null },
];

export const POSTS = [
  { account_id: 1, title: "first", body: "hello" },
  { account_id: 1, title: "second", body: "" },
  { account_id: 2, title: "Ünïcödé", body: null },
];

export const GAPS = [
  { count: 2147483647, level: -32768, big: "9007199254740993", price: "12.50", day: "2024-02-29", seen: "2024-02-29 23:59:59.999", alarm: "23:59:59", doc: JSON.stringify({ a: [1, 2] }) },
  { count: 0, level: null, big: "-9223372036854775808", price: "-0.01", day: "1970-01-01", seen: "1970-01-01 00:00:00", alarm: "00:00:00", doc: JSON.stringify("text") },
];

/** Inserts through knex; JSON goes in as knex's docs say for each client (pg takes objects for
 * jsonb only when stringified, SQLite stores the text). */
export async function insertRows(k: Knex, table: "account" | "post" | "gap"): Promise<void> {
  const rows = table === "account" ? ACCOUNTS.map((a) => ({ ...a, prefs: a.prefs === null ? null : JSON.stringify(a.prefs) })) : table === "post" ? POSTS : GAPS;
  for (const r of rows) await k(table).insert(r);
}

/** Every row as knex hands it to the app, with the clock columns (set by the database) left out. */
export async function readAll(k: Knex, table: string): Promise<Record<string, unknown>[]> {
  const rows = (await k(table).select().orderBy("id")) as Record<string, unknown>[];
  return rows.map(({ created_at: _c, updated_at: _u, ...rest }) => rest);
}
