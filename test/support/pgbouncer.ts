/**
 * Real pgbouncer processes for integration tests. The implementation lives in bench/support so
 * that bench:pool (compiled without test/) starts pgbouncer the same way.
 */
export { findPgBouncerBin, startPgBouncer, type PgBouncerProcess } from "../../bench/support/pgbouncer-process";
