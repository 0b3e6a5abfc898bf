#ifndef CK_DISPATCH_H
#define CK_DISPATCH_H
/// Run-time ISA selection shared by every kernel family.
///
/// Each public kernel is a thin wrapper that switches on `ck_isa_current()` and
/// calls the variant for that level (or the best measured variant at or below it:
/// a kernel may map AVX-512 to its AVX2 body where that measured faster). The level
/// is detected once (`__builtin_cpu_supports`), may be forced with the environment
/// variable `SPATE_ISA=scalar|avx2|avx512`, and may be changed at run time with
/// `ck_isa_set` so the tests can run every kernel at every level.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ck_isa {
    CK_ISA_SCALAR = 0,
    CK_ISA_AVX2 = 1,
    CK_ISA_AVX512 = 2,
} ck_isa;

/// The highest level this CPU supports (ignores SPATE_ISA).
ck_isa ck_isa_detected(void);

/// The level kernels use now: SPATE_ISA if set (clamped to what the CPU has),
/// otherwise the detected level.
ck_isa ck_isa_current(void);

/// Forces a level (clamped to the detected one) and returns the level now in force.
/// Not meant to be called while other threads run kernels.
ck_isa ck_isa_set(ck_isa level);

/// "scalar", "avx2" or "avx512".
const char *ck_isa_name(ck_isa level);

/// Internal: the cached level, -1 until first use. Read through ck_isa_current().
extern int ck_isa_cached_level;

#ifdef __cplusplus
}
#endif
#endif
