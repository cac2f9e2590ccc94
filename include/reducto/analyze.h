// EXPERIMENTAL (docs/api.md): new; its estimates and settings may still change.
//
// A dry run of Compress (`reducto analyze`, docs/monitoring.md, "reducto analyze"):
// compresses evenly spread windows of a file with the real encoder into a sink that
// only counts, and extrapolates the ratio, the shares of copied, delta-encoded and
// literal bytes, the compress time and what a receiver without the corpus would fetch.
// Nothing is written; the corpus is only read.
//
// Thread safety: as Compress: each call is independent; calls may share a corpus.
#ifndef REDUCTO_ANALYZE_H_
#define REDUCTO_ANALYZE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "reducto/codec.h"
#include "reducto/corpus_handle.h"
#include "reducto/status.h"

namespace reducto {

struct AnalyzeOptions {
  // Profile, level, block size, threads and trust rules, as the real run would use them.
  // use_observer and progress are the analysis's own and are ignored.
  CompressOptions compress;
  // How much of the input to compress: `sample_bytes` when set, else `sample_fraction`
  // of the input, and never less than `min_sample_bytes`. A sample of half the input or
  // more is the whole input, which predicts the real run exactly.
  uint64_t sample_bytes = 0;
  double sample_fraction = 0.05;
  uint64_t min_sample_bytes = 4u << 20;
  // The size of each window. Windows sit in the middle of equal strides of the input, so
  // every part of it is represented. The new bytes of a version cluster (a changed
  // table, new files in an image), so many small windows predict far better than a few
  // large ones (2 MiB windows missed by 75-340% on the benchmark pairs, 128 KiB ones by
  // 1-17%); below 64 KiB the matches lost at each window's edges bias the ratio low.
  // Profile::kFast, which copies whole chunks only, uses windows of at least 128
  // average chunks of the corpus (1 MiB for 8 KiB chunks) for the same reason.
  uint64_t window_bytes = 128u << 10;
};

// What a real Compress of one input would give, predicted from its sample.
struct AnalyzeReport {
  std::string input;             // The path analysed.
  uint64_t input_bytes = 0;
  // The sample: exact figures of the windows actually compressed.
  uint64_t sample_bytes = 0;
  uint64_t windows = 0;
  bool whole_input = false;      // The sample was the whole input: the figures are exact.
  uint64_t sample_container_bytes = 0;
  double sample_seconds = 0;     // Wall time of compressing the windows.
  // Bytes of a container that holds no block (header and trailer), and the framing one
  // block adds: counted once (and per block of the whole input) in the prediction, not
  // once per window (and per block of the windows).
  uint64_t fixed_container_bytes = 0;
  uint64_t block_container_bytes = 0;

  // Predicted for the whole input.
  uint64_t container_bytes = 0;
  uint64_t copy_bytes = 0;
  uint64_t delta_bytes = 0;
  uint64_t literal_bytes = 0;
  // The encoder's set-up once (the time of a run on one byte), plus sample_seconds
  // less that set-up for each window, scaled by input_bytes / sample_bytes: past its
  // set-up the encoder's cost is per byte. Opening the corpus is not counted.
  double compress_seconds = 0;

  // A receiver without the corpus (docs/repositories.md, "Fetching"): the pack pieces
  // covering the corpus ranges the container reads. The sample's pieces are counted
  // exactly; the whole input's are the sample's scaled by input_bytes / sample_bytes and
  // capped at the pieces of the corpus, an estimate (exact when whole_input).
  uint64_t piece_size = 0;            // Of the corpus's first segment (64 KiB by default).
  uint64_t corpus_pieces = 0;         // All pieces of the corpus's pack.
  uint64_t corpus_bytes = 0;          // All bytes of the pack (its address space).
  uint64_t sample_pieces = 0;         // Distinct pieces the sample's containers read.
  uint64_t fetch_pieces = 0;
  uint64_t fetch_piece_bytes = 0;     // Those pieces' bytes, uncompressed.
  // The same compressed as a repository stores them (`pack/NNNNNN.pz`, zstd level 9, the
  // publisher's default): their uncompressed bytes times the ratio measured on up to
  // kFetchSamplePieces of the sample's pieces. An estimate.
  uint64_t fetch_packed_bytes = 0;
  // What a receiver fetches besides the pieces: manifest.json, the piece tables and the
  // packed-piece indexes of the segments.
  uint64_t fetch_metadata_bytes = 0;

  double seconds = 0;            // The whole analysis of this input.

  double ratio() const;          // input_bytes / container_bytes (0 when empty).
  double hit_rate() const;       // copy_bytes / input_bytes: found verbatim in the corpus.
  double coverage() const;       // (copy_bytes + delta_bytes) / input_bytes.
  double literal_share() const;  // literal_bytes / input_bytes.
};

// The most of the sample's referenced pieces compressed to estimate fetch_packed_bytes.
inline constexpr uint64_t kFetchSamplePieces = 32;

// Predicts Compress(corpus, <the file at path>, ...) with options.compress. `path` must
// name a regular file (a dry run reads windows of it and must not consume a stream):
// InvalidArgument for "-", a pipe or a directory, and for an empty file; NotFound /
// Permission / Io as reading it. The corpus must pass options.compress's trust rules and
// corpus_policy (Permission otherwise), as for Compress.
Result<AnalyzeReport> Analyze(const Corpus& corpus, const std::string& path,
                              const AnalyzeOptions& options);

// The sum of several inputs' reports, as if each were compressed into its own container
// ("total" as its input; whole_input when every one was). Fetch figures are summed and
// capped at the corpus's pack: inputs that read the same pieces overcount.
AnalyzeReport SumReports(const std::vector<AnalyzeReport>& reports);

}  // namespace reducto

#endif  // REDUCTO_ANALYZE_H_
