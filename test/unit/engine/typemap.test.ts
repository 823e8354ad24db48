/** Issue 2's type mapping table, SQLite affinity for unknown types, and how PostgreSQL types are classified for values. */
import { kindOfPgType, mapDeclaredType, sqliteAffinity } from "../../../migrate/engine/typemap";

describe("mapDeclaredType", () => {
  it.each([
    ["INTEGER", "bigint"],
    ["INT", "bigint"],
    ["BIGINT", "bigint"],
    ["REAL", "double precision"],
    ["DOUBLE", "double precision"],
    ["DOUBLE PRECISION", "double precision"],
    ["FLOAT", "double precision"],
    ["NUMERIC(12,2)", "numeric(12,2)"],
    ["DECIMAL(10, 3)", "numeric(10,3)"],
    ["NUMERIC(7)", "numeric(7)"],
    ["NUMERIC", "numeric"],
    ["VARCHAR(40)", "varchar(40)"],
    ["NVARCHAR(160)", "varchar(160)"],
    ["CHARACTER(20)", "varchar(20)"],
    ["TEXT", "text"],
    ["CLOB", "text"],
    ["BOOLEAN", "boolean"],
    ["BOOL", "boolean"],
    ["DATE", "date"],
    ["DATETIME", "timestamp"],
    ["TIMESTAMP", "timestamp"],
    ["JSON", "jsonb"],
    ["TIME", "time"],
    ["BLOB", "bytea"],
    // Unknown types: SQLite's affinity rules, in their order (INT wins over everything, CHAR over REAL).
    ["FLOATING POINT", "bigint"],
    ["VARCHAR", "text"],
    ["STRING", "numeric"],
    ["MEDIUMBLOB", "bytea"],
    ["DOUBLE(8,2)", "double precision"],
    ["REALLY", "double precision"],
    ["MONEY", "numeric"],
    ["", "bytea"],
  ])("%j -> %s", (decl, pg) => {
    expect(mapDeclaredType(decl).pgType).toBe(pg);
  });

  it("DATETIME/TIMESTAMP follow the timestamptz option, DATE does not", () => {
    expect(["DATETIME", "TIMESTAMP", "DATE"].map((t) => mapDeclaredType(t, { timestamptz: true }).pgType)).toEqual(["timestamptz", "timestamptz", "date"]);
  });

  it("explains each decision", () => {
    expect(mapDeclaredType("REAL").reason).toBe("REAL: SQLite REAL is an 8-byte IEEE float, never float4");
    expect(mapDeclaredType("WIDGET").reason).toBe("WIDGET has NUMERIC affinity");
    expect(mapDeclaredType("").reason).toBe("no declared type (BLOB affinity: any value, kept as given)");
  });
});

describe("sqliteAffinity", () => {
  it("applies https://sqlite.org/datatype3.html 3.1 in order", () => {
    expect(["TINYINT", "POINT", "NCHAR(5)", "CLOB", "TEXT", "BLOB", "", "REAL", "FLOA", "DOUB", "DECIMAL", "BOOLEAN", "DATE"].map(sqliteAffinity)).toEqual([
      "INTEGER", "INTEGER", "TEXT", "TEXT", "TEXT", "BLOB", "BLOB", "REAL", "REAL", "REAL", "NUMERIC", "NUMERIC", "NUMERIC",
    ]);
  });
});

describe("kindOfPgType (cast overrides and format_type() output)", () => {
  it.each([
    ["integer", { kind: "int" }],
    ["bigint", { kind: "int" }],
    ["double precision", { kind: "float" }],
    ["numeric(12,2)", { kind: "numeric", scale: 2 }],
    ["numeric(7)", { kind: "numeric", scale: 0 }],
    ["numeric", { kind: "numeric" }],
    ["character varying(40)", { kind: "text", maxLength: 40 }],
    ["varchar(9)", { kind: "text", maxLength: 9 }],
    ["text", { kind: "text" }],
    ["boolean", { kind: "bool" }],
    ["date", { kind: "date" }],
    ["timestamp without time zone", { kind: "timestamp" }],
    ["timestamp with time zone", { kind: "timestamptz" }],
    ["bytea", { kind: "bytea" }],
    ["jsonb", { kind: "jsonb" }],
    ["json", { kind: "json" }],
    ["uuid", { kind: "uuid" }],
    ["time without time zone", { kind: "time" }],
    ["time", { kind: "time" }],
    ["time with time zone", { kind: "other" }],
    ["inet", { kind: "other" }],
  ])("%s", (t, kind) => {
    expect(kindOfPgType(t)).toEqual(kind);
  });
});
