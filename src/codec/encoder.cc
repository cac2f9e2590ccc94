#include "codec/encoder.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "codec/block_builder.h"
#include "codec/container.h"
#include "codec/format.h"
#include "codec/matcher.h"
#include "codec/profiles.h"
#include "codec/segment_matcher.h"
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

class Encoder {
 public:
  Encoder(const CorpusReader* corpus, const CompressOptions& options, const MatchParams& params,
          uint64_t segment_size, ByteSink& out)
      : corpus_(corpus),
        segment_size_(segment_size),
        options_(options),
        level_(LevelFor(options)),
        metrics_(options.metrics),
        writer_(out),
        params_(params),
        blocks_(writer_, level_, options.block_size, ResolveThreadCount(options.threads), &stats_,
                options.use_observer,
                [this](uint64_t block_bytes) { BlockEnded(block_bytes); }) {
    blocks_.set_metrics(metrics_);
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
    header.version = format::kVersion3;
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

  // Corpus containers: the target is read in segments (codec/segment_matcher.h), matched
  // on `threads` workers, and each segment's decisions are appended to the blocks in
  // target order.
  Status EncodeChunks(ByteSource& in) {
    const int threads = ResolveThreadCount(options_.threads);
    OrderedPipeline<SegmentJob> segments(
        threads > 1 ? threads + 1 : 1,
        [this](SegmentJob& job, int worker) { return matchers_[static_cast<size_t>(worker)].Match(&job); },
        [this](SegmentJob& job) { return AppendSegment(job); }, Delivery::kProducer,
        // A segment per worker and one queued, so that a worker that finished finds
        // the next while the caller appends; and the one the caller reads.
        static_cast<size_t>(threads + 1));
    for (int i = 0; i < std::max(1, segments.workers()); ++i) {
      ASSIGN_OR_RETURN(SegmentMatcher matcher,
                       SegmentMatcher::Open(*corpus_, params_, level_, options_.block_size,
                                            metrics_));
      matchers_.push_back(std::move(matcher));
    }
    for (uint64_t offset = 0;;) {
      SegmentJob job = segments.Recycled();
      ASSIGN_OR_RETURN(size_t n, in.ReadFull(job.bytes.Resize(segment_size_)));
      if (offset == 0) {
        stats_.target_kind = DetectStreamKind(
            job.bytes.span().first(std::min<size_t>(n, kStreamKindProbeBytes)));
      }
      if (n == 0) break;
      job.bytes.Resize(n);
      job.offset = offset;
      offset += n;
      RETURN_IF_ERROR(segments.Submit(std::move(job)));
      if (n < segment_size_) break;  // ReadFull stops short only at the end.
    }
    return segments.Finish();
  }

  // Appends a matched segment's decisions to the blocks, in target order, on the
  // caller's thread (which the observers of CompressOptions are promised).
  Status AppendSegment(const SegmentJob& job) {
    const SegmentCounts& counts = job.counts;
    stats_.chunks += counts.chunks;
    stats_.chunks_found += counts.chunks_found;
    stats_.damaged_chunks += counts.damaged_chunks;
    indexed_bytes_ += counts.indexed_bytes + kFineBucketSize * counts.fine_lookups;
    std::span<const uint8_t> rest = job.bytes.span();
    std::span<const uint8_t> payloads = job.payloads;
    const DeltaDecision* delta = job.deltas.data();
    for (const Decision& d : job.decisions) {
      std::span<const uint8_t> bytes = rest.first(d.length);
      rest = rest.subspan(d.length);
      switch (d.kind) {
        case Decision::Kind::kLiteral:
          RETURN_IF_ERROR(blocks_.Append(bytes, std::nullopt));
          break;
        case Decision::Kind::kCopy:
          RETURN_IF_ERROR(blocks_.Append(bytes, d.address));
          break;
        case Decision::Kind::kDelta:
          RETURN_IF_ERROR(blocks_.AddDelta(d.address, delta->reference_length, bytes,
                                           payloads.first(delta->payload_size)));
          payloads = payloads.subspan(delta->payload_size);
          ++delta;
          break;
      }
    }
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
    // A fine index look-up reads a bucket (and maps its page when read through the
    // mapping).
    uint64_t read = 2 * block_bytes + indexed_bytes_ - indexed_bytes_noted_;
    indexed_bytes_noted_ = indexed_bytes_;
    return read;
  }

  const CorpusReader* corpus_;
  const uint64_t segment_size_;  // Target bytes per segment (the last may be shorter).
  const CompressOptions& options_;
  const int level_;  // options_.level, or the profile's default.
  RunMetrics* const metrics_;  // options_.metrics: may be nullptr.
  CompressStats stats_;  // `blocks` belongs to WriteBlock until the pipeline finished.
  CompressStats synced_;       // The counts SyncMetrics last added to metrics_.
  ContainerWriter writer_;
  MatchParams params_;
  std::vector<uint8_t> scratch_;  // For CorpusKind's reads.
  // One per worker of the segment pipeline (EncodeChunks).
  std::vector<SegmentMatcher> matchers_;
  // The corpus bytes the segments appended so far read to index them (CorpusBytesRead
  // counts a fine index look-up as a bucket), and that count at the last block.
  uint64_t indexed_bytes_ = 0;
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
                                      const CompressOptions& options, uint64_t segment_size) {
  RETURN_IF_ERROR(ValidateOptions(options, format::kMinBlockSize));
  if (corpus == nullptr) {
    if (Status s = options.standalone_chunking.Validate(); !s.ok()) {
      return s.WithContext("standalone chunking parameters");
    }
  }
  MatchParams params = ParamsFor(options.profile);
  RETURN_IF_ERROR(ValidateMatchParams(params));
  if (segment_size == 0 || segment_size > kSegmentSize) {
    return Status::InvalidArgument("segment size " + std::to_string(segment_size) +
                                   " is out of range (1.." + std::to_string(kSegmentSize) + ")");
  }
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
