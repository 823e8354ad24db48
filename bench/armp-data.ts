/**
 * Deterministic ARMP database generator (the seed runbook's 7 tables) with the quirks real SQLite
 * apps accumulate: dates as ISO text in several spellings and as Unix seconds/milliseconds,
 * 0/1 and 'true'/'false' booleans, NULLs, unicode, REAL, NUMERIC(12,2), BLOB, JSON, composite-key
 * join tables (one WITHOUT ROWID), foreign keys with actions and a few indexes (one partial).
 * scale 1 ~ 375k rows; the same (scale, seed) always produces the same rows.
 */
import * as fs from "fs";
import Database from "better-sqlite3";

export const ARMP_DDL = `
CREATE TABLE organization (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  ror_id VARCHAR(9),
  short_name VARCHAR(32),
  country TEXT,
  is_active BOOLEAN NOT NULL DEFAULT 1,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE researcher (
  id INTEGER PRIMARY KEY,
  orcid VARCHAR(19) UNIQUE,
  name TEXT NOT NULL,
  email TEXT,
  organization_id INTEGER REFERENCES organization(id) ON DELETE SET NULL,
  h_index INTEGER,
  created_at DATETIME DEFAULT (datetime('now'))
);
CREATE TABLE publication (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  doi VARCHAR(255) UNIQUE,
  title TEXT NOT NULL,
  abstract TEXT,
  publication_date DATE,
  year INTEGER,
  citation_count INTEGER DEFAULT 0,
  impact_score REAL,
  apc_cost NUMERIC(12,2),
  is_open_access BOOLEAN DEFAULT 0,
  pdf_thumbnail BLOB,
  organization_id INTEGER NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
  harvested_at DATETIME,
  metadata JSON
);
CREATE TABLE project (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  title TEXT NOT NULL,
  grant_number VARCHAR(64),
  funder TEXT,
  description TEXT,
  start_date DATE,
  end_date DATE,
  budget NUMERIC(12,2),
  organization_id INTEGER NOT NULL REFERENCES organization(id) ON UPDATE CASCADE,
  status TEXT DEFAULT 'active'
);
CREATE TABLE harvest_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL,
  started_at DATETIME NOT NULL,
  finished_at DATETIME,
  records_harvested INTEGER DEFAULT 0,
  success BOOLEAN,
  error_message TEXT,
  organization_id INTEGER REFERENCES organization(id)
);
CREATE TABLE publication_author (
  publication_id INTEGER NOT NULL REFERENCES publication(id) ON DELETE CASCADE,
  researcher_id INTEGER NOT NULL REFERENCES researcher(id) ON DELETE CASCADE,
  author_position INTEGER NOT NULL,
  is_corresponding BOOLEAN DEFAULT 0,
  PRIMARY KEY (publication_id, researcher_id)
);
CREATE TABLE project_publication (
  project_id INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
  publication_id INTEGER NOT NULL REFERENCES publication(id) ON DELETE CASCADE,
  added_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (project_id, publication_id)
) WITHOUT ROWID;
CREATE INDEX idx_publication_year ON publication(year);
CREATE INDEX idx_researcher_org ON researcher(organization_id);
CREATE UNIQUE INDEX idx_org_short ON organization(short_name) WHERE short_name IS NOT NULL;
CREATE INDEX idx_harvest_source_started ON harvest_log(source, started_at);
`;

/** Rows per table at scale 1 (total 375,500). */
export const ARMP_BASE_ROWS: Record<string, number> = {
  organization: 500,
  researcher: 40_000,
  publication: 150_000,
  project: 5_000,
  harvest_log: 30_000,
  publication_author: 120_000,
  project_publication: 30_000,
};

/** mulberry32: tiny, fast, and the same sequence on every platform for a seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ["data", "ocean", "protein", "graph", "quantum", "soil", "climate", "neural", "café", "Zürich", "naïve", "数据", "学习", "Ωmega", "🚀", "δ-analysis", "O'Brien", 'the "best"', "tab\there", "line\nbreak", "back\\slash"];
const COUNTRIES = ["NZ", "AU", "DE", "CN", "BR", "US", null];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function generateArmp(path: string, opts: { scale: number; seed?: number }): { rows: Record<string, number> } {
  if (!(opts.scale > 0)) throw new Error(`scale must be > 0, got ${opts.scale}`);
  if (fs.existsSync(path)) fs.rmSync(path);
  const rnd = prng(opts.seed ?? 42);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const words = (n: number): string => Array.from({ length: n }, () => pick(WORDS)).join(" ");
  const n: Record<string, number> = {};
  for (const [t, base] of Object.entries(ARMP_BASE_ROWS)) n[t] = Math.max(t === "organization" ? 15 : 5, Math.round(base * opts.scale));
  n.publication_author = Math.min(n.publication_author, n.publication * n.researcher);
  n.project_publication = Math.min(n.project_publication, n.project * n.publication);
  const T0 = Date.UTC(2015, 0, 1);
  const SPAN = 9 * 365 * 86400_000;

  const db = new Database(path);
  try {
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    db.exec(ARMP_DDL);
    db.transaction(() => {
      const org = db.prepare("INSERT INTO organization (id, name, ror_id, short_name, country, is_active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
      for (let i = 1; i <= n.organization; i++) {
        // ROR ids are 9 characters starting with 0; some organisations have none.
        org.run(i, `Organisation ${i} ${pick(WORDS)}`, i % 5 === 0 ? null : `0${(i * 7919).toString(36).padStart(6, "0")}${String(i % 100).padStart(2, "0")}`, i % 7 === 0 ? null : `ORG${i}`, pick(COUNTRIES), i % 11 === 0 ? 0 : 1, iso(T0 + int(SPAN)).replace("T", " ").slice(0, 19));
      }
      const res = db.prepare("INSERT INTO researcher (id, orcid, name, email, organization_id, h_index, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
      for (let i = 1; i <= n.researcher; i++) {
        const digits = String(i).padStart(12, "0");
        const orcid = i % 5 === 0 ? null : `${digits.slice(0, 4)}-${digits.slice(4, 8)}-${digits.slice(8)}-X`.slice(0, 19);
        res.run(i, orcid, `${pick(["Aroha", "José", "Zoë", "Søren", "李", "Ngā", "Ana-María"])} ${pick(["Smith", "Müller", "Ōtaki", "王", "García"])} ${i}`, i % 3 === 0 ? null : `r${i}@example.org`, i % 13 === 0 ? null : 1 + int(n.organization), i % 4 === 0 ? null : int(80), iso(T0 + int(SPAN)).slice(0, 19).replace("T", " "));
      }
      const pub = db.prepare("INSERT INTO publication (id, doi, title, abstract, publication_date, year, citation_count, impact_score, apc_cost, is_open_access, pdf_thumbnail, organization_id, harvested_at, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      for (let i = 1; i <= n.publication; i++) {
        const ms = T0 + int(SPAN);
        const day = iso(ms).slice(0, 10);
        const fmt = i % 4;
        // Four spellings of the same kind of instant, as different harvesters wrote them.
        const harvested = i % 17 === 0 ? null : fmt === 0 ? iso(ms).slice(0, 19).replace("T", " ") : fmt === 1 ? iso(ms) : fmt === 2 ? Math.floor(ms / 1000) : ms;
        const oa = i % 10 === 0 ? (i % 20 === 0 ? "true" : "false") : i % 2;
        const apc = i % 6 === 0 ? null : i % 6 === 1 ? int(5000) : Math.round(rnd() * 500000) / 100;
        const thumb = i % 10 === 0 ? Buffer.from(Array.from({ length: 16 }, () => int(256))) : null;
        const meta = i % 8 === 0 ? JSON.stringify({ source: pick(["crossref", "orcid", "scopus"]), tags: [pick(WORDS), int(100)], score: Math.round(rnd() * 1000) / 10 }) : null;
        pub.run(i, i % 9 === 0 ? null : `10.${1000 + (i % 9000)}/armp.${i}`, `${words(3 + int(5))} ${i}`, i % 3 === 0 ? null : words(20 + int(30)), i % 15 === 0 ? null : day, i % 15 === 0 ? null : Number(day.slice(0, 4)), int(500), i % 7 === 0 ? null : rnd() * 10, apc, oa, thumb, 1 + int(n.organization), harvested, meta);
      }
      const proj = db.prepare("INSERT INTO project (id, title, grant_number, funder, description, start_date, end_date, budget, organization_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      for (let i = 1; i <= n.project; i++) {
        const ms = T0 + int(SPAN);
        proj.run(i, `Project ${i} ${pick(WORDS)}`, i % 6 === 0 ? null : `${pick(["MBIE", "ERC", "NSF", "NHMRC"])}-${2015 + (i % 10)}-${String(i).padStart(5, "0")}`, i % 6 === 0 ? null : pick(["Marsden Fund", "European Research Council", "National Science Foundation", "Wellcome Trust"]), i % 4 === 0 ? null : words(10), iso(ms).slice(0, 10), i % 3 === 0 ? null : iso(ms + int(3 * 365) * 86400_000).slice(0, 10), i % 5 === 0 ? null : Math.round(rnd() * 1e9) / 100, 1 + int(n.organization), pick(["active", "closed", "planned"]));
      }
      const log = db.prepare("INSERT INTO harvest_log (id, source, started_at, finished_at, records_harvested, success, error_message, organization_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
      for (let i = 1; i <= n.harvest_log; i++) {
        const ms = T0 + int(SPAN);
        const ok = i % 9 !== 0;
        log.run(i, pick(["crossref", "orcid", "scopus", "pubmed"]), iso(ms).slice(0, 19).replace("T", " "), i % 25 === 0 ? null : Math.floor((ms + int(3_600_000)) / 1000), int(10000), i % 30 === 0 ? null : ok ? 1 : 0, ok ? null : `HTTP 5${int(10)}: ${pick(WORDS)}`, i % 12 === 0 ? null : 1 + int(n.organization));
      }
      // Unique composite keys without a lookup set: (k mod P, (p*31 + floor(k/P)) mod R) never repeats for k < P*R.
      const pa = db.prepare("INSERT INTO publication_author (publication_id, researcher_id, author_position, is_corresponding) VALUES (?, ?, ?, ?)");
      for (let k = 0; k < n.publication_author; k++) {
        const p = k % n.publication;
        const m = Math.floor(k / n.publication);
        pa.run(p + 1, ((p * 31 + m) % n.researcher) + 1, m + 1, m === 0 ? 1 : 0);
      }
      const pp = db.prepare("INSERT INTO project_publication (project_id, publication_id, added_at) VALUES (?, ?, ?)");
      for (let k = 0; k < n.project_publication; k++) {
        const p = k % n.project;
        const m = Math.floor(k / n.project);
        pp.run(p + 1, ((p * 131 + m) % n.publication) + 1, k % 10 === 0 ? null : iso(T0 + int(SPAN)).replace("T", " ").replace("Z", ""));
      }
    })();
  } finally {
    db.close();
  }
  return { rows: n };
}
