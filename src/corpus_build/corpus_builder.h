// The pieces of BuildCorpus (reducto/corpus.h) that every way of making a corpus
// shares: the chunking check, the expansion of inputs, and CorpusBuilder, which fills
// one corpus directory (pack, index, manifest) for CorpusStaging to publish.
//
// Thread safety: a CorpusBuilder is used by one thread.
#ifndef REDUCTO_CORPUS_BUILD_CORPUS_BUILDER_H_
#define REDUCTO_CORPUS_BUILD_CORPUS_BUILDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "corpus/chunk_index.h"
#include "corpus_build/pack_writer.h"
#include "storage/local_directory_storage.h"
#include "reducto/chunker.h"
#include "reducto/corpus.h"
#include "reducto/signing.h"
#include "reducto/digest.h"
#include "reducto/status.h"

namespace reducto {

// InvalidArgument unless `params` is valid and its average is in the corpus range.
Status ValidateCorpusChunking(const ChunkerParams& params);

struct CorpusInput {
  std::string path;  // "-" for stdin.
};

// The inputs in build order (docs/corpus.md, "Building and publishing", step 1): files
// as themselves, directories as their regular files (recursive, sorted byte-wise,
// skipping `out_dir`), "-" at most once. InvalidArgument when `inputs` is empty;
// NotFound / Permission naming an input that cannot be read.
Result<std::vector<CorpusInput>> ExpandCorpusInputs(const std::vector<std::string>& inputs,
                                                    const std::string& out_dir);

class CorpusReader;

// Fills one corpus directory: its pack segment, the index, then the manifest. With a
// parent, the chunks that the parent's chain holds are only counted, the new segment
// starts where the parent's address space ends, and the manifest lists the parent's
// segments first (docs/corpus.md, "Versions").
class CorpusBuilder {
 public:
  // Whether a chunk is stored. Asked for every chunk of the inputs, before the index is
  // consulted, so also for chunks already stored (say yes again to keep them). Chunks it
  // refuses still count in the manifest's input_bytes and chunk_count, which describe
  // the inputs.
  using ChunkFilter = std::function<Result<bool>(const Digest& digest, uint32_t length)>;

  // `dir` exists and is empty. Without `keep`, every distinct chunk is stored.
  // REQUIRES: `parent`, when not null, outlives the builder and chunks with `params`.
  // With `keys` (which must outlive the builder; its data-key file already in `dir`),
  // the corpus is encrypted. REQUIRES: not both `parent` and `keys`.
  CorpusBuilder(std::string dir, const ChunkerParams& params, ChunkFilter keep = nullptr,
                const CorpusReader* parent = nullptr, const CorpusKeys* keys = nullptr);

  // Whether Finish() writes a fine index for the new segment (docs/corpus.md, "Fine
  // index"); on by default, never for an encrypted corpus.
  void set_fine_index(bool on) { fine_index_ = on; }
  // When set (not owned), told the input and pack bytes every kProgressInterval bytes of
  // input, and once more by ReportProgress().
  void set_progress(ProgressObserver* progress) { progress_ = progress; }
  void ReportProgress();

  Status Start();
  // Each input is chunked on its own: a file's end is always a chunk's end.
  Status AddInput(const CorpusInput& input);
  // Stores `bytes` as one chunk unless the filter refuses it or an identical chunk is
  // stored already; counted in the manifest's chunk_count and input_bytes either way.
  Status AddChunk(std::span<const uint8_t> bytes);
  // Completes the files and writes manifest.json, everything fsynced.
  Status Finish();

 private:
  std::string OwnSegmentFile() const;
  uint32_t OwnSegmentNumber() const;
  uint64_t OwnSegmentBase() const;
  Result<std::optional<FineIndexFile>> WriteOwnFineIndex();
  Result<PieceTableFile> WriteOwnPieceTable();
  static void InheritSegments(const CorpusInfo& parent, CorpusInfo* info);

  std::string dir_;
  // dir_, through which the manifest and the fine index are published and the pack is
  // read back; the pack and the index are written as files (streamed; RocksDB).
  LocalDirectoryStorage storage_;
  ChunkerParams params_;
  ChunkFilter keep_;
  const CorpusReader* parent_;
  const CorpusKeys* keys_;
  std::unique_ptr<PackWriter> pack_;
  std::unique_ptr<ChunkIndexWriter> index_;
  std::vector<ChunkCandidate> candidates_;
  uint64_t input_bytes_ = 0;
  uint64_t chunk_count_ = 0;
  uint64_t unique_chunks_ = 0;
  bool fine_index_ = true;
  ProgressObserver* progress_ = nullptr;
  uint64_t next_progress_ = 0;  // input_bytes_ at which to report next.
};

// Creates a CorpusStaging beside `out` (REQUIRES: `out` passed CheckCorpusDestination),
// lets `fill` add the chunks to a builder there (on top of `parent` when not null),
// finishes and publishes it signed by `sign_keys`, encrypted when `encrypt_key` is
// given (REQUIRES: then no `parent`), with a fine index unless `fine_index` is false.
// Nothing is left behind on error.
Result<CorpusInfo> BuildAndPublishCorpus(const std::string& out, bool overwrite,
                                         const ChunkerParams& params,
                                         const std::vector<SecretKey>& sign_keys,
                                         const std::function<Status(CorpusBuilder&)>& fill,
                                         const CorpusReader* parent = nullptr,
                                         const EnvelopeKey* encrypt_key = nullptr,
                                         bool fine_index = true);

}  // namespace reducto

#endif  // REDUCTO_CORPUS_BUILD_CORPUS_BUILDER_H_
