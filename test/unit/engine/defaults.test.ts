/** The SQLite DEFAULT and generated-expression translators, form by form, exact output text (no servers). */
import { translateDefault, translateGenerated } from "../../../migrate/engine/defaults";
import { parseExpr, ParseError } from "../../../migrate/engine/sqlexpr";
import { mapDeclaredType, kindOfPgType, type ColumnMapping } from "../../../migrate/engine/typemap";

function col(declType: string, pgType = mapDeclaredType(declType).pgType, column = "c"): ColumnMapping {
  return { column, declType, pgType, ...kindOfPgType(pgType), identity: false, reason: "", overridden: false };
}
const sql = (decl: string, dflt: string, pgType?: string): string | null => {
  const r = translateDefault(dflt, col(decl, pgType));
  if (r.dropped) throw new Error(`unexpectedly dropped: ${r.dropped}`);
  return r.sql;
};
const dropped = (decl: string, dflt: string, pgType?: string): string => {
  const r = translateDefault(dflt, col(decl, pgType));
  if (r.sql !== null || !r.dropped) throw new Error(`unexpectedly translated: ${String(r.sql)}`);
  return r.dropped;
};

describe("constant defaults: the value SQLite stores, converted as the copy converts it", () => {
  it.each([
    // numbers, signed, hex, exponents
    ["INTEGER", "-1", "-1"],
    ["INTEGER", "+2", "2"],
    ["INTEGER", "0x1F", "31"],
    ["INTEGER", "0xFFFFFFFFFFFFFFFF", "-1"],
    ["INTEGER", "9223372036854775807", "9223372036854775807"],
    ["REAL", "1e3", "1000"],
    ["REAL", ".5", "0.5"],
    // SQLite stores a REAL -0.0 default as 0 (what the copy then reads).
    ["REAL", "-0.0", "0"],
    ["INTEGER", "1.0", "1"],
    ["INTEGER", "(1 + 2) * 3", "9"],
    ["NUMERIC(5,2)", "'1.50'", "1.50"],
    ["NUMERIC(5,2)", "-3", "-3.00"],
    ["DECIMAL", "'1e2'", "100"],
    // strings, double-quoted strings SQLite takes as literals
    ["TEXT", "'it''s'", "'it''s'"],
    ["TEXT", `""`, "''"],
    ["TEXT", `"0"`, "'0'"],
    ["INTEGER", `"0"`, "0"],
    ["TEXT", "0", "'0'"],
    ["TEXT", "1.5", "'1.5'"],
    ["VARCHAR(10)", "12345", "'12345'"],
    ["TEXT", "'a' || 'b' || 1", "'ab1'"],
    ["TEXT", "lower('ABC')", "'abc'"],
    ["TEXT", "ifnull(NULL, 'x')", "'x'"],
    ["TEXT", "abc", "'abc'"],
    // Forms the parser does not cover are still evaluated by SQLite.
    ["INTEGER", "(2 IN (1, 2))", "1"],
    ["TEXT", "('b' BETWEEN 'a' AND 'c')", "'1'"],
    // blobs, booleans, JSON
    ["BLOB", "X'CAFE'", "'\\xcafe'"],
    ["BLOB", "'abc'", "'\\x616263'"],
    ["BOOLEAN", "TRUE", "true"],
    ["BOOLEAN", "0", "false"],
    ["BOOLEAN", "'yes'", "true"],
    ["BOOLEAN", "'off'", "false"],
    ["JSON", "'{}'", "'{}'"],
    ["JSON", `'{"a": [1, 2]}'`, `'{"a": [1, 2]}'`],
    // dates and times: numbers are Unix time, ISO text is normalised to UTC
    ["DATETIME", "0", "'1970-01-01 00:00:00'"],
    ["DATETIME", "'0'", "'1970-01-01 00:00:00'"],
    ["TIMESTAMP", "1700000000000", "'2023-11-14 22:13:20'"],
    ["DATETIME", "'2020-01-01T10:00:00+02:00'", "'2020-01-01 08:00:00'"],
    ["DATE", "'2020-02-29'", "'2020-02-29'"],
    ["DATE", "0", "'1970-01-01'"],
  ])("%s DEFAULT %s -> %s", (decl, dflt, expected) => {
    expect(sql(decl, dflt)).toBe(expected);
  });

  it("timestamptz columns get the UTC offset the copy writes", () => {
    expect(sql("DATETIME", "0", "timestamptz")).toBe("'1970-01-01 00:00:00+00'");
  });

  it("NULL, and constants that evaluate to NULL, are no default at all (and not a dropped one)", () => {
    expect(translateDefault("NULL", col("TEXT"))).toEqual({ sql: null });
    expect(translateDefault("NULL + 1", col("INTEGER"))).toEqual({ sql: null });
    expect(translateDefault(null, col("INTEGER"))).toEqual({ sql: null });
  });

  it.each([
    ["integer", `'"0"'`, `DEFAULT '"0"' (SQLite stores "\\"0\\"") is not a 64-bit integer for bigint`],
    ["INTEGER", "'abc'", `DEFAULT 'abc' (SQLite stores "abc") is not a 64-bit integer for bigint`],
    ["INTEGER", "9223372036854775808", "DEFAULT 9223372036854775808 (SQLite stores 9223372036854776000) is not a 64-bit integer for bigint"],
    ["VARCHAR(3)", "12345", `DEFAULT 12345 (SQLite stores "12345") is longer than varchar(3) allows`],
    ["NUMERIC(3,1)", "1234", "DEFAULT 1234 (SQLite stores 1234) does not fit numeric(3,1)"],
    ["JSON", "'{bad'", `DEFAULT '{bad' (SQLite stores "{bad") is not JSON for jsonb (invalid JSON at offset 1)`],
    ["BOOLEAN", "'maybe'", `DEFAULT 'maybe' (SQLite stores "maybe") cannot be converted for boolean: "maybe" is not a boolean spelling (0/1, true/false, t/f, yes/no, on/off)`],
    ["TEXT", "X'00'", "DEFAULT X'00' (SQLite stores X'00') cannot be converted for text: a BLOB value in a text column"],
    ["DATE", "'2020-01-01 10:00'", `DEFAULT '2020-01-01 10:00' (SQLite stores "2020-01-01 10:00") cannot be converted for date: "2020-01-01 10:00" has a time of day; a date column would drop it (cast the column to timestamp)`],
    ["DATETIME", "'soon'", `DEFAULT 'soon' (SQLite stores "soon") cannot be converted for timestamp: "soon" is not an ISO date/time (YYYY-MM-DD[ HH:MM[:SS[.fff]]][Z|+HH:MM]) or Unix time`],
    ["INTEGER", "random()", "DEFAULT random(): random() gives a new value on every call and PostgreSQL has no function giving the same values; set the default by hand"],
    ["TEXT", "lower(hex(randomblob(16)))", "DEFAULT lower(hex(randomblob(16))): randomblob() gives a new value on every call and PostgreSQL has no function giving the same values; set the default by hand"],
    ["INTEGER", "app_next_id()", "DEFAULT app_next_id(): app_next_id() is not a built-in SQLite function (application-defined?); set the default by hand"],
  ])("%s DEFAULT %s is dropped with the reason", (decl, dflt, reason) => {
    expect(dropped(decl, dflt)).toBe(reason);
  });

  it("text that is not one expression is never run as more than the default", () => {
    expect(dropped("INTEGER", "0); SELECT (1")).toBe(`DEFAULT 0); SELECT (1: SQLite cannot evaluate it outside the source database (near ";": syntax error); set the default by hand`);
  });

  it("a cast override to a type the engine cannot check keeps no default, and says so", () => {
    expect(dropped("TEXT", "'10.0.0.1'", "inet")).toBe(`DEFAULT '10.0.0.1' (SQLite stores "10.0.0.1") is not checked for the cast type inet; set the default by hand (ALTER TABLE ... SET DEFAULT)`);
  });

  it("a cast to uuid carries the default in uuid's own spelling (values.ts normaliseUuid)", () => {
    expect(translateDefault("'6F1E0C4A9B1D4C558D1E2B7A4E9C0F11'", col("TEXT", "uuid"))).toEqual({ sql: "'6f1e0c4a-9b1d-4c55-8d1e-2b7a4e9c0f11'" });
  });
});

describe("clock defaults: the same instant, rendered and converted as SQLite and the copy do", () => {
  const UTC = "now() AT TIME ZONE 'UTC'";
  it.each([
    ["DATETIME", "CURRENT_TIMESTAMP", `date_trunc('second', ${UTC})`],
    ["DATETIME", "datetime('now')", `date_trunc('second', ${UTC})`],
    ["DATETIME", "datetime()", `date_trunc('second', ${UTC})`],
    ["TIMESTAMP", "strftime('%Y-%m-%d %H:%M:%f', 'now')", `date_trunc('milliseconds', ${UTC})`],
    ["TIMESTAMP", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", `date_trunc('milliseconds', ${UTC})`],
    ["DATETIME", "unixepoch('now')", `date_trunc('second', ${UTC})`],
    ["DATETIME", "strftime('%s','now')", `date_trunc('second', ${UTC})`],
    ["DATETIME", "CURRENT_DATE", `date_trunc('day', ${UTC})`],
    ["DATETIME", "datetime('now', 'start of day', '+1 day')", `date_trunc('day', (date_trunc('day', ${UTC})) + interval '1 days')`],
    ["DATETIME", "datetime('now', '-2 hours', 'subsec')", `date_trunc('milliseconds', (${UTC}) - interval '2 hours')`],
    ["DATE", "CURRENT_DATE", `((${UTC})::date)`],
    ["DATE", "date('now')", `((${UTC})::date)`],
    ["DATE", "datetime('now', 'start of month')", `((date_trunc('month', ${UTC}))::date)`],
    ["TEXT", "CURRENT_TIMESTAMP", `to_char(${UTC}, 'YYYY-MM-DD HH24:MI:SS')`],
    ["TEXT", "CURRENT_DATE", `to_char(${UTC}, 'YYYY-MM-DD')`],
    ["TEXT", "CURRENT_TIME", `to_char(${UTC}, 'HH24:MI:SS')`],
    ["TEXT", "time('now', 'subsec')", `to_char(${UTC}, 'HH24:MI:SS.MS')`],
    ["TEXT", "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", `to_char(${UTC}, 'YYYY"-"MM"-"DD"T"HH24":"MI":"SS"Z"')`],
    ["TEXT", "strftime('%j/100%%', 'now')", `to_char(${UTC}, 'DDD"/100%"')`],
    ["VARCHAR(10)", "date('now')", `to_char(${UTC}, 'YYYY-MM-DD')`],
    ["TEXT", "unixepoch()", `floor(extract(epoch from ${UTC}))::bigint::text`],
    ["INTEGER", "unixepoch()", `floor(extract(epoch from ${UTC}))::bigint`],
    ["INTEGER", "strftime('%s', 'now')", `floor(extract(epoch from ${UTC}))::bigint`],
    ["INTEGER", "strftime('%Y', 'now')", `to_char(${UTC}, 'YYYY')::bigint`],
    ["INTEGER", "strftime('%s', 'now') * 1000", `(floor(extract(epoch from ${UTC}))::bigint * 1000)`],
    ["INTEGER", "CAST(strftime('%s', 'now') AS INTEGER)", `floor(extract(epoch from ${UTC}))::bigint`],
    ["REAL", "julianday('now')", `(extract(epoch from date_trunc('milliseconds', ${UTC})) / 86400 + 2440587.5)::double precision`],
    ["NUMERIC", "julianday('now')", `(extract(epoch from date_trunc('milliseconds', ${UTC})) / 86400 + 2440587.5)::double precision::text::numeric`],
    ["REAL", "unixepoch()", `floor(extract(epoch from ${UTC}))::bigint::double precision`],
  ])("%s DEFAULT %s -> %s", (decl, dflt, expected) => {
    expect(translateDefault(dflt, col(decl))).toEqual({ sql: expected });
  });

  it("timestamptz: the same instant as an instant", () => {
    expect(sql("DATETIME", "CURRENT_TIMESTAMP", "timestamptz")).toBe("date_trunc('second', CURRENT_TIMESTAMP)");
    expect(sql("DATETIME", "datetime('now', '+1 day')", "timestamptz")).toBe(`((date_trunc('second', (${UTC}) + interval '1 days')) AT TIME ZONE 'UTC')`);
  });

  it("'localtime' is carried as this machine's zone, with a note saying so", () => {
    const saved = process.env.TZ;
    process.env.TZ = "Europe/Berlin";
    try {
      expect(translateDefault("DATETIME('now', 'localtime')", col("datetime"))).toEqual({
        sql: `date_trunc('second', (${UTC}) AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin')`,
        note: "SQLite's 'localtime' is the zone of the machine that wrote the row; carried as 'Europe/Berlin', the zone of the machine that ran the migration (not PostgreSQL's TimeZone setting)",
      });
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it.each([
    ["INTEGER", "CURRENT_TIMESTAMP", "DEFAULT CURRENT_TIMESTAMP gives date-time text, which is not an integer; set the default by hand"],
    ["DATE", "CURRENT_TIMESTAMP", "DEFAULT CURRENT_TIMESTAMP gives date-time text, which the copy does not read as a date (it has a time of day); set the default by hand"],
    ["DATETIME", "CURRENT_TIME", "DEFAULT CURRENT_TIME gives time-of-day text, which the copy does not read as a timestamp; set the default by hand"],
    ["DATETIME", "julianday('now')", "DEFAULT julianday('now') gives a Julian day number, which the copy does not read as a timestamp; set the default by hand"],
    ["DATETIME", "strftime('%Y', 'now')", "DEFAULT strftime('%Y', 'now') gives a number made of date digits, which the copy does not read as a timestamp; set the default by hand"],
    ["TEXT", "julianday('now')", "DEFAULT julianday('now') gives a Julian day number, whose text SQLite renders differently from PostgreSQL; set the default by hand"],
    ["VARCHAR(8)", "CURRENT_TIMESTAMP", "DEFAULT CURRENT_TIMESTAMP renders 19 characters, more than varchar(8) holds; set the default by hand"],
    ["TEXT", "datetime('now', '+1 month')", "DEFAULT datetime('now', '+1 month') is not translated: modifier '+1 month': SQLite and PostgreSQL add months and years differently at month ends; set the default by hand"],
    ["TEXT", "datetime('now', 'weekday 0')", "DEFAULT datetime('now', 'weekday 0') is not translated: modifier 'weekday 0' is not translated; set the default by hand"],
    ["TEXT", "strftime('%w', 'now')", "DEFAULT strftime('%w', 'now') is not translated: strftime format '%w' has a specifier with no to_char equivalent; set the default by hand"],
    ["BOOLEAN", "CURRENT_TIMESTAMP", "DEFAULT CURRENT_TIMESTAMP has no equivalent for boolean; set the default by hand"],
    ["TEXT", "datetime('now') || 'Z'", "DEFAULT datetime('now') || 'Z' is not translated: datetime() gives date-time text here; set the default by hand"],
  ])("%s DEFAULT %s is dropped with the reason", (decl, dflt, reason) => {
    expect(dropped(decl, dflt)).toBe(reason);
  });
});

describe("generated column expressions", () => {
  const cols = [col("INTEGER", "bigint", "a"), col("REAL", "double precision", "b"), col("TEXT", "text", "s"), col("NUMERIC", "numeric", "n"), col("INTEGER", "bigint", "g"), col("BOOLEAN", "boolean", "flag"), col("", "text", "any")];
  const gen = (expr: string, decl = "INTEGER"): ReturnType<typeof translateGenerated> => translateGenerated(expr, col(decl, undefined, "x"), cols, new Set(["g", "x"]));
  it.each([
    ["a * 2", "INTEGER", `("a" * 2)`],
    ["a + b", "REAL", `("a" + "b")`],
    ["a / 2", "INTEGER", `("a" / NULLIF(2, 0))`],
    ["b / 2", "REAL", `("b" / NULLIF(2, 0))`],
    ["a % 3", "INTEGER", `("a" % NULLIF(3, 0))`],
    ["-a", "INTEGER", `(- "a")`],
    ["a * 1.5", "REAL", `("a" * '1.5'::double precision)`],
    ["a * 2", "REAL", `(("a" * 2))::double precision`],
    ["a * 2", "TEXT", `(("a" * 2))::text`],
    ["a * 2", "NUMERIC", `(("a" * 2))::numeric`],
    ["lower(s) || '-' || a", "TEXT", `((lower(("s") COLLATE "C") || '-'::text) || ("a")::text)`],
    ["upper([s])", "TEXT", `upper(("s") COLLATE "C")`],
    ["length(s)", "INTEGER", `length("s")`],
    ["abs(b)", "REAL", `abs("b")`],
    ["coalesce(s, 'none')", "TEXT", `coalesce("s", 'none'::text)`],
    ["ifnull(a, 0)", "INTEGER", `coalesce("a", 0)`],
    ["nullif(a, 0)", "INTEGER", `nullif("a", 0)`],
    ["trim(s)", "TEXT", `btrim("s", ' ')`],
    ["substr(s, 2, 3)", "TEXT", `substr("s", 2, 3)`],
    ["CAST(a AS TEXT)", "TEXT", `("a")::text`],
    ['"a" + 0x10', "INTEGER", `("a" + 16)`],
  ])("AS (%s) in a %s column -> %s", (expr, decl, expected) => {
    expect(gen(expr, decl)).toEqual({ sql: expected });
  });

  it.each([
    ["b || 'x'", "TEXT", "|| on a float (SQLite and PostgreSQL render floats differently)"],
    ["g + 1", "INTEGER", "it refers to the generated column g (PostgreSQL does not allow that)"],
    ["n * 2", "NUMERIC", "column n is numeric, whose SQLite values do not compute the same way"],
    ["flag", "INTEGER", "column flag is boolean, whose SQLite values do not compute the same way"],
    ["printf('%05d', a)", "TEXT", "printf() is not translated"],
    ["round(b)", "REAL", "round() is not translated"],
    ["substr(s, 0, 3)", "TEXT", "substr(text, int, int) is not translated"],
    ["CASE WHEN a > 1 THEN 'big' END", "TEXT", "case expressions are not translated"],
    ["s IN ('a', 'b')", "INTEGER", "the expression is not understood (unexpected IN)"],
    ["b * 2", "INTEGER", "it gives a float, which SQLite would store differently in bigint"],
    ["s", "VARCHAR(3)", "it gives text, which SQLite would store differently in varchar(3)"],
    ["missing + 1", "INTEGER", "no column missing"],
    ["lower(any)", "TEXT", "column any is text, whose SQLite values do not compute the same way"],
    // No declared type is BLOB affinity (bytea until the data decides), which a text expression does not fill the same way.
    ["upper([s])", "", "it gives text, which SQLite would store differently in bytea"],
  ])("AS (%s) in a %s column stays a copied column: %s", (expr, decl, reason) => {
    expect(gen(expr, decl)).toEqual({ sql: null, reason });
  });

  it("an expression that could not be read is reported as such", () => {
    expect(translateGenerated(null, col("INTEGER"), cols, new Set())).toEqual({ sql: null, reason: "its expression could not be read from CREATE TABLE" });
  });
});

describe("the expression parser", () => {
  it("follows SQLite's precedence and reads every literal form", () => {
    expect(parseExpr("1 + 2 * -x || 'a'")).toEqual({
      t: "bin",
      op: "+",
      l: { t: "num", text: "1" },
      r: { t: "bin", op: "*", l: { t: "num", text: "2" }, r: { t: "bin", op: "||", l: { t: "unary", op: "-", e: { t: "col", name: "x" } }, r: { t: "str", value: "a" } } },
    });
    expect(parseExpr(`x'CA' /* c */ IS NOT "q"`)).toEqual({ t: "bin", op: "IS NOT", l: { t: "blob", hex: "ca" }, r: { t: "dq", value: "q" } });
    expect(parseExpr("NOT a = 1 AND b")).toEqual({ t: "bin", op: "AND", l: { t: "unary", op: "NOT", e: { t: "bin", op: "=", l: { t: "col", name: "a" }, r: { t: "num", text: "1" } } }, r: { t: "col", name: "b" } });
  });
  it("refuses what it does not cover", () => {
    expect(() => parseExpr("(SELECT 1)")).toThrow(ParseError);
    expect(() => parseExpr("count(*)")).toThrow(ParseError);
    expect(() => parseExpr("a BETWEEN 1 AND 2")).toThrow(ParseError);
  });
});
