// The decoder: validates a container (docs/format.md) record by record, rebuilds each
// block from its instructions and the corpus, and releases a block's bytes only after
// their BLAKE3 matched. Decompress() in reducto/codec.h resolves the corpus from a
// directory and calls DecodeContainer.
//
// Thread safety: each call is independent; the corpus is only read.
#ifndef REDUCTO_CODEC_DECODER_H_
#define REDUCTO_CODEC_DECODER_H_

#include <functional>

#include "codec/container.h"
#include "corpus/corpus_reader.h"
#include "reducto/codec.h"
#include "reducto/io.h"
#include "reducto/status.h"

namespace reducto {

// Supplies the corpus that a verified header names. Called at most once, only for a
// container that needs a corpus; the reader must stay valid until DecodeContainer
// returns. The decoder itself checks that the reader's id and manifest digest are the
// header's, so a resolver cannot hand over the wrong corpus by mistake.
using HeaderCorpusSource = std::function<Result<const CorpusReader*>(const ContainerHeader& header)>;

// Decodes the container in `in` to `out`. Returns OK only when every block and the
// trailer verified and nothing follows the trailer; on error, `out` may hold verified
// blocks of an incomplete output, which the caller must discard (a file sink that is
// not committed removes itself). Blocks are rebuilt on `threads` threads (the
// caller's included; 0: one per core) and written in order. Memory: about 3 x the
// header's block size per thread, plus the same again per block waiting to be written.
// `max_output` (0: none) bounds the output as DecompressOptions::max_output; `metrics`
// (may be nullptr) gets the counts and phase times as DecompressOptions::metrics. Does
// not Commit() `out`.
Result<DecompressStats> DecodeContainer(ByteSource& in, ByteSink& out,
                                        const HeaderCorpusSource& resolve, int threads = 1,
                                        uint64_t max_output = 0,
                                        ProgressObserver* progress = nullptr,
                                        RunMetrics* metrics = nullptr);

}  // namespace reducto

#endif  // REDUCTO_CODEC_DECODER_H_
