#ifndef CK_FILTER_H
#define CK_FILTER_H
/// Filter kernels: evaluate a predicate over the considered rows and write the ids
/// of the passing rows to a selection vector.
///
/// Shared conventions (every function below):
/// - `sel` may be NULL, meaning rows 0..<n; otherwise it holds n ascending row ids.
///   Row ids are 32-bit, so n and every row id are below 2^32.
/// - `validity` may be NULL (all rows valid); otherwise bit (r & 63) of word r >> 6
///   (LSB first) set means row r is valid. A null row never passes.
/// - `out_sel` is caller-owned with room for n entries; it receives the passing row
///   ids in ascending order and the function returns how many. `out_sel` may equal
///   `sel` (in-place filtering); it must not otherwise overlap any input.
/// - Inputs are only read, never retained. No allocation, no callbacks.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

/// Comparison operator of a filter: `value OP constant` or `a OP b`.
typedef enum ck_cmp {
    CK_CMP_EQ = 0,
    CK_CMP_NE = 1,
    CK_CMP_LT = 2,
    CK_CMP_LE = 3,
    CK_CMP_GT = 4,
    CK_CMP_GE = 5,
} ck_cmp;

/// Rows r with `values[r] OP c`. `values` is indexed by row id.
size_t ck_filter_i64_const(ck_cmp op, const int64_t *values,
                           const uint64_t *_Nullable validity,
                           const uint32_t *_Nullable sel, size_t n, int64_t c,
                           uint32_t *out_sel);

/// Rows r with `values[r] OP c` under IEEE semantics: NaN fails every comparison
/// except NE, and -0.0 == 0.0.
size_t ck_filter_f64_const(ck_cmp op, const double *values,
                           const uint64_t *_Nullable validity,
                           const uint32_t *_Nullable sel, size_t n, double c,
                           uint32_t *out_sel);

/// Rows r with `a[r] OP b[r]`, valid in both `va` and `vb` (either may be NULL).
size_t ck_filter_i64_cols(ck_cmp op, const int64_t *a, const uint64_t *_Nullable va,
                          const int64_t *b, const uint64_t *_Nullable vb,
                          const uint32_t *_Nullable sel, size_t n, uint32_t *out_sel);

/// Rows r with `a[r] OP b[r]` (IEEE semantics as in ck_filter_f64_const), valid in
/// both `va` and `vb`.
size_t ck_filter_f64_cols(ck_cmp op, const double *a, const uint64_t *_Nullable va,
                          const double *b, const uint64_t *_Nullable vb,
                          const uint32_t *_Nullable sel, size_t n, uint32_t *out_sel);

/// Rows r whose string equals the `clen` bytes at `c` (negate = 0), or differs from
/// them (negate != 0, SQL "<>"); null rows fail both ways.
/// A string column is int32 `offsets` (count + 1 entries; row r is
/// `arena[offsets[r] ..< offsets[r + 1]]`) plus the byte `arena`. `arena` may be NULL
/// only if every considered string is empty; `c` may be NULL only if clen == 0.
size_t ck_filter_str_eq_const(const int32_t *offsets, const uint8_t *_Nullable arena,
                              const uint64_t *_Nullable validity,
                              const uint32_t *_Nullable sel, size_t n,
                              const uint8_t *_Nullable c, size_t clen, int negate,
                              uint32_t *out_sel);

/// Rows r whose boolean `values[r]` (one byte per row, 0 or 1; any non-zero byte
/// counts as true) equals `want` (0 = false, non-zero = true).
size_t ck_filter_bool(const uint8_t *values, const uint64_t *_Nullable validity,
                      const uint32_t *_Nullable sel, size_t n, uint8_t want,
                      uint32_t *out_sel);

/// Intersection of two sorted, duplicate-free selection vectors. `out` has room for
/// min(na, nb) entries and may equal `a` (not `b`). Returns the count.
size_t ck_sel_intersect(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                        uint32_t *out);

/// Union of two sorted, duplicate-free selection vectors (sorted, duplicate-free).
/// `out` has room for na + nb entries and must not overlap `a` or `b`.
size_t ck_sel_union(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                    uint32_t *out);

/// `a` minus `b` for sorted, duplicate-free selection vectors. `out` has room for na
/// entries and may equal `a` (not `b`). Returns the count.
size_t ck_sel_difference(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                         uint32_t *out);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
