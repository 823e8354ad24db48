/** Public surface of the pgbouncer module (docs/CONTRACTS.md); infra/ imports from here. */
export { PgBouncerError, type PgBouncerErrorCode, type PgBouncerErrorMeta } from "./errors";
export {
  PGBOUNCER_DEFAULTS,
  resolveSettings,
  TLS_MODES,
  validateSettings,
  type ClientTls,
  type ServerTls,
  type TlsMode,
  type PgBouncerSettings,
  type PgBouncerUser,
  type PoolMode,
  type ResolvedPgBouncerSettings,
} from "./settings";
export { renderPgBouncerIni, renderUserlist, renderUserlistPlaintext } from "./render";
export {
  DEFAULT_SCRAM_ITERATIONS,
  isScramVerifier,
  parseScramVerifier,
  saslPrep,
  scramSha256Verifier,
  verifierMatchesPassword,
  type ScramSecret,
} from "./scram";
