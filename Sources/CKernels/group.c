#include "ck_group.h"

#include <string.h>

static inline int ck_valid_bit(const uint64_t *v, size_t r) {
    return v == NULL || ((v[r >> 6] >> (r & 63)) & 1u);
}

int ck_group_reserve_needed(const ck_group_table *t, size_t incoming) {
    size_t total = (size_t)t->count + incoming;
    if (total > t->group_capacity) return 1;
    return total * 2 > (size_t)t->slot_mask + 1;
}

static inline void ck_group_place(ck_group_table *t, uint64_t h, uint32_t g) {
    uint64_t mask = t->slot_mask;
    uint64_t i = h & mask;
    while (t->slots[i] != 0) i = (i + 1) & mask;
    t->slots[i] = (h & 0xFFFFFFFF00000000ull) | (uint64_t)(g + 1u);
}

void ck_group_rehash(ck_group_table *t) {
    memset(t->slots, 0, (size_t)(t->slot_mask + 1) * sizeof(uint64_t));
    for (uint32_t g = 0; g < t->count; g++) ck_group_place(t, t->hashes[g], g);
}

static inline int ck_group_keys_equal(const int64_t *stored, const int64_t *const *cols,
                                      size_t at, uint32_t width) {
    for (uint32_t j = 0; j < width; j++) {
        if (stored[j] != cols[j][at]) return 0;
    }
    return 1;
}

size_t ck_group_find_or_insert(ck_group_table *t, const int64_t *const *key_cols, size_t stride,
                               const uint64_t *hashes, size_t hash_stride, const uint32_t *sel,
                               size_t n, uint32_t *groups) {
    const uint64_t mask = t->slot_mask;
    const uint32_t width = t->width;
    uint64_t *slots = t->slots;
    size_t inserted = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = sel ? sel[i] : i;
        size_t at = r * stride;
        uint64_t h = hashes[r * hash_stride];
        uint64_t tag = h & 0xFFFFFFFF00000000ull;
        uint64_t s = h & mask;
        for (;;) {
            uint64_t slot = slots[s];
            if (slot == 0) {
                uint32_t g = t->count++;
                int64_t *dst = t->keys + (size_t)g * width;
                for (uint32_t j = 0; j < width; j++) dst[j] = key_cols[j][at];
                t->hashes[g] = h;
                slots[s] = tag | (uint64_t)(g + 1u);
                groups[r] = g;
                inserted++;
                break;
            }
            if ((slot & 0xFFFFFFFF00000000ull) == tag) {
                uint32_t g = (uint32_t)(slot & 0xFFFFFFFFu) - 1u;
                if (ck_group_keys_equal(t->keys + (size_t)g * width, key_cols, at, width)) {
                    groups[r] = g;
                    break;
                }
            }
            s = (s + 1) & mask;
        }
    }
    return inserted;
}

void ck_bucket_by_window(const int64_t *starts, const uint32_t *sel, size_t n, int64_t base,
                         int64_t size, uint32_t nbuckets, uint32_t *counts, uint32_t *out_sel) {
    if (nbuckets > CK_MAX_WINDOW_BUCKETS) return;
    memset(counts, 0, nbuckets * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        size_t r = sel ? sel[i] : i;
        counts[(starts[r] - base) / size]++;
    }
    // Exclusive prefix sums give each bucket's write position; walk a copy of them.
    uint32_t p[CK_MAX_WINDOW_BUCKETS];
    uint32_t acc = 0;
    for (uint32_t b = 0; b < nbuckets; b++) {
        p[b] = acc;
        acc += counts[b];
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : (uint32_t)i;
        out_sel[p[(starts[r] - base) / size]++] = r;
    }
}

void ck_minmax_i64(const int64_t *values, const uint32_t *sel, size_t n, int64_t *min, int64_t *max) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    if (sel) {
        for (size_t i = 0; i < n; i++) {
            int64_t v = values[sel[i]];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            int64_t v = values[i];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    *min = lo;
    *max = hi;
}

size_t ck_ontime_filter(const int64_t *ts, const uint64_t *ts_validity, size_t nrows,
                        const uint32_t *sel, size_t nsel, const int64_t *window_last,
                        int64_t delay, int64_t *running_max, uint64_t *late_count,
                        uint64_t *null_count, uint32_t *out_sel) {
    int64_t maxv = *running_max;
    size_t k = 0, next = 0;
    uint64_t late = 0, nulls = 0;
    for (size_t r = 0; r < nrows; r++) {
        int valid = ck_valid_bit(ts_validity, r);
        int selected = sel ? (next < nsel && sel[next] == r) : (r < nsel);
        if (selected) {
            next++;
            if (!valid) {
                nulls++;
            } else {
                // Watermark before this row; saturate so INT64_MIN - delay cannot wrap.
                int64_t wm = maxv < INT64_MIN + delay ? INT64_MIN : maxv - delay;
                if (window_last[r] > wm) out_sel[k++] = (uint32_t)r;
                else late++;
            }
        }
        if (valid && ts[r] > maxv) maxv = ts[r];
    }
    *running_max = maxv;
    *late_count += late;
    *null_count += nulls;
    return k;
}

int64_t ck_max_valid_i64(const int64_t *ts, const uint64_t *validity, size_t nrows) {
    int64_t m = INT64_MIN;
    if (validity == NULL) {
        for (size_t r = 0; r < nrows; r++) m = ts[r] > m ? ts[r] : m;
    } else {
        for (size_t r = 0; r < nrows; r++)
            if (ck_valid_bit(validity, r) && ts[r] > m) m = ts[r];
    }
    return m;
}
