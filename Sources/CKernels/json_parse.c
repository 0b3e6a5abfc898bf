// JSON lines, stage 2: walks the structural index line by line, checks the grammar of
// flat objects (nested values of keys no column takes are checked and skipped) and
// writes typed values straight into column buffers.
#include "ck_json.h"
#include "ck_csv.h"

#include <string.h>

#define JP_INLINE static inline __attribute__((always_inline))
#define JP_LIKELY(x) __builtin_expect(!!(x), 1)
#define JP_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define JP_MAX_LINE ((size_t)1 << 30)

enum { JP_ROW = 0, JP_BLANK = -1, JP_FAIL = -2, JP_ARENA = -3 };

/// One line being parsed.
typedef struct jp_line {
    ck_json_parser *p;
    /// Window start and the bytes from it to the end of the input.
    const uint8_t *b;
    size_t len;
    const uint32_t *s;
    size_t row;
} jp_line;

/// The byte at window position `t`; the virtual LF at the end of the input reads as LF.
JP_INLINE uint8_t jp_at(const jp_line *L, uint32_t t) { return t < L->len ? L->b[t] : '\n'; }

JP_INLINE bool jp_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\r'; }

/// The first non-whitespace position in [from, to), or `to`.
JP_INLINE size_t jp_skip_ws(const uint8_t *b, size_t from, size_t to) {
    while (from < to && jp_ws(b[from])) from++;
    return from;
}

static int jp_fail(jp_line *L, int code, size_t pos, size_t end, int col) {
    ck_json_parser *p = L->p;
    p->err_code = code;
    p->err_pos = p->win_base + pos;
    p->err_end = p->win_base + (end > pos ? end : pos);
    p->err_col = col;
    return JP_FAIL;
}

// MARK: - Strings

JP_INLINE int jp_hex4(const uint8_t *s, uint32_t *out) {
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        uint8_t c = s[k];
        uint32_t d;
        if (c >= '0' && c <= '9') d = (uint32_t)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (uint32_t)((c | 0x20) - 'a' + 10);
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

JP_INLINE size_t jp_utf8(uint32_t cp, uint8_t *o) {
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/// Unescapes `src[0..<n)` into `dst` (room for n bytes; NULL: check only). Returns
/// the length, or -1 with `*bad` the offset of the bad backslash and `*code` why.
static ptrdiff_t jp_unescape(const uint8_t *src, size_t n, uint8_t *dst, size_t *bad, int *code) {
    size_t i = 0, o = 0;
    while (i < n) {
        const uint8_t *q = memchr(src + i, '\\', n - i);
        size_t run = q ? (size_t)(q - (src + i)) : n - i;
        if (dst && run) memcpy(dst + o, src + i, run);
        o += run;
        i += run;
        if (i >= n) break;
        *bad = i;
        *code = CK_JSON_BAD_ESCAPE;
        if (i + 1 >= n) return -1;
        uint8_t e = src[i + 1], c;
        switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = 8; break;
        case 'f': c = 12; break;
        case 'n': c = 10; break;
        case 'r': c = 13; break;
        case 't': c = 9; break;
        case 'u': {
            uint32_t cp, lo;
            if (i + 6 > n || !jp_hex4(src + i + 2, &cp)) return -1;
            size_t used = 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (i + 12 > n || src[i + 6] != '\\' || src[i + 7] != 'u' || !jp_hex4(src + i + 8, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF) {
                    *code = CK_JSON_LONE_SURROGATE;
                    return -1;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                used = 12;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                *code = CK_JSON_LONE_SURROGATE;
                return -1;
            }
            uint8_t tmp[4];
            size_t k = jp_utf8(cp, tmp);
            if (dst) memcpy(dst + o, tmp, k);
            o += k;
            i += used;
            continue;
        }
        default: return -1;
        }
        if (dst) dst[o] = c;
        o++;
        i += 2;
    }
    return (ptrdiff_t)o;
}

int ck_json_valid_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    if (s == NULL) return 1;
    while (i < n) {
        // ASCII fast path, 8 bytes at a time.
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= n) break;
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        uint32_t cp;
        size_t k;
        if (c >= 0xC2 && c <= 0xDF) { k = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 3; cp = c & 0x07; }
        else return 0;
        if (i + k >= n) return 0;
        for (size_t j = 1; j <= k; j++) {
            uint8_t d = s[i + j];
            if ((d & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

JP_INLINE bool jp_has_high(const uint8_t *s, size_t n) {
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++) acc |= s[i];
    return (acc & 0x8080808080808080ULL) != 0;
}

// MARK: - Scalars

enum { JP_NULL, JP_TRUE, JP_FALSE, JP_INT, JP_NUM };

/// Classifies a scalar's text (JSON grammar), or -1.
static int jp_literal(const uint8_t *t, size_t n) {
    if (n == 4 && memcmp(t, "null", 4) == 0) return JP_NULL;
    if (n == 4 && memcmp(t, "true", 4) == 0) return JP_TRUE;
    if (n == 5 && memcmp(t, "false", 5) == 0) return JP_FALSE;
    size_t i = 0;
    if (i < n && t[i] == '-') i++;
    if (i >= n) return -1;
    if (t[i] == '0') i++;
    else if (t[i] >= '1' && t[i] <= '9') { while (i < n && t[i] >= '0' && t[i] <= '9') i++; }
    else return -1;
    int kind = JP_INT;
    if (i < n && t[i] == '.') {
        i++;
        if (i >= n || t[i] < '0' || t[i] > '9') return -1;
        while (i < n && t[i] >= '0' && t[i] <= '9') i++;
        kind = JP_NUM;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < n && (t[i] == '+' || t[i] == '-')) i++;
        if (i >= n || t[i] < '0' || t[i] > '9') return -1;
        while (i < n && t[i] >= '0' && t[i] <= '9') i++;
        kind = JP_NUM;
    }
    return i == n ? kind : -1;
}

// MARK: - Writing values

JP_INLINE void jp_clear_bit(ck_json_column *c, size_t row) {
    c->validity[row >> 6] &= ~(1ull << (row & 63));
    c->nulls++;
}

/// Starts assigning `row` of `c`: a second value for the same key replaces the first.
JP_INLINE void jp_begin(ck_json_column *c, size_t row) {
    if (JP_UNLIKELY(c->stamp == row + 1)) {
        if (!((c->validity[row >> 6] >> (row & 63)) & 1)) {
            c->validity[row >> 6] |= 1ull << (row & 63);
            c->nulls--;
        }
        if (c->type == CK_JSON_STRING) c->arena_used = (size_t)c->offsets[row];
    }
    c->stamp = row + 1;
}

JP_INLINE void jp_set_null(ck_json_column *c, size_t row) {
    jp_clear_bit(c, row);
    switch (c->type) {
    case CK_JSON_STRING: c->offsets[row + 1] = (int32_t)c->arena_used; break;
    case CK_JSON_BOOL: ((uint8_t *)c->values)[row] = 0; break;
    default: ((int64_t *)c->values)[row] = 0; break;
    }
}

/// Makes room for `n` more bytes in a string column's arena, or asks the caller.
JP_INLINE int jp_arena(jp_line *L, int col, size_t n) {
    ck_json_column *c = &L->p->cols[col];
    if (JP_LIKELY(c->arena_cap - c->arena_used >= n)) return JP_ROW;
    L->p->err_col = col;
    L->p->need = n;
    return JP_ARENA;
}

/// Text (a string's unescaped content or a scalar's) into a non-string column.
static int jp_convert_text(jp_line *L, int col, const uint8_t *t, size_t n, size_t pos, size_t end,
                           bool quoted) {
    ck_json_column *c = &L->p->cols[col];
    size_t row = L->row;
    int r;
    switch (c->type) {
    case CK_JSON_I64: {
        int64_t v;
        r = ck_parse_i64(t, n, &v);
        if (r == CK_PARSE_OK) { ((int64_t *)c->values)[row] = v; return JP_ROW; }
        if (r == CK_PARSE_RANGE) return jp_fail(L, CK_JSON_RANGE, pos, end, col);
        if (!quoted) return jp_fail(L, CK_JSON_NOT_INTEGER, pos, end, col);
        return jp_fail(L, CK_JSON_TYPE, pos, end, col);
    }
    case CK_JSON_F64: {
        double v;
        r = ck_parse_f64(t, n, &v);
        if (r == CK_PARSE_OK) { ((double *)c->values)[row] = v; return JP_ROW; }
        return jp_fail(L, r == CK_PARSE_RANGE ? CK_JSON_RANGE : CK_JSON_TYPE, pos, end, col);
    }
    case CK_JSON_BOOL: {
        bool v;
        r = ck_parse_bool(t, n, &v);
        if (r == CK_PARSE_OK) { ((uint8_t *)c->values)[row] = v ? 1 : 0; return JP_ROW; }
        return jp_fail(L, CK_JSON_TYPE, pos, end, col);
    }
    case CK_JSON_TS_MS: {
        int64_t v;
        if (quoted && n > 10 && ((c->ts_format == CK_JSON_TS_SQL && (t[10] == 'T' || t[10] == 't')) ||
                                 (c->ts_format == CK_JSON_TS_ISO && t[10] == ' ')))
            return jp_fail(L, CK_JSON_TS_STANDARD, pos, end, col);
        if (!quoted) {
            // Epoch milliseconds: an integer.
            r = ck_parse_i64(t, n, &v);
            if (r == CK_PARSE_OK) { ((int64_t *)c->values)[row] = v; return JP_ROW; }
            return jp_fail(L, r == CK_PARSE_RANGE ? CK_JSON_RANGE : CK_JSON_NOT_INTEGER, pos, end, col);
        }
        r = ck_parse_timestamp_ms(t, n, &v);
        if (r == CK_PARSE_OK) { ((int64_t *)c->values)[row] = v; return JP_ROW; }
        if (r == CK_PARSE_DATE) return jp_fail(L, CK_JSON_TS_DATE, pos, end, col);
        return jp_fail(L, r == CK_PARSE_RANGE ? CK_JSON_RANGE : CK_JSON_TYPE, pos, end, col);
    }
    default: return jp_fail(L, CK_JSON_TYPE, pos, end, col);
    }
}

/// A string value (raw content between quotes at window positions [pos, end)).
static int jp_store_string(jp_line *L, int col, size_t pos, size_t end) {
    const uint8_t *raw = L->b + pos;
    size_t n = end - pos;
    size_t bad = 0;
    int code = 0;
    if (col < 0) {
        if (JP_UNLIKELY(memchr(raw, '\\', n) != NULL) && jp_unescape(raw, n, NULL, &bad, &code) < 0)
            return jp_fail(L, code, pos + bad, pos + bad + 2, -1);
        return JP_ROW;
    }
    ck_json_column *c = &L->p->cols[col];
    size_t row = L->row;
    if (c->type == CK_JSON_STRING) {
        int r = jp_arena(L, col, n);
        if (r != JP_ROW) return r;
        jp_begin(c, row);
        uint8_t *dst = c->arena + c->arena_used;
        size_t m = n;
        if (JP_UNLIKELY(memchr(raw, '\\', n) != NULL)) {
            ptrdiff_t k = jp_unescape(raw, n, dst, &bad, &code);
            if (k < 0) return jp_fail(L, code, pos + bad, pos + bad + 2, col);
            m = (size_t)k;
        } else {
            memcpy(dst, raw, n);
        }
        if (JP_UNLIKELY(jp_has_high(dst, m)) && !ck_json_valid_utf8(dst, m))
            return jp_fail(L, CK_JSON_BAD_UTF8, pos - 1, end + 1, col);
        if (JP_UNLIKELY(c->arena_used + m > 0x7FFFFFFFu))
            return jp_fail(L, CK_JSON_ARENA_LIMIT, pos - 1, end + 1, col);
        c->arena_used += m;
        c->offsets[row + 1] = (int32_t)c->arena_used;
        return JP_ROW;
    }
    jp_begin(c, row);
    uint8_t tmp[128];
    const uint8_t *t = raw;
    size_t m = n;
    if (JP_UNLIKELY(memchr(raw, '\\', n) != NULL)) {
        if (n > sizeof tmp) return jp_fail(L, CK_JSON_TYPE, pos - 1, end + 1, col);
        ptrdiff_t k = jp_unescape(raw, n, tmp, &bad, &code);
        if (k < 0) return jp_fail(L, code, pos + bad, pos + bad + 2, col);
        t = tmp;
        m = (size_t)k;
    }
    return jp_convert_text(L, col, t, m, pos - 1, end + 1, true);
}

/// A scalar (number, true, false, null) at window positions [pos, end).
static int jp_store_scalar(jp_line *L, int col, size_t pos, size_t end) {
    const uint8_t *t = L->b + pos;
    size_t n = end - pos;
    int kind = jp_literal(t, n);
    if (kind < 0) return jp_fail(L, CK_JSON_BAD_LITERAL, pos, end, col);
    if (col < 0) return JP_ROW;
    ck_json_column *c = &L->p->cols[col];
    size_t row = L->row;
    if (kind == JP_NULL) {
        jp_begin(c, row);
        jp_set_null(c, row);
        return JP_ROW;
    }
    if (c->type == CK_JSON_STRING) {
        // Numbers and booleans keep their JSON text (as Flink's json format does).
        int r = jp_arena(L, col, n);
        if (r != JP_ROW) return r;
        jp_begin(c, row);
        memcpy(c->arena + c->arena_used, t, n);
        c->arena_used += n;
        c->offsets[row + 1] = (int32_t)c->arena_used;
        return JP_ROW;
    }
    jp_begin(c, row);
    if (kind == JP_TRUE || kind == JP_FALSE) {
        if (c->type != CK_JSON_BOOL) return jp_fail(L, CK_JSON_TYPE, pos, end, col);
        ((uint8_t *)c->values)[row] = kind == JP_TRUE;
        return JP_ROW;
    }
    if (c->type == CK_JSON_BOOL) {
        if (n == 1 && (t[0] == '0' || t[0] == '1')) { ((uint8_t *)c->values)[row] = t[0] == '1'; return JP_ROW; }
        return jp_fail(L, CK_JSON_TYPE, pos, end, col);
    }
    if (kind == JP_NUM && (c->type == CK_JSON_I64 || c->type == CK_JSON_TS_MS))
        return jp_fail(L, CK_JSON_NOT_INTEGER, pos, end, col);
    return jp_convert_text(L, col, t, n, pos, end, false);
}

// MARK: - Keys

JP_INLINE bool jp_name_eq(const ck_json_column *c, const uint8_t *k, size_t n) {
    return c->name_len == n && memcmp(c->name, k, n) == 0;
}

static bool jp_name_eq_nocase(const ck_json_column *c, const uint8_t *k, size_t n) {
    if (c->name_len != n) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t a = c->name[i], b = k[i];
        if (a >= 'A' && a <= 'Z') a |= 0x20;
        if (b >= 'A' && b <= 'Z') b |= 0x20;
        if (a != b) return false;
    }
    return true;
}

/// The column taking key `k` (the `ord`-th key of the line), or -1.
JP_INLINE int jp_lookup(ck_json_parser *p, const uint8_t *k, size_t n, unsigned ord) {
    if (ord < 64) {
        int g = p->predicted[ord];
        if (g >= 0 && (size_t)g < p->ncols && jp_name_eq(&p->cols[g], k, n)) return g;
    }
    int found = -1;
    for (size_t c = 0; c < p->ncols; c++)
        if (jp_name_eq(&p->cols[c], k, n)) { found = (int)c; break; }
    if (found < 0)
        for (size_t c = 0; c < p->ncols; c++)
            if (jp_name_eq_nocase(&p->cols[c], k, n)) { found = (int)c; break; }
    if (ord < 64) p->predicted[ord] = (int16_t)found;
    return found;
}

/// Reports the string starting at `open` that ended at structural `t` without its
/// closing quote.
static int jp_string_fail(jp_line *L, uint32_t open, uint32_t t, int col) {
    if (jp_at(L, t) == '\n') return jp_fail(L, CK_JSON_UNTERMINATED_STRING, open, t, col);
    return jp_fail(L, CK_JSON_CONTROL_CHAR, t, t + 1, col);
}

// MARK: - Nested values (of keys no column takes): checked, then skipped

enum { N_KEY_OR_CLOSE, N_KEY, N_COLON, N_VALUE_OR_CLOSE, N_VALUE, N_AFTER };

static int jp_skip_nested(jp_line *L, size_t *ip, size_t *prevp) {
    uint8_t stack[256];
    int depth = 0;
    size_t i = *ip, prev = *prevp;
    int expect = N_VALUE;
    for (;;) {
        uint32_t t = L->s[i];
        uint8_t c = jp_at(L, t);
        size_t k = jp_skip_ws(L->b, prev, t);
        bool bare = k == t;
        switch (expect) {
        case N_KEY_OR_CLOSE:
            if (bare && c == '}') goto pop;
            /* fallthrough */
        case N_KEY: {
            if (!bare || c != '"') return jp_fail(L, CK_JSON_EXPECTED_KEY, k, k + 1, -1);
            uint32_t te = L->s[i + 1];
            if (jp_at(L, te) != '"') return jp_string_fail(L, t, te, -1);
            int r = jp_store_string(L, -1, t + 1, te);
            if (r != JP_ROW) return r;
            i += 2;
            prev = te + 1;
            expect = N_COLON;
            continue;
        }
        case N_COLON:
            if (!bare || c != ':') return jp_fail(L, CK_JSON_EXPECTED_COLON, k, k + 1, -1);
            i++;
            prev = t + 1;
            expect = N_VALUE;
            continue;
        case N_VALUE_OR_CLOSE:
            if (bare && c == ']') goto pop;
            /* fallthrough */
        case N_VALUE:
            if (bare && c == '"') {
                uint32_t te = L->s[i + 1];
                if (jp_at(L, te) != '"') return jp_string_fail(L, t, te, -1);
                int r = jp_store_string(L, -1, t + 1, te);
                if (r != JP_ROW) return r;
                i += 2;
                prev = te + 1;
            } else if (bare && (c == '{' || c == '[')) {
                if (depth == (int)sizeof stack) return jp_fail(L, CK_JSON_TOO_DEEP, t, t + 1, -1);
                stack[depth++] = c == '{' ? '}' : ']';
                i++;
                prev = t + 1;
                expect = c == '{' ? N_KEY_OR_CLOSE : N_VALUE_OR_CLOSE;
                continue;
            } else {
                if (bare) return jp_fail(L, CK_JSON_EXPECTED_VALUE, k, k + 1, -1);
                size_t e = t;
                while (e > k && jp_ws(L->b[e - 1])) e--;
                if (jp_literal(L->b + k, e - k) < 0) return jp_fail(L, CK_JSON_BAD_LITERAL, k, e, -1);
                prev = t;
            }
            expect = N_AFTER;
            continue;
        case N_AFTER:
            if (!bare) return jp_fail(L, CK_JSON_EXPECTED_COMMA_OR_END, k, k + 1, -1);
            if (c == ',') {
                i++;
                prev = t + 1;
                expect = stack[depth - 1] == '}' ? N_KEY : N_VALUE;
                continue;
            }
            if (c == stack[depth - 1]) goto pop;
            if (c == '}' || c == ']') return jp_fail(L, CK_JSON_MISMATCHED, t, t + 1, -1);
            return jp_fail(L, CK_JSON_EXPECTED_COMMA_OR_END, t, t + 1, -1);
        }
    pop:
        if (c != stack[depth - 1]) return jp_fail(L, CK_JSON_MISMATCHED, t, t + 1, -1);
        depth--;
        i++;
        prev = t + 1;
        if (depth == 0) {
            *ip = i;
            *prevp = prev;
            return JP_ROW;
        }
        expect = N_AFTER;
    }
}

// MARK: - Lines

/// Parses the line starting at `p->pos` (complete in the window) into row `row`.
static int jp_parse_line(ck_json_parser *p, size_t row) {
    jp_line L = {p, p->buf + p->win_base, p->size - p->win_base, p->idx, row};
    const uint32_t *s = p->idx;
    size_t i = p->win_i;
    size_t start = p->pos - p->win_base;
    uint32_t t = s[i];
    uint8_t c = jp_at(&L, t);
    size_t k = jp_skip_ws(L.b, start, t);
    if (c == '\n' && k == t) {
        p->win_i = i + 1;
        p->pos = p->win_base + t + 1;
        return JP_BLANK;
    }
    p->key_len = 0;
    if (k != t || c != '{') return jp_fail(&L, CK_JSON_EXPECTED_OBJECT, k, k + 1, -1);
    i++;
    size_t prev = t + 1;
    t = s[i];
    if (jp_at(&L, t) == '}' && jp_skip_ws(L.b, prev, t) == t) {
        i++;
        prev = t + 1;
    } else {
        for (unsigned ord = 0;; ord++) {
            // The key.
            t = s[i];
            c = jp_at(&L, t);
            k = jp_skip_ws(L.b, prev, t);
            if (k != t || c != '"') return jp_fail(&L, CK_JSON_EXPECTED_KEY, k, k + 1, -1);
            uint32_t te = s[i + 1];
            if (jp_at(&L, te) != '"') return jp_string_fail(&L, t, te, -1);
            const uint8_t *key = L.b + t + 1;
            size_t klen = te - t - 1;
            p->key_pos = p->win_base + t + 1;
            p->key_len = klen;
            int col;
            if (JP_UNLIKELY(memchr(key, '\\', klen) != NULL)) {
                uint8_t tmp[1024];
                size_t bad = 0;
                int code = 0;
                if (jp_unescape(key, klen, NULL, &bad, &code) < 0)
                    return jp_fail(&L, code, t + 1 + bad, t + 3 + bad, -1);
                ptrdiff_t m = klen <= sizeof tmp ? jp_unescape(key, klen, tmp, &bad, &code) : -1;
                col = m >= 0 ? jp_lookup(p, tmp, (size_t)m, 64) : -1;
            } else {
                col = jp_lookup(p, key, klen, ord);
            }
            i += 2;
            t = s[i];
            c = jp_at(&L, t);
            k = jp_skip_ws(L.b, te + 1, t);
            if (k != t || c != ':') return jp_fail(&L, CK_JSON_EXPECTED_COLON, k, k + 1, col);
            i++;
            prev = t + 1;
            // The value.
            t = s[i];
            c = jp_at(&L, t);
            k = jp_skip_ws(L.b, prev, t);
            int r;
            if (k == t && c == '"') {
                te = s[i + 1];
                if (jp_at(&L, te) != '"') return jp_string_fail(&L, t, te, col);
                r = jp_store_string(&L, col, t + 1, te);
                if (r != JP_ROW) return r;
                i += 2;
                prev = te + 1;
            } else if (k == t && (c == '{' || c == '[')) {
                if (col >= 0) {
                    // Point at the whole value when it closes on this line.
                    size_t j = i, pv = prev;
                    size_t end = t + 1;
                    p->err_code = 0;
                    if (jp_skip_nested(&L, &j, &pv) == JP_ROW) end = pv;
                    return jp_fail(&L, CK_JSON_NESTED, t, end, col);
                }
                r = jp_skip_nested(&L, &i, &prev);
                if (r != JP_ROW) return r;
            } else {
                if (k == t) return jp_fail(&L, CK_JSON_EXPECTED_VALUE, k, k + 1, col);
                size_t e = t;
                while (e > k && jp_ws(L.b[e - 1])) e--;
                r = jp_store_scalar(&L, col, k, e);
                if (r != JP_ROW) return r;
                prev = t;
            }
            // After the value.
            t = s[i];
            c = jp_at(&L, t);
            k = jp_skip_ws(L.b, prev, t);
            if (k != t) return jp_fail(&L, CK_JSON_EXPECTED_COMMA_OR_END, k, k + 1, -1);
            if (c == ',') {
                i++;
                prev = t + 1;
                continue;
            }
            if (c == '}') {
                i++;
                prev = t + 1;
                break;
            }
            return jp_fail(&L, CK_JSON_EXPECTED_COMMA_OR_END, t, t + 1, -1);
        }
    }
    t = s[i];
    k = jp_skip_ws(L.b, prev, t);
    if (k != t || jp_at(&L, t) != '\n') return jp_fail(&L, CK_JSON_TRAILING, k, k + 1, -1);
    // Columns without a value in this line are NULL.
    for (size_t ci = 0; ci < p->ncols; ci++) {
        ck_json_column *col = &p->cols[ci];
        if (col->stamp != row + 1) {
            col->stamp = row + 1;
            jp_set_null(col, row);
        }
    }
    p->win_i = i + 1;
    p->pos = p->win_base + t + 1;
    return JP_ROW;
}

/// Undoes a partly written row (a bad line that is skipped, or a line retried after
/// an arena grew).
static void jp_rollback(ck_json_parser *p, size_t row) {
    for (size_t ci = 0; ci < p->ncols; ci++) {
        ck_json_column *c = &p->cols[ci];
        if (c->stamp != row + 1) continue;
        if (!((c->validity[row >> 6] >> (row & 63)) & 1)) {
            c->validity[row >> 6] |= 1ull << (row & 63);
            c->nulls--;
        }
        if (c->type == CK_JSON_STRING) c->arena_used = (size_t)c->offsets[row];
        c->stamp = 0;
    }
}

/// Indexes a window starting at `p->pos` (a line start). Returns 0, or a status.
static int jp_reindex(ck_json_parser *p) {
    size_t rem = p->size - p->pos;
    size_t room = p->idx_cap - 128;
    size_t want = rem < room ? rem : room;
    bool at_eof = want == rem;
    ck_json_index_state st = {0, 0};
    size_t n = 0;
    ck_json_index(p->buf + p->pos, want, at_eof, 0, &st, p->idx, p->idx_cap, &n);
    p->win_base = p->pos;
    p->win_n = n;
    p->win_i = 0;
    p->win_last_lf = -1;
    size_t len = p->size - p->pos;
    for (size_t j = n; j-- > 0;) {
        uint32_t t = p->idx[j];
        if (t >= len || p->buf[p->pos + t] == '\n') {
            p->win_last_lf = (int64_t)t;
            break;
        }
    }
    if (p->win_last_lf < 0) {
        if (p->idx_cap >= JP_MAX_LINE) {
            p->err_code = CK_JSON_LINE_TOO_LONG;
            p->err_pos = p->pos;
            p->err_end = p->pos + 1;
            p->err_col = -1;
            return CK_JSON_ERROR;
        }
        p->need = p->idx_cap * 2;
        return CK_JSON_GROW_INDEX;
    }
    return 0;
}

int ck_json_parse(ck_json_parser *p, size_t row0, size_t max_rows, size_t *rows) {
    size_t row = row0, end = row0 + max_rows;
    int status;
    p->err_code = CK_JSON_OK;
    for (;;) {
        if (row == end) { status = CK_JSON_FULL; break; }
        if (p->pos >= p->limit || p->pos >= p->size) { status = CK_JSON_DONE; break; }
        if (p->win_last_lf < 0 || p->pos < p->win_base || p->pos > p->win_base + (size_t)p->win_last_lf ||
            p->win_n == 0) {
            int r = jp_reindex(p);
            if (r != 0) { status = r; break; }
        }
        int r = jp_parse_line(p, row);
        if (JP_LIKELY(r == JP_ROW)) { row++; continue; }
        if (r == JP_BLANK) continue;
        jp_rollback(p, row);
        if (r == JP_ARENA) {
            // Ask for room for the whole line, so one growth covers it.
            const uint8_t *nl = memchr(p->buf + p->pos, '\n', p->size - p->pos);
            size_t line = nl ? (size_t)(nl - (p->buf + p->pos)) : p->size - p->pos;
            if (line > p->need) p->need = line;
            status = CK_JSON_GROW_ARENA;
            break;
        }
        if (p->ignore_errors) {
            // Skip to the next line and index afresh: a bad line may have left the
            // window's string state wrong for the lines after it.
            const uint8_t *nl = memchr(p->buf + p->pos, '\n', p->size - p->pos);
            p->pos = nl ? (size_t)(nl - p->buf) + 1 : p->size;
            p->win_last_lf = -1;
            p->skipped++;
            p->err_code = CK_JSON_OK;
            continue;
        }
        status = CK_JSON_ERROR;
        break;
    }
    *rows = row - row0;
    return status;
}
