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
/// The CPUs the calling thread may run on (its affinity mask; on the main thread, the
/// process's), ascending, into `out` (room for `capacity`; may be NULL when 0). Returns
/// how many there are, which may exceed `capacity` (call again with more room), or 0
/// when the mask cannot be read.
int spate_affinity_cpus(int32_t *_Nullable out, int capacity);
/// The CPUs of NUMA node `node` that are also in the calling thread's affinity mask,
/// ascending, into `out` (room for `capacity`; may be NULL when 0). Returns how many
/// there are (possibly more than `capacity`), or -1 when libnuma is unusable or the
/// node does not exist.
int spate_numa_node_cpus(int node, int32_t *_Nullable out, int capacity);
/// Sets the calling thread's memory policy to local allocation: pages it touches first
/// come from the node of the CPU it runs on (so a pinned worker's state stays on its
/// node, whatever policy the process inherited). Returns 0, or -1 when libnuma is
/// unusable (nothing changed).
int spate_numa_set_local_alloc(void);
/// Current resident set size and peak resident set size in bytes (from /proc/self/status).
void spate_rss(uint64_t *current, uint64_t *peak);
#pragma clang assume_nonnull end
#endif
