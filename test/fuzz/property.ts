/**
 * The fidelity property over generated databases, shared by the CI test (bounded, fixed seeds)
 * and `npm run fuzz` (as many runs as asked). Counts outcomes so a run shows how many cases
 * migrated and which codes refused the rest (a suite where everything is refused proves nothing).
 */
import * as fc from "fast-check";
import { checkCase, type CheckOptions, type Outcome } from "./check";
import { dbSpecArb, type GenOptions } from "./model";

export interface FuzzStats {
  cases: number;
  migrated: number;
  rows: number;
  refused: Record<string, number>;
  refusedAfterDdl: number;
  /** The first refusal message per code, to show what was refused. */
  samples: Record<string, string>;
}

export function emptyStats(): FuzzStats {
  return { cases: 0, migrated: 0, rows: 0, refused: {}, refusedAfterDdl: 0, samples: {} };
}

function record(stats: FuzzStats, o: Outcome): void {
  stats.cases++;
  if (o.kind === "migrated") {
    stats.migrated++;
    stats.rows += o.rows;
  } else {
    stats.refused[o.code] = (stats.refused[o.code] ?? 0) + 1;
    stats.samples[o.code] ??= o.message;
    if (!o.preDdl) stats.refusedAfterDdl++;
  }
}

export interface FuzzRun {
  seed: number;
  runs: number;
  gen: GenOptions;
  check: CheckOptions;
  /** Shrink a failure to a smaller case (each step is a full CLI run, so it can take minutes). */
  shrink: boolean;
  stats: FuzzStats;
}

/** Runs the property; resolves with fast-check's report (failed + counterexample + seed/path). */
export async function runFuzz(r: FuzzRun): Promise<fc.RunDetails<[Parameters<typeof checkCase>[0]]>> {
  const prop = fc.asyncProperty(dbSpecArb(r.gen), async (spec) => {
    record(r.stats, await checkCase(spec, r.check));
  });
  return fc.check(prop, { seed: r.seed, numRuns: r.runs, endOnFailure: !r.shrink, verbose: 0 });
}
