/**
 * The h64 checksum only works if our JavaScript hash64 is bit-for-bit the server's
 * hashtextextended. These tests compare them on many strings, and check that the md5 fallback
 * (chosen for servers that disagree, or with ARMP_MIGRATE_CHECKSUM=md5) verifies the same data
 * and catches the same changed row.
 */
import { checksumAlgo, pgRowTextExpr, targetSum } from "../../../migrate/engine/checksum";
import { targetColumns } from "../../../migrate/engine/copy";
import { introspect } from "../../../migrate/engine/introspect";
import { openSource } from "../../../migrate/engine/sqlite";
import { hashText64 } from "../../../migrate/engine/hash64";
import { runMigration, verify } from "../../../migrate/engine";
import { createTestDatabase, withClient } from "../../support/db";
import { copyChinook, sha256File, tempDir } from "./helpers";

/** Deterministic strings: ASCII, Latin-1, CJK, astral (surrogate pairs), tabs/newlines; lengths 0..199. */
function sampleStrings(n: number): string[] {
  let x = 12345;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const alphabet = ["a", "Z", "0", " ", "\t", "\n", "\\", ":", "é", "ß", "学", "习", "😀", "𝄞", "'", '"'];
  return Array.from({ length: n }, (_, i) => {
    let s = "";
    for (let k = 0; k < i % 200; k++) s += alphabet[next() % alphabet.length];
    return s;
  });
}

describe("checksum row hash (h64) against the live server", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase("checksum");
  });
  afterAll(async () => {
    delete process.env.ARMP_MIGRATE_CHECKSUM;
    await db.drop();
  });

  it("hash64 equals hashtextextended(text, 0) for 600 strings of every length class", async () => {
    const strings = sampleStrings(600);
    const server = await withClient(db.url, async (c) =>
      (await c.query<{ h: string }>(`SELECT lpad(to_hex(hashtextextended(s COLLATE "C", 0)), 16, '0') AS h FROM unnest($1::text[]) WITH ORDINALITY AS x(s, i) ORDER BY i`, [strings])).rows.map((r) => r.h),
    );
    const mismatches = strings.map((s, i) => ({ s, server: server[i], js: hashText64(s) })).filter((m) => m.server !== m.js);
    expect(mismatches).toEqual([]);
  });

  it("picks h64 on this server, and md5 when ARMP_MIGRATE_CHECKSUM=md5", async () => {
    await withClient(db.url, async (c) => {
      expect(await checksumAlgo(c)).toBe("h64");
      process.env.ARMP_MIGRATE_CHECKSUM = "md5";
      try {
        expect(await checksumAlgo(c)).toBe("md5");
      } finally {
        delete process.env.ARMP_MIGRATE_CHECKSUM;
      }
    });
  });

  it("verifies Chinook with either row hash and both name the same changed row", async () => {
    const src = copyChinook(tempDir("checksum"));
    const before = sha256File(src);
    const run = await runMigration(src, { url: db.url }, { jobs: 2 });
    expect(run.ok).toBe(true);
    expect(run.tables.map((t) => t.sourceChecksum.length)).toEqual(run.tables.map(() => 16));
    process.env.ARMP_MIGRATE_CHECKSUM = "md5";
    const md5 = await verify(src, { url: db.url });
    delete process.env.ARMP_MIGRATE_CHECKSUM;
    expect(md5.ok).toBe(true);
    expect(md5.tables.map((t) => [t.table, t.sourceChecksum.length, t.sourceChecksum === t.targetChecksum])).toEqual(md5.tables.map((t) => [t.table, 32, true]));
    await withClient(db.url, (c) => c.query(`UPDATE "Invoice" SET "Total" = "Total" + 0.01 WHERE "InvoiceId" = 77`));
    const h64Bad = await verify(src, { url: db.url });
    process.env.ARMP_MIGRATE_CHECKSUM = "md5";
    const md5Bad = await verify(src, { url: db.url });
    delete process.env.ARMP_MIGRATE_CHECKSUM;
    const bad = (r: typeof md5Bad): [string, string[]][] => r.tables.filter((t) => !t.match).map((t) => [t.table, t.differingKeys]);
    expect(bad(h64Bad)).toEqual([["Invoice", ['{"InvoiceId":77}']]]);
    expect(bad(md5Bad)).toEqual([["Invoice", ['{"InvoiceId":77}']]]);
    expect(sha256File(src)).toBe(before);
  });
});

describe("target sums render each value once (renderedOnce)", () => {
  it("gives every Chinook table the sum of the plain per-row expression, part by part", async () => {
    const src = copyChinook(tempDir("rendered"));
    const db = await createTestDatabase("rendered");
    try {
      const r = await runMigration(src, { url: db.url }, { jobs: 2 });
      expect(r.ok).toBe(true);
      const sdb = openSource(src);
      const tables = introspect(sdb).tables;
      sdb.close();
      const rows = await withClient(db.url, async (c) => {
        const out: { table: string; plain: string; mine: string; rows: number }[] = [];
        // Without a condition, and with one (it must go inside the subquery: ctid is not outside).
        for (const where of ["", "ctid > '(0,1)'::tid"]) {
          for (const t of tables) {
            const cols = await targetColumns(c, "public", t);
            const plain = await c.query<{ s: string }>(`SELECT COALESCE(sum(hashtextextended(${pgRowTextExpr(cols)} COLLATE "C", 0)), 0)::text AS s FROM "public"."${t.name}"${where ? ` WHERE ${where}` : ""}`);
            const mine = await targetSum(c, "public", t.name, cols, "h64", where);
            out.push({ table: `${t.name} ${where}`, plain: BigInt.asUintN(64, BigInt(plain.rows[0].s)).toString(16).padStart(16, "0"), mine: mine.checksum, rows: mine.rows });
          }
        }
        return out;
      });
      expect(rows).toHaveLength(22);
      expect(rows.filter((x) => x.rows > 1)).toHaveLength(22);
      for (const x of rows) expect({ table: x.table, sum: x.mine }).toEqual({ table: x.table, sum: x.plain });
    } finally {
      await db.drop();
    }
  });
});
