/**
 * Views: each SQLite view body is parsed (node-sql-parser, SQLite grammar), translated against the
 * catalog of tables and already-translated views, and planned in dependency order so a view over
 * a view is created after it. A view that cannot be translated is skipped with the exact reason
 * and its original SQL; nothing is guessed.
 */
// Only the SQLite grammar (the package entry point loads every dialect).
import { Parser } from "node-sql-parser/build/sqlite";
import type { SourceSchema, SourceView } from "../introspect";
import type { MappingOptions } from "../typemap";
import { Catalog, identityNames, type NameLookups, type T } from "./catalog";
import { normaliseBody, Untranslatable, viewBody } from "./sql-text";
import { NeedsView, Translator } from "./translate";

export { identityNames, type NameLookups } from "./catalog";

export interface ViewPlan {
  name: string;
  /** The name created in PostgreSQL. */
  pgName: string;
  /** CREATE VIEW statement, or null when skipped. */
  sql: string | null;
  status: "recreate" | "skipped";
  reason?: string;
  /** The view's SQL as SQLite has it. */
  original: string;
  /** Views this one reads (SQLite names); created before it. */
  dependsOn: string[];
  columns: { name: string; t: T }[];
}

function qi(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

const parser = new Parser();

function parseBody(v: SourceView): unknown {
  const body = viewBody(v.sql);
  if (body === null) throw new Untranslatable("could not read the view's SELECT");
  const text = normaliseBody(body);
  let ast: unknown;
  try {
    ast = parser.astify(text, { database: "sqlite" });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new Untranslatable(`the SQL parser cannot read the body (${msg.length > 200 ? msg.slice(0, 200) + "..." : msg})`);
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) throw new Untranslatable("the body is more than one statement");
    ast = ast[0];
  }
  return ast;
}

/** Views the body reads, as the translator found them (used for ordering and for the report). */
function viewsRead(sql: string, cat: Catalog, all: SourceView[]): string[] {
  const q = (n: string): string => `${qi(cat.schemaName)}.${qi(n)}`;
  return all.filter((v) => sql.includes(q(cat.names.table(v.name)))).map((v) => v.name);
}

export function planViews(schema: SourceSchema, schemaName: string, opts: MappingOptions = {}, names: NameLookups = identityNames): ViewPlan[] {
  const cat = Catalog.fromSchema(schema, schemaName, opts, names);
  const out: ViewPlan[] = [];
  const waiting = new Map<string, SourceView>(schema.views.map((v) => [v.name.toLowerCase(), v]));
  const blockedBy = new Map<string, string>();
  const skip = (v: SourceView, reason: string): void => {
    out.push({ name: v.name, pgName: names.table(v.name), sql: null, status: "skipped", reason, original: v.sql, dependsOn: [], columns: [] });
    waiting.delete(v.name.toLowerCase());
    // Dependents now fail with "names ... which is not a table or view" unless told why.
    cat.pendingViews.delete(v.name.toLowerCase());
    cat.absent.set(v.name.toLowerCase(), `view ${v.name}, which is skipped`);
  };
  // Parsed once: a view waiting for another is translated again in a later pass.
  const parsed = new Map<SourceView, unknown>();
  const astOf = (v: SourceView): unknown => {
    if (!parsed.has(v)) parsed.set(v, parseBody(v));
    return parsed.get(v);
  };
  // Each pass translates every view whose dependencies are done; at most one pass per view.
  for (let progress = true; progress && waiting.size > 0; ) {
    progress = false;
    for (const v of [...waiting.values()]) {
      if (v.columns === null) {
        skip(v, `SQLite itself cannot read this view (${v.error ?? "unknown error"}); fix or drop it in the source`);
        progress = true;
        continue;
      }
      try {
        const r = new Translator(cat).select(astOf(v));
        if (r.columns.length !== v.columns.length) throw new Untranslatable(`the translation has ${r.columns.length} columns where SQLite's view has ${v.columns.length}`);
        const pgName = names.table(v.name);
        const cols = v.columns.map((c, i) => ({ name: c, t: r.columns[i].t }));
        const sql = `CREATE VIEW ${qi(schemaName)}.${qi(pgName)} (${v.columns.map(qi).join(", ")}) AS ${r.sql}`;
        cat.add({ src: v.name, pg: pgName, kind: "view", columns: cols.map((c) => ({ name: c.name, pg: c.name, t: c.t })) });
        out.push({ name: v.name, pgName, sql, status: "recreate", original: v.sql, dependsOn: viewsRead(r.sql, cat, schema.views), columns: cols });
        waiting.delete(v.name.toLowerCase());
        progress = true;
      } catch (e) {
        if (e instanceof NeedsView) {
          blockedBy.set(v.name.toLowerCase(), e.view);
          continue;
        }
        if (e instanceof Untranslatable) {
          skip(v, `${e.message}; rewrite it for PostgreSQL by hand`);
          progress = true;
          continue;
        }
        // A translator bug on one view must not stop the tables' migration: the view is skipped
        // with the failure, which should be reported with the view's SQL.
        skip(v, `the view translator failed (${e instanceof Error ? e.message : String(e)}); this is a bug, please report it with the view's SQL; meanwhile rewrite the view for PostgreSQL by hand`);
        progress = true;
      }
    }
  }
  // Only a cycle is left, which SQLite cannot create either; report it rather than loop.
  for (const v of waiting.values()) skip(v, `depends on view ${blockedBy.get(v.name.toLowerCase()) ?? "?"} in a cycle`);
  return out;
}
