#define _GNU_SOURCE
#include "CPlatform.h"

#include <errno.h>
#include <numa.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int spate_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int spate_current_cpu(void) { return sched_getcpu(); }

int spate_available_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

int spate_numa_available(void) { return numa_available() >= 0 ? 1 : 0; }

int spate_numa_max_node(void) { return numa_available() >= 0 ? numa_max_node() : 0; }

int spate_numa_node_of_cpu(int cpu) {
    return numa_available() >= 0 ? numa_node_of_cpu(cpu) : -1;
}

/// The calling thread's affinity mask in a set large enough for the kernel's CPU count
/// (a fixed cpu_set_t holds 1024 CPUs; sched_getaffinity says EINVAL when the kernel's
/// mask is larger). Returns NULL on failure; free with CPU_FREE.
static cpu_set_t *spate_affinity_set(int *ncpus, size_t *size) {
    for (int n = 1024; n <= (1 << 20); n *= 2) {
        cpu_set_t *set = CPU_ALLOC(n);
        if (set == NULL) return NULL;
        size_t sz = CPU_ALLOC_SIZE(n);
        CPU_ZERO_S(sz, set);
        if (sched_getaffinity(0, sz, set) == 0) {
            *ncpus = n;
            *size = sz;
            return set;
        }
        int err = errno;
        CPU_FREE(set);
        if (err != EINVAL) return NULL;
    }
    return NULL;
}

int spate_affinity_cpus(int32_t *out, int capacity) {
    int ncpus = 0;
    size_t size = 0;
    cpu_set_t *set = spate_affinity_set(&ncpus, &size);
    if (set == NULL) return 0;
    int count = 0;
    for (int cpu = 0; cpu < ncpus; cpu++) {
        if (!CPU_ISSET_S(cpu, size, set)) continue;
        if (count < capacity) out[count] = cpu;
        count++;
    }
    CPU_FREE(set);
    return count;
}

int spate_numa_node_cpus(int node, int32_t *out, int capacity) {
    if (numa_available() < 0 || node < 0 || node > numa_max_node()) return -1;
    if (!numa_bitmask_isbitset(numa_nodes_ptr, (unsigned)node)) return -1;
    struct bitmask *mask = numa_allocate_cpumask();
    if (mask == NULL) return -1;
    if (numa_node_to_cpus(node, mask) != 0) {
        numa_bitmask_free(mask);
        return -1;
    }
    int ncpus = 0;
    size_t size = 0;
    cpu_set_t *allowed = spate_affinity_set(&ncpus, &size);
    int count = 0;
    for (unsigned cpu = 0; cpu < mask->size; cpu++) {
        if (!numa_bitmask_isbitset(mask, cpu)) continue;
        // Without a readable affinity mask every CPU of the node counts.
        if (allowed != NULL && ((int)cpu >= ncpus || !CPU_ISSET_S(cpu, size, allowed))) continue;
        if (count < capacity) out[count] = (int32_t)cpu;
        count++;
    }
    if (allowed != NULL) CPU_FREE(allowed);
    numa_bitmask_free(mask);
    return count;
}

int spate_numa_set_local_alloc(void) {
    if (numa_available() < 0) return -1;
    numa_set_localalloc();
    return 0;
}

static uint64_t spate_status_kb(const char *line, const char *key) {
    size_t klen = strlen(key);
    if (strncmp(line, key, klen) != 0) return 0;
    unsigned long long kb = 0;
    if (sscanf(line + klen, " %llu", &kb) != 1) return 0;
    return (uint64_t)kb * 1024u;
}

void spate_rss(uint64_t *current, uint64_t *peak) {
    *current = 0;
    *peak = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return;
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        uint64_t v;
        if ((v = spate_status_kb(line, "VmRSS:")) != 0) *current = v;
        if ((v = spate_status_kb(line, "VmHWM:")) != 0) *peak = v;
    }
    fclose(f);
}
