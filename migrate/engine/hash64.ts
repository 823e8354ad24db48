/**
 * The 64-bit row hash of the fast checksum: the same function PostgreSQL computes in
 * `hashtextextended(text, 0)` for a deterministic collation — Bob Jenkins' lookup3 as PostgreSQL
 * adapted it (src/common/hashfn.c, hash_bytes_extended, seed 0), little-endian word order, result
 * `(b << 32) | c`. Written here from the algorithm's description so the source side can hash rows
 * in JavaScript (no native call per row, which is what made md5 expensive) and PostgreSQL can hash
 * them in C without an extension. A big-endian server computes different values; verify() probes
 * the server first (checksumAlgo) and falls back to md5 sums then.
 */
import * as os from "os";

/** Result of the last hashBytes64 call as two unsigned 32-bit halves (no allocation per row). */
export const last = { hi: 0, lo: 0 };

const LITTLE_ENDIAN = os.endianness() === "LE";

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** hash_bytes_extended(bytes[0..len), seed 0); the result is in `last`. `words` must view the same memory, 4-byte aligned. */
export function hashBytes64(bytes: Uint8Array, words: Int32Array, len: number): void {
  let a = (0x9e3779b9 + len + 3923095) | 0;
  let b = a;
  let c = a;
  let i = 0;
  let w = 0;
  const fast = LITTLE_ENDIAN;
  while (len - i >= 12) {
    if (fast) {
      a = (a + words[w]) | 0;
      b = (b + words[w + 1]) | 0;
      c = (c + words[w + 2]) | 0;
    } else {
      a = (a + (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) | 0;
      b = (b + (bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24))) | 0;
      c = (c + (bytes[i + 8] | (bytes[i + 9] << 8) | (bytes[i + 10] << 16) | (bytes[i + 11] << 24))) | 0;
    }
    // mix(a, b, c)
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
    i += 12;
    w += 3;
  }
  // The last 0..11 bytes; the lowest byte of c is reserved for the length (it is in the initial state).
  const r = len - i;
  if (r >= 8) {
    a = (a + (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) | 0;
    b = (b + (bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24))) | 0;
    if (r >= 9) c = (c + (bytes[i + 8] << 8)) | 0;
    if (r >= 10) c = (c + (bytes[i + 9] << 16)) | 0;
    if (r >= 11) c = (c + (bytes[i + 10] << 24)) | 0;
  } else if (r >= 4) {
    a = (a + (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) | 0;
    if (r >= 5) b = (b + bytes[i + 4]) | 0;
    if (r >= 6) b = (b + (bytes[i + 5] << 8)) | 0;
    if (r >= 7) b = (b + (bytes[i + 6] << 16)) | 0;
  } else {
    if (r >= 1) a = (a + bytes[i]) | 0;
    if (r >= 2) a = (a + (bytes[i + 1] << 8)) | 0;
    if (r >= 3) a = (a + (bytes[i + 2] << 16)) | 0;
  }
  // final(a, b, c)
  c ^= b; c = (c - rot(b, 14)) | 0;
  a ^= c; a = (a - rot(c, 11)) | 0;
  b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0;
  a ^= c; a = (a - rot(c, 4)) | 0;
  b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;
  last.hi = b >>> 0;
  last.lo = c >>> 0;
}

/**
 * A Buffer with Node's internal utf8Write(string, offset): it skips write()'s argument juggling,
 * which cost as much as the hash per row. Shared by the chunk writer (encode.ts).
 */
export type Utf8Writable = Buffer & { utf8Write(s: string, offset: number): number };

/** A growable, 4-byte-aligned scratch area that strings are written into as UTF-8 before hashing. */
export class Utf8Scratch {
  private buf = new ArrayBuffer(64 * 1024);
  bytes = new Uint8Array(this.buf);
  words = new Int32Array(this.buf);
  private view = Buffer.from(this.buf);

  /** Writes `text` as UTF-8 at offset 0 and returns its byte length. */
  write(text: string): number {
    // A UTF-16 code unit is at most 3 UTF-8 bytes.
    if (text.length * 3 > this.buf.byteLength) {
      this.buf = new ArrayBuffer((text.length * 3 + 4096) & ~3);
      this.bytes = new Uint8Array(this.buf);
      this.words = new Int32Array(this.buf);
      this.view = Buffer.from(this.buf);
    }
    return (this.view as Utf8Writable).utf8Write(text, 0);
  }
}

const shared = new Utf8Scratch();

/** hashtextextended(text, 0) of a JavaScript string, as 16 hex digits of the unsigned value (tests, probes). */
export function hashText64(text: string): string {
  const n = shared.write(text);
  hashBytes64(shared.bytes, shared.words, n);
  return last.hi.toString(16).padStart(8, "0") + last.lo.toString(16).padStart(8, "0");
}
