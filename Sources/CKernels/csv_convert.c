// CSV field conversion: one field of every record of a batch into a column, and the
// single-value parsers the SQL layer also uses for literals.
//
// Conversion is scalar on purpose: fields are short (a few to ~20 bytes) and of
// varying length, so the time goes into the per-field loop, which the compiler
// keeps tight; the wide work (finding the fields) is done by the structural scan.
#include "ck_csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CSV_INLINE static inline __attribute__((always_inline))
#define CSV_LIKELY(x) __builtin_expect(!!(x), 1)
#define CSV_UNLIKELY(x) __builtin_expect(!!(x), 0)

// MARK: - Integers

/// [+-]digits. Up to 19 digits cannot overflow uint64, so the common case runs a
/// plain multiply-add loop and only longer inputs check for overflow.
CSV_INLINE int csv_parse_i64(const uint8_t *p, size_t n, int64_t *out) {
    size_t i = 0;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        i = 1;
    }
    if (CSV_UNLIKELY(i == n)) return CK_PARSE_SYNTAX;
    uint64_t v = 0;
    if (CSV_LIKELY(n - i <= 19)) {
        for (; i < n; i++) {
            uint32_t d = (uint32_t)p[i] - '0';
            if (CSV_UNLIKELY(d > 9)) return CK_PARSE_SYNTAX;
            v = v * 10 + d;
        }
    } else {
        bool overflow = false;
        for (; i < n; i++) {
            uint32_t d = (uint32_t)p[i] - '0';
            if (d > 9) return CK_PARSE_SYNTAX;
            if (__builtin_mul_overflow(v, (uint64_t)10, &v) || __builtin_add_overflow(v, (uint64_t)d, &v))
                overflow = true;
        }
        if (overflow) return CK_PARSE_RANGE;
    }
    if (neg) {
        if (v > (uint64_t)1 << 63) return CK_PARSE_RANGE;
        *out = (int64_t)(0 - v);
    } else {
        if (v > (uint64_t)INT64_MAX) return CK_PARSE_RANGE;
        *out = (int64_t)v;
    }
    return CK_PARSE_OK;
}

int ck_parse_i64(const uint8_t *p, size_t len, int64_t *out) {
    if (p == NULL || len == 0) return CK_PARSE_SYNTAX;
    return csv_parse_i64(p, len, out);
}

// MARK: - Doubles

static const double csv_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

CSV_INLINE uint8_t csv_lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

static bool csv_eq_nocase(const uint8_t *p, size_t n, const char *word) {
    size_t k = strlen(word);
    if (n != k) return false;
    for (size_t i = 0; i < n; i++)
        if (csv_lower(p[i]) != (uint8_t)word[i]) return false;
    return true;
}

/// strtod on a NUL-terminated copy, after checking the grammar ourselves (strtod
/// would also take hex floats, leading spaces and "nan(...)").
static int csv_parse_f64_slow(const uint8_t *p, size_t n, double *out) {
    size_t i = 0;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        i = 1;
    }
    const uint8_t *w = p + i;
    size_t wn = n - i;
    if (csv_eq_nocase(w, wn, "inf") || csv_eq_nocase(w, wn, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return CK_PARSE_OK;
    }
    if (csv_eq_nocase(w, wn, "nan")) {
        *out = neg ? -NAN : NAN;
        return CK_PARSE_OK;
    }
    size_t digits = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9') i++, digits++;
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && p[i] >= '0' && p[i] <= '9') i++, digits++;
    }
    if (digits == 0) return CK_PARSE_SYNTAX;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) i++;
        size_t e = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') i++, e++;
        if (e == 0) return CK_PARSE_SYNTAX;
    }
    if (i != n) return CK_PARSE_SYNTAX;
    char small[257];
    char *buf = n < sizeof small ? small : (char *)malloc(n + 1);
    if (buf == NULL) return CK_PARSE_RANGE;
    memcpy(buf, p, n);
    buf[n] = 0;
    errno = 0;
    double v = strtod(buf, NULL);
    int err = errno;
    if (buf != small) free(buf);
    if (err == ERANGE && isinf(v)) return CK_PARSE_RANGE;  // underflow to 0/subnormal is fine
    *out = v;
    return CK_PARSE_OK;
}

/// Clinger's fast path: a mantissa below 2^53 and a power of ten up to 22 are both
/// exact doubles, so one IEEE multiply or divide rounds correctly. `123.45` takes it.
CSV_INLINE int csv_parse_f64(const uint8_t *p, size_t n, double *out) {
    size_t i = 0;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        i = 1;
    }
    uint64_t m = 0;
    size_t digits = 0, frac = 0;
    for (; i < n; i++) {
        uint32_t d = (uint32_t)p[i] - '0';
        if (d > 9) break;
        m = m * 10 + d;
        digits++;
    }
    if (i < n && p[i] == '.') {
        for (i++; i < n; i++) {
            uint32_t d = (uint32_t)p[i] - '0';
            if (d > 9) break;
            m = m * 10 + d;
            digits++;
            frac++;
        }
    }
    if (CSV_LIKELY(i == n && digits > 0 && digits <= 19 && frac <= 22 && m <= ((uint64_t)1 << 53))) {
        double v = (double)m;
        if (frac) v /= csv_pow10[frac];
        *out = neg ? -v : v;
        return CK_PARSE_OK;
    }
    return csv_parse_f64_slow(p, n, out);
}

int ck_parse_f64(const uint8_t *p, size_t len, double *out) {
    if (p == NULL || len == 0) return CK_PARSE_SYNTAX;
    return csv_parse_f64(p, len, out);
}

// MARK: - Booleans

CSV_INLINE int csv_parse_bool(const uint8_t *p, size_t n, bool *out) {
    if (n == 1) {
        uint8_t c = csv_lower(p[0]);
        if (c == 't' || c == '1') { *out = true; return CK_PARSE_OK; }
        if (c == 'f' || c == '0') { *out = false; return CK_PARSE_OK; }
        return CK_PARSE_SYNTAX;
    }
    if (csv_eq_nocase(p, n, "true") || csv_eq_nocase(p, n, "yes")) { *out = true; return CK_PARSE_OK; }
    if (csv_eq_nocase(p, n, "false") || csv_eq_nocase(p, n, "no")) { *out = false; return CK_PARSE_OK; }
    return CK_PARSE_SYNTAX;
}

int ck_parse_bool(const uint8_t *p, size_t len, bool *out) {
    if (p == NULL || len == 0) return CK_PARSE_SYNTAX;
    return csv_parse_bool(p, len, out);
}

// MARK: - Timestamps

/// Days since 1970-01-01 (Howard Hinnant's days_from_civil), as Timestamp.swift.
CSV_INLINE int64_t csv_days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

CSV_INLINE bool csv_digits(const uint8_t *p, size_t k, int64_t *v) {
    int64_t x = 0;
    for (size_t i = 0; i < k; i++) {
        uint32_t d = (uint32_t)p[i] - '0';
        if (d > 9) return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

static int csv_parse_iso(const uint8_t *p, size_t n, int64_t *out) {
    int64_t y, mo, d, h = 0, mi = 0, s = 0, ms = 0, off = 0;
    if (n < 10 || !csv_digits(p, 4, &y) || p[4] != '-' || !csv_digits(p + 5, 2, &mo) ||
        p[7] != '-' || !csv_digits(p + 8, 2, &d))
        return CK_PARSE_SYNTAX;
    size_t i = 10;
    if (i < n) {
        uint8_t sep = p[i];
        if (sep != 'T' && sep != 't' && sep != ' ') return CK_PARSE_SYNTAX;
        i++;
        if (i + 5 > n || !csv_digits(p + i, 2, &h) || p[i + 2] != ':' || !csv_digits(p + i + 3, 2, &mi))
            return CK_PARSE_SYNTAX;
        i += 5;
        if (i < n && p[i] == ':') {
            if (i + 3 > n || !csv_digits(p + i + 1, 2, &s)) return CK_PARSE_SYNTAX;
            i += 3;
            if (i < n && p[i] == '.') {
                i++;
                size_t f = 0;
                int64_t scale = 100;
                while (i < n && p[i] >= '0' && p[i] <= '9') {
                    ms += (p[i] - '0') * scale;
                    scale /= 10;
                    i++, f++;
                }
                if (f == 0) return CK_PARSE_SYNTAX;
            }
        }
        if (i < n) {
            uint8_t z = p[i];
            if ((z == 'Z' || z == 'z') && i + 1 == n) {
                i++;
            } else if (z == '+' || z == '-') {
                int64_t oh, om = 0;
                if (i + 3 > n || !csv_digits(p + i + 1, 2, &oh)) return CK_PARSE_SYNTAX;
                size_t j = i + 3;
                if (j < n && p[j] == ':') j++;
                if (j < n) {
                    if (j + 2 != n || !csv_digits(p + j, 2, &om)) return CK_PARSE_SYNTAX;
                    j += 2;
                } else if (p[j - 1] == ':') {
                    return CK_PARSE_SYNTAX;
                }
                if (oh > 23 || om > 59) return CK_PARSE_RANGE;
                off = (oh * 60 + om) * 60000 * (z == '-' ? -1 : 1);
                i = j;
            }
            if (i != n) return CK_PARSE_SYNTAX;
        }
        if (h > 23 || mi > 59 || s > 59) return CK_PARSE_RANGE;
    }
    if (mo < 1 || mo > 12 || d < 1) return CK_PARSE_DATE;
    static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > dim[mo - 1] + (mo == 2 && leap)) return CK_PARSE_DATE;
    *out = csv_days_from_civil(y, mo, d) * 86400000 + h * 3600000 + mi * 60000 + s * 1000 + ms - off;
    return CK_PARSE_OK;
}

CSV_INLINE int csv_parse_ts(const uint8_t *p, size_t n, int64_t *out) {
    if (n >= 5 && p[4] == '-' && p[0] != '-' && p[0] != '+') return csv_parse_iso(p, n, out);
    return csv_parse_i64(p, n, out);
}

int ck_parse_timestamp_ms(const uint8_t *p, size_t len, int64_t *out) {
    if (p == NULL || len == 0) return CK_PARSE_SYNTAX;
    return csv_parse_ts(p, len, out);
}

// MARK: - Field spans

CSV_INLINE void csv_span(const ck_csv_fields *f, size_t r, uint32_t *start, uint32_t *end) {
    uint32_t k = f->rec_sep[r] + f->field;
    uint32_t s = f->field == 0 ? f->rec_start[r] : (f->seps[k - 1] & CK_CSV_POS) + 1;
    uint32_t e = f->seps[k] & CK_CSV_POS;
    if (f->is_last && e > s && f->base[e - 1] == '\r') e--;
    *start = s;
    *end = e;
}

void ck_csv_field_span(const ck_csv_fields *f, size_t r, uint32_t *start, uint32_t *end) {
    csv_span(f, r, start, end);
}

CSV_INLINE void csv_set_null(uint64_t *validity, size_t row, size_t *nulls) {
    validity[row >> 6] &= ~((uint64_t)1 << (row & 63));
    *nulls += 1;
}

CSV_INLINE bool csv_is_null_literal(const ck_csv_fields *f, const uint8_t *p, size_t n) {
    return f->null_len != 0 && n == f->null_len && memcmp(p, f->null_literal, n) == 0;
}

/// Copies the inside of a quoted field into `out`, resolving `""` and escapes; returns
/// the length. `out` has room for `n` bytes.
static size_t csv_unescape(const ck_csv_fields *f, const uint8_t *p, size_t n, uint8_t *out) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (f->has_escape && c == f->escape && i + 1 < n) {
            out[k++] = p[++i];
        } else if (c == f->quote && i + 1 < n && p[i + 1] == f->quote) {
            out[k++] = c;
            i++;
        } else {
            out[k++] = c;
        }
    }
    return k;
}

/// A quoted value holding escapes: parsed from its unescaped text.
#define csv_parse_escaped(F, P, N, OUT, PARSE)                                                 \
    ({                                                                                         \
        uint8_t small_[64];                                                                    \
        int rc_ = CK_PARSE_SYNTAX;                                                             \
        if ((N) <= sizeof small_) {                                                            \
            size_t k_ = csv_unescape((F), (P), (N), small_);                                   \
            rc_ = PARSE(small_, k_, (OUT));                                                    \
        }                                                                                      \
        rc_;                                                                                   \
    })

/// Shared loop of the fixed-width converters. A quoted value is parsed without its
/// quotes; one holding a doubled quote cannot be a number, bool or timestamp, and the
/// parser rejects the quote byte.
#define CSV_CONVERT_LOOP(T, PARSE)                                                            \
    const uint8_t *base = f->base;                                                            \
    const uint8_t q = f->quote;                                                               \
    for (size_t r = 0; r < f->n; r++) {                                                       \
        uint32_t s, e;                                                                        \
        csv_span(f, r, &s, &e);                                                               \
        size_t row = row0 + r;                                                                \
        if (CSV_UNLIKELY(e == s)) {                                                           \
            out[row] = 0;                                                                     \
            csv_set_null(validity, row, nulls);                                               \
            continue;                                                                         \
        }                                                                                     \
        if (CSV_UNLIKELY(base[s] == q)) {                                                     \
            if (e - s < 2 || base[e - 1] != q) return r;                                      \
            s++, e--;                                                                         \
            if (e == s) {                                                                     \
                out[row] = 0;                                                                 \
                csv_set_null(validity, row, nulls);                                           \
                continue;                                                                     \
            }                                                                                 \
            if (CSV_UNLIKELY(f->has_escape) && memchr(base + s, f->escape, e - s)) {          \
                T v;                                                                          \
                if (csv_parse_escaped(f, base + s, e - s, &v, PARSE) != CK_PARSE_OK) return r;\
                out[row] = v;                                                                 \
                continue;                                                                     \
            }                                                                                 \
        } else if (CSV_UNLIKELY(csv_is_null_literal(f, base + s, e - s))) {                   \
            out[row] = 0;                                                                     \
            csv_set_null(validity, row, nulls);                                               \
            continue;                                                                         \
        }                                                                                     \
        T v;                                                                                  \
        if (CSV_UNLIKELY(PARSE(base + s, e - s, &v) != CK_PARSE_OK)) return r;               \
        out[row] = v;                                                                         \
    }                                                                                         \
    return f->n;

size_t ck_csv_convert_i64(const ck_csv_fields *f, int64_t *out, uint64_t *validity, size_t row0,
                          size_t *nulls) {
    CSV_CONVERT_LOOP(int64_t, csv_parse_i64)
}

size_t ck_csv_convert_f64(const ck_csv_fields *f, double *out, uint64_t *validity, size_t row0,
                          size_t *nulls) {
    CSV_CONVERT_LOOP(double, csv_parse_f64)
}

size_t ck_csv_convert_ts_ms(const ck_csv_fields *f, int64_t *out, uint64_t *validity, size_t row0,
                            size_t *nulls) {
    CSV_CONVERT_LOOP(int64_t, csv_parse_ts)
}

CSV_INLINE int csv_parse_bool_byte(const uint8_t *p, size_t n, uint8_t *out) {
    bool b = false;
    int rc = csv_parse_bool(p, n, &b);
    *out = b ? 1 : 0;
    return rc;
}

size_t ck_csv_convert_bool(const ck_csv_fields *f, uint8_t *out, uint64_t *validity, size_t row0,
                           size_t *nulls) {
    CSV_CONVERT_LOOP(uint8_t, csv_parse_bool_byte)
}

// MARK: - Strings

size_t ck_csv_convert_string(const ck_csv_fields *f, int32_t *offsets, uint8_t *arena,
                             size_t *arena_used, uint64_t *validity, size_t row0, size_t *nulls) {
    const uint8_t *base = f->base;
    const uint8_t q = f->quote;
    size_t used = *arena_used;
    for (size_t r = 0; r < f->n; r++) {
        uint32_t s, e;
        csv_span(f, r, &s, &e);
        size_t row = row0 + r;
        size_t before = used;
        if (CSV_UNLIKELY(e == s)) {
            csv_set_null(validity, row, nulls);
        } else if (CSV_UNLIKELY(base[s] == q)) {
            if (e - s < 2 || base[e - 1] != q) { *arena_used = used; return r; }
            if (CSV_UNLIKELY(f->has_escape)) {
                used += csv_unescape(f, base + s + 1, e - s - 2, arena + used);
                goto stored;
            }
            // Unescape: copy up to each quote, keep one of every pair.
            const uint8_t *p = base + s + 1, *end = base + e - 1;
            while (p < end) {
                const uint8_t *hit = memchr(p, q, (size_t)(end - p));
                size_t k = hit ? (size_t)(hit - p) + 1 : (size_t)(end - p);
                memcpy(arena + used, p, k);
                used += k;
                p += k + (hit ? 1 : 0);
            }
        } else if (CSV_UNLIKELY(csv_is_null_literal(f, base + s, e - s))) {
            csv_set_null(validity, row, nulls);
        } else {
            memcpy(arena + used, base + s, e - s);
            used += e - s;
        }
    stored:
        if (CSV_UNLIKELY(used > (size_t)INT32_MAX)) { *arena_used = before; return r; }
        offsets[row + 1] = (int32_t)used;
    }
    *arena_used = used;
    return f->n;
}
