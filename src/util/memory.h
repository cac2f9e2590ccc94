// What memory the machine and this process's memory cgroup still offer, so that caches
// can be sized to fit instead of failing when memory is short.
//
// Thread safety: thread-safe.
#ifndef REDUCTO_UTIL_MEMORY_H_
#define REDUCTO_UTIL_MEMORY_H_

#include <cstdint>
#include <optional>

namespace reducto {

// The smaller of MemAvailable (/proc/meminfo) and the room left under this process's
// memory cgroup limit (cgroup v2 memory.max - memory.current, or v1
// memory.limit_in_bytes - memory.usage_in_bytes). nullopt when neither is known.
std::optional<uint64_t> AvailableMemoryBytes();

// The file-backed (and shared) pages this process has mapped, in bytes: the third
// field of /proc/self/statm. nullopt when it cannot be read.
std::optional<uint64_t> ResidentFileBytes();

}  // namespace reducto

#endif  // REDUCTO_UTIL_MEMORY_H_
