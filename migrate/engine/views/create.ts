/**
 * Creating the planned views in PostgreSQL, in plan order (a view after the views it reads). Each
 * view is its own transaction: one PostgreSQL refuses is reported with PostgreSQL's message and
 * its original SQL, and the others are still created.
 */
import type { Client } from "pg";
import type { DecisionOptions } from "../decide";
import { pgErr, schemaOf, withTarget, type TargetRef } from "../pg";
import { planFromSchema, readDecided } from "../plan";
import type { ViewPlan } from "./index";

export interface ViewResult {
  name: string;
  /** The name in PostgreSQL (what a later drop removes). */
  pgName: string;
  status: "created" | "skipped";
  reason?: string;
  /** The view's SQL as SQLite has it, for skipped views (what to rewrite by hand). */
  original?: string;
}

function qi(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export async function createViewsOn(c: Client, schemaName: string, plans: ViewPlan[]): Promise<ViewResult[]> {
  const out: ViewResult[] = [];
  for (const v of plans) {
    if (!v.sql) {
      out.push({ name: v.name, pgName: v.pgName, status: "skipped", reason: v.reason, original: v.original });
      continue;
    }
    await c.query("BEGIN");
    try {
      await c.query(`DROP VIEW IF EXISTS ${qi(schemaName)}.${qi(v.pgName)}`);
      await c.query(v.sql);
      await c.query("COMMIT");
      out.push({ name: v.name, pgName: v.pgName, status: "created" });
    } catch (e) {
      await c.query("ROLLBACK");
      const failed = out.find((r) => r.status === "skipped" && v.dependsOn.includes(r.name));
      const why = failed ? `it reads view ${failed.name}, which was not created` : `PostgreSQL refused the translation (${pgErr(e).message ?? String(e)}); translated as: ${v.sql}`;
      out.push({ name: v.name, pgName: v.pgName, status: "skipped", reason: `${why}; rewrite it for PostgreSQL by hand`, original: v.original });
    }
  }
  return out;
}

/** Drops the planned views (dependents first), e.g. before tables are altered or replaced. */
export async function dropViewsOn(c: Client, schemaName: string, plans: ViewPlan[]): Promise<void> {
  for (const v of [...plans].reverse()) await c.query(`DROP VIEW IF EXISTS ${qi(schemaName)}.${qi(v.pgName)}`);
}

/**
 * Plans the source's views and (re)creates them in the target: what the Pulumi schema step runs
 * after its tables exist (the data comes later; a view needs only the tables).
 */
export async function createViews(sourcePath: string, target: TargetRef, opts: DecisionOptions = {}): Promise<ViewResult[]> {
  const s = schemaOf(target);
  // The same plan as the tables': names as created (names.ts) and types as decided (decide.ts).
  const { schema, opts: decided } = readDecided(sourcePath, opts);
  const plans = planFromSchema(schema, s, decided).views;
  return withTarget(target, "create views", async (c) => {
    await dropViewsOn(c, s, plans);
    return createViewsOn(c, s, plans);
  });
}

/**
 * Drops views a schema step created (dependents first: the reverse of creation order). Dropping
 * the tables would take only the views that read them; a view over no table would stay behind.
 */
export async function dropViews(target: TargetRef, created: ViewResult[]): Promise<void> {
  const s = schemaOf(target);
  const names = created.filter((v) => v.status === "created").map((v) => v.pgName).reverse();
  if (names.length === 0) return;
  await withTarget(target, "drop views", async (c) => {
    for (const n of names) await c.query(`DROP VIEW IF EXISTS ${qi(s)}.${qi(n)} CASCADE`);
  });
}
