/**
 * ARMP_MIGRATE_SORT_MEMORY (pg.ts sortMemory): the maintenance_work_mem of the sessions that build
 * keys and indexes. Default 16MB, "server" leaves the server's value, anything else is refused.
 */
import { MigrationError } from "../../../migrate/engine";
import { connect, sortMemory, useSortMemory } from "../../../migrate/engine/pg";
import { createTestDatabase } from "../../support/db";

describe("sort memory for key and index builds", () => {
  const prev = process.env.ARMP_MIGRATE_SORT_MEMORY;
  afterEach(() => {
    if (prev === undefined) delete process.env.ARMP_MIGRATE_SORT_MEMORY;
    else process.env.ARMP_MIGRATE_SORT_MEMORY = prev;
  });

  it("is 16MB by default, the given size when set, and the server's with 'server'", async () => {
    const db = await createTestDatabase("sortmem");
    const c = await connect({ url: db.url });
    const show = async (): Promise<string> => (await c.query<{ maintenance_work_mem: string }>("SHOW maintenance_work_mem")).rows[0].maintenance_work_mem;
    try {
      const server = await show();
      delete process.env.ARMP_MIGRATE_SORT_MEMORY;
      await useSortMemory(c);
      const byDefault = await show();
      process.env.ARMP_MIGRATE_SORT_MEMORY = "256MB";
      await useSortMemory(c);
      const set = await show();
      await c.query("RESET maintenance_work_mem");
      process.env.ARMP_MIGRATE_SORT_MEMORY = "server";
      await useSortMemory(c);
      expect([server, byDefault, set, await show()]).toEqual(["64MB", "16MB", "256MB", "64MB"]);
    } finally {
      await c.end();
      await db.drop();
    }
  });

  it("refuses a value that is not a memory size, naming the variable", () => {
    process.env.ARMP_MIGRATE_SORT_MEMORY = "16MB; DROP TABLE x";
    expect(() => sortMemory()).toThrow(MigrationError);
    try {
      sortMemory();
    } catch (e) {
      expect([(e as MigrationError).code, (e as MigrationError).message]).toEqual(["CONFIG_INVALID", 'ARMP_MIGRATE_SORT_MEMORY=16MB; DROP TABLE x is not a memory size; use e.g. 16MB, 256MB, or "server" for the server\'s maintenance_work_mem.']);
    }
  });
});
