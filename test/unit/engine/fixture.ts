/** SQLite fixtures for the engine's unit tests: real files in a temp dir, no servers. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Database from "better-sqlite3";

export function sqliteFile(sql: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-unit-engine-"));
  const p = path.join(dir, "src.sqlite");
  const db = new Database(p);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
  return p;
}

/** Odd identifiers, composite keys, both INTEGER PRIMARY KEY flavours, defaults, FK actions, a partial index. */
export const SCHEMA_SQL = `
CREATE TABLE "user" (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  "E-mail Address" VARCHAR(120) NOT NULL UNIQUE,
  "createdAt" DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated TIMESTAMP DEFAULT (datetime('now')),
  active BOOLEAN NOT NULL DEFAULT 1,
  role TEXT DEFAULT 'it''s a member',
  score REAL DEFAULT 1.5,
  balance NUMERIC(12,2) DEFAULT 0
);
CREATE TABLE "Order Items" (
  "Order Id" INTEGER NOT NULL,
  line INTEGER NOT NULL,
  "userId" INTEGER REFERENCES "user"(id) ON DELETE CASCADE ON UPDATE SET NULL,
  payload JSON,
  picture BLOB,
  "day" DATE,
  PRIMARY KEY ("Order Id", line)
);
CREATE TABLE tag (id INTEGER PRIMARY KEY, label TEXT NOT NULL, mystery WIDGET, amount MONEYISH, n BIGINT);
CREATE TABLE item_tag (
  order_id INTEGER, line INTEGER, tag_id INTEGER NOT NULL REFERENCES tag(id) ON DELETE RESTRICT,
  PRIMARY KEY (order_id, line, tag_id),
  FOREIGN KEY (order_id, line) REFERENCES "Order Items"("Order Id", line) ON DELETE CASCADE
);
CREATE INDEX "active users" ON "user"(role) WHERE role IS NOT NULL;
CREATE UNIQUE INDEX tag_label ON tag(label, n);
`;
