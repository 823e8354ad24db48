/**
 * One SQLite writer in a worker thread (better-sqlite3 is synchronous, so concurrency needs
 * threads): for `seconds`, run the ARMP write transaction and report latencies and errors.
 */
import Database from "better-sqlite3";
import { parentPort, workerData } from "worker_threads";

export interface WriterJob {
  file: string;
  busyTimeoutMs: number;
  seconds: number;
  writer: number;
  organizations: number;
  researchers: number;
}

export interface WriterResult {
  latenciesMs: number[];
  errors: Record<string, number>;
}

function runWriter(job: WriterJob): WriterResult {
  const db = new Database(job.file, { timeout: job.busyTimeoutMs });
  const latenciesMs: number[] = [];
  const errors: Record<string, number> = {};
  const end = Date.now() + job.seconds * 1000;
  const count = (e: unknown): void => {
    const msg = (e as Error).message;
    errors[msg] = (errors[msg] ?? 0) + 1;
  };
  // Preparing reads the schema, which needs a shared lock: with busy timeout 0 that too can fail
  // with "database is locked" while another writer commits, so it is retried and counted.
  let stmts: { org: Database.Statement; pub: Database.Statement; author: Database.Statement } | undefined;
  while (!stmts && Date.now() < end) {
    try {
      stmts = {
        org: db.prepare("SELECT id, name FROM organization WHERE id = ?"),
        pub: db.prepare("INSERT INTO publication (title, year, organization_id) VALUES (?, ?, ?)"),
        author: db.prepare("INSERT INTO publication_author (publication_id, researcher_id, position) VALUES (?, ?, ?)"),
      };
    } catch (e) {
      count(e);
    }
  }
  if (!stmts) {
    db.close();
    return { latenciesMs, errors };
  }
  const { org, pub, author } = stmts;
  let i = 0;
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    i++;
    try {
      // A deferred BEGIN as application code usually writes it: read, then write.
      db.exec("BEGIN");
      const orgId = 1 + ((job.writer * 7919 + i) % job.organizations);
      org.get(orgId);
      const id = pub.run(`bench ${job.writer}-${i}`, 2000 + (i % 25), orgId).lastInsertRowid;
      author.run(id, 1 + ((i * 31 + job.writer) % job.researchers), 1);
      author.run(id, 1 + ((i * 17 + job.writer * 3) % job.researchers), 2);
      db.exec("COMMIT");
      latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    } catch (e) {
      count(e);
      if (db.inTransaction) db.exec("ROLLBACK");
    }
  }
  db.close();
  return { latenciesMs, errors };
}

if (parentPort && workerData) parentPort.postMessage(runWriter(workerData as WriterJob));
