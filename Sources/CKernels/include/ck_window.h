#ifndef CK_WINDOW_H
#define CK_WINDOW_H
/// Window assignment kernels.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

/// Tumbling window start of each considered row: out[r] = the largest s <= ts[r]
/// with (s - offset) a multiple of `size` (floor semantics, so negative timestamps
/// and offsets work; any int64 offset is allowed, it only matters modulo size).
/// size > 0. Written by row id: out[r] for every considered row r (r = sel[i], or i
/// when `sel` is NULL); other slots are untouched. Null rows (validity bit clear;
/// `validity` may be NULL = all valid) are not written either. If the start would
/// be below INT64_MIN it wraps (two's complement). `out` must not overlap `ts`
/// unless it equals it.
void ck_tumble_start(const int64_t *ts, const uint64_t *_Nullable validity,
                     const uint32_t *_Nullable sel, size_t n, int64_t size, int64_t offset,
                     int64_t *out);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
