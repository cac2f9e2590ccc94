#include "codec/encoder.h"

#include <algorithm>
#include <memory>
#include <mutex>
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
#include "corpus/corpus_handle_access.h"
#include "metrics/metered_io.h"
#include "metrics/phase_timer.h"
#include "reducto/chunker.h"
#include "reducto/digest.h"
#include "reducto/progress.h"
#include "reducto/signing.h"
#include "reducto/stream_kind.h"
#include "util/large_buffer.h"
#include "util/ordered_pipeline.h"

namespace reducto {
namespace {

// Every container the encoder writes: the latest, version 6 (its trailer digest, of the
// blocks' digests, needs no second pass over the target; its ADDs predict displacements
// through regions, as BlockBuilder and DeltaChooser encode them).
constexpr uint16_t kWrittenVersion = format::kLatestVersion;

// The block size range Compress() offers users: smaller blocks are valid containers
// but only cost ratio.
constexpr uint32_t kMinPublicBlockSize = 64u << 10;

// The longest run of undecided bytes the encoder holds before deciding them without
// waiting for the next anchor.
constexpr uint64_t kMaxGap = 4u << 20;
// An extension that ends this far past its chunk makes chunking restart at its end.
constexpr uint64_t kRechunkDistance = 8u << 10;

// `segment_size` rounded up to whole blocks.
uint64_t SegmentSizeFor(uint64_t segment_size, uint32_t block_size) {
  return (std::max<uint64_t>(segment_size, block_size) + block_size - 1) / block_size *
         block_size;
}

// Records the corpus ranges a segment's instructions use, for the caller's observer.
class UseLog final : public CorpusUseObserver {
 public:
  void OnUse(uint64_t address, uint64_t length) override { uses.emplace_back(address, length); }
  std::vector<std::pair<uint64_t, uint64_t>> uses;
};

// One segment of the target on its way through the pipeline: its bytes, then its
// blocks and counts.
struct SegmentJob {
  uint64_t offset = 0;          // Of its first byte in the target.
  LargeBuffer target;  // The segment's bytes are target.span()[0, size).
  size_t size = 0;
  std::vector<BlockJob> blocks;  // blocks[0, block_count) are the segment's.
  size_t block_count = 0;
  CompressStats counts;      // Bytes, instructions and chunks of the segment.
  UseLog uses;
};

// Adds the counts of a segment to those of the run.
void AddCounts(const CompressStats& segment, CompressStats* run) {
  run->input_bytes += segment.input_bytes;
  run->copy_bytes += segment.copy_bytes;
  run->literal_bytes += segment.literal_bytes;
  run->delta_bytes += segment.delta_bytes;
  run->deltas += segment.deltas;
  run->copies += segment.copies;
  run->chunks += segment.chunks;
  run->chunks_found += segment.chunks_found;
  run->damaged_chunks += segment.damaged_chunks;
  run->damaged_ranges += segment.damaged_ranges;
  run->cache_drops += segment.cache_drops;
}

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

// Matches segments of the target, one at a time, on one thread: each from the same
// fresh state (LocalMatcher::Reset, DeltaChooser::Reset, a new BlockSequence builder).
class SegmentEncoder {
 public:
  // `corpus` nullptr: literals only (standalone containers).
  SegmentEncoder(const CorpusReader* corpus, const MatchParams& params, int level,
                 uint32_t block_size, RunMetrics* metrics)
      : corpus_(corpus), params_(params), level_(level), metrics_(metrics),
        blocks_(block_size, &counts_) {
    blocks_.set_metrics(metrics);
    blocks_.set_code_window(params.code_window);
  }

  // Opens the corpus view the searches read.
  Status Open() {
    if (corpus_ == nullptr) return Status::Ok();
    ASSIGN_OR_RETURN(CorpusView view, CorpusView::Open(*corpus_));
    search_.emplace(std::move(view), *corpus_, params_, level_);
    search_->lookup.set_metrics(metrics_);
    if (params_.add) blocks_.set_adds(&search_->view);
    return Status::Ok();
  }

  // Decides job->target[0, size) into job->blocks, and sets job's counts.
  Status Encode(SegmentJob* job, bool observed) {
    counts_ = CompressStats();
    job->uses.uses.clear();
    blocks_.Start(&job->blocks, &job->block_count, observed ? &job->uses : nullptr);
    block_count_ = &job->block_count;
    target_ = job->target.span().first(job->size);
    base_ = job->offset;
    last_alignment_.reset();
    if (search_) {
      RETURN_IF_ERROR(EncodeChunks());
    } else {
      blocks_.Append(target_, std::nullopt);
    }
    blocks_.Finish();
    NoteCorpusRead();
    job->counts = counts_;
    return Status::Ok();
  }

 private:
  // Corpus containers. Chunks of the target that the corpus holds exactly are anchors;
  // each is extended byte-wise past its edges, and the bytes between anchors go through
  // the local search (MatchParams says how much of this a profile does).
  Status EncodeChunks() {
    search_->matcher.Reset();
    if (search_->delta) search_->delta->Reset();
    noted_blocks_ = noted_read_ = 0;
    const uint64_t lookups = search_->lookup.lookups(), found = search_->lookup.found();
    const uint64_t damaged_chunks = search_->lookup.damaged_chunks();
    const uint64_t damaged_ranges = search_->delta ? search_->delta->damaged() : 0;
    RETURN_IF_ERROR(ScanChunks(base_, base_ + target_.size()));
    counts_.chunks = search_->lookup.lookups() - lookups;
    counts_.chunks_found = search_->lookup.found() - found;
    counts_.damaged_chunks = search_->lookup.damaged_chunks() - damaged_chunks;
    if (search_->delta) counts_.damaged_ranges = search_->delta->damaged() - damaged_ranges;
    return Status::Ok();
  }

  // Chunks target [begin, end) and encodes chunk by chunk, then what is left after the
  // last.
  Status ScanChunks(uint64_t begin, uint64_t end) {
    Chunker chunker(corpus_->info().chunking);
    uint64_t cursor = begin;  // Target bytes before it are in blocks.
    uint64_t chunk_start = begin;
    while (chunk_start < end) {
      uint64_t gear = 0;
      std::span<const uint8_t> rest = Bytes(chunk_start, end);
      uint64_t chunk_end = chunk_start;
      {
        PhaseTimer timer(metrics_, Phase::kChunk);
        chunk_end += chunker.FindCut(rest.data(), rest.size(), &gear);
      }
      RETURN_IF_ERROR(EncodeChunk(chunk_start, chunk_end, end, &cursor));
      NoteBlocksRead();
      // Chunking goes on from the chunk's natural end, so that the next chunks are cut
      // where the corpus's were, even when a copy extended into them. After a long
      // extension it restarts where the copy ended instead (cut points realign within a
      // chunk or two), rather than cutting through all the copied bytes.
      chunk_start = cursor > chunk_end + kRechunkDistance ? cursor : chunk_end;
    }
    return EncodeGap(cursor, end, std::nullopt);
  }

  // Target bytes [from, to). REQUIRES: within the segment.
  std::span<const uint8_t> Bytes(uint64_t from, uint64_t to) const {
    return target_.subspan(from - base_, to - from);
  }

  // Target [cursor, chunk_end) is undecided; [chunk_start, chunk_end) is the next chunk.
  // Copies extend up to `end`.
  Status EncodeChunk(uint64_t chunk_start, uint64_t chunk_end, uint64_t end, uint64_t* cursor) {
    if (chunk_end <= *cursor) return Status::Ok();  // Copied already.
    std::span<const uint8_t> chunk = Bytes(chunk_start, chunk_end);
    ASSIGN_OR_RETURN(std::optional<uint64_t> found, search_->lookup.Find(chunk));
    if (!found) {
      // Without a local search there is nothing to wait for; otherwise the gap grows
      // until the next anchor, up to kMaxGap.
      if (!params_.resync || chunk_end - *cursor >= kMaxGap) {
        RETURN_IF_ERROR(EncodeGap(*cursor, chunk_end, std::nullopt));
        *cursor = chunk_end;
      }
      return Status::Ok();
    }
    // A chunk that a copy reached into continues from where the copy ended.
    uint64_t start = std::max(chunk_start, *cursor);
    uint64_t address = *found + (start - chunk_start);
    if (params_.extend && start == chunk_start) {
      PhaseTimer timer(metrics_, Phase::kMatch);
      uint64_t back = ExtendBackward(search_->view, Bytes(*cursor, start), address);
      start -= back;
      address -= back;
    }
    RETURN_IF_ERROR(EncodeGap(*cursor, start, address));
    uint64_t copy_end = chunk_end;
    if (params_.extend) {
      PhaseTimer timer(metrics_, Phase::kMatch);
      copy_end += ExtendForward(search_->view, Bytes(chunk_end, end), *found + chunk.size());
    }
    blocks_.Append(Bytes(start, copy_end), address);
    last_alignment_ = address - start;
    search_->matcher.NoteCopy(start, address, copy_end - start);
    *cursor = copy_end;
    return Status::Ok();
  }

  // Decides target [from, to) (the local search, then in the max profile delta choice)
  // and appends it to the blocks. `next_address` is the corpus address that byte `to`
  // is copied from, when known.
  Status EncodeGap(uint64_t from, uint64_t to, std::optional<uint64_t> next_address) {
    if (from >= to) return Status::Ok();
    pieces_.clear();
    {
      PhaseTimer timer(metrics_, Phase::kMatch);
      search_->matcher.set_code(blocks_.BlockIsCode());
      search_->matcher.FillGap(Bytes(from, to), from, next_address, &pieces_);
    }
    if (!params_.delta) return AppendPieces(pieces_);
    std::optional<uint64_t> next_alignment;
    if (next_address) next_alignment = *next_address - to;
    size_t i = 0;
    while (i < pieces_.size()) {
      if (IsKeptCopy(pieces_[i], params_)) {
        AppendPiece(pieces_[i++]);
        continue;
      }
      // A run: the pieces up to the next kept copy, within one block and delta_max_run.
      const uint64_t cap = std::min<uint64_t>(params_.delta_max_run, blocks_.room());
      const size_t j = EndOfRun(&pieces_, i, cap, params_);
      const std::optional<uint64_t> after =
          j < pieces_.size() ? AlignmentOf(pieces_[j]) : next_alignment;
      RETURN_IF_ERROR(EncodeRun(std::span(pieces_).subspan(i, j - i), after));
      i = j;
    }
    return Status::Ok();
  }

  Status AppendPieces(std::span<const Piece> pieces) {
    for (const Piece& piece : pieces) AppendPiece(piece);
    return Status::Ok();
  }

  void AppendPiece(const Piece& piece) {
    auto bytes = Bytes(piece.offset, piece.offset + piece.length);
    if (!piece.copy) return blocks_.Append(bytes, std::nullopt);
    last_alignment_ = piece.address - piece.offset;
    blocks_.Append(bytes, piece.address);
  }

  // Sends a run (pieces with no kept copy; `after`: the alignment of the copy after it)
  // as one DELTA when DeltaChooser finds that smaller, else as its pieces.
  // REQUIRES: the run fits in the current block.
  Status EncodeRun(std::span<const Piece> run, std::optional<uint64_t> after) {
    const uint64_t start = run.front().offset;
    std::span<const uint8_t> bytes = Bytes(start, run.back().offset + run.back().length);
    std::optional<DeltaChoice> delta;
    {
      PhaseTimer timer(metrics_, Phase::kMatch);
      ASSIGN_OR_RETURN(delta, search_->delta->Choose(
                                  run, bytes, {last_alignment_, after, blocks_.BlockIsCode()}));
    }
    if (!delta) return AppendPieces(run);
    blocks_.AddDelta(delta->address, delta->reference_length, bytes, delta->payload);
    if (after) last_alignment_ = after;
    return Status::Ok();
  }

  // Tells the corpus what the segment read since the last call (CorpusReader::NoteRead
  // keeps the mapped pack pages within the cache): once per ended block, and at the end.
  void NoteBlocksRead() {
    if (*block_count_ == noted_blocks_) return;
    noted_blocks_ = *block_count_;
    NoteCorpusRead();
  }

  void NoteCorpusRead() {
    if (corpus_ == nullptr) return;
    const uint64_t read = CorpusBytesRead();
    if (corpus_->NoteRead(read - noted_read_)) ++counts_.cache_drops;
    noted_read_ = read;
  }

  // The corpus bytes the segment read so far, about: copies, extensions and delta
  // references read at most twice the bytes decided, and the local search what it
  // indexed (a fine index look-up reads a bucket, and maps its page when read through
  // the mapping).
  uint64_t CorpusBytesRead() const {
    uint64_t read = 2 * counts_.input_bytes;
    if (search_) {
      const LocalMatcher::Stats& searched = search_->matcher.stats();
      read += searched.indexed_bytes + kFineBucketSize * searched.fine_lookups;
    }
    return read;
  }

  const CorpusReader* corpus_;
  const MatchParams params_;
  const int level_;
  RunMetrics* const metrics_;
  CompressStats counts_;  // The current segment's.
  BlockSequence blocks_;
  std::optional<CorpusSearch> search_;  // For corpus containers, once Open.
  size_t* block_count_ = nullptr;       // The current segment's ended blocks.
  size_t noted_blocks_ = 0;              // Those, and the corpus bytes read, that
  uint64_t noted_read_ = 0;              // NoteBlocksRead last told the corpus.
  std::span<const uint8_t> target_;     // The current segment's bytes,
  uint64_t base_ = 0;                   // and the target offset of its first.
  std::optional<uint64_t> last_alignment_;  // Corpus address - target offset of the last copy.
  std::vector<Piece> pieces_;               // The current gap's, from the local search.
};

// What the workers' deliveries leave for the caller's thread, which alone may call the
// observers (reducto/progress.h, CorpusUseObserver).
struct CallerReports {
  std::mutex mutex;
  std::vector<std::pair<uint64_t, uint64_t>> uses;
  Progress progress;
};

class Encoder {
 public:
  Encoder(const CorpusReader* corpus, const CompressOptions& options, const MatchParams& params,
          uint64_t segment_size, ByteSink& out)
      : corpus_(corpus),
        options_(options),
        level_(LevelFor(options)),
        metrics_(options.metrics),
        threads_(ResolveThreadCount(options.threads)),
        segment_size_(SegmentSizeFor(segment_size, options.block_size)),
        writer_(out),
        params_(params),
        stream_(writer_, level_, &stats_),
        encoders_(static_cast<size_t>(threads_)) {
    stream_.set_metrics(metrics_);
  }

  Result<CompressStats> Run(ByteSource& in) {
    ASSIGN_OR_RETURN(ContainerHeader header, MakeHeader());
    RETURN_IF_ERROR(writer_.WriteHeader(header));
    RETURN_IF_ERROR(EncodeSegments(in));
    Trailer trailer;
    trailer.output_size = stats_.input_bytes;
    trailer.block_count = stats_.blocks;
    trailer.output_digest = output_digest_.Final();
    RETURN_IF_ERROR(writer_.WriteTrailer(trailer));
    stats_.output_bytes = writer_.bytes_written();
    stats_.poor_match = IsPoorMatch(stats_, options_.profile);
    SyncMetrics();
    ReportToCaller();
    if (!reported_) ReportProgress(ProgressNow());  // An empty target.
    return stats_;
  }

 private:
  Result<ContainerHeader> MakeHeader() {
    ContainerHeader header;
    header.version = kWrittenVersion;
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

  // Reads the target a segment at a time and hands the segments to an OrderedPipeline:
  // `threads_` workers match them (the caller's thread only reads, with one thread it
  // does everything), and the blocks are compressed and written in target order.
  Status EncodeSegments(ByteSource& in) {
    const int pipeline_threads = threads_ > 1 ? threads_ + 1 : 1;
    OrderedPipeline<SegmentJob> pipeline(
        pipeline_threads, [this](SegmentJob& job, int worker) { return Match(job, worker); },
        [this](SegmentJob& job) { return Deliver(job); },
        static_cast<size_t>(threads_ + 1));
    Status read = ReadSegments(in, pipeline);
    Status matched = pipeline.Finish();
    RETURN_IF_ERROR(matched);
    RETURN_IF_ERROR(read);
    return stream_.Finish();
  }

  Status ReadSegments(ByteSource& in, OrderedPipeline<SegmentJob>& pipeline) {
    for (uint64_t offset = 0;; offset += segment_size_) {
      RETURN_IF_ERROR(pipeline.WaitForSpace());
      SegmentJob job = pipeline.Recycled();
      job.offset = offset;
      const std::span<uint8_t> target = job.target.Resize(segment_size_);
      ASSIGN_OR_RETURN(job.size, in.ReadFull(target));
      if (job.size == 0) return Status::Ok();
      if (offset == 0) {
        stats_.target_kind =
            DetectStreamKind(target.first(std::min(job.size, kStreamKindProbeBytes)));
      }
      const bool ended = job.size < segment_size_;  // ReadFull stops short only at the end.
      RETURN_IF_ERROR(pipeline.Submit(std::move(job)));
      ReportToCaller();
      if (ended) return Status::Ok();
    }
  }

  // On a worker (or the caller's thread, with one thread).
  Status Match(SegmentJob& job, int worker) {
    std::unique_ptr<SegmentEncoder>& encoder = encoders_[static_cast<size_t>(worker)];
    if (encoder == nullptr) {
      auto made = std::make_unique<SegmentEncoder>(corpus_, params_, level_,
                                                   options_.block_size, metrics_);
      RETURN_IF_ERROR(made->Open());
      encoder = std::move(made);
    }
    return encoder->Encode(&job, options_.use_observer != nullptr);
  }

  // One call at a time, in target order: the blocks are one zstd stream and the
  // trailer's digest is of the blocks' digests in order.
  Status Deliver(SegmentJob& job) {
    std::span<const uint8_t> bytes = job.target.span().first(job.size);
    for (size_t i = 0; i < job.block_count; ++i) {
      BlockJob& block = job.blocks[i];
      output_digest_.AddBlock(bytes.first(block.output_size), block.digest);
      bytes = bytes.subspan(block.output_size);
      RETURN_IF_ERROR(stream_.Write(block));
    }
    AddCounts(job.counts, &stats_);
    ended_blocks_ += job.block_count;
    SyncMetrics();
    std::lock_guard lock(reports_.mutex);
    reports_.uses.insert(reports_.uses.end(), job.uses.uses.begin(), job.uses.uses.end());
    reports_.progress = ProgressNow();
    return Status::Ok();
  }

  // Where the run stands, by the segments delivered so far.
  Progress ProgressNow() const {
    Progress progress;
    progress.input_bytes = stats_.input_bytes;
    progress.output_bytes = stats_.input_bytes;
    progress.blocks = ended_blocks_;
    return progress;
  }

  // Tells the observers, on the caller's thread, what the deliveries left for them.
  void ReportToCaller() {
    std::vector<std::pair<uint64_t, uint64_t>> uses;
    Progress progress;
    {
      std::lock_guard lock(reports_.mutex);
      uses.swap(reports_.uses);
      progress = reports_.progress;
    }
    if (options_.use_observer != nullptr) {
      for (const auto& [address, length] : uses) options_.use_observer->OnUse(address, length);
    }
    if (progress.input_bytes > reported_bytes_) ReportProgress(progress);
  }

  void ReportProgress(const Progress& progress) {
    reported_bytes_ = progress.input_bytes;
    reported_ = true;
    if (options_.progress != nullptr) options_.progress->OnProgress(progress);
  }

  // Adds to the run's metrics what the encoder's counts grew by since the last call:
  // after each segment, so that they can be read while the run goes on.
  void SyncMetrics() {
    if (metrics_ == nullptr) return;
    const CompressStats& now = stats_;
    metrics_->Add(Counter::kCopyBytes, now.copy_bytes - synced_.copy_bytes);
    metrics_->Add(Counter::kCopies, now.copies - synced_.copies);
    metrics_->Add(Counter::kDeltaBytes, now.delta_bytes - synced_.delta_bytes);
    metrics_->Add(Counter::kDeltas, now.deltas - synced_.deltas);
    metrics_->Add(Counter::kLiteralBytes, now.literal_bytes - synced_.literal_bytes);
    metrics_->Add(Counter::kChunks, now.chunks - synced_.chunks);
    metrics_->Add(Counter::kChunksFound, now.chunks_found - synced_.chunks_found);
    synced_ = now;
  }

  const CorpusReader* corpus_;
  const CompressOptions& options_;
  const int level_;  // options_.level, or the profile's default.
  RunMetrics* const metrics_;  // options_.metrics: may be nullptr.
  const int threads_;
  const uint64_t segment_size_;
  // The run's counts: the segments' added as they are delivered, in order.
  CompressStats stats_;
  CompressStats synced_;       // The counts SyncMetrics last added to metrics_.
  ContainerWriter writer_;
  const MatchParams params_;
  BlockStreamWriter stream_;
  OutputDigest output_digest_{kWrittenVersion};  // For the trailer.
  uint64_t ended_blocks_ = 0;
  uint64_t reported_bytes_ = 0;  // The input bytes the last progress report gave.
  bool reported_ = false;
  CallerReports reports_;
  std::vector<uint8_t> scratch_;  // For CorpusKind's reads.
  // One per worker, made by the worker when it first needs it.
  std::vector<std::unique_ptr<SegmentEncoder>> encoders_;
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
                                      const CompressOptions& options, uint64_t segment_size) {
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
    Encoder encoder(corpus, options, params, segment_size, metered_out);
    return encoder.Run(metered_in);
  }
  Encoder encoder(corpus, options, params, segment_size, out);
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
