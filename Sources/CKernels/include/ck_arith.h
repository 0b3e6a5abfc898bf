#ifndef CK_ARITH_H
#define CK_ARITH_H
/// Elementwise arithmetic over ALL slots 0..<n, ignoring selection vectors and
/// validity: computing every slot is cheaper than testing bits, and the caller sets
/// the result's validity with ck_validity_and (null slots hold arbitrary values).
///
/// Shared conventions: inputs and `out` hold n elements, caller-owned. `out` may
/// equal an input (in place) but must not otherwise overlap one. No allocation.
///
/// Integer kernels wrap (two's complement) and return 1 if ANY slot overflowed,
/// else 0. That includes slots that are null or outside the selection, whose
/// contents are arbitrary: a caller that must raise an overflow error on a 1 rechecks
/// only its valid, selected rows (e.g. with __builtin_*_overflow or in Swift with
/// the reporting operators) before failing.
/// Float kernels follow IEEE (division by zero gives +-inf or NaN, no flag).
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

/// out[i] = a[i] + b[i]; returns 1 if any slot overflowed.
int ck_add_i64(const int64_t *a, const int64_t *b, size_t n, int64_t *out);
/// out[i] = a[i] - b[i]; returns 1 if any slot overflowed.
int ck_sub_i64(const int64_t *a, const int64_t *b, size_t n, int64_t *out);
/// out[i] = a[i] * b[i]; returns 1 if any slot overflowed.
int ck_mul_i64(const int64_t *a, const int64_t *b, size_t n, int64_t *out);
/// out[i] = a[i] + c; returns 1 if any slot overflowed.
int ck_add_i64_const(const int64_t *a, int64_t c, size_t n, int64_t *out);
/// out[i] = a[i] - c; returns 1 if any slot overflowed.
int ck_sub_i64_const(const int64_t *a, int64_t c, size_t n, int64_t *out);
/// out[i] = a[i] * c; returns 1 if any slot overflowed.
int ck_mul_i64_const(const int64_t *a, int64_t c, size_t n, int64_t *out);
/// out[i] = c - a[i]; returns 1 if any slot overflowed.
int ck_const_sub_i64(int64_t c, const int64_t *a, size_t n, int64_t *out);

/// out[i] = a[i] + b[i].
void ck_add_f64(const double *a, const double *b, size_t n, double *out);
/// out[i] = a[i] - b[i].
void ck_sub_f64(const double *a, const double *b, size_t n, double *out);
/// out[i] = a[i] * b[i].
void ck_mul_f64(const double *a, const double *b, size_t n, double *out);
/// out[i] = a[i] / b[i].
void ck_div_f64(const double *a, const double *b, size_t n, double *out);
/// out[i] = a[i] + c.
void ck_add_f64_const(const double *a, double c, size_t n, double *out);
/// out[i] = a[i] - c.
void ck_sub_f64_const(const double *a, double c, size_t n, double *out);
/// out[i] = a[i] * c.
void ck_mul_f64_const(const double *a, double c, size_t n, double *out);
/// out[i] = a[i] / c (a true division, not a multiplication by 1 / c).
void ck_div_f64_const(const double *a, double c, size_t n, double *out);
/// out[i] = c - a[i].
void ck_const_sub_f64(double c, const double *a, size_t n, double *out);
/// out[i] = c / a[i].
void ck_const_div_f64(double c, const double *a, size_t n, double *out);

/// out[i] = (double)a[i] (round to nearest even above 2^53).
void ck_i64_to_f64(const int64_t *a, size_t n, double *out);

/// out[w] = a[w] & b[w] for nwords validity words; either input may be NULL (all
/// valid): with one NULL the other is copied, with both NULL every word is all ones.
void ck_validity_and(const uint64_t *_Nullable a, const uint64_t *_Nullable b,
                     size_t nwords, uint64_t *out);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
