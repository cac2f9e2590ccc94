// Every constant of the usage store that reaches the disk (docs/corpus.md, "Usage
// store"). FROZEN: changing any of them makes existing usage stores unreadable; a new
// layout needs a new kUsageFormatVersion and code that still reads the old one.
#ifndef REDUCTO_MAINTENANCE_USAGE_FORMAT_H_
#define REDUCTO_MAINTENANCE_USAGE_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace reducto {

// <corpus dir> + kUsageStoreSuffix is the store; inside it, one directory per corpus id.
inline constexpr char kUsageStoreSuffix[] = ".usage";
// In <store>/<corpus id>/: the lock file, the RocksDB database and the runs not yet
// folded into it.
inline constexpr char kUsageLockFileName[] = "lock";
inline constexpr char kUsageDbDirName[] = "db";
inline constexpr char kUsageRunsDirName[] = "runs";
inline constexpr char kUsageRunSuffix[] = ".run";

// A run file: header, ranges, BLAKE3-256 of everything before it.
//   header = kUsageRunMagic (8 bytes) || time (int64 LE, Unix seconds) || n (uint64 LE)
//   n ranges, sorted and disjoint = start (uint64 LE) || end, exclusive (uint64 LE)
inline constexpr char kUsageRunMagic[] = "RDCUSE01";  // 8 bytes, no NUL.
inline constexpr size_t kUsageRunHeaderSize = 24;
inline constexpr size_t kUsageRunRangeSize = 16;
inline constexpr size_t kUsageRunDigestSize = 32;

// Chunk records: key = kUsageChunkTag || corpus address (8 bytes, big-endian);
// value = chunk length (uint32 LE) || use count (uint64 LE) || last use (int64 LE,
// seconds since the Unix epoch, 0 = never).
inline constexpr char kUsageChunkTag = 'c';
inline constexpr size_t kUsageChunkKeySize = 9;
inline constexpr size_t kUsageValueSize = 20;
// The record that says the store holds a record for every chunk of the corpus; its
// value is the store's format version (uint32 LE) || the corpus id (36 ASCII bytes).
inline constexpr char kUsageSeededKey[] = "m/seeded";
// "r/<run file name>" -> "": a run folded into the chunk records in the same write,
// whose file may still exist (a crash before its deletion); it is not folded again.
inline constexpr char kUsageFoldedRunPrefix[] = "r/";
inline constexpr uint32_t kUsageFormatVersion = 1;
// The RocksDB merge operator's name, recorded in the database's OPTIONS.
inline constexpr char kUsageMergeOperatorName[] = "reducto.usage.v1";

}  // namespace reducto

#endif  // REDUCTO_MAINTENANCE_USAGE_FORMAT_H_
