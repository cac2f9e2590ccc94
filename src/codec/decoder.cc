#include "codec/decoder.h"

#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/block_stream.h"
#include "codec/displacements.h"
#include "codec/format.h"
#include "codec/instructions.h"
#include "codec/zstd_context.h"
#include "corpus/corpus_handle_access.h"
#include "metrics/metered_io.h"
#include "metrics/phase_timer.h"
#include "reducto/digest.h"
#include "reducto/signing.h"
#include "util/fuzzing.h"
#include "util/large_buffer.h"
#include "util/ordered_pipeline.h"

namespace reducto {
namespace {

// A block on its way through the pipeline: read by the decoder's thread (which also
// decompresses a version 3 container's instructions, one stream for all blocks),
// rebuilt and verified by a worker (RebuildBlock), written in order (WriteBlock).
struct BlockJob {
  uint64_t index = 0;          // Position in the container.
  uint64_t output_offset = 0;  // Of its first output byte.
  BlockHeader block;
  // Reused from block to block (OrderedPipeline::Recycled); every byte is written
  // (read from the input, decompressed, or produced by instructions) before it is read.
  LargeBuffer payload;
  LargeBuffer instructions;  // Version 3 only; earlier versions decompress on the worker.
  LargeBuffer output;
};

// What each pipeline worker keeps between blocks.
struct WorkerState {
  ZstdDCtxPtr dctx = MakeZstdDCtx();
  LargeBuffer instructions;
  std::vector<uint8_t> scratch;  // For copies that span pack segments.
  DisplacementTable displacements;  // For ADD.
};

class Decoder {
 public:
  Decoder(ByteSource& in, ByteSink& out, int threads, uint64_t max_output,
          ProgressObserver* progress, RunMetrics* metrics)
      : in_(in),
        out_(out),
        max_output_(max_output),
        progress_(progress),
        metrics_(metrics),
        pipeline_(
            threads, [this](BlockJob& job, int worker) { return RebuildBlock(job, worker); },
            [this](BlockJob& job) { return WriteBlock(job); }) {
    workers_.resize(static_cast<size_t>(std::max(1, pipeline_.workers())));
  }

  Result<DecompressStats> Run(const HeaderCorpusSource& resolve) {
    RETURN_IF_ERROR(ReadHeader());
    if (!header_.standalone()) {
      ASSIGN_OR_RETURN(corpus_, resolve(header_));
      if (corpus_ == nullptr) return Status::NotFound("no corpus for " + in_.name());
      RETURN_IF_ERROR(CheckCorpus());
      stats_.cache_size = corpus_->cache_bytes();
    }
    for (;;) {
      Result<uint8_t> kind = ReadRecordKind();
      if (!kind.ok()) return FirstError(kind.status());
      if (*kind == format::kRecordTrailer) return FinishTrailer();
      if (*kind != format::kRecordBlock) {
        return FirstError(Status::Corrupt("unknown record kind " + std::to_string(*kind) +
                                          " after " + std::to_string(blocks_read_) +
                                          " blocks of " + in_.name() +
                                          ": the container is damaged"));
      }
      if (Status s = ReadBlock(); !s.ok()) return FirstError(s);
    }
  }

 private:
  // `status` stopped the reading thread; an error of an earlier block, found by the
  // pipeline, comes first, as it would reading the container in order.
  Status FirstError(const Status& status) {
    Status earlier = pipeline_.Finish();
    return earlier.ok() ? status : earlier;
  }

  // Fills `bytes` or fails with "truncated container", naming `what` was cut.
  Status ReadExactly(std::span<uint8_t> bytes, const std::string& what) {
    ASSIGN_OR_RETURN(size_t n, in_.ReadFull(bytes));
    stats_.input_bytes += n;
    if (n < bytes.size()) {
      return Status::Corrupt("truncated container: " + in_.name() + " ends inside " + what +
                             " after " + std::to_string(stats_.input_bytes) +
                             " bytes: get a complete copy");
    }
    return Status::Ok();
  }

  Status ReadHeader() {
    HeaderBytes raw;
    ASSIGN_OR_RETURN(size_t n, in_.ReadFull(raw));
    stats_.input_bytes += n;
    ASSIGN_OR_RETURN(header_, DecodeHeader(std::span(raw).first(n), in_.name()));
    output_digest_.emplace(header_.version);
    stats_.standalone = header_.standalone();
    if (!header_.standalone()) stats_.corpus_id = FormatCorpusId(header_.corpus_id);
    return Status::Ok();
  }

  // The resolver's corpus must be the one the header names, byte for byte.
  Status CheckCorpus() {
    const CorpusInfo& info = corpus_->info();
    auto id = ParseCorpusId(info.id);
    if (!id.ok() || *id != header_.corpus_id) {
      return Status::NotFound("container " + in_.name() + " was made against corpus " +
                              stats_.corpus_id + " (manifest digest " +
                              ToHex(header_.manifest_digest) + "), but " + info.path +
                              " is corpus " + info.id + ": pass -c with corpus " +
                              stats_.corpus_id + ", or a store that holds it (`reducto corpus "
                              "list STORE` shows the ids)");
    }
    if (!DigestEqual(info.manifest_digest, header_.manifest_digest)) {
      return Status::Integrity(
          "container " + in_.name() + " was made against corpus " + stats_.corpus_id +
          " with manifest digest " + ToHex(header_.manifest_digest) + ", but the manifest at " +
          info.path + " has digest " + ToHex(info.manifest_digest) +
          ": the corpus was modified or damaged since; fetch or copy it again");
    }
    if (!(info.chunking == header_.chunking)) {
      return Status::Corrupt("container " + in_.name() +
                             " records other chunking parameters than its corpus's manifest: "
                             "the container is damaged");
    }
    return Status::Ok();
  }

  Result<uint8_t> ReadRecordKind() {
    uint8_t kind = 0;
    ASSIGN_OR_RETURN(size_t n, in_.ReadFull(std::span(&kind, 1)));
    if (n == 0) {
      return Status::Corrupt("truncated container: " + in_.name() + " ends after " +
                             std::to_string(blocks_read_) +
                             " blocks without a trailer: get a complete copy");
    }
    ++stats_.input_bytes;
    return kind;
  }

  // Reads the next block record and hands it to the pipeline.
  Status ReadBlock() {
    const uint64_t index = blocks_read_;
    const std::string block_name = "block " + std::to_string(index);
    BlockHeaderBytes raw;
    raw[0] = format::kRecordBlock;
    RETURN_IF_ERROR(ReadExactly(std::span(raw).subspan(1), "the header of " + block_name));
    auto block = DecodeBlockHeader(raw, header_.block_size);
    if (!block.ok()) return InBlock(index, block.status());
    RETURN_IF_ERROR(CheckOutputLimit(index, block->output_size));
    // Waiting first holds one job's buffers fewer than taking one and then waiting to
    // submit it: fresh pages are what a decompression pays most for on some machines.
    RETURN_IF_ERROR(pipeline_.WaitForSpace());
    BlockJob job = pipeline_.Recycled();
    job.index = index;
    job.output_offset = output_read_;
    job.block = *block;
    RETURN_IF_ERROR(ReadExactly(job.payload.Resize(block->payload_size),
                                "the payload of " + block_name));
    if (streamed()) {
      Status s = CheckPayload(job);
      if (s.ok()) {
        PhaseTimer timer(metrics_, Phase::kDecompress, CpuTime::kMeasured);
        std::span<uint8_t> instructions = job.instructions.Resize(block->instruction_size);
        s = stream_.Decompress(job.payload.span(), instructions);
      }
      if (!s.ok()) return InBlock(index, s);
    }
    ++blocks_read_;
    output_read_ += block->output_size;
    RETURN_IF_ERROR(pipeline_.Submit(std::move(job)));
    ReportProgress();
    return Status::Ok();
  }

  // Once per block read, on the caller's thread.
  void ReportProgress() const {
    if (progress_ == nullptr) return;
    Progress progress;
    progress.input_bytes = stats_.input_bytes;
    progress.output_bytes = output_read_;
    progress.blocks = blocks_read_;
    progress_->OnProgress(progress);
  }

  // DecompressOptions::max_output: the block may not take the output past the limit.
  Status CheckOutputLimit(uint64_t index, uint64_t block_output) const {
    const uint64_t limit = max_output_;
    if (limit == 0 || block_output <= limit - std::min(limit, output_read_)) return Status::Ok();
    return Status::Permission("container " + in_.name() + " produces more than the " +
                              std::to_string(limit) + "-byte output limit (block " +
                              std::to_string(index) + " would end at byte " +
                              std::to_string(output_read_ + block_output) +
                              "): raise --max-output if you expect that much");
  }

  Status InBlock(uint64_t index, const Status& status) const {
    return status.WithContext("block " + std::to_string(index) + " of " + in_.name());
  }

  // On a worker thread: fills job.output with the block's output and verifies it
  // against the block's digest.
  Status RebuildBlock(BlockJob& job, int worker) {
    Status rebuilt = Rebuild(job, workers_[static_cast<size_t>(worker)]);
    // Copies read the block's size from the corpus, delta references as much again.
    if (corpus_ != nullptr && corpus_->NoteRead(2 * uint64_t{job.block.output_size})) {
      cache_drops_.fetch_add(1);
    }
    return InBlock(job.index, rebuilt);
  }

  // Version 3: the blocks' payloads are one zstd stream (docs/format.md).
  bool streamed() const { return header_.version >= format::kVersion3; }

  // Before a payload reaches zstd.
  static Status CheckPayload(const BlockJob& job) {
    if (!kSkipIntegrityChecks && PayloadHash(job.payload.span()) != job.block.payload_hash) {
      return Status::Integrity("block payload checksum mismatch: the container is damaged");
    }
    return Status::Ok();
  }

  // A corpus that fetches its pack (from a repository) gets the block's ranges in one
  // batch before the block's copies read them one by one.
  Status PrefetchRanges(std::span<const uint8_t> instructions) const {
    if (corpus_ == nullptr || !corpus_->fetches()) return Status::Ok();
    InstructionTally tally;
    RETURN_IF_ERROR(TallyInstructions(instructions, header_.version, &tally));
    return corpus_->Prefetch(tally.corpus_ranges);
  }

  // The counts of a block's instructions, as they ran, to the run's metrics.
  void CountInstructions(const InstructionTally& counts) const {
    if (metrics_ == nullptr) return;
    metrics_->Add(Counter::kCopyBytes, counts.copy_bytes);
    metrics_->Add(Counter::kCopies, counts.copies);
    metrics_->Add(Counter::kDeltaBytes, counts.delta_bytes + counts.add_bytes);
    metrics_->Add(Counter::kDeltas, counts.deltas + counts.adds);
    metrics_->Add(Counter::kLiteralBytes, counts.literal_bytes);
  }

  Status Rebuild(BlockJob& job, WorkerState& state) const {
    const BlockHeader& block = job.block;
    std::span<uint8_t> instructions = job.instructions.span();
    if (!streamed()) {
      RETURN_IF_ERROR(CheckPayload(job));
      instructions = state.instructions.Resize(block.instruction_size);
      PhaseTimer timer(metrics_, Phase::kDecompress, CpuTime::kMeasured);
      RETURN_IF_ERROR(DecompressPayload(state.dctx.get(), job.payload.span(), instructions));
    }
    RETURN_IF_ERROR(PrefetchRanges(instructions));
    std::span<uint8_t> output = job.output.Resize(block.output_size);
    {
      PhaseTimer timer(metrics_, Phase::kRebuild, CpuTime::kMeasured);
      InstructionTally counts;
      RETURN_IF_ERROR(ExecuteInstructions(
          instructions, corpus_, output, &state.scratch,
          ExecuteContext{header_.version, state.dctx.get(), &state.displacements,
                         metrics_ ? &counts : nullptr}));
      CountInstructions(counts);
    }
    PhaseTimer timer(metrics_, Phase::kVerify, CpuTime::kMeasured);
    if (!kSkipIntegrityChecks && !DigestEqual(Blake3(output), block.output_digest)) {
      return Status::Integrity("the block's output (bytes " + std::to_string(job.output_offset) +
                               ".." + std::to_string(job.output_offset + output.size()) +
                               ") does not match its BLAKE3 digest: the container or the corpus "
                               "is damaged");
    }
    return Status::Ok();
  }

  // One call at a time, in block order, only for verified blocks.
  Status WriteBlock(BlockJob& job) {
    std::span<const uint8_t> output = job.output.span();
    RETURN_IF_ERROR(out_.Write(output));
    {
      PhaseTimer timer(metrics_, Phase::kVerify, CpuTime::kMeasured);
      output_digest_->AddBlock(output, job.block.output_digest);
    }
    stats_.output_bytes += output.size();
    ++stats_.blocks;
    if (metrics_ != nullptr) metrics_->Add(Counter::kBlocks, 1);
    return Status::Ok();
  }

  // The payload must be exactly one zstd frame whose declared content size is the
  // block's instruction size.
  static Status DecompressPayload(ZSTD_DCtx* dctx, std::span<const uint8_t> payload,
                                  std::span<uint8_t> instructions) {
    if (dctx == nullptr) {
      return Status::Unavailable("cannot allocate a zstd decompression context");
    }
    size_t frame_size = ZSTD_findFrameCompressedSize(payload.data(), payload.size());
    if (ZSTD_isError(frame_size) || frame_size != payload.size()) {
      return Status::Corrupt("the block payload is not exactly one zstd frame: the container "
                             "is damaged");
    }
    unsigned long long content_size = ZSTD_getFrameContentSize(payload.data(), payload.size());
    if (content_size != instructions.size()) {
      return Status::Corrupt("the block's zstd frame does not declare the block's instruction "
                             "size: the container is damaged");
    }
    size_t n = ZSTD_decompressDCtx(dctx, instructions.data(), instructions.size(),
                                   payload.data(), payload.size());
    if (ZSTD_isError(n)) {
      return Status::Corrupt(std::string("the block's zstd frame does not decompress (") +
                             ZSTD_getErrorName(n) + "): the container is damaged");
    }
    if (n != instructions.size()) {
      return Status::Corrupt("the block's zstd frame decompresses to " + std::to_string(n) +
                             " bytes, not the declared " + std::to_string(instructions.size()));
    }
    return Status::Ok();
  }

  Result<DecompressStats> FinishTrailer() {
    RETURN_IF_ERROR(pipeline_.Finish());
    RETURN_IF_ERROR(stream_.Finish().WithContext(in_.name()));
    TrailerBytes raw;
    raw[0] = format::kRecordTrailer;
    RETURN_IF_ERROR(ReadExactly(std::span(raw).subspan(1), "the trailer"));
    ASSIGN_OR_RETURN(Trailer trailer, DecodeTrailer(raw));
    if (trailer.output_size != stats_.output_bytes || trailer.block_count != stats_.blocks) {
      return Status::Corrupt("the trailer of " + in_.name() + " declares " +
                             std::to_string(trailer.output_size) + " bytes in " +
                             std::to_string(trailer.block_count) +
                             " blocks, but the container holds " +
                             std::to_string(stats_.output_bytes) + " bytes in " +
                             std::to_string(stats_.blocks) + ": the container is damaged");
    }
    if (!kSkipIntegrityChecks && !DigestEqual(output_digest_->Final(), trailer.output_digest)) {
      return Status::Integrity("the output does not match the BLAKE3 digest in the trailer of " +
                               in_.name() + ": the container is damaged");
    }
    stats_.cache_drops = cache_drops_.load();
    uint8_t extra = 0;
    ASSIGN_OR_RETURN(size_t n, in_.ReadFull(std::span(&extra, 1)));
    if (n != 0) {
      return Status::Corrupt("trailing data after the container trailer in " + in_.name() +
                             ": the file is damaged or has bytes appended; get a clean copy");
    }
    ReportProgress();
    return stats_;
  }

  ByteSource& in_;
  ByteSink& out_;
  const uint64_t max_output_;  // 0: no limit.
  ProgressObserver* const progress_;  // May be nullptr.
  RunMetrics* const metrics_;  // May be nullptr.
  ContainerHeader header_;
  const CorpusReader* corpus_ = nullptr;  // nullptr for a standalone container.
  std::atomic<uint64_t> cache_drops_{0};
  uint64_t blocks_read_ = 0;
  uint64_t output_read_ = 0;  // Output bytes of the blocks read.
  // `output_bytes` and `blocks` belong to WriteBlock until the pipeline finished.
  DecompressStats stats_;
  // For the trailer, fed by WriteBlock; made once the header says the version.
  std::optional<OutputDigest> output_digest_;
  BlockStreamDecompressor stream_;  // Version 3, on the reading thread.
  std::vector<WorkerState> workers_;
  // Last: destroyed first, so that its workers stop before the state they use goes.
  OrderedPipeline<BlockJob> pipeline_;
};

}  // namespace

Result<DecompressStats> DecodeContainer(ByteSource& in, ByteSink& out,
                                        const HeaderCorpusSource& resolve, int threads,
                                        uint64_t max_output, ProgressObserver* progress,
                                        RunMetrics* metrics) {
  // Reading records costs little next to rebuilding blocks: with several threads, all
  // of them rebuild, and the reading thread comes on top.
  int resolved = ResolveThreadCount(threads);
  const int pipeline_threads = resolved > 1 ? resolved + 1 : 1;
  if (metrics != nullptr) {
    MeteredSource metered_in(in, metrics, Counter::kContainerBytes);
    MeteredSink metered_out(out, metrics, Counter::kOriginalBytes);
    Decoder decoder(metered_in, metered_out, pipeline_threads, max_output, progress, metrics);
    return decoder.Run(resolve);
  }
  Decoder decoder(in, out, pipeline_threads, max_output, progress, nullptr);
  return decoder.Run(resolve);
}

namespace {

// The trust rules of `options`, checked against the corpus a container asked for.
Status CheckCorpusRules(const Corpus& corpus, const DecompressOptions& options) {
  RETURN_IF_ERROR(CheckCorpusTrust(corpus.info(), options.trusted_keys));
  if (options.corpus_policy) RETURN_IF_ERROR(options.corpus_policy(corpus.info()));
  return Status::Ok();
}

Result<DecompressStats> DecodeWith(ByteSource& in, ByteSink& out, const HeaderCorpusSource& source,
                                   const DecompressOptions& options) {
  return DecodeContainer(in, out, source, options.threads, options.max_output, options.progress,
                         options.metrics);
}

}  // namespace

Result<DecompressStats> Decompress(CorpusResolver& corpora, ByteSource& in, ByteSink& out,
                                   const DecompressOptions& options) {
  CorpusHandle corpus;  // Held until the decoder is done with it.
  auto source = [&](const ContainerHeader& header) -> Result<const CorpusReader*> {
    const std::string id = FormatCorpusId(header.corpus_id);
    ASSIGN_OR_RETURN(corpus, corpora.Resolve(CorpusReference{"", id, header.manifest_digest}));
    RETURN_IF_ERROR(CheckCorpusRules(*corpus, options));
    return &ReaderOf(*corpus);
  };
  return DecodeWith(in, out, source, options);
}

Result<DecompressStats> Decompress(const Corpus& corpus, ByteSource& in, ByteSink& out,
                                   const DecompressOptions& options) {
  auto source = [&](const ContainerHeader&) -> Result<const CorpusReader*> {
    RETURN_IF_ERROR(CheckCorpusRules(corpus, options));
    return &ReaderOf(corpus);
  };
  return DecodeWith(in, out, source, options);
}

Result<DecompressStats> Decompress(const std::string& corpus_dir, ByteSource& in, ByteSink& out,
                                   const DecompressOptions& options) {
  std::vector<std::string> locations;
  if (!corpus_dir.empty()) locations.push_back(corpus_dir);
  LocalCorpusResolver corpora(CorpusOpenOptions{options.cache_size, options.corpus_key, {}, {}},
                              std::move(locations));
  return Decompress(corpora, in, out, options);
}

Result<DecompressStats> Decompress(const std::string& corpus_dir, ByteSource& in, ByteSink& out) {
  return Decompress(corpus_dir, in, out, DecompressOptions());
}

}  // namespace reducto
