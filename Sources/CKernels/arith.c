// Elementwise arithmetic. Each loop is written once and compiled per ISA level
// (the compiler vectorises it to the width of the level).
//
// `out` may equal an input. Written as a plain `out[i] = a[i] + b[i]` loop the
// compiler must guard against overlap at run time and falls back to scalar code
// exactly in the in-place case; so each block of CK_BLOCK slots is first computed
// into a local array and then stored, which needs no alias reasoning.
//
// Integer overflow is detected branch-free from sign bits and OR-ed into one flag:
//   add: (a ^ r) & (b ^ r) < 0     sub: (a ^ b) & (a ^ r) < 0
// Multiplication uses __builtin_mul_overflow (no 64x64 high product in AVX2/AVX-512
// worth the code here).
#include "ck_arith.h"

#include "ck_internal.h"

#define CK_BLOCK 32

/// Instantiates `static inline uint64_t NAME_body(PARAMS)` computing EXPR(i) into
/// out[i] for i in 0..<n; OVF(i, r) is OR-ed into `ovf_`, whose sign bit says whether
/// any slot overflowed.
#define CK_ELEMWISE_BODY(NAME, T_OUT, PARAMS, EXPR, OVF)                              \
    CK_INLINE uint64_t NAME##_body PARAMS {                                           \
        uint64_t ovf_ = 0;                                                            \
        size_t i0_ = 0;                                                               \
        for (; i0_ + CK_BLOCK <= n; i0_ += CK_BLOCK) {                                \
            T_OUT t_[CK_BLOCK];                                                       \
            for (size_t j_ = 0; j_ < CK_BLOCK; j_++) {                                \
                const size_t i = i0_ + j_;                                            \
                const T_OUT r = (EXPR);                                               \
                ovf_ |= (OVF);                                                        \
                t_[j_] = r;                                                           \
            }                                                                         \
            memcpy(out + i0_, t_, sizeof t_);                                         \
        }                                                                             \
        for (size_t i = i0_; i < n; i++) {                                            \
            const T_OUT r = (EXPR);                                                   \
            ovf_ |= (OVF);                                                            \
            out[i] = r;                                                               \
        }                                                                             \
        return ovf_;                                                                  \
    }

/// Per-ISA instances and the public entry point. CK_RESULT_int turns the flag word
/// into 0/1, CK_RESULT_void drops it.
#define CK_RESULT_int(x) return (int)((x) >> 63)
#define CK_RESULT_void(x) (void)(x)

#if CK_HAVE_X86
#define CK_ELEMWISE_VARIANTS(RET, NAME, PARAMS, ARGS)                                 \
    static uint64_t NAME##_scalar PARAMS { return NAME##_body ARGS; }                 \
    CK_AVX2 static uint64_t NAME##_avx2 PARAMS { return NAME##_body ARGS; }           \
    CK_AVX512 static uint64_t NAME##_avx512 PARAMS { return NAME##_body ARGS; }       \
    RET NAME PARAMS {                                                                 \
        uint64_t f_;                                                                  \
        switch (ck_isa_current()) {                                                   \
        case CK_ISA_AVX512: f_ = NAME##_avx512 ARGS; break;                           \
        case CK_ISA_AVX2: f_ = NAME##_avx2 ARGS; break;                               \
        default: f_ = NAME##_scalar ARGS; break;                                      \
        }                                                                             \
        CK_RESULT_##RET(f_);                                                          \
    }
#else
#define CK_ELEMWISE_VARIANTS(RET, NAME, PARAMS, ARGS)                                 \
    RET NAME PARAMS { CK_RESULT_##RET(NAME##_body ARGS); }
#endif

#define CK_ELEMWISE(RET, NAME, T_OUT, PARAMS, ARGS, EXPR, OVF)                        \
    CK_ELEMWISE_BODY(NAME, T_OUT, PARAMS, EXPR, OVF)                                  \
    CK_ELEMWISE_VARIANTS(RET, NAME, PARAMS, ARGS)

#define U(x) ((uint64_t)(x))
#define SLOT_I64(x) ((int64_t)(x))

CK_INLINE int64_t mul_wrap(int64_t x, int64_t y, uint64_t *ovf) {
    int64_t r;
    *ovf |= (uint64_t)__builtin_mul_overflow(x, y, &r) << 63;
    return r;
}

// MARK: - Integers

#define P2I (const int64_t *a, const int64_t *b, size_t n, int64_t *out)
#define A2 (a, b, n, out)
#define PCI (const int64_t *a, int64_t c, size_t n, int64_t *out)
#define ACI (a, c, n, out)
#define PIC (int64_t c, const int64_t *a, size_t n, int64_t *out)
#define AIC (c, a, n, out)

CK_ELEMWISE(int, ck_add_i64, int64_t, P2I, A2, SLOT_I64(U(a[i]) + U(b[i])),
            (U(a[i]) ^ U(r)) & (U(b[i]) ^ U(r)))
CK_ELEMWISE(int, ck_sub_i64, int64_t, P2I, A2, SLOT_I64(U(a[i]) - U(b[i])),
            (U(a[i]) ^ U(b[i])) & (U(a[i]) ^ U(r)))
CK_ELEMWISE(int, ck_mul_i64, int64_t, P2I, A2, mul_wrap(a[i], b[i], &ovf_), 0)
CK_ELEMWISE(int, ck_add_i64_const, int64_t, PCI, ACI, SLOT_I64(U(a[i]) + U(c)),
            (U(a[i]) ^ U(r)) & (U(c) ^ U(r)))
CK_ELEMWISE(int, ck_sub_i64_const, int64_t, PCI, ACI, SLOT_I64(U(a[i]) - U(c)),
            (U(a[i]) ^ U(c)) & (U(a[i]) ^ U(r)))
CK_ELEMWISE(int, ck_mul_i64_const, int64_t, PCI, ACI, mul_wrap(a[i], c, &ovf_), 0)
CK_ELEMWISE(int, ck_const_sub_i64, int64_t, PIC, AIC, SLOT_I64(U(c) - U(a[i])),
            (U(c) ^ U(a[i])) & (U(c) ^ U(r)))

// MARK: - Floats (no overflow flag: the OVF expression is the constant 0)

#define P2F (const double *a, const double *b, size_t n, double *out)
#define PCF (const double *a, double c, size_t n, double *out)
#define PFC (double c, const double *a, size_t n, double *out)

CK_ELEMWISE(void, ck_add_f64, double, P2F, A2, a[i] + b[i], 0)
CK_ELEMWISE(void, ck_sub_f64, double, P2F, A2, a[i] - b[i], 0)
CK_ELEMWISE(void, ck_mul_f64, double, P2F, A2, a[i] * b[i], 0)
CK_ELEMWISE(void, ck_div_f64, double, P2F, A2, a[i] / b[i], 0)
CK_ELEMWISE(void, ck_add_f64_const, double, PCF, ACI, a[i] + c, 0)
CK_ELEMWISE(void, ck_sub_f64_const, double, PCF, ACI, a[i] - c, 0)
CK_ELEMWISE(void, ck_mul_f64_const, double, PCF, ACI, a[i] * c, 0)
CK_ELEMWISE(void, ck_div_f64_const, double, PCF, ACI, a[i] / c, 0)
CK_ELEMWISE(void, ck_const_sub_f64, double, PFC, AIC, c - a[i], 0)
CK_ELEMWISE(void, ck_const_div_f64, double, PFC, AIC, c / a[i], 0)

CK_ELEMWISE(void, ck_i64_to_f64, double, (const int64_t *a, size_t n, double *out),
            (a, n, out), (double)a[i], 0)

void ck_validity_and(const uint64_t *a, const uint64_t *b, size_t nwords, uint64_t *out) {
    if (a == NULL && b == NULL) {
        memset(out, 0xFF, nwords * sizeof *out);
    } else if (a == NULL || b == NULL) {
        const uint64_t *src = a ? a : b;
        if (src != out) memmove(out, src, nwords * sizeof *out);
    } else {
        for (size_t w = 0; w < nwords; w++) out[w] = a[w] & b[w];
    }
}
