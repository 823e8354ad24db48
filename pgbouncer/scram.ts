/**
 * SCRAM-SHA-256 verifiers as PostgreSQL stores them in pg_authid.rolpassword (RFC 5802, RFC 7677).
 *
 * Why we compute them ourselves: pgBouncer can log in to PostgreSQL on a client's behalf
 * with a verifier only when the verifier in its auth_file is byte-identical to the one PostgreSQL
 * stores for the role (same salt, same iteration count). So the stack generates the verifier once,
 * sets the role's password to that verifier (PostgreSQL stores a pre-hashed SCRAM secret verbatim),
 * and renders the same string into the userlist. No plaintext password reaches the container.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "crypto";
import { PgBouncerError } from "./errors";

/** PostgreSQL's default (scram_iterations, and the only value before PostgreSQL 16). */
export const DEFAULT_SCRAM_ITERATIONS = 4096;
/** PostgreSQL generates 16-byte salts (SCRAM_DEFAULT_SALT_LEN). */
export const DEFAULT_SCRAM_SALT_BYTES = 16;

export interface ScramSecret {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

const B64 = "[A-Za-z0-9+/]+={0,2}";
const VERIFIER_RE = new RegExp(`^SCRAM-SHA-256\\$([1-9][0-9]*):(${B64})\\$(${B64}):(${B64})$`);

export function isScramVerifier(s: string): boolean {
  return parseScramVerifier(s) !== undefined;
}

/** Splits a verifier into its parts; undefined when it is not a well-formed SCRAM-SHA-256 secret. */
export function parseScramVerifier(s: string): ScramSecret | undefined {
  const m = VERIFIER_RE.exec(s);
  if (!m) return undefined;
  const storedKey = Buffer.from(m[3], "base64");
  const serverKey = Buffer.from(m[4], "base64");
  const salt = Buffer.from(m[2], "base64");
  // SHA-256 keys are 32 bytes; anything else would be rejected by PostgreSQL as a plain password.
  if (storedKey.length !== 32 || serverKey.length !== 32 || salt.length === 0) return undefined;
  return { iterations: Number(m[1]), salt, storedKey, serverKey };
}

/**
 * Builds "SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>":
 *   SaltedPassword = PBKDF2-HMAC-SHA256(SASLprep(password), salt, iterations)
 *   ClientKey = HMAC(SaltedPassword, "Client Key"); StoredKey = SHA256(ClientKey)
 *   ServerKey = HMAC(SaltedPassword, "Server Key")
 */
export function scramSha256Verifier(password: string, opts: { salt?: Buffer; iterations?: number } = {}): string {
  const iterations = opts.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new PgBouncerError("CONFIG_INVALID", `SCRAM iterations must be a positive integer, got ${String(iterations)}; pass 4096 (PostgreSQL's default) or omit it.`, { key: "iterations" });
  }
  const salt = opts.salt ?? randomBytes(DEFAULT_SCRAM_SALT_BYTES);
  if (salt.length === 0) {
    throw new PgBouncerError("CONFIG_INVALID", "SCRAM salt must not be empty; omit it to get 16 random bytes.", { key: "salt" });
  }
  const salted = pbkdf2Sync(Buffer.from(saslPrep(password), "utf8"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/**
 * True when `password` matches `verifier` (same derivation with the verifier's salt and count).
 * Constant-time comparison is not needed here: this checks our own config, not a login attempt.
 */
export function verifierMatchesPassword(verifier: string, password: string): boolean {
  const parsed = parseScramVerifier(verifier);
  if (!parsed) return false;
  return scramSha256Verifier(password, { salt: parsed.salt, iterations: parsed.iterations }) === verifier;
}

/**
 * SASLprep (RFC 4013) as PostgreSQL's pg_saslprep applies it before hashing. Pure-ASCII passwords
 * pass through unchanged (PostgreSQL's fast path), which is the case the stack generates. For
 * non-ASCII input we apply the mapping steps (non-ASCII spaces to U+0020, "mapped to nothing"
 * characters removed, NFKC) and, like PostgreSQL, fall back to the raw password when the result
 * holds a prohibited character. The unassigned-code-point check (table A.1) is not implemented:
 * for such passwords read the server's verifier instead (armp-pgbouncer render --admin-url).
 */
export function saslPrep(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  const mapped = password
    .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, " ")
    .split("")
    .filter((ch) => !MAPPED_TO_NOTHING.has(ch.charCodeAt(0)))
    .join("")
    .normalize("NFKC");
  if (mapped.length === 0 || PROHIBITED.test(mapped)) return password;
  return mapped;
}

// RFC 3454 table B.1 ("commonly mapped to nothing"). A Set rather than a regex class because the
// class would hold combining marks and joiners, which lint (rightly) flags as misleading.
const MAPPED_TO_NOTHING = new Set<number>([
  0x00ad, 0x034f, 0x1806, 0x180b, 0x180c, 0x180d, 0x200b, 0x200c, 0x200d, 0x2060,
  0xfe00, 0xfe01, 0xfe02, 0xfe03, 0xfe04, 0xfe05, 0xfe06, 0xfe07, 0xfe08, 0xfe09, 0xfe0a, 0xfe0b, 0xfe0c, 0xfe0d, 0xfe0e, 0xfe0f, 0xfeff,
]);

// RFC 4013 section 2.3 prohibited output: C.1.2 spaces (mapped above), C.2 controls, C.3 private
// use, C.4 non-characters, C.5 surrogates, C.6-C.9 (the BMP ones; astral private use/tags below).
// eslint-disable-next-line no-control-regex
const PROHIBITED = /[\u0000-\u001F\u007F-\u009F\u06DD\u070F\u180E\u200E\u200F\u2028-\u202E\u2060-\u2063\u206A-\u206F\uD800-\uDFFF\uE000-\uF8FF\uFDD0-\uFDEF\uFFF9-\uFFFF]|\u{E0001}|[\u{E0020}-\u{E007F}]|[\u{F0000}-\u{10FFFF}]/u;
