// DescribeContainer: a container's records read in order, its instructions
// decompressed and tallied, nothing rebuilt (no corpus needed).
#include <zstd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "codec/block_stream.h"
#include "codec/container.h"
#include "codec/format.h"
#include "codec/instructions.h"
#include "codec/zstd_context.h"
#include "reducto/codec.h"
#include "reducto/encryption.h"

namespace reducto {
namespace {

// Counts the bytes read through it (the container's size on disk).
class CountingSource : public ByteSource {
 public:
  explicit CountingSource(ByteSource& in) : in_(in) {}
  Result<size_t> Read(std::span<uint8_t> buf) override {
    ASSIGN_OR_RETURN(size_t n, in_.Read(buf));
    count_ += n;
    return n;
  }
  const std::string& name() const override { return in_.name(); }
  uint64_t count() const { return count_; }

 private:
  ByteSource& in_;
  uint64_t count_ = 0;
};

// `ranges` ([address, length) pairs) sorted and merged where they overlap or touch.
std::vector<std::pair<uint64_t, uint64_t>> MergeRanges(
    std::vector<std::pair<uint64_t, uint64_t>> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& [address, length] : ranges) {
    if (length == 0) continue;
    if (!merged.empty() && address <= merged.back().first + merged.back().second) {
      uint64_t end = std::max(merged.back().first + merged.back().second, address + length);
      merged.back().second = end - merged.back().first;
    } else {
      merged.emplace_back(address, length);
    }
  }
  return merged;
}

class ContainerReader {
 public:
  explicit ContainerReader(ByteSource& in) : in_(in) {}

  Status Read(ContainerDescription* d) {
    HeaderBytes raw;
    ASSIGN_OR_RETURN(size_t n, in_.ReadFull(raw));
    ASSIGN_OR_RETURN(header_, DecodeHeader(std::span(raw).first(n), in_.name()));
    Describe(d);
    for (;;) {
      uint8_t kind = 0;
      RETURN_IF_ERROR(ReadExactly(std::span(&kind, 1), "a record"));
      if (kind == format::kRecordTrailer) return ReadTrailer(d);
      if (kind != format::kRecordBlock) {
        return Status::Corrupt("unknown record kind " + std::to_string(kind) + " in " +
                               in_.name() + ": the container is damaged");
      }
      Status block = ReadBlock();
      if (!block.ok()) {
        return block.WithContext("block " + std::to_string(d->blocks) + " of " + in_.name());
      }
      ++d->blocks;
    }
  }

 private:
  void Describe(ContainerDescription* d) const {
    d->format_version = header_.version;
    d->standalone = header_.standalone();
    if (!d->standalone) d->corpus_id = FormatCorpusId(header_.corpus_id);
    d->corpus_manifest_digest = header_.manifest_digest;
    d->level = header_.level;
    d->chunking = header_.chunking;
    d->block_size = header_.block_size;
  }

  Status ReadExactly(std::span<uint8_t> bytes, const std::string& what) {
    ASSIGN_OR_RETURN(size_t n, in_.ReadFull(bytes));
    if (n < bytes.size()) {
      return Status::Corrupt("truncated container: " + in_.name() + " ends inside " + what +
                             ": get a complete copy");
    }
    return Status::Ok();
  }

  Status ReadBlock() {
    BlockHeaderBytes raw;
    raw[0] = format::kRecordBlock;
    RETURN_IF_ERROR(ReadExactly(std::span(raw).subspan(1), "a block header"));
    ASSIGN_OR_RETURN(BlockHeader block, DecodeBlockHeader(raw, header_.block_size));
    payload_.resize(block.payload_size);
    RETURN_IF_ERROR(ReadExactly(payload_, "a block payload"));
    if (PayloadHash(payload_) != block.payload_hash) {
      return Status::Integrity("block payload checksum mismatch: the container is damaged");
    }
    instructions_.resize(block.instruction_size);
    RETURN_IF_ERROR(Decompress());
    output_bytes_ += block.output_size;
    return TallyInstructions(instructions_, header_.version, &tally_);
  }

  Status Decompress() {
    if (header_.version >= format::kVersion3) return stream_.Decompress(payload_, instructions_);
    size_t n = ZSTD_decompressDCtx(dctx_.get(), instructions_.data(), instructions_.size(),
                                   payload_.data(), payload_.size());
    if (ZSTD_isError(n) || n != instructions_.size()) {
      return Status::Corrupt("the block's zstd frame does not decompress to its instruction "
                             "size: the container is damaged");
    }
    return Status::Ok();
  }

  Status ReadTrailer(ContainerDescription* d) {
    RETURN_IF_ERROR(stream_.Finish().WithContext(in_.name()));
    TrailerBytes raw;
    raw[0] = format::kRecordTrailer;
    RETURN_IF_ERROR(ReadExactly(std::span(raw).subspan(1), "the trailer"));
    ASSIGN_OR_RETURN(Trailer trailer, DecodeTrailer(raw));
    if (trailer.output_size != output_bytes_ || trailer.block_count != d->blocks) {
      return Status::Corrupt("the trailer of " + in_.name() + " does not match its blocks: " +
                             "the container is damaged");
    }
    uint8_t extra = 0;
    ASSIGN_OR_RETURN(size_t n, in_.ReadFull(std::span(&extra, 1)));
    if (n != 0) {
      return Status::Corrupt("trailing data after the container trailer in " + in_.name());
    }
    d->original_bytes = trailer.output_size;
    d->literal_bytes = tally_.literal_bytes;
    d->copy_bytes = tally_.copy_bytes;
    d->delta_bytes = tally_.delta_bytes + tally_.add_bytes;
    d->corpus_ranges = MergeRanges(std::move(tally_.corpus_ranges));
    d->corpus_bytes_referenced = 0;
    for (const auto& range : d->corpus_ranges) d->corpus_bytes_referenced += range.second;
    return Status::Ok();
  }

  ByteSource& in_;
  ContainerHeader header_;
  std::vector<uint8_t> payload_;
  std::vector<uint8_t> instructions_;
  uint64_t output_bytes_ = 0;
  InstructionTally tally_;
  ZstdDCtxPtr dctx_ = MakeZstdDCtx();
  BlockStreamDecompressor stream_;
};

}  // namespace

Result<ContainerDescription> DescribeContainer(ByteSource& in, const EnvelopeKey* key) {
  CountingSource counted(in);
  const EnvelopeKey no_key;
  std::unique_ptr<ByteSource> plain = DecryptingSource(counted, key ? *key : no_key);
  CountingSource plain_counted(*plain);
  ContainerDescription description;
  Status read = ContainerReader(plain_counted).Read(&description);
  if (read.code() == StatusCode::kPermission && plain_counted.count() == 0) {
    ContainerDescription locked;  // Encrypted, and not with the key given.
    locked.encrypted = true;
    locked.readable = false;
    locked.lock = read.message();
    return locked;
  }
  RETURN_IF_ERROR(read);
  description.container_bytes = counted.count();
  description.encrypted = counted.count() != plain_counted.count();
  return description;
}

}  // namespace reducto
