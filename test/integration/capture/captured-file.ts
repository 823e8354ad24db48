/**
 * A generated ARMP file in the given journal mode with change capture installed, migrated into a
 * fresh database of the shared test cluster: the starting point of the cut-over tests.
 */
import * as path from "path";
import Database from "better-sqlite3";
import { generateArmp } from "../../../bench/armp-data";
import { installCapture, runMigration } from "../../../migrate/engine";
import { createTestDatabase } from "../../support/db";
import { tempDir } from "../engine/helpers";

export type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

export async function capturedFile(name: string, journal: "delete" | "wal", scale: number): Promise<{ src: string; pg: TestDatabase }> {
  const pg = await createTestDatabase(name);
  const src = path.join(tempDir(name), "armp.sqlite");
  generateArmp(src, { scale, seed: 15 });
  const db = new Database(src);
  db.pragma(`journal_mode = ${journal}`);
  db.close();
  installCapture(src);
  await runMigration(src, { url: pg.url }, { jobs: 1 });
  return { src, pg };
}
