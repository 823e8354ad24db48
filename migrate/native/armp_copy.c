/*
 * armp_copy: a SQLite loadable extension that turns a block of source rows into PostgreSQL COPY
 * text and the block's h64 checksum, inside SQLite, because converting values in JavaScript is
 * most of Node's CPU per row (docs/README-bench-copy.md).
 *
 *   SELECT armp_copy(rowid, '<spec>', col1, ..., colN) FROM t WHERE rowid >= ? AND rowid < ?
 *
 * Rows must arrive in ascending rowid order (a rowid range scan does); otherwise the result is an
 * error, never text in another order. For a WITHOUT ROWID table the first argument is NULL and a
 * row is named by its position in the call (0, 1, ...): the caller feeds the rows from a subquery
 * ordered by the primary key and reads the rows it must encode again in that same order.
 *
 * armp_copy_bin takes the same arguments and writes COPY BINARY tuples instead of text lines;
 * its result is described at final().
 *
 * <spec> is one token per column, comma separated: i (integer), f (double precision), n (numeric
 * without scale), nS (numeric with scale S), b (boolean), d (date), t (timestamp), z (timestamptz),
 * y (bytea), s (text, varchar, json, other), j (jsonb). A d, t or z column whose numbers are read
 * as instants of an epoch (TargetColumn.epoch) carries it: "t:<unit>:<offset>:<origin>", unit a
 * (seconds, milliseconds when |n| >= 1e11: unix), m (milliseconds) or s (seconds), offset the
 * epoch's seconds after 1970 (EPOCH_OFFSET_SECONDS, added to stored numbers), origin its
 * microseconds after 1970 (EPOCH_ORIGIN, subtracted from converted text in the canonical value).
 *
 * It converts only values whose result is certain to equal the JavaScript encoder's (values.ts
 * toPgText, checksum canonical text): for any other value (text in an integer column, an offset
 * timestamp, invalid UTF-8, a NUL, any non-NULL jsonb, ...) the row is not converted and a marker
 * is written instead: one 0x00 byte followed by the row's rowid as 8 little-endian bytes. COPY text
 * never contains 0x00, so the caller finds markers with memchr and encodes those rows in
 * JavaScript, in place, keeping rowid order.
 *
 * Result (a BLOB): 8 bytes little-endian unsigned sum of the converted rows' row hashes
 * (hashtextextended(canonical row text, 0), modulo 2^64), 8 bytes little-endian count of converted
 * rows, then the COPY text with markers. The row hash is PostgreSQL's hash_bytes_extended (lookup3,
 * seed 0), the same function as migrate/engine/hash64.ts.
 *
 * Nothing here writes to the database: the functions only read their arguments.
 *
 * A second entry point, sqlite3_armpcollate_init, is loaded into every read-only source connection
 * (sqlite.ts openSource): apps register collations of their own (Anki's unicase, Android's
 * LOCALIZED and UNICODE) and SQLite refuses any statement that compares such a column without one.
 * It installs a collation-needed hook that registers a stand-in under the missing name: ASCII case
 * folding, then bytes (SQLite's NOCASE), the closest common order those collations share. The
 * stand-in is only fit for reading: a writer would insert index entries in the stand-in's order,
 * so writable connections (capture, rollback) never load it.
 */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *p;
  size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return 1;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + extra) cap *= 2;
  char *p = sqlite3_realloc64(b->p, cap);
  if (!p) return 0;
  b->p = p;
  b->cap = cap;
  return 1;
}

static void buf_put(Buf *b, const void *s, size_t n) {
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

#define OUT_LIMIT (4u << 20)

enum Kind { K_INT, K_FLOAT, K_NUMERIC, K_BOOL, K_DATE, K_TS, K_TSTZ, K_BYTEA, K_TEXT, K_JSONB };

typedef struct {
  enum Kind kind;
  int scale; /* numeric: -1 without scale */
  /* d/t/z columns whose numbers are read as instants (spec "t:<unit>:<offset s>:<origin us>"):
     unit 'a' seconds, or milliseconds when |n| >= 1e11 (unix); 'm' milliseconds; 's' seconds;
     0 for columns without an epoch (numbers read as Unix time, value_text). */
  char unit;
  int64_t offset_us; /* added to the stored instant for the COPY value (EPOCH_OFFSET_SECONDS) */
  int64_t origin_us; /* subtracted from converted text for the canonical value (EPOCH_ORIGIN) */
} Col;

typedef struct {
  int ncols; /* 0 until the spec is parsed; -1 when it is invalid */
  int disorder; /* a rowid arrived below its predecessor: the caller must not trust the order */
  sqlite3_int64 last_rowid;
  Col *cols;
  Buf out, line, canon;
  Buf fb; /* binary mode: rowids of the rows left to JavaScript, 8 bytes little-endian each */
  uint64_t sum, rows, fallbacks;
  int oom;
  int binary; /* armp_copy_bin: COPY BINARY tuples instead of COPY text lines */
} Acc;

/* ---- hash: PostgreSQL hash_bytes_extended(k, len, seed 0), as hash64.ts ---- */

#define ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }

static uint64_t hash64(const unsigned char *k, size_t len) {
  uint32_t a, b, c;
  a = b = c = 0x9e3779b9u + (uint32_t)len + 3923095u;
  size_t i = 0;
  while (len - i >= 12) {
    a += le32(k + i);
    b += le32(k + i + 4);
    c += le32(k + i + 8);
    a -= c; a ^= ROT(c, 4); c += b;
    b -= a; b ^= ROT(a, 6); a += c;
    c -= b; c ^= ROT(b, 8); b += a;
    a -= c; a ^= ROT(c, 16); c += b;
    b -= a; b ^= ROT(a, 19); a += c;
    c -= b; c ^= ROT(b, 4); b += a;
    i += 12;
  }
  size_t r = len - i;
  const unsigned char *t = k + i;
  if (r >= 8) {
    a += le32(t);
    b += le32(t + 4);
    if (r >= 9) c += (uint32_t)t[8] << 8;
    if (r >= 10) c += (uint32_t)t[9] << 16;
    if (r >= 11) c += (uint32_t)t[10] << 24;
  } else if (r >= 4) {
    a += le32(t);
    if (r >= 5) b += t[4];
    if (r >= 6) b += (uint32_t)t[5] << 8;
    if (r >= 7) b += (uint32_t)t[6] << 16;
  } else {
    if (r >= 1) a += t[0];
    if (r >= 2) a += (uint32_t)t[1] << 8;
    if (r >= 3) a += (uint32_t)t[2] << 16;
  }
  c ^= b; c -= ROT(b, 14);
  a ^= c; a -= ROT(c, 11);
  b ^= a; b -= ROT(a, 25);
  c ^= b; c -= ROT(b, 16);
  a ^= c; a -= ROT(c, 4);
  b ^= a; b -= ROT(a, 14);
  c ^= b; c -= ROT(b, 24);
  return ((uint64_t)b << 32) | c;
}

/* ---- value helpers ---- */

/* Strict UTF-8 (what V8 decodes without U+FFFD replacement), no NUL. */
static int utf8_ok(const unsigned char *s, int n) {
  int i = 0;
  while (i < n) {
    /* ASCII without NUL, 8 bytes at a time: most text is, and the byte loop below was a third of
       encode_row's time on the ARMP tables. A word passes when no byte has its high bit set and no
       byte is zero (the classic has-zero-byte test). */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if ((w & 0x8080808080808080ULL) != 0 || ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned c = s[i];
    if (c < 0x80) {
      if (c == 0) return 0;
      i++;
      continue;
    }
    int need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) { need = 2; lo = 0xA0; }
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) need = 2;
    else if (c == 0xED) { need = 2; hi = 0x9F; }
    else if (c == 0xF0) { need = 3; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) { need = 3; hi = 0x8F; }
    else return 0;
    if (i + need >= n) return 0; /* truncated sequence */
    unsigned d = s[i + 1];
    if (d < lo || d > hi) return 0;
    for (int k = 2; k <= need; k++) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
    }
    i += need + 1;
  }
  return 1;
}

/* Decimal text of v (snprintf costs ~10x more per call, and this runs for most columns). */
static int fmt_u64(char *dst, uint64_t u) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  for (int k = 0; k < n; k++) dst[k] = tmp[n - 1 - k];
  dst[n] = 0;
  return n;
}

static int fmt_i64(char *dst, sqlite3_int64 v) {
  if (v < 0) {
    dst[0] = '-';
    return 1 + fmt_u64(dst + 1, (uint64_t)0 - (uint64_t)v);
  }
  return fmt_u64(dst, (uint64_t)v);
}

static void put2(char *p, int v) {
  p[0] = (char)('0' + v / 10);
  p[1] = (char)('0' + v % 10);
}

/* Exact powers of ten as doubles (10^0 .. 10^22 are representable). */
static const double POW10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const char HEXD[] = "0123456789abcdef";

/*
 * A double as a C99 hexadecimal floating constant ("-0x1.8p+1"): exact by construction, and what
 * PostgreSQL's float8in reads (it parses with strtod). ~20x cheaper than "%.17g".
 */
static int fmt_hexfloat(char *dst, double d) {
  uint64_t bits;
  memcpy(&bits, &d, 8);
  int n = 0;
  if (bits >> 63) dst[n++] = '-';
  int e = (int)((bits >> 52) & 0x7ff);
  uint64_t m = bits & 0xfffffffffffffULL;
  if (e == 0 && m == 0) {
    dst[n++] = '0';
    dst[n] = 0;
    return n;
  }
  dst[n++] = '0';
  dst[n++] = 'x';
  dst[n++] = e == 0 ? '0' : '1';
  if (m) {
    dst[n++] = '.';
    int digits = 13;
    while ((m & 15) == 0) {
      m >>= 4;
      digits--;
    }
    for (int k = digits - 1; k >= 0; k--) dst[n++] = HEXD[(m >> (4 * k)) & 15];
  }
  dst[n++] = 'p';
  int exp = e == 0 ? -1022 : e - 1023;
  if (exp < 0) {
    dst[n++] = '-';
    exp = -exp;
  } else dst[n++] = '+';
  n += fmt_u64(dst + n, (uint64_t)exp);
  return n;
}

/* Appends "." and `scale` zeros to the n characters in val (integers as numeric(p, scale)); -1 when val is too small. */
static int pad_scale(char *val, int n, int scale, int vcap) {
  if (scale > 0) {
    if ((long)n + 1 + (long)scale >= (long)vcap) return -1;
    val[n++] = '.';
    for (int k = 0; k < scale; k++) val[n++] = '0';
  }
  val[n] = 0;
  return n;
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* s starts with `pattern`, where 'd' stands for any digit and every other character for itself. */
static int matches(const unsigned char *s, const char *pattern) {
  for (int i = 0; pattern[i]; i++) {
    if (pattern[i] == 'd' ? !is_digit(s[i]) : s[i] != (unsigned char)pattern[i]) return 0;
  }
  return 1;
}

static int match_date(const unsigned char *s) { return matches(s, "dddd-dd-dd"); }

static int match_time(const unsigned char *s) { return matches(s, "dd:dd:dd"); }

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm), for non-negative days. */
static void civil(int64_t days, int *y, int *m, int *d) {
  int64_t z = days + 719468;
  int64_t era = z / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yy + (*m <= 2));
}

/*
 * Writes the PostgreSQL text of value v of column c into val (NUL-terminated, ASCII or valid
 * UTF-8) and returns its length, or -1 when the JavaScript encoder must handle the value.
 * For text the value itself is returned through *text (not copied) and the result is its length.
 */
static int value_text(const Col *c, sqlite3_value *v, char *val, int vcap, const unsigned char **text) {
  int type = sqlite3_value_type(v);
  *text = NULL;
  switch (c->kind) {
    case K_INT:
      return type == SQLITE_INTEGER ? fmt_i64(val, sqlite3_value_int64(v)) : -1;
    case K_FLOAT:
      if (type == SQLITE_INTEGER) return fmt_i64(val, sqlite3_value_int64(v));
      if (type == SQLITE_FLOAT) {
        double d = sqlite3_value_double(v);
        if (!isfinite(d)) return -1;
        return fmt_hexfloat(val, d);
      }
      return -1;
    case K_NUMERIC:
      if (type == SQLITE_INTEGER) {
        return pad_scale(val, fmt_i64(val, sqlite3_value_int64(v)), c->scale, vcap);
      }
      if (type == SQLITE_FLOAT && c->scale >= 0 && c->scale <= 15) {
        double d = sqlite3_value_double(v);
        if (d == 0) {
          /* -0.0 too: JavaScript's String(-0) is "0" */
          val[0] = '0';
          return pad_scale(val, 1, c->scale, vcap);
        }
        /* Below 10^(15 - s) doubles are closer than 10^-s, so at most one s-decimal number rounds
           to d: if printf's reads back as d it is JavaScript's shortest text padded to s decimals. */
        if (!(fabs(d) < POW10[15 - c->scale])) return -1;
        /* Candidate r / 10^s; r < 10^15 and 10^s are exact doubles, so r / 10^s is the correctly
           rounded value of that decimal, i.e. what strtod would read: it must be d itself. */
        double scaled = d * POW10[c->scale];
        double r = nearbyint(scaled);
        if (r / POW10[c->scale] != d) return -1;
        uint64_t u = (uint64_t)fabs(r);
        char digits[24];
        int nd = fmt_u64(digits, u);
        int n = 0;
        if (d < 0) val[n++] = '-';
        if (nd <= c->scale) {
          /* 0.0ddd */
          val[n++] = '0';
          val[n++] = '.';
          for (int k = nd; k < c->scale; k++) val[n++] = '0';
          memcpy(val + n, digits, nd);
          n += nd;
        } else {
          memcpy(val + n, digits, nd - c->scale);
          n += nd - c->scale;
          if (c->scale > 0) {
            val[n++] = '.';
            memcpy(val + n, digits + nd - c->scale, c->scale);
            n += c->scale;
          }
        }
        val[n] = 0;
        return n;
      }
      return -1;
    case K_BOOL:
      if (type == SQLITE_INTEGER) {
        sqlite3_int64 i = sqlite3_value_int64(v);
        if (i != 0 && i != 1) return -1;
        val[0] = i ? 't' : 'f';
        val[1] = 0;
        return 1;
      }
      if (type == SQLITE_TEXT) {
        const unsigned char *s = sqlite3_value_text(v);
        int n = sqlite3_value_bytes(v);
        int a = 0, b = n;
        while (a < b && (s[a] == ' ' || (s[a] >= 9 && s[a] <= 13))) a++;
        while (b > a && (s[b - 1] == ' ' || (s[b - 1] >= 9 && s[b - 1] <= 13))) b--;
        char w[8];
        if (b - a > 5) return -1;
        for (int k = a; k < b; k++) {
          unsigned char ch = s[k];
          if (ch == 0) return -1; /* "yes\0" is no spelling (JavaScript rejects it) */
          if (ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch + 32);
          w[k - a] = (char)ch;
        }
        w[b - a] = 0;
        static const char *T[] = {"1", "t", "true", "y", "yes", "on"};
        static const char *F[] = {"0", "f", "false", "n", "no", "off"};
        for (int k = 0; k < 6; k++) {
          if (strcmp(w, T[k]) == 0) { val[0] = 't'; val[1] = 0; return 1; }
          if (strcmp(w, F[k]) == 0) { val[0] = 'f'; val[1] = 0; return 1; }
        }
      }
      return -1;
    case K_DATE:
      if (type == SQLITE_TEXT && sqlite3_value_bytes(v) == 10) {
        const unsigned char *s = sqlite3_value_text(v);
        if (!match_date(s)) return -1;
        memcpy(val, s, 10);
        val[10] = 0;
        return 10;
      }
      return -1;
    case K_TS:
    case K_TSTZ: {
      int n;
      if (type == SQLITE_INTEGER) {
        sqlite3_int64 x = sqlite3_value_int64(v);
        if (x < 0 || x >= 253402300800000LL) return -1;
        int64_t ms = x < 100000000000LL ? x * 1000 : x;
        int64_t secs = ms / 1000, frac = ms % 1000;
        int y, mo, d;
        civil(secs / 86400, &y, &mo, &d);
        int64_t sod = secs % 86400;
        /* YYYY-MM-DD HH:MM:SS (years 1970..9999 here) */
        put2(val, y / 100);
        put2(val + 2, y % 100);
        val[4] = '-';
        put2(val + 5, mo);
        val[7] = '-';
        put2(val + 8, d);
        val[10] = ' ';
        put2(val + 11, (int)(sod / 3600));
        val[13] = ':';
        put2(val + 14, (int)(sod / 60 % 60));
        val[16] = ':';
        put2(val + 17, (int)(sod % 60));
        n = 19;
        if (frac != 0) {
          char f[4] = {(char)('0' + frac / 100), (char)('0' + frac / 10 % 10), (char)('0' + frac % 10), 0};
          int fl = 3;
          while (fl > 0 && f[fl - 1] == '0') fl--;
          val[n++] = '.';
          memcpy(val + n, f, fl);
          n += fl;
        }
      } else if (type == SQLITE_TEXT) {
        const unsigned char *s = sqlite3_value_text(v);
        int len = sqlite3_value_bytes(v);
        if (len < 19 || len > 64 || !match_date(s) || (s[10] != ' ' && s[10] != 'T') || !match_time(s + 11)) return -1;
        memcpy(val, s, 10);
        val[10] = ' ';
        memcpy(val + 11, s + 11, 8);
        n = 19;
        const unsigned char *r = s + 19;
        int rl = len - 19;
        if (rl > 0 && r[rl - 1] == 'Z') rl--;
        if (rl > 0) {
          /* "." then one or more digits; up to 6 kept, trailing zeros dropped (normaliseTimestamp). */
          if (r[0] != '.' || rl < 2) return -1;
          for (int k = 1; k < rl; k++) if (!is_digit(r[k])) return -1;
          int fl = rl - 1 > 6 ? 6 : rl - 1;
          while (fl > 0 && r[fl] == '0') fl--;
          if (fl > 0) {
            val[n++] = '.';
            memcpy(val + n, r + 1, fl);
            n += fl;
          }
        }
      } else return -1;
      if (c->kind == K_TSTZ) {
        memcpy(val + n, "+00", 3);
        n += 3;
      }
      val[n] = 0;
      return n;
    }
    case K_JSONB: /* the line is the text itself; encode_row builds the canonical text */
    case K_TEXT:
      if (type == SQLITE_INTEGER && c->kind == K_TEXT) return fmt_i64(val, sqlite3_value_int64(v));
      if (type == SQLITE_TEXT) {
        const unsigned char *s = sqlite3_value_text(v);
        int n = sqlite3_value_bytes(v);
        if (!utf8_ok(s, n)) return -1;
        *text = s;
        return n;
      }
      return -1;
    case K_BYTEA:
      return -1; /* handled by the caller */
  }
  return -1;
}


/* ---- jsonb: the canonical text is jsonb's own rendering, exactly as values.ts jsonbText builds it ---- */

typedef struct {
  const unsigned char *s;
  int n, i, depth;
} Json;

static void jws(Json *j) {
  while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r')) j->i++;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes the JSON string at j->i (on its opening quote) into dst; 0 on anything JavaScript should judge. */
static int jstring(Json *j, Buf *dst) {
  if (j->i >= j->n || j->s[j->i] != '"') return 0;
  j->i++;
  for (;;) {
    if (j->i >= j->n) return 0;
    unsigned char c = j->s[j->i];
    if (c == '"') {
      j->i++;
      return 1;
    }
    if (c < 0x20) return 0;
    if (!buf_reserve(dst, 4)) return 0;
    if (c != '\\') {
      dst->p[dst->len++] = (char)c;
      j->i++;
      continue;
    }
    if (j->i + 1 >= j->n) return 0;
    unsigned char e = j->s[j->i + 1];
    j->i += 2;
    switch (e) {
      case '"': dst->p[dst->len++] = '"'; break;
      case '\\': dst->p[dst->len++] = '\\'; break;
      case '/': dst->p[dst->len++] = '/'; break;
      case 'b': dst->p[dst->len++] = '\b'; break;
      case 'f': dst->p[dst->len++] = '\f'; break;
      case 'n': dst->p[dst->len++] = '\n'; break;
      case 'r': dst->p[dst->len++] = '\r'; break;
      case 't': dst->p[dst->len++] = '\t'; break;
      case 'u': {
        if (j->i + 4 > j->n) return 0;
        unsigned cp = 0;
        for (int k = 0; k < 4; k++) {
          int h = hexval(j->s[j->i + k]);
          if (h < 0) return 0;
          cp = cp * 16 + (unsigned)h;
        }
        j->i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          /* A surrogate pair; anything else (lone surrogates) is left to JavaScript and PostgreSQL. */
          if (j->i + 6 > j->n || j->s[j->i] != '\\' || j->s[j->i + 1] != 'u') return 0;
          unsigned lo = 0;
          for (int k = 0; k < 4; k++) {
            int h = hexval(j->s[j->i + 2 + k]);
            if (h < 0) return 0;
            lo = lo * 16 + (unsigned)h;
          }
          if (lo < 0xDC00 || lo > 0xDFFF) return 0;
          j->i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
          return 0; /* lone low surrogate; \u0000 cannot be stored in jsonb */
        }
        if (cp < 0x80) dst->p[dst->len++] = (char)cp;
        else if (cp < 0x800) {
          dst->p[dst->len++] = (char)(0xC0 | (cp >> 6));
          dst->p[dst->len++] = (char)(0x80 | (cp & 63));
        } else if (cp < 0x10000) {
          dst->p[dst->len++] = (char)(0xE0 | (cp >> 12));
          dst->p[dst->len++] = (char)(0x80 | ((cp >> 6) & 63));
          dst->p[dst->len++] = (char)(0x80 | (cp & 63));
        } else {
          dst->p[dst->len++] = (char)(0xF0 | (cp >> 18));
          dst->p[dst->len++] = (char)(0x80 | ((cp >> 12) & 63));
          dst->p[dst->len++] = (char)(0x80 | ((cp >> 6) & 63));
          dst->p[dst->len++] = (char)(0x80 | (cp & 63));
        }
        break;
      }
      default:
        return 0;
    }
  }
}

/* jsonb's string rendering of decoded bytes (values.ts jsonbText q()). */
static int jquote(Buf *out, const char *s, size_t n) {
  if (!buf_reserve(out, 2 + 6 * n)) return 0;
  out->p[out->len++] = '"';
  for (size_t k = 0; k < n; k++) {
    unsigned char c = (unsigned char)s[k];
    switch (c) {
      case '"': buf_put(out, "\\\"", 2); break;
      case '\\': buf_put(out, "\\\\", 2); break;
      case '\b': buf_put(out, "\\b", 2); break;
      case '\f': buf_put(out, "\\f", 2); break;
      case '\n': buf_put(out, "\\n", 2); break;
      case '\r': buf_put(out, "\\r", 2); break;
      case '\t': buf_put(out, "\\t", 2); break;
      default:
        if (c < 0x20) {
          char u[6] = {'\\', 'u', '0', '0', HEXD[c >> 4], HEXD[c & 15]};
          buf_put(out, u, 6);
        } else out->p[out->len++] = (char)c;
    }
  }
  out->p[out->len++] = '"';
  return 1;
}

/* A JSON number as numeric renders it (values.ts normaliseDecimal without a scale). */
static int jnumber(Json *j, Buf *out) {
  int i = j->i, neg = 0;
  if (i < j->n && j->s[i] == '-') { neg = 1; i++; }
  int is = i;
  if (i < j->n && j->s[i] == '0') i++;
  else if (i < j->n && j->s[i] >= '1' && j->s[i] <= '9') while (i < j->n && is_digit(j->s[i])) i++;
  else return 0;
  int il = i - is;
  int fs = i, fl = 0;
  if (i < j->n && j->s[i] == '.') {
    i++;
    fs = i;
    while (i < j->n && is_digit(j->s[i])) i++;
    fl = i - fs;
    if (fl == 0) return 0;
  }
  long exp = 0;
  if (i < j->n && (j->s[i] == 'e' || j->s[i] == 'E')) {
    i++;
    int eneg = 0;
    if (i < j->n && (j->s[i] == '+' || j->s[i] == '-')) { eneg = j->s[i] == '-'; i++; }
    int es = i;
    while (i < j->n && is_digit(j->s[i])) {
      exp = exp * 10 + (j->s[i] - '0');
      if (exp > 1000) return 0; /* absurd exponents: JavaScript decides */
      i++;
    }
    if (i == es) return 0;
    if (eneg) exp = -exp;
  }
  j->i = i;
  /* digits = int part + fraction; point = digits before the decimal point */
  int nd = il + fl;
  long point = il + exp;
  long dscale = (long)fl - exp;
  if (dscale < 0) dscale = 0;
  long lead = point < 0 ? -point : 0; /* zeros in front */
  if (point < 0) point = 0;
  long total = lead + nd;
  if (point > total) total = point; /* zeros behind */
  /* digit k of the padded digit string */
#define DIG(k) ((k) < lead ? '0' : (k) - lead < il ? (char)j->s[is + (k) - lead] : (k) - lead < nd ? (char)j->s[fs + (k) - lead - il] : '0')
  if (!buf_reserve(out, (size_t)(total + dscale + 4))) return 0;
  size_t start = out->len;
  if (neg) out->p[out->len++] = '-';
  size_t body = out->len;
  long k = 0;
  while (k < point - 1 && DIG(k) == '0') k++; /* leading zeros of the integer part, keep one digit */
  if (point == 0) out->p[out->len++] = '0';
  for (; k < point; k++) out->p[out->len++] = DIG(k);
  if (dscale > 0) {
    out->p[out->len++] = '.';
    for (long f = 0; f < dscale; f++) out->p[out->len++] = point + f < total ? DIG(point + f) : '0';
  }
#undef DIG
  if (neg) {
    int zero = 1;
    for (size_t q = body; q < out->len; q++) if (out->p[q] != '0' && out->p[q] != '.') zero = 0;
    if (zero) {
      memmove(out->p + start, out->p + body, out->len - body);
      out->len--;
    }
  }
  return 1;
}

typedef struct {
  size_t ks, kl, vs, vl, order;
  const char *base;
} JEntry;

static int jentry_cmp(const void *x, const void *y) {
  const JEntry *a = x, *b = y;
  if (a->kl != b->kl) return a->kl < b->kl ? -1 : 1;
  int c = memcmp(a->base + a->ks, b->base + b->ks, a->kl);
  if (c) return c;
  return a->order < b->order ? -1 : a->order > b->order;
}

static int jvalue(Json *j, Buf *out);

static int jobject(Json *j, Buf *out) {
  j->i++; /* { */
  jws(j);
  if (j->i < j->n && j->s[j->i] == '}') {
    j->i++;
    if (!buf_reserve(out, 2)) return 0;
    buf_put(out, "{}", 2);
    return 1;
  }
  Buf ob = {0};
  JEntry *es = NULL;
  size_t ne = 0, ce = 0;
  int ok = 0;
  for (;;) {
    jws(j);
    size_t ks = ob.len;
    if (!jstring(j, &ob)) goto done;
    size_t kl = ob.len - ks;
    jws(j);
    if (j->i >= j->n || j->s[j->i] != ':') goto done;
    j->i++;
    size_t vs = ob.len;
    if (!jvalue(j, &ob)) goto done;
    if (ne == ce) {
      ce = ce ? ce * 2 : 8;
      JEntry *ne2 = sqlite3_realloc64(es, ce * sizeof(JEntry));
      if (!ne2) goto done;
      es = ne2;
    }
    es[ne] = (JEntry){ks, kl, vs, ob.len - vs, ne, NULL};
    ne++;
    jws(j);
    if (j->i >= j->n) goto done;
    unsigned char d = j->s[j->i++];
    if (d == '}') break;
    if (d != ',') goto done;
  }
  for (size_t k = 0; k < ne; k++) es[k].base = ob.p;
  /* Ordered by key length, then bytes; of equal keys the last one wins. */
  qsort(es, ne, sizeof(JEntry), jentry_cmp);
  if (!buf_reserve(out, 1)) goto done;
  out->p[out->len++] = '{';
  int first = 1;
  for (size_t k = 0; k < ne; k++) {
    if (k + 1 < ne && es[k + 1].kl == es[k].kl && memcmp(ob.p + es[k + 1].ks, ob.p + es[k].ks, es[k].kl) == 0) continue;
    if (!first) {
      if (!buf_reserve(out, 2)) goto done;
      buf_put(out, ", ", 2);
    }
    first = 0;
    if (!jquote(out, ob.p + es[k].ks, es[k].kl) || !buf_reserve(out, 2 + es[k].vl)) goto done;
    buf_put(out, ": ", 2);
    buf_put(out, ob.p + es[k].vs, es[k].vl);
  }
  if (!buf_reserve(out, 1)) goto done;
  out->p[out->len++] = '}';
  ok = 1;
done:
  sqlite3_free(ob.p);
  sqlite3_free(es);
  return ok;
}

static int jvalue(Json *j, Buf *out) {
  if (++j->depth > 200) return 0;
  jws(j);
  int ok = 0;
  if (j->i >= j->n) ok = 0;
  else {
    unsigned char c = j->s[j->i];
    if (c == '{') ok = jobject(j, out);
    else if (c == '[') {
      j->i++;
      jws(j);
      if (!buf_reserve(out, 2)) ok = 0;
      else if (j->i < j->n && j->s[j->i] == ']') {
        j->i++;
        buf_put(out, "[]", 2);
        ok = 1;
      } else {
        out->p[out->len++] = '[';
        for (;;) {
          if (!jvalue(j, out)) break;
          jws(j);
          if (j->i >= j->n) break;
          unsigned char d = j->s[j->i++];
          if (d == ']') {
            if (buf_reserve(out, 1)) {
              out->p[out->len++] = ']';
              ok = 1;
            }
            break;
          }
          if (d != ',' || !buf_reserve(out, 2)) break;
          buf_put(out, ", ", 2);
        }
      }
    } else if (c == '"') {
      Buf tmp = {0};
      ok = jstring(j, &tmp) && jquote(out, tmp.p ? tmp.p : "", tmp.len);
      sqlite3_free(tmp.p);
    } else if (j->n - j->i >= 4 && memcmp(j->s + j->i, "true", 4) == 0) {
      j->i += 4;
      ok = buf_reserve(out, 4);
      if (ok) buf_put(out, "true", 4);
    } else if (j->n - j->i >= 5 && memcmp(j->s + j->i, "false", 5) == 0) {
      j->i += 5;
      ok = buf_reserve(out, 5);
      if (ok) buf_put(out, "false", 5);
    } else if (j->n - j->i >= 4 && memcmp(j->s + j->i, "null", 4) == 0) {
      j->i += 4;
      ok = buf_reserve(out, 4);
      if (ok) buf_put(out, "null", 4);
    } else ok = jnumber(j, out);
  }
  j->depth--;
  return ok;
}

/* The jsonb canonical text of a whole document into out; 0: JavaScript must take the row. */
static int jsonb_canon(const unsigned char *s, int n, Buf *out) {
  Json j = {s, n, 0, 0};
  if (!jvalue(&j, out)) return 0;
  jws(&j);
  return j.i == n;
}

/* Appends "V<n>:" to the canonical buffer. */
static void canon_head(Buf *cb, size_t n) {
  char *p = cb->p + cb->len;
  p[0] = 'V';
  int l = fmt_u64(p + 1, n);
  p[1 + l] = ':';
  cb->len += (size_t)l + 2;
}

/* ---- COPY BINARY field values (armp_copy_bin), built from the text value_text chose ---- */

/* Big-endian field of 2, 4 or 8 bytes. Through a local pointer: a store through b->p (a char
   pointer may alias anything) made the compiler reload b->p and b->len for every byte. */
static void put_be(Buf *b, uint64_t v, int bytes) {
  unsigned char *p = (unsigned char *)b->p + b->len;
  for (int k = bytes - 1; k >= 0; k--) *p++ = (unsigned char)(v >> (8 * k));
  b->len += (size_t)bytes;
}

static int num2(const char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/*
 * "YYYY-MM-DD" as days since 2000-01-01 (PostgreSQL's date), or 0 when it is not a real calendar
 * date of years 1..9999: PostgreSQL's date_in rejects those (or reads them differently), so such
 * values go back to JavaScript and through COPY text, where PostgreSQL judges them as before.
 */
static int date_days(const char *s, int64_t *days) {
  static const int DIM[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y = num2(s) * 100 + num2(s + 2), m = num2(s + 5), d = num2(s + 8);
  if (y < 1 || m < 1 || m > 12 || d < 1) return 0;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > DIM[m - 1] + (m == 2 && leap)) return 0;
  *days = days_from_civil(y, m, d) - 10957; /* 1970-01-01 -> 2000-01-01 */
  return 1;
}

/*
 * The binary field for a value whose PostgreSQL text value_text wrote into val (n bytes):
 * bigint, double precision, numeric, boolean, date and timestamp[tz] in the representation of
 * their typsend functions. 0: not a value we can send in binary (the row goes back to JavaScript).
 */
static int bin_value(Buf *lb, const Col *c, sqlite3_value *v, const char *val, int n) {
  switch (c->kind) {
    case K_INT:
      put_be(lb, 8, 4);
      put_be(lb, (uint64_t)sqlite3_value_int64(v), 8);
      return 1;
    case K_FLOAT: {
      double d = sqlite3_value_type(v) == SQLITE_INTEGER ? (double)sqlite3_value_int64(v) : sqlite3_value_double(v);
      uint64_t bits;
      memcpy(&bits, &d, 8);
      put_be(lb, 8, 4);
      put_be(lb, bits, 8);
      return 1;
    }
    case K_BOOL:
      put_be(lb, 1, 4);
      lb->p[lb->len++] = val[0] == 't';
      return 1;
    case K_DATE: {
      int64_t days;
      if (n != 10 || !date_days(val, &days)) return 0;
      put_be(lb, 4, 4);
      put_be(lb, (uint64_t)days, 4);
      return 1;
    }
    case K_TS:
    case K_TSTZ: {
      /* "YYYY-MM-DD HH:MM:SS[.f{1,6}]" (+ "+00" for timestamptz): microseconds since 2000-01-01. */
      int64_t days;
      int end = c->kind == K_TSTZ ? n - 3 : n;
      if (end < 19 || !date_days(val, &days)) return 0;
      int hh = num2(val + 11), mi = num2(val + 14), ss = num2(val + 17);
      if (hh > 23 || mi > 59 || ss > 59) return 0; /* 24:00:00 and leap seconds: PostgreSQL's own reading */
      int64_t us = 0;
      if (end > 19) {
        int fl = end - 20;
        if (val[19] != '.' || fl < 1 || fl > 6) return 0;
        for (int k = 0; k < 6; k++) us = us * 10 + (k < fl ? val[20 + k] - '0' : 0);
      }
      int64_t t = ((days * 86400 + hh * 3600 + mi * 60 + ss) * 1000000) + us;
      put_be(lb, 8, 4);
      put_be(lb, (uint64_t)t, 8);
      return 1;
    }
    case K_NUMERIC: {
      /* "[-]digits[.digits]" -> ndigits, weight, sign, dscale, then base-10000 digits (numeric_send). */
      int neg = val[0] == '-', i = neg;
      int is = i;
      while (i < n && is_digit((unsigned char)val[i])) i++;
      int il = i - is, fs = i, fl = 0;
      if (i < n && val[i] == '.') {
        fs = i + 1;
        fl = n - fs;
      } else if (i != n) return 0;
      while (il > 0 && val[is] == '0') is++, il--; /* leading zeros */
      int ig = (il + 3) / 4, fg = (fl + 3) / 4;
      int16_t dg[300];
      if (ig + fg > 300) return 0;
      /* integer part: groups aligned at the decimal point */
      for (int g = 0; g < ig; g++) {
        int x = 0;
        for (int k = 0; k < 4; k++) {
          int pos = il - (ig - g) * 4 + k; /* may be negative: leading zero */
          x = x * 10 + (pos >= 0 ? val[is + pos] - '0' : 0);
        }
        dg[g] = (int16_t)x;
      }
      for (int g = 0; g < fg; g++) {
        int x = 0;
        for (int k = 0; k < 4; k++) {
          int pos = g * 4 + k;
          x = x * 10 + (pos < fl ? val[fs + pos] - '0' : 0);
        }
        dg[ig + g] = (int16_t)x;
      }
      int first = 0, last = ig + fg;
      int weight = ig - 1;
      while (first < last && dg[first] == 0) first++, weight--;
      while (last > first && dg[last - 1] == 0) last--;
      int nd = last - first;
      if (nd == 0) weight = 0, neg = 0;
      /* fits: the caller reserved n + 16 bytes, and 12 + 2 * nd <= 12 + n / 2 + 4 */
      put_be(lb, 8 + 2 * (uint64_t)nd, 4);
      put_be(lb, (uint64_t)nd, 2);
      put_be(lb, (uint64_t)(uint16_t)(int16_t)weight, 2);
      put_be(lb, neg ? 0x4000 : 0, 2);
      put_be(lb, (uint64_t)fl, 2);
      for (int g = first; g < last; g++) put_be(lb, (uint64_t)dg[g], 2);
      return 1;
    }
    default:
      return 0;
  }
}

/* ---- epoch columns: numbers read as instants of a given epoch (values.ts epochToMicros, instantCanonical) ---- */

/* Microseconds of 0001-01-01 and of 10000-01-01 since 1970 (microsToParts accepts years 1..9999). */
#define INSTANT_MIN_US (-62135596800LL * 1000000LL)
#define INSTANT_END_US (253402300800LL * 1000000LL)

/*
 * values.ts storedMicros for a double: BigInt(d.toFixed(k)) without the point, i.e. the integer n
 * nearest to |d| * 10^k from d's exact binary value (of two, the larger), with d's sign. 0 when d is
 * not finite or |d| >= 1e20 (storedMicros throws).
 */
static int fixed_micros(double d, int k, __int128 *out) {
  if (!isfinite(d) || fabs(d) >= 1e20) return 0;
  uint64_t bits;
  memcpy(&bits, &d, 8);
  int neg = (int)(bits >> 63);
  int e = (int)((bits >> 52) & 0x7ff);
  uint64_t m = bits & 0xfffffffffffffULL;
  int e2; /* |d| = m * 2^e2 */
  if (e == 0) e2 = -1074;
  else {
    m |= 1ULL << 52;
    e2 = e - 1075;
  }
  /* m < 2^53 and 10^6 < 2^20: the product fits in 73 bits */
  unsigned __int128 n = (unsigned __int128)m * (k == 6 ? 1000000u : 1000u), q;
  if (e2 >= 0) q = n << e2; /* |d| < 1e20 < 2^67, so e2 <= 14 and q < 2^87 */
  else if (-e2 >= 100) q = 0; /* n < 2^73 is below half of 2^-e2 */
  else {
    int s = -e2;
    unsigned __int128 rem = n & ((((unsigned __int128)1) << s) - 1), half = ((unsigned __int128)1) << (s - 1);
    q = (n >> s) + (rem >= half);
  }
  *out = neg ? -(__int128)q : (__int128)q;
  return 1;
}

/* values.ts microsText: "[-]S.ffffff". */
static int micros_text(char *dst, int64_t us) {
  int n = 0;
  uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
  if (us < 0) dst[n++] = '-';
  n += fmt_u64(dst + n, a / 1000000u);
  dst[n++] = '.';
  uint64_t f = a % 1000000u;
  for (int k = 5; k >= 0; k--, f /= 10) dst[n + k] = (char)('0' + f % 10);
  n += 6;
  dst[n] = 0;
  return n;
}

/*
 * The COPY text of an instant (microseconds since 1970, years 1..9999) in column c, as values.ts
 * microsToParts and normaliseTimestamp/normaliseDate render it; -1 for a date column's instant that
 * is not midnight (JavaScript raises that row's error).
 */
static int instant_text(const Col *c, int64_t us, char *val) {
  int64_t secs = us / 1000000, frac = us % 1000000;
  if (frac < 0) frac += 1000000, secs--;
  int64_t days = secs / 86400, sod = secs % 86400;
  if (sod < 0) sod += 86400, days--;
  if (c->kind == K_DATE && (sod != 0 || frac != 0)) return -1;
  int y, mo, d;
  civil(days, &y, &mo, &d); /* days >= -719162 (0001-01-01): civil's arithmetic stays non-negative */
  put2(val, y / 100);
  put2(val + 2, y % 100);
  val[4] = '-';
  put2(val + 5, mo);
  val[7] = '-';
  put2(val + 8, d);
  int n = 10;
  if (c->kind != K_DATE) {
    val[10] = ' ';
    put2(val + 11, (int)(sod / 3600));
    val[13] = ':';
    put2(val + 14, (int)(sod / 60 % 60));
    val[16] = ':';
    put2(val + 17, (int)(sod % 60));
    n = 19;
    if (frac != 0) {
      char f[6];
      int64_t x = frac;
      for (int k = 5; k >= 0; k--, x /= 10) f[k] = (char)('0' + x % 10);
      int fl = 6;
      while (f[fl - 1] == '0') fl--;
      val[n++] = '.';
      memcpy(val + n, f, (size_t)fl);
      n += fl;
    }
    if (c->kind == K_TSTZ) {
      memcpy(val + n, "+00", 3);
      n += 3;
    }
  }
  val[n] = 0;
  return n;
}

/*
 * An epoch column's value: its COPY text into val (returns its length) and its canonical value
 * (values.ts instantCanonical) into cv (*cn bytes). A stored number: the instant is
 * storedMicros(n, unit) + offset, the canonical value that stored number alone. Date/time text: the
 * text value_text converts, the canonical value its instant minus the epoch's origin. -1 for
 * anything else (numeric text, dates PostgreSQL would read differently, years outside 1..9999):
 * JavaScript takes the row.
 */
static int epoch_value(const Col *c, sqlite3_value *v, char *val, int vcap, char *cv, int *cn) {
  int type = sqlite3_value_type(v);
  if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
    __int128 stored;
    if (type == SQLITE_INTEGER) {
      sqlite3_int64 x = sqlite3_value_int64(v);
      /* far beyond year 9999 in any unit; keeps the products below in range */
      if (x > 1000000000000000000LL || x < -1000000000000000000LL) return -1;
      uint64_t ax = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
      int ms = c->unit == 'm' || (c->unit == 'a' && ax >= 100000000000ULL);
      stored = (__int128)x * (ms ? 1000 : 1000000);
    } else {
      double d = sqlite3_value_double(v);
      int ms = c->unit == 'm' || (c->unit == 'a' && fabs(d) >= 1e11);
      if (!fixed_micros(d, ms ? 3 : 6, &stored)) return -1;
    }
    __int128 us = stored + c->offset_us;
    if (us < INSTANT_MIN_US || us >= INSTANT_END_US) return -1;
    /* |stored| < 2^62 here: |offset_us| < 10^18 (parse_spec) */
    *cn = micros_text(cv, (int64_t)stored);
    return instant_text(c, (int64_t)us, val);
  }
  if (type != SQLITE_TEXT) return -1;
  const unsigned char *text;
  int n = value_text(c, v, val, vcap, &text);
  if (n < 0) return -1;
  /* val: "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS[.f{1,6}][+00]" (value_text's output) */
  int64_t days;
  if (n < 10 || !date_days(val, &days)) return -1; /* not a calendar date of years 1..9999 */
  int64_t secs = (days + 10957) * 86400, us = 0;
  if (c->kind != K_DATE) {
    int end = c->kind == K_TSTZ ? n - 3 : n;
    if (end < 19) return -1;
    int hh = num2(val + 11), mi = num2(val + 14), ss = num2(val + 17);
    if (hh > 23 || mi > 59 || ss > 59) return -1; /* 24:00:00 and leap seconds: JavaScript's reading */
    if (end > 19) {
      int fl = end - 20;
      if (val[19] != '.' || fl < 1 || fl > 6) return -1;
      for (int k = 0; k < 6; k++) us = us * 10 + (k < fl ? val[20 + k] - '0' : 0);
    }
    secs += hh * 3600 + mi * 60 + ss;
  } else if (n != 10) return -1;
  *cn = micros_text(cv, secs * 1000000 + us - c->origin_us);
  return n;
}

/*
 * Encodes one row into acc->line / acc->canon: a COPY text line, or (acc->binary) one COPY BINARY
 * tuple. 0 when JavaScript must take the row (or out of memory).
 */
static int encode_row(Acc *acc, sqlite3_value **argv) {
  Buf *lb = &acc->line, *cb = &acc->canon;
  const int bin = acc->binary;
  lb->len = cb->len = 0;
  char val[400];
  if (bin) {
    if (!buf_reserve(lb, 2)) return acc->oom = 1, 0;
    put_be(lb, (uint64_t)acc->ncols, 2);
  }
  for (int i = 0; i < acc->ncols; i++) {
    const Col *c = &acc->cols[i];
    sqlite3_value *v = argv[i];
    if (!buf_reserve(lb, 16) || !buf_reserve(cb, 40)) return acc->oom = 1, 0;
    if (i > 0 && !bin) buf_put(lb, "\t", 1);
    int type = sqlite3_value_type(v);
    if (type == SQLITE_NULL) {
      if (bin) put_be(lb, 0xffffffffu, 4);
      else buf_put(lb, "\\N", 2);
      buf_put(cb, "N", 1);
      continue;
    }
    if (c->kind == K_BYTEA) {
      if (type != SQLITE_BLOB) return 0;
      const unsigned char *p = sqlite3_value_blob(v);
      size_t n = (size_t)sqlite3_value_bytes(v);
      if (!buf_reserve(lb, 4 + 2 * n) || !buf_reserve(cb, 24 + 2 * n)) return acc->oom = 1, 0;
      if (bin) {
        put_be(lb, n, 4);
        if (n) buf_put(lb, p, n);
      } else buf_put(lb, "\\\\x", 3);
      canon_head(cb, 2 * n);
      for (size_t k = 0; k < n; k++) {
        char h[2] = {HEXD[p[k] >> 4], HEXD[p[k] & 15]};
        if (!bin) buf_put(lb, h, 2);
        buf_put(cb, h, 2);
      }
      continue;
    }
    if (c->unit) {
      /* An epoch column: its canonical value is not its COPY text (instantCanonical). */
      char cv[48];
      int cn = 0;
      int n = epoch_value(c, v, val, (int)sizeof val - 8, cv, &cn);
      if (n < 0) return 0;
      if (!buf_reserve(lb, (size_t)n + 16) || !buf_reserve(cb, 24 + (size_t)cn)) return acc->oom = 1, 0;
      if (!bin) buf_put(lb, val, (size_t)n);
      else if (!bin_value(lb, c, v, val, n)) return 0;
      canon_head(cb, (size_t)cn);
      buf_put(cb, cv, (size_t)cn);
      continue;
    }
    const unsigned char *text;
    int n = value_text(c, v, val, (int)sizeof val - 8, &text);
    if (n < 0) return 0;
    if (text) {
      /* Text: COPY-escaped (or length-prefixed) into the line, raw into the canonical text. */
      if (!buf_reserve(lb, 2 * (size_t)n + 5) || !buf_reserve(cb, 24 + (size_t)n)) return acc->oom = 1, 0;
      if (bin) {
        /* jsonb's binary form is a version byte (1) and the JSON text. */
        int j = c->kind == K_JSONB;
        put_be(lb, (uint64_t)n + (uint64_t)j, 4);
        if (j) lb->p[lb->len++] = 1;
        buf_put(lb, text, (size_t)n);
      } else {
        for (int k = 0; k < n; k++) {
          unsigned char ch = text[k];
          switch (ch) {
            case '\\': buf_put(lb, "\\\\", 2); break;
            case '\n': buf_put(lb, "\\n", 2); break;
            case '\r': buf_put(lb, "\\r", 2); break;
            case '\t': buf_put(lb, "\\t", 2); break;
            default: lb->p[lb->len++] = (char)ch;
          }
        }
      }
      if (c->kind == K_JSONB) {
        /* Canonical: jsonb's rendering, written after a placeholder head, then the head fixed up. */
        Buf jb = {0};
        int ok = jsonb_canon(text, n, &jb);
        if (ok && buf_reserve(cb, 24 + jb.len)) {
          canon_head(cb, jb.len);
          buf_put(cb, jb.p ? jb.p : "", jb.len);
        } else if (ok) acc->oom = 1, ok = 0;
        sqlite3_free(jb.p);
        if (!ok) return 0;
        continue;
      }
      canon_head(cb, (size_t)n);
      buf_put(cb, text, (size_t)n);
      continue;
    }
    if (!buf_reserve(lb, (size_t)n + 16) || !buf_reserve(cb, 24 + (size_t)n)) return acc->oom = 1, 0;
    if (!bin) buf_put(lb, val, (size_t)n);
    else if (!bin_value(lb, c, v, val, n)) return 0;
    if (c->kind == K_FLOAT) {
      /* Canonical: the double's IEEE bits, big-endian hex (encode(float8send(x), 'hex')). */
      double d = type == SQLITE_INTEGER ? (double)sqlite3_value_int64(v) : sqlite3_value_double(v);
      uint64_t bits;
      memcpy(&bits, &d, 8);
      char h[16];
      for (int k = 0; k < 16; k++) h[k] = HEXD[(bits >> (60 - 4 * k)) & 15];
      buf_put(cb, "V16:", 4);
      buf_put(cb, h, 16);
    } else {
      canon_head(cb, (size_t)n);
      buf_put(cb, val, (size_t)n);
    }
  }
  if (!bin) {
    if (!buf_reserve(lb, 1)) return acc->oom = 1, 0;
    buf_put(lb, "\n", 1);
  }
  return 1;
}

static int parse_spec(Acc *acc, const char *spec, int ncols) {
  acc->cols = sqlite3_malloc64(sizeof(Col) * (size_t)(ncols > 0 ? ncols : 1));
  if (!acc->cols) return 0;
  const char *p = spec;
  for (int i = 0; i < ncols; i++) {
    if (!p || !*p) return 0;
    Col *c = &acc->cols[i];
    c->scale = -1;
    c->unit = 0;
    c->offset_us = c->origin_us = 0;
    switch (*p) {
      case 'i': c->kind = K_INT; break;
      case 'f': c->kind = K_FLOAT; break;
      case 'n':
        c->kind = K_NUMERIC;
        if (is_digit((unsigned char)p[1])) {
          /* PostgreSQL allows scales up to 1000; anything longer is not a spec we write. */
          if (strspn(p + 1, "0123456789") > 4) return 0;
          c->scale = atoi(p + 1);
          if (c->scale > 1000) return 0;
        }
        break;
      case 'b': c->kind = K_BOOL; break;
      case 'd': c->kind = K_DATE; break;
      case 't': c->kind = K_TS; break;
      case 'z': c->kind = K_TSTZ; break;
      case 'y': c->kind = K_BYTEA; break;
      case 's': c->kind = K_TEXT; break;
      case 'j': c->kind = K_JSONB; break;
      default: return 0;
    }
    if (p[1] == ':') {
      /* an epoch: ":<unit a|m|s>:<offset seconds>:<origin microseconds>", date/time columns only */
      if ((c->kind != K_DATE && c->kind != K_TS && c->kind != K_TSTZ) || (p[2] != 'a' && p[2] != 'm' && p[2] != 's') || p[3] != ':') return 0;
      c->unit = p[2];
      char *end;
      long long off = strtoll(p + 4, &end, 10);
      if (end == p + 4 || *end != ':' || off > 1000000000000LL || off < -1000000000000LL) return 0;
      c->offset_us = (int64_t)off * 1000000;
      const char *o = end + 1;
      long long origin = strtoll(o, &end, 10);
      if (end == o || (*end != ',' && *end != 0) || origin > 1000000000000000000LL || origin < -1000000000000000000LL) return 0;
      c->origin_us = (int64_t)origin;
    }
    p = strchr(p, ',');
    if (p) p++;
  }
  return p == NULL;
}

static void step(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  if (argc < 3) {
    sqlite3_result_error(ctx, "armp_copy: expected (rowid, spec, column, ...)", -1);
    return;
  }
  Acc *acc = sqlite3_aggregate_context(ctx, sizeof(Acc));
  if (!acc || acc->oom || acc->ncols < 0) return;
  if (acc->ncols == 0) {
    acc->binary = sqlite3_user_data(ctx) != NULL;
    const char *spec = (const char *)sqlite3_value_text(argv[1]);
    acc->ncols = argc - 2;
    if (!parse_spec(acc, spec, argc - 2)) {
      acc->ncols = -1;
      return;
    }
  }
  /* A NULL first argument (WITHOUT ROWID tables): rows are named by their position in this call,
     counted from 0, and the caller reads them again in the same ORDER BY. */
  sqlite3_int64 rowid;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) rowid = (sqlite3_int64)(acc->rows + acc->fallbacks);
  else {
    rowid = sqlite3_value_int64(argv[0]);
    if (acc->rows + acc->fallbacks > 0 && rowid <= acc->last_rowid) acc->disorder = 1;
    acc->last_rowid = rowid;
  }
  /* Past OUT_LIMIT bytes the remaining rows become markers, so a block of huge rows cannot make
     one huge result: JavaScript then reads and sends those rows one at a time. */
  if (acc->out.len < OUT_LIMIT && encode_row(acc, argv + 2)) {
    if (!buf_reserve(&acc->out, acc->line.len)) { acc->oom = 1; return; }
    buf_put(&acc->out, acc->line.p, acc->line.len);
    acc->sum += hash64((const unsigned char *)acc->canon.p, acc->canon.len);
    acc->rows++;
  } else if (!acc->oom && acc->binary) {
    /* Binary tuples can hold any byte, so the rows left to JavaScript are listed apart. */
    acc->fallbacks++;
    if (!buf_reserve(&acc->fb, 8)) { acc->oom = 1; return; }
    for (int k = 0; k < 8; k++) acc->fb.p[acc->fb.len++] = (char)(unsigned char)((uint64_t)rowid >> (8 * k));
  } else if (!acc->oom) {
    acc->fallbacks++;
    unsigned char m[9];
    m[0] = 0;
    for (int k = 0; k < 8; k++) m[1 + k] = (unsigned char)((uint64_t)rowid >> (8 * k));
    if (!buf_reserve(&acc->out, 9)) { acc->oom = 1; return; }
    buf_put(&acc->out, m, 9);
  }
}

/*
 * armp_copy's result: [8 bytes sum][8 bytes converted rows][COPY text with markers].
 * armp_copy_bin's: [8 bytes sum][8 bytes converted rows][8 bytes n][n rowids (or positions) of the
 * rows left to JavaScript][COPY BINARY tuples]. All integers little-endian.
 */
static void final(sqlite3_context *ctx) {
  Acc *acc = sqlite3_aggregate_context(ctx, 0);
  size_t head = sqlite3_user_data(ctx) != NULL ? 24 : 16;
  if (!acc) {
    /* No rows: an empty result. */
    static const unsigned char empty[24] = {0};
    sqlite3_result_blob(ctx, empty, (int)head, SQLITE_TRANSIENT);
    return;
  }
  if (acc->oom) sqlite3_result_error_nomem(ctx);
  else if (acc->ncols < 0) sqlite3_result_error(ctx, "armp_copy: invalid column spec", -1);
  else if (acc->disorder) sqlite3_result_error(ctx, "armp_copy: rows did not arrive in rowid order", -1);
  else {
    size_t n = head + acc->fb.len + acc->out.len;
    unsigned char *r = sqlite3_malloc64(n);
    if (!r) sqlite3_result_error_nomem(ctx);
    else {
      for (int k = 0; k < 8; k++) r[k] = (unsigned char)(acc->sum >> (8 * k));
      for (int k = 0; k < 8; k++) r[8 + k] = (unsigned char)(acc->rows >> (8 * k));
      if (head == 24) {
        uint64_t nfb = acc->fb.len / 8;
        for (int k = 0; k < 8; k++) r[16 + k] = (unsigned char)(nfb >> (8 * k));
        if (acc->fb.len) memcpy(r + 24, acc->fb.p, acc->fb.len);
      }
      if (acc->out.len) memcpy(r + head + acc->fb.len, acc->out.p, acc->out.len);
      sqlite3_result_blob64(ctx, r, n, sqlite3_free);
    }
  }
  sqlite3_free(acc->fb.p);
  sqlite3_free(acc->out.p);
  sqlite3_free(acc->line.p);
  sqlite3_free(acc->canon.p);
  sqlite3_free(acc->cols);
}

/* hashtextextended(text, 0) of one value, as a signed 64-bit integer (tests compare it with PostgreSQL). */
static void hash_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const unsigned char *p = sqlite3_value_blob(argv[0]);
  int n = sqlite3_value_bytes(argv[0]);
  sqlite3_result_int64(ctx, (sqlite3_int64)hash64(p ? p : (const unsigned char *)"", (size_t)n));
}

/* ---- armp_profile: what each column holds, for the type decisions (decide.ts) ----

   armp_profile(spec, c1, c2, ...) is an aggregate over a table's rows. spec has one token per
   column, separated by ',': letters that switch on checks beyond the storage-class counts:
     u    text that PostgreSQL's text cannot hold (not strict UTF-8, or a NUL byte)
     l<n> text longer than n characters
     g    integers beyond +-2^53
     d<n> integers with more than n digits
     b    values that are boolean spellings (0/1 numbers; 1 0 t f true false y n yes no on off)
     s<n> REALs that numeric(.., n) cannot keep exactly (more than n decimals in their shortest
          round-trip form, or more digits before the point than d<n> allows; not finite)
     t    text that is a plain ISO date or date-time (armp_iso_ok)
     D    with t: only plain ISO dates (10 characters) count
     j    text that json_plain cannot show is JSON that jsonb reads (decide.ts reads those rows)
   The result is one group per column, separated by ';', of twelve counts separated by ',':
   null, integer, real, text, blob, bad text, over-long, big, too many digits, boolean spellings,
   ISO text, text not shown to be JSON.
   One scan in C replaces ten SQL expressions per column. */

#define PROF_N 12

/* Days in a month of the proleptic Gregorian calendar. */
static int month_days(int y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return d[m - 1];
}

static int digits_at(const unsigned char *s, int k, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[k + i] < '0' || s[k + i] > '9') return -1;
    v = v * 10 + (s[k + i] - '0');
  }
  return v;
}

/* A plain ISO date or date-time that values.ts reads and PostgreSQL accepts as it is:
   YYYY-MM-DD, optionally followed by ' ' or 'T', HH:MM:SS, an optional fraction of 1-6 digits
   and an optional 'Z'; every field in range, year 0001-9999. */
static int iso_instant(const unsigned char *s, int n) {
  if (n < 10) return 0;
  int y = digits_at(s, 0, 4), mo = digits_at(s, 5, 2), d = digits_at(s, 8, 2);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || s[4] != '-' || s[7] != '-' || d > month_days(y, mo)) return 0;
  if (n == 10) return 1;
  if (n < 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':') return 0;
  int h = digits_at(s, 11, 2), mi = digits_at(s, 14, 2), se = digits_at(s, 17, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return 0;
  int k = 19;
  if (k < n && s[k] == '.') {
    int f = 0;
    k++;
    while (k < n && s[k] >= '0' && s[k] <= '9') k++, f++;
    if (f < 1 || f > 6) return 0;
  }
  if (k < n && s[k] == 'Z') k++;
  return k == n;
}

/* Whether numeric(p, scale) keeps the double x exactly: some decimal with at most `scale`
   decimals reads back as x, and it has at most `digits` digits before the point. */
static int numeric_fits_slow(double x, int scale, int64_t digits) {
  if (!isfinite(x)) return 0;
  char buf[1400];
  snprintf(buf, sizeof buf, "%.*f", scale, x);
  if (strtod(buf, NULL) != x) return 0;
  const char *q = buf[0] == '-' ? buf + 1 : buf;
  while (*q == '0' && q[1] != '.' && q[1] != 0) q++;
  int64_t nd = 0;
  while (q[nd] >= '0' && q[nd] <= '9') nd++;
  if (nd == 1 && q[0] == '0') nd = 0;
  return digits < 0 || nd <= digits;
}

/* The same answer without formatting, for most values: r = x * 10^scale rounded. With |r| < 2^52
   and 10^scale exact, r / 10^scale is the correctly rounded double of the decimal r * 10^-scale
   (what strtod of it gives), so when it equals x that decimal reads back as x; as decimals
   10^-scale apart are then wider apart than a unit in x's last place, it is the only one, so it is
   the one "%.*f" prints, and its digits before the point are those of |r| / 10^scale. Anything
   else (a product that rounded the wrong way, large or non-finite x) takes the formatting path. */
static int numeric_fits(double x, int scale, int64_t digits) {
  static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  if (scale < 0 || scale > 15 || !isfinite(x)) return numeric_fits_slow(x, scale, digits);
  double y = x * p10[scale];
  if (!(y > -4503599627370496.0 && y < 4503599627370496.0)) return numeric_fits_slow(x, scale, digits);
  double r = nearbyint(y);
  if (r / p10[scale] != x) return numeric_fits_slow(x, scale, digits);
  if (digits < 0) return 1;
  uint64_t ip = (uint64_t)(r < 0 ? -r : r) / (uint64_t)p10[scale];
  int64_t nd = 0;
  while (ip) nd++, ip /= 10;
  return nd <= digits;
}

#define JSON_WS(s, i, n) while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++

/* Whether s[0..n) is JSON that JavaScript's JSON.parse reads (RFC 8259: one value, whitespace
   around it), with no "\u0000" anywhere in the text (jsonb refuses that escape) and nested at
   most 1000 deep. 0 means "not sure": decide.ts then reads those rows itself (invalidJson). */
static int json_plain(const unsigned char *s, int n) {
  char stack[1000]; /* '[' array, '{' object after a key, 'k' object expecting a key */
  int depth = 0, i = 0;
  for (;;) {
    /* a value */
    JSON_WS(s, i, n);
    if (i >= n) return 0;
    unsigned char c = s[i];
    if (c == '{' || c == '[') {
      if (depth >= (int)sizeof stack) return 0;
      stack[depth++] = (char)c;
      i++;
      JSON_WS(s, i, n);
      if (i < n && s[i] == (c == '{' ? '}' : ']')) {
        depth--;
        i++;
        goto after;
      }
      if (c == '[') continue;
      goto key;
    } else if (c == '"') {
      goto string;
    } else if (c == 't') {
      if (n - i < 4 || memcmp(s + i, "true", 4)) return 0;
      i += 4;
    } else if (c == 'f') {
      if (n - i < 5 || memcmp(s + i, "false", 5)) return 0;
      i += 5;
    } else if (c == 'n') {
      if (n - i < 4 || memcmp(s + i, "null", 4)) return 0;
      i += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      if (c == '-') i++;
      if (i >= n) return 0;
      if (s[i] == '0') i++;
      else if (s[i] >= '1' && s[i] <= '9') while (i < n && s[i] >= '0' && s[i] <= '9') i++;
      else return 0;
      if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
      }
      if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
      }
    } else return 0;
    goto after;
  string:
    /* s[i] == '"': a string, a value or (stack top 'k') an object's key */
    i++;
    for (;;) {
      if (i >= n) return 0;
      unsigned char d = s[i];
      if (d == '"') break;
      if (d < 0x20) return 0;
      if (d == '\\') {
        if (i + 1 >= n) return 0;
        unsigned char e = s[i + 1];
        if (e == 'u') {
          if (n - i < 6) return 0;
          int zero = 1;
          for (int k = 2; k < 6; k++) {
            unsigned char h = s[i + k];
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return 0;
            if (h != '0') zero = 0;
          }
          if (zero) return 0;
          i += 6;
          continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') return 0;
        i += 2;
        continue;
      }
      i++;
    }
    i++;
    if (depth > 0 && stack[depth - 1] == 'k') {
      stack[depth - 1] = '{';
      JSON_WS(s, i, n);
      if (i >= n || s[i] != ':') return 0;
      i++;
      continue;
    }
  after:
    /* after a value: the end, or ',' or the closing bracket of the enclosing container */
    JSON_WS(s, i, n);
    if (depth == 0) return i == n;
    if (i >= n) return 0;
    if (s[i] == ',') {
      i++;
      if (stack[depth - 1] == '[') continue;
      goto key;
    }
    if (s[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
      depth--;
      i++;
      goto after;
    }
    return 0;
  key:
    JSON_WS(s, i, n);
    if (i >= n || s[i] != '"') return 0;
    stack[depth - 1] = 'k';
    goto string;
  }
}

typedef struct {
  int ncols;
  int64_t *counts; /* ncols * PROF_N */
  int *flags;      /* per column: 1 u, 2 l, 4 g, 8 d, 16 b, 32 s, 64 t, 128 j, 256 D */
  int64_t *maxlen;
  int64_t *digits;
  int *scale;
  int failed;
} Profile;

static int bool_text(const unsigned char *s, int n) {
  while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++, n--;
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  if (n == 0 || n > 5) return 0;
  char w[6];
  for (int i = 0; i < n; i++) w[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
  w[n] = 0;
  static const char *ok[] = {"1", "0", "t", "f", "true", "false", "y", "n", "yes", "no", "on", "off", NULL};
  for (int i = 0; ok[i]; i++) if (strcmp(w, ok[i]) == 0) return 1;
  return 0;
}

static int prof_setup(Profile *p, const char *spec, int ncols) {
  p->ncols = ncols;
  p->counts = sqlite3_malloc64(sizeof(int64_t) * PROF_N * (ncols ? ncols : 1));
  p->flags = sqlite3_malloc64(sizeof(int) * (ncols ? ncols : 1));
  p->maxlen = sqlite3_malloc64(sizeof(int64_t) * (ncols ? ncols : 1));
  p->digits = sqlite3_malloc64(sizeof(int64_t) * (ncols ? ncols : 1));
  p->scale = sqlite3_malloc64(sizeof(int) * (ncols ? ncols : 1));
  if (!p->counts || !p->flags || !p->maxlen || !p->digits || !p->scale) return 0;
  memset(p->counts, 0, sizeof(int64_t) * PROF_N * (ncols ? ncols : 1));
  const char *q = spec ? spec : "";
  for (int i = 0; i < ncols; i++) {
    p->flags[i] = 0;
    p->maxlen[i] = 0;
    p->digits[i] = -1;
    p->scale[i] = 0;
    while (*q && *q != ',') {
      char c = *q++;
      if (c == 'u') p->flags[i] |= 1;
      else if (c == 'g') p->flags[i] |= 4;
      else if (c == 'b') p->flags[i] |= 16;
      else if (c == 't') p->flags[i] |= 64;
      else if (c == 'D') p->flags[i] |= 256;
      else if (c == 'j') p->flags[i] |= 128;
      else if (c == 'l' || c == 'd' || c == 's') {
        int64_t v = 0;
        while (*q >= '0' && *q <= '9' && v < 100000000) v = v * 10 + (*q++ - '0');
        if (c == 'l') p->flags[i] |= 2, p->maxlen[i] = v;
        else if (c == 'd') p->flags[i] |= 8, p->digits[i] = v;
        else p->flags[i] |= 32, p->scale[i] = (int)(v > 1000 ? 1000 : v);
      }
    }
    if (*q == ',') q++;
  }
  return 1;
}

static void prof_step(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  Profile *p = sqlite3_aggregate_context(ctx, sizeof(Profile));
  if (!p) return sqlite3_result_error_nomem(ctx);
  if (p->failed) return;
  if (!p->counts) {
    const char *spec = (const char *)sqlite3_value_text(argv[0]);
    if (!prof_setup(p, spec, argc - 1)) {
      p->failed = 1;
      return sqlite3_result_error_nomem(ctx);
    }
  }
  for (int i = 0; i < p->ncols; i++) {
    sqlite3_value *v = argv[i + 1];
    int64_t *c = p->counts + (size_t)i * PROF_N;
    int f = p->flags[i];
    switch (sqlite3_value_type(v)) {
      case SQLITE_NULL:
        c[0]++;
        break;
      case SQLITE_INTEGER: {
        c[1]++;
        int64_t x = sqlite3_value_int64(v);
        if ((f & 4) && (x > 9007199254740992LL || x < -9007199254740992LL)) c[7]++;
        if ((f & 8) && p->digits[i] >= 0) {
          uint64_t a = x < 0 ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x;
          int64_t nd = 0;
          do nd++, a /= 10; while (a);
          if (nd > p->digits[i]) c[8]++;
        }
        if ((f & 16) && (x == 0 || x == 1)) c[9]++;
        break;
      }
      case SQLITE_FLOAT: {
        c[2]++;
        double d = sqlite3_value_double(v);
        if ((f & 16) && (d == 0.0 || d == 1.0)) c[9]++;
        if ((f & 32) && !numeric_fits(d, p->scale[i], p->digits[i])) c[8]++;
        break;
      }
      case SQLITE_TEXT: {
        c[3]++;
        if (f & (1 | 2 | 16 | 64 | 128)) {
          const unsigned char *s = sqlite3_value_blob(v);
          int n = sqlite3_value_bytes(v);
          if (!s) s = (const unsigned char *)"";
          if ((f & 1) && !utf8_ok(s, n)) c[5]++;
          if (f & 2) {
            int64_t chars = 0;
            if (n > p->maxlen[i]) {
              for (int k = 0; k < n; k++) chars += (s[k] & 0xC0) != 0x80;
            }
            if (chars > p->maxlen[i]) c[6]++;
          }
          if ((f & 16) && bool_text(s, n)) c[9]++;
          if ((f & 64) && (!(f & 256) || n == 10) && iso_instant(s, n)) c[10]++;
          if ((f & 128) && !json_plain(s, n)) c[11]++;
        }
        break;
      }
      default:
        c[4]++;
    }
  }
}

static void prof_final(sqlite3_context *ctx) {
  Profile *p = sqlite3_aggregate_context(ctx, 0);
  if (!p || !p->counts) {
    sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
    return;
  }
  if (!p->failed) {
    size_t cap = (size_t)p->ncols * PROF_N * 21 + 1;
    char *out = sqlite3_malloc64(cap);
    if (!out) sqlite3_result_error_nomem(ctx);
    else {
      size_t n = 0;
      for (int i = 0; i < p->ncols; i++) {
        for (int k = 0; k < PROF_N; k++) n += (size_t)snprintf(out + n, cap - n, "%s%lld", k ? "," : (i ? ";" : ""), (long long)p->counts[(size_t)i * PROF_N + k]);
      }
      sqlite3_result_text(ctx, out, (int)n, sqlite3_free);
    }
  }
  sqlite3_free(p->counts);
  sqlite3_free(p->flags);
  sqlite3_free(p->maxlen);
  sqlite3_free(p->digits);
  sqlite3_free(p->scale);
}

/* armp_iso_ok(x): 1 when x is text iso_instant accepts, else 0. */
static void iso_ok_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  sqlite3_result_int(ctx, iso_instant(sqlite3_value_blob(argv[0]), sqlite3_value_bytes(argv[0])));
}

/* armp_text_ok(x): 1 when the text x is something PostgreSQL's text type holds as it is (strict
   UTF-8, no NUL byte), 0 when it is not, NULL for a value that is not text. The type decisions
   (decide.ts) count the text values that need bytea with it, in one pass in C. */
static void text_ok_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_null(ctx);
    return;
  }
  const unsigned char *p = sqlite3_value_blob(argv[0]);
  int n = sqlite3_value_bytes(argv[0]);
  sqlite3_result_int(ctx, utf8_ok(p ? p : (const unsigned char *)"", n));
}

#ifdef _WIN32
__declspec(dllexport)
#endif
/* SQLite's NOCASE: bytes compared after folding ASCII A-Z to lower case, then by length. */
static int standin_compare(void *arg, int na, const void *a, int nb, const void *b) {
  (void)arg;
  const unsigned char *x = a, *y = b;
  int n = na < nb ? na : nb;
  for (int i = 0; i < n; i++) {
    int cx = x[i] >= 'A' && x[i] <= 'Z' ? x[i] + 32 : x[i];
    int cy = y[i] >= 'A' && y[i] <= 'Z' ? y[i] + 32 : y[i];
    if (cx != cy) return cx - cy;
  }
  return na - nb;
}

static void collation_needed(void *arg, sqlite3 *db, int enc, const char *name) {
  (void)arg;
  (void)enc;
  sqlite3_create_collation(db, name, SQLITE_UTF8, NULL, standin_compare);
}

int sqlite3_armpcollate_init(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  (void)err;
  SQLITE_EXTENSION_INIT2(api);
  return sqlite3_collation_needed(db, NULL, collation_needed);
}

int sqlite3_armpcopy_init(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  (void)err;
  SQLITE_EXTENSION_INIT2(api);
  static int binary_mode = 1;
  int rc = sqlite3_create_function(db, "armp_copy", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, NULL, step, final);
  if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "armp_copy_bin", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, &binary_mode, NULL, step, final);
  if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "armp_hash64", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, hash_fn, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "armp_profile", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, NULL, prof_step, prof_final);
  if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "armp_iso_ok", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, iso_ok_fn, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "armp_text_ok", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, text_ok_fn, NULL, NULL);
  return rc;
}
