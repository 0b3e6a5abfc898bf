#ifndef CK_AGG_H
#define CK_AGG_H
/// Aggregate update kernels (the "update" step of a groups accumulator).
///
/// Shared conventions:
/// - `groups` may be NULL: every row is in group 0 (a global aggregate); otherwise
///   groups[r] (indexed by row id) is row r's dense group id.
/// - Accumulators (`counts`, `sums`, `acc`) are caller-owned arrays indexed by group
///   id, preinitialised by the caller (0 for counts and sums; e.g. INT64_MAX /
///   INT64_MIN or +inf / -inf for min / max) and large enough for every group id
///   that occurs. Kernels only add into them; they never reset them.
/// - `sel` may be NULL (rows 0..<n), otherwise n ascending row ids.
/// - `validity` may be NULL (all valid); otherwise bit (r & 63) of word r >> 6 set
///   means row r is valid. Null rows are skipped by every kernel but count_star.
/// - Accumulators must not overlap the inputs.
/// - Every ISA level gives bit-identical results, floats included: float sums add in
///   row order (scalar order) per group, also for the global aggregate.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

/// counts[g] += number of considered rows in group g (nulls included).
void ck_agg_count_star(const uint32_t *_Nullable groups, const uint32_t *_Nullable sel,
                       size_t n, int64_t *counts);

/// counts[g] += number of considered non-null rows in group g.
void ck_agg_count(const uint64_t *_Nullable validity, const uint32_t *_Nullable groups,
                  const uint32_t *_Nullable sel, size_t n, int64_t *counts);

/// sums[g] += values[r] for the non-null rows of group g, wrapping on overflow
/// (callers that need overflow errors check separately).
void ck_agg_sum_i64(const int64_t *values, const uint64_t *_Nullable validity,
                    const uint32_t *_Nullable groups, const uint32_t *_Nullable sel,
                    size_t n, int64_t *sums);

/// Like ck_agg_sum_i64, but returns 1 when any addition overflowed int64 (the sums
/// then hold wrapped values and must not be used), 0 otherwise. What SQL's SUM uses,
/// so an overflow is an error rather than a wrong answer.
int ck_agg_sum_i64_checked(const int64_t *values, const uint64_t *_Nullable validity,
                           const uint32_t *_Nullable groups, const uint32_t *_Nullable sel,
                           size_t n, int64_t *sums);

/// sums[g] += values[r] for the non-null rows of group g, in ascending row order.
void ck_agg_sum_f64(const double *values, const uint64_t *_Nullable validity,
                    const uint32_t *_Nullable groups, const uint32_t *_Nullable sel,
                    size_t n, double *sums);

/// acc[g] = min(acc[g], values[r]) over the non-null rows of group g.
void ck_agg_min_i64(const int64_t *values, const uint64_t *_Nullable validity,
                    const uint32_t *_Nullable groups, const uint32_t *_Nullable sel,
                    size_t n, int64_t *acc);

/// acc[g] = max(acc[g], values[r]) over the non-null rows of group g.
void ck_agg_max_i64(const int64_t *values, const uint64_t *_Nullable validity,
                    const uint32_t *_Nullable groups, const uint32_t *_Nullable sel,
                    size_t n, int64_t *acc);

/// acc[g] = values[r] when values[r] < acc[g] (IEEE), over the non-null rows of
/// group g in row order: a NaN value never replaces the accumulator, and between
/// -0.0 and +0.0 the one already held stays.
void ck_agg_min_f64(const double *values, const uint64_t *_Nullable validity,
                    const uint32_t *_Nullable groups, const uint32_t *_Nullable sel,
                    size_t n, double *acc);

/// acc[g] = values[r] when values[r] > acc[g] (IEEE); NaN and signed zeros as in
/// ck_agg_min_f64.
void ck_agg_max_f64(const double *values, const uint64_t *_Nullable validity,
                    const uint32_t *_Nullable groups, const uint32_t *_Nullable sel,
                    size_t n, double *acc);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
