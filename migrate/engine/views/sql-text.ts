/**
 * The lexical steps before the parser sees a view body. SQLite accepts identifiers in [brackets]
 * and `backticks` and the postfix operators NOTNULL/ISNULL; node-sql-parser's SQLite grammar reads
 * only "double quotes" and mis-reads some join keywords (NATURAL, CROSS) as table aliases, so the
 * body is normalised token by token here (strings and comments are never touched).
 */
export class Untranslatable extends Error {}

/** The SELECT of a CREATE VIEW statement, or null when the statement has no readable AS. */
export function viewBody(createSql: string): string | null {
  const m = /^\s*CREATE\s+(?:TEMP\w*\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"(?:[^"]|"")*"|\[[^\]]*\]|`[^`]*`|[^\s(]+)(?:\s*\.\s*(?:"(?:[^"]|"")*"|\[[^\]]*\]|`[^`]*`|[^\s(]+))?\s*(?:\((?:[^)"]|"(?:[^"]|"")*")*\)\s*)?AS\b([\s\S]*)$/i.exec(createSql);
  if (!m) return null;
  return m[1].trim().replace(/;\s*$/, "");
}

function dq(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * [x] and `x` become "x"; NOTNULL/ISNULL become IS NOT NULL/IS NULL; CROSS JOIN becomes JOIN (an
 * inner join without ON, which is what CROSS JOIN is); NATURAL joins are refused because the parser
 * would read NATURAL as an alias and silently drop the join condition.
 */
export function normaliseBody(body: string): string {
  let out = "";
  let i = 0;
  const n = body.length;
  while (i < n) {
    const ch = body[i];
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < n) {
        if (body[j] === ch) {
          if (body[j + 1] === ch) j += 2;
          else break;
        } else j++;
      }
      out += body.slice(i, j + 1);
      i = j + 1;
    } else if (ch === "[" || ch === "`") {
      const close = ch === "[" ? "]" : "`";
      let j = i + 1;
      let name = "";
      while (j < n) {
        if (body[j] === close) {
          if (ch === "`" && body[j + 1] === "`") {
            name += "`";
            j += 2;
            continue;
          }
          break;
        }
        name += body[j++];
      }
      out += dq(name);
      i = j + 1;
    } else if (ch === "-" && body[i + 1] === "-") {
      const e = body.indexOf("\n", i);
      out += " ";
      i = e < 0 ? n : e;
    } else if (ch === "/" && body[i + 1] === "*") {
      const e = body.indexOf("*/", i + 2);
      out += " ";
      i = e < 0 ? n : e + 2;
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_$]/.test(body[j])) j++;
      const word = body.slice(i, j);
      const up = word.toUpperCase();
      if (up === "NOTNULL") out += "IS NOT NULL";
      else if (up === "ISNULL") out += "IS NULL";
      else if (up === "NATURAL") throw new Untranslatable("NATURAL JOIN is not supported; write the join with ON or USING");
      else if (up === "CROSS" && /^\s+JOIN\b/i.test(body.slice(j))) out += "";
      else out += word;
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  return out.trim();
}
