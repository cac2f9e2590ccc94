// The usage store of a corpus: for each stored chunk, how many compressions used it
// and when one last did (docs/corpus.md, "Usage store"). It lives beside the corpus
// directory, never inside it, because a published corpus never changes (and may be
// read-only or shared). `corpus prune --unused-since` reads it.
//
// Thread safety: a CorpusUsageRecorder is used by one thread (the one that compresses).
// Record and ReadCorpusUsage may run concurrently in many threads and processes; the
// store serializes them with a file lock.
#ifndef REDUCTO_USAGE_H_
#define REDUCTO_USAGE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "reducto/codec.h"
#include "reducto/status.h"

namespace reducto {

// "<corpus_dir>.usage" (trailing slashes of corpus_dir removed): the directory that
// holds the usage of every corpus ever published at corpus_dir, one database per id.
std::string UsageStoreDir(const std::string& corpus_dir);

// The seconds since the Unix epoch, the time unit of the usage store.
int64_t UnixNow();

// Collects the corpus ranges one compression uses, merged into a set of disjoint
// ranges in memory (so a run costs one write at the end, however many copies it made),
// and records them with Record().
class CorpusUsageRecorder final : public CorpusUseObserver {
 public:
  void OnUse(uint64_t address, uint64_t length) override;

  // Adds one use at time `now` (UnixNow()) to every chunk of the corpus that the
  // collected ranges touch, in the usage store of the corpus at `corpus_dir`, whose id
  // must be `corpus_id` (CompressStats::corpus_id: the corpus the ranges refer to).
  // Creates the store when needed. Does nothing when nothing was collected. Errors
  // (an unwritable location, a corpus replaced since, a store held locked for more than
  // `lock_timeout_ms`) leave the store as it was; callers warn and go on.
  Status Record(const std::string& corpus_dir, const std::string& corpus_id, int64_t now,
                int lock_timeout_ms = 10000) const;

  // The collected ranges: start -> end (exclusive), disjoint and not adjacent.
  const std::map<uint64_t, uint64_t>& ranges() const { return ranges_; }

 private:
  std::map<uint64_t, uint64_t> ranges_;
};

// One stored chunk and its use.
struct ChunkUse {
  uint64_t address = 0;
  uint32_t length = 0;
  uint64_t count = 0;     // Compressions that used any of its bytes.
  int64_t last_use = 0;   // UnixNow() of the last of them; 0 when never used.
};

// Every chunk of the corpus at `corpus_dir`, in address order, with its use. NotFound
// (saying to compress with usage recording first, or to use --keep-for) when no usage
// was ever recorded for this corpus.
Result<std::vector<ChunkUse>> ReadCorpusUsage(const std::string& corpus_dir);

}  // namespace reducto

#endif  // REDUCTO_USAGE_H_
