/**
 * Data fingerprint of the source, for providers deciding whether the data changed since the
 * last copy. It hashes every stored value (storage class + bytes), so it is exact, not a sample.
 */
import { createHash } from "crypto";
import { introspect, quoteSqliteIdent as qi } from "./introspect";
import { withSource, type SqliteDb } from "./sqlite";

export interface DataFingerprint {
  hash: string;
  tables: Record<string, { rows: number; maxRowid: number | null; hash: string }>;
}

export function fingerprintData(sourcePath: string): DataFingerprint {
  return withSource(sourcePath, (db) => fingerprintDb(db));
}

/**
 * Same fingerprint from an open connection. Inside a transaction it hashes what that transaction
 * sees (rollback.ts fingerprints its own uncommitted writes); otherwise it opens a read snapshot.
 */
export function fingerprintDb(db: SqliteDb): DataFingerprint {
  const own = !db.inTransaction;
  const schema = introspect(db);
  const tables: DataFingerprint["tables"] = {};
  const all = createHash("sha256");
  if (own) db.exec("BEGIN");
  try {
    for (const t of schema.tables) {
      const h = createHash("sha256");
      let rows = 0;
      const cols = t.columns.filter((c) => !c.generated).map((c) => qi(c.name));
      const order = t.withoutRowid ? t.primaryKey.map(qi).join(", ") : "rowid";
      for (const row of db.prepare(`SELECT ${cols.join(", ")} FROM ${qi(t.name)} ORDER BY ${order}`).raw(true).safeIntegers(true).iterate() as Iterable<unknown[]>) {
        for (const v of row) {
          if (v === null) h.update("N");
          else if (Buffer.isBuffer(v)) h.update(`B${v.length}:`).update(v);
          else if (typeof v === "bigint") h.update(`I${v}|`);
          else if (typeof v === "number") h.update(`R${v}|`);
          else h.update(`T${Buffer.byteLength(String(v))}:`).update(String(v));
        }
        rows++;
      }
      const maxRowid = t.withoutRowid ? null : ((db.prepare(`SELECT max(rowid) AS m FROM ${qi(t.name)}`).get() as { m: number | null }).m ?? null);
      const hash = h.digest("hex");
      tables[t.name] = { rows, maxRowid, hash };
      all.update(`${t.name}\0${hash}\n`);
    }
  } finally {
    if (own) db.exec("COMMIT");
  }
  return { hash: all.digest("hex"), tables };
}
