#ifndef CK_GROUP_H
#define CK_GROUP_H
/// Group-id assignment for hash aggregation, plus the small window kernels the
/// window operator runs per batch (bucketing rows by window, late-row filtering).
///
/// Keys are tuples of `width` int64 words (the engine normalises every key type to
/// words: integers and timestamps as themselves, doubles as bits, strings as interned
/// ids, plus a null-mask word when a key may be null). The table never allocates:
/// the caller owns all arrays and grows them (see `ck_group_reserve_needed`).
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Open-addressing table mapping key tuples to dense group ids 0, 1, 2, ...
/// Owned by the caller; every pointer refers to caller-owned memory.
typedef struct ck_group_table {
    /// `slot_mask + 1` slots (a power of two). 0 = empty; otherwise the upper 32 bits
    /// hold the upper 32 bits of the key's hash and the lower 32 bits group id + 1.
    uint64_t *slots;
    uint64_t slot_mask;
    /// Group-major keys: word j of group g at keys[g * width + j]. Room for
    /// `group_capacity` groups.
    int64_t *keys;
    /// Hash of each group's key.
    uint64_t *hashes;
    uint32_t width;
    uint32_t count;
    uint32_t group_capacity;
    uint32_t _pad;
} ck_group_table;

/// True when inserting up to `incoming` new groups could exceed the key arrays or push
/// the slot load factor past 1/2; the caller must then grow (and `ck_group_rehash`).
int ck_group_reserve_needed(const ck_group_table *t, size_t incoming);

/// Clears `slots` (slot_mask + 1 entries) and re-inserts every existing group.
void ck_group_rehash(ck_group_table *t);

/// For each considered row r (sel[i], or i when sel is NULL): finds the group whose key
/// equals (key_cols[0][r * stride], ..., key_cols[width - 1][r * stride]), inserting a
/// new group when there is none, and writes its id to groups[r]. `hashes` is indexed
/// by row id like the keys (hashes[r * hash_stride]). The caller must have reserved
/// room for n new groups (ck_group_reserve_needed returned 0 for n).
/// Returns the number of new groups.
size_t ck_group_find_or_insert(ck_group_table *t, const int64_t *const *key_cols, size_t stride,
                               const uint64_t *hashes, size_t hash_stride, const uint32_t *sel,
                               size_t n, uint32_t *groups);

/// Most windows one call of ck_bucket_by_window sorts into.
#define CK_MAX_WINDOW_BUCKETS 256

/// Sorts the considered rows into buckets by window start: bucket b holds the rows with
/// starts[r] == base + b * size. counts[nbuckets] is written; out_sel[n] receives row ids
/// bucket by bucket (order kept within a bucket). Every start must fall in a bucket
/// and nbuckets <= CK_MAX_WINDOW_BUCKETS (otherwise nothing is written).
void ck_bucket_by_window(const int64_t *starts, const uint32_t *sel, size_t n, int64_t base,
                         int64_t size, uint32_t nbuckets, uint32_t *counts, uint32_t *out_sel);

/// Min and max of starts[r] over the considered rows (n > 0).
void ck_minmax_i64(const int64_t *values, const uint32_t *sel, size_t n, int64_t *min, int64_t *max);

/// Event-time bookkeeping for one batch, in row order. For every row r < nrows with a
/// valid time, `*running_max` becomes max(*running_max, ts[r]) after r is looked at.
/// The rows listed in sel (ascending; NULL = all) are kept in out_sel when on time: their
/// last window instant `window_last[r]` (window end - 1) is greater than the watermark
/// before the row, `*running_max - delay` (a row arriving once the watermark has passed
/// its window's end is late, as in Flink). Rows with a null time are neither kept nor
/// late; they are counted in *null_count. Late rows are counted in *late_count.
/// Returns the number of rows kept; out_sel may alias sel.
size_t ck_ontime_filter(const int64_t *ts, const uint64_t *ts_validity, size_t nrows,
                        const uint32_t *sel, size_t nsel, const int64_t *window_last,
                        int64_t delay, int64_t *running_max, uint64_t *late_count,
                        uint64_t *null_count, uint32_t *out_sel);

/// Largest valid ts[r] over r < nrows, or INT64_MIN.
int64_t ck_max_valid_i64(const int64_t *ts, const uint64_t *validity, size_t nrows);

#ifdef __cplusplus
}
#endif
#endif
