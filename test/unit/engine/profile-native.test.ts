/**
 * The armp_profile aggregate's cheaper checks (migrate/native/armp_copy.c) give the answers the
 * slower ones gave: numeric(p,s) fit without formatting each REAL, JSON that needs no follow-up
 * read, ISO dates counted in the scan for DATE columns. Needs the built extension (npm run build).
 */
import Database from "better-sqlite3";
import { loadNative } from "../../../migrate/engine/native";

const db = new Database(":memory:");
beforeAll(() => {
  expect(loadNative(db)).toBe(true);
});
afterAll(() => db.close());

/** The twelve counts armp_profile returns for one value under one spec. */
function profile(spec: string, v: unknown): number[] {
  const r = db.prepare("SELECT armp_profile(?, ?) AS p").get(spec, v) as { p: string };
  return r.p.split(",").map(Number);
}

/** numeric(p,s) keeps x exactly: the nearest s-decimal reads back as x and has at most p-s digits before the point. */
function fitsJs(x: number, scale: number, digits: number): boolean {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) throw new Error("outside toFixed's exact range");
  const t = x.toFixed(scale);
  if (Number(t) !== x) return false;
  const ip = t.replace(/^-/, "").split(".")[0].replace(/^0+/, "");
  return ip.length <= digits;
}

describe("armp_profile numeric(p,s) check (s<n> with d<n>)", () => {
  // A deterministic generator: values as applications store them (cents, rates), values just off
  // them, halves at the rounding edge, large and tiny magnitudes.
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const values: number[] = [0, -0, 0.1, 0.125, 0.135, 1.005, 2.675, 99999999.99, 99999999.995, 9999999999.99, 10000000000, -99999999.99, 1e-7, 123456789012.5, 4503599627370.49, 0.30000000000000004, 1 / 3, 1e15, 1e20];
  for (let i = 0; i < 4000; i++) {
    const cents = Math.floor(rnd() * 2e10) - 1e10;
    const small = Math.floor(rnd() * 2e6) - 1e6;
    values.push(cents / 100, cents / 1000, (cents + 0.5) / 100, cents / 100 + 1e-9, rnd() * 10 ** Math.floor(rnd() * 18), small, small / 1000, (small + 0.5) / 1000);
  }
  it.each([
    [12, 2],
    [10, 0],
    [20, 6],
    [6, 3],
  ])("numeric(%i,%i): the same fit as formatting, for %#", (p, s) => {
    const spec = `ud${p - s}s${s}`;
    let wrong = 0;
    let fits = 0;
    for (const x of values) {
      const want = fitsJs(x, s, p - s);
      const got = profile(spec, x)[8] === 0;
      if (got !== want) wrong++;
      if (want) fits++;
    }
    expect(wrong).toBe(0);
    // Both answers occur, so the comparison means something.
    expect(fits).toBeGreaterThan(100);
    expect(values.length - fits).toBeGreaterThan(100);
  });
  it("non-finite values never fit", () => {
    expect(profile("ud10s2", Infinity)[8]).toBe(1);
    expect(profile("ud10s2", -Infinity)[8]).toBe(1);
  });
});

describe("armp_profile JSON check (j): 0 only for text JSON.parse reads without a \\u0000 escape", () => {
  const plain = ['{"a":1}', "[]", "{}", " [1, 2.5e-3, -0, true, false, null] ", '"x"', "0", '{"k":{"n":[{"a":"\\u00e9\\n\\"q\\""}]},"b":[]}', '{"\u00e9":"\u2603"}', "\t\r\n1\n"];
  const notPlain = ["", " ", "{", "[1,]", '{"a":1,}', "{a:1}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "'x'", '"\\x"', '"a\tb"', '"\\u12"', '"\\u0000"', '{"a":"\\u0000"}', "[1] [2]", "tru", "nul", '{"a" 1}', '{"a":}', "\uFEFF{}", "[" .repeat(1001) + "]".repeat(1001)];
  it.each(plain)("%j is plain JSON", (v) => {
    expect(JSON.parse(v)).toBeDefined();
    expect(profile("uj", v)[11]).toBe(0);
  });
  it.each(notPlain)("%j is left to the follow-up read", (v) => {
    expect(profile("uj", v)[11]).toBe(1);
  });
  it("counts text only, and only with j", () => {
    expect(profile("uj", 5)[11]).toBe(0);
    expect(profile("u", "{")[11]).toBe(0);
  });
});

describe("armp_profile ISO dates (tD)", () => {
  it.each([
    ["2021-02-28", 1, 1],
    ["2021-02-29", 0, 0],
    ["2021-02-28 10:00:00", 1, 0],
    ["2021-02-28T10:00:00.123Z", 1, 0],
    ["0000-01-01", 0, 0],
  ])("%s: t counts %i, tD counts %i", (v, t, d) => {
    expect(profile("ut", v)[10]).toBe(t);
    expect(profile("utD", v)[10]).toBe(d);
  });
});
