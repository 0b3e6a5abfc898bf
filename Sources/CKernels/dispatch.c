#include "ck_dispatch.h"

#include <stdlib.h>
#include <string.h>

int ck_isa_cached_level = -1;

ck_isa ck_isa_detected(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt")) {
        return CK_ISA_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("popcnt")) {
        return CK_ISA_AVX2;
    }
#endif
    return CK_ISA_SCALAR;
}

static ck_isa ck_isa_from_env(ck_isa detected) {
    const char *env = getenv("SPATE_ISA");
    if (env == NULL || env[0] == '\0') return detected;
    ck_isa wanted = detected;
    if (strcmp(env, "scalar") == 0) wanted = CK_ISA_SCALAR;
    else if (strcmp(env, "avx2") == 0) wanted = CK_ISA_AVX2;
    else if (strcmp(env, "avx512") == 0) wanted = CK_ISA_AVX512;
    return wanted < detected ? wanted : detected;
}

ck_isa ck_isa_current(void) {
    int level = __atomic_load_n(&ck_isa_cached_level, __ATOMIC_RELAXED);
    if (level < 0) {
        level = (int)ck_isa_from_env(ck_isa_detected());
        __atomic_store_n(&ck_isa_cached_level, level, __ATOMIC_RELAXED);
    }
    return (ck_isa)level;
}

ck_isa ck_isa_set(ck_isa level) {
    ck_isa detected = ck_isa_detected();
    ck_isa effective = level < detected ? level : detected;
    __atomic_store_n(&ck_isa_cached_level, (int)effective, __ATOMIC_RELAXED);
    return effective;
}

const char *ck_isa_name(ck_isa level) {
    switch (level) {
    case CK_ISA_AVX512: return "avx512";
    case CK_ISA_AVX2: return "avx2";
    default: return "scalar";
    }
}
