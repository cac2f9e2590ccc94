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
#include "reducto/status.h"

namespace reducto {

class ChunkLookup {
 public:
  // `corpus` and `view` (a view of it) must outlive the look-up.
  ChunkLookup(const CorpusReader& corpus, const CorpusView& view) : corpus_(corpus), view_(view) {}

  // The corpus address of a stored chunk equal to `chunk`, if any. The chunk's BLAKE3
  // is computed only when a candidate of the same length exists, and at most once. The
  // pack bytes of a candidate whose digest matches are compared too: a damaged pack is
  // counted (damaged_chunks) and never copied from. Corrupt when the index names bytes
  // outside the pack.
  Result<std::optional<uint64_t>> Find(std::span<const uint8_t> chunk);

  // Candidates whose digest matched but whose pack bytes did not
  // (CompressStats::damaged_chunks).
  uint64_t damaged_chunks() const { return damaged_chunks_; }

 private:
  // Whether the pack holds `chunk` at `address`: false, and counted, when its bytes
  // differ from the chunk whose digest the index gave for them.
  bool PackHolds(uint64_t address, std::span<const uint8_t> chunk);

  const CorpusReader& corpus_;
  const CorpusView& view_;
  std::vector<ChunkCandidate> candidates_;  // Reused between look-ups.
  uint64_t damaged_chunks_ = 0;
};

}  // namespace reducto

#endif  // REDUCTO_CODEC_CHUNK_LOOKUP_H_
