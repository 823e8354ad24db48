/**
 * One SQLite SELECT (node-sql-parser's AST) -> PostgreSQL text. Every identifier is resolved
 * against the catalog the way SQLite resolves it (case-insensitively, innermost scope first) and
 * emitted quoted with the name PostgreSQL has; `*` is expanded to the columns it means. Each
 * expression carries a type class so the conversions SQLite applies silently can be written out:
 * text compared with numbers, `||` of numbers, arithmetic on text, 0/1 against booleans, truthiness
 * of numbers in WHERE. What has no faithful translation throws Untranslatable with the reason.
 */
import type { Catalog, RelColumn, T } from "./catalog";
import { currentKeyword, dateFunction, type E } from "./datetime";
import { Untranslatable } from "./sql-text";

// node-sql-parser's AST differs per dialect and its published types do not describe SQLite's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Node = any;

export class NeedsView extends Error {
  constructor(readonly view: string) {
    super(`depends on view ${view}`);
  }
}

function qi(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

function ql(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}

interface Source {
  /** Lower-case name the body refers to it by (alias or table name). */
  key: string;
  /** Qualifier emitted before its columns. */
  qual: string;
  columns: RelColumn[];
}

interface Scope {
  sources: Source[];
  using: Set<string>;
  parent?: Scope;
  /** Select-list aliases (lower case) -> expression, for SQLite's aliases in WHERE/GROUP BY. */
  aliases: Map<string, Node>;
  ctes: Map<string, RelColumn[]>;
}

export interface SelectResult {
  sql: string;
  columns: { name: string; t: T }[];
}

const NUMERIC: T[] = ["int", "float", "numeric"];
const isNum = (t: T): boolean => NUMERIC.includes(t);
const isText = (t: T): boolean => t === "text" || t === "unknown";
const NUM_PREFIX = "'^\\s*([-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?)'";

/** SQLite's text -> number conversion (longest numeric prefix, else 0), NULL kept. */
function textToNumber(sql: string): string {
  return `(CASE WHEN (${sql}) IS NULL THEN NULL ELSE COALESCE(substring((${sql}) FROM ${NUM_PREFIX})::numeric, 0) END)`;
}

function literalNumber(s: string): string {
  const m = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/.exec(s);
  return m ? m[1] : "0";
}

export class Translator {
  private subqueries = 0;

  constructor(private readonly cat: Catalog) {}

  /** A whole (possibly compound) SELECT. */
  select(ast: Node, parent?: Scope, ctesIn?: Map<string, RelColumn[]>): SelectResult {
    const ctes = new Map(ctesIn ?? parent?.ctes ?? []);
    let withSql = "";
    if (ast.with) {
      const parts: string[] = [];
      for (const w of ast.with as Node[]) {
        if (w.recursive) throw new Untranslatable("recursive common table expressions are not translated");
        const name = String(w.name?.value ?? w.name);
        const inner = this.select(w.stmt?.ast ?? w.stmt, parent, ctes);
        const cols = w.columns ? (w.columns as Node[]).map((c, i) => ({ name: String(c.column ?? c.value ?? c), t: inner.columns[i]?.t ?? "other" })) : inner.columns;
        ctes.set(name.toLowerCase(), cols.map((c) => ({ name: c.name, pg: c.name, t: c.t })));
        parts.push(`${qi(name)}${w.columns ? ` (${cols.map((c) => qi(c.name)).join(", ")})` : ""} AS (${inner.sql})`);
      }
      withSql = `WITH ${parts.join(", ")} `;
    }
    const branches: Node[] = [];
    const ops: string[] = [];
    for (let b: Node = ast; b; b = b._next) {
      branches.push(b);
      if (b._next) ops.push(String(b.set_op).toUpperCase());
    }
    const last = branches[branches.length - 1];
    const compound = branches.length > 1;
    const cores = branches.map((b) => this.core(b, parent, ctes, !compound));
    // Compound selects: PostgreSQL needs one type per column across the branches; SQLite has none.
    if (compound) {
      const n = cores[0].cols.length;
      if (cores.some((c) => c.cols.length !== n)) throw new Untranslatable("the SELECTs of a compound query have different numbers of columns");
      for (let i = 0; i < n; i++) {
        const ts = new Set(cores.map((c) => classOf(c.cols[i].e)).filter((t) => t !== "null" && t !== "unknown"));
        const mixed = ts.size > 1 && !([...ts].every(isNum));
        for (const c of cores) {
          const e = c.cols[i].e;
          if (mixed && e.t !== "text" && e.t !== "null") c.cols[i].e = { sql: asText(e), t: "text" };
          else if (e.t === "unknown") c.cols[i].e = { sql: `${e.sql}::text`, t: "text" };
        }
      }
    }
    let sql = withSql + cores.map((c, i) => (i === 0 ? "" : ` ${ops[i - 1]} `) + c.render()).join("");
    const outCols = cores[0].cols.map((c, i) => ({ name: c.name, t: cores.every((x) => x.cols[i].e.t === c.e.t) ? c.e.t : mergedType(cores.map((x) => x.cols[i].e.t)) }));
    if (compound && last.orderby) {
      const keys = (last.orderby as Node[]).map((o) => {
        const pos = this.outputPosition(o.expr, cores[0]);
        if (pos === null) throw new Untranslatable("ORDER BY of a compound SELECT names something that is not one of its result columns");
        return `${pos}${orderSuffix(o)}`;
      });
      sql += ` ORDER BY ${keys.join(", ")}`;
    }
    if (compound) sql += this.limit(last.limit, cores[cores.length - 1].scope);
    return { sql, columns: outCols };
  }

  private outputPosition(expr: Node, core: Core): number | null {
    if (expr.type === "number") return Number(expr.value);
    const name = expr.type === "column_ref" && !expr.table ? String(expr.column) : expr.type === "double_quote_string" ? String(expr.value) : null;
    if (name === null) return null;
    const i = core.cols.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
    return i < 0 ? null : i + 1;
  }

  private limit(limit: Node, scope: Scope): string {
    if (!limit || !limit.value || limit.value.length === 0) return "";
    const vals = limit.value as Node[];
    let count: Node;
    let offset: Node | undefined;
    if (limit.seperator === ",") [offset, count] = vals;
    else [count, offset] = vals;
    let out = "";
    const c = this.expr(count, scope);
    // SQLite: a negative LIMIT means no limit.
    const negative = c.num !== undefined && Number(c.num) < 0;
    if (!negative) out += ` LIMIT ${c.sql}`;
    if (offset) out += ` OFFSET ${this.expr(offset, scope).sql}`;
    return out;
  }

  private core(ast: Node, parent: Scope | undefined, ctes: Map<string, RelColumn[]>, ownTail: boolean): Core {
    if (ast.type !== "select") throw new Untranslatable(`${String(ast.type).toUpperCase()} is not a SELECT`);
    const scope: Scope = { sources: [], using: new Set(), parent, aliases: new Map(), ctes };
    const from: string[] = [];
    for (const f of (ast.from ?? []) as Node[]) {
      const { sql, source } = this.fromItem(f, scope);
      const join = f.join ? String(f.join).toUpperCase() : null;
      scope.sources.push(source);
      if (!join) {
        from.push((from.length ? ", " : "") + sql);
        continue;
      }
      if (f.using) {
        const names = (f.using as Node[]).map((u) => String(u.value ?? u));
        for (const n of names) scope.using.add(n.toLowerCase());
        const cols = names.map((n) => qi(this.columnIn(source, n).pg));
        from.push(` ${join} ${sql} USING (${cols.join(", ")})`);
      } else if (f.on) {
        from.push(` ${join} ${sql} ON ${this.cond(f.on, scope)}`);
      } else if (join === "INNER JOIN" || join === "JOIN") {
        from.push(` CROSS JOIN ${sql}`);
      } else {
        from.push(` ${join} ${sql} ON TRUE`);
      }
    }
    for (const c of (ast.columns ?? []) as Node[]) if (c.as) scope.aliases.set(String(c.as).toLowerCase(), c.expr);
    const cols: { name: string; e: E }[] = [];
    for (const c of (ast.columns ?? []) as Node[]) {
      const x = c.expr;
      if (x.type === "column_ref" && x.column === "*") {
        const srcs = x.table ? [this.sourceByName(scope, String(x.table))] : scope.sources;
        if (srcs.length === 0) throw new Untranslatable("SELECT * without FROM");
        for (const s of srcs) for (const col of s.columns) cols.push({ name: col.name, e: { sql: `${s.qual}.${qi(col.pg)}`, t: col.t } });
        continue;
      }
      const e = this.expr(x, scope);
      const name = c.as ? String(c.as) : x.type === "column_ref" ? this.column(scope, x).name : `column${cols.length + 1}`;
      cols.push({ name, e });
    }
    const where = ast.where ? ` WHERE ${this.cond(ast.where, scope, true)}` : "";
    let group = "";
    if (ast.groupby) {
      const items = (ast.groupby.columns ?? ast.groupby) as Node[];
      group = ` GROUP BY ${items.map((g) => (g.type === "number" ? String(g.value) : this.expr(g, scope, true).sql)).join(", ")}`;
    }
    const having = ast.having ? ` HAVING ${this.cond(ast.having, scope, true)}` : "";
    let order = "";
    let limit = "";
    if (ownTail) {
      if (ast.orderby) {
        order = ` ORDER BY ${(ast.orderby as Node[])
          .map((o) => {
            if (o.expr.type === "number") return `${o.expr.value}${orderSuffix(o)}`;
            const alias = o.expr.type === "column_ref" && !o.expr.table ? cols.findIndex((c) => c.name.toLowerCase() === String(o.expr.column).toLowerCase()) : -1;
            if (alias >= 0 && !this.tryColumn(scope, o.expr)) return `${alias + 1}${orderSuffix(o)}`;
            return `${this.expr(o.expr, scope, true).sql}${orderSuffix(o)}`;
          })
          .join(", ")}`;
      }
      limit = this.limit(ast.limit, scope);
    }
    const distinct = ast.distinct ? "DISTINCT " : "";
    const render = (): string =>
      `SELECT ${distinct}${cols.map((c) => `${c.e.t === "unknown" ? `${c.e.sql}::text` : c.e.sql} AS ${qi(c.name)}`).join(", ")}${from.length ? ` FROM ${from.join("")}` : ""}${where}${group}${having}${order}${limit}`;
    return { cols, scope, render };
  }

  private fromItem(f: Node, scope: Scope): { sql: string; source: Source } {
    if (f.expr && f.expr.ast) {
      const inner = this.select(f.expr.ast, scope.parent, scope.ctes);
      // PostgreSQL (before 16) requires an alias on a subquery in FROM; SQLite does not.
      const alias = f.as ? String(f.as) : `subquery${++this.subqueries}`;
      return { sql: `(${inner.sql}) AS ${qi(alias)}`, source: { key: alias.toLowerCase(), qual: qi(alias), columns: inner.columns.map((c) => ({ name: c.name, pg: c.name, t: c.t })) } };
    }
    if (f.expr) throw new Untranslatable("a FROM item that is neither a table nor a subquery (table-valued function) cannot be translated");
    if (f.db && String(f.db).toLowerCase() !== "main") throw new Untranslatable(`names table ${f.db}.${f.table} of an attached database`);
    const name = String(f.table);
    const alias = f.as ? String(f.as) : null;
    const cte = scope.ctes.get(name.toLowerCase());
    if (cte) {
      const key = (alias ?? name).toLowerCase();
      return { sql: qi(name) + (alias ? ` AS ${qi(alias)}` : ""), source: { key, qual: qi(alias ?? name), columns: cte } };
    }
    const rel = this.cat.get(name);
    if (!rel) {
      if (this.cat.pendingViews.has(name.toLowerCase())) throw new NeedsView(name);
      const absent = this.cat.absent.get(name.toLowerCase());
      throw new Untranslatable(absent ? `names ${absent}` : `names ${name}, which is not a table or view of the source`);
    }
    return {
      sql: `${qi(this.cat.schemaName)}.${qi(rel.pg)}` + (alias ? ` AS ${qi(alias)}` : ""),
      source: { key: (alias ?? rel.src).toLowerCase(), qual: qi(alias ?? rel.pg), columns: rel.columns },
    };
  }

  private sourceByName(scope: Scope, name: string): Source {
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const hit = s.sources.find((x) => x.key === name.toLowerCase());
      if (hit) return hit;
    }
    throw new Untranslatable(`names ${name}, which is not a table in its FROM`);
  }

  private columnIn(source: Source, name: string): RelColumn {
    const c = source.columns.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!c) throw new Untranslatable(`names column ${name}, which ${source.key} does not have (generated columns are not created in PostgreSQL)`);
    return c;
  }

  private tryColumn(scope: Scope, ref: Node): boolean {
    try {
      this.column(scope, ref);
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves a column reference: { sql, t, name (SQLite's declared spelling) }. */
  private column(scope: Scope, ref: Node): E & { name: string } {
    const col = String(typeof ref.column === "object" ? ref.column.expr?.value : ref.column);
    if (ref.table) {
      const s = this.sourceByName(scope, String(ref.table));
      const c = this.columnIn(s, col);
      return { sql: `${s.qual}.${qi(c.pg)}`, t: c.t, name: c.name, col: true };
    }
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const hits = s.sources.filter((x) => x.columns.some((c) => c.name.toLowerCase() === col.toLowerCase()));
      if (hits.length === 1) {
        const c = this.columnIn(hits[0], col);
        return { sql: `${hits[0].qual}.${qi(c.pg)}`, t: c.t, name: c.name, col: true };
      }
      if (hits.length > 1) {
        if (s.using.has(col.toLowerCase())) {
          const c = this.columnIn(hits[0], col);
          return { sql: qi(c.pg), t: c.t, name: c.name, col: true };
        }
        throw new Untranslatable(`column ${col} is ambiguous`);
      }
    }
    if (/^(rowid|oid|_rowid_)$/i.test(col)) throw new Untranslatable(`uses SQLite's ${col}, which PostgreSQL tables do not have`);
    throw new Untranslatable(`names column ${col}, which no table in its FROM has`);
  }

  /** An expression in a boolean position (WHERE, ON, HAVING, CASE WHEN, AND/OR/NOT). */
  cond(n: Node, scope: Scope, aliasOk = false): string {
    return toBool(this.expr(n, scope, aliasOk));
  }

  expr(n: Node, scope: Scope, aliasOk = false): E {
    const e = this.exprInner(n, scope, aliasOk);
    if (n.parentheses && !e.sql.startsWith("(")) return { ...e, sql: `(${e.sql})` };
    return e;
  }

  private exprInner(n: Node, scope: Scope, aliasOk: boolean): E {
    switch (n.type) {
      case "number":
      case "bigint": {
        const s = String(n.value);
        const t: T = /^[-+]?\d+$/.test(s) ? "int" : "float";
        return { sql: s, t, num: s };
      }
      case "single_quote_string": {
        const v = String(n.value).replace(/''/g, "'");
        return { sql: ql(v), t: "unknown", lit: v };
      }
      case "double_quote_string": {
        // SQLite: a double-quoted name that resolves to no column is a string literal.
        const ref = { type: "column_ref", table: null, column: n.value };
        if (this.tryColumn(scope, ref)) return this.column(scope, ref);
        const v = String(n.value);
        return { sql: ql(v), t: "unknown", lit: v };
      }
      case "null":
        return { sql: "NULL", t: "null" };
      case "bool":
        return { sql: n.value ? "TRUE" : "FALSE", t: "bool" };
      case "hex_string":
        return { sql: `'\\x${String(n.value).toLowerCase()}'::bytea`, t: "bytea" };
      case "column_ref": {
        if (aliasOk && !n.table && !this.tryColumn(scope, n)) {
          const a = scope.aliases.get(String(n.column).toLowerCase());
          if (a) return this.expr(a, scope, false);
        }
        return this.column(scope, n);
      }
      case "unary_expr":
        return this.unary(n, scope, aliasOk);
      case "binary_expr":
        return this.binary(n, scope, aliasOk);
      case "function":
        return this.func(n, scope, aliasOk);
      case "aggr_func":
        return this.aggregate(n, scope, aliasOk);
      case "cast":
        return this.cast(n, scope, aliasOk);
      case "case":
        return this.caseExpr(n, scope, aliasOk);
      case "expr_list":
        if (n.value?.length === 1 && n.value[0].ast) return this.scalarSubquery(n.value[0].ast, scope);
        throw new Untranslatable("a row value (a, b, ...) outside IN cannot be translated");
      default:
        if (n.ast) return this.scalarSubquery(n.ast, scope);
        throw new Untranslatable(`expression of kind ${String(n.type)} is not translated`);
    }
  }

  private scalarSubquery(ast: Node, scope: Scope): E {
    const r = this.select(ast, scope);
    return { sql: `(${r.sql})`, t: r.columns[0]?.t ?? "other" };
  }

  private unary(n: Node, scope: Scope, aliasOk: boolean): E {
    const op = String(n.operator).toUpperCase();
    const x = this.expr(n.expr, scope, aliasOk);
    if (op === "NOT") return { sql: `NOT ${toBool(x)}`, t: "bool" };
    if (op === "-" || op === "+") {
      if (x.num !== undefined) return { sql: op === "-" ? `-${x.num}` : x.num, t: x.t, num: op === "-" ? `-${x.num}` : x.num };
      return { sql: `${op}${asNumber(x).sql}`, t: asNumber(x).t };
    }
    if (op === "~") return { sql: `~${asNumber(x).sql}::bigint`, t: "int" };
    throw new Untranslatable(`unary operator ${op} is not translated`);
  }

  private binary(n: Node, scope: Scope, aliasOk: boolean): E {
    const op = String(n.operator).toUpperCase();
    if (op === "AND" || op === "OR") return { sql: `${this.cond(n.left, scope, aliasOk)} ${op} ${this.cond(n.right, scope, aliasOk)}`, t: "bool" };
    const l = this.expr(n.left, scope, aliasOk);
    if (op === "IN" || op === "NOT IN") {
      const r = n.right;
      if (r.type === "expr_list" && r.value.length === 1 && r.value[0].ast) {
        const sub = this.select(r.value[0].ast, scope);
        return { sql: `${l.sql} ${op} (${sub.sql})`, t: "bool" };
      }
      const items = (r.value as Node[]).map((v) => this.expr(v, scope, aliasOk));
      if (items.length === 0) return { sql: op === "IN" ? "FALSE" : "TRUE", t: "bool" };
      const ls = comparable(l, items[0])[0];
      return { sql: `${ls} ${op} (${items.map((i) => comparable(l, i)[1]).join(", ")})`, t: "bool" };
    }
    if (op === "BETWEEN" || op === "NOT BETWEEN") {
      const [lo, hi] = (n.right.value as Node[]).map((v) => this.expr(v, scope, aliasOk));
      const [a, b] = comparable(l, lo);
      const [, c] = comparable(l, hi);
      return { sql: `${a} ${op} ${b} AND ${c}`, t: "bool" };
    }
    if (op === "IS" || op === "IS NOT") {
      if (n.right.type === "null") return { sql: `${l.sql} ${op} NULL`, t: "bool" };
      const r = this.expr(n.right, scope, aliasOk);
      const [a, b] = comparable(l, r);
      return { sql: `${a} ${op === "IS" ? "IS NOT DISTINCT FROM" : "IS DISTINCT FROM"} ${b}`, t: "bool" };
    }
    const r = this.expr(n.right, scope, aliasOk);
    if (op === "=" || op === "==" || op === "!=" || op === "<>" || op === "<" || op === "<=" || op === ">" || op === ">=") {
      const pgOp = op === "==" ? "=" : op === "!=" ? "<>" : op;
      const [a, b] = comparable(l, r);
      return { sql: `${a} ${pgOp} ${b}`, t: "bool" };
    }
    if (op === "||") return { sql: `${asText(l)} || ${asText(r)}`, t: "text" };
    if (op === "+" || op === "-" || op === "*" || op === "/" || op === "%") {
      const a = asNumber(l);
      const b = asNumber(r);
      const t: T = a.t === "float" || b.t === "float" ? "float" : a.t === "numeric" || b.t === "numeric" ? "numeric" : "int";
      // SQLite's x / 0 is NULL where PostgreSQL raises division_by_zero.
      if (op === "/" || op === "%") return { sql: `${a.sql} ${op} NULLIF(${b.sql}, 0)`, t };
      return { sql: `${a.sql} ${op} ${b.sql}`, t };
    }
    if (op === "LIKE" || op === "NOT LIKE") {
      // SQLite's LIKE ignores ASCII case and has no escape character unless ESCAPE is given.
      return { sql: `${asText(l)} ${op === "LIKE" ? "ILIKE" : "NOT ILIKE"} ${asText(r)} ESCAPE ''`, t: "bool" };
    }
    if (op === "GLOB") {
      if (r.lit === undefined) throw new Untranslatable("GLOB with a pattern that is not a literal cannot be translated");
      return { sql: `${asText(l)} ~ ${ql(globToRegex(r.lit))}`, t: "bool" };
    }
    if (op === "&" || op === "|" || op === "<<" || op === ">>") return { sql: `${asNumber(l).sql}::bigint ${op === "|" ? "|" : op} ${asNumber(r).sql}::bigint`, t: "int" };
    throw new Untranslatable(`operator ${op} is not translated`);
  }

  private args(n: Node, scope: Scope, aliasOk: boolean): E[] {
    const list = n.args?.value ?? (n.args?.expr ? [n.args.expr] : []);
    return (list as Node[]).map((a) => this.expr(a, scope, aliasOk));
  }

  private func(n: Node, scope: Scope, aliasOk: boolean): E {
    const raw = n.name?.name?.map((p: Node) => p.value).join(".") ?? String(n.name);
    if (n.over) throw new Untranslatable(`window function ${raw}() OVER (...) is not translated`);
    const kw = currentKeyword(raw);
    if (kw && !n.args) return kw;
    const name = raw.toLowerCase();
    if (name === "exists") {
      const sub = n.args.value[0].ast;
      return { sql: `EXISTS (${this.select(sub, scope).sql})`, t: "bool" };
    }
    const a = this.args(n, scope, aliasOk);
    // The parser reads NOT (x) as a call of a function named NOT.
    if (name === "not" && a.length === 1) return { sql: `NOT (${toBool(a[0])})`, t: "bool" };
    const d = dateFunction(name, a);
    if (d) return d;
    switch (name) {
      case "ifnull":
      case "coalesce": {
        const [xs, t] = unify(a);
        return { sql: `COALESCE(${xs.join(", ")})`, t };
      }
      case "nullif": {
        const [x, y] = comparable(a[0], a[1]);
        return { sql: `NULLIF(${x}, ${y})`, t: a[0].t };
      }
      case "iif": {
        const [xs, t] = unify([a[1], a[2]]);
        return { sql: `(CASE WHEN ${toBool(a[0])} THEN ${xs[0]} ELSE ${xs[1]} END)`, t };
      }
      case "max":
      case "min": {
        // Scalar max/min: NULL if any argument is NULL, unlike GREATEST/LEAST.
        const [xs, t] = unify(a);
        return { sql: `(CASE WHEN ${xs.map((x) => `(${x}) IS NULL`).join(" OR ")} THEN NULL ELSE ${name === "max" ? "GREATEST" : "LEAST"}(${xs.join(", ")}) END)`, t };
      }
      case "length":
        return { sql: a[0].t === "bytea" ? `octet_length(${a[0].sql})` : `length(${asText(a[0])})`, t: "int" };
      case "lower":
      case "upper":
      case "trim":
      case "ltrim":
      case "rtrim":
        return { sql: `${name}(${a.map(asText).join(", ")})`, t: "text" };
      case "replace":
        return { sql: `replace(${a.map(asText).join(", ")})`, t: "text" };
      case "substr":
      case "substring": {
        const [s, ...rest] = a;
        if (rest.some((x) => x.num === undefined || Number(x.num) < 0)) {
          if (rest[0] && (rest[0].num === undefined || Number(rest[0].num) < 1)) throw new Untranslatable("substr() with a start that is not a positive literal cannot be translated (SQLite counts negative starts from the end)");
        }
        return { sql: `substr(${[asText(s), ...rest.map((x) => asNumber(x).sql + "::int")].join(", ")})`, t: "text" };
      }
      case "instr":
        return { sql: `strpos(${asText(a[0])}, ${asText(a[1])})`, t: "int" };
      case "abs":
        return { sql: `abs(${asNumber(a[0]).sql})`, t: asNumber(a[0]).t };
      case "round": {
        const x = asNumber(a[0]);
        // SQLite's round() returns a REAL; numeric rounding is exact, then back to float8.
        return { sql: `round((${x.sql})::numeric${a[1] ? `, ${asNumber(a[1]).sql}::int` : ""})::float8`, t: "float" };
      }
      case "group_concat":
        // The function form (group_concat(x, sep)); with DISTINCT or ORDER BY it parses as an aggregate.
        return { sql: `string_agg(${asText(a[0])}, ${a[1] ? asText(a[1]) : "','"})`, t: "text" };
      case "total":
        return { sql: `COALESCE(sum(${asNumber(a[0]).sql}), 0)::float8`, t: "float" };
      case "random":
        throw new Untranslatable("random() gives different values in PostgreSQL");
      default:
        throw new Untranslatable(`function ${raw}() has no PostgreSQL translation`);
    }
  }

  private aggregate(n: Node, scope: Scope, aliasOk: boolean): E {
    const name = String(n.name).toLowerCase();
    if (n.over) throw new Untranslatable(`window function ${name}() OVER (...) is not translated`);
    const distinct = n.args?.distinct ? "DISTINCT " : "";
    const orderby = n.args?.orderby ? ` ORDER BY ${(n.args.orderby as Node[]).map((o) => `${this.expr(o.expr, scope, aliasOk).sql}${orderSuffix(o)}`).join(", ")}` : "";
    if (n.args?.expr?.type === "star") {
      if (name !== "count") throw new Untranslatable(`${name}(*) is not an aggregate`);
      return { sql: "count(*)", t: "int" };
    }
    const x = this.expr(n.args.expr, scope, aliasOk);
    switch (name) {
      case "count":
        return { sql: `count(${distinct}${x.sql})`, t: "int" };
      case "sum": {
        const v = asNumber(x);
        return { sql: `sum(${distinct}${v.sql})`, t: v.t === "int" ? "numeric" : v.t };
      }
      case "total":
        return { sql: `COALESCE(sum(${distinct}${asNumber(x).sql}), 0)::float8`, t: "float" };
      case "avg":
        return { sql: `avg(${distinct}${asNumber(x).sql})::float8`, t: "float" };
      case "min":
      case "max":
        return { sql: `${name}(${distinct}${x.t === "unknown" ? `${x.sql}::text` : x.sql})`, t: x.t === "unknown" ? "text" : x.t };
      case "group_concat": {
        const sepNode = n.args.separator?.value ?? n.args.separator ?? (n.args.value ? n.args.value[1] : undefined);
        const sep = sepNode && typeof sepNode === "object" ? asText(this.expr(sepNode, scope, aliasOk)) : typeof sepNode === "string" ? ql(sepNode) : "','";
        return { sql: `string_agg(${distinct}${asText(x)}, ${sep}${orderby})`, t: "text" };
      }
      default:
        throw new Untranslatable(`aggregate ${name}() has no PostgreSQL translation`);
    }
  }

  private cast(n: Node, scope: Scope, aliasOk: boolean): E {
    const x = this.expr(n.expr, scope, aliasOk);
    const target = String(n.target?.[0]?.dataType ?? n.target?.dataType ?? "").toUpperCase();
    // SQLite's CAST follows the type affinity of the name (sqlite.org/lang_expr.html#castexpr).
    if (target.includes("INT")) {
      if (x.t === "int") return { sql: `(${x.sql})::bigint`, t: "int" };
      const v = asNumber(x);
      return { sql: `trunc(${v.sql})::bigint`, t: "int" };
    }
    if (target.includes("CHAR") || target.includes("CLOB") || target.includes("TEXT")) return { sql: `(${asText(x)})::text`, t: "text" };
    if (target.includes("REAL") || target.includes("FLOA") || target.includes("DOUB")) return { sql: `(${asNumber(x).sql})::float8`, t: "float" };
    if (target.includes("BLOB") || target === "") return x.t === "bytea" ? x : { sql: `convert_to(${asText(x)}, 'UTF8')`, t: "bytea" };
    return asNumber(x);
  }

  private caseExpr(n: Node, scope: Scope, aliasOk: boolean): E {
    const subject = n.expr ? this.expr(n.expr, scope, aliasOk) : null;
    const whens: string[] = [];
    const results: E[] = [];
    let elseE: E | null = null;
    for (const arm of n.args as Node[]) {
      if (arm.type === "when") {
        if (subject) {
          const [a, b] = comparable(subject, this.expr(arm.cond, scope, aliasOk));
          whens.push(`${a} = ${b}`);
        } else whens.push(this.cond(arm.cond, scope, aliasOk));
        results.push(this.expr(arm.result, scope, aliasOk));
      } else elseE = this.expr(arm.result, scope, aliasOk);
    }
    const [xs, t] = unify(elseE ? [...results, elseE] : results);
    const body = whens.map((w, i) => `WHEN ${w} THEN ${xs[i]}`).join(" ");
    return { sql: `(CASE ${body}${elseE ? ` ELSE ${xs[xs.length - 1]}` : ""} END)`, t };
  }
}

interface Core {
  cols: { name: string; e: E }[];
  scope: Scope;
  render: () => string;
}

function orderSuffix(o: Node): string {
  // SQLite sorts NULLs first ascending and last descending; PostgreSQL the other way round.
  return String(o.type ?? "").toUpperCase() === "DESC" ? " DESC NULLS LAST" : " NULLS FIRST";
}

function mergedType(ts: T[]): T {
  const real = ts.filter((t) => t !== "null" && t !== "unknown");
  if (real.length === 0) return "text";
  if (real.every(isNum)) return real.includes("float") ? "float" : real.includes("numeric") ? "numeric" : "int";
  return real.every((t) => t === real[0]) ? real[0] : "text";
}

export function asText(e: E): string {
  if (e.t === "text" || e.t === "unknown" || e.t === "null") return e.sql;
  if (e.t === "bool") return `(${e.sql})::int::text`;
  if (e.t === "bytea") return `convert_from(${e.sql}, 'UTF8')`;
  // SQLite writes an integral REAL with ".0" (30.0 -> '30.0'); PostgreSQL would write '30'.
  // NUMERIC-affinity values are integers or REALs in SQLite (3, 12.5); numeric(10,2) would print 3.00.
  if (e.t === "numeric") return `trim_scale(${e.sql})::text`;
  if (e.t === "float") return `(CASE WHEN (${e.sql}) = trunc(${e.sql}) AND abs(${e.sql}) < 1e15 THEN trunc(${e.sql})::bigint::text || '.0' ELSE (${e.sql})::text END)`;
  return `(${e.sql})::text`;
}

export function asNumber(e: E): E {
  if (isNum(e.t) || e.t === "null") return e;
  if (e.t === "bool") return { sql: `(${e.sql})::int`, t: "int" };
  if (e.lit !== undefined) {
    const v = literalNumber(e.lit);
    return { sql: v, t: /^[-+]?\d+$/.test(v) ? "int" : "float", num: v };
  }
  if (e.t === "text") return { sql: textToNumber(e.sql), t: "numeric" };
  throw new Untranslatable(`arithmetic on a ${e.t} value has no faithful translation`);
}

export function toBool(e: E): string {
  if (e.t === "bool") return e.sql;
  if (e.t === "null") return "NULL::boolean";
  if (e.num !== undefined) return Number(e.num) !== 0 ? "TRUE" : "FALSE";
  return `(${asNumber(e).sql} <> 0)`;
}

const BOOL_WORDS: Record<string, string> = { "1": "TRUE", "0": "FALSE", true: "TRUE", false: "FALSE", t: "TRUE", f: "FALSE" };
const DATEISH: T[] = ["timestamp", "timestamptz", "date"];

/**
 * Both sides of a comparison as PostgreSQL compares them the way SQLite would (its affinity
 * rules, sqlite.org/datatype3.html 4.2): a number against a text column compares as text, a text
 * value against a number column as a number, 0/1 against a boolean as FALSE/TRUE, and a date/time
 * function's text against a timestamp column as timestamps.
 */
export function comparable(l: E, r: E): [string, string] {
  const one = (x: E, y: E): [string, string] | null => {
    if (x.t === "bool") {
      const w = y.num ?? y.lit;
      if (w !== undefined && BOOL_WORDS[w.toLowerCase()]) return [x.sql, BOOL_WORDS[w.toLowerCase()]];
      if (isNum(y.t)) return [`(${x.sql})::int`, y.sql];
      if (isText(y.t)) return [`(${x.sql})::int`, asNumber(y).sql];
      return null;
    }
    // A column's affinity decides: number column against text -> numbers; otherwise text.
    if (x.t === "text" && isNum(y.t)) return y.col ? [textToNumber(x.sql), y.sql] : [x.sql, y.num !== undefined ? ql(y.num) : asText(y)];
    if (isNum(x.t) && y.t === "unknown") {
      if (/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(y.lit ?? "")) return [x.sql, String(y.lit).trim()];
      // A number never equals non-numeric text in SQLite; compare as text so the result is the same.
      return [asText(x), y.sql];
    }
    if (isNum(x.t) && y.t === "text") return x.col || !y.col ? [x.sql, textToNumber(y.sql)] : [asText(x), y.sql];
    if (DATEISH.includes(x.t) && isText(y.t)) return [x.sql, y.ts ?? (y.lit !== undefined ? y.sql : `(${y.sql})::${x.t === "date" ? "date" : "timestamp"}`)];
    if (DATEISH.includes(x.t) && isNum(y.t)) throw new Untranslatable("compares a date/time column with a number (SQLite compares them as different storage classes)");
    return null;
  };
  const a = one(l, r);
  if (a) return a;
  const b = one(r, l);
  if (b) return [b[1], b[0]];
  if (l.t === "unknown" && r.t === "unknown") return [l.sql, `${r.sql}::text`];
  return [l.sql, r.sql];
}

/** An untyped literal that is not a number forces text when mixed with numbers (SQLite keeps both). */
function classOf(e: E): T {
  if (e.t === "unknown" && !/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(e.lit ?? "")) return "text";
  return e.t;
}

/** Arguments of COALESCE/CASE/GREATEST: one PostgreSQL type; text wins when SQLite mixes classes. */
function unify(es: E[]): [string[], T] {
  const t = mergedType(es.map(classOf));
  if (t === "text") return [es.map((e) => (e.t === "unknown" ? `${e.sql}::text` : asText(e))), "text"];
  return [es.map((e) => e.sql), t];
}

function globToRegex(glob: string): string {
  let re = "^";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === "*") re += ".*";
    else if (ch === "?") re += ".";
    else if (ch === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let cls = glob.slice(i + 1, end);
      if (cls.startsWith("^")) cls = "^" + cls.slice(1).replace(/\\/g, "\\\\");
      else cls = cls.replace(/\\/g, "\\\\");
      re += `[${cls}]`;
      i = end;
    } else re += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return re + "$";
}

export { Untranslatable };
