#include "codec/block_builder.h"

#include <utility>

namespace reducto {

void BlockBuilder::AddDelta(uint64_t address, uint64_t reference_length,
                            std::span<const uint8_t> bytes, std::span<const uint8_t> payload) {
  EmitPending();
  writer_.Delta(address, reference_length, bytes.size(), payload);
  if (observer_ != nullptr) observer_->OnUse(address, reference_length);
  Produce(bytes);
  stats_->delta_bytes += bytes.size();
  ++stats_->deltas;
}

void BlockBuilder::Finish(BlockJob* job) {
  EmitPending();
  writer_.TakeBytesInto(&job->instructions);
  job->output_size = output_size_;
  output_size_ = 0;
  if (whole_ != nullptr) {
    HashKept();
    job->digest = block_hasher_->Final();
    job->hashed = true;
    block_hasher_.emplace();
    return;
  }
  job->hashed = false;
  job->output.swap(output_);
  output_.clear();
  output_.reserve(job->output.size());  // The next block is as long, but the last.
}

void BlockBuilder::HashKept() {
  const size_t end = pending_ == Pending::kLiteral ? literal_start_ : output_.size();
  if (end == 0) return;
  Hash(std::span<const uint8_t>(output_).first(end));
  output_.erase(output_.begin(), output_.begin() + static_cast<ptrdiff_t>(end));
  literal_start_ = 0;
}

BlockPipeline::BlockPipeline(ContainerWriter& writer, int level, uint32_t block_size,
                             int threads, CompressStats* stats, CorpusUseObserver* observer,
                             BlockEnded block_ended)
    : writer_(writer),
      block_size_(block_size),
      stats_(stats),
      block_ended_(std::move(block_ended)),
      // With one thread nobody else would hash the blocks: they are hashed as built.
      block_(stats, observer, threads > 1 ? nullptr : &whole_),
      stream_(level),
      pipeline_(
          threads, [this](BlockJob& job, int) { return HashBlock(job); },
          [this](BlockJob& job) { return WriteBlock(job); }) {}

Status BlockPipeline::AddDelta(uint64_t address, uint64_t reference_length,
                               std::span<const uint8_t> bytes, std::span<const uint8_t> payload) {
  stats_->input_bytes += bytes.size();
  block_.AddDelta(address, reference_length, bytes, payload);
  if (room() == 0) RETURN_IF_ERROR(EndBlock());
  return Status::Ok();
}

Status BlockPipeline::Finish(Status encoded) {
  if (encoded.ok() && block_.output_size() > 0) encoded = EndBlock();
  if (encoded.ok() && held_block_) encoded = SubmitHeldBlock(/*last=*/true);
  RETURN_IF_ERROR(pipeline_.Finish());
  return encoded;
}

Status BlockPipeline::EndBlock() {
  if (held_block_) RETURN_IF_ERROR(SubmitHeldBlock(/*last=*/false));
  held_block_.emplace(pipeline_.Recycled());
  block_.Finish(&*held_block_);
  ended_bytes_ += held_block_->output_size;
  ++ended_blocks_;
  if (block_ended_) block_ended_(held_block_->output_size);
  return Status::Ok();
}

Status BlockPipeline::SubmitHeldBlock(bool last) {
  held_block_->last = last;
  Status submitted = pipeline_.Submit(std::move(*held_block_));
  held_block_.reset();
  return submitted;
}

Status BlockPipeline::HashBlock(BlockJob& job) const {
  if (job.hashed) return Status::Ok();
  PhaseTimer timer(metrics_, Phase::kHash, CpuTime::kMeasured);
  job.digest = Blake3(job.output);
  return Status::Ok();
}

Status BlockPipeline::WriteBlock(BlockJob& job) {
  {
    PhaseTimer timer(metrics_, Phase::kCompress, CpuTime::kMeasured);
    RETURN_IF_ERROR(stream_.Compress(job.instructions, static_cast<uint32_t>(job.output_size),
                                     job.digest, job.last, &job.record));
  }
  if (!job.hashed) {
    PhaseTimer timer(metrics_, Phase::kHash, CpuTime::kMeasured);
    whole_.Update(job.output);
  }
  RETURN_IF_ERROR(writer_.WriteBlockRecord(job.record));
  ++stats_->blocks;
  if (metrics_ != nullptr) metrics_->Add(Counter::kBlocks, 1);
  return Status::Ok();
}

}  // namespace reducto
