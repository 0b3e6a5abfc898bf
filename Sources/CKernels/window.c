// Window assignment.
//
// floor_mod(ts - offset, size) without overflow for any int64 inputs: with
// u = ts + 2^63 (as uint64, an order-preserving bias), ts - offset = u - (2^63 + offset),
// so floor_mod(ts - offset, size) = (u mod size - B) mod size with the constant
// B = (2^63 + offset) mod size. One unsigned 64-bit remainder per row, no 128-bit
// arithmetic. A power-of-two size takes a mask instead, and a row in the same window
// as the previous row takes no division at all. Integer division has no SIMD form, so
// one body serves every ISA level.
#include "ck_window.h"

#include "ck_internal.h"

CK_INLINE uint64_t umod_signed(int64_t x, uint64_t size) {
    // floor_mod(x, size) for size <= INT64_MAX, as an unsigned value in [0, size).
    const uint64_t u = (uint64_t)x ^ ((uint64_t)1 << 63);
    const uint64_t bias = ((uint64_t)1 << 63) % size;
    const uint64_t a = u % size;
    return a >= bias ? a - bias : a + size - bias;
}

CK_INLINE int64_t tumble_one(int64_t t, uint64_t usize, uint64_t b, int pow2) {
    const uint64_t u = (uint64_t)t ^ ((uint64_t)1 << 63);
    const uint64_t a = pow2 ? (u & (usize - 1)) : (u % usize);
    const uint64_t rem = a >= b ? a - b : a + usize - b;
    return (int64_t)((uint64_t)t - rem);
}

void ck_tumble_start(const int64_t *ts, const uint64_t *validity, const uint32_t *sel,
                     size_t n, int64_t size, int64_t offset, int64_t *out) {
    if (size <= 0) return;
    const uint64_t usize = (uint64_t)size;
    // B = (2^63 + offset) mod size = (2^63 mod size + floor_mod(offset, size)) mod size.
    const uint64_t b1 = ((uint64_t)1 << 63) % usize;
    const uint64_t b2 = umod_signed(offset, usize);
    const uint64_t b = b1 + b2 >= usize ? b1 + b2 - usize : b1 + b2;
    const int pow2 = (usize & (usize - 1)) == 0;
    // Event times in a batch are mostly ordered and close together, so most rows fall
    // in the window of the row before: test that first and divide only on a miss.
    // Only starts that did not wrap (start <= ts) are cached, which keeps the test
    // exact: cur <= t and t - cur < size mean t lies in [cur, cur + size).
#define CK_TUMBLE_LOOP(POW2)                                                          \
    {                                                                                 \
        int64_t cur = 0;                                                              \
        int have = 0;                                                                 \
        for (size_t i = 0; i < n; i++) {                                              \
            const uint32_t r = ck_row(sel, i);                                        \
            if (validity != NULL && !ck_valid_bit(validity, r)) continue;             \
            const int64_t t = ts[r];                                                  \
            if (have && t >= cur && (uint64_t)t - (uint64_t)cur < usize) {            \
                out[r] = cur;                                                         \
                continue;                                                             \
            }                                                                         \
            const int64_t s = tumble_one(t, usize, b, POW2);                          \
            out[r] = s;                                                               \
            if (s <= t) {                                                             \
                cur = s;                                                              \
                have = 1;                                                             \
            }                                                                         \
        }                                                                             \
    }
    if (pow2) {
        CK_TUMBLE_LOOP(1)
    } else {
        CK_TUMBLE_LOOP(0)
    }
#undef CK_TUMBLE_LOOP
}
