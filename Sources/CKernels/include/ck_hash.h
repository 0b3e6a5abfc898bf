#ifndef CK_HASH_H
#define CK_HASH_H
/// Hash kernels: 64-bit hashes with full avalanche (every input bit flips every
/// output bit with probability ~1/2), so both the low bits (hash-table slots) and
/// the high bits (exchange partitions) are usable. Not a keyed or DoS-resistant hash.
///
/// The values are part of Spate's state format (partitioning, spilled hash tables):
/// every ISA level computes exactly the same value, and a change of the functions
/// below changes every stored hash.
///
/// Shared conventions:
/// - `sel` may be NULL (rows 0..<n), otherwise n ascending row ids.
/// - `validity` may be NULL (all valid); otherwise bit (r & 63) of word r >> 6 set
///   means row r is valid.
/// - Per-row outputs are written by row id: out[r] for every considered row r; the
///   other slots are not touched. `out` / `inout` must be large enough for the largest
///   considered row id and must not overlap the inputs.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

/// The hash of a null value (in ck_hash_i64 / ck_hash_str outputs, and the value a
/// null row combines into ck_hash_combine_*).
#define CK_HASH_NULL 0x5BD1E9955BD1E995ull

/// out[r] = hash of values[r], or CK_HASH_NULL for a null row.
void ck_hash_i64(const int64_t *values, const uint64_t *_Nullable validity,
                 const uint32_t *_Nullable sel, size_t n, uint64_t *out);

/// out[r] = hash of the bytes of string r, or CK_HASH_NULL for a null row. A string
/// column is int32 `offsets` (count + 1 entries; row r is
/// `arena[offsets[r] ..< offsets[r + 1]]`) plus the byte `arena`, which may be NULL
/// only if every considered string is empty.
void ck_hash_str(const int32_t *offsets, const uint8_t *_Nullable arena,
                 const uint64_t *_Nullable validity, const uint32_t *_Nullable sel,
                 size_t n, uint64_t *out);

/// inout[r] = ck_hash_combine_one(inout[r], h) where h is the hash of values[r]
/// (CK_HASH_NULL for a null row): hashes a further key column into a row hash.
void ck_hash_combine_i64(const int64_t *values, const uint64_t *_Nullable validity,
                         const uint32_t *_Nullable sel, size_t n, uint64_t *inout);

/// inout[r] = ck_hash_combine_one(inout[r], h) where h is the hash of string r
/// (CK_HASH_NULL for a null row). Column layout as in ck_hash_str.
void ck_hash_combine_str(const int32_t *offsets, const uint8_t *_Nullable arena,
                         const uint64_t *_Nullable validity,
                         const uint32_t *_Nullable sel, size_t n, uint64_t *inout);

/// The hash ck_hash_i64 writes for a valid value v.
uint64_t ck_hash_i64_one(int64_t v);

/// The hash ck_hash_str writes for a valid string of `len` bytes at `p` (`p` may be
/// NULL when len == 0).
uint64_t ck_hash_bytes_one(const uint8_t *_Nullable p, size_t len);

/// Mixes hash `h` into `seed`; order matters (combine(a, b) != combine(b, a) in
/// general), and for a fixed seed distinct h give distinct results.
uint64_t ck_hash_combine_one(uint64_t seed, uint64_t h);

/// Partitioning for the exchange between workers: the partition of a row is
/// ((hashes[r] >> 32) * nparts) >> 32 (the high hash bits, so a hash table inside a
/// worker may use the low ones). `hashes` is indexed by row id. nparts >= 1 (with
/// nparts == 0 nothing is written).
/// `counts[nparts]` is written (the callee zeroes it first). `out_sel` (room for n)
/// receives the considered row ids grouped by partition: partition p occupies
/// out_sel[sum(counts[0..<p]) ..< + counts[p]], rows in their original order inside
/// a partition. `out_sel` must not overlap `sel`.
void ck_partition_hash(const uint64_t *hashes, const uint32_t *_Nullable sel, size_t n,
                       uint32_t nparts, uint32_t *counts, uint32_t *out_sel);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
