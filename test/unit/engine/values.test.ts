/** Value normalisation: what COPY receives for each SQLite value, and the COPY text escaping. */
import { copyEscape, normaliseDecimal, toPgText, unixToMicros, ValueError, type SqliteValue, type ValueTarget } from "../../../migrate/engine/values";

const as = (kind: ValueTarget["kind"], scale?: number): ValueTarget => (scale === undefined ? { kind } : { kind, scale });

describe("toPgText", () => {
  it("booleans: 0/1 as integers or text and the common spellings", () => {
    const vals: SqliteValue[] = [1n, 0n, 1, 0, "1", "0", "true", "FALSE", " t ", "f", "yes", "No", "on", "off"];
    expect(vals.map((v) => toPgText(v, as("bool")))).toEqual(["t", "f", "t", "f", "t", "f", "t", "f", "t", "f", "t", "f", "t", "f"]);
    expect(() => toPgText("maybe", as("bool"))).toThrow(new ValueError(`"maybe" is not a boolean spelling (0/1, true/false, t/f, yes/no, on/off)`));
    expect(() => toPgText(2n, as("bool"))).toThrow(ValueError);
  });

  it("timestamps: ISO text (offsets to UTC), Unix seconds and milliseconds", () => {
    const vals: SqliteValue[] = [
      "2024-02-29 13:45:01",
      "2024-02-29T13:45:01.120Z",
      "2024-02-29T13:45+02:00",
      "2024/02/29",
      1709214301n,
      1709214301123n,
      1709214301.5,
      "1709214301",
    ];
    expect(vals.map((v) => toPgText(v, as("timestamp")))).toEqual([
      "2024-02-29 13:45:01",
      "2024-02-29 13:45:01.12",
      "2024-02-29 11:45:00",
      "2024-02-29 00:00:00",
      "2024-02-29 13:45:01",
      "2024-02-29 13:45:01.123",
      "2024-02-29 13:45:01.5",
      "2024-02-29 13:45:01",
    ]);
    expect(toPgText(0n, as("timestamptz"))).toBe("1970-01-01 00:00:00+00");
    expect(() => toPgText("next tuesday", as("timestamp"))).toThrow(ValueError);
  });

  it("dates: ISO text and midnight Unix time; a time of day is refused rather than dropped", () => {
    expect([toPgText("2021-02-03", as("date")), toPgText("2021-02-03 00:00:00", as("date")), toPgText(1612310400n, as("date"))]).toEqual(["2021-02-03", "2021-02-03", "2021-02-03"]);
    expect(() => toPgText("2021-02-03 10:00", as("date"))).toThrow(new ValueError(`"2021-02-03 10:00" has a time of day; a date column would drop it (cast the column to timestamp)`));
    // The date is not range-checked here: PostgreSQL rejects 2021-02-30 and copy reports the row (ROW_REJECTED).
    expect(toPgText("2021-02-30", as("date"))).toBe("2021-02-30");
  });

  it("unix time: |n| >= 1e11 is milliseconds", () => {
    expect([unixToMicros(99_999_999_999n), unixToMicros(100_000_000_000n), unixToMicros(-5n), unixToMicros(1.25)]).toEqual([99_999_999_999_000_000n, 100_000_000_000_000n, -5_000_000n, 1_250_000n]);
  });

  it("integers and numeric text", () => {
    expect([toPgText(9007199254740993n, as("int")), toPgText(" 42 ", as("int")), toPgText("abc", as("int")), toPgText(3, as("int"))]).toEqual(["9007199254740993", "42", "abc", "3"]);
    expect([toPgText("12.5", as("numeric", 2)), toPgText(1.005, as("numeric", 2)), toPgText("1e3", as("numeric")), toPgText("-0.004", as("numeric", 2)), toPgText(".5", as("numeric"))]).toEqual(["12.50", "1.01", "1000", "0.00", "0.5"]);
    expect([normaliseDecimal("00012.3400"), normaliseDecimal("1.5e-3"), normaliseDecimal("2.675", 2), normaliseDecimal("-2.675", 2), normaliseDecimal("x1")]).toEqual(["12.3400", "0.0015", "2.68", "-2.68", null]);
    expect(toPgText(0.1, as("float"))).toBe("0.1");
  });

  it("fast paths (Unix bigint times, plain ISO text, 0/1, plain decimals) give the general path's answers", () => {
    let x = 7;
    const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    const mismatches: string[] = [];
    for (let i = 0; i < 2000; i++) {
      // Seconds, and milliseconds (some with a zero last digit): the number path is the general one.
      const sec = BigInt(next() % 2_000_000_000) * BigInt(1 + (next() % 2));
      const ms = sec * 1000n + BigInt((next() % 100) * 10);
      for (const v of [sec, ms]) {
        for (const kind of ["timestamp", "timestamptz"] as const) {
          if (toPgText(v, as(kind)) !== toPgText(Number(v), as(kind))) mismatches.push(`${kind} ${v}`);
        }
      }
      const iso = toPgText(sec, as("timestamp")) as string;
      if (toPgText(iso, as("timestamp")) !== toPgText(` ${iso}`, as("timestamp"))) mismatches.push(`iso ${iso}`);
      const day = iso.slice(0, 10);
      if (toPgText(day, as("date")) !== toPgText(` ${day}`, as("date"))) mismatches.push(`date ${day}`);
      const dec = (next() % 2 ? -1 : 1) * (next() % 1_000_000) / [1, 10, 100, 1000][next() % 4];
      for (const scale of [0, 2, 3]) {
        if (toPgText(dec, as("numeric", scale)) !== toPgText(String(dec), as("numeric", scale))) mismatches.push(`numeric(${scale}) ${dec}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect([toPgText(1709214301120n, as("timestamp")), toPgText(2275.8, as("numeric", 2)), toPgText(5n, as("numeric", 2)), toPgText(-0.5, as("numeric", 2)), toPgText(1n, as("bool")), toPgText(0n, as("bool"))]).toEqual(["2024-02-29 13:45:01.12", "2275.80", "5.00", "-0.50", "t", "f"]);
  });

  it("bytea as hex, for blobs and for text cast to bytea", () => {
    expect([toPgText(Buffer.from([0, 0xff, 0x10]), as("bytea")), toPgText("é", as("bytea")), toPgText(Buffer.from([1]), as("other"))]).toEqual(["\\x00ff10", "\\xc3a9", "\\x01"]);
    expect(() => toPgText(Buffer.from([1]), as("text"))).toThrow(new ValueError("a BLOB value in a text column"));
  });

  it("NULL stays null whatever the target", () => {
    expect((["int", "text", "bool", "timestamp", "bytea"] as const).map((k) => toPgText(null, as(k)))).toEqual([null, null, null, null, null]);
  });
});

describe("copyEscape (COPY text format)", () => {
  it("escapes backslash, tab, newline and carriage return, and nothing else", () => {
    expect(copyEscape("a\\b\tc\nd\re")).toBe("a\\\\b\\tc\\nd\\re");
    expect(copyEscape("plain 'quoted' \"text\" ü \\N")).toBe("plain 'quoted' \"text\" ü \\\\N");
    expect(copyEscape("")).toBe("");
  });
});
