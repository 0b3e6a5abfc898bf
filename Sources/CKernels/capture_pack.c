// Bit packing for capture files. See ck_capture.h for the stream layout.
//
// Unpacking is the hot path of reading a capture file: one specialised loop per bit
// width (the width a compile-time constant, so shifts and masks are constants and
// the straddling-word test disappears for widths up to 57), reading one unaligned
// 64-bit word per value.
#include "ck_capture.h"

#include <string.h>

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline void store64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

size_t ck_bitpack_bytes(size_t n, unsigned w) { return ((n * (size_t)w + 63) / 64) * 8 + 8; }

unsigned ck_bit_width(uint64_t x) { return x == 0 ? 0 : 64 - (unsigned)__builtin_clzll(x); }

static inline uint64_t zigzag(int64_t d) { return ((uint64_t)d << 1) ^ (uint64_t)(d >> 63); }
static inline int64_t unzigzag(uint64_t u) { return (int64_t)((u >> 1) ^ (0 - (u & 1))); }

static inline int valid_bit(const uint64_t *v, size_t r) { return (int)((v[r >> 6] >> (r & 63)) & 1); }

size_t ck_capture_stats_i64(const int64_t *v, const uint64_t *validity, size_t n,
                            int64_t *min, int64_t *max, uint64_t *delta_or) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    uint64_t dor = 0;
    size_t valid = 0;
    if (validity == NULL) {
        for (size_t i = 0; i < n; i++) {
            int64_t x = v[i];
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        for (size_t i = 1; i < n; i++) dor |= zigzag((int64_t)((uint64_t)v[i] - (uint64_t)v[i - 1]));
        valid = n;
    } else {
        for (size_t i = 0; i < n; i++) {
            if (!valid_bit(validity, i)) continue;
            int64_t x = v[i];
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
            valid++;
        }
    }
    *min = lo;
    *max = hi;
    *delta_or = dor;
    return valid;
}

// Appends x (< 2^w) to the bit accumulator; flushes full words to out.
#define PACK_PUT(x)                                                  \
    do {                                                             \
        uint64_t x_ = (x);                                           \
        acc |= x_ << fill;                                           \
        if (fill + w >= 64) {                                        \
            store64(out + pos, acc);                                 \
            pos += 8;                                                \
            acc = fill ? x_ >> (64 - fill) : 0;                      \
            fill = fill + w - 64;                                    \
        } else {                                                     \
            fill += w;                                               \
        }                                                            \
    } while (0)

#define PACK_END()                                                   \
    do {                                                             \
        if (fill > 0) {                                              \
            store64(out + pos, acc);                                 \
            pos += 8;                                                \
        }                                                            \
        size_t total_ = ck_bitpack_bytes(n, w);                      \
        memset(out + pos, 0, total_ - pos);                          \
    } while (0)

void ck_bitpack_for_i64(const int64_t *v, const uint64_t *validity, size_t n, int64_t base,
                        unsigned w, uint8_t *out) {
    size_t pos = 0;
    uint64_t acc = 0;
    unsigned fill = 0;
    if (w == 0) {
        PACK_END();
        return;
    }
    if (validity == NULL) {
        for (size_t i = 0; i < n; i++) PACK_PUT((uint64_t)v[i] - (uint64_t)base);
    } else {
        for (size_t i = 0; i < n; i++) PACK_PUT(valid_bit(validity, i) ? (uint64_t)v[i] - (uint64_t)base : 0);
    }
    PACK_END();
}

void ck_bitpack_delta_i64(const int64_t *v, size_t n, unsigned w, uint8_t *out) {
    size_t pos = 0;
    uint64_t acc = 0;
    unsigned fill = 0;
    if (w == 0) {
        PACK_END();
        return;
    }
    for (size_t i = 0; i < n; i++) PACK_PUT(i == 0 ? 0 : zigzag((int64_t)((uint64_t)v[i] - (uint64_t)v[i - 1])));
    PACK_END();
}

void ck_bitpack_bools(const uint8_t *v, size_t n, uint8_t *out) {
    const unsigned w = 1;
    size_t pos = 0;
    uint64_t acc = 0;
    unsigned fill = 0;
    for (size_t i = 0; i < n; i++) PACK_PUT(v[i] != 0);
    PACK_END();
}

void ck_capture_length_range(const int32_t *offsets, size_t n, int32_t *min, int32_t *max) {
    int32_t lo = INT32_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t len = offsets[i + 1] - offsets[i];
        lo = len < lo ? len : lo;
        hi = len > hi ? len : hi;
    }
    if (n == 0) lo = 0;
    *min = lo;
    *max = hi;
}

void ck_bitpack_lengths(const int32_t *offsets, size_t n, int32_t base, unsigned w, uint8_t *out) {
    size_t pos = 0;
    uint64_t acc = 0;
    unsigned fill = 0;
    if (w == 0) {
        PACK_END();
        return;
    }
    for (size_t i = 0; i < n; i++) PACK_PUT((uint64_t)(uint32_t)(offsets[i + 1] - offsets[i] - base));
    PACK_END();
}

// Value i (absolute row index) of a stream of width W.
#define GET_BITS(in, i, W)                                                            \
    ({                                                                                \
        const size_t bit_ = (size_t)(i) * (W);                                        \
        const unsigned sh_ = (unsigned)(bit_ & 7);                                    \
        uint64_t x_ = load64((in) + (bit_ >> 3)) >> sh_;                              \
        if ((W) > 57 && sh_ + (W) > 64) x_ |= (uint64_t)(in)[(bit_ >> 3) + 8] << (64 - sh_); \
        (W) == 64 ? x_ : (x_ & ((1ULL << ((W) & 63)) - 1));                           \
    })

// Value j (0..7) of the group of 8 values of width W starting at byte p: 8 values of
// W bits are exactly W bytes, so every offset and shift is a compile-time constant.
#define GROUP_GET(p, j, W)                                                                 \
    ({                                                                                     \
        uint64_t g_ = load64((p) + ((j) * (W)) / 8) >> (((j) * (W)) % 8);                   \
        if ((W) > 57 && ((j) * (W)) % 8 + (W) > 64) g_ |= (uint64_t)(p)[((j) * (W)) / 8 + 8] << (64 - ((j) * (W)) % 8); \
        (W) == 64 ? g_ : (g_ & ((1ULL << ((W) & 63)) - 1));                                \
    })

#define DEFINE_FOR(W)                                                                      \
    static void unpack_for_##W(const uint8_t *in, size_t start, size_t n, int64_t base,     \
                               int64_t *out) {                                             \
        const uint64_t b = (uint64_t)base;                                                 \
        size_t i = 0;                                                                      \
        for (; i < n && ((start + i) & 7); i++) out[i] = (int64_t)(b + GET_BITS(in, start + i, W)); \
        for (; i + 8 <= n; i += 8) {                                                       \
            const uint8_t *p = in + ((start + i) / 8) * (W);                               \
            out[i + 0] = (int64_t)(b + GROUP_GET(p, 0, W));                                \
            out[i + 1] = (int64_t)(b + GROUP_GET(p, 1, W));                                \
            out[i + 2] = (int64_t)(b + GROUP_GET(p, 2, W));                                \
            out[i + 3] = (int64_t)(b + GROUP_GET(p, 3, W));                                \
            out[i + 4] = (int64_t)(b + GROUP_GET(p, 4, W));                                \
            out[i + 5] = (int64_t)(b + GROUP_GET(p, 5, W));                                \
            out[i + 6] = (int64_t)(b + GROUP_GET(p, 6, W));                                \
            out[i + 7] = (int64_t)(b + GROUP_GET(p, 7, W));                                \
        }                                                                                  \
        for (; i < n; i++) out[i] = (int64_t)(b + GET_BITS(in, start + i, W));             \
    }

#define W_LIST(X)                                                                       \
    X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16) \
    X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30)   \
    X(31) X(32) X(33) X(34) X(35) X(36) X(37) X(38) X(39) X(40) X(41) X(42) X(43) X(44)   \
    X(45) X(46) X(47) X(48) X(49) X(50) X(51) X(52) X(53) X(54) X(55) X(56) X(57) X(58)   \
    X(59) X(60) X(61) X(62) X(63) X(64)

W_LIST(DEFINE_FOR)

typedef void (*unpack_for_fn)(const uint8_t *, size_t, size_t, int64_t, int64_t *);
#define FOR_ENTRY(W) unpack_for_##W,
static const unpack_for_fn for_table[65] = {NULL, W_LIST(FOR_ENTRY)};

void ck_bitunpack_for_i64(const uint8_t *in, size_t start, size_t n, int64_t base, unsigned w,
                          int64_t *out) {
    if (w == 0) {
        for (size_t i = 0; i < n; i++) out[i] = base;
        return;
    }
    if (w > 64) return;
    for_table[w](in, start, n, base, out);
}

#define DEFINE_DELTA(W)                                                                    \
    static int64_t unpack_delta_##W(const uint8_t *in, size_t start, size_t n, int64_t prev, \
                                    int64_t *out) {                                        \
        uint64_t p = (uint64_t)prev;                                                       \
        size_t i = 0;                                                                      \
        for (; i < n && ((start + i) & 7); i++) {                                          \
            p += (uint64_t)unzigzag(GET_BITS(in, start + i, W));                           \
            out[i] = (int64_t)p;                                                           \
        }                                                                                  \
        for (; i + 8 <= n; i += 8) {                                                       \
            const uint8_t *q = in + ((start + i) / 8) * (W);                               \
            uint64_t d[8];                                                                 \
            for (int j = 0; j < 8; j++) d[j] = (uint64_t)unzigzag(GROUP_GET(q, j, W));     \
            for (int j = 0; j < 8; j++) {                                                  \
                p += d[j];                                                                 \
                out[i + j] = (int64_t)p;                                                   \
            }                                                                              \
        }                                                                                  \
        for (; i < n; i++) {                                                               \
            p += (uint64_t)unzigzag(GET_BITS(in, start + i, W));                           \
            out[i] = (int64_t)p;                                                           \
        }                                                                                  \
        return (int64_t)p;                                                                 \
    }

W_LIST(DEFINE_DELTA)

typedef int64_t (*unpack_delta_fn)(const uint8_t *, size_t, size_t, int64_t, int64_t *);
#define DELTA_ENTRY(W) unpack_delta_##W,
static const unpack_delta_fn delta_table[65] = {NULL, W_LIST(DELTA_ENTRY)};

int64_t ck_bitunpack_delta_i64(const uint8_t *in, size_t start, size_t n, int64_t prev, unsigned w,
                               int64_t *out) {
    if (w == 0) {
        for (size_t i = 0; i < n; i++) out[i] = prev;
        return prev;
    }
    if (w > 64) return prev;
    return delta_table[w](in, start, n, prev, out);
}

void ck_bitunpack_bools(const uint8_t *in, size_t start, size_t n, uint8_t *out) {
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)GET_BITS(in, start + i, 1);
}

// Value i of a stream of run-time width w (1...64).
static inline uint64_t get_bits(const uint8_t *in, size_t i, unsigned w) {
    const size_t bit = i * (size_t)w;
    const unsigned sh = (unsigned)(bit & 7);
    uint64_t x = load64(in + (bit >> 3)) >> sh;
    if (sh + w > 64) x |= (uint64_t)in[(bit >> 3) + 8] << (64 - sh);
    return w == 64 ? x : (x & ((1ULL << w) - 1));
}

int64_t ck_bitunpack_offsets(const uint8_t *in, size_t start, size_t n, int32_t base, unsigned w,
                             int32_t first, int32_t *out) {
    int64_t at = first;
    out[0] = first;
    if (w > 32 || base < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t len = w == 0 ? 0 : get_bits(in, start + i, w);
        at += (int64_t)base + (int64_t)len;
        if (at > INT32_MAX) return -1;
        out[i + 1] = (int32_t)at;
    }
    return at;
}

size_t ck_copy_bits(const uint64_t *src, size_t src_words, size_t src_bit, size_t n, uint64_t *dst) {
    size_t words = (n + 63) / 64;
    size_t set = 0;
    const unsigned sh = (unsigned)(src_bit & 63);
    size_t w0 = src_bit >> 6;
    for (size_t k = 0; k < words; k++) {
        size_t i = w0 + k;
        uint64_t x = i < src_words ? src[i] >> sh : 0;
        if (sh && i + 1 < src_words) x |= src[i + 1] << (64 - sh);
        if (k == words - 1 && (n & 63)) x &= (1ULL << (n & 63)) - 1;
        dst[k] = x;
        set += (size_t)__builtin_popcountll(x);
    }
    return set;
}

// ---------------------------------------------------------------------------------
// Dictionaries of strings

#include "ck_checksum.h"

// A fast hash of a short byte string (8 bytes per multiply, then a final mix): the
// dictionary only needs a good spread over its table, equality is checked by memcmp.
static inline uint64_t str_hash(const uint8_t *p, size_t n) {
    const size_t len = n;
    const uint8_t *const end = p + n;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    while (n >= 8) {
        h = (h ^ load64(p)) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        // The last bytes without a variable-length copy (which stalls the load that
        // follows it): the 8 bytes ending at the string's end when it has 8, else
        // two overlapping 4-byte loads, else three single bytes.
        uint64_t w;
        if (len >= 8) {
            w = load64(end - 8);
        } else if (n >= 4) {
            uint32_t a, b;
            memcpy(&a, p, 4);
            memcpy(&b, end - 4, 4);
            w = (uint64_t)a | ((uint64_t)b << 32);
        } else {
            w = (uint64_t)p[0] | ((uint64_t)p[n / 2] << 8) | ((uint64_t)p[n - 1] << 16);
        }
        h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
    }
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    return h;
}

// Equality of two byte strings of the same length, inline (short strings are the
// common case, and a library memcmp call costs more than the comparison).
static inline int str_equal(const uint8_t *a, const uint8_t *b, size_t n) {
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            if (load64(a + i) != load64(b + i)) return 0;
        }
        return i == n || load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + n - 4, 4);
        memcpy(&y1, b + n - 4, 4);
        return x0 == y0 && x1 == y1;
    }
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) return 0;
    }
    return 1;
}

// Table slots hold (upper 32 bits of the hash) << 32 | (entry + 1); 0 is empty. A
// probe compares the stored hash bits first, so memcmp runs only on a likely match,
// and it compares against the entry's copy in the compact `dict` arena (entries packed
// in order, a few hundred KB that stay in cache) rather than against the row where the
// entry first occurred (anywhere in a block's megabytes of strings).
size_t ck_capture_dict_build(const int32_t *offsets, const uint8_t *bytes, size_t n,
                             uint32_t *codes, uint32_t *first, size_t max_entries,
                             uint32_t *table32, size_t slots, uint8_t *dict,
                             int32_t *dict_offsets) {
    uint64_t *table = (uint64_t *)table32;  // slots / 2 entries of 64 bits
    const size_t count = slots / 2;
    const size_t mask = count - 1;
    memset(table, 0, count * sizeof(uint64_t));
    size_t entries = 0;
    dict_offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = bytes + offsets[i];
        const size_t len = (size_t)(offsets[i + 1] - offsets[i]);
        const uint64_t hv = str_hash(s, len);
        const uint64_t tag = hv & 0xFFFFFFFF00000000ULL;
        size_t h = (size_t)hv & mask;
        for (;;) {
            const uint64_t slot = table[h];
            if (slot == 0) {
                if (entries >= max_entries) return SIZE_MAX;
                table[h] = tag | (uint64_t)(entries + 1);
                first[entries] = (uint32_t)i;
                codes[i] = (uint32_t)entries;
                const int32_t at = dict_offsets[entries];
                if (len > 0) memcpy(dict + at, s, len);
                dict_offsets[entries + 1] = at + (int32_t)len;
                entries++;
                break;
            }
            if ((slot & 0xFFFFFFFF00000000ULL) == tag) {
                const uint32_t k = (uint32_t)(slot & 0xFFFFFFFFULL) - 1;
                const int32_t at = dict_offsets[k];
                if ((size_t)(dict_offsets[k + 1] - at) == len && str_equal(dict + at, s, len)) {
                    codes[i] = k;
                    break;
                }
            }
            h = (h + 1) & mask;
        }
    }
    return entries;
}

int ck_capture_codes_read(const uint8_t *in, unsigned width, size_t start, size_t n,
                          uint32_t limit, uint32_t *out) {
    uint32_t bad = 0;
    switch (width) {
    case 1:
        for (size_t i = 0; i < n; i++) { out[i] = in[start + i]; bad |= out[i] >= limit; }
        break;
    case 2:
        for (size_t i = 0; i < n; i++) {
            uint16_t v;
            memcpy(&v, in + 2 * (start + i), 2);
            out[i] = v;
            bad |= out[i] >= limit;
        }
        break;
    case 4:
        for (size_t i = 0; i < n; i++) {
            uint32_t v;
            memcpy(&v, in + 4 * (start + i), 4);
            out[i] = v;
            bad |= out[i] >= limit;
        }
        break;
    default:
        return 0;
    }
    return bad ? 0 : 1;
}

void ck_capture_codes_write(const uint32_t *codes, size_t n, unsigned width, uint8_t *out) {
    for (size_t i = 0; i < n; i++) {
        uint32_t v = codes[i];
        memcpy(out + (size_t)width * i, &v, width);
    }
}
