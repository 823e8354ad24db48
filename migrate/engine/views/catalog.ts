/**
 * What a view body can name: the source's tables (with the PostgreSQL type each column was mapped
 * to) and the views translated so far, looked up case-insensitively as SQLite does. The names
 * emitted for PostgreSQL come from `NameLookups`, so a name map (identifiers longer than 63 bytes,
 * renames) applies to view bodies exactly as it applies to the tables.
 */
import type { SourceSchema } from "../introspect";
import { mapTable, type MappingOptions, type ValueKind } from "../typemap";

/** The type class of a translated expression; "unknown" is an untyped string literal. */
export type T = "int" | "float" | "numeric" | "text" | "bool" | "date" | "timestamp" | "timestamptz" | "bytea" | "json" | "null" | "unknown" | "other";

export interface NameLookups {
  /** SQLite table or view name -> the name created in PostgreSQL. */
  table(srcName: string): string;
  /** SQLite table and column -> the column name created in PostgreSQL. */
  column(srcTable: string, srcCol: string): string;
}

export const identityNames: NameLookups = { table: (n) => n, column: (_t, c) => c };

export interface RelColumn {
  /** As SQLite reports it (declared spelling). */
  name: string;
  pg: string;
  t: T;
}

export interface Relation {
  src: string;
  pg: string;
  kind: "table" | "view";
  columns: RelColumn[];
}

export function typeOfKind(kind: ValueKind): T {
  switch (kind) {
    case "jsonb":
      return "json";
    case "time":
    case "uuid":
      return "other";
    case "int":
    case "float":
    case "numeric":
    case "text":
    case "bool":
    case "date":
    case "timestamp":
    case "timestamptz":
    case "bytea":
    case "json":
    case "other":
      return kind;
  }
}

export class Catalog {
  private readonly rels = new Map<string, Relation>();
  /** Views of the source not translated (yet): naming one defers or skips the dependent view. */
  readonly pendingViews = new Set<string>();
  /** Objects that exist in SQLite but not in PostgreSQL (virtual tables), with the reason. */
  readonly absent = new Map<string, string>();

  constructor(readonly schemaName: string, readonly names: NameLookups = identityNames) {}

  static fromSchema(schema: SourceSchema, schemaName: string, opts: MappingOptions = {}, names: NameLookups = identityNames): Catalog {
    const cat = new Catalog(schemaName, names);
    for (const t of schema.tables) {
      const cols = mapTable(t, opts).map((m) => ({ name: m.column, pg: names.column(t.name, m.column), t: typeOfKind(m.kind) }));
      // Generated columns are not created in PostgreSQL; a view naming one is refused by lookup.
      cat.add({ src: t.name, pg: names.table(t.name), kind: "table", columns: cols });
    }
    for (const v of schema.views) cat.pendingViews.add(v.name.toLowerCase());
    for (const s of schema.skipped) cat.absent.set(s.name.toLowerCase(), `${s.type} ${s.name} is not migrated (${s.reason})`);
    return cat;
  }

  add(r: Relation): void {
    this.rels.set(r.src.toLowerCase(), r);
    this.pendingViews.delete(r.src.toLowerCase());
  }

  get(name: string): Relation | undefined {
    return this.rels.get(name.toLowerCase());
  }
}
