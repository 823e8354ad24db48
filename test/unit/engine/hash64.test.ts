/**
 * hash64 must be bit-for-bit PostgreSQL's hashtextextended(text, 0): the expected values below were
 * computed by PostgreSQL 15 (`SELECT lpad(to_hex(hashtextextended(t COLLATE "C", 0)), 16, '0')`);
 * the integration suite compares many more strings against the live server.
 */
import { hashText64 } from "../../../migrate/engine/hash64";
import { combineSums, finishSum64, RowSum } from "../../../migrate/engine/checksum";

describe("hashText64", () => {
  it("equals PostgreSQL's hashtextextended for every tail length class and multi-byte UTF-8", () => {
    const cases: [string, string][] = [
      ["", "9fb1b765a7ea466d"],
      ["a", "31d94c66401370b1"],
      ["abcdefgh", "84bc1e238b1e9c33"],
      ["abcdefghijk", "2b3346a5a78ef3d3"],
      ["abcdefghijkl", "97216e83a1763ad4"],
      ["V2:42NV5:naïve", "f461803e600383dd"],
      ["学习 😀", "37bb064397c42be3"],
    ];
    expect(cases.map(([t]) => [t, hashText64(t)])).toEqual(cases);
  });
});

describe("RowSum (h64)", () => {
  it("sums row hashes modulo 2^64 independently of row order", () => {
    const rows = ["a", "abcdefgh", "abcdefghijk"];
    const fwd = new RowSum("h64");
    const rev = new RowSum("h64");
    rows.forEach((r) => fwd.addText(r));
    [...rows].reverse().forEach((r) => rev.addText(r));
    const expected = (BigInt("0x31d94c66401370b1") + BigInt("0x84bc1e238b1e9c33") + BigInt("0x2b3346a5a78ef3d3")) % (1n << 64n);
    expect(fwd.finish()).toEqual({ rows: 3, checksum: expected.toString(16).padStart(16, "0"), algo: "h64" });
    expect(rev.finish()).toEqual(fwd.finish());
  });

  it("matches PostgreSQL's signed sum after reduction modulo 2^64", () => {
    // PostgreSQL sums hashtextextended as signed bigints; 0x84bc… is negative there.
    const signed = BigInt.asIntN(64, BigInt("0x31d94c66401370b1")) + BigInt.asIntN(64, BigInt("0x84bc1e238b1e9c33"));
    const js = new RowSum("h64");
    js.addText("a");
    js.addText("abcdefgh");
    expect(finishSum64(2, signed)).toEqual(js.finish());
  });
});

describe("combineSums (two split workers' sums)", () => {
  it.each(["h64", "md5"] as const)("equals the %s sum over the union of the rows", (algo) => {
    const rows = Array.from({ length: 50 }, (_, i) => `V${String(i).length}:${i}NV5:naïve`);
    const all = new RowSum(algo);
    const even = new RowSum(algo);
    const odd = new RowSum(algo);
    rows.forEach((r, i) => {
      all.addText(r);
      (i % 2 ? odd : even).addText(r);
    });
    expect(combineSums(even.finish(), odd.finish())).toEqual(all.finish());
    expect(() => combineSums(new RowSum("h64").finish(), new RowSum("md5").finish())).toThrow("cannot add a h64 sum to a md5 sum");
  });
});
