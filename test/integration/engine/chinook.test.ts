import { runMigration, verify } from "../../../migrate/engine";
import { createTestDatabase, withClient } from "../../support/db";
import { copyChinook, sha256File, tempDir } from "./helpers";

describe("chinook.sqlite migrates faithfully", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let src: string;
  let hashBefore: string;
  beforeAll(async () => {
    db = await createTestDatabase("chinook");
    src = copyChinook(tempDir("chinook"));
    hashBefore = sha256File(src);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("copies every row with equal checksums, keeps types/keys, and leaves the source byte-identical", async () => {
    const report = await runMigration(src, { url: db.url }, { jobs: 2 });
    expect(report.ok).toBe(true);
    const rows = Object.fromEntries(report.tables.map((t) => [t.table, t.rowsWritten]));
    expect(rows).toEqual({ Album: 347, Artist: 275, Customer: 59, Employee: 8, Genre: 25, Invoice: 412, InvoiceLine: 2240, MediaType: 5, Playlist: 18, PlaylistTrack: 8715, Track: 3503 });
    for (const t of report.tables) expect(t.sourceChecksum).toBe(t.targetChecksum);
    await withClient(db.url, async (c) => {
      const cols = await c.query("SELECT table_name, column_name, data_type, character_maximum_length AS len, numeric_precision AS p, numeric_scale AS s, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN ('Invoice','Track') ORDER BY table_name, ordinal_position");
      expect(cols.rows.map((r) => `${r.table_name}.${r.column_name}:${r.data_type}${r.len ? `(${r.len})` : ""}${r.data_type === "numeric" ? `(${r.p},${r.s})` : ""}:${r.is_nullable}`)).toEqual([
        "Invoice.InvoiceId:bigint:NO",
        "Invoice.CustomerId:bigint:NO",
        "Invoice.InvoiceDate:timestamp without time zone:NO",
        "Invoice.BillingAddress:character varying(70):YES",
        "Invoice.BillingCity:character varying(40):YES",
        "Invoice.BillingState:character varying(40):YES",
        "Invoice.BillingCountry:character varying(40):YES",
        "Invoice.BillingPostalCode:character varying(10):YES",
        "Invoice.Total:numeric(10,2):NO",
        "Track.TrackId:bigint:NO",
        "Track.Name:character varying(200):NO",
        "Track.AlbumId:bigint:YES",
        "Track.MediaTypeId:bigint:NO",
        "Track.GenreId:bigint:YES",
        "Track.Composer:character varying(220):YES",
        "Track.Milliseconds:bigint:NO",
        "Track.Bytes:bigint:YES",
        "Track.UnitPrice:numeric(10,2):NO",
      ]);
      const sum = await c.query(`SELECT sum("Total")::text AS s FROM "Invoice"`);
      expect(sum.rows[0].s).toBe("2328.60");
      const ins = await c.query(`INSERT INTO "Genre" ("Name") VALUES ('Chiptune') RETURNING "GenreId"`);
      expect(ins.rows[0].GenreId).toBe("26");
      const fks = await c.query("SELECT conrelid::regclass::text AS t, conname FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2");
      expect(fks.rows.map((r) => `${r.t}.${r.conname}`)).toEqual([
        '"Album".Album_ArtistId_fkey',
        '"Customer".Customer_SupportRepId_fkey',
        '"Employee".Employee_ReportsTo_fkey',
        '"Invoice".Invoice_CustomerId_fkey',
        '"InvoiceLine".InvoiceLine_InvoiceId_fkey',
        '"InvoiceLine".InvoiceLine_TrackId_fkey',
        '"PlaylistTrack".PlaylistTrack_PlaylistId_fkey',
        '"PlaylistTrack".PlaylistTrack_TrackId_fkey',
        '"Track".Track_AlbumId_fkey',
        '"Track".Track_GenreId_fkey',
        '"Track".Track_MediaTypeId_fkey',
      ]);
      await c.query(`DELETE FROM "Genre" WHERE "GenreId" = 26`);
      await c.query(`UPDATE "Track" SET "Composer" = 'Someone Else' WHERE "TrackId" = 1234`);
      await c.query(`DELETE FROM "PlaylistTrack" WHERE "PlaylistId" = 1 AND "TrackId" = 3402`);
    });
    const ver = await verify(src, { url: db.url });
    expect(ver.ok).toBe(false);
    const bad = ver.tables.filter((t) => !t.match).map((t) => [t.table, t.differingKeys]);
    expect(bad).toEqual([
      ["Track", ['{"TrackId":1234}']],
      ["PlaylistTrack", ['{"PlaylistId":1,"TrackId":3402}']],
    ]);
    expect(sha256File(src)).toBe(hashBefore);
  });
});
