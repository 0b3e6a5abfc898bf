// Fixed-layout binary records: strided field decoders into column buffers.
//
// Each decoder is one loop body instantiated per ISA (scalar, AVX2, AVX-512) so the
// compiler can vectorise the strided loads and conversions for each level; the
// scalar one stays the reference the tests compare against.
#include "ck_binary.h"
#include "ck_dispatch.h"
#include "ck_json.h"

#include <string.h>

#if defined(__x86_64__)
#define BIN_X86 1
#define BIN_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt")))
#define BIN_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,bmi,bmi2,popcnt")))
#else
#define BIN_X86 0
#endif

#define BIN_INLINE static inline __attribute__((always_inline))

#define BIN_LOAD(T, p)        \
    ({                        \
        T v_;                 \
        memcpy(&v_, (p), sizeof v_); \
        v_;                   \
    })

/// Loops over the records converting field type T with EXPR(v) into out[r].
#define BIN_LOOP(T, EXPR)                                              \
    for (size_t r = 0; r < n; r++) {                                  \
        T v = BIN_LOAD(T, rec + r * stride + offset);                 \
        out[r] = EXPR;                                                \
    }

#define BIN_DEFINE_I64(NAME, ATTR)                                                              \
    static ATTR size_t NAME(const uint8_t *rec, size_t stride, size_t n, size_t offset, int kind, \
                            int64_t *out) {                                                     \
        switch (kind) {                                                                         \
        case CK_BIN_I8: BIN_LOOP(int8_t, (int64_t)v) return n;                                  \
        case CK_BIN_I16: BIN_LOOP(int16_t, (int64_t)v) return n;                                \
        case CK_BIN_I32: BIN_LOOP(int32_t, (int64_t)v) return n;                                \
        case CK_BIN_I64: BIN_LOOP(int64_t, v) return n;                                         \
        case CK_BIN_U8: BIN_LOOP(uint8_t, (int64_t)v) return n;                                 \
        case CK_BIN_U16: BIN_LOOP(uint16_t, (int64_t)v) return n;                               \
        case CK_BIN_U32: BIN_LOOP(uint32_t, (int64_t)v) return n;                               \
        case CK_BIN_U64: {                                                                      \
            uint64_t high = 0;                                                                  \
            for (size_t r = 0; r < n; r++) {                                                    \
                uint64_t v = BIN_LOAD(uint64_t, rec + r * stride + offset);                     \
                high |= v;                                                                      \
                out[r] = (int64_t)v;                                                            \
            }                                                                                   \
            if (high >> 63)                                                                     \
                for (size_t r = 0; r < n; r++)                                                  \
                    if (out[r] < 0) return r;                                                   \
            return n;                                                                           \
        }                                                                                       \
        default: return 0;                                                                      \
        }                                                                                       \
    }

#define BIN_DEFINE_F64(NAME, ATTR)                                                              \
    static ATTR size_t NAME(const uint8_t *rec, size_t stride, size_t n, size_t offset, int kind, \
                            double *out) {                                                      \
        switch (kind) {                                                                         \
        case CK_BIN_I8: BIN_LOOP(int8_t, (double)v) return n;                                   \
        case CK_BIN_I16: BIN_LOOP(int16_t, (double)v) return n;                                 \
        case CK_BIN_I32: BIN_LOOP(int32_t, (double)v) return n;                                 \
        case CK_BIN_I64: BIN_LOOP(int64_t, (double)v) return n;                                 \
        case CK_BIN_U8: BIN_LOOP(uint8_t, (double)v) return n;                                  \
        case CK_BIN_U16: BIN_LOOP(uint16_t, (double)v) return n;                                \
        case CK_BIN_U32: BIN_LOOP(uint32_t, (double)v) return n;                                \
        case CK_BIN_U64: BIN_LOOP(uint64_t, (double)v) return n;                                \
        case CK_BIN_F32: BIN_LOOP(float, (double)v) return n;                                   \
        case CK_BIN_F64: BIN_LOOP(double, v) return n;                                          \
        default: return 0;                                                                      \
        }                                                                                       \
    }

#define BIN_DEFINE_TS(NAME, ATTR)                                                               \
    static ATTR size_t NAME(const uint8_t *rec, size_t stride, size_t n, size_t offset,        \
                            int64_t per_second, int64_t *out) {                                 \
        if (per_second == 1000) {                                                               \
            BIN_LOOP(int64_t, v)                                                                \
            return n;                                                                           \
        }                                                                                       \
        if (per_second == 1) {                                                                  \
            const int64_t lim = INT64_MAX / 1000;                                               \
            int bad = 0;                                                                        \
            for (size_t r = 0; r < n; r++) {                                                    \
                int64_t v = BIN_LOAD(int64_t, rec + r * stride + offset);                       \
                bad |= (v > lim) | (v < -lim);                                                  \
                out[r] = (int64_t)((uint64_t)v * 1000u);                                        \
            }                                                                                   \
            if (bad)                                                                            \
                for (size_t r = 0; r < n; r++) {                                                \
                    int64_t v = BIN_LOAD(int64_t, rec + r * stride + offset);                   \
                    if (v > lim || v < -lim) return r;                                          \
                }                                                                               \
            return n;                                                                           \
        }                                                                                       \
        const int64_t d = per_second / 1000;                                                    \
        for (size_t r = 0; r < n; r++) {                                                        \
            int64_t v = BIN_LOAD(int64_t, rec + r * stride + offset);                           \
            int64_t q = v / d;                                                                  \
            out[r] = q - ((v % d) < 0);                                                         \
        }                                                                                       \
        return n;                                                                               \
    }

BIN_DEFINE_I64(bin_i64_scalar, )
BIN_DEFINE_F64(bin_f64_scalar, )
BIN_DEFINE_TS(bin_ts_scalar, )
#if BIN_X86
BIN_DEFINE_I64(bin_i64_avx2, BIN_AVX2)
BIN_DEFINE_F64(bin_f64_avx2, BIN_AVX2)
BIN_DEFINE_TS(bin_ts_avx2, BIN_AVX2)
BIN_DEFINE_I64(bin_i64_avx512, BIN_AVX512)
BIN_DEFINE_F64(bin_f64_avx512, BIN_AVX512)
BIN_DEFINE_TS(bin_ts_avx512, BIN_AVX512)
#endif

size_t ck_binary_to_i64(const uint8_t *rec, size_t stride, size_t n, size_t offset, int kind,
                        int64_t *out) {
#if BIN_X86
    switch (ck_isa_current()) {
    case CK_ISA_AVX512: return bin_i64_avx512(rec, stride, n, offset, kind, out);
    case CK_ISA_AVX2: return bin_i64_avx2(rec, stride, n, offset, kind, out);
    default: break;
    }
#endif
    return bin_i64_scalar(rec, stride, n, offset, kind, out);
}

size_t ck_binary_to_f64(const uint8_t *rec, size_t stride, size_t n, size_t offset, int kind,
                        double *out) {
#if BIN_X86
    switch (ck_isa_current()) {
    case CK_ISA_AVX512: return bin_f64_avx512(rec, stride, n, offset, kind, out);
    case CK_ISA_AVX2: return bin_f64_avx2(rec, stride, n, offset, kind, out);
    default: break;
    }
#endif
    return bin_f64_scalar(rec, stride, n, offset, kind, out);
}

size_t ck_binary_to_ts_ms(const uint8_t *rec, size_t stride, size_t n, size_t offset,
                          int64_t per_second, int64_t *out) {
#if BIN_X86
    switch (ck_isa_current()) {
    case CK_ISA_AVX512: return bin_ts_avx512(rec, stride, n, offset, per_second, out);
    case CK_ISA_AVX2: return bin_ts_avx2(rec, stride, n, offset, per_second, out);
    default: break;
    }
#endif
    return bin_ts_scalar(rec, stride, n, offset, per_second, out);
}

size_t ck_binary_to_bool(const uint8_t *rec, size_t stride, size_t n, size_t offset, int kind,
                         uint8_t *out) {
    switch (kind) {
    case CK_BIN_I8: case CK_BIN_U8: BIN_LOOP(uint8_t, (uint8_t)(v != 0)) return n;
    case CK_BIN_I16: case CK_BIN_U16: BIN_LOOP(uint16_t, (uint8_t)(v != 0)) return n;
    case CK_BIN_I32: case CK_BIN_U32: BIN_LOOP(uint32_t, (uint8_t)(v != 0)) return n;
    case CK_BIN_I64: case CK_BIN_U64: BIN_LOOP(uint64_t, (uint8_t)(v != 0)) return n;
    default: return 0;
    }
}

size_t ck_binary_to_string(const uint8_t *rec, size_t stride, size_t n, size_t offset,
                           size_t width, int32_t *offsets, uint8_t *arena, size_t *arena_used) {
    size_t used = *arena_used;
    for (size_t r = 0; r < n; r++) {
        const uint8_t *f = rec + r * stride + offset;
        const uint8_t *nul = memchr(f, 0, width);
        size_t len = nul ? (size_t)(nul - f) : width;
        while (len > 0 && f[len - 1] == ' ') len--;
        if (!ck_json_valid_utf8(f, len)) {
            *arena_used = used;
            return r;
        }
        memcpy(arena + used, f, len);
        used += len;
        offsets[r + 1] = (int32_t)used;
    }
    *arena_used = used;
    return n;
}
