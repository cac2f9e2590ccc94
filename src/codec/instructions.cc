#include "codec/instructions.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "codec/displacements.h"
#include "codec/format.h"
#include "codec/zstd_context.h"
#include "util/large_buffer.h"

namespace reducto {
namespace {

std::string OpcodeName(uint8_t opcode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", opcode);
  return buf;
}

// Reads an instruction stream from the front; every method fails rather than read past
// the end.
class InstructionParser {
 public:
  explicit InstructionParser(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  bool done() const { return pos_ == bytes_.size(); }
  size_t position() const { return pos_; }

  uint8_t ReadOpcode() { return bytes_[pos_++]; }  // REQUIRES: !done()

  // A canonical LEB128 varint below 2^64 (docs/format.md).
  Result<uint64_t> ReadVarint() {
    uint64_t value = 0;
    for (size_t i = 0; i < format::kMaxVarintSize; ++i) {
      if (pos_ == bytes_.size())
        return Status::Corrupt("the instruction stream ends inside a varint");
      uint8_t byte = bytes_[pos_++];
      value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) {
        if (i == format::kMaxVarintSize - 1 && byte > 1) {
          return Status::Corrupt("a varint in the instruction stream exceeds 64 bits");
        }
        if (i > 0 && byte == 0) {
          return Status::Corrupt("a varint in the instruction stream is not in its shortest form");
        }
        return value;
      }
    }
    return Status::Corrupt("a varint in the instruction stream is longer than 10 bytes");
  }

  // The next `length` bytes. REQUIRES: length <= remaining(), checked by the caller.
  std::span<const uint8_t> ReadBytes(size_t length) {
    auto bytes = bytes_.subspan(pos_, length);
    pos_ += length;
    return bytes;
  }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

// An instruction's length operand: at least 1, at most what the block still produces.
Result<size_t> ReadLength(InstructionParser& parser, size_t output_left, const char* what) {
  ASSIGN_OR_RETURN(uint64_t length, parser.ReadVarint());
  if (length == 0) return Status::Corrupt(std::string("a ") + what + " of length 0");
  if (length > output_left) {
    return Status::Corrupt(std::string("a ") + what + " of " + std::to_string(length) +
                           " bytes runs past the block's output size (" +
                           std::to_string(output_left) + " bytes left)");
  }
  return static_cast<size_t>(length);
}

}  // namespace

void AppendVarint(uint64_t value, std::vector<uint8_t>* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<uint8_t>(value));
}

uint64_t ZigZagEncode(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
}

int64_t ZigZagDecode(uint64_t value) {
  return static_cast<int64_t>((value >> 1) ^ (~(value & 1) + 1));
}

void InstructionWriter::Reserve(size_t size) { ReserveLarge(&bytes_, size); }

void InstructionWriter::Literal(std::span<const uint8_t> bytes) {
  bytes_.push_back(format::kOpLiteral);
  AppendVarint(bytes.size(), &bytes_);
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

void InstructionWriter::Copy(uint64_t address, uint64_t length) {
  bytes_.push_back(format::kOpCopy);
  // Two's-complement difference: the decoder adds it back modulo 2^64.
  AppendVarint(ZigZagEncode(static_cast<int64_t>(address - previous_end_)), &bytes_);
  AppendVarint(length, &bytes_);
  previous_end_ = address + length;
}

void InstructionWriter::Delta(uint64_t address, uint64_t reference_length, uint64_t length,
                              std::span<const uint8_t> payload) {
  bytes_.push_back(format::kOpDelta);
  AppendVarint(ZigZagEncode(static_cast<int64_t>(address - previous_end_)), &bytes_);
  AppendVarint(reference_length, &bytes_);
  AppendVarint(length, &bytes_);
  AppendVarint(payload.size(), &bytes_);
  bytes_.insert(bytes_.end(), payload.begin(), payload.end());
  previous_end_ = address + reference_length;
}

void InstructionWriter::Add(uint64_t address, std::span<const uint8_t> stored) {
  bytes_.push_back(format::kOpAdd);
  AppendVarint(ZigZagEncode(static_cast<int64_t>(address - previous_end_)), &bytes_);
  AppendVarint(stored.size(), &bytes_);
  bytes_.insert(bytes_.end(), stored.begin(), stored.end());
  previous_end_ = address + stored.size();
}

size_t InstructionWriter::DeltaSize(uint64_t address_delta_bound, uint64_t reference_length,
                                    uint64_t length, size_t payload_size) {
  std::vector<uint8_t> operands;
  AppendVarint(address_delta_bound, &operands);
  AppendVarint(reference_length, &operands);
  AppendVarint(length, &operands);
  AppendVarint(payload_size, &operands);
  return 1 + operands.size() + payload_size;
}

void InstructionWriter::Clear() {
  bytes_.clear();
  previous_end_ = 0;
}

namespace {

// A copy's or a reference's corpus range must lie inside the corpus.
Status CheckCorpusRange(uint64_t address, uint64_t length, uint64_t corpus_size, bool standalone,
                        const char* what) {
  if (address > corpus_size || length > corpus_size - address) {
    return Status::Corrupt(std::string("a ") + what + " of " + std::to_string(length) +
                           " bytes at corpus address " + std::to_string(address) +
                           " runs past the end of the corpus (" + std::to_string(corpus_size) +
                           " bytes" + (standalone ? ", a standalone container" : "") + ")");
  }
  return Status::Ok();
}

Result<std::span<const uint8_t>> ReadCorpus(const CorpusReader* corpus, uint64_t address,
                                            uint64_t length, std::vector<uint8_t>* scratch,
                                            const char* what) {
  ASSIGN_OR_RETURN(std::span<const uint8_t> bytes, corpus->Read(address, length, scratch));
  if (bytes.size() != length) {
    return Status::Integrity("the corpus returned " + std::to_string(bytes.size()) +
                             " bytes for a " + what + " of " + std::to_string(length) +
                             ": the corpus is damaged");
  }
  return bytes;
}

// Decodes a DELTA payload into `output` (exactly its size) with `reference` as prefix.
Status DecodeDelta(std::span<const uint8_t> payload, std::span<const uint8_t> reference,
                   std::span<uint8_t> output, ZSTD_DCtx* dctx) {
  size_t frame_size = ZSTD_findFrameCompressedSize(payload.data(), payload.size());
  if (ZSTD_isError(frame_size) || frame_size != payload.size()) {
    return Status::Corrupt("a delta payload is not exactly one zstd frame");
  }
  if (ZSTD_getFrameContentSize(payload.data(), payload.size()) != output.size()) {
    return Status::Corrupt("a delta payload's zstd frame does not declare the delta's length (" +
                           std::to_string(output.size()) + " bytes)");
  }
  if (ZSTD_getDictID_fromFrame(payload.data(), payload.size()) != 0) {
    return Status::Corrupt("a delta payload's zstd frame names a dictionary");
  }
  size_t r = ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  if (!ZSTD_isError(r)) r = ZSTD_DCtx_refPrefix(dctx, reference.data(), reference.size());
  if (ZSTD_isError(r)) {
    return Status::Unavailable(std::string("zstd cannot take a delta reference: ") +
                               ZSTD_getErrorName(r));
  }
  size_t n = ZSTD_decompressDCtx(dctx, output.data(), output.size(), payload.data(),
                                 payload.size());
  if (ZSTD_isError(n)) {
    return Status::Corrupt(std::string("a delta payload does not decompress (") +
                           ZSTD_getErrorName(n) + ")");
  }
  if (n != output.size()) {
    return Status::Corrupt("a delta payload decompresses to " + std::to_string(n) +
                           " bytes, not the declared " + std::to_string(output.size()));
  }
  return Status::Ok();
}

}  // namespace

Status ExecuteInstructions(std::span<const uint8_t> instructions, const CorpusReader* corpus,
                           std::span<uint8_t> output, std::vector<uint8_t>* scratch,
                           const ExecuteContext& context) {
  const uint64_t corpus_size = corpus != nullptr ? corpus->size() : 0;
  const bool standalone = corpus == nullptr;
  const bool has_delta = context.version >= format::kVersion2;
  const bool has_add = context.version >= format::kVersion4;
  ZstdDCtxPtr own_dctx;
  std::unique_ptr<DisplacementTable> own_displacements;
  DisplacementTable* displacements = nullptr;  // Set, and emptied, at the first ADD.
  InstructionParser parser(instructions);
  size_t produced = 0;
  uint64_t previous_end = 0;
  while (!parser.done()) {
    uint8_t opcode = parser.ReadOpcode();
    size_t output_left = output.size() - produced;
    if (opcode == format::kOpLiteral) {
      ASSIGN_OR_RETURN(size_t length, ReadLength(parser, output_left, "literal"));
      if (length > parser.remaining()) {
        return Status::Corrupt("a literal of " + std::to_string(length) +
                               " bytes runs past the end of the instruction stream");
      }
      std::memcpy(output.data() + produced, parser.ReadBytes(length).data(), length);
      produced += length;
      if (context.counts != nullptr) context.counts->literal_bytes += length;
    } else if (opcode == format::kOpCopy) {
      ASSIGN_OR_RETURN(uint64_t delta, parser.ReadVarint());
      ASSIGN_OR_RETURN(size_t length, ReadLength(parser, output_left, "copy"));
      uint64_t address = previous_end + static_cast<uint64_t>(ZigZagDecode(delta));
      RETURN_IF_ERROR(CheckCorpusRange(address, length, corpus_size, standalone, "copy"));
      RETURN_IF_ERROR(corpus->ReadInto(address, output.subspan(produced, length), scratch));
      produced += length;
      previous_end = address + length;
      if (context.counts != nullptr) {
        context.counts->copy_bytes += length;
        ++context.counts->copies;
      }
    } else if (opcode == format::kOpDelta && has_delta) {
      ASSIGN_OR_RETURN(uint64_t delta, parser.ReadVarint());
      ASSIGN_OR_RETURN(uint64_t reference_length, parser.ReadVarint());
      if (reference_length == 0 || reference_length > format::kMaxDeltaReference) {
        return Status::Corrupt("a delta reference of " + std::to_string(reference_length) +
                               " bytes is outside 1.." +
                               std::to_string(format::kMaxDeltaReference));
      }
      uint64_t address = previous_end + static_cast<uint64_t>(ZigZagDecode(delta));
      RETURN_IF_ERROR(
          CheckCorpusRange(address, reference_length, corpus_size, standalone, "delta reference"));
      ASSIGN_OR_RETURN(size_t length, ReadLength(parser, output_left, "delta"));
      ASSIGN_OR_RETURN(uint64_t payload_size, parser.ReadVarint());
      if (payload_size == 0 || payload_size > parser.remaining() ||
          payload_size > ZSTD_compressBound(length)) {
        return Status::Corrupt("a delta payload of " + std::to_string(payload_size) +
                               " bytes is empty, runs past the end of the instruction stream, "
                               "or exceeds the zstd bound for " + std::to_string(length) +
                               " bytes");
      }
      std::span<const uint8_t> payload = parser.ReadBytes(payload_size);
      ASSIGN_OR_RETURN(std::span<const uint8_t> reference,
                       ReadCorpus(corpus, address, reference_length, scratch, "delta reference"));
      ZSTD_DCtx* dctx = context.dctx;
      if (dctx == nullptr) {
        if (!own_dctx) own_dctx = MakeZstdDCtx();
        dctx = own_dctx.get();
        if (dctx == nullptr) return Status::Unavailable("cannot allocate a zstd context");
      }
      RETURN_IF_ERROR(DecodeDelta(payload, reference, output.subspan(produced, length), dctx));
      produced += length;
      previous_end = address + reference_length;
      if (context.counts != nullptr) {
        context.counts->delta_bytes += length;
        ++context.counts->deltas;
      }
    } else if (opcode == format::kOpAdd && has_add) {
      ASSIGN_OR_RETURN(uint64_t delta, parser.ReadVarint());
      ASSIGN_OR_RETURN(size_t length, ReadLength(parser, output_left, "add"));
      if (length > parser.remaining()) {
        return Status::Corrupt("an add of " + std::to_string(length) +
                               " bytes runs past the end of the instruction stream");
      }
      uint64_t address = previous_end + static_cast<uint64_t>(ZigZagDecode(delta));
      RETURN_IF_ERROR(CheckCorpusRange(address, length, corpus_size, standalone, "add"));
      RETURN_IF_ERROR(corpus->ReadInto(address, output.subspan(produced, length), scratch));
      if (displacements == nullptr) {
        displacements = context.displacements;
        if (displacements == nullptr) {
          own_displacements = std::make_unique<DisplacementTable>();
          displacements = own_displacements.get();
        }
        displacements->Clear(context.version);
      }
      DecodeAdd(parser.ReadBytes(length), address, produced, displacements,
                output.data() + produced);
      produced += length;
      previous_end = address + length;
      if (context.counts != nullptr) {
        context.counts->add_bytes += length;
        ++context.counts->adds;
      }
    } else {
      return Status::Corrupt("unknown opcode " + OpcodeName(opcode) + " at instruction byte " +
                             std::to_string(parser.position() - 1) + " (format version " +
                             std::to_string(context.version) + " knows 0x00.." +
                             (has_add ? "0x03)" : has_delta ? "0x02)" : "0x01)"));
    }
  }
  if (produced != output.size()) {
    return Status::Corrupt("the instruction stream produces " + std::to_string(produced) +
                           " bytes, but the block declares " + std::to_string(output.size()));
  }
  return Status::Ok();
}

Status TallyInstructions(std::span<const uint8_t> instructions, uint16_t version,
                         InstructionTally* tally) {
  const bool has_delta = version >= format::kVersion2;
  InstructionParser parser(instructions);
  uint64_t previous_end = 0;
  while (!parser.done()) {
    uint8_t opcode = parser.ReadOpcode();
    if (opcode == format::kOpLiteral) {
      ASSIGN_OR_RETURN(uint64_t length, parser.ReadVarint());
      if (length > parser.remaining()) {
        return Status::Corrupt("a literal runs past the end of the instruction stream");
      }
      parser.ReadBytes(length);
      tally->literal_bytes += length;
    } else if (opcode == format::kOpCopy) {
      ASSIGN_OR_RETURN(uint64_t delta, parser.ReadVarint());
      ASSIGN_OR_RETURN(uint64_t length, parser.ReadVarint());
      uint64_t address = previous_end + static_cast<uint64_t>(ZigZagDecode(delta));
      tally->corpus_ranges.emplace_back(address, length);
      tally->copy_bytes += length;
      ++tally->copies;
      previous_end = address + length;
    } else if (opcode == format::kOpDelta && has_delta) {
      ASSIGN_OR_RETURN(uint64_t delta, parser.ReadVarint());
      ASSIGN_OR_RETURN(uint64_t reference_length, parser.ReadVarint());
      ASSIGN_OR_RETURN(uint64_t length, parser.ReadVarint());
      ASSIGN_OR_RETURN(uint64_t payload_size, parser.ReadVarint());
      if (payload_size > parser.remaining()) {
        return Status::Corrupt("a delta payload runs past the end of the instruction stream");
      }
      parser.ReadBytes(payload_size);
      uint64_t address = previous_end + static_cast<uint64_t>(ZigZagDecode(delta));
      tally->corpus_ranges.emplace_back(address, reference_length);
      tally->delta_bytes += length;
      ++tally->deltas;
      previous_end = address + reference_length;
    } else if (opcode == format::kOpAdd && version >= format::kVersion4) {
      ASSIGN_OR_RETURN(uint64_t delta, parser.ReadVarint());
      ASSIGN_OR_RETURN(uint64_t length, parser.ReadVarint());
      if (length > parser.remaining()) {
        return Status::Corrupt("an add runs past the end of the instruction stream");
      }
      parser.ReadBytes(length);
      uint64_t address = previous_end + static_cast<uint64_t>(ZigZagDecode(delta));
      tally->corpus_ranges.emplace_back(address, length);
      tally->add_bytes += length;
      ++tally->adds;
      previous_end = address + length;
    } else {
      return Status::Corrupt("unknown opcode " + OpcodeName(opcode) + " at instruction byte " +
                             std::to_string(parser.position() - 1));
    }
  }
  return Status::Ok();
}

}  // namespace reducto
