// Hash kernels.
//
// Integers: h(v) = mix(v ^ SEED), mix = xorshift-multiply-xorshift-multiply-xorshift
// (the shape of murmur3's fmix64, with our own constants and shifts, chosen by an
// avalanche test: every input bit flips each output bit with probability 0.5 within
// sampling noise, for random and for small consecutive inputs). mix is a bijection,
// so distinct integers never collide. The SIMD variants compute exactly the same
// function (AVX-512DQ vpmullq; AVX2 builds the 64-bit product from three vpmuludq).
//
// Strings: 16-byte blocks folded with a 64x64->128 multiply (low ^ high half), the
// last 4..16 bytes read as four possibly overlapping 32-bit words (1..3 bytes as
// first / middle / last byte), then mix. One scalar body
// for every level, so the values are identical everywhere by construction.
//
// Combine: combine(seed, h) = mix(rotl(seed, 27) + h).
#include "ck_hash.h"

#include "ck_internal.h"

#define CK_H_SEED 0x2D358DCCAA6C78A5ull
#define CK_H_M1 0xF2A74DE452E6B439ull
#define CK_H_M2 0x6513270E269E0D37ull
#define CK_S_SEED 0x8BB84B93962EACC9ull
#define CK_S_K1 0x4B33A62ED433D4A3ull
#define CK_S_K2 0x9FB21C651E98DF25ull
#define CK_S_K3 0xA0761D6478BD642Full
#define CK_S_K4 0xE7037ED1A0B428DBull

CK_INLINE uint64_t ck_mix(uint64_t x) {
    x ^= x >> 31;
    x *= CK_H_M1;
    x ^= x >> 29;
    x *= CK_H_M2;
    x ^= x >> 32;
    return x;
}

CK_INLINE uint64_t ck_h_i64(int64_t v) { return ck_mix((uint64_t)v ^ CK_H_SEED); }

CK_INLINE uint64_t ck_combine(uint64_t seed, uint64_t h) {
    return ck_mix(((seed << 27) | (seed >> 37)) + h);
}

CK_INLINE uint64_t ck_fold(uint64_t a, uint64_t b) {
    const __uint128_t p = (__uint128_t)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
}

CK_INLINE uint64_t ck_h_bytes(const uint8_t *p, size_t len) {
    uint64_t h = CK_S_SEED ^ ((uint64_t)len * CK_H_M1);
    uint64_t a, b;
    if (len <= 16) {
        if (len >= 4) {
            // Four 32-bit loads at 0, len - 4, d, len - 4 - d cover every byte of a
            // 4..16-byte string without a branch on the length (d = 0 below 8 bytes).
            const size_t d = (size_t)(len >= 8) << 2;
            a = ((uint64_t)ck_load32(p) << 32) | ck_load32(p + len - 4);
            b = ((uint64_t)ck_load32(p + d) << 32) | ck_load32(p + len - 4 - d);
        } else if (len > 0) {
            a = (uint64_t)p[0] | ((uint64_t)p[len >> 1] << 8) | ((uint64_t)p[len - 1] << 16);
            b = 0;
        } else {
            a = 0;
            b = 0;
        }
    } else {
        size_t i = 0;
        do {
            h = ck_fold(ck_load64(p + i) ^ CK_S_K1, ck_load64(p + i + 8) ^ CK_S_K2 ^ h);
            i += 16;
        } while (len - i > 16);
        a = ck_load64(p + len - 16);
        b = ck_load64(p + len - 8);
    }
    return ck_mix(ck_fold(a ^ CK_S_K3, b ^ CK_S_K4 ^ h));
}

// MARK: - Scalar helpers (public)

uint64_t ck_hash_i64_one(int64_t v) { return ck_h_i64(v); }

uint64_t ck_hash_bytes_one(const uint8_t *p, size_t len) { return ck_h_bytes(p, len); }

uint64_t ck_hash_combine_one(uint64_t seed, uint64_t h) { return ck_combine(seed, h); }

// MARK: - Integer column bodies
// COMBINE = 0: out[r] = h; COMBINE = 1: out[r] = combine(out[r], h).

CK_INLINE void hash_i64_scalar_body(const int64_t *values, const uint64_t *validity,
                                    const uint32_t *sel, size_t n, uint64_t *out,
                                    const int combine) {
    for (size_t i = 0; i < n; i++) {
        const uint32_t r = ck_row(sel, i);
        uint64_t h = ck_h_i64(values[r]);
        if (validity != NULL && !ck_valid_bit(validity, r)) h = CK_HASH_NULL;
        out[r] = combine ? ck_combine(out[r], h) : h;
    }
}

static void hash_i64_scalar(const int64_t *values, const uint64_t *validity,
                            const uint32_t *sel, size_t n, uint64_t *out, int combine) {
    if (combine) hash_i64_scalar_body(values, validity, sel, n, out, 1);
    else hash_i64_scalar_body(values, validity, sel, n, out, 0);
}

#if CK_HAVE_X86

// MARK: - AVX-512

CK_AVX512 CK_INLINE __m512i mix_avx512(__m512i x) {
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 31));
    x = _mm512_mullo_epi64(x, _mm512_set1_epi64((long long)CK_H_M1));
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 29));
    x = _mm512_mullo_epi64(x, _mm512_set1_epi64((long long)CK_H_M2));
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 32));
    return x;
}

/// Hash (or combine) the 8 rows at `values + i`, lanes in `lanes` (others untouched);
/// `valid` has bit j set when row i + j is valid.
CK_AVX512 CK_INLINE void hash8_avx512(const int64_t *values, uint64_t *out, size_t i,
                                      __mmask8 lanes, __mmask8 valid, const int combine) {
    const __m512i v = _mm512_maskz_loadu_epi64(lanes, (const void *)(values + i));
    __m512i h = mix_avx512(_mm512_xor_si512(v, _mm512_set1_epi64((long long)CK_H_SEED)));
    h = _mm512_mask_blend_epi64(valid, _mm512_set1_epi64((long long)CK_HASH_NULL), h);
    if (combine) {
        const __m512i s = _mm512_maskz_loadu_epi64(lanes, (const void *)(out + i));
        h = mix_avx512(_mm512_add_epi64(_mm512_rol_epi64(s, 27), h));
    }
    _mm512_mask_storeu_epi64((void *)(out + i), lanes, h);
}

CK_AVX512 CK_INLINE void hash_i64_avx512_body(const int64_t *values,
                                              const uint64_t *validity, const uint32_t *sel,
                                              size_t n, uint64_t *out, const int combine) {
    if (sel != NULL) {
        hash_i64_scalar_body(values, validity, sel, n, out, combine);
        return;
    }
    size_t i = 0;
    if (validity == NULL) {
        // Two independent vectors per iteration keep both multiply pipes busy.
        for (; i + 16 <= n; i += 16) {
            hash8_avx512(values, out, i, 0xFF, 0xFF, combine);
            hash8_avx512(values, out, i + 8, 0xFF, 0xFF, combine);
        }
        for (; i < n; i += 8) {
            const size_t left = n - i;
            const __mmask8 lanes = left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1);
            hash8_avx512(values, out, i, lanes, 0xFF, combine);
        }
        return;
    }
    for (; i < n; i += 8) {
        const size_t left = n - i;
        const __mmask8 lanes = left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1);
        const __mmask8 valid = (__mmask8)(validity[i >> 6] >> (i & 63));
        hash8_avx512(values, out, i, lanes, valid, combine);
    }
}

CK_AVX512 static void hash_i64_avx512(const int64_t *values, const uint64_t *validity,
                                      const uint32_t *sel, size_t n, uint64_t *out,
                                      int combine) {
    if (combine) hash_i64_avx512_body(values, validity, sel, n, out, 1);
    else hash_i64_avx512_body(values, validity, sel, n, out, 0);
}

// MARK: - AVX2

/// x * m mod 2^64 per lane from 32-bit products: lo*lo + ((hi*lo + lo*hi) << 32).
CK_AVX2 CK_INLINE __m256i mul64_avx2(__m256i x, uint64_t m) {
    const __m256i mlo = _mm256_set1_epi64x((long long)(m & 0xFFFFFFFFu));
    const __m256i mhi = _mm256_set1_epi64x((long long)(m >> 32));
    const __m256i lo = _mm256_mul_epu32(x, mlo);
    const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(x, 32), mlo),
                                           _mm256_mul_epu32(x, mhi));
    return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

CK_AVX2 CK_INLINE __m256i mix_avx2(__m256i x) {
    x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 31));
    x = mul64_avx2(x, CK_H_M1);
    x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 29));
    x = mul64_avx2(x, CK_H_M2);
    x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 32));
    return x;
}

CK_AVX2 CK_INLINE void hash4_avx2(const int64_t *values, uint64_t *out, size_t i,
                                  uint32_t valid4, const int combine) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(values + i));
    __m256i h = mix_avx2(_mm256_xor_si256(v, _mm256_set1_epi64x((long long)CK_H_SEED)));
    if (valid4 != 0xFu) {
        const __m256i bits = _mm256_setr_epi64x(1, 2, 4, 8);
        const __m256i lane_valid = _mm256_cmpeq_epi64(
            _mm256_and_si256(_mm256_set1_epi64x((long long)valid4), bits), bits);
        h = _mm256_blendv_epi8(_mm256_set1_epi64x((long long)CK_HASH_NULL), h, lane_valid);
    }
    if (combine) {
        const __m256i s = _mm256_loadu_si256((const __m256i *)(const void *)(out + i));
        const __m256i rot = _mm256_or_si256(_mm256_slli_epi64(s, 27), _mm256_srli_epi64(s, 37));
        h = mix_avx2(_mm256_add_epi64(rot, h));
    }
    _mm256_storeu_si256((__m256i *)(void *)(out + i), h);
}

CK_AVX2 CK_INLINE void hash_i64_avx2_body(const int64_t *values, const uint64_t *validity,
                                          const uint32_t *sel, size_t n, uint64_t *out,
                                          const int combine) {
    if (sel != NULL) {
        hash_i64_scalar_body(values, validity, sel, n, out, combine);
        return;
    }
    size_t i = 0;
    if (validity == NULL) {
        for (; i + 8 <= n; i += 8) {
            hash4_avx2(values, out, i, 0xF, combine);
            hash4_avx2(values, out, i + 4, 0xF, combine);
        }
    }
    for (; i + 4 <= n; i += 4) {
        const uint32_t valid4 =
            validity ? (uint32_t)(validity[i >> 6] >> (i & 63)) & 0xFu : 0xFu;
        hash4_avx2(values, out, i, valid4, combine);
    }
    for (; i < n; i++) {
        uint64_t h = ck_h_i64(values[i]);
        if (validity != NULL && !ck_valid_bit(validity, (uint32_t)i)) h = CK_HASH_NULL;
        out[i] = combine ? ck_combine(out[i], h) : h;
    }
}

CK_AVX2 static void hash_i64_avx2(const int64_t *values, const uint64_t *validity,
                                  const uint32_t *sel, size_t n, uint64_t *out, int combine) {
    if (combine) hash_i64_avx2_body(values, validity, sel, n, out, 1);
    else hash_i64_avx2_body(values, validity, sel, n, out, 0);
}

#endif // CK_HAVE_X86

static void hash_i64_dispatch(const int64_t *values, const uint64_t *validity,
                              const uint32_t *sel, size_t n, uint64_t *out, int combine) {
    switch (ck_isa_current()) {
#if CK_HAVE_X86
    case CK_ISA_AVX512: hash_i64_avx512(values, validity, sel, n, out, combine); return;
    case CK_ISA_AVX2: hash_i64_avx2(values, validity, sel, n, out, combine); return;
#endif
    default: hash_i64_scalar(values, validity, sel, n, out, combine); return;
    }
}

void ck_hash_i64(const int64_t *values, const uint64_t *validity, const uint32_t *sel,
                 size_t n, uint64_t *out) {
    hash_i64_dispatch(values, validity, sel, n, out, 0);
}

void ck_hash_combine_i64(const int64_t *values, const uint64_t *validity,
                         const uint32_t *sel, size_t n, uint64_t *inout) {
    hash_i64_dispatch(values, validity, sel, n, inout, 1);
}

// MARK: - Strings (one body for all levels: identical values by construction)

CK_INLINE void hash_str_body(const int32_t *offsets, const uint8_t *arena,
                             const uint64_t *validity, const uint32_t *sel, size_t n,
                             uint64_t *out, const int combine) {
    for (size_t i = 0; i < n; i++) {
        const uint32_t r = ck_row(sel, i);
        uint64_t h = CK_HASH_NULL;
        if (validity == NULL || ck_valid_bit(validity, r)) {
            const int32_t lo = offsets[r];
            const size_t len = (size_t)(offsets[r + 1] - lo);
            h = ck_h_bytes(len ? arena + lo : arena, len);
        }
        out[r] = combine ? ck_combine(out[r], h) : h;
    }
}

void ck_hash_str(const int32_t *offsets, const uint8_t *arena, const uint64_t *validity,
                 const uint32_t *sel, size_t n, uint64_t *out) {
    hash_str_body(offsets, arena, validity, sel, n, out, 0);
}

void ck_hash_combine_str(const int32_t *offsets, const uint8_t *arena,
                         const uint64_t *validity, const uint32_t *sel, size_t n,
                         uint64_t *inout) {
    hash_str_body(offsets, arena, validity, sel, n, inout, 1);
}

// MARK: - Partitioning

CK_INLINE uint32_t ck_part(uint64_t h, uint32_t nparts) {
    return (uint32_t)(((h >> 32) * (uint64_t)nparts) >> 32);
}

void ck_partition_hash(const uint64_t *hashes, const uint32_t *sel, size_t n,
                       uint32_t nparts, uint32_t *counts, uint32_t *out_sel) {
    if (nparts == 0) return;
    memset(counts, 0, (size_t)nparts * sizeof *counts);
    for (size_t i = 0; i < n; i++) counts[ck_part(hashes[ck_row(sel, i)], nparts)]++;
    // counts -> start offsets; the scatter advances each to its partition's end, which
    // is the next partition's start; then differences give the counts back. This keeps
    // the kernel allocation-free for any nparts.
    uint32_t start = 0;
    for (uint32_t p = 0; p < nparts; p++) {
        const uint32_t c = counts[p];
        counts[p] = start;
        start += c;
    }
    for (size_t i = 0; i < n; i++) {
        const uint32_t r = ck_row(sel, i);
        out_sel[counts[ck_part(hashes[r], nparts)]++] = r;
    }
    for (uint32_t p = nparts - 1; p > 0; p--) counts[p] -= counts[p - 1];
}
