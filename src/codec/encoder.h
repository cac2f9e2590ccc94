// The encoder: chunks a target with the corpus's parameters; chunks that the corpus
// holds (same BLAKE3, codec/chunk_lookup.h) are anchors, extended byte-wise past their
// edges; the bytes between anchors go through the local search (codec/matcher.h) and,
// in the max profile, may become DELTAs (codec/delta_choice.h). What a profile does is
// codec/profiles.h. The decided pieces become blocks of instructions, written as a
// container (docs/format.md) by codec/block_builder.h.
// Compress() in reducto/codec.h opens the corpus and calls EncodeContainer.
//
// Thread safety: each call is independent; the corpus is only read.
#ifndef REDUCTO_CODEC_ENCODER_H_
#define REDUCTO_CODEC_ENCODER_H_

#include "corpus/corpus_reader.h"
#include "reducto/codec.h"
#include "reducto/io.h"
#include "reducto/status.h"

namespace reducto {

// The target bytes a segment holds (docs/encoder.md, "Threads"): each is matched from a
// fresh state, on whichever thread is free, so the container does not depend on the
// thread count. Rounded up to whole blocks.
inline constexpr uint64_t kSegmentSize = 32u << 20;

// Writes a container for `in` to `out` against `corpus`, or a standalone container
// when `corpus` is nullptr (options.standalone is then implied, and
// options.standalone_chunking is recorded in the header). Accepts the format's block
// sizes (4 KiB..64 MiB); Compress() narrows that to the documented 64 KiB..64 MiB.
// `segment_size` other than kSegmentSize is for tests (segment edges in small targets).
// Memory: up to threads + 2 segments with their blocks of instructions, and per thread
// the matcher's tables (MatchParams), never the whole input or corpus.
// Does not Commit() `out`.
Result<CompressStats> EncodeContainer(const CorpusReader* corpus, ByteSource& in, ByteSink& out,
                                      const CompressOptions& options,
                                      uint64_t segment_size = kSegmentSize);

}  // namespace reducto

#endif  // REDUCTO_CODEC_ENCODER_H_
