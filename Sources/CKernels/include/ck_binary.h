#ifndef CK_BINARY_H
#define CK_BINARY_H
/// Fixed-layout binary records: per-field decoders from an array of little-endian
/// records (`stride` bytes each, the field at byte `offset` of each) into column
/// buffers. The reader (Columnar's BinaryScan) calls one decoder per projected column
/// for a run of records, so each loop is a plain strided load and convert that the
/// compiler vectorises (gathers under AVX2 / AVX-512).
///
/// Inputs are only read (they may be unaligned); outputs are the caller's, with room
/// for `n` values. No allocation.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

/// Storage types of a field.
typedef enum ck_binary_kind {
    CK_BIN_I8 = 0,
    CK_BIN_I16 = 1,
    CK_BIN_I32 = 2,
    CK_BIN_I64 = 3,
    CK_BIN_U8 = 4,
    CK_BIN_U16 = 5,
    CK_BIN_U32 = 6,
    CK_BIN_U64 = 7,
    CK_BIN_F32 = 8,
    CK_BIN_F64 = 9,
} ck_binary_kind;

/// Integer kinds (I8...U64) into int64. Returns `n`, or the index of the first
/// record whose U64 value is above INT64_MAX (values before it are written).
size_t ck_binary_to_i64(const uint8_t *rec, size_t stride, size_t n, size_t offset, int kind,
                        int64_t *out);

/// Any kind into double (U64 and I64 rounded to nearest). Returns `n`.
size_t ck_binary_to_f64(const uint8_t *rec, size_t stride, size_t n, size_t offset, int kind,
                        double *out);

/// Integer kinds into 0/1 bytes (nonzero is 1). Returns `n`.
size_t ck_binary_to_bool(const uint8_t *rec, size_t stride, size_t n, size_t offset, int kind,
                         uint8_t *out);

/// Signed 64-bit counts of `per_second` units (1, 1000, 1e6 or 1e9) since the epoch
/// into epoch milliseconds; sub-millisecond digits are dropped rounding toward
/// negative infinity (so -1 us is -1 ms, the millisecond it falls in). Returns `n`,
/// or the index of the first record whose seconds overflow milliseconds.
size_t ck_binary_to_ts_ms(const uint8_t *rec, size_t stride, size_t n, size_t offset,
                          int64_t per_second, int64_t *out);

/// Fixed-width text fields (`width` bytes, padded with NULs or spaces): each value is
/// the bytes before the first NUL, without trailing spaces. Appends them to
/// `arena + *arena_used` (room for n * width bytes) and writes `offsets[1...n]`
/// (`offsets[0]` must hold `*arena_used`). Returns `n`, or the index of the first
/// record whose text is not valid UTF-8.
size_t ck_binary_to_string(const uint8_t *rec, size_t stride, size_t n, size_t offset,
                           size_t width, int32_t *offsets, uint8_t *arena, size_t *arena_used);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
