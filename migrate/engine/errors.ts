/**
 * One error type for the whole engine (drizzle-kit style): a stable `code` callers can switch on,
 * JSON-safe `meta` naming the table/column/primary key concerned, and the original error as `cause`.
 * Messages always say what to do next.
 */
export type ErrorCode =
  | "SOURCE_UNREADABLE"
  | "SOURCE_NOT_SQLITE"
  | "SOURCE_LOCKED"
  /** the source uses a collation its application registers, and no stand-in could be installed */
  | "SOURCE_COLLATION_UNKNOWN"
  | "TARGET_UNREACHABLE"
  | "TARGET_AUTH_FAILED"
  /** pg_hba.conf has no line for this client address, user and database */
  | "TARGET_HBA_REJECTED"
  /** pg_hba.conf accepts this client only over TLS and the connection was not encrypted */
  | "TARGET_TLS_REQUIRED"
  /** TLS could not be set up: server without TLS, certificate not trusted, wrong host name */
  | "TARGET_TLS_FAILED"
  | "TARGET_NOT_EMPTY"
  | "TYPE_MISMATCH"
  | "ROW_REJECTED"
  | "LOCK_HELD"
  | "VERIFY_MISMATCH"
  | "CUTOVER_BLOCKED"
  /** the cut-over's freeze would exceed its bound (--max-freeze-ms): released, retry later */
  | "CUTOVER_FREEZE_EXCEEDED"
  | "CONFIG_INVALID"
  /** a PRIMARY KEY/UNIQUE over a case-insensitive column would reject rows SQLite keeps apart */
  | "COLLATION_KEY_CONFLICT"
  /** rollback would lose writes (SQLite written after cut-over, or a value SQLite cannot hold) */
  | "ROLLBACK_UNSAFE"
  | "INTERNAL";

export interface ErrorMeta {
  table?: string;
  column?: string;
  key?: Record<string, unknown>;
  step?: string;
  [k: string]: unknown;
}

export class MigrationError extends Error {
  readonly code: ErrorCode;
  readonly meta: ErrorMeta;
  override readonly cause?: unknown;

  constructor(code: ErrorCode, message: string, meta: ErrorMeta = {}, cause?: unknown) {
    super(message);
    this.name = "MigrationError";
    this.code = code;
    this.meta = jsonSafe(meta) as ErrorMeta;
    if (cause !== undefined) this.cause = cause;
  }

  toJSON(): { code: ErrorCode; message: string; meta: ErrorMeta } {
    return { code: this.code, message: this.message, meta: this.meta };
  }
}

export function isMigrationError(e: unknown): e is MigrationError {
  return e instanceof MigrationError;
}

/** Wraps anything that is not already a MigrationError as INTERNAL, keeping it as `cause`. */
export function asMigrationError(e: unknown, step: string): MigrationError {
  if (e instanceof MigrationError) {
    if (e.meta.step === undefined) e.meta.step = step;
    return e;
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new MigrationError("INTERNAL", `Unexpected failure during ${step}: ${msg}. This is a bug; rerun with the same input and report it.`, { step }, e);
}

/** BigInt (keys of 64-bit rows) and Buffers must survive JSON.stringify in Pulumi outputs. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Buffer.isBuffer(v)) return "\\x" + v.toString("hex");
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = jsonSafe(x);
    return out;
  }
  return v;
}
