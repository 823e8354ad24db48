/**
 * verify's target-sum work items (verify.ts sumParts): big tables in heap page ranges that cover
 * every page exactly once (the last range open-ended), largest items first.
 */
import { sumParts } from "../../../migrate/engine/verify";

describe("sumParts", () => {
  it("splits a table holding more than its share into page ranges, largest items first", () => {
    // ARMP scale 10 in pages: publication holds ~80 % of all pages.
    const parts = sumParts(
      [
        { table: "organization", pages: 60 },
        { table: "publication", pages: 66900 },
        { table: "publication_author", pages: 6500 },
        { table: "researcher", pages: 5000 },
        { table: "empty", pages: 0 },
      ],
      2,
    );
    expect(parts.map((p) => [p.table, p.pages, p.first, p.where, p.params])).toEqual([
      // A share is a quarter of 78,460 pages (two connections): 66,900 / 19,615 rounds to 3 parts.
      ["publication", 22300, true, "ctid >= $1::tid AND ctid < $2::tid", ["(0,0)", "(22300,0)"]],
      ["publication", 22300, false, "ctid >= $1::tid AND ctid < $2::tid", ["(22300,0)", "(44600,0)"]],
      ["publication", 22300, false, "ctid >= $1::tid", ["(44600,0)"]],
      ["publication_author", 6500, true, "", []],
      ["researcher", 5000, true, "", []],
      ["organization", 60, true, "", []],
      ["empty", 0, true, "", []],
    ]);
  });

  it("leaves every table whole when none is bigger than its share, or with one connection and even tables", () => {
    expect(sumParts([{ table: "a", pages: 10 }, { table: "b", pages: 12 }, { table: "c", pages: 9 }, { table: "d", pages: 11 }], 2).map((p) => `${p.table}:${p.where}`)).toEqual(["b:", "d:", "a:", "c:"]);
    expect(sumParts([{ table: "a", pages: 10 }, { table: "b", pages: 10 }], 1).map((p) => `${p.table}:${p.where}`)).toEqual(["a:", "b:"]);
  });
});
