/**
 * Creating the planned views in PostgreSQL, in plan order (a view after the views it reads). Each
 * view is its own transaction: one PostgreSQL refuses is reported with PostgreSQL's message and
 * its original SQL, and the others are still created.
 */
import type { Client } from "pg";
import { pgErr } from "../pg";
import type { ViewPlan } from "./index";

export interface ViewResult {
  name: string;
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
      out.push({ name: v.name, status: "skipped", reason: v.reason, original: v.original });
      continue;
    }
    await c.query("BEGIN");
    try {
      await c.query(`DROP VIEW IF EXISTS ${qi(schemaName)}.${qi(v.pgName)}`);
      await c.query(v.sql);
      await c.query("COMMIT");
      out.push({ name: v.name, status: "created" });
    } catch (e) {
      await c.query("ROLLBACK");
      const failed = out.find((r) => r.status === "skipped" && v.dependsOn.includes(r.name));
      const why = failed ? `it reads view ${failed.name}, which was not created` : `PostgreSQL refused the translation (${pgErr(e).message ?? String(e)}); translated as: ${v.sql}`;
      out.push({ name: v.name, status: "skipped", reason: `${why}; rewrite it for PostgreSQL by hand`, original: v.original });
    }
  }
  return out;
}

/** Drops the planned views (dependents first), e.g. before tables are altered or replaced. */
export async function dropViewsOn(c: Client, schemaName: string, plans: ViewPlan[]): Promise<void> {
  for (const v of [...plans].reverse()) await c.query(`DROP VIEW IF EXISTS ${qi(schemaName)}.${qi(v.pgName)}`);
}
