/** Issue 20 item 5: stored numbers read as instants with an epoch, exactly; verification's canonical form. */
import { epochComment, epochOfComment, epochToMicros, instantCanonical, toPgText } from "../../../migrate/engine/values";

describe("epochs", () => {
  it("reads Core Data seconds from 2001-01-01 UTC, Unix ms and Unix seconds", () => {
    expect([599529600, 568036800.25, -31622400n, 0.000065].map((n) => toPgText(n, { kind: "timestamptz", epoch: "coredata" }))).toEqual([
      "2020-01-01 00:00:00+00",
      "2019-01-01 12:00:00.25+00",
      "2000-01-01 00:00:00+00",
      "2001-01-01 00:00:00.000065+00",
    ]);
    expect(toPgText(1577836800123n, { kind: "timestamp", epoch: "unix-ms" })).toBe("2020-01-01 00:00:00.123");
    expect(toPgText(86400n, { kind: "timestamp", epoch: "unix-ms" })).toBe("1970-01-01 00:01:26.4");
    expect(toPgText(0n, { kind: "date", epoch: "coredata" })).toBe("2001-01-01");
  });

  it("rounds a double from its exact value, not from n * 1e6", () => {
    // 1577836800.0000005 is stored as 1577836800.000000476837...: below half a microsecond.
    expect(epochToMicros(1577836800.0000005, "unix")).toBe(1577836800000000n);
    expect(toPgText(1577836800.0000005, { kind: "timestamp" })).toBe("2020-01-01 00:00:00");
  });

  it("verification's canonical value is the stored number in seconds since the origin", () => {
    expect([599529600n, 568036800.25, "599529600", "2001-01-02 00:00:01", null].map((v) => instantCanonical(v, { kind: "timestamp", epoch: "coredata" }))).toEqual([
      "599529600.000000",
      "568036800.250000",
      "599529600.000000",
      "86401.000000",
      null,
    ]);
    expect(instantCanonical(1577836800123n, { kind: "timestamp", epoch: "unix" })).toBe("1577836800.123000");
    expect(instantCanonical(-1.5, { kind: "timestamp", epoch: "unix" })).toBe("-1.500000");
  });

  it("names the epoch in the column comment and reads it back", () => {
    expect(epochComment("coredata")).toBe("armp:epoch=coredata; the SQLite column's numbers were read as seconds since 2001-01-01 00:00:00 UTC (Core Data)");
    expect([epochOfComment(epochComment("unix-ms")), epochOfComment(epochComment("unix")), epochOfComment("a note"), epochOfComment(null)]).toEqual(["unix-ms", "unix", undefined, undefined]);
  });
});
