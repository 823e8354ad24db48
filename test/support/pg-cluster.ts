/**
 * The cluster helpers live in bench/support/pg-cluster.ts because the benchmarks (compiled by
 * tsconfig.build.json, which excludes test/) start their own clusters too; tests keep importing
 * them from here.
 */
export * from "../../bench/support/pg-cluster";
