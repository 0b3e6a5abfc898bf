// Aggregate update kernels.
//
// Grouped updates (groups != NULL) are a scalar loop at every level: the
// read-modify-write of acc[groups[r]] serialises on repeated groups, and the
// measured rates (TOOLCHAIN.md: grouped sum 2.0 G/s scalar, 1.6 AVX2, 1.0 AVX-512
// with conflict detection) favour plain scalar code.
// Global integer aggregates (groups == NULL) are written as plain loops that the
// compiler vectorises; they are instantiated once per ISA so the AVX2 / AVX-512
// variants get wider vectors. Global float aggregates keep row order at every level
// so that all levels agree bit for bit.
#include "ck_agg.h"

#include "ck_internal.h"

/// Runs BODY (which reads `r`) for every considered non-null row in ascending order.
/// Without a selection vector it works a validity word at a time: all-valid words
/// run a plain loop (vectorisable), all-null words are skipped, mixed words visit
/// their set bits.
#define CK_AGG_ROWS(validity, sel, n, BODY)                                           \
    do {                                                                              \
        if (sel != NULL) {                                                            \
            if (validity != NULL) {                                                   \
                for (size_t i_ = 0; i_ < n; i_++) {                                   \
                    const uint32_t r = sel[i_];                                       \
                    if (ck_valid_bit(validity, r)) { BODY; }                          \
                }                                                                     \
            } else {                                                                  \
                for (size_t i_ = 0; i_ < n; i_++) {                                   \
                    const uint32_t r = sel[i_];                                       \
                    BODY;                                                             \
                }                                                                     \
            }                                                                         \
        } else if (validity == NULL) {                                                \
            for (size_t r = 0; r < n; r++) { BODY; }                                  \
        } else {                                                                      \
            for (size_t base_ = 0; base_ < n; base_ += 64) {                          \
                const size_t len_ = n - base_ < 64 ? n - base_ : 64;                  \
                uint64_t m_ = validity[base_ >> 6];                                   \
                if (len_ < 64) m_ &= (((uint64_t)1) << len_) - 1;                     \
                if (m_ == ~(uint64_t)0) {                                             \
                    for (size_t r = base_; r < base_ + 64; r++) { BODY; }             \
                } else {                                                              \
                    while (m_ != 0) {                                                 \
                        const size_t r = base_ + (size_t)__builtin_ctzll(m_);         \
                        m_ &= m_ - 1;                                                 \
                        BODY;                                                         \
                    }                                                                 \
                }                                                                     \
            }                                                                         \
        }                                                                             \
    } while (0)

// MARK: - Bodies

#define CK_MIN(a, b) ((b) < (a) ? (b) : (a))
#define CK_MAX(a, b) ((b) > (a) ? (b) : (a))

CK_INLINE void sum_i64_body(const int64_t *values, const uint64_t *validity,
                            const uint32_t *groups, const uint32_t *sel, size_t n,
                            int64_t *sums) {
    if (groups != NULL) {
        CK_AGG_ROWS(validity, sel, n,
                    sums[groups[r]] = (int64_t)((uint64_t)sums[groups[r]] + (uint64_t)values[r]));
        return;
    }
    uint64_t s = (uint64_t)sums[0];
    CK_AGG_ROWS(validity, sel, n, s += (uint64_t)values[r]);
    sums[0] = (int64_t)s;
}

CK_INLINE void min_i64_body(const int64_t *values, const uint64_t *validity,
                            const uint32_t *groups, const uint32_t *sel, size_t n,
                            int64_t *acc) {
    if (groups != NULL) {
        CK_AGG_ROWS(validity, sel, n, acc[groups[r]] = CK_MIN(acc[groups[r]], values[r]));
        return;
    }
    int64_t m = acc[0];
    CK_AGG_ROWS(validity, sel, n, m = CK_MIN(m, values[r]));
    acc[0] = m;
}

CK_INLINE void max_i64_body(const int64_t *values, const uint64_t *validity,
                            const uint32_t *groups, const uint32_t *sel, size_t n,
                            int64_t *acc) {
    if (groups != NULL) {
        CK_AGG_ROWS(validity, sel, n, acc[groups[r]] = CK_MAX(acc[groups[r]], values[r]));
        return;
    }
    int64_t m = acc[0];
    CK_AGG_ROWS(validity, sel, n, m = CK_MAX(m, values[r]));
    acc[0] = m;
}

#define CK_DEF_VARIANTS(NAME, T)                                                      \
    static void NAME##_scalar(const T *values, const uint64_t *validity,              \
                              const uint32_t *groups, const uint32_t *sel, size_t n,  \
                              T *acc) {                                               \
        NAME##_body(values, validity, groups, sel, n, acc);                           \
    }                                                                                 \
    CK_DEF_VARIANTS_X86(NAME, T)

#if CK_HAVE_X86
#define CK_DEF_VARIANTS_X86(NAME, T)                                                  \
    CK_AVX2 static void NAME##_avx2(const T *values, const uint64_t *validity,        \
                                    const uint32_t *groups, const uint32_t *sel,      \
                                    size_t n, T *acc) {                               \
        NAME##_body(values, validity, groups, sel, n, acc);                           \
    }                                                                                 \
    CK_AVX512 static void NAME##_avx512(const T *values, const uint64_t *validity,    \
                                        const uint32_t *groups, const uint32_t *sel,  \
                                        size_t n, T *acc) {                           \
        NAME##_body(values, validity, groups, sel, n, acc);                           \
    }
#define CK_AGG_DISPATCH(NAME)                                                         \
    if (groups != NULL) {                                                             \
        NAME##_scalar(values, validity, groups, sel, n, acc);                         \
        return;                                                                       \
    }                                                                                 \
    switch (ck_isa_current()) {                                                       \
    case CK_ISA_AVX512: NAME##_avx512(values, validity, groups, sel, n, acc); return; \
    case CK_ISA_AVX2: NAME##_avx2(values, validity, groups, sel, n, acc); return;     \
    default: NAME##_scalar(values, validity, groups, sel, n, acc); return;            \
    }
#else
#define CK_DEF_VARIANTS_X86(NAME, T)
#define CK_AGG_DISPATCH(NAME) NAME##_scalar(values, validity, groups, sel, n, acc)
#endif

CK_DEF_VARIANTS(sum_i64, int64_t)
CK_DEF_VARIANTS(min_i64, int64_t)
CK_DEF_VARIANTS(max_i64, int64_t)

// MARK: - Public API

void ck_agg_count_star(const uint32_t *groups, const uint32_t *sel, size_t n,
                       int64_t *counts) {
    if (groups == NULL) {
        counts[0] += (int64_t)n;
        return;
    }
    const uint64_t *validity = NULL;
    CK_AGG_ROWS(validity, sel, n, counts[groups[r]]++);
}

void ck_agg_count(const uint64_t *validity, const uint32_t *groups, const uint32_t *sel,
                  size_t n, int64_t *counts) {
    if (groups != NULL) {
        CK_AGG_ROWS(validity, sel, n, counts[groups[r]]++);
        return;
    }
    if (validity == NULL) {
        counts[0] += (int64_t)n;
        return;
    }
    int64_t c = 0;
    if (sel != NULL) {
        for (size_t i = 0; i < n; i++) c += (int64_t)ck_valid_bit(validity, sel[i]);
    } else {
        const size_t full = n >> 6;
        for (size_t w = 0; w < full; w++) c += __builtin_popcountll(validity[w]);
        if (n & 63) c += __builtin_popcountll(validity[full] & ((((uint64_t)1) << (n & 63)) - 1));
    }
    counts[0] += c;
}

void ck_agg_sum_i64(const int64_t *values, const uint64_t *validity, const uint32_t *groups,
                    const uint32_t *sel, size_t n, int64_t *sums) {
    int64_t *acc = sums;
    CK_AGG_DISPATCH(sum_i64);
}

int ck_agg_sum_i64_checked(const int64_t *values, const uint64_t *validity,
                           const uint32_t *groups, const uint32_t *sel, size_t n, int64_t *sums) {
    // One scalar body at every level: the overflow test keeps the loop from
    // vectorising, and grouped sums are scalar anyway (see the top of this file).
    int overflow = 0;
    if (groups != NULL) {
        CK_AGG_ROWS(validity, sel, n, {
            int64_t t;
            overflow |= __builtin_add_overflow(sums[groups[r]], values[r], &t);
            sums[groups[r]] = t;
        });
        return overflow;
    }
    int64_t s = sums[0];
    CK_AGG_ROWS(validity, sel, n, {
        int64_t t;
        overflow |= __builtin_add_overflow(s, values[r], &t);
        s = t;
    });
    sums[0] = s;
    return overflow;
}

void ck_agg_min_i64(const int64_t *values, const uint64_t *validity, const uint32_t *groups,
                    const uint32_t *sel, size_t n, int64_t *acc) {
    CK_AGG_DISPATCH(min_i64);
}

void ck_agg_max_i64(const int64_t *values, const uint64_t *validity, const uint32_t *groups,
                    const uint32_t *sel, size_t n, int64_t *acc) {
    CK_AGG_DISPATCH(max_i64);
}

// Floats: row order at every level (no reassociation), so one scalar body serves all.
void ck_agg_sum_f64(const double *values, const uint64_t *validity, const uint32_t *groups,
                    const uint32_t *sel, size_t n, double *sums) {
    if (groups != NULL) {
        CK_AGG_ROWS(validity, sel, n, sums[groups[r]] += values[r]);
        return;
    }
    double s = sums[0];
    CK_AGG_ROWS(validity, sel, n, s += values[r]);
    sums[0] = s;
}

void ck_agg_min_f64(const double *values, const uint64_t *validity, const uint32_t *groups,
                    const uint32_t *sel, size_t n, double *acc) {
    if (groups != NULL) {
        CK_AGG_ROWS(validity, sel, n, acc[groups[r]] = CK_MIN(acc[groups[r]], values[r]));
        return;
    }
    double m = acc[0];
    CK_AGG_ROWS(validity, sel, n, m = CK_MIN(m, values[r]));
    acc[0] = m;
}

void ck_agg_max_f64(const double *values, const uint64_t *validity, const uint32_t *groups,
                    const uint32_t *sel, size_t n, double *acc) {
    if (groups != NULL) {
        CK_AGG_ROWS(validity, sel, n, acc[groups[r]] = CK_MAX(acc[groups[r]], values[r]));
        return;
    }
    double m = acc[0];
    CK_AGG_ROWS(validity, sel, n, m = CK_MAX(m, values[r]));
    acc[0] = m;
}
