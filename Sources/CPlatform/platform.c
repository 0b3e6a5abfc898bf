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
