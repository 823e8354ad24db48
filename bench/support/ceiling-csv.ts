/**
 * CSV exports for the bench:copy ceiling. The ARMP source holds values PostgreSQL cannot read as
 * they are (dates as Unix seconds/ms, 0/1 and 'true'/'false' booleans), so each value goes through
 * the engine's own per-value encoder (toPgText, the function that feeds its COPY stream) against
 * the column types the engine created. The ceiling tables are therefore typed exactly like
 * armp-migrate's, and the timed `\copy` does the same parsing work PostgreSQL does for the engine;
 * only the conversion cost is left out of the ceiling, on purpose.
 */
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { sourceSelect, targetColumns } from "../../migrate/engine/copy";
import { introspect } from "../../migrate/engine/introspect";
import { openSource } from "../../migrate/engine/sqlite";
import { toPgText, type SqliteValue } from "../../migrate/engine/values";

export interface CsvExport {
  table: string;
  file: string;
  rows: number;
  bytes: number;
}

const FLUSH_AT = 1 << 20;

/** One CSV field: NULL is an empty unquoted field, every other value is quoted (so '' stays ''). */
function csvField(v: string | null): string {
  if (v === null) return "";
  return '"' + (v.includes('"') ? v.replace(/"/g, '""') : v) + '"';
}

/** Exports every source table to `<dir>/<table>.csv`, typed by the tables already created at `typedUrl`. */
export async function exportCeilingCsv(sourcePath: string, typedUrl: string, dir: string): Promise<CsvExport[]> {
  const db = openSource(sourcePath);
  const client = new Client({ connectionString: typedUrl });
  await client.connect();
  try {
    const schema = introspect(db);
    const out: CsvExport[] = [];
    db.exec("BEGIN");
    try {
      for (const t of schema.tables) {
        const cols = await targetColumns(client, "public", t);
        const { sql } = sourceSelect(t, cols);
        const file = path.join(dir, `${t.name}.csv`);
        const fd = fs.openSync(file, "w");
        let rows = 0;
        let bytes = 0;
        let buf = "";
        try {
          for (const row of db.prepare(sql).raw(true).safeIntegers(true).iterate() as IterableIterator<SqliteValue[]>) {
            let line = "";
            for (let i = 0; i < cols.length; i++) line += (i > 0 ? "," : "") + csvField(toPgText(row[i], cols[i]));
            buf += line + "\n";
            rows++;
            if (buf.length >= FLUSH_AT) {
              bytes += fs.writeSync(fd, buf);
              buf = "";
            }
          }
          bytes += fs.writeSync(fd, buf);
        } finally {
          fs.closeSync(fd);
        }
        out.push({ table: t.name, file, rows, bytes });
      }
    } finally {
      db.exec("COMMIT");
    }
    return out;
  } finally {
    await client.end().catch(() => undefined);
    db.close();
  }
}
