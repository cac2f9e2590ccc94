#include "codec/encoder.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "codec/block_builder.h"
#include "codec/chunk_lookup.h"
#include "codec/container.h"
#include "codec/delta_choice.h"
#include "codec/format.h"
#include "codec/matcher.h"
#include "codec/profiles.h"
#include "codec/target_window.h"
#include "corpus/corpus_handle_access.h"
#include "metrics/metered_io.h"
#include "metrics/phase_timer.h"
#include "reducto/chunker.h"
#include "reducto/digest.h"
#include "reducto/signing.h"
#include "reducto/stream_kind.h"
#include "util/ordered_pipeline.h"

namespace reducto {
namespace {

// The block size range Compress() offers users: smaller blocks are valid containers
// but only cost ratio.
constexpr uint32_t kMinPublicBlockSize = 64u << 10;

// The encoder's target window: the longest run of undecided bytes it holds before
// deciding them without waiting for the next anchor, the lookahead that extensions and
// chunking see past the current chunk, and room to read in large steps.
constexpr uint64_t kMaxGap = 4u << 20;
constexpr uint64_t kLookahead = 1u << 20;
constexpr uint64_t kReadSlack = 2u << 20;
// An extension that ends this far past its chunk makes chunking restart at its end.
constexpr uint64_t kRechunkDistance = 8u << 10;

// The corpus side of the search, while a corpus container is encoded: the corpus's
// bytes, the local search around them, the exact chunk look-up and (max profile) delta
// selection.
struct CorpusSearch {
  CorpusSearch(CorpusView corpus_view, const CorpusReader& corpus, const MatchParams& params,
               int level)
      : view(std::move(corpus_view)), matcher(view, params), lookup(corpus, view) {
    if (params.delta) delta.emplace(corpus, params, level);
  }

  CorpusView view;
  LocalMatcher matcher;
  ChunkLookup lookup;
  std::optional<DeltaChooser> delta;  // When params.delta.
};

class Encoder {
 public:
  Encoder(const CorpusReader* corpus, const CompressOptions& options, const MatchParams& params,
          ByteSink& out)
      : corpus_(corpus),
        options_(options),
        level_(LevelFor(options)),
        metrics_(options.metrics),
        writer_(out),
        params_(params),
        blocks_(writer_, level_, options.block_size, ResolveThreadCount(options.threads), &stats_,
                options.use_observer,
                [this](uint64_t block_bytes) { BlockEnded(block_bytes); }) {
    blocks_.set_metrics(metrics_);
    blocks_.set_code_window(params_.code_window);
  }

  Result<CompressStats> Run(ByteSource& in) {
    ASSIGN_OR_RETURN(ContainerHeader header, MakeHeader());
    RETURN_IF_ERROR(writer_.WriteHeader(header));
    RETURN_IF_ERROR(blocks_.Finish(corpus_ != nullptr ? EncodeChunks(in) : EncodeLiterals(in)));
    Trailer trailer;
    trailer.output_size = stats_.input_bytes;
    trailer.block_count = stats_.blocks;
    trailer.output_digest = blocks_.TargetDigest();
    RETURN_IF_ERROR(writer_.WriteTrailer(trailer));
    stats_.output_bytes = writer_.bytes_written();
    stats_.poor_match = IsPoorMatch(stats_, options_.profile);
    SyncMetrics();
    ReportProgress();
    return stats_;
  }

 private:
  Result<ContainerHeader> MakeHeader() {
    ContainerHeader header;
    header.version = params_.add && corpus_ != nullptr ? format::kVersion4 : format::kVersion3;
    header.level = level_;
    header.block_size = options_.block_size;
    if (corpus_ == nullptr) {
      header.flags = format::kFlagStandalone;
      header.chunking = options_.standalone_chunking;
      stats_.standalone = true;
      return header;
    }
    const CorpusInfo& info = corpus_->info();
    auto id = ParseCorpusId(info.id);
    if (!id.ok()) {
      return Status::Corrupt("the corpus at " + info.path + " has a malformed id (" +
                             id.status().message() + "): rebuild the corpus");
    }
    if (Status s = info.chunking.Validate(); !s.ok()) {
      return Status::Corrupt("the corpus at " + info.path + " has invalid chunking parameters (" +
                             s.message() + "): rebuild the corpus");
    }
    header.chunking = info.chunking;
    header.corpus_id = *id;
    header.manifest_digest = info.manifest_digest;
    stats_.corpus_id = info.id;
    stats_.cache_size = corpus_->cache_bytes();
    ASSIGN_OR_RETURN(stats_.corpus_kind, CorpusKind());
    return header;
  }

  // What the corpus was built from: its pack's first bytes, or tar when a tar header
  // turns up in samples spread over the pack (HoldsTarHeader).
  Result<StreamKind> CorpusKind() {
    const uint64_t size = corpus_->size();
    ASSIGN_OR_RETURN(std::span<const uint8_t> head,
                     corpus_->Read(0, std::min<uint64_t>(size, kStreamKindProbeBytes),
                                   &scratch_));
    StreamKind kind = DetectStreamKind(head);
    if (kind != StreamKind::kOther) return kind;
    for (int i = 0; i < kCorpusKindSamples; ++i) {
      const uint64_t at = size / kCorpusKindSamples * static_cast<uint64_t>(i);
      ASSIGN_OR_RETURN(std::span<const uint8_t> sample,
                       corpus_->Read(at, std::min<uint64_t>(size - at, kCorpusKindSampleBytes),
                                     &scratch_));
      if (HoldsTarHeader(sample)) return StreamKind::kTar;
    }
    return StreamKind::kOther;
  }

  // Corpus containers. Chunks of the target that the corpus holds exactly are anchors;
  // each is extended byte-wise past its edges, and the bytes between anchors go through
  // the local search (MatchParams says how much of this a profile does).
  Status EncodeChunks(ByteSource& in) {
    ASSIGN_OR_RETURN(CorpusView view, CorpusView::Open(*corpus_));
    CorpusSearch search(std::move(view), *corpus_, params_, level_);
    search.lookup.set_metrics(metrics_);
    search_ = &search;
    if (params_.add) blocks_.EnableAdds(&search.view);
    Status encoded = ScanChunks(in);
    blocks_.EnableAdds(nullptr);  // Emits the open region while the view lives.
    stats_.damaged_chunks = search.lookup.damaged_chunks();
    if (search.delta) stats_.damaged_ranges += search.delta->damaged();
    stats_.chunks = search.lookup.lookups();
    stats_.chunks_found = search.lookup.found();
    search_ = nullptr;
    return encoded;
  }

  // Chunks the target and encodes chunk by chunk, then what is left after the last.
  Status ScanChunks(ByteSource& in) {
    const ChunkerParams& chunking = corpus_->info().chunking;
    Chunker chunker(chunking);
    const uint64_t lookahead = std::max<uint64_t>(chunking.max_size, kLookahead);
    TargetWindow window(in, kMaxGap + lookahead + kReadSlack);
    // The loop's first Fill asks for the same bytes: reading is unchanged.
    RETURN_IF_ERROR(window.Fill(0, lookahead));
    stats_.target_kind = DetectStreamKind(
        window.Bytes(0, std::min<uint64_t>(window.end(), kStreamKindProbeBytes)));
    uint64_t cursor = 0;  // Target bytes before it are in blocks.
    uint64_t chunk_start = 0;
    for (;;) {
      RETURN_IF_ERROR(window.Fill(std::min(cursor, chunk_start), chunk_start + lookahead));
      if (chunk_start >= window.end()) break;
      uint64_t gear = 0;
      std::span<const uint8_t> rest = window.Bytes(chunk_start, window.end());
      uint64_t chunk_end = chunk_start;
      {
        PhaseTimer timer(metrics_, Phase::kChunk);
        chunk_end += chunker.FindCut(rest.data(), rest.size(), &gear);
      }
      RETURN_IF_ERROR(EncodeChunk(window, chunk_start, chunk_end, &cursor));
      // Chunking goes on from the chunk's natural end, so that the next chunks are cut
      // where the corpus's were, even when a copy extended into them. After a long
      // extension it restarts where the copy ended instead (cut points realign within a
      // chunk or two), rather than cutting through all the copied bytes.
      chunk_start = cursor > chunk_end + kRechunkDistance ? cursor : chunk_end;
    }
    return EncodeGap(window, cursor, window.end(), std::nullopt);
  }

  // Target [cursor, chunk_end) is undecided; [chunk_start, chunk_end) is the next chunk.
  Status EncodeChunk(const TargetWindow& window, uint64_t chunk_start, uint64_t chunk_end,
                     uint64_t* cursor) {
    if (chunk_end <= *cursor) return Status::Ok();  // Copied already.
    std::span<const uint8_t> chunk = window.Bytes(chunk_start, chunk_end);
    ASSIGN_OR_RETURN(std::optional<uint64_t> found, search_->lookup.Find(chunk));
    if (!found) {
      // Without a local search there is nothing to wait for; otherwise the gap grows
      // until the next anchor, up to kMaxGap.
      if (!params_.resync || chunk_end - *cursor >= kMaxGap) {
        RETURN_IF_ERROR(EncodeGap(window, *cursor, chunk_end, std::nullopt));
        *cursor = chunk_end;
      }
      return Status::Ok();
    }
    // A chunk that a copy reached into continues from where the copy ended.
    uint64_t start = std::max(chunk_start, *cursor);
    uint64_t address = *found + (start - chunk_start);
    if (params_.extend && start == chunk_start) {
      PhaseTimer timer(metrics_, Phase::kMatch);
      uint64_t back = ExtendBackward(search_->view, window.Bytes(*cursor, start), address);
      start -= back;
      address -= back;
    }
    RETURN_IF_ERROR(EncodeGap(window, *cursor, start, address));
    uint64_t end = chunk_end;
    if (params_.extend) {
      PhaseTimer timer(metrics_, Phase::kMatch);
      end += ExtendForward(search_->view, window.Bytes(chunk_end, window.end()),
                           *found + chunk.size());
    }
    RETURN_IF_ERROR(blocks_.Append(window.Bytes(start, end), address));
    last_alignment_ = address - start;
    search_->matcher.NoteCopy(start, address, end - start);
    *cursor = end;
    return Status::Ok();
  }

  // Decides target [from, to) (the local search, then in the max profile delta choice)
  // and appends it to the blocks. `next_address` is the corpus address that byte `to`
  // is copied from, when known.
  Status EncodeGap(const TargetWindow& window, uint64_t from, uint64_t to,
                   std::optional<uint64_t> next_address) {
    if (from >= to) return Status::Ok();
    pieces_.clear();
    {
      PhaseTimer timer(metrics_, Phase::kMatch);
      search_->matcher.set_code(blocks_.BlockIsCode());
      search_->matcher.FillGap(window.Bytes(from, to), from, next_address, &pieces_);
    }
    if (!params_.delta) return AppendPieces(window, pieces_);
    std::optional<uint64_t> next_alignment;
    if (next_address) next_alignment = *next_address - to;
    size_t i = 0;
    while (i < pieces_.size()) {
      if (IsKeptCopy(pieces_[i], params_)) {
        RETURN_IF_ERROR(AppendPiece(window, pieces_[i++]));
        continue;
      }
      // A run: the pieces up to the next kept copy, within one block and delta_max_run.
      const uint64_t cap = std::min<uint64_t>(params_.delta_max_run, blocks_.room());
      const size_t j = EndOfRun(&pieces_, i, cap, params_);
      const std::optional<uint64_t> after =
          j < pieces_.size() ? AlignmentOf(pieces_[j]) : next_alignment;
      RETURN_IF_ERROR(EncodeRun(window, std::span(pieces_).subspan(i, j - i), after));
      i = j;
    }
    return Status::Ok();
  }

  Status AppendPieces(const TargetWindow& window, std::span<const Piece> pieces) {
    for (const Piece& piece : pieces) RETURN_IF_ERROR(AppendPiece(window, piece));
    return Status::Ok();
  }

  Status AppendPiece(const TargetWindow& window, const Piece& piece) {
    auto bytes = window.Bytes(piece.offset, piece.offset + piece.length);
    if (!piece.copy) return blocks_.Append(bytes, std::nullopt);
    last_alignment_ = piece.address - piece.offset;
    return blocks_.Append(bytes, piece.address);
  }

  // Sends a run (pieces with no kept copy; `after`: the alignment of the copy after it)
  // as one DELTA when DeltaChooser finds that smaller, else as its pieces.
  // REQUIRES: the run fits in the current block.
  Status EncodeRun(const TargetWindow& window, std::span<const Piece> run,
                   std::optional<uint64_t> after) {
    const uint64_t start = run.front().offset;
    std::span<const uint8_t> bytes = window.Bytes(start, run.back().offset + run.back().length);
    std::optional<DeltaChoice> delta;
    {
      PhaseTimer timer(metrics_, Phase::kMatch);
      ASSIGN_OR_RETURN(delta, search_->delta->Choose(
                                  run, bytes, {last_alignment_, after, blocks_.BlockIsCode()}));
    }
    if (!delta) return AppendPieces(window, run);
    RETURN_IF_ERROR(
        blocks_.AddDelta(delta->address, delta->reference_length, bytes, delta->payload));
    if (after) last_alignment_ = after;
    return Status::Ok();
  }

  // Standalone containers hold literals only, so the target needs no chunking: it is
  // read a block at a time.
  Status EncodeLiterals(ByteSource& in) {
    std::vector<uint8_t> buffer(options_.block_size);
    for (;;) {
      ASSIGN_OR_RETURN(size_t n, in.ReadFull(buffer));
      if (n == 0) return Status::Ok();
      RETURN_IF_ERROR(blocks_.Append(std::span<const uint8_t>(buffer).first(n), std::nullopt));
      if (n < buffer.size()) return Status::Ok();  // ReadFull stops short only at the end.
    }
  }

  // Each time a block ends: tells the corpus how much of it was read, and reports
  // progress.
  void BlockEnded(uint64_t block_bytes) {
    if (corpus_ != nullptr && corpus_->NoteRead(CorpusBytesRead(block_bytes))) {
      ++stats_.cache_drops;
    }
    SyncMetrics();
    ReportProgress();
  }

  // Adds to the run's metrics what the encoder's counts grew by since the last call:
  // after each block, so that they can be read while the run goes on.
  void SyncMetrics() {
    if (metrics_ == nullptr) return;
    CompressStats now = stats_;
    if (search_ != nullptr) {
      now.chunks = search_->lookup.lookups();
      now.chunks_found = search_->lookup.found();
    }
    metrics_->Add(Counter::kCopyBytes, now.copy_bytes - synced_.copy_bytes);
    metrics_->Add(Counter::kCopies, now.copies - synced_.copies);
    metrics_->Add(Counter::kDeltaBytes, now.delta_bytes - synced_.delta_bytes);
    metrics_->Add(Counter::kDeltas, now.deltas - synced_.deltas);
    metrics_->Add(Counter::kLiteralBytes, now.literal_bytes - synced_.literal_bytes);
    metrics_->Add(Counter::kChunks, now.chunks - synced_.chunks);
    metrics_->Add(Counter::kChunksFound, now.chunks_found - synced_.chunks_found);
    synced_ = std::move(now);
  }

  // Once per block, on the caller's thread (stats_.blocks belongs to the pipeline).
  void ReportProgress() {
    if (options_.progress == nullptr) return;
    Progress progress;
    progress.input_bytes = stats_.input_bytes;
    progress.output_bytes = blocks_.ended_bytes();
    progress.blocks = blocks_.ended_blocks();
    options_.progress->OnProgress(progress);
  }

  // The corpus bytes read since the previous block, about: copies, extensions and delta
  // references read at most twice the block's size, and the local search what it
  // indexed.
  uint64_t CorpusBytesRead(uint64_t block_bytes) {
    uint64_t read = 2 * block_bytes;
    if (search_ != nullptr) {
      // A fine index look-up reads a bucket (and maps its page when read through the
      // mapping).
      const LocalMatcher::Stats& searched = search_->matcher.stats();
      const uint64_t indexed = searched.indexed_bytes + kFineBucketSize * searched.fine_lookups;
      read += indexed - indexed_bytes_noted_;
      indexed_bytes_noted_ = indexed;
    }
    return read;
  }

  const CorpusReader* corpus_;
  const CompressOptions& options_;
  const int level_;  // options_.level, or the profile's default.
  RunMetrics* const metrics_;  // options_.metrics: may be nullptr.
  CompressStats stats_;  // `blocks` belongs to WriteBlock until the pipeline finished.
  CompressStats synced_;       // The counts SyncMetrics last added to metrics_.
  ContainerWriter writer_;
  MatchParams params_;
  std::optional<uint64_t> last_alignment_;  // Corpus address - target offset of the last copy.
  std::vector<uint8_t> scratch_;  // For CorpusKind's reads.
  CorpusSearch* search_ = nullptr;  // While EncodeChunks runs.
  std::vector<Piece> pieces_;       // The current gap's, from the local search.
  // The matcher's indexed bytes and fine look-ups (as CorpusBytesRead counts them) at
  // the last block.
  uint64_t indexed_bytes_noted_ = 0;
  // Last: destroyed first, so that its workers stop before the state they use goes.
  BlockPipeline blocks_;
};

Status ValidateOptions(const CompressOptions& options, uint32_t min_block_size) {
  int level = LevelFor(options);
  if (level < format::kMinLevel || level > format::kMaxLevel) {
    return Status::InvalidArgument("zstd level " + std::to_string(level) +
                                   " is out of range: pass a level from 1 (fastest) to 22 "
                                   "(smallest output)");
  }
  if (options.block_size < min_block_size || options.block_size > format::kMaxBlockSize) {
    return Status::InvalidArgument("block size " + std::to_string(options.block_size) +
                                   " is out of range: pass a block size from " +
                                   std::to_string(min_block_size >> 10) + "K to 64M");
  }
  return Status::Ok();
}

}  // namespace

Result<CompressStats> EncodeContainer(const CorpusReader* corpus, ByteSource& in, ByteSink& out,
                                      const CompressOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options, format::kMinBlockSize));
  if (corpus == nullptr) {
    if (Status s = options.standalone_chunking.Validate(); !s.ok()) {
      return s.WithContext("standalone chunking parameters");
    }
  }
  MatchParams params = ParamsFor(options.profile);
  RETURN_IF_ERROR(ValidateMatchParams(params));
  if (options.metrics != nullptr) {
    MeteredSource metered_in(in, options.metrics, Counter::kOriginalBytes);
    MeteredSink metered_out(out, options.metrics, Counter::kContainerBytes);
    Encoder encoder(corpus, options, params, metered_out);
    return encoder.Run(metered_in);
  }
  Encoder encoder(corpus, options, params, out);
  return encoder.Run(in);
}

bool IsPoorMatch(const CompressStats& stats, Profile profile) {
  if (stats.standalone || stats.input_bytes == 0) return false;
  const double literal_share =
      static_cast<double>(stats.literal_bytes) / static_cast<double>(stats.input_bytes);
  if (profile != Profile::kFast && literal_share > kPoorMatchLiteralShare) return true;
  const bool tar_against_files =
      stats.target_kind == StreamKind::kTar && stats.corpus_kind != StreamKind::kTar;
  return tar_against_files && literal_share > kPoorTarMatchLiteralShare;
}

namespace {

// The trust rules of `options`, checked against an open corpus.
Status CheckCorpusRules(const Corpus& corpus, const CompressOptions& options) {
  RETURN_IF_ERROR(CheckCorpusTrust(corpus.info(), options.trusted_keys));
  if (options.corpus_policy) RETURN_IF_ERROR(options.corpus_policy(corpus.info()));
  return Status::Ok();
}

}  // namespace

Result<CompressStats> Compress(const Corpus& corpus, ByteSource& in, ByteSink& out,
                               const CompressOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options, kMinPublicBlockSize));
  if (options.standalone) return EncodeContainer(nullptr, in, out, options);
  RETURN_IF_ERROR(CheckCorpusRules(corpus, options));
  return EncodeContainer(&ReaderOf(corpus), in, out, options);
}

Result<CompressStats> CompressStandalone(ByteSource& in, ByteSink& out,
                                         const CompressOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options, kMinPublicBlockSize));
  return EncodeContainer(nullptr, in, out, options);
}

Result<CompressStats> Compress(const std::string& corpus_dir, ByteSource& in, ByteSink& out,
                               const CompressOptions& options) {
  if (options.standalone) return CompressStandalone(in, out, options);
  RETURN_IF_ERROR(ValidateOptions(options, kMinPublicBlockSize));
  CorpusOpenOptions open{options.cache_size, options.corpus_key, options.trusted_keys,
                         options.corpus_policy};
  ASSIGN_OR_RETURN(CorpusHandle corpus,
                   OpenCorpusOrFallBack(corpus_dir, open, options.fallback_to_standalone));
  if (corpus) return EncodeContainer(&ReaderOf(*corpus), in, out, options);
  ASSIGN_OR_RETURN(CompressStats stats, CompressStandalone(in, out, options));
  stats.fell_back = true;
  return stats;
}

}  // namespace reducto
