// CSV structural scan: separator index, record-start search, byte counts, records.
//
// The scan follows simdjson's stage 1: per 64-byte block, bit masks of quotes,
// delimiters and line feeds; the prefix-XOR of the quote mask (carry-less multiply by
// all ones) marks the bytes inside quotes; separators outside quotes are flattened
// to positions with a tzcnt loop. One body, instantiated per ISA by a macro (as
// zstd's HUF_DGEN does), so the scalar reference and the SIMD variants cannot drift.
#include "ck_csv.h"
#include "ck_dispatch.h"
#include "ck_internal.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CSV_X86 1
#define CSV_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt,pclmul")))
#define CSV_AVX512 \
    __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,bmi,bmi2,popcnt,pclmul")))
#else
#define CSV_X86 0
#endif

#define CSV_INLINE static inline __attribute__((always_inline))
#define CSV_UNLIKELY(x) __builtin_expect(!!(x), 0)

typedef struct csv_masks {
    uint64_t quote, delim, lf;
} csv_masks;

// MARK: - Scalar block primitives

CSV_INLINE csv_masks csv_masks_scalar(const uint8_t *p, uint8_t delim, uint8_t quote) {
    csv_masks m = {0, 0, 0};
    for (int k = 0; k < 64; k++) {
        uint8_t c = p[k];
        m.quote |= (uint64_t)(c == quote) << k;
        m.delim |= (uint64_t)(c == delim) << k;
        m.lf |= (uint64_t)(c == '\n') << k;
    }
    return m;
}

CSV_INLINE uint64_t csv_cr_scalar(const uint8_t *p) {
    uint64_t m = 0;
    for (int k = 0; k < 64; k++) m |= (uint64_t)(p[k] == '\r') << k;
    return m;
}

CSV_INLINE uint64_t csv_popcount_scalar(uint64_t x) { return (uint64_t)__builtin_popcountll(x); }

// MARK: - AVX2 / AVX-512 block primitives

#if CSV_X86
CSV_INLINE CSV_AVX2 uint64_t csv_eq_avx2(__m256i lo, __m256i hi, uint8_t c) {
    __m256i v = _mm256_set1_epi8((char)c);
    uint64_t a = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, v));
    uint64_t b = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, v));
    return a | (b << 32);
}

CSV_INLINE CSV_AVX2 csv_masks csv_masks_avx2(const uint8_t *p, uint8_t delim, uint8_t quote) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)p);
    __m256i hi = _mm256_loadu_si256((const __m256i *)(p + 32));
    csv_masks m = {csv_eq_avx2(lo, hi, quote), csv_eq_avx2(lo, hi, delim),
                   csv_eq_avx2(lo, hi, '\n')};
    return m;
}

CSV_INLINE CSV_AVX2 uint64_t csv_cr_avx2(const uint8_t *p) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)p);
    __m256i hi = _mm256_loadu_si256((const __m256i *)(p + 32));
    return csv_eq_avx2(lo, hi, '\r');
}

CSV_INLINE CSV_AVX2 uint64_t csv_popcount_avx2(uint64_t x) { return (uint64_t)_mm_popcnt_u64(x); }

CSV_INLINE CSV_AVX512 csv_masks csv_masks_avx512(const uint8_t *p, uint8_t delim, uint8_t quote) {
    __m512i v = _mm512_loadu_si512((const void *)p);
    csv_masks m = {_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8((char)quote)),
                   _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8((char)delim)),
                   _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'))};
    return m;
}

CSV_INLINE CSV_AVX512 uint64_t csv_cr_avx512(const uint8_t *p) {
    __m512i v = _mm512_loadu_si512((const void *)p);
    return _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r'));
}

CSV_INLINE CSV_AVX512 uint64_t csv_popcount_avx512(uint64_t x) { return (uint64_t)_mm_popcnt_u64(x); }
#endif

// MARK: - The index body

/// Appends the positions of the set bits of `s`, flagging those set in `lf`.
/// simdjson-style: the first eight are written unconditionally (the caller keeps 64
/// free entries), which keeps the common block of a few separators branch-light.
CSV_INLINE uint32_t *csv_flatten(uint32_t *out, uint64_t s, uint64_t lf, uint32_t bp) {
    while (s) {
        unsigned t = (unsigned)__builtin_ctzll(s);
        *out++ = (bp + t) | ((uint32_t)(lf >> t) << 31);
        s &= s - 1;
    }
    return out;
}

/// Processes one block at relative position `i` (block `p`); returns 0 to go on, 1
/// when an error stopped it. `len_for_errors` unused except for clarity.
#define CSV_INDEX_BLOCK(MASKS, CRMASK, PXOR)                                                   \
    do {                                                                                       \
        csv_masks m = MASKS(p, delim, quote);                                                  \
        uint32_t bp = pos_offset + (uint32_t)i;                                                \
        uint64_t r = PXOR(m.quote) ^ st->in_quote;                                             \
        uint64_t s = (m.delim | m.lf) & ~r;                                                    \
        uint64_t closes = 0;                                                                   \
        if (CSV_UNLIKELY((m.quote | st->pending_close | st->pending_cr) != 0)) {               \
            uint64_t cr = CRMASK(p);                                                           \
            uint64_t opens = m.quote & r;                                                      \
            closes = m.quote & ~r;                                                             \
            /* An opening quote must follow a separator, a closing quote ("" inside a     */ \
            /* quoted field) or begin the record.                                         */ \
            uint64_t prev_ok = ((s | closes) << 1) | st->prev_sep;                             \
            uint64_t bad_open = opens & ~prev_ok;                                              \
            /* A closing quote must be followed by a delimiter, LF, CR+LF or a quote.     */ \
            uint64_t follow = m.delim | m.lf | m.quote | (cr & (m.lf >> 1));                   \
            uint64_t next_ok = (follow >> 1) | ((cr >> 63) << 62);                             \
            uint64_t bad_close = closes & ~next_ok & ~(1ull << 63);                            \
            int64_t err = -1;                                                                  \
            int kind = CK_CSV_OK;                                                              \
            if (st->pending_close && !(follow & 1)) {                                          \
                err = (int64_t)bp - 1; kind = CK_CSV_TEXT_AFTER_QUOTE;                         \
            } else if (st->pending_cr && !(m.lf & 1)) {                                        \
                err = (int64_t)bp - 2; kind = CK_CSV_TEXT_AFTER_QUOTE;                         \
            } else if (bad_open | bad_close) {                                                 \
                uint64_t first = (bad_open | bad_close) & (0 - (bad_open | bad_close));        \
                err = (int64_t)bp + __builtin_ctzll(first);                                    \
                kind = (bad_open & first) ? CK_CSV_STRAY_QUOTE : CK_CSV_TEXT_AFTER_QUOTE;      \
            }                                                                                  \
            if (CSV_UNLIKELY(err >= 0)) {                                                      \
                if (err >= (int64_t)bp) {                                                      \
                    unsigned keep = (unsigned)(err - (int64_t)bp);                             \
                    uint64_t below = keep ? (~0ull >> (64 - keep)) : 0;                        \
                    out = csv_flatten(out, s & below, m.lf, bp);                               \
                }                                                                              \
                st->err_pos = err;                                                             \
                st->error = kind;                                                              \
                goto done;                                                                     \
            }                                                                                  \
            if (opens) st->last_open = (int64_t)bp + 63 - __builtin_clzll(opens);              \
            st->pending_close = closes >> 63;                                                  \
            st->pending_cr = ((closes >> 62) & (cr >> 63)) & 1;                                \
        }                                                                                      \
        st->in_quote = (uint64_t)((int64_t)r >> 63);                                           \
        st->prev_sep = ((s | closes) >> 63) & 1;                                               \
        out = csv_flatten(out, s, m.lf, bp);                                                   \
    } while (0)

#define CSV_DEFINE_INDEX(NAME, ATTR, MASKS, CRMASK, PXOR)                                      \
    static ATTR size_t NAME(const uint8_t *buf, size_t len, bool at_eof, uint8_t delim,        \
                            uint8_t quote, uint32_t pos_offset, ck_csv_index_state *st,        \
                            uint32_t *seps, size_t cap, size_t *nseps) {                       \
        uint32_t *out = seps + *nseps;                                                         \
        uint32_t *const stop = seps + cap - 64;                                                \
        size_t i = 0;                                                                          \
        if (st->error != CK_CSV_OK || cap < *nseps + 64) return 0;                             \
        for (; i + 64 <= len && out <= stop; i += 64) {                                        \
            const uint8_t *p = buf + i;                                                        \
            CSV_INDEX_BLOCK(MASKS, CRMASK, PXOR);                                              \
        }                                                                                      \
        if (at_eof && i + 64 > len && out <= stop) {                                          \
            /* The last partial block, plus a virtual LF that ends an unterminated last */    \
            /* record, in a zero-padded copy: nothing past `len` is read.               */    \
            uint8_t tail[64] __attribute__((aligned(64)));                                     \
            size_t rem = len - i;                                                              \
            memset(tail, 0, sizeof tail);                                                      \
            if (rem) memcpy(tail, buf + i, rem);                                               \
            bool need_lf = len == 0 || buf[len - 1] != '\n';                                   \
            if (need_lf) tail[rem] = '\n';                                                     \
            if (rem || need_lf) {                                                              \
                const uint8_t *p = tail;                                                       \
                CSV_INDEX_BLOCK(MASKS, CRMASK, PXOR);                                          \
            }                                                                                  \
            i = len;                                                                           \
            st->finished = 1;                                                                  \
            if (st->in_quote) {                                                                \
                st->error = CK_CSV_UNTERMINATED;                                               \
                st->err_pos = st->last_open;                                                   \
            }                                                                                  \
        }                                                                                      \
    done:                                                                                      \
        *nseps = (size_t)(out - seps);                                                         \
        return i;                                                                              \
    }

CSV_DEFINE_INDEX(csv_index_scalar, , csv_masks_scalar, csv_cr_scalar, ck_prefix_xor)
#if CSV_X86
CSV_DEFINE_INDEX(csv_index_avx2, CSV_AVX2, csv_masks_avx2, csv_cr_avx2, ck_prefix_xor_clmul)
CSV_DEFINE_INDEX(csv_index_avx512, CSV_AVX512, csv_masks_avx512, csv_cr_avx512, ck_prefix_xor_clmul)
#endif

size_t ck_csv_index(const uint8_t *buf, size_t len, bool at_eof, uint8_t delim, uint8_t quote,
                    uint32_t pos_offset, ck_csv_index_state *st, uint32_t *seps, size_t cap,
                    size_t *nseps) {
#if CSV_X86
    switch (ck_isa_current()) {
    case CK_ISA_AVX512:
        return csv_index_avx512(buf, len, at_eof, delim, quote, pos_offset, st, seps, cap, nseps);
    case CK_ISA_AVX2:
        return csv_index_avx2(buf, len, at_eof, delim, quote, pos_offset, st, seps, cap, nseps);
    default: break;
    }
#endif
    return csv_index_scalar(buf, len, at_eof, delim, quote, pos_offset, st, seps, cap, nseps);
}

// MARK: - Record start search

#define CSV_DEFINE_FIND(NAME, ATTR, MASKS, PXOR)                                               \
    static ATTR size_t NAME(const uint8_t *buf, size_t len, uint8_t quote, int in_quote) {     \
        uint64_t inq = in_quote ? ~0ull : 0;                                                   \
        size_t i = 0;                                                                          \
        uint8_t tail[64] __attribute__((aligned(64)));                                         \
        for (;;) {                                                                             \
            const uint8_t *p = buf + i;                                                        \
            if (i + 64 > len) {                                                                \
                if (i >= len) return len + 1;                                                  \
                memset(tail, 0, sizeof tail);                                                  \
                memcpy(tail, buf + i, len - i);                                                \
                p = tail;                                                                      \
            }                                                                                  \
            /* The delimiter is irrelevant here; pass the quote twice. */                     \
            csv_masks m = MASKS(p, quote, quote);                                              \
            uint64_t r = PXOR(m.quote) ^ inq;                                                  \
            uint64_t u = m.lf & ~r;                                                            \
            if (u) return i + (size_t)__builtin_ctzll(u) + 1;                                  \
            inq = (uint64_t)((int64_t)r >> 63);                                                \
            i += 64;                                                                           \
        }                                                                                      \
    }

CSV_DEFINE_FIND(csv_find_scalar, , csv_masks_scalar, ck_prefix_xor)
#if CSV_X86
CSV_DEFINE_FIND(csv_find_avx2, CSV_AVX2, csv_masks_avx2, ck_prefix_xor_clmul)
CSV_DEFINE_FIND(csv_find_avx512, CSV_AVX512, csv_masks_avx512, ck_prefix_xor_clmul)
#endif

size_t ck_csv_find_record_start(const uint8_t *buf, size_t len, uint8_t quote, int in_quote) {
#if CSV_X86
    switch (ck_isa_current()) {
    case CK_ISA_AVX512: return csv_find_avx512(buf, len, quote, in_quote);
    case CK_ISA_AVX2: return csv_find_avx2(buf, len, quote, in_quote);
    default: break;
    }
#endif
    return csv_find_scalar(buf, len, quote, in_quote);
}

// MARK: - Byte counts

static size_t csv_count_scalar(const uint8_t *buf, size_t len, uint8_t c) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += buf[i] == c;
    return n;
}

#if CSV_X86
static CSV_AVX2 size_t csv_count_avx2(const uint8_t *buf, size_t len, uint8_t c) {
    __m256i v = _mm256_set1_epi8((char)c);
    size_t n = 0, i = 0;
    for (; i + 64 <= len; i += 64) {
        __m256i lo = _mm256_loadu_si256((const __m256i *)(buf + i));
        __m256i hi = _mm256_loadu_si256((const __m256i *)(buf + i + 32));
        uint64_t a = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, v));
        uint64_t b = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, v));
        n += (size_t)csv_popcount_avx2(a | (b << 32));
    }
    return n + csv_count_scalar(buf + i, len - i, c);
}

static CSV_AVX512 size_t csv_count_avx512(const uint8_t *buf, size_t len, uint8_t c) {
    __m512i v = _mm512_set1_epi8((char)c);
    size_t n = 0, i = 0;
    for (; i + 64 <= len; i += 64) {
        __m512i x = _mm512_loadu_si512((const void *)(buf + i));
        n += (size_t)csv_popcount_avx512(_mm512_cmpeq_epi8_mask(x, v));
    }
    return n + csv_count_scalar(buf + i, len - i, c);
}
#endif

size_t ck_csv_count_byte(const uint8_t *buf, size_t len, uint8_t c) {
#if CSV_X86
    switch (ck_isa_current()) {
    case CK_ISA_AVX512: return csv_count_avx512(buf, len, c);
    case CK_ISA_AVX2: return csv_count_avx2(buf, len, c);
    default: break;
    }
#endif
    (void)csv_popcount_scalar;
    return csv_count_scalar(buf, len, c);
}

// MARK: - Records

size_t ck_csv_records(const uint8_t *buf, const uint32_t *seps, size_t nseps, size_t *sep_index,
                      uint32_t *rec_start, uint32_t limit, uint32_t end_pos, size_t field_count,
                      uint32_t *out_start, uint32_t *out_sep, size_t max_records, int *status) {
    size_t k = *sep_index, produced = 0;
    uint32_t start = *rec_start;
    const size_t last = field_count - 1;
    int why = CK_CSV_REC_FULL;
    while (produced < max_records) {
        if (start >= limit) { why = CK_CSV_REC_LIMIT; break; }
        if (k >= nseps) { why = CK_CSV_REC_NEED_MORE; break; }
        uint32_t first = seps[k];
        if (CSV_UNLIKELY(first & CK_CSV_SKIP)) {
            // A comment line: not a record.
            k += 1;
            start = (first & CK_CSV_POS) + 1;
            continue;
        }
        if (first & CK_CSV_LF) {
            uint32_t lf = first & CK_CSV_POS;
            bool blank = lf == start || (lf == start + 1 && buf[start] == '\r');
            if (blank && (field_count > 1 || lf >= end_pos)) {
                // A blank line cannot be a record of a multi-field table, and the
                // blank last line of a file is not a record at all.
                k += 1;
                start = lf + 1;
                continue;
            }
        }
        if (nseps - k < field_count) {
            // Not enough separators for a whole record: unless its LF is among them
            // (too few fields), scan more.
            for (size_t j = k; j < nseps; j++) {
                if (seps[j] & CK_CSV_LF) { why = CK_CSV_REC_FIELD_COUNT; goto out; }
            }
            why = CK_CSV_REC_NEED_MORE;
            break;
        }
        uint32_t flags = 0;
        for (size_t j = 0; j < last; j++) flags |= seps[k + j];
        if ((flags & CK_CSV_LF) || !(seps[k + last] & CK_CSV_LF)) {
            why = CK_CSV_REC_FIELD_COUNT;
            break;
        }
        out_start[produced] = start;
        out_sep[produced] = (uint32_t)k;
        produced++;
        start = (seps[k + last] & CK_CSV_POS) + 1;
        k += field_count;
    }
out:
    *sep_index = k;
    *rec_start = start;
    *status = why;
    return produced;
}

// MARK: - Any dialect, one byte at a time

size_t ck_csv_index_general(const uint8_t *buf, size_t len, bool at_eof, const ck_csv_dialect *d,
                            uint32_t pos_offset, ck_csv_index_state *st, uint32_t *seps, size_t cap,
                            size_t *nseps, bool one_record) {
    const uint8_t delim = d->delim, quote = d->quote, escape = d->escape, comment = d->comment;
    const bool has_escape = d->has_escape != 0, has_comment = d->has_comment != 0;
    const bool strict = d->strict_quotes != 0, tolerant = d->tolerant != 0;
    size_t n = *nseps;
    size_t i = 0;
    st->record_done = 0;
    if (st->error != CK_CSV_OK || st->finished) return 0;
    // The virtual LF at EOF is byte `len` when the file does not end with one.
    const bool need_lf = at_eof && (len == 0 || buf[len - 1] != '\n');
    const size_t total = len + (need_lf ? 1 : 0);
    for (; i < total; i++) {
        if (n + 2 > cap) break;
        const uint8_t c = i < len ? buf[i] : (uint8_t)'\n';
        const uint32_t pos = pos_offset + (uint32_t)i;
        if (st->in_comment) {
            if (c == '\n') {
                seps[n++] = pos | CK_CSV_LF | CK_CSV_SKIP;
                st->in_comment = 0;
                st->prev_sep = 1;
                st->line_start = 1;
            }
            continue;
        }
        if (st->in_quote) {
            if (st->pending_escape) {
                st->pending_escape = 0;
            } else if (has_escape && c == escape) {
                st->pending_escape = 1;
            } else if (c == quote) {
                st->in_quote = 0;
                st->pending_close = 1;
            }
            continue;
        }
        if (st->pending_close) {
            st->pending_close = 0;
            if (c == quote) {  // "" inside a quoted field
                st->in_quote = ~0ull;
                continue;
            }
            if (c == '\r') {
                st->pending_cr = 1;
                continue;
            }
            if (c != delim && c != '\n') {
                if (!tolerant) {
                    st->error = CK_CSV_TEXT_AFTER_QUOTE;
                    st->err_pos = (int64_t)pos - 1;
                    break;
                }
                // Tolerant: the rest of the field is unquoted data.
                continue;
            }
        } else if (st->pending_cr) {
            st->pending_cr = 0;
            if (c != '\n') {
                if (!tolerant) {
                    st->error = CK_CSV_TEXT_AFTER_QUOTE;
                    st->err_pos = (int64_t)pos - 2;
                    break;
                }
                if (c == delim) {
                    seps[n++] = pos;
                    st->prev_sep = 1;
                }
                continue;
            }
        } else if (st->prev_sep) {
            st->prev_sep = 0;
            if (st->line_start) {
                st->line_start = 0;
                if (has_comment && c == comment) {
                    st->in_comment = 1;
                    continue;
                }
            }
            if (c == quote) {
                st->in_quote = ~0ull;
                st->last_open = (int64_t)pos;
                continue;
            }
        }
        // Unquoted field bytes (or the byte after a closing quote).
        if (c == delim) {
            seps[n++] = pos;
            st->prev_sep = 1;
        } else if (c == '\n') {
            seps[n++] = pos | CK_CSV_LF;
            st->prev_sep = 1;
            st->line_start = 1;
            if (one_record) {
                i++;
                st->record_done = 1;
                break;
            }
        } else if (c == quote) {
            if (strict) {
                st->error = CK_CSV_STRAY_QUOTE;
                st->err_pos = (int64_t)pos;
                break;
            }
            st->stray_quotes += 1;
        }
    }
    if (at_eof && i >= total && st->error == CK_CSV_OK) {
        // Everything, the virtual LF included, was consumed.
        st->finished = 1;
        if (st->in_quote) {
            st->error = CK_CSV_UNTERMINATED;
            st->err_pos = st->last_open;
        }
    }
    if (i > len) i = len;  // the virtual LF is not a byte of the input
    *nseps = n;
    return i;
}
