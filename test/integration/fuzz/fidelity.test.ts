/**
 * Generative fidelity (issue 13, "Tests: generated"): for random SQLite databases, `armp-migrate
 * run` either copies every value exactly or refuses with a coded, non-INTERNAL error and leaves the
 * target empty; the source file never changes. Fixed seeds keep CI reproducible; one random seed
 * per run widens coverage and is printed when it fails (rerun with `npm run fuzz -- --seed S`).
 *
 * `npm run fuzz` (scripts/fuzz.js) runs this file in long mode through ARMP_FUZZ_* variables:
 * ARMP_FUZZ_RUNS cases, case i generated from seed ARMP_FUZZ_SEED + i (so every failure reruns
 * alone with --seed <its seed> --runs 1), generator switches from ARMP_FUZZ_GEN (JSON, see
 * GenOptions), failures appended as JSON lines to ARMP_FUZZ_OUT, shrunk when ARMP_FUZZ_SHRINK=1.
 */
import * as fs from "fs";
import { adminUrl } from "../../support/db";
import { ALL_ON, type GenOptions } from "../../fuzz/model";
import { emptyStats, runFuzz, type FuzzStats } from "../../fuzz/property";

/**
 * Generator categories the CI run includes (see GenOptions). Categories switched off here are
 * the ones the engine on main still fails; /work/notes/fuzz-findings.md lists their repros.
 */
const CI_GEN: GenOptions = {
  ...ALL_ON,
  // Still failing on main; each is named with its finding (/work/notes/fuzz-findings.md, closing note).
  // F3 (NULL primary keys: refused in the profile step), F11 (NUL text), F12 (literal names) and
  // F4 (keyCollisions: keys equal after conversion, decided in the profile step) are on again.
};
const FIXED_SEEDS = [1, 2, 3];
const RUNS_PER_SEED = 10;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function summary(s: FuzzStats): string {
  const refused = Object.entries(s.refused).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  const samples = Object.entries(s.samples).map(([k, m]) => `\n  e.g. ${k}: ${m}`).join("");
  return `${s.cases} case(s): ${s.migrated} migrated (${s.rows} rows compared), refused: ${refused}; ${s.refusedAfterDdl} refusal(s) after DDL${samples}`;
}

/** `npm run fuzz` flags that generate with these switches (the categories switched off). */
function offFlags(gen: GenOptions): string {
  const off = (Object.keys(ALL_ON) as (keyof GenOptions)[]).filter((k) => typeof ALL_ON[k] === "boolean" && gen[k] === false);
  return off.length ? ` --off ${off.join(",")}` : "";
}

/** Cases base .. base+n-1, each generated from its own seed so each reruns alone. */
async function runCases(base: number, n: number, gen: GenOptions, shrink: boolean, requirePreDdl: boolean): Promise<{ stats: FuzzStats; failures: { seed: number; message: string }[] }> {
  const stats = emptyStats();
  const failures: { seed: number; message: string }[] = [];
  for (let i = 0; i < n; i++) {
    const seed = base + i;
    const details = await runFuzz({ seed, runs: 1, gen, check: { adminUrl: adminUrl(), requirePreDdl }, shrink, stats });
    if (details.failed) failures.push({ seed, message: message(details.errorInstance) });
  }
  return { stats, failures };
}

const longRuns = process.env.ARMP_FUZZ_RUNS ? Number(process.env.ARMP_FUZZ_RUNS) : 0;

if (longRuns > 0) {
  const base = Number(process.env.ARMP_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  // One generator, or (sweep) a list of named generators each run for longRuns cases.
  const raw = JSON.parse(process.env.ARMP_FUZZ_GEN ?? "{}") as Partial<GenOptions> | { name: string; gen: Partial<GenOptions> }[];
  const gens = Array.isArray(raw) ? raw : [{ name: "run", gen: raw }];
  const out = process.env.ARMP_FUZZ_OUT;
  test(`long run: ${longRuns} databases from seed ${base} per generator (${gens.length})`, async () => {
    const failed: number[] = [];
    for (const g of gens) {
      const gen: GenOptions = { ...ALL_ON, ...g.gen };
      const { stats, failures } = await runCases(base, longRuns, gen, process.env.ARMP_FUZZ_SHRINK === "1", process.env.ARMP_FUZZ_PRE_DDL === "1");
      if (out) for (const f of failures) fs.appendFileSync(out, JSON.stringify({ ...f, name: g.name, gen }) + "\n");
      process.stdout.write(`fuzz ${g.name}: ${summary(stats)}; ${failures.length} failure(s)\n${failures.map((f) => `  seed ${f.seed}: ${f.message.split("\n")[0]}`).join("\n")}\n`);
      failed.push(...failures.map((f) => f.seed));
    }
    expect(failed).toEqual([]);
  }, 24 * 3600 * 1000);
} else {
  const randomSeed = Math.floor(Math.random() * 2 ** 31);
  describe("generated SQLite databases migrate exactly or are refused before any change", () => {
    for (const base of [...FIXED_SEEDS.map((s) => s * 1000), randomSeed]) {
      test(`seeds ${base}..${base + RUNS_PER_SEED - 1}`, async () => {
        // Refusals must come from the profile step, before any DDL.
        const { stats, failures } = await runCases(base, RUNS_PER_SEED, CI_GEN, false, true);
        if (failures.length) {
          const f = failures[0];
          throw new Error(`${failures.length} case(s) failed; first, seed ${f.seed} (rerun: npm run build && npm run fuzz -- --seed ${f.seed} --runs 1${offFlags(CI_GEN)}):\n${f.message}`);
        }
        process.stdout.write(`fuzz seeds ${base}..: ${summary(stats)}\n`);
        expect(stats.cases).toBe(RUNS_PER_SEED);
        // A good share of generated databases must migrate: a suite where everything is refused
        // checks nothing (refusals come from dirty columns and weird types, see GenOptions). The
        // fixed seeds are deterministic (7, 6 and 8 of 10 migrate with every category on); the random one varies.
        if (base !== randomSeed) expect(stats.migrated).toBeGreaterThanOrEqual(RUNS_PER_SEED * 0.3);
        else expect(stats.migrated + Object.values(stats.refused).reduce((a, b) => a + b, 0)).toBe(RUNS_PER_SEED);
      }, 120_000);
    }
  });
}
