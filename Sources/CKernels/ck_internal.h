#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H
/// Private helpers shared by the kernel families (not part of the public headers).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ck_dispatch.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define CK_HAVE_X86 1
/// Per-function ISA attributes: the binary must still run on a CPU without AVX, so
/// nothing is compiled with global -m flags.
#define CK_AVX2 __attribute__((target("avx2,bmi2,popcnt")))
#define CK_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,bmi2,popcnt")))
#else
#define CK_HAVE_X86 0
#endif

#define CK_INLINE static inline __attribute__((always_inline))
#define CK_LIKELY(x) __builtin_expect(!!(x), 1)
#define CK_UNLIKELY(x) __builtin_expect(!!(x), 0)

/// Bit r of a validity bitmap (LSB first), 1 = valid. `validity` must not be NULL.
CK_INLINE uint64_t ck_valid_bit(const uint64_t *validity, uint32_t r) {
    return (validity[r >> 6] >> (r & 63)) & 1u;
}

/// The row id of the i-th considered row.
CK_INLINE uint32_t ck_row(const uint32_t *sel, size_t i) {
    return sel ? sel[i] : (uint32_t)i;
}

/// Bit i of the result is the XOR of bits 0...i of x: which bytes lie inside quotes,
/// given the quote characters' bits (the CSV and JSON indexes).
CK_INLINE uint64_t ck_prefix_xor(uint64_t x) {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

#if CK_HAVE_X86
/// The same in one carry-less multiplication by all ones.
CK_INLINE __attribute__((target("pclmul"))) uint64_t ck_prefix_xor_clmul(uint64_t x) {
    __m128i r = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), _mm_set1_epi8((char)0xFF), 0);
    return (uint64_t)_mm_cvtsi128_si64(r);
}
#endif

CK_INLINE uint64_t ck_load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

CK_INLINE uint32_t ck_load32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#endif
