#include "codec/encoder.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "chunking/chunk_reader.h"
#include "codec/container.h"
#include "codec/format.h"
#include "codec/instructions.h"
#include "hashing/weak_key.h"
#include "reducto/digest.h"
#include "reducto/signing.h"

namespace reducto {
namespace {

// The block size range Compress() offers users: smaller blocks are valid containers
// but only cost ratio.
constexpr uint32_t kMinPublicBlockSize = 64u << 10;

// One block being built. Merges adjacent literals and contiguous copies, sends copies
// shorter than format::kMinCopyLength as literals, and hashes the bytes the block will
// produce. Invariant: a pending copy is at least kMinCopyLength bytes long.
class BlockBuilder {
 public:
  explicit BlockBuilder(CompressStats* stats) : stats_(stats) { Reset(); }

  void AddLiteral(std::span<const uint8_t> bytes) {
    if (pending_ != Pending::kLiteral) EmitPending();
    pending_ = Pending::kLiteral;
    pending_literal_.insert(pending_literal_.end(), bytes.begin(), bytes.end());
    Produce(bytes);
    stats_->literal_bytes += bytes.size();
  }

  // `bytes` are the target bytes the copy stands for: equal to the corpus bytes at
  // `address` (the caller verified their BLAKE3).
  void AddCopy(uint64_t address, std::span<const uint8_t> bytes) {
    bool continues = pending_ == Pending::kCopy && copy_address_ + copy_length_ == address;
    if (!continues && bytes.size() < format::kMinCopyLength) return AddLiteral(bytes);
    if (continues) {
      copy_length_ += bytes.size();
    } else {
      EmitPending();
      pending_ = Pending::kCopy;
      copy_address_ = address;
      copy_length_ = bytes.size();
    }
    Produce(bytes);
    stats_->copy_bytes += bytes.size();
  }

  uint64_t output_size() const { return output_size_; }

  // The complete instruction stream. Call once, then Reset().
  std::span<const uint8_t> FinishInstructions() {
    EmitPending();
    return writer_.bytes();
  }
  Digest output_digest() const { return hasher_->Final(); }

  void Reset() {
    pending_ = Pending::kNone;
    pending_literal_.clear();
    writer_.Clear();
    hasher_ = std::make_unique<Blake3Hasher>();
    output_size_ = 0;
  }

 private:
  enum class Pending { kNone, kLiteral, kCopy };

  void Produce(std::span<const uint8_t> bytes) {
    hasher_->Update(bytes);
    output_size_ += bytes.size();
  }

  void EmitPending() {
    if (pending_ == Pending::kLiteral) {
      writer_.Literal(pending_literal_);
      pending_literal_.clear();
    } else if (pending_ == Pending::kCopy) {
      writer_.Copy(copy_address_, copy_length_);
      ++stats_->copies;
    }
    pending_ = Pending::kNone;
  }

  CompressStats* stats_;
  Pending pending_ = Pending::kNone;
  std::vector<uint8_t> pending_literal_;  // Bytes of the pending literal run.
  uint64_t copy_address_ = 0;             // The pending copy.
  uint64_t copy_length_ = 0;
  InstructionWriter writer_;
  std::unique_ptr<Blake3Hasher> hasher_;
  uint64_t output_size_ = 0;
};

class Encoder {
 public:
  Encoder(const CorpusReader* corpus, const CompressOptions& options, ByteSink& out)
      : corpus_(corpus), options_(options), writer_(out), block_(&stats_) {}

  Result<CompressStats> Run(ByteSource& in) {
    ASSIGN_OR_RETURN(ContainerHeader header, MakeHeader());
    RETURN_IF_ERROR(writer_.WriteHeader(header));
    RETURN_IF_ERROR(corpus_ != nullptr ? EncodeChunks(in) : EncodeLiterals(in));
    if (block_.output_size() > 0) RETURN_IF_ERROR(FlushBlock());
    Trailer trailer;
    trailer.output_size = stats_.input_bytes;
    trailer.block_count = stats_.blocks;
    trailer.output_digest = whole_.Final();
    RETURN_IF_ERROR(writer_.WriteTrailer(trailer));
    stats_.output_bytes = writer_.bytes_written();
    return stats_;
  }

 private:
  Result<ContainerHeader> MakeHeader() {
    ContainerHeader header;
    header.level = options_.level;
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
    return header;
  }

  // Corpus containers: one COPY or LITERAL per content-defined chunk.
  Status EncodeChunks(ByteSource& in) {
    ChunkReader reader(corpus_->info().chunking, in);
    ChunkView chunk;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader.Next(&chunk));
      if (!more) return Status::Ok();
      Consume(chunk.bytes);
      ASSIGN_OR_RETURN(std::optional<uint64_t> address, FindCopy(chunk.bytes));
      RETURN_IF_ERROR(Append(chunk.bytes, address));
    }
  }

  // Standalone containers hold literals only, so the target needs no chunking: it is
  // read a block at a time.
  Status EncodeLiterals(ByteSource& in) {
    std::vector<uint8_t> buffer(options_.block_size);
    for (;;) {
      ASSIGN_OR_RETURN(size_t n, in.ReadFull(buffer));
      if (n == 0) return Status::Ok();
      auto bytes = std::span<const uint8_t>(buffer).first(n);
      Consume(bytes);
      RETURN_IF_ERROR(Append(bytes, std::nullopt));
      if (n < buffer.size()) return Status::Ok();  // ReadFull stops short only at the end.
    }
  }

  void Consume(std::span<const uint8_t> bytes) {
    whole_.Update(bytes);
    stats_.input_bytes += bytes.size();
  }

  // The corpus address of a stored chunk equal to `chunk`, if any. The chunk's BLAKE3
  // is computed only when a candidate of the same length exists, and at most once.
  Result<std::optional<uint64_t>> FindCopy(std::span<const uint8_t> chunk) {
    candidates_.clear();
    RETURN_IF_ERROR(corpus_->Lookup(WeakKey(chunk), &candidates_));
    std::optional<Digest> digest;
    for (const ChunkCandidate& candidate : candidates_) {
      if (candidate.length != chunk.size()) continue;
      if (!digest) digest = Blake3(chunk);
      if (!DigestEqual(candidate.digest, *digest)) continue;
      if (candidate.address > corpus_->size() ||
          candidate.length > corpus_->size() - candidate.address) {
        return Status::Corrupt("the chunk index of the corpus at " + corpus_->info().path +
                               " names bytes outside its pack (address " +
                               std::to_string(candidate.address) +
                               "): the corpus is damaged; rebuild or fetch it again");
      }
      return std::optional<uint64_t>(candidate.address);
    }
    return std::optional<uint64_t>();
  }

  // Adds target bytes (a copy from `address`, or a literal) to the current block.
  // Blocks end at chunk boundaries; only a chunk larger than a whole block is split.
  Status Append(std::span<const uint8_t> bytes, std::optional<uint64_t> address) {
    const uint32_t block_size = options_.block_size;
    if (block_.output_size() > 0 && block_.output_size() + bytes.size() > block_size) {
      RETURN_IF_ERROR(FlushBlock());
    }
    while (!bytes.empty()) {
      size_t n = std::min<uint64_t>(bytes.size(), block_size - block_.output_size());
      if (address) {
        block_.AddCopy(*address, bytes.first(n));
        *address += n;
      } else {
        block_.AddLiteral(bytes.first(n));
      }
      bytes = bytes.subspan(n);
      if (block_.output_size() == block_size) RETURN_IF_ERROR(FlushBlock());
    }
    return Status::Ok();
  }

  Status FlushBlock() {
    std::span<const uint8_t> instructions = block_.FinishInstructions();
    RETURN_IF_ERROR(writer_.WriteBlock(instructions, static_cast<uint32_t>(block_.output_size()),
                                       block_.output_digest(), options_.level));
    ++stats_.blocks;
    block_.Reset();
    return Status::Ok();
  }

  const CorpusReader* corpus_;
  const CompressOptions& options_;
  CompressStats stats_;
  ContainerWriter writer_;
  BlockBuilder block_;
  Blake3Hasher whole_;  // Over the whole target, for the trailer.
  std::vector<ChunkCandidate> candidates_;
};

Status ValidateOptions(const CompressOptions& options, uint32_t min_block_size) {
  if (options.level < format::kMinLevel || options.level > format::kMaxLevel) {
    return Status::InvalidArgument("zstd level " + std::to_string(options.level) +
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
  Encoder encoder(corpus, options, out);
  return encoder.Run(in);
}

Result<CompressStats> Compress(const std::string& corpus_dir, ByteSource& in, ByteSink& out,
                               const CompressOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options, kMinPublicBlockSize));
  if (options.standalone) return EncodeContainer(nullptr, in, out, options);
  if (corpus_dir.empty()) {
    return Status::InvalidArgument(
        "compress needs a corpus directory: pass -c DIR, or --standalone for a container "
        "that needs no corpus");
  }
  // Only a corpus directory that does not exist at all may fall back: one that exists
  // but does not open is an error the user must see.
  std::error_code ec;
  bool exists = std::filesystem::exists(corpus_dir, ec);
  if (!ec && !exists) {
    if (!options.fallback_to_standalone) {
      return Status::NotFound("corpus " + corpus_dir +
                              " not found: pass the right -c, build it with `reducto corpus "
                              "build`, or use --standalone");
    }
    ASSIGN_OR_RETURN(CompressStats stats, EncodeContainer(nullptr, in, out, options));
    stats.fell_back = true;
    return stats;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<CorpusReader> corpus, CorpusReader::Open(corpus_dir));
  RETURN_IF_ERROR(CheckCorpusTrust(corpus->info(), options.trusted_keys));
  return EncodeContainer(corpus.get(), in, out, options);
}

}  // namespace reducto
