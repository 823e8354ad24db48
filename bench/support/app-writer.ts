/**
 * The app of issue 15, as the issue ran it: Python's `sqlite3` in autocommit
 * (`isolation_level=None`) with a busy timeout, at a steady rate of single-statement writes —
 * inserts into organization, citation_count updates of random publications, deletes of one
 * publication_author row. A separate process, so its locks are really concurrent with ours.
 * Every SQLite error is counted (not fatal): `errors` is what an app user would see as a failed
 * request. Used by bench/cutover.ts and test/integration/capture/verify-chunked.test.ts.
 */
import { spawn } from "child_process";
import { childReport } from "./child-report";

export interface AppWriterResult {
  /** Writes that committed. */
  writes: number;
  /** Failed writes by SQLite's message (e.g. "database is locked"). */
  errors: Record<string, number>;
  ops: { insert: number; update: number; delete: number };
  /** Longest single write (ms), and how many writes took longer than 50 ms. */
  maxMs: number;
  over50ms: number;
}

const SCRIPT = `
import sqlite3, sys, time, json, random, threading, os
path, rate, timeout = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
rnd = random.Random(15)
stop = threading.Event()
def watch():
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stop.set()
threading.Thread(target=watch, daemon=True).start()
res = {"writes": 0, "errors": {}, "ops": {"insert": 0, "update": 0, "delete": 0}, "maxMs": 0.0, "over50ms": 0}
maxpub = None
t0 = time.monotonic()
i = 0
while not stop.is_set():
    op = ("insert", "update", "delete")[i % 3]
    s = time.monotonic()
    try:
        if maxpub is None:
            cur = db.execute("SELECT max(id) FROM publication")
            maxpub = cur.fetchone()[0] or 1
            cur.close()  # an unfinished SELECT would keep a read lock
        if op == "insert":
            db.execute("INSERT INTO organization (name, country) VALUES (?, 'NZ')", ("app org %d %d" % (os.getpid(), i),))
        elif op == "update":
            db.execute("UPDATE publication SET citation_count = coalesce(citation_count, 0) + 1 WHERE id = ?", (rnd.randint(1, maxpub),))
        else:
            p = rnd.randint(1, maxpub)
            db.execute("DELETE FROM publication_author WHERE publication_id = ? AND researcher_id = (SELECT min(researcher_id) FROM publication_author WHERE publication_id = ?)", (p, p))
        res["writes"] += 1
        res["ops"][op] += 1
    except sqlite3.Error as e:
        res["errors"][str(e)] = res["errors"].get(str(e), 0) + 1
    took = (time.monotonic() - s) * 1000
    res["maxMs"] = max(res["maxMs"], round(took, 1))
    if took > 50:
        res["over50ms"] += 1
    if i == 0:
        sys.stdout.write("ready\\n")
        sys.stdout.flush()
    i += 1
    due = t0 + i / rate - time.monotonic()
    if due > 0:
        stop.wait(due)
db.close()
sys.stdout.write(json.dumps(res) + "\\n")
`;

/** Starts the writer; `ready` resolves after its first write (committed or failed); `stop` ends it and returns its counts. */
export function startAppWriter(file: string, opts: { rate: number; timeoutMs: number }): { ready: Promise<void>; stop(): Promise<AppWriterResult> } {
  const child = spawn("python3", ["-c", SCRIPT, file, String(opts.rate), String(opts.timeoutMs / 1000)], { stdio: ["pipe", "pipe", "pipe"] });
  const { ready, report: done } = childReport<AppWriterResult>(child, "app writer (python3)");
  done.catch(() => undefined);
  return {
    ready,
    stop: () => {
      if (child.stdin.writable) child.stdin.end("stop\n");
      return done;
    },
  };
}
