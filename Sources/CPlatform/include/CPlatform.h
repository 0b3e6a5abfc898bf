#ifndef SPATE_CPLATFORM_H
#define SPATE_CPLATFORM_H
#include <stdint.h>
#pragma clang assume_nonnull begin
/// Pins the calling thread to one CPU. Returns 0 on success, an errno value otherwise.
int spate_pin_current_thread(int cpu);
/// The CPU the calling thread runs on, or -1.
int spate_current_cpu(void);
/// Number of CPUs this process may run on (sched_getaffinity), at least 1.
int spate_available_cpus(void);
/// 1 when libnuma is usable, 0 otherwise.
int spate_numa_available(void);
/// Highest NUMA node number (0 on a single-node machine or without libnuma).
int spate_numa_max_node(void);
/// Node of a CPU, or -1.
int spate_numa_node_of_cpu(int cpu);
/// Current resident set size and peak resident set size in bytes (from /proc/self/status).
void spate_rss(uint64_t *current, uint64_t *peak);
#pragma clang assume_nonnull end
#endif
