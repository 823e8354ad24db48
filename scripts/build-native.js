#!/usr/bin/env node
/**
 * Compiles the armp_copy SQLite extension (migrate/native/armp_copy.c) to dist/native/armp_copy.so
 * against the SQLite headers better-sqlite3 ships (the same SQLite it loads into). Needs a C
 * compiler (cc/gcc); without one the engine encodes every row in JavaScript (slower, same result)
 * and this script says so instead of failing the build. ARMP_MIGRATE_NATIVE_REQUIRED=1 (.ci/run)
 * turns that into an error, so CI can never silently test without the extension.
 */
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const src = path.join(root, "migrate", "native", "armp_copy.c");
const outDir = path.join(root, "dist", "native");
const out = path.join(outDir, "armp_copy.so");
const include = path.dirname(require.resolve("better-sqlite3/package.json")) + "/deps/sqlite3";

fs.mkdirSync(outDir, { recursive: true });
const cc = process.env.CC || "cc";
const args = ["-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-I", include, "-o", out, src, "-lm"];
const r = spawnSync(cc, args, { stdio: "inherit" });
if (r.status !== 0) {
  const why = r.error ? r.error.message : `exit ${r.status}`;
  const msg = `armp_copy extension not built (${cc} ${why}); armp-migrate will encode rows in JavaScript (slower, same result).`;
  if (process.env.ARMP_MIGRATE_NATIVE_REQUIRED === "1") {
    console.error(`error: ${msg}`);
    process.exit(1);
  }
  console.warn(`warning: ${msg}`);
  fs.rmSync(out, { force: true });
}

// armp-wal-tidy (migrate/native/wal_tidy.c): removes the -wal/-shm a read-only run created beside a
// WAL-mode source, once no connection uses them. Without it those two files stay (harmless: SQLite
// reuses or removes them), and armp-migrate says nothing about it.
const tidySrc = path.join(root, "migrate", "native", "wal_tidy.c");
const tidyOut = path.join(outDir, "armp-wal-tidy");
const t = spawnSync(cc, ["-O2", "-Wall", "-Wextra", "-o", tidyOut, tidySrc], { stdio: "inherit" });
if (t.status !== 0) {
  const why = t.error ? t.error.message : `exit ${t.status}`;
  const msg = `armp-wal-tidy not built (${cc} ${why}); a run over a WAL-mode source will leave empty -wal/-shm files beside it.`;
  if (process.env.ARMP_MIGRATE_NATIVE_REQUIRED === "1") {
    console.error(`error: ${msg}`);
    process.exit(1);
  }
  console.warn(`warning: ${msg}`);
  fs.rmSync(tidyOut, { force: true });
}
