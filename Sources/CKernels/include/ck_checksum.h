#ifndef CK_CHECKSUM_H
#define CK_CHECKSUM_H
/// Checksums of capture files (docs/capture-format.md).
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

/// XXH64 of `n` bytes at `p` with `seed` (the reference algorithm by Yann Collet:
/// bit-identical to xxHash's XXH64, e.g. XXH64("", 0, 0) = 0xEF46DB3751D8E999).
/// `p` may be anything when n == 0.
uint64_t ck_xxh64(const void *_Nullable p, size_t n, uint64_t seed);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
