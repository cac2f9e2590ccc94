// Exact chunk look-up: the encoder's anchors are the target chunks that the corpus holds
// byte for byte, found through the chunk index (weak key, then BLAKE3, then the pack's
// bytes themselves).
//
// Thread safety: a ChunkLookup is used by one thread; the corpus is only read.
#ifndef REDUCTO_CODEC_CHUNK_LOOKUP_H_
#define REDUCTO_CODEC_CHUNK_LOOKUP_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "codec/matcher.h"
#include "corpus/corpus_reader.h"
#include "reducto/metrics.h"
#include "reducto/status.h"

namespace reducto {

class ChunkLookup {
 public:
  // `corpus` and `view` (a view of it) must outlive the look-up.
  ChunkLookup(const CorpusReader& corpus, const CorpusView& view) : corpus_(corpus), view_(view) {}

  // Times hashing and look-ups there from now on (nullptr: not timed).
  void set_metrics(RunMetrics* metrics) { metrics_ = metrics; }

  // The corpus address of a stored chunk equal to `chunk`, if any. The chunk's BLAKE3
  // is computed only when a candidate of the same length exists, and at most once. The
  // pack bytes of a candidate whose digest matches are compared too: a damaged pack is
  // counted (damaged_chunks) and never copied from. Corrupt when the index names bytes
  // outside the pack.
  Result<std::optional<uint64_t>> Find(std::span<const uint8_t> chunk);

  // Candidates whose digest matched but whose pack bytes did not
  // (CompressStats::damaged_chunks).
  uint64_t damaged_chunks() const { return damaged_chunks_; }
  uint64_t lookups() const { return lookups_; }  // Calls of Find.
  uint64_t found() const { return found_; }      // Of those, that found the chunk.

 private:
  Result<std::optional<uint64_t>> Search(std::span<const uint8_t> chunk);
  // Whether the pack holds `chunk` at `address`: false, and counted, when its bytes
  // differ from the chunk whose digest the index gave for them.
  bool PackHolds(uint64_t address, std::span<const uint8_t> chunk);

  const CorpusReader& corpus_;
  const CorpusView& view_;
  std::vector<ChunkCandidate> candidates_;  // Reused between look-ups.
  uint64_t damaged_chunks_ = 0;
  uint64_t lookups_ = 0;
  uint64_t found_ = 0;
  RunMetrics* metrics_ = nullptr;
};

}  // namespace reducto

#endif  // REDUCTO_CODEC_CHUNK_LOOKUP_H_
