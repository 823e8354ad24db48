/**
 * The "application" writing to SQLite while the copy runs (issue 6 tests): a child process, so
 * its writes are truly concurrent with the copy's read snapshot. Deterministic op sequence; it
 * prints "ready" after the first write and a JSON summary of what the final state must be.
 */
import { spawn } from "child_process";
import * as path from "path";
import { childReport } from "../../../bench/support/child-report";

export interface WriterSummary {
  writes: number;
  alivePubs: number[];
  deletedPubs: number[];
  updatedPubs: Record<string, { title: string; citation_count: number }>;
  movedOrgs: [number, number][];
  deletedProjectPubs: [number, number][];
  insertedAuthors: [number, number][];
}

// Plain JS run by `node -e` (better-sqlite3 is synchronous, so a thread or process is needed).
const SCRIPT = `
const Database = require("better-sqlite3");
const [file, total, rate] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const db = new Database(file, { timeout: 5000 });
const sleep = new Int32Array(new SharedArrayBuffer(4));
const s = { writes: 0, alivePubs: [], deletedPubs: [], updatedPubs: {}, movedOrgs: [], deletedProjectPubs: [], insertedAuthors: [] };
let lastPub = null;
const t0 = Date.now();
for (let i = 0; i < total; i++) {
  switch (i % 6) {
    case 0: {
      const id = Number(db.prepare("INSERT INTO organization (name, country) VALUES (?, 'NZ')").run("cap org " + i).lastInsertRowid);
      if (i % 12 === 0) { db.prepare("UPDATE organization SET id = ? WHERE id = ?").run(id + 10000, id); s.movedOrgs.push([id, id + 10000]); }
      break;
    }
    case 1: {
      lastPub = Number(db.prepare("INSERT INTO publication (doi, title, year, organization_id, apc_cost, is_open_access) VALUES (?, ?, 2024, ?, '12.5', 1)").run("10.cap/" + i, "cap pub " + i, 1 + (i % 15)).lastInsertRowid);
      s.alivePubs.push(lastPub);
      break;
    }
    case 2: {
      const id = 1 + ((i * 7) % 700);
      db.prepare("UPDATE publication SET title = ?, citation_count = ? WHERE id = ?").run("updated " + i, i, id);
      s.updatedPubs[id] = { title: "updated " + i, citation_count: i };
      break;
    }
    case 3: {
      db.prepare("INSERT INTO publication_author (publication_id, researcher_id, author_position) VALUES (?, ?, 1)").run(lastPub, 1 + (i % 200));
      s.insertedAuthors.push([lastPub, 1 + (i % 200)]);
      break;
    }
    case 4: {
      const r = db.prepare("SELECT project_id, publication_id FROM project_publication ORDER BY project_id, publication_id LIMIT 1").get();
      db.prepare("DELETE FROM project_publication WHERE project_id = ? AND publication_id = ?").run(r.project_id, r.publication_id);
      s.deletedProjectPubs.push([r.project_id, r.publication_id]);
      break;
    }
    case 5: {
      // Every other cycle deletes the publication inserted 4 writes ago (its author row cascades).
      if (i % 12 === 5) {
        db.prepare("DELETE FROM publication WHERE id = ?").run(lastPub);
        s.alivePubs = s.alivePubs.filter((p) => p !== lastPub);
        s.insertedAuthors = s.insertedAuthors.filter(([p]) => p !== lastPub);
        s.deletedPubs.push(lastPub);
      } else {
        db.prepare("UPDATE researcher SET email = ? WHERE id = ?").run("cap" + i + "@example.org", 1 + (i % 200));
      }
      break;
    }
  }
  s.writes++;
  if (i === 0) process.stdout.write("ready\\n");
  const due = t0 + ((i + 1) * 1000) / rate - Date.now();
  if (due > 0) Atomics.wait(sleep, 0, 0, due);
}
db.close();
process.stdout.write(JSON.stringify(s) + "\\n");
`;

/** Starts the writer; `ready` resolves after its first committed write, `done` with its summary. */
export function startWriter(file: string, total: number, ratePerSecond: number): { ready: Promise<void>; done: Promise<WriterSummary> } {
  const child = spawn(process.execPath, ["-e", SCRIPT, file, String(total), String(ratePerSecond)], { cwd: path.join(__dirname, "../../.."), stdio: ["ignore", "pipe", "pipe"] });
  const { ready, report: done } = childReport<WriterSummary>(child, "writer");
  return { ready, done };
}
