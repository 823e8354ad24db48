/** A small ARMP-shaped SQLite source per test, plus the hash that proves providers never write it. */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Database from "better-sqlite3";

export function sha256File(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * organization ← publication (FK, an index on year), researcher; quirks the engine must carry:
 * a DATETIME default, a 0/1 boolean, a REAL, NULLs and non-ASCII text.
 */
export function makeSource(dir: string, name = "armp.sqlite"): string {
  const file = path.join(dir, name);
  const db = new Database(file);
  try {
    db.exec(`
      CREATE TABLE organization (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, ror_id TEXT UNIQUE);
      CREATE TABLE publication (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        year INTEGER,
        open_access BOOLEAN NOT NULL DEFAULT 0,
        score REAL,
        organization_id INTEGER REFERENCES organization(id) ON DELETE SET NULL,
        created_at DATETIME DEFAULT CURRENT_TIMESTAMP
      );
      CREATE INDEX idx_publication_year ON publication(year);
      CREATE TABLE researcher (id INTEGER PRIMARY KEY, name TEXT NOT NULL, orcid VARCHAR(19));
      INSERT INTO organization (name, ror_id) VALUES ('Universität Zürich', '02crff812'), ('CNRS', '02feahw73'), ('No ROR', NULL);
      INSERT INTO publication (id, title, year, open_access, score, organization_id, created_at) VALUES
        (1, 'Graphs', 2020, 1, 0.1, 1, '2020-01-02 03:04:05'),
        (2, 'Ångström scale', NULL, 0, 2.5, 2, '2021-06-07 08:09:10'),
        (3, 'Orphan-free', 2023, 1, NULL, NULL, '2023-12-31 23:59:59');
      INSERT INTO researcher (id, name, orcid) VALUES (1, 'Ada', '0000-0001-2345-6789'), (2, 'Grace', NULL);
    `);
  } finally {
    db.close();
  }
  return file;
}

/** Writes to the fixture (the test's own edits, never the providers'). */
export function editSource(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}
