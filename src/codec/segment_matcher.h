// Matching one segment of a target against the corpus. The encoder cuts the target at
// fixed offsets (multiples of kSegmentSize) and matches each segment on its own: anchors,
// extension, the local search and (max profile) delta choice start from a fresh state
// at every segment and see only its bytes, so that what a segment decides does not
// depend on the segments before it or on how many threads match them. The decisions
// are then appended to the container's blocks in target order (encoder.cc), which makes
// the container byte-identical for any thread count.
//
// Thread safety: a SegmentMatcher is used by one thread at a time; several matchers
// read one corpus (its reader, mappings and indexes are read-only).
#ifndef REDUCTO_CODEC_SEGMENT_MATCHER_H_
#define REDUCTO_CODEC_SEGMENT_MATCHER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "codec/chunk_lookup.h"
#include "codec/matcher.h"
#include "corpus/corpus_reader.h"
#include "reducto/metrics.h"
#include "reducto/status.h"
#include "util/large_buffer.h"

namespace reducto {

// The target bytes one segment holds (the last may be shorter): the unit of parallel
// matching, and of the encoder's memory, which holds at most threads + 1 of them (with
// their decisions). What the edges cost is in docs/encoder.md, "Segments".
inline constexpr uint64_t kSegmentSize = 32u << 20;

// One decision about the next `length` bytes of a segment (SegmentJob::bytes): the
// decisions cover it in order, exactly. 16 bytes: a segment of the kernel pair holds
// about 600,000 of them.
struct Decision {
  enum class Kind : uint8_t { kLiteral, kCopy, kDelta };
  uint64_t address = 0;  // Of a copy, or of a DELTA's reference.
  uint32_t length = 0;   // A segment is less than 4 GiB.
  Kind kind = Kind::kLiteral;
};

// What a DELTA decision needs beyond its Decision, in SegmentJob::deltas.
struct DeltaDecision {
  uint32_t reference_length = 0;  // At most 16 MiB.
  uint32_t payload_size = 0;      // Its payload is the next in SegmentJob::payloads.
};

// What matching a segment counted.
struct SegmentCounts {
  uint64_t chunks = 0;          // Chunks looked up,
  uint64_t chunks_found = 0;    // found in the corpus,
  uint64_t damaged_chunks = 0;  // found with damaged pack bytes (ChunkLookup).
  // Corpus bytes the local search read to index them, and fine index buckets read.
  uint64_t indexed_bytes = 0;
  uint64_t fine_lookups = 0;
};

// A segment on its way through the encoder: its bytes, then the decisions covering
// them in order, exactly and without overlap.
struct SegmentJob {
  uint64_t offset = 0;  // Target offset of bytes[0].
  LargeBuffer bytes;
  LargeVector<Decision> decisions;
  std::vector<DeltaDecision> deltas;  // One per DELTA decision, in order,
  std::vector<uint8_t> payloads;      // and their payloads, back to back.
  SegmentCounts counts;
};

class SegmentMatcher {
 public:
  // `corpus` must outlive the matcher. `block_size`: the container's; a DELTA never
  // crosses a block boundary (a multiple of it). `metrics` may be nullptr.
  static Result<SegmentMatcher> Open(const CorpusReader& corpus, const MatchParams& params,
                                     int level, uint32_t block_size, RunMetrics* metrics);

  SegmentMatcher(SegmentMatcher&&) = default;

  // Fills job->decisions, job->payloads and job->counts for job->bytes.
  Status Match(SegmentJob* job);

 private:
  SegmentMatcher(const CorpusReader& corpus, CorpusView view, const MatchParams& params,
                 int level, uint32_t block_size, RunMetrics* metrics);

  class Scan;  // One Match call (segment_matcher.cc).

  const CorpusReader* corpus_;
  std::unique_ptr<CorpusView> view_;  // Stable address: the matcher and look-up hold it.
  MatchParams params_;
  int level_;
  uint32_t block_size_;
  RunMetrics* metrics_;
  std::unique_ptr<LocalMatcher> matcher_;  // Reset for every segment.
  std::vector<Piece> pieces_;              // The current gap's.
};

}  // namespace reducto

#endif  // REDUCTO_CODEC_SEGMENT_MATCHER_H_
