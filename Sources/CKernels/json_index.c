// JSON lines, stage 1: the structural index (simdjson's stage 1, for flat lines).
//
// Per 64-byte block: bit masks of backslashes, quotes, the six structural operators,
// line feeds and control bytes. Escaped characters come from the odd-length backslash
// runs (simdjson's carry-add trick, carrying a run across blocks); the unescaped
// quotes' prefix-XOR (carry-less multiply by all ones) marks the bytes inside
// strings. One body, instantiated per ISA by a macro, so the scalar reference and
// the SIMD variants cannot drift.
#include "ck_json.h"
#include "ck_dispatch.h"
#include "ck_internal.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define JSON_X86 1
#define JSON_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt,pclmul")))
#define JSON_AVX512 \
    __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,bmi,bmi2,popcnt,pclmul")))
#else
#define JSON_X86 0
#endif

#define JSON_INLINE static inline __attribute__((always_inline))

typedef struct json_masks {
    uint64_t backslash, quote, ops, lf, ctrl;
} json_masks;

// MARK: - Scalar block primitives

JSON_INLINE json_masks json_masks_scalar(const uint8_t *p) {
    json_masks m = {0, 0, 0, 0, 0};
    for (int k = 0; k < 64; k++) {
        uint8_t c = p[k];
        m.backslash |= (uint64_t)(c == '\\') << k;
        m.quote |= (uint64_t)(c == '"') << k;
        m.ops |= (uint64_t)(c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',') << k;
        m.lf |= (uint64_t)(c == '\n') << k;
        m.ctrl |= (uint64_t)(c < 0x20) << k;
    }
    return m;
}

// MARK: - AVX2 / AVX-512 block primitives

#if JSON_X86
JSON_INLINE JSON_AVX2 uint64_t json_join_avx2(__m256i lo, __m256i hi) {
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) | ((uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32);
}

JSON_INLINE JSON_AVX2 json_masks json_masks_avx2(const uint8_t *p) {
    __m256i a = _mm256_loadu_si256((const __m256i *)p);
    __m256i b = _mm256_loadu_si256((const __m256i *)(p + 32));
#define JSON_EQ2(c) json_join_avx2(_mm256_cmpeq_epi8(a, _mm256_set1_epi8(c)), _mm256_cmpeq_epi8(b, _mm256_set1_epi8(c)))
    json_masks m;
    m.backslash = JSON_EQ2('\\');
    m.quote = JSON_EQ2('"');
    m.lf = JSON_EQ2('\n');
    uint64_t exact = JSON_EQ2('{') | JSON_EQ2('}') | JSON_EQ2('[') | JSON_EQ2(']');
    m.ops = exact | JSON_EQ2(':') | JSON_EQ2(',');
    // Unsigned c <= 0x1F: max(c, 0x1F) == 0x1F.
    __m256i k1f = _mm256_set1_epi8(0x1F);
    m.ctrl = json_join_avx2(_mm256_cmpeq_epi8(_mm256_max_epu8(a, k1f), k1f),
                            _mm256_cmpeq_epi8(_mm256_max_epu8(b, k1f), k1f));
#undef JSON_EQ2
    return m;
}

JSON_INLINE JSON_AVX512 json_masks json_masks_avx512(const uint8_t *p) {
    __m512i v = _mm512_loadu_si512((const void *)p);
#define JSON_EQ5(c) _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c))
    json_masks m;
    m.backslash = JSON_EQ5('\\');
    m.quote = JSON_EQ5('"');
    m.lf = JSON_EQ5('\n');
    m.ops = JSON_EQ5('{') | JSON_EQ5('}') | JSON_EQ5('[') | JSON_EQ5(']') | JSON_EQ5(':') | JSON_EQ5(',');
    m.ctrl = _mm512_cmple_epu8_mask(v, _mm512_set1_epi8(0x1F));
#undef JSON_EQ5
    return m;
}

#endif

// MARK: - The index body

/// The characters escaped by a backslash (the byte after each odd-length run), with
/// `*prev` the run carried in from the previous block (simdjson 0.x,
/// find_odd_backslash_sequences).
JSON_INLINE uint64_t json_escaped(uint64_t bs, uint64_t *prev) {
    const uint64_t even = 0x5555555555555555ULL, odd = ~even;
    uint64_t start_edges = bs & ~(bs << 1);
    uint64_t even_start_mask = even ^ *prev;
    uint64_t even_starts = start_edges & even_start_mask;
    uint64_t odd_starts = start_edges & ~even_start_mask;
    uint64_t even_carries = bs + even_starts;
    uint64_t odd_carries;
    bool ends_odd = __builtin_uaddll_overflow(bs, odd_starts, (unsigned long long *)&odd_carries);
    odd_carries |= *prev;
    *prev = ends_odd ? 1 : 0;
    uint64_t even_carry_ends = even_carries & ~bs;
    uint64_t odd_carry_ends = odd_carries & ~bs;
    return (even_carry_ends & odd) | (odd_carry_ends & even);
}

JSON_INLINE uint32_t *json_flatten(uint32_t *out, uint64_t s, uint32_t bp) {
    while (s) {
        *out++ = bp + (uint32_t)__builtin_ctzll(s);
        s &= s - 1;
    }
    return out;
}

#define JSON_INDEX_BLOCK(MASKS, PXOR)                                                          \
    do {                                                                                       \
        json_masks m = MASKS(p);                                                               \
        uint64_t esc = (m.backslash | st->escaped) ? json_escaped(m.backslash, &st->escaped)   \
                                                   : 0;                                        \
        uint64_t quotes = m.quote & ~esc;                                                      \
        uint64_t ins = PXOR(quotes) ^ st->in_string;                                           \
        st->in_string = (uint64_t)((int64_t)ins >> 63);                                        \
        uint64_t s = (m.ops & ~ins) | quotes | m.lf | (m.ctrl & ins);                          \
        out = json_flatten(out, s, pos_offset + (uint32_t)i);                                  \
    } while (0)

#define JSON_DEFINE_INDEX(NAME, ATTR, MASKS, PXOR)                                             \
    static ATTR size_t NAME(const uint8_t *buf, size_t len, bool at_eof, uint32_t pos_offset,  \
                            ck_json_index_state *st, uint32_t *idx, size_t cap, size_t *n) {  \
        uint32_t *out = idx + *n;                                                              \
        uint32_t *const stop = idx + cap - 64;                                                 \
        size_t i = 0;                                                                          \
        if (cap < *n + 64) return 0;                                                           \
        for (; i + 64 <= len && out <= stop; i += 64) {                                        \
            const uint8_t *p = buf + i;                                                        \
            JSON_INDEX_BLOCK(MASKS, PXOR);                                                     \
        }                                                                                      \
        if (at_eof && i + 64 > len && out <= stop) {                                          \
            uint8_t tail[64] __attribute__((aligned(64)));                                     \
            size_t rem = len - i;                                                              \
            memset(tail, ' ', sizeof tail);                                                    \
            if (rem) memcpy(tail, buf + i, rem);                                               \
            bool need_lf = len == 0 || buf[len - 1] != '\n';                                   \
            if (need_lf) tail[rem] = '\n';                                                     \
            if (rem || need_lf) {                                                              \
                const uint8_t *p = tail;                                                       \
                JSON_INDEX_BLOCK(MASKS, PXOR);                                                 \
            }                                                                                  \
            i = len;                                                                           \
        }                                                                                      \
        *n = (size_t)(out - idx);                                                              \
        return i;                                                                              \
    }

JSON_DEFINE_INDEX(json_index_scalar, , json_masks_scalar, ck_prefix_xor)
#if JSON_X86
JSON_DEFINE_INDEX(json_index_avx2, JSON_AVX2, json_masks_avx2, ck_prefix_xor_clmul)
JSON_DEFINE_INDEX(json_index_avx512, JSON_AVX512, json_masks_avx512, ck_prefix_xor_clmul)
#endif

size_t ck_json_index(const uint8_t *buf, size_t len, bool at_eof, uint32_t pos_offset,
                     ck_json_index_state *st, uint32_t *out, size_t cap, size_t *n) {
    static const uint8_t empty[1] = {0};
    if (buf == NULL) buf = empty;
#if JSON_X86
    switch (ck_isa_current()) {
    case CK_ISA_AVX512: return json_index_avx512(buf, len, at_eof, pos_offset, st, out, cap, n);
    case CK_ISA_AVX2: return json_index_avx2(buf, len, at_eof, pos_offset, st, out, cap, n);
    default: break;
    }
#endif
    return json_index_scalar(buf, len, at_eof, pos_offset, st, out, cap, n);
}
