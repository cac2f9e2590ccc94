// Every constant of the usage store that reaches the disk (docs/corpus.md, "Usage
// store"). FROZEN: changing any of them makes existing usage stores unreadable; a new
// layout needs a new kUsageFormatVersion and code that still reads the old one.
#ifndef REDUCTO_CORPUS_USAGE_FORMAT_H_
#define REDUCTO_CORPUS_USAGE_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace reducto {

// <corpus dir> + kUsageStoreSuffix is the store; inside it, one directory per corpus id.
inline constexpr char kUsageStoreSuffix[] = ".usage";
// In <store>/<corpus id>/: the lock file and the RocksDB database.
inline constexpr char kUsageLockFileName[] = "lock";
inline constexpr char kUsageDbDirName[] = "db";

// Chunk records: key = kUsageChunkTag || corpus address (8 bytes, big-endian);
// value = chunk length (uint32 LE) || use count (uint64 LE) || last use (int64 LE,
// seconds since the Unix epoch, 0 = never).
inline constexpr char kUsageChunkTag = 'c';
inline constexpr size_t kUsageChunkKeySize = 9;
inline constexpr size_t kUsageValueSize = 20;
// The record that says the store holds a record for every chunk of the corpus; its
// value is the store's format version (uint32 LE) || the corpus id (36 ASCII bytes).
inline constexpr char kUsageSeededKey[] = "m/seeded";
inline constexpr uint32_t kUsageFormatVersion = 1;
// The RocksDB merge operator's name, recorded in the database's OPTIONS.
inline constexpr char kUsageMergeOperatorName[] = "reducto.usage.v1";

}  // namespace reducto

#endif  // REDUCTO_CORPUS_USAGE_FORMAT_H_
