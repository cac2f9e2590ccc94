// Writing a corpus directory chunk by chunk, and publishing it (docs/corpus.md,
// "Building and publishing"). BuildCorpus feeds it its inputs; PruneCorpus feeds it the
// chunks it keeps.
//
// Thread safety: a CorpusBuilder is used by one thread.
#ifndef REDUCTO_CORPUS_CORPUS_BUILDER_H_
#define REDUCTO_CORPUS_CORPUS_BUILDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "corpus/chunk_index.h"
#include "corpus/pack_writer.h"
#include "reducto/chunker.h"
#include "reducto/corpus.h"
#include "reducto/signing.h"
#include "reducto/status.h"

namespace reducto {

// Fills one corpus directory: the first pack segment, the index, then the manifest.
class CorpusBuilder {
 public:
  // `dir` exists and is empty (a CorpusStaging directory).
  CorpusBuilder(std::string dir, const ChunkerParams& params);
  ~CorpusBuilder();
  CorpusBuilder(const CorpusBuilder&) = delete;
  CorpusBuilder& operator=(const CorpusBuilder&) = delete;

  // Creates the pack segment and the index. First.
  Status Start();
  // Chunks the file (or "-", stdin) on its own: its end is always a chunk's end.
  Status AddInput(const std::string& path);
  // Stores `bytes` as one chunk unless an identical chunk is stored already; counted in
  // the manifest's chunk_count and input_bytes either way.
  Status AddChunk(std::span<const uint8_t> bytes);
  // Completes the files and writes manifest.json (parent null), everything fsynced.
  Status Finish();

 private:
  std::string dir_;
  ChunkerParams params_;
  std::unique_ptr<PackWriter> pack_;
  std::unique_ptr<ChunkIndexWriter> index_;
  std::vector<ChunkCandidate> candidates_;
  uint64_t input_bytes_ = 0;
  uint64_t chunk_count_ = 0;
  uint64_t unique_chunks_ = 0;
};

// Creates a CorpusStaging beside `out` (REQUIRES: `out` passed CheckCorpusDestination),
// lets `fill` add the chunks to a builder there, finishes and publishes it signed by
// `sign_keys`. Nothing is left behind on error.
Result<CorpusInfo> BuildAndPublishCorpus(const std::string& out, bool overwrite,
                                         const ChunkerParams& params,
                                         const std::vector<SecretKey>& sign_keys,
                                         const std::function<Status(CorpusBuilder&)>& fill);

}  // namespace reducto

#endif  // REDUCTO_CORPUS_CORPUS_BUILDER_H_
