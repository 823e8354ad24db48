/**
 * Generative fidelity (issue 13, "Tests: generated"): for random SQLite databases, `armp-migrate
 * run` either copies every value exactly or refuses with a coded, non-INTERNAL error and leaves the
 * target empty; the source file never changes. Fixed seeds keep CI reproducible; one random seed
 * per run widens coverage and is printed when it fails (rerun with `npm run fuzz -- --seed S`).
 */
import { adminUrl } from "../../support/db";
import { ALL_ON, type GenOptions } from "../../fuzz/model";
import { emptyStats, runFuzz } from "../../fuzz/property";

/** Generator categories the CI run includes; see GenOptions for what each switch produces. */
const GEN: GenOptions = { ...ALL_ON };
const FIXED_SEEDS = [1, 2, 3];
const RUNS_PER_SEED = 12;
const RANDOM_SEED = Number(process.env.ARMP_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe("generated SQLite databases migrate exactly or are refused before any change", () => {
  for (const seed of [...FIXED_SEEDS, RANDOM_SEED]) {
    test(`seed ${seed}: ${RUNS_PER_SEED} databases`, async () => {
      const stats = emptyStats();
      const details = await runFuzz({ seed, runs: RUNS_PER_SEED, gen: GEN, check: { adminUrl: adminUrl(), requirePreDdl: false }, shrink: false, stats });
      if (details.failed) {
        throw new Error(`fidelity failed for seed ${seed} (rerun: npm run fuzz -- --seed ${seed} --runs ${RUNS_PER_SEED}):\n${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`);
      }
      expect(stats.cases).toBe(RUNS_PER_SEED);
      // Most generated databases must migrate: a suite where everything is refused checks nothing.
      expect(stats.migrated).toBeGreaterThanOrEqual(RUNS_PER_SEED / 2);
    });
  }
});
