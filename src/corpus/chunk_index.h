// The chunk index of a corpus: a RocksDB database under <corpus>/index that files every
// stored chunk under its weak key (docs/corpus.md, "Chunk index").
//
//   key   = weak key (8 bytes, big-endian) || corpus address (8 bytes, big-endian)
//   value = BLAKE3 of the chunk (32 bytes) || chunk length (4 bytes, little-endian)
//
// Several chunks may share a weak key; a look-up is a seek over the 8-byte prefix and
// returns all of them, in address order.
//
// Thread safety: ChunkIndexWriter is used by one thread. After Open(), the const
// methods of ChunkIndexReader may be called from many threads.
#ifndef REDUCTO_CORPUS_CHUNK_INDEX_H_
#define REDUCTO_CORPUS_CHUNK_INDEX_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "corpus/corpus_format.h"
#include "corpus/corpus_reader.h"
#include "reducto/digest.h"
#include "reducto/status.h"

namespace rocksdb {
class DB;
class Cache;
class Env;
}  // namespace rocksdb

namespace reducto {

// The key that encrypts an index's files (CorpusKeys::index_key()).
using IndexKey = std::array<uint8_t, 32>;

// Block cache of one open index; look-ups are random, so this bounds memory, not speed.
inline constexpr size_t kIndexBlockCacheBytes = 64u << 20;

std::string EncodeIndexKey(uint64_t weak_key, uint64_t address);
std::string EncodeIndexValue(const Digest& digest, uint32_t length);

// What the build records in the manifest and what a verification recomputes.
struct IndexSummary {
  uint64_t entries = 0;
  Digest digest{};  // BLAKE3 over the entries in key order (docs/corpus.md).
};

// Creates and fills the index of a corpus under construction.
class ChunkIndexWriter {
 public:
  // Creates a new, empty database at `dir`, which must not exist yet. With
  // `index_key`, every file is encrypted (corpus/index_encryption.h).
  static Result<std::unique_ptr<ChunkIndexWriter>> Create(const std::string& dir,
                                                          const IndexKey* index_key = nullptr);
  ~ChunkIndexWriter();
  ChunkIndexWriter(const ChunkIndexWriter&) = delete;
  ChunkIndexWriter& operator=(const ChunkIndexWriter&) = delete;

  // Appends the chunks filed under `weak_key`, including those added so far.
  Status Lookup(uint64_t weak_key, std::vector<ChunkCandidate>* out) const;
  // Files a chunk. REQUIRES: no entry with this (weak_key, address) exists.
  Status Add(uint64_t weak_key, const ChunkCandidate& chunk);
  // Flushes, compacts into few files (so readers open few), computes the summary and
  // closes the database. No other method may be called afterwards.
  Result<IndexSummary> Finish();

 private:
  ChunkIndexWriter(std::string dir, std::shared_ptr<rocksdb::Cache> cache,
                   std::unique_ptr<rocksdb::Env> env, rocksdb::DB* db);
  std::string dir_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::unique_ptr<rocksdb::Env> env_;  // Null, or the encrypting one; outlives db_.
  std::unique_ptr<rocksdb::DB> db_;
};

// Read-only access to a published index: writes nothing into the directory (no LOG,
// no LOCK, no OPTIONS), so any number of processes may open it at once, and it works
// on read-only file systems.
class ChunkIndexReader {
 public:
  // Corrupt, naming `dir`, when the database is missing or does not open.
  // `cache_bytes`: the capacity of the block cache (index and filter blocks, and data
  // blocks), at least 1 MiB is used. `index_key` decrypts an encrypted index.
  static Result<std::unique_ptr<ChunkIndexReader>> Open(const std::string& dir,
                                                        size_t cache_bytes = kIndexBlockCacheBytes,
                                                        const IndexKey* index_key = nullptr);
  ~ChunkIndexReader();
  ChunkIndexReader(const ChunkIndexReader&) = delete;
  ChunkIndexReader& operator=(const ChunkIndexReader&) = delete;

  // Appends the chunks filed under `weak_key`. Corrupt when an entry is malformed.
  Status Lookup(uint64_t weak_key, std::vector<ChunkCandidate>* out) const;
  // Visits every entry in key order and returns the summary. Stops at the first error
  // of `visit` (which may be empty).
  using EntryVisitor = std::function<Status(uint64_t weak_key, const ChunkCandidate& chunk)>;
  Result<IndexSummary> Scan(const EntryVisitor& visit) const;

 private:
  ChunkIndexReader(std::string dir, std::shared_ptr<rocksdb::Cache> cache,
                   std::unique_ptr<rocksdb::Env> env, rocksdb::DB* db);
  std::string dir_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::unique_ptr<rocksdb::Env> env_;  // NewReadOnlyEnv (over the decrypting one); outlives db_.
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace reducto

#endif  // REDUCTO_CORPUS_CHUNK_INDEX_H_
