// Filter kernels. Each predicate is written once as a skeleton (the macros below)
// and instantiated per ISA and, through CK_SWITCH_OP, per comparison operator, so
// the inner loops carry no operator switch.
//
// Without a selection vector the SIMD variants work a validity word (64 rows) at a
// time: compare to a 64-bit mask, AND the validity word, then left-pack the row ids
// of the set bits (AVX-512 vpcompressd into a register + a plain store, AVX2 a
// 256-entry permutevar8x32 table). Stores are full vector width: at row r the output
// cursor is at most r, and a vector of rows that lies inside 0..<n never writes past
// out_sel[n - 1]. With a selection vector every level runs the branch-free scalar
// loop (`out[k] = r; k += pass;`), which is also what makes in-place filtering safe:
// entry k <= i is written only after sel[i] was read.
#include "ck_filter.h"

#include "ck_internal.h"
#if CK_HAVE_X86
#include "ck_compress_table.h"
#endif

// MARK: - Scalar comparisons

CK_INLINE uint32_t ck_cmp_i64(ck_cmp op, int64_t x, int64_t y) {
    switch (op) {
    case CK_CMP_EQ: return x == y;
    case CK_CMP_NE: return x != y;
    case CK_CMP_LT: return x < y;
    case CK_CMP_LE: return x <= y;
    case CK_CMP_GT: return x > y;
    case CK_CMP_GE: return x >= y;
    }
    return 0;
}

// C relational operators on doubles are the IEEE ones: false on NaN, except "!=".
CK_INLINE uint32_t ck_cmp_f64(ck_cmp op, double x, double y) {
    switch (op) {
    case CK_CMP_EQ: return x == y;
    case CK_CMP_NE: return x != y;
    case CK_CMP_LT: return x < y;
    case CK_CMP_LE: return x <= y;
    case CK_CMP_GT: return x > y;
    case CK_CMP_GE: return x >= y;
    }
    return 0;
}

/// Expands EXPR once per operator with the constant OPC in scope, so an always-inline
/// body called from EXPR is specialised for that operator.
#define CK_SWITCH_OP(op, EXPR)                                                        \
    switch (op) {                                                                     \
    case CK_CMP_EQ: { const ck_cmp OPC = CK_CMP_EQ; return EXPR; }                    \
    case CK_CMP_NE: { const ck_cmp OPC = CK_CMP_NE; return EXPR; }                    \
    case CK_CMP_LT: { const ck_cmp OPC = CK_CMP_LT; return EXPR; }                    \
    case CK_CMP_LE: { const ck_cmp OPC = CK_CMP_LE; return EXPR; }                    \
    case CK_CMP_GT: { const ck_cmp OPC = CK_CMP_GT; return EXPR; }                    \
    case CK_CMP_GE: { const ck_cmp OPC = CK_CMP_GE; return EXPR; }                    \
    }                                                                                 \
    return 0

// MARK: - Skeletons
// COND(r): 0/1 predicate of row r (nulls not considered). HASV: whether any validity
// bitmap is present. VW(w): validity word w (only evaluated when HASV).

/// Selection-vector path, all levels.
#define CK_FILTER_SEL(HASV, VW, COND)                                                 \
    do {                                                                              \
        size_t k_ = 0;                                                                \
        if (HASV) {                                                                   \
            for (size_t i_ = 0; i_ < n; i_++) {                                       \
                const uint32_t r = sel[i_];                                           \
                const uint32_t pass_ =                                                \
                    (uint32_t)(COND) & (uint32_t)((VW(r >> 6) >> (r & 63)) & 1u);     \
                out_sel[k_] = r;                                                      \
                k_ += pass_;                                                          \
            }                                                                         \
        } else {                                                                      \
            for (size_t i_ = 0; i_ < n; i_++) {                                       \
                const uint32_t r = sel[i_];                                           \
                const uint32_t pass_ = (uint32_t)(COND);                              \
                out_sel[k_] = r;                                                      \
                k_ += pass_;                                                          \
            }                                                                         \
        }                                                                             \
        return k_;                                                                    \
    } while (0)

/// No selection vector, scalar: branch-free per row, a validity word at a time.
#define CK_FILTER_DENSE_SCALAR(HASV, VW, COND)                                        \
    do {                                                                              \
        size_t k_ = 0;                                                                \
        if (!(HASV)) {                                                                \
            for (uint32_t r = 0; r < (uint32_t)n; r++) {                              \
                out_sel[k_] = r;                                                      \
                k_ += (uint32_t)(COND);                                               \
            }                                                                         \
            return k_;                                                                \
        }                                                                             \
        for (size_t base_ = 0; base_ < n; base_ += 64) {                              \
            const uint32_t end_ = (uint32_t)(n - base_ < 64 ? n : base_ + 64);        \
            const uint64_t vw_ = VW(base_ >> 6);                                      \
            if (vw_ == 0) continue;                                                   \
            if (vw_ == ~(uint64_t)0) {                                                \
                for (uint32_t r = (uint32_t)base_; r < end_; r++) {                   \
                    out_sel[k_] = r;                                                  \
                    k_ += (uint32_t)(COND);                                           \
                }                                                                     \
            } else {                                                                  \
                for (uint32_t r = (uint32_t)base_; r < end_; r++) {                   \
                    out_sel[k_] = r;                                                  \
                    k_ += (uint32_t)(COND) & (uint32_t)((vw_ >> (r & 63)) & 1u);      \
                }                                                                     \
            }                                                                         \
        }                                                                             \
        return k_;                                                                    \
    } while (0)

/// No selection vector, SIMD: MASK64(base) compares rows base..<base+64 into a mask,
/// EMIT(mask, base, out) left-packs the row ids and returns how many.
#define CK_FILTER_DENSE_SIMD(HASV, VW, COND, MASK64, EMIT)                            \
    do {                                                                              \
        size_t k_ = 0;                                                                \
        const size_t nfull_ = n >> 6;                                                 \
        for (size_t w_ = 0; w_ < nfull_; w_++) {                                      \
            const uint64_t vw_ = (HASV) ? VW(w_) : ~(uint64_t)0;                      \
            if (vw_ == 0) continue;                                                   \
            const uint64_t m_ = MASK64(w_ << 6) & vw_;                                \
            k_ += EMIT(m_, (uint32_t)(w_ << 6), out_sel + k_);                        \
        }                                                                             \
        const uint64_t vt_ = (HASV && (nfull_ << 6) < n) ? VW(nfull_) : ~(uint64_t)0; \
        for (uint32_t r = (uint32_t)(nfull_ << 6); r < (uint32_t)n; r++) {            \
            out_sel[k_] = r;                                                          \
            k_ += (uint32_t)(COND) & (uint32_t)((vt_ >> (r & 63)) & 1u);              \
        }                                                                             \
        return k_;                                                                    \
    } while (0)

// MARK: - Predicates per kernel

#define VW_ONE(w) (validity[(w)])
#define VW_TWO(w) ((va ? va[(w)] : ~(uint64_t)0) & (vb ? vb[(w)] : ~(uint64_t)0))
#define HASV_ONE (validity != NULL)
#define HASV_TWO (va != NULL || vb != NULL)
#define COND_I64C ck_cmp_i64(OPC, values[r], c)
#define COND_F64C ck_cmp_f64(OPC, values[r], c)
#define COND_I64COLS ck_cmp_i64(OPC, a[r], b[r])
#define COND_F64COLS ck_cmp_f64(OPC, a[r], b[r])
#define COND_BOOL ((uint32_t)(values[r] != 0) == want1)

#define PARAMS_I64C                                                                   \
    const ck_cmp OPC, const int64_t *values, const uint64_t *validity,                \
        const uint32_t *sel, size_t n, int64_t c, uint32_t *out_sel
#define PARAMS_F64C                                                                   \
    const ck_cmp OPC, const double *values, const uint64_t *validity,                 \
        const uint32_t *sel, size_t n, double c, uint32_t *out_sel
#define PARAMS_I64COLS                                                                \
    const ck_cmp OPC, const int64_t *a, const uint64_t *va, const int64_t *b,         \
        const uint64_t *vb, const uint32_t *sel, size_t n, uint32_t *out_sel
#define PARAMS_F64COLS                                                                \
    const ck_cmp OPC, const double *a, const uint64_t *va, const double *b,           \
        const uint64_t *vb, const uint32_t *sel, size_t n, uint32_t *out_sel
#define PARAMS_BOOL                                                                   \
    const uint8_t *values, const uint64_t *validity, const uint32_t *sel, size_t n,   \
        uint32_t want1, uint32_t *out_sel

#define ARGS_I64C OPC, values, validity, sel, n, c, out_sel
#define ARGS_F64C OPC, values, validity, sel, n, c, out_sel
#define ARGS_I64COLS OPC, a, va, b, vb, sel, n, out_sel
#define ARGS_F64COLS OPC, a, va, b, vb, sel, n, out_sel
#define ARGS_BOOL values, validity, sel, n, want1, out_sel

// MARK: - Scalar variants

#define CK_DEF_SCALAR(KIND, HASV, VW, COND)                                           \
    CK_INLINE size_t filter_##KIND##_scalar_body(PARAMS_##KIND) {                     \
        if (sel != NULL) CK_FILTER_SEL(HASV, VW, COND);                               \
        CK_FILTER_DENSE_SCALAR(HASV, VW, COND);                                       \
    }

CK_DEF_SCALAR(I64C, HASV_ONE, VW_ONE, COND_I64C)
CK_DEF_SCALAR(F64C, HASV_ONE, VW_ONE, COND_F64C)
CK_DEF_SCALAR(I64COLS, HASV_TWO, VW_TWO, COND_I64COLS)
CK_DEF_SCALAR(F64COLS, HASV_TWO, VW_TWO, COND_F64COLS)
CK_DEF_SCALAR(BOOL, HASV_ONE, VW_ONE, COND_BOOL)

#if CK_HAVE_X86

// MARK: - AVX-512

CK_AVX512 CK_INLINE size_t emit64_avx512(uint64_t m, uint32_t base, uint32_t *out) {
    if (m == 0) return 0;
    __m512i idx = _mm512_add_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)base));
    const __m512i step = _mm512_set1_epi32(16);
    size_t k = 0;
    for (int j = 0; j < 4; j++) {
        const __mmask16 mm = (__mmask16)(m >> (16 * j));
        // Compress into a register, then an unmasked store: vpcompressd with a memory
        // destination is microcoded and slow on Zen 4.
        _mm512_storeu_si512((void *)(out + k), _mm512_maskz_compress_epi32(mm, idx));
        k += (size_t)__builtin_popcount((unsigned)mm);
        idx = _mm512_add_epi32(idx, step);
    }
    return k;
}

CK_AVX512 CK_INLINE __mmask8 cmp8_i64_avx512(ck_cmp op, __m512i x, __m512i y) {
    switch (op) {
    case CK_CMP_EQ: return _mm512_cmpeq_epi64_mask(x, y);
    case CK_CMP_NE: return _mm512_cmpneq_epi64_mask(x, y);
    case CK_CMP_LT: return _mm512_cmplt_epi64_mask(x, y);
    case CK_CMP_LE: return _mm512_cmple_epi64_mask(x, y);
    case CK_CMP_GT: return _mm512_cmpgt_epi64_mask(x, y);
    case CK_CMP_GE: return _mm512_cmpge_epi64_mask(x, y);
    }
    return 0;
}

CK_AVX512 CK_INLINE __mmask8 cmp8_f64_avx512(ck_cmp op, __m512d x, __m512d y) {
    switch (op) {
    case CK_CMP_EQ: return _mm512_cmp_pd_mask(x, y, _CMP_EQ_OQ);
    case CK_CMP_NE: return _mm512_cmp_pd_mask(x, y, _CMP_NEQ_UQ);
    case CK_CMP_LT: return _mm512_cmp_pd_mask(x, y, _CMP_LT_OQ);
    case CK_CMP_LE: return _mm512_cmp_pd_mask(x, y, _CMP_LE_OQ);
    case CK_CMP_GT: return _mm512_cmp_pd_mask(x, y, _CMP_GT_OQ);
    case CK_CMP_GE: return _mm512_cmp_pd_mask(x, y, _CMP_GE_OQ);
    }
    return 0;
}

CK_AVX512 CK_INLINE uint64_t mask64_i64c_avx512(ck_cmp op, const int64_t *p, __m512i c) {
    uint64_t m = 0;
    for (int j = 0; j < 8; j++) {
        const __m512i x = _mm512_loadu_si512((const void *)(p + 8 * j));
        m |= (uint64_t)cmp8_i64_avx512(op, x, c) << (8 * j);
    }
    return m;
}

CK_AVX512 CK_INLINE uint64_t mask64_f64c_avx512(ck_cmp op, const double *p, __m512d c) {
    uint64_t m = 0;
    for (int j = 0; j < 8; j++) {
        m |= (uint64_t)cmp8_f64_avx512(op, _mm512_loadu_pd(p + 8 * j), c) << (8 * j);
    }
    return m;
}

CK_AVX512 CK_INLINE uint64_t mask64_i64cols_avx512(ck_cmp op, const int64_t *pa,
                                                  const int64_t *pb) {
    uint64_t m = 0;
    for (int j = 0; j < 8; j++) {
        const __m512i x = _mm512_loadu_si512((const void *)(pa + 8 * j));
        const __m512i y = _mm512_loadu_si512((const void *)(pb + 8 * j));
        m |= (uint64_t)cmp8_i64_avx512(op, x, y) << (8 * j);
    }
    return m;
}

CK_AVX512 CK_INLINE uint64_t mask64_f64cols_avx512(ck_cmp op, const double *pa,
                                                  const double *pb) {
    uint64_t m = 0;
    for (int j = 0; j < 8; j++) {
        m |= (uint64_t)cmp8_f64_avx512(op, _mm512_loadu_pd(pa + 8 * j),
                                       _mm512_loadu_pd(pb + 8 * j))
             << (8 * j);
    }
    return m;
}

CK_AVX512 CK_INLINE uint64_t mask64_bool_avx512(const uint8_t *p, uint32_t want1) {
    const __m512i x = _mm512_loadu_si512((const void *)p);
    const uint64_t nonzero = _mm512_test_epi8_mask(x, x);
    return want1 ? nonzero : ~nonzero;
}

#define CK_DEF_AVX512(KIND, HASV, VW, COND, MASK64, SETUP)                            \
    CK_AVX512 CK_INLINE size_t filter_##KIND##_avx512_body(PARAMS_##KIND) {           \
        if (sel != NULL) CK_FILTER_SEL(HASV, VW, COND);                               \
        SETUP;                                                                        \
        CK_FILTER_DENSE_SIMD(HASV, VW, COND, MASK64, emit64_avx512);                  \
    }

#define M512_I64C(base) mask64_i64c_avx512(OPC, values + (base), cv)
#define M512_F64C(base) mask64_f64c_avx512(OPC, values + (base), cv)
#define M512_I64COLS(base) mask64_i64cols_avx512(OPC, a + (base), b + (base))
#define M512_F64COLS(base) mask64_f64cols_avx512(OPC, a + (base), b + (base))
#define M512_BOOL(base) mask64_bool_avx512(values + (base), want1)

CK_DEF_AVX512(I64C, HASV_ONE, VW_ONE, COND_I64C, M512_I64C,
              const __m512i cv = _mm512_set1_epi64(c))
CK_DEF_AVX512(F64C, HASV_ONE, VW_ONE, COND_F64C, M512_F64C,
              const __m512d cv = _mm512_set1_pd(c))
CK_DEF_AVX512(I64COLS, HASV_TWO, VW_TWO, COND_I64COLS, M512_I64COLS, (void)0)
CK_DEF_AVX512(F64COLS, HASV_TWO, VW_TWO, COND_F64COLS, M512_F64COLS, (void)0)
CK_DEF_AVX512(BOOL, HASV_ONE, VW_ONE, COND_BOOL, M512_BOOL, (void)0)

// MARK: - AVX2

CK_AVX2 CK_INLINE size_t emit64_avx2(uint64_t m, uint32_t base, uint32_t *out) {
    if (m == 0) return 0;
    __m256i idx = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                   _mm256_set1_epi32((int)base));
    const __m256i step = _mm256_set1_epi32(8);
    size_t k = 0;
    for (int j = 0; j < 8; j++) {
        const uint32_t b = (uint32_t)(m >> (8 * j)) & 0xFFu;
        const __m256i perm =
            _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)ck_compress8_table[b]));
        _mm256_storeu_si256((__m256i *)(void *)(out + k),
                            _mm256_permutevar8x32_epi32(idx, perm));
        k += (size_t)__builtin_popcount(b);
        idx = _mm256_add_epi32(idx, step);
    }
    return k;
}

CK_AVX2 CK_INLINE uint32_t cmp4_i64_avx2(ck_cmp op, __m256i x, __m256i y) {
#define MM4(v) ((uint32_t)_mm256_movemask_pd(_mm256_castsi256_pd(v)))
    switch (op) {
    case CK_CMP_EQ: return MM4(_mm256_cmpeq_epi64(x, y));
    case CK_CMP_NE: return MM4(_mm256_cmpeq_epi64(x, y)) ^ 0xFu;
    case CK_CMP_LT: return MM4(_mm256_cmpgt_epi64(y, x));
    case CK_CMP_LE: return MM4(_mm256_cmpgt_epi64(x, y)) ^ 0xFu;
    case CK_CMP_GT: return MM4(_mm256_cmpgt_epi64(x, y));
    case CK_CMP_GE: return MM4(_mm256_cmpgt_epi64(y, x)) ^ 0xFu;
    }
#undef MM4
    return 0;
}

CK_AVX2 CK_INLINE uint32_t cmp4_f64_avx2(ck_cmp op, __m256d x, __m256d y) {
    switch (op) {
    case CK_CMP_EQ: return (uint32_t)_mm256_movemask_pd(_mm256_cmp_pd(x, y, _CMP_EQ_OQ));
    case CK_CMP_NE: return (uint32_t)_mm256_movemask_pd(_mm256_cmp_pd(x, y, _CMP_NEQ_UQ));
    case CK_CMP_LT: return (uint32_t)_mm256_movemask_pd(_mm256_cmp_pd(x, y, _CMP_LT_OQ));
    case CK_CMP_LE: return (uint32_t)_mm256_movemask_pd(_mm256_cmp_pd(x, y, _CMP_LE_OQ));
    case CK_CMP_GT: return (uint32_t)_mm256_movemask_pd(_mm256_cmp_pd(x, y, _CMP_GT_OQ));
    case CK_CMP_GE: return (uint32_t)_mm256_movemask_pd(_mm256_cmp_pd(x, y, _CMP_GE_OQ));
    }
    return 0;
}

CK_AVX2 CK_INLINE uint64_t mask64_i64c_avx2(ck_cmp op, const int64_t *p, __m256i c) {
    uint64_t m = 0;
    for (int j = 0; j < 16; j++) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + 4 * j));
        m |= (uint64_t)cmp4_i64_avx2(op, x, c) << (4 * j);
    }
    return m;
}

CK_AVX2 CK_INLINE uint64_t mask64_f64c_avx2(ck_cmp op, const double *p, __m256d c) {
    uint64_t m = 0;
    for (int j = 0; j < 16; j++) {
        m |= (uint64_t)cmp4_f64_avx2(op, _mm256_loadu_pd(p + 4 * j), c) << (4 * j);
    }
    return m;
}

CK_AVX2 CK_INLINE uint64_t mask64_i64cols_avx2(ck_cmp op, const int64_t *pa,
                                              const int64_t *pb) {
    uint64_t m = 0;
    for (int j = 0; j < 16; j++) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(pa + 4 * j));
        const __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(pb + 4 * j));
        m |= (uint64_t)cmp4_i64_avx2(op, x, y) << (4 * j);
    }
    return m;
}

CK_AVX2 CK_INLINE uint64_t mask64_f64cols_avx2(ck_cmp op, const double *pa,
                                              const double *pb) {
    uint64_t m = 0;
    for (int j = 0; j < 16; j++) {
        m |= (uint64_t)cmp4_f64_avx2(op, _mm256_loadu_pd(pa + 4 * j),
                                     _mm256_loadu_pd(pb + 4 * j))
             << (4 * j);
    }
    return m;
}

CK_AVX2 CK_INLINE uint64_t mask64_bool_avx2(const uint8_t *p, uint32_t want1) {
    const __m256i zero = _mm256_setzero_si256();
    const __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
    const __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    const uint64_t zeros =
        (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, zero)) |
        ((uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, zero)) << 32);
    return want1 ? ~zeros : zeros;
}

#define CK_DEF_AVX2(KIND, HASV, VW, COND, MASK64, SETUP)                              \
    CK_AVX2 CK_INLINE size_t filter_##KIND##_avx2_body(PARAMS_##KIND) {               \
        if (sel != NULL) CK_FILTER_SEL(HASV, VW, COND);                               \
        SETUP;                                                                        \
        CK_FILTER_DENSE_SIMD(HASV, VW, COND, MASK64, emit64_avx2);                    \
    }

#define M256_I64C(base) mask64_i64c_avx2(OPC, values + (base), cv)
#define M256_F64C(base) mask64_f64c_avx2(OPC, values + (base), cv)
#define M256_I64COLS(base) mask64_i64cols_avx2(OPC, a + (base), b + (base))
#define M256_F64COLS(base) mask64_f64cols_avx2(OPC, a + (base), b + (base))
#define M256_BOOL(base) mask64_bool_avx2(values + (base), want1)

CK_DEF_AVX2(I64C, HASV_ONE, VW_ONE, COND_I64C, M256_I64C,
            const __m256i cv = _mm256_set1_epi64x(c))
CK_DEF_AVX2(F64C, HASV_ONE, VW_ONE, COND_F64C, M256_F64C,
            const __m256d cv = _mm256_set1_pd(c))
CK_DEF_AVX2(I64COLS, HASV_TWO, VW_TWO, COND_I64COLS, M256_I64COLS, (void)0)
CK_DEF_AVX2(F64COLS, HASV_TWO, VW_TWO, COND_F64COLS, M256_F64COLS, (void)0)
CK_DEF_AVX2(BOOL, HASV_ONE, VW_ONE, COND_BOOL, M256_BOOL, (void)0)

#endif // CK_HAVE_X86

// MARK: - Per-ISA entry points (operator switch outside the loops)

#define CK_DEF_OP_VARIANT(ATTR, KIND, ISA, PARAMS)                                    \
    ATTR static size_t filter_##KIND##_##ISA(PARAMS) {                                \
        CK_SWITCH_OP(op, filter_##KIND##_##ISA##_body(ARGS_##KIND));                  \
    }

#define P_I64C                                                                        \
    ck_cmp op, const int64_t *values, const uint64_t *validity, const uint32_t *sel,  \
        size_t n, int64_t c, uint32_t *out_sel
#define P_F64C                                                                        \
    ck_cmp op, const double *values, const uint64_t *validity, const uint32_t *sel,   \
        size_t n, double c, uint32_t *out_sel
#define P_I64COLS                                                                     \
    ck_cmp op, const int64_t *a, const uint64_t *va, const int64_t *b,                \
        const uint64_t *vb, const uint32_t *sel, size_t n, uint32_t *out_sel
#define P_F64COLS                                                                     \
    ck_cmp op, const double *a, const uint64_t *va, const double *b,                  \
        const uint64_t *vb, const uint32_t *sel, size_t n, uint32_t *out_sel

#define CK_NOATTR
CK_DEF_OP_VARIANT(CK_NOATTR, I64C, scalar, P_I64C)
CK_DEF_OP_VARIANT(CK_NOATTR, F64C, scalar, P_F64C)
CK_DEF_OP_VARIANT(CK_NOATTR, I64COLS, scalar, P_I64COLS)
CK_DEF_OP_VARIANT(CK_NOATTR, F64COLS, scalar, P_F64COLS)
#if CK_HAVE_X86
CK_DEF_OP_VARIANT(CK_AVX512, I64C, avx512, P_I64C)
CK_DEF_OP_VARIANT(CK_AVX512, F64C, avx512, P_F64C)
CK_DEF_OP_VARIANT(CK_AVX512, I64COLS, avx512, P_I64COLS)
CK_DEF_OP_VARIANT(CK_AVX512, F64COLS, avx512, P_F64COLS)
CK_DEF_OP_VARIANT(CK_AVX2, I64C, avx2, P_I64C)
CK_DEF_OP_VARIANT(CK_AVX2, F64C, avx2, P_F64C)
CK_DEF_OP_VARIANT(CK_AVX2, I64COLS, avx2, P_I64COLS)
CK_DEF_OP_VARIANT(CK_AVX2, F64COLS, avx2, P_F64COLS)
#endif

#if CK_HAVE_X86
#define CK_DISPATCH(KIND, ...)                                                        \
    switch (ck_isa_current()) {                                                       \
    case CK_ISA_AVX512: return filter_##KIND##_avx512(__VA_ARGS__);                   \
    case CK_ISA_AVX2: return filter_##KIND##_avx2(__VA_ARGS__);                       \
    default: return filter_##KIND##_scalar(__VA_ARGS__);                              \
    }
#else
#define CK_DISPATCH(KIND, ...) return filter_##KIND##_scalar(__VA_ARGS__)
#endif

// MARK: - Public API

size_t ck_filter_i64_const(ck_cmp op, const int64_t *values, const uint64_t *validity,
                           const uint32_t *sel, size_t n, int64_t c, uint32_t *out_sel) {
    CK_DISPATCH(I64C, op, values, validity, sel, n, c, out_sel);
}

size_t ck_filter_f64_const(ck_cmp op, const double *values, const uint64_t *validity,
                           const uint32_t *sel, size_t n, double c, uint32_t *out_sel) {
    CK_DISPATCH(F64C, op, values, validity, sel, n, c, out_sel);
}

size_t ck_filter_i64_cols(ck_cmp op, const int64_t *a, const uint64_t *va, const int64_t *b,
                          const uint64_t *vb, const uint32_t *sel, size_t n,
                          uint32_t *out_sel) {
    CK_DISPATCH(I64COLS, op, a, va, b, vb, sel, n, out_sel);
}

size_t ck_filter_f64_cols(ck_cmp op, const double *a, const uint64_t *va, const double *b,
                          const uint64_t *vb, const uint32_t *sel, size_t n,
                          uint32_t *out_sel) {
    CK_DISPATCH(F64COLS, op, a, va, b, vb, sel, n, out_sel);
}

#if CK_HAVE_X86
CK_AVX512 static size_t filter_BOOL_avx512(PARAMS_BOOL) {
    return filter_BOOL_avx512_body(ARGS_BOOL);
}
CK_AVX2 static size_t filter_BOOL_avx2(PARAMS_BOOL) {
    return filter_BOOL_avx2_body(ARGS_BOOL);
}
#endif
static size_t filter_BOOL_scalar(PARAMS_BOOL) { return filter_BOOL_scalar_body(ARGS_BOOL); }

size_t ck_filter_bool(const uint8_t *values, const uint64_t *validity, const uint32_t *sel,
                      size_t n, uint8_t want, uint32_t *out_sel) {
    const uint32_t want1 = want != 0;
    CK_DISPATCH(BOOL, values, validity, sel, n, want1, out_sel);
}

// Strings: one scalar body for every level. The length test rejects most rows
// before memcmp; vectorising the offsets difference measured no gain worth the code.
CK_INLINE uint32_t str_eq(const int32_t *offsets, const uint8_t *arena, uint32_t r,
                          const uint8_t *c, size_t clen) {
    const int32_t lo = offsets[r];
    const size_t len = (size_t)(offsets[r + 1] - lo);
    if (len != clen) return 0;
    return clen == 0 || memcmp(arena + lo, c, clen) == 0;
}

size_t ck_filter_str_eq_const(const int32_t *offsets, const uint8_t *arena,
                              const uint64_t *validity, const uint32_t *sel, size_t n,
                              const uint8_t *c, size_t clen, int negate,
                              uint32_t *out_sel) {
    const uint32_t flip = negate != 0;
#define COND_STR (str_eq(offsets, arena, r, c, clen) ^ flip)
    if (sel != NULL) CK_FILTER_SEL(HASV_ONE, VW_ONE, COND_STR);
    CK_FILTER_DENSE_SCALAR(HASV_ONE, VW_ONE, COND_STR);
#undef COND_STR
}

// MARK: - Selection vector set operations (branch-free merges)

size_t ck_sel_intersect(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                        uint32_t *out) {
    size_t i = 0, j = 0, k = 0;
    // k <= i throughout, so writing out[k] never clobbers an unread a[i] when out == a.
    while (i < na && j < nb) {
        const uint32_t x = a[i], y = b[j];
        out[k] = x;
        k += x == y;
        i += x <= y;
        j += y <= x;
    }
    return k;
}

size_t ck_sel_union(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                    uint32_t *out) {
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        const uint32_t x = a[i], y = b[j];
        out[k++] = x < y ? x : y;
        i += x <= y;
        j += y <= x;
    }
    while (i < na) out[k++] = a[i++];
    while (j < nb) out[k++] = b[j++];
    return k;
}

size_t ck_sel_difference(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                         uint32_t *out) {
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        const uint32_t x = a[i], y = b[j];
        out[k] = x;
        k += x < y;
        i += x <= y;
        j += y <= x;
    }
    // Forward copy: out + k <= a + i, so this is safe when out == a.
    while (i < na) out[k++] = a[i++];
    return k;
}
