// Counts the chunks of a set of samples, per distinct chunk (BLAKE3 digest): its
// occurrences and its length; then chooses chunks greedily within a byte budget
// (docs/corpus.md, "Optimized corpora"). Up to a limit of distinct chunks the counts
// live in memory (about 100 bytes each); beyond it they spill into a RocksDB scratch
// database in a temporary directory, which is removed on destruction. Both give the
// same counts and the same choice.
//
// Thread safety: not thread-safe.
#ifndef REDUCTO_CORPUS_BUILD_CHUNK_TALLY_H_
#define REDUCTO_CORPUS_BUILD_CHUNK_TALLY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "reducto/digest.h"
#include "reducto/status.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace reducto {

class ChunkTally {
 public:
  struct Selection {
    uint64_t chunks = 0;
    uint64_t stored_bytes = 0;   // Sum of the chosen chunks' lengths.
    uint64_t covered_bytes = 0;  // Sum of count * length over the chosen chunks.
  };

  // Keeps at most `memory_limit` distinct chunks in memory (at least 1). A spill goes
  // to a new directory named `scratch_prefix` + six random characters (mkdtemp), whose
  // parent must exist.
  ChunkTally(uint64_t memory_limit, std::string scratch_prefix);
  ~ChunkTally();
  ChunkTally(const ChunkTally&) = delete;
  ChunkTally& operator=(const ChunkTally&) = delete;

  // Counts one occurrence of a chunk. Io when the scratch database fails.
  Status Add(const Digest& digest, uint32_t length);
  // Ends the counting: distinct_*() become valid and Select() may be called.
  Status Finish();

  uint64_t distinct_chunks() const { return distinct_chunks_; }
  uint64_t distinct_bytes() const { return distinct_bytes_; }
  bool spilled() const { return db_ != nullptr; }

  // Greedy: chunks in order of count * length / (length + per_chunk_bytes), highest
  // first, ties by digest (byte-wise); each costs length + per_chunk_bytes of `space`,
  // and one that does not fit is skipped while later (smaller) ones are still tried.
  // With `mark`, the chosen chunks replace any earlier choice for IsSelected().
  // REQUIRES: Finish() returned OK.
  Result<Selection> Select(uint64_t space, uint64_t per_chunk_bytes, bool mark);
  // Whether the chunk was chosen by the last Select(..., mark = true).
  Result<bool> IsSelected(const Digest& digest) const;

 private:
  struct Entry {
    uint64_t count = 0;
    uint32_t length = 0;
    bool selected = false;
  };
  struct DigestHash {
    size_t operator()(const Digest& digest) const;
  };

  Status Spill();
  Selection SelectInMemory(uint64_t space, uint64_t per_chunk_bytes, bool mark);
  Result<Selection> SelectSpilled(uint64_t space, uint64_t per_chunk_bytes, bool mark);

  uint64_t memory_limit_;
  std::string scratch_prefix_;
  std::string scratch_dir_;  // Empty until the first spill.
  std::unordered_map<Digest, Entry, DigestHash> memory_;
  std::unique_ptr<rocksdb::DB> db_;
  uint64_t ranked_for_ = UINT64_MAX;  // per_chunk_bytes of the ranking in db_, if any.
  uint64_t distinct_chunks_ = 0;
  uint64_t distinct_bytes_ = 0;
};

}  // namespace reducto

#endif  // REDUCTO_CORPUS_BUILD_CHUNK_TALLY_H_
