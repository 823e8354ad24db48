#!/usr/bin/env node
/**
 * npm run fuzz -- [--runs N] [--seed S] [--off a,b] [--only a,b] [--sweep] [--shrink] [--pre-ddl] [--out file]
 * Runs the generative fidelity suite (test/integration/fuzz/fidelity.test.ts) in long mode on a
 * PostgreSQL cluster of its own: N databases (default 200), case i from seed S + i (default a
 * random S, printed). --off switches generator categories off, --only switches every other one off
 * (names: test/fuzz/model.ts GenOptions); --shrink minimises each failure (slow: a CLI run per
 * step); --sweep runs each category alone (all others off unless --only/--off keep
 * them), N cases each; --pre-ddl also fails refusals raised after DDL; --out appends failures as JSON lines.
 * Needs `npm run build` first (the CLI under test runs dist/).
 */
const { spawnSync } = require("child_process");
const path = require("path");
const { parseArgs } = require("util");

const { values: o } = parseArgs({
  options: {
    runs: { type: "string", default: "200" },
    seed: { type: "string" },
    off: { type: "string" },
    only: { type: "string" },
    shrink: { type: "boolean" },
    "pre-ddl": { type: "boolean" },
    out: { type: "string" },
    sweep: { type: "boolean" },
  },
});
const CATEGORIES = ["offTypeValues", "specialFloats", "longIdentifiers", "oddIdentifiers", "orphanForeignKeys", "defaults", "checks", "strictTables", "withoutRowid", "views", "nulInText", "weirdTypes", "overlongText", "nullableKeys", "edgeRowids", "keyCollisions", "earlyYears", "strictWithoutRowid", "literalNames", "virtualTables", "appCollations", "generatedColumns", "walMode", "mixedCaseViews", "coreData"];
const gen = {};
const list = (s) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : []);
for (const c of [...list(o.off), ...list(o.only)]) {
  if (!CATEGORIES.includes(c)) {
    process.stderr.write(`unknown generator category ${c}; known: ${CATEGORIES.join(", ")}\n`);
    process.exit(2);
  }
}
if (o.only) for (const c of CATEGORIES) gen[c] = list(o.only).includes(c);
for (const c of list(o.off)) gen[c] = false;
const runs = Number(o.runs);
const seed = o.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(o.seed);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  process.stderr.write("--runs and --seed take integers\n");
  process.exit(2);
}
process.stderr.write(`fuzz: ${runs} case(s) from seed ${seed}, generator ${JSON.stringify(gen)}\n`);
const root = path.resolve(__dirname, "..");
// --sweep: every category alone on top of the --off/--only base, --runs cases each, to attribute failures.
const gens = o.sweep ? CATEGORIES.map((c) => ({ name: c, gen: { ...Object.fromEntries(CATEGORIES.map((x) => [x, false])), ...gen, [c]: true } })) : gen;
const env = { ...process.env, ARMP_FUZZ_RUNS: String(runs), ARMP_FUZZ_SEED: String(seed), ARMP_FUZZ_GEN: JSON.stringify(gens) };
if (o.shrink) env.ARMP_FUZZ_SHRINK = "1";
if (o["pre-ddl"]) env.ARMP_FUZZ_PRE_DDL = "1";
if (o.out) env.ARMP_FUZZ_OUT = path.resolve(o.out);
const r = spawnSync(process.execPath, [require.resolve("jest/bin/jest", { paths: [root] }), "--selectProjects", "integration", "--", "test/integration/fuzz/fidelity.test.ts"], { cwd: root, env, stdio: "inherit" });
process.exit(r.status ?? 1);
