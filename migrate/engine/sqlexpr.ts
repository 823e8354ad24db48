/**
 * A parser for the SQLite expressions found in DEFAULT clauses and generated columns
 * (https://sqlite.org/lang_expr.html), producing a small tree the translators in defaults.ts
 * type-check and render for PostgreSQL. It covers literals, identifiers, unary and binary
 * operators with SQLite's precedence, function calls, CAST and CASE. Anything else (subqueries,
 * IN, LIKE, BETWEEN, COLLATE, window functions) is a ParseError: callers then report the
 * expression instead of guessing.
 */

export type Expr =
  | { t: "num"; text: string }
  | { t: "str"; value: string }
  /** A "double-quoted" word: a column when one has that name, else (SQLite's fallback) a string. */
  | { t: "dq"; value: string }
  | { t: "blob"; hex: string }
  | { t: "null" }
  | { t: "bool"; value: boolean }
  | { t: "now"; name: "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME" }
  | { t: "col"; name: string }
  | { t: "unary"; op: "-" | "+" | "~" | "NOT"; e: Expr }
  | { t: "bin"; op: string; l: Expr; r: Expr }
  | { t: "call"; name: string; args: Expr[] }
  | { t: "cast"; e: Expr; type: string }
  | { t: "case"; base: Expr | null; whens: [Expr, Expr][]; else: Expr | null };

export class ParseError extends Error {}

interface Tok {
  kind: "num" | "str" | "blob" | "word" | "qname" | "dq" | "op";
  text: string;
}

const OPS = ["||", "->>", "->", "<<", ">>", "<=", ">=", "==", "!=", "<>", "*", "/", "%", "+", "-", "&", "|", "<", ">", "=", "~", "(", ")", ","];

function tokens(sql: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const quoted = (close: string): string => {
    let text = "";
    i++;
    for (;;) {
      if (i >= sql.length) throw new ParseError("unterminated quote");
      if (sql[i] === close) {
        if (close !== "]" && sql[i + 1] === close) {
          text += close;
          i += 2;
          continue;
        }
        i++;
        return text;
      }
      text += sql[i++];
    }
  };
  while (i < sql.length) {
    const ch = sql[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (sql.startsWith("--", i)) {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl;
      continue;
    }
    if (sql.startsWith("/*", i)) {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
      continue;
    }
    if ((ch === "x" || ch === "X") && sql[i + 1] === "'") {
      i++;
      const hex = quoted("'");
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new ParseError("malformed blob literal");
      out.push({ kind: "blob", text: hex.toLowerCase() });
      continue;
    }
    if (ch === "'") {
      out.push({ kind: "str", text: quoted("'") });
      continue;
    }
    if (ch === '"') {
      out.push({ kind: "dq", text: quoted('"') });
      continue;
    }
    if (ch === "`") {
      out.push({ kind: "qname", text: quoted("`") });
      continue;
    }
    if (ch === "[") {
      out.push({ kind: "qname", text: quoted("]") });
      continue;
    }
    const num = /^(?:0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/.exec(sql.slice(i));
    if (num && !/[\w$]/.test(sql[i + num[0].length] ?? "")) {
      out.push({ kind: "num", text: num[0] });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/.exec(sql.slice(i));
    if (word) {
      out.push({ kind: "word", text: word[0] });
      i += word[0].length;
      continue;
    }
    const op = OPS.find((o) => sql.startsWith(o, i));
    if (!op) throw new ParseError(`unexpected character ${JSON.stringify(ch)}`);
    out.push({ kind: "op", text: op });
    i += op.length;
  }
  return out;
}

/** Binary operators by SQLite precedence, loosest first (https://sqlite.org/lang_expr.html#operators). */
const LEVELS: string[][] = [["OR"], ["AND"], ["=", "==", "!=", "<>", "IS"], ["<", "<=", ">", ">="], ["&", "|", "<<", ">>"], ["+", "-"], ["*", "/", "%"], ["||", "->", "->>"]];

/** Parses one whole expression; throws ParseError when it is not in the supported subset. */
export function parseExpr(sql: string): Expr {
  const toks = tokens(sql);
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const isWord = (w: string, t = peek()): boolean => t?.kind === "word" && t.text.toUpperCase() === w;
  const isOp = (o: string, t = peek()): boolean => t?.kind === "op" && t.text === o;
  const expect = (o: string): void => {
    if (!isOp(o) && !isWord(o)) throw new ParseError(`expected ${o}`);
    p++;
  };
  const binary = (level: number): Expr => {
    if (level === LEVELS.length) return unary();
    if (level === 2) {
      // NOT binds looser than comparisons and tighter than AND.
      if (isWord("NOT")) {
        p++;
        return { t: "unary", op: "NOT", e: binary(level) };
      }
    }
    let l = binary(level + 1);
    for (;;) {
      const t = peek();
      if (!t) return l;
      const name = t.kind === "word" ? t.text.toUpperCase() : t.kind === "op" ? t.text : "";
      if (!LEVELS[level].includes(name)) return l;
      p++;
      let op = name;
      if (op === "IS" && isWord("NOT")) {
        p++;
        op = "IS NOT";
      }
      l = { t: "bin", op, l, r: binary(level + 1) };
    }
  };
  const unary = (): Expr => {
    const t = peek();
    if (t?.kind === "op" && (t.text === "-" || t.text === "+" || t.text === "~")) {
      p++;
      return { t: "unary", op: t.text as "-" | "+" | "~", e: unary() };
    }
    return primary();
  };
  const typeName = (): string => {
    const words: string[] = [];
    while (peek()?.kind === "word") words.push(toks[p++].text);
    if (isOp("(")) {
      let depth = 0;
      let text = "";
      do {
        const x = toks[p++];
        if (!x) throw new ParseError("unterminated type");
        if (isOp("(", x)) depth++;
        if (isOp(")", x)) depth--;
        text += x.text;
      } while (depth > 0);
      words.push(text);
    }
    if (words.length === 0) throw new ParseError("expected a type name");
    return words.join(" ");
  };
  const primary = (): Expr => {
    const t = toks[p++];
    if (!t) throw new ParseError("unexpected end of expression");
    switch (t.kind) {
      case "num":
        return { t: "num", text: t.text };
      case "str":
        return { t: "str", value: t.text };
      case "blob":
        return { t: "blob", hex: t.text };
      case "dq":
        return { t: "dq", value: t.text };
      case "qname":
        return { t: "col", name: t.text };
      case "op":
        if (t.text === "(") {
          const e = binary(0);
          expect(")");
          return e;
        }
        throw new ParseError(`unexpected ${t.text}`);
      case "word": {
        const up = t.text.toUpperCase();
        if (up === "NULL") return { t: "null" };
        if (up === "TRUE" || up === "FALSE") return { t: "bool", value: up === "TRUE" };
        if (up === "CURRENT_TIMESTAMP" || up === "CURRENT_DATE" || up === "CURRENT_TIME") return { t: "now", name: up };
        if (up === "CAST") {
          expect("(");
          const e = binary(0);
          expect("AS");
          const type = typeName();
          expect(")");
          return { t: "cast", e, type };
        }
        if (up === "CASE") {
          const base = isWord("WHEN") ? null : binary(0);
          const whens: [Expr, Expr][] = [];
          while (isWord("WHEN")) {
            p++;
            const w = binary(0);
            expect("THEN");
            whens.push([w, binary(0)]);
          }
          if (whens.length === 0) throw new ParseError("CASE without WHEN");
          let els: Expr | null = null;
          if (isWord("ELSE")) {
            p++;
            els = binary(0);
          }
          expect("END");
          return { t: "case", base, whens, else: els };
        }
        if (["SELECT", "EXISTS", "RAISE", "NOT"].includes(up)) throw new ParseError(`${up} is not supported here`);
        if (isOp("(")) {
          p++;
          const args: Expr[] = [];
          if (isWord("DISTINCT") || isOp("*")) throw new ParseError("aggregate call");
          if (!isOp(")")) {
            args.push(binary(0));
            while (isOp(",")) {
              p++;
              args.push(binary(0));
            }
          }
          expect(")");
          if (isWord("FILTER") || isWord("OVER")) throw new ParseError("window or aggregate call");
          return { t: "call", name: t.text.toLowerCase(), args };
        }
        return { t: "col", name: t.text };
      }
    }
  };
  const e = binary(0);
  if (p < toks.length) {
    const rest = toks[p];
    throw new ParseError(`unexpected ${rest.kind === "str" ? "string" : rest.text}`);
  }
  return e;
}

/** Every function name called anywhere in the tree (lower case). */
export function calledFunctions(e: Expr): string[] {
  const out: string[] = [];
  const walk = (x: Expr): void => {
    switch (x.t) {
      case "call":
        out.push(x.name);
        x.args.forEach(walk);
        return;
      case "unary":
      case "cast":
        walk(x.e);
        return;
      case "bin":
        walk(x.l);
        walk(x.r);
        return;
      case "case":
        if (x.base) walk(x.base);
        for (const [w, v] of x.whens) {
          walk(w);
          walk(v);
        }
        if (x.else) walk(x.else);
        return;
      default:
        return;
    }
  };
  walk(e);
  return out;
}
