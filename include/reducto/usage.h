// The usage store of a corpus: for each stored chunk, how many compressions used it
// and when one last did (docs/corpus.md, "Usage store"). It lives beside the corpus
// directory, never inside it, because a published corpus never changes (and may be
// read-only or shared). `corpus prune --unused-since` reads it.
//
// Thread safety: a CorpusUsageRecorder is filled by one thread (the one that
// compresses). Record and ReadCorpusUsage may run concurrently in many threads and
// processes: each run is its own file, and folding them takes a file lock.
#ifndef REDUCTO_USAGE_H_
#define REDUCTO_USAGE_H_

#include <cstdint>
#include <utility>
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

// Collects the corpus ranges one compression uses (appending is O(1): the encoder
// calls OnUse for every copy) and records them with Record().
class CorpusUsageRecorder final : public CorpusUseObserver {
 public:
  // Ranges less than `merge_gap` bytes apart are merged. Pass the corpus's minimum chunk
  // size (CorpusInfo::chunking.min_size): no chunk fits into a narrower gap (except an
  // input's last chunk, which may be shorter), so the chunks that the ranges touch stay
  // the same while the ranges to keep shrink to a few per stretch of used corpus.
  explicit CorpusUsageRecorder(uint64_t merge_gap = 0) : merge_gap_(merge_gap) {}

  void OnUse(uint64_t address, uint64_t length) override;

  // Records one run that used the collected ranges at time `now` (UnixNow()), for the
  // corpus `corpus_id` (CompressStats::corpus_id: the corpus the ranges refer to) at
  // `corpus_dir`: one small file in the usage store, written without waiting for a
  // lock (ranges less than the corpus's minimum chunk size apart are merged first).
  // Every so many runs it also folds the runs into the store's per-chunk database (see
  // ReadCorpusUsage), if no other process is folding. Does nothing when nothing was
  // collected, or when the corpus at `corpus_dir` is no longer `corpus_id` (it was
  // replaced: the old corpus's usage no longer matters). An error (say, an unwritable
  // location) leaves the store as it was; callers warn and go on.
  Status Record(const std::string& corpus_dir, const std::string& corpus_id, int64_t now) const;

  // The collected ranges, merged: (start, end exclusive), sorted, disjoint and at least
  // `merge_gap` bytes apart (not adjacent when merge_gap is 0).
  std::vector<std::pair<uint64_t, uint64_t>> Ranges() const;

 private:
  uint64_t merge_gap_;
  // Ranges as they came, except that each one that overlaps or touches the one before
  // extends it (the encoder mostly reports neighbouring ranges in a row).
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;
};

// One stored chunk and its use.
struct ChunkUse {
  uint64_t address = 0;
  uint32_t length = 0;
  uint64_t count = 0;     // Compressions that used any of its bytes.
  int64_t last_use = 0;   // UnixNow() of the last of them; 0 when never used.
};

// Every chunk of the corpus at `corpus_dir`, in address order, with its use. First
// folds the recorded runs into the per-chunk database (under the store's lock; the
// first fold makes a record for every chunk from the corpus index). NotFound (saying to
// compress with usage recording first, or to use --keep-for) when no usage was ever
// recorded for this corpus.
Result<std::vector<ChunkUse>> ReadCorpusUsage(const std::string& corpus_dir);

}  // namespace reducto

#endif  // REDUCTO_USAGE_H_
