/**
 * The pgbouncer module's error. Same shape as the engine's MigrationError (stable `code`,
 * JSON-safe `meta`, `cause`) so callers can treat both alike, but defined here so that config
 * rendering does not depend on the migration engine (docs/CONTRACTS.md keeps the modules apart).
 */
export type PgBouncerErrorCode = "CONFIG_INVALID" | "TARGET_UNREACHABLE" | "TARGET_AUTH_FAILED" | "INTERNAL";

export interface PgBouncerErrorMeta {
  /** The pgbouncer.ini key (or CLI option) concerned, e.g. "default_pool_size". */
  key?: string;
  /** The PgBouncerSettings field concerned, e.g. "defaultPoolSize". */
  setting?: string;
  [k: string]: unknown;
}

export class PgBouncerError extends Error {
  readonly code: PgBouncerErrorCode;
  readonly meta: PgBouncerErrorMeta;

  constructor(code: PgBouncerErrorCode, message: string, meta: PgBouncerErrorMeta = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "PgBouncerError";
    this.code = code;
    this.meta = meta;
  }
}
