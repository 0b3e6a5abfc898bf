#ifndef CK_CAPTURE_H
#define CK_CAPTURE_H
/// Encoding kernels of capture files (docs/capture-format.md): frame-of-reference
/// and delta bit packing of int64 columns, bit-packed booleans and string lengths,
/// column statistics and bitmap slicing.
///
/// A bit-packed stream of n values of width w (0...64) stores value i in bits
/// [i*w, i*w + w) of a sequence of little-endian 64-bit words, followed by 8 zero
/// bytes of padding, so it is `ck_bitpack_bytes(n, w)` bytes long. Bits past the
/// last value are zero. Unpacking never reads past that length.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

/// Bytes of a packed stream of n values of width w (whole words plus 8 bytes of padding).
size_t ck_bitpack_bytes(size_t n, unsigned w);

/// Bits needed for x (0 for 0).
unsigned ck_bit_width(uint64_t x);

/// Over the valid rows of v[0..<n] (all rows when validity is NULL): min and max
/// (INT64_MAX / INT64_MIN when no row is valid), and, when validity is NULL and
/// n >= 2, the OR of the zigzag-encoded differences v[i] - v[i-1] (0 otherwise).
/// Returns the number of valid rows.
size_t ck_capture_stats_i64(const int64_t *v, const uint64_t *_Nullable validity, size_t n,
                            int64_t *min, int64_t *max, uint64_t *delta_or);

/// Frame of reference: packs (uint64)(v[i] - base) in w bits; null rows (validity
/// bit clear) pack as 0. Every valid value must satisfy 0 <= v - base < 2^w (as
/// unsigned 64-bit arithmetic). Writes ck_bitpack_bytes(n, w) bytes.
void ck_bitpack_for_i64(const int64_t *v, const uint64_t *_Nullable validity, size_t n,
                        int64_t base, unsigned w, uint8_t *out);

/// Rows start..<start+n of a frame-of-reference stream: out[i] = base + value.
void ck_bitunpack_for_i64(const uint8_t *in, size_t start, size_t n, int64_t base,
                          unsigned w, int64_t *out);

/// Delta: packs zigzag(v[i] - v[i-1]) in w bits, with the difference of row 0 taken
/// as 0 (the first value is stored separately). Writes ck_bitpack_bytes(n, w) bytes.
void ck_bitpack_delta_i64(const int64_t *v, size_t n, unsigned w, uint8_t *out);

/// Rows start..<start+n of a delta stream, given `prev`, the value of row start-1
/// (for start == 0: the first value, whose own difference is 0). Returns the value
/// of the last row written (prev when n == 0).
int64_t ck_bitunpack_delta_i64(const uint8_t *in, size_t start, size_t n, int64_t prev,
                               unsigned w, int64_t *out);

/// Booleans (one byte each, 0 or nonzero) packed one bit each (w = 1).
void ck_bitpack_bools(const uint8_t *v, size_t n, uint8_t *out);

/// Rows start..<start+n of a packed boolean stream, as bytes 0 or 1.
void ck_bitunpack_bools(const uint8_t *in, size_t start, size_t n, uint8_t *out);

/// String lengths offsets[i+1] - offsets[i] (i < n): their min and max.
void ck_capture_length_range(const int32_t *offsets, size_t n, int32_t *min, int32_t *max);

/// Packs the lengths minus `base` in w bits.
void ck_bitpack_lengths(const int32_t *offsets, size_t n, int32_t base, unsigned w, uint8_t *out);

/// Rows start..<start+n of a length stream as n+1 offsets: out[0] = first,
/// out[i+1] = out[i] + base + length_i. Returns out[n] (the arena end). Lengths that
/// overflow int32 make it return -1 (corrupt input); callers check.
int64_t ck_bitunpack_offsets(const uint8_t *in, size_t start, size_t n, int32_t base,
                             unsigned w, int32_t first, int32_t *out);

/// Copies bits src_bit..<src_bit+n of the bitmap src (src_words words) to bits
/// 0..<n of dst (ceil(n/64) words; bits past n cleared). Returns how many of the n
/// bits are set.
size_t ck_copy_bits(const uint64_t *src, size_t src_words, size_t src_bit, size_t n,
                    uint64_t *dst);

/// Dictionary of the strings of rows 0..<n (offsets[0..n], bytes): codes[i] is the
/// dictionary index of row i's string; first[k] the row where entry k first occurs
/// (entries are numbered in order of first occurrence); the entries' bytes are packed
/// into `dict` (room for the bytes of all n rows in the worst case), entry k at
/// dict[dict_offsets[k] ..< dict_offsets[k + 1]] (dict_offsets: max_entries + 1 slots).
/// `table` is scratch of `slots` 32-bit words (8-byte aligned), slots a power of two
/// >= 4 * max_entries. Returns the number of entries, or SIZE_MAX once it would exceed
/// max_entries (codes, first and dict are then incomplete).
size_t ck_capture_dict_build(const int32_t *offsets, const uint8_t *bytes, size_t n,
                             uint32_t *codes, uint32_t *first, size_t max_entries,
                             uint32_t *table, size_t slots, uint8_t *dict,
                             int32_t *dict_offsets);

/// Codes of `width` bytes (1, 2 or 4) from rows start..<start+n of a code stream;
/// returns 0 if any code is >= limit (corrupt input), else 1.
int ck_capture_codes_read(const uint8_t *in, unsigned width, size_t start, size_t n,
                          uint32_t limit, uint32_t *out);

/// Writes codes[0..<n] as `width`-byte little-endian integers.
void ck_capture_codes_write(const uint32_t *codes, size_t n, unsigned width, uint8_t *out);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
