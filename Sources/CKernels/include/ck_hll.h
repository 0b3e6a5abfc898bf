#ifndef CK_HLL_H
#define CK_HLL_H
/// HyperLogLog kernels for APPROX_COUNT_DISTINCT: per-group register blocks updated
/// from 64-bit value hashes (the ck_hash_* kernels), merged register-wise, and
/// summarised as a register histogram for the estimator (which lives in Swift).
///
/// A sketch is CK_HLL_REGISTERS one-byte registers. A hash h selects register
/// h >> (64 - CK_HLL_PRECISION) (its top bits) and offers the rank of the remaining
/// bits: 1 + the number of leading zeros of (h << CK_HLL_PRECISION), capped at
/// 64 - CK_HLL_PRECISION + 1 when those bits are all zero. A register holds the largest
/// rank offered (0 = none yet). Every ISA level computes identical registers.
///
/// Shared conventions:
/// - `groups` may be NULL: every row is in group 0; otherwise groups[r] (indexed by row
///   id) is row r's dense group id, and group g's registers are
///   `registers[g * CK_HLL_REGISTERS ..< (g + 1) * CK_HLL_REGISTERS]`.
/// - `sel` may be NULL (rows 0..<n), otherwise n ascending row ids.
/// - `validity` may be NULL (all valid); otherwise bit (r & 63) of word r >> 6 set
///   means row r is valid. Null rows are skipped.
/// - Register arrays are caller-owned, zeroed by the caller for a new group, and must
///   not overlap the inputs.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

/// Register-index bits: 2^12 registers give a standard error of 1.04 / sqrt(4096),
/// about 1.6%, for 4 KiB per group.
#define CK_HLL_PRECISION 12
#define CK_HLL_REGISTERS (1u << CK_HLL_PRECISION)
/// The largest rank a register can hold: 64 - CK_HLL_PRECISION + 1 (a literal so that
/// Swift imports it; hll.c checks the relation).
#define CK_HLL_MAX_RANK 53

/// For every considered non-null row r: with g = groups[r] (0 when groups is NULL),
/// registers[g * CK_HLL_REGISTERS + index(hashes[r])] = max(that register,
/// rank(hashes[r])).
void ck_hll_update(const uint64_t *hashes, const uint64_t *_Nullable validity,
                   const uint32_t *_Nullable groups, const uint32_t *_Nullable sel, size_t n,
                   uint8_t *registers);

/// dst[i] = max(dst[i], src[i]) for i < m: the sketch of the union of two sets. `dst`
/// and `src` may be equal but must not partially overlap.
void ck_hll_merge(uint8_t *dst, const uint8_t *src, size_t m);

/// counts[k] = number of the m registers holding k, for k in 0...CK_HLL_MAX_RANK
/// (counts has CK_HLL_MAX_RANK + 1 entries; the callee zeroes it first). Registers
/// above CK_HLL_MAX_RANK (never written by ck_hll_update) count as CK_HLL_MAX_RANK.
void ck_hll_histogram(const uint8_t *registers, size_t m, uint32_t *counts);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
