#include "codec/container.h"

#include <sodium.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "util/endian.h"
#include "util/fuzzing.h"

namespace reducto {
namespace {

using namespace format;

// The first kChecksumSize bytes of BLAKE3 over `bytes`.
std::array<uint8_t, kChecksumSize> Checksum(std::span<const uint8_t> bytes) {
  Digest digest = Blake3(bytes);
  std::array<uint8_t, kChecksumSize> out;
  std::copy_n(digest.begin(), kChecksumSize, out.begin());
  return out;
}

bool ChecksumMatches(std::span<const uint8_t> covered, const uint8_t* stored) {
  if (kSkipIntegrityChecks) return true;
  auto expected = Checksum(covered);
  return sodium_memcmp(expected.data(), stored, kChecksumSize) == 0;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::string Hex16(uint32_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

Status CheckMagic(std::span<const uint8_t> bytes, const std::string& name) {
  if (bytes.empty()) return Status::Corrupt(name + " is empty: not a Reducto container");
  size_t n = std::min(bytes.size(), kMagic.size());
  bool prefix_matches = std::equal(bytes.begin(), bytes.begin() + n, kMagic.begin());
  if (prefix_matches && n < kMagic.size()) {
    return Status::Corrupt("truncated container: " + name + " ends after " + std::to_string(n) +
                           " bytes, inside the magic number: get a complete copy");
  }
  if (prefix_matches) return Status::Ok();
  // The signature's first five bytes intact but its line-ending bytes not: the file went
  // through a text-mode transfer.
  if (bytes.size() >= 5 && std::equal(kMagic.begin(), kMagic.begin() + 5, bytes.begin())) {
    return Status::Corrupt(name +
                           " is a Reducto container damaged by a text-mode transfer "
                           "(line endings converted): transfer it again in binary mode");
  }
  return Status::Corrupt(name +
                         " is not a Reducto container (its first bytes are not the "
                         "Reducto magic number): check the file name");
}

Status CheckHeaderFields(const ContainerHeader& h) {
  if ((h.flags & kFlagsEncryptionMask) != 0) {
    return Status::Unavailable(
        "the container is encrypted, and encrypted containers are not supported by this "
        "version of reducto: upgrade reducto");
  }
  if ((h.flags & ~kFlagsKnownMask) != 0) {
    return Status::Corrupt("the container header has unknown flags " + Hex16(h.flags) +
                           ": the container is damaged or was written by a newer reducto");
  }
  if (h.level < kMinLevel || h.level > kMaxLevel) {
    return Status::Corrupt("the container header gives zstd level " + std::to_string(h.level) +
                           ", outside 1..22: the container is damaged");
  }
  if (Status s = h.chunking.Validate(); !s.ok()) {
    return Status::Corrupt("the container header has invalid chunking parameters (" + s.message() +
                           "): the container is damaged");
  }
  if (h.block_size < kMinBlockSize || h.block_size > kMaxBlockSize) {
    return Status::Corrupt("the container header gives block size " + std::to_string(h.block_size) +
                           ", outside " + std::to_string(kMinBlockSize) + ".." +
                           std::to_string(kMaxBlockSize) + ": the container is damaged");
  }
  bool no_corpus = AllZero(h.corpus_id) && AllZero(h.manifest_digest);
  if (h.standalone() && !no_corpus) {
    return Status::Corrupt(
        "the container header is marked standalone but names a corpus: the container is damaged");
  }
  if (!h.standalone() && AllZero(h.corpus_id)) {
    return Status::Corrupt(
        "the container header needs a corpus but its corpus id is zero: the container is damaged");
  }
  return Status::Ok();
}

}  // namespace

Result<CorpusId> ParseCorpusId(const std::string& text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + text +
                                   "' is not a corpus id: expected a UUID like "
                                   "0f8fad5b-d9cb-469f-a165-70867728950e");
  };
  if (text.size() != 36) return bad();
  for (size_t i : {8, 13, 18, 23}) {
    if (text[i] != '-') return bad();
  }
  CorpusId id;
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(id.data(), id.size(), text.data(), text.size(), "-", &len, &end) != 0 ||
      len != id.size() || end != text.data() + text.size()) {
    return bad();
  }
  return id;
}

std::string FormatCorpusId(const CorpusId& id) {
  std::string hex = ToHex(id);
  for (size_t i : {8, 13, 18, 23}) hex.insert(i, 1, '-');
  return hex;
}

HeaderBytes EncodeHeader(const ContainerHeader& h) {
  HeaderBytes b{};
  std::copy(kMagic.begin(), kMagic.end(), b.begin() + kHeaderMagicOffset);
  StoreLe16(&b[kHeaderVersionOffset], h.version);
  StoreLe16(&b[kHeaderFlagsOffset], h.flags);
  b[kHeaderLevelOffset] = static_cast<uint8_t>(h.level);
  b[kHeaderNormalizationOffset] = static_cast<uint8_t>(h.chunking.normalization);
  StoreLe32(&b[kHeaderChunkMinOffset], h.chunking.min_size);
  StoreLe32(&b[kHeaderChunkAvgOffset], h.chunking.avg_size);
  StoreLe32(&b[kHeaderChunkMaxOffset], h.chunking.max_size);
  StoreLe32(&b[kHeaderBlockSizeOffset], h.block_size);
  std::copy(h.corpus_id.begin(), h.corpus_id.end(), b.begin() + kHeaderCorpusIdOffset);
  std::copy(h.manifest_digest.begin(), h.manifest_digest.end(),
            b.begin() + kHeaderManifestDigestOffset);
  auto checksum = Checksum(std::span(b).first(kHeaderChecksumOffset));
  std::copy(checksum.begin(), checksum.end(), b.begin() + kHeaderChecksumOffset);
  return b;
}

Result<ContainerHeader> DecodeHeader(std::span<const uint8_t> b, const std::string& name) {
  RETURN_IF_ERROR(CheckMagic(b, name));
  if (b.size() < kHeaderVersionOffset + 2) {
    return Status::Corrupt("truncated container: " + name + " ends inside its header (" +
                           std::to_string(b.size()) + " bytes): get a complete copy");
  }
  ContainerHeader h;
  h.version = LoadLe16(&b[kHeaderVersionOffset]);
  if (h.version == 0) {
    return Status::Corrupt("container format version 0 is invalid: " + name + " is damaged");
  }
  if (h.version > kLatestVersion) {
    return Status::Unavailable("container format version " + std::to_string(h.version) +
                               " is newer than this reducto supports (" +
                               std::to_string(kLatestVersion) +
                               "): upgrade reducto");
  }
  if (b.size() < kHeaderSize) {
    return Status::Corrupt("truncated container: " + name + " ends inside its header (" +
                           std::to_string(b.size()) + " of " + std::to_string(kHeaderSize) +
                           " bytes): get a complete copy");
  }
  if (!ChecksumMatches(b.first(kHeaderChecksumOffset), &b[kHeaderChecksumOffset])) {
    return Status::Integrity("header checksum mismatch: the container " + name +
                             " is damaged; get an undamaged copy");
  }
  h.flags = LoadLe16(&b[kHeaderFlagsOffset]);
  h.level = b[kHeaderLevelOffset];
  h.chunking.normalization = b[kHeaderNormalizationOffset];
  h.chunking.min_size = LoadLe32(&b[kHeaderChunkMinOffset]);
  h.chunking.avg_size = LoadLe32(&b[kHeaderChunkAvgOffset]);
  h.chunking.max_size = LoadLe32(&b[kHeaderChunkMaxOffset]);
  h.block_size = LoadLe32(&b[kHeaderBlockSizeOffset]);
  std::copy_n(&b[kHeaderCorpusIdOffset], h.corpus_id.size(), h.corpus_id.begin());
  std::copy_n(&b[kHeaderManifestDigestOffset], h.manifest_digest.size(), h.manifest_digest.begin());
  RETURN_IF_ERROR(CheckHeaderFields(h).WithContext(name));
  return h;
}

uint64_t PayloadHash(std::span<const uint8_t> payload) {
  return XXH3_64bits(payload.data(), payload.size());
}

BlockHeaderBytes EncodeBlockHeader(const BlockHeader& block) {
  BlockHeaderBytes b{};
  b[kBlockKindOffset] = kRecordBlock;
  StoreLe32(&b[kBlockPayloadSizeOffset], block.payload_size);
  StoreLe32(&b[kBlockInstructionSizeOffset], block.instruction_size);
  StoreLe32(&b[kBlockOutputSizeOffset], block.output_size);
  std::copy(block.output_digest.begin(), block.output_digest.end(), b.begin() + kBlockDigestOffset);
  StoreLe64(&b[kBlockPayloadHashOffset], block.payload_hash);
  auto checksum = Checksum(std::span(b).first(kBlockChecksumOffset));
  std::copy(checksum.begin(), checksum.end(), b.begin() + kBlockChecksumOffset);
  return b;
}

Result<BlockHeader> DecodeBlockHeader(const BlockHeaderBytes& b, uint32_t block_size) {
  if (!ChecksumMatches(std::span(b).first(kBlockChecksumOffset), &b[kBlockChecksumOffset])) {
    return Status::Integrity("block header checksum mismatch: the container is damaged");
  }
  BlockHeader block;
  block.payload_size = LoadLe32(&b[kBlockPayloadSizeOffset]);
  block.instruction_size = LoadLe32(&b[kBlockInstructionSizeOffset]);
  block.output_size = LoadLe32(&b[kBlockOutputSizeOffset]);
  std::copy_n(&b[kBlockDigestOffset], block.output_digest.size(), block.output_digest.begin());
  block.payload_hash = LoadLe64(&b[kBlockPayloadHashOffset]);
  if (block.output_size == 0 || block.output_size > block_size) {
    return Status::Corrupt("block output size " + std::to_string(block.output_size) +
                           " is outside 1.." + std::to_string(block_size) +
                           " (the header's block size): the container is damaged");
  }
  if (block.instruction_size == 0 ||
      block.instruction_size > MaxInstructionSize(block.output_size)) {
    return Status::Corrupt(
        "block instruction size " + std::to_string(block.instruction_size) + " is outside 1.." +
        std::to_string(MaxInstructionSize(block.output_size)) + ": the container is damaged");
  }
  size_t payload_bound = ZSTD_compressBound(block.instruction_size);
  if (block.payload_size == 0 || block.payload_size > payload_bound) {
    return Status::Corrupt("block payload size " + std::to_string(block.payload_size) +
                           " is outside 1.." + std::to_string(payload_bound) +
                           ": the container is damaged");
  }
  return block;
}

void OutputDigest::AddBlock(std::span<const uint8_t> output, const Digest& block_digest) {
  hasher_.Update(of_block_digests_ ? std::span<const uint8_t>(block_digest) : output);
}

TrailerBytes EncodeTrailer(const Trailer& trailer) {
  TrailerBytes b{};
  b[kTrailerKindOffset] = kRecordTrailer;
  StoreLe64(&b[kTrailerOutputSizeOffset], trailer.output_size);
  StoreLe64(&b[kTrailerBlockCountOffset], trailer.block_count);
  std::copy(trailer.output_digest.begin(), trailer.output_digest.end(),
            b.begin() + kTrailerDigestOffset);
  std::copy(kEndMagic.begin(), kEndMagic.end(), b.begin() + kTrailerEndMagicOffset);
  return b;
}

Result<Trailer> DecodeTrailer(const TrailerBytes& b) {
  if (!std::equal(kEndMagic.begin(), kEndMagic.end(), b.begin() + kTrailerEndMagicOffset)) {
    return Status::Corrupt(
        "the container trailer does not end with the end magic: "
        "the container is damaged");
  }
  Trailer trailer;
  trailer.output_size = LoadLe64(&b[kTrailerOutputSizeOffset]);
  trailer.block_count = LoadLe64(&b[kTrailerBlockCountOffset]);
  std::copy_n(&b[kTrailerDigestOffset], trailer.output_digest.size(),
              trailer.output_digest.begin());
  return trailer;
}

ContainerWriter::ContainerWriter(ByteSink& out) : out_(out) {}

Status ContainerWriter::Write(std::span<const uint8_t> bytes) {
  RETURN_IF_ERROR(out_.Write(bytes));
  bytes_written_ += bytes.size();
  return Status::Ok();
}

Status ContainerWriter::WriteHeader(const ContainerHeader& header) {
  HeaderBytes bytes = EncodeHeader(header);
  return Write(bytes);
}

void FinishBlockRecord(uint32_t instruction_size, uint32_t output_size,
                       const Digest& output_digest, BlockRecord* record) {
  BlockHeader block;
  block.payload_size = static_cast<uint32_t>(record->payload.size());
  block.instruction_size = instruction_size;
  block.output_size = output_size;
  block.output_digest = output_digest;
  block.payload_hash = PayloadHash(record->payload);
  record->header = EncodeBlockHeader(block);
}

Status ContainerWriter::WriteBlockRecord(const BlockRecord& record) {
  RETURN_IF_ERROR(Write(record.header));
  return Write(record.payload);
}

Status ContainerWriter::WriteTrailer(const Trailer& trailer) {
  TrailerBytes bytes = EncodeTrailer(trailer);
  return Write(bytes);
}

}  // namespace reducto
