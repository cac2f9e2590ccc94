// The records of a container (docs/format.md): header, block header, trailer, and
// ContainerWriter, which writes them to a sink. Encoding never fails; decoding checks
// every field and says what is wrong.
//
// Thread safety: the free functions are; a ContainerWriter is used by one thread.
#ifndef REDUCTO_CODEC_CONTAINER_H_
#define REDUCTO_CODEC_CONTAINER_H_

#include <zstd.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codec/format.h"
#include "reducto/chunker.h"
#include "reducto/digest.h"
#include "reducto/io.h"
#include "reducto/status.h"

namespace reducto {

// A corpus UUID in binary, bytes in the order of its text form.
using CorpusId = std::array<uint8_t, 16>;

// InvalidArgument unless `text` is a UUID in 8-4-4-4-12 hex form.
Result<CorpusId> ParseCorpusId(const std::string& text);
// Lowercase 8-4-4-4-12.
std::string FormatCorpusId(const CorpusId& id);

struct ContainerHeader {
  uint16_t version = format::kVersion;
  uint16_t flags = 0;
  int level = 3;
  ChunkerParams chunking;
  uint32_t block_size = 4u << 20;
  CorpusId corpus_id{};      // All zero when standalone.
  Digest manifest_digest{};  // All zero when standalone.

  bool standalone() const { return (flags & format::kFlagStandalone) != 0; }
};

using HeaderBytes = std::array<uint8_t, format::kHeaderSize>;

// Lays out `header` and appends its checksum. Writes the fields as given, valid or not,
// so that tests can build invalid headers.
HeaderBytes EncodeHeader(const ContainerHeader& header);

// Parses the first bytes of a container, of which `bytes` holds what was available (at
// most kHeaderSize). Checks in the order docs/format.md gives: magic, version, length,
// checksum, fields. `name` names the input in messages.
Result<ContainerHeader> DecodeHeader(std::span<const uint8_t> bytes, const std::string& name);

struct BlockHeader {
  uint32_t payload_size = 0;      // Bytes of the zstd frame that follows.
  uint32_t instruction_size = 0;  // Bytes the frame decompresses to.
  uint32_t output_size = 0;       // Bytes the instructions produce.
  Digest output_digest{};         // BLAKE3 of those bytes.
  uint64_t payload_hash = 0;      // PayloadHash() of the zstd frame.
};

// The payload's checksum: XXH3-64 with seed 0. zstd ignores some bits of a frame (e.g.
// the frame header's unused bit), so only a checksum over the payload itself makes
// every damaged bit detectable.
uint64_t PayloadHash(std::span<const uint8_t> payload);

using BlockHeaderBytes = std::array<uint8_t, format::kBlockHeaderSize>;

// Lays out a block record's header (kind byte included) with its checksum.
BlockHeaderBytes EncodeBlockHeader(const BlockHeader& block);

// Parses a block record's header (`bytes` starts with the kind byte) and checks its
// checksum, then every size against `block_size` and the format's bounds.
Result<BlockHeader> DecodeBlockHeader(const BlockHeaderBytes& bytes, uint32_t block_size);

struct Trailer {
  uint64_t output_size = 0;
  uint64_t block_count = 0;
  Digest output_digest{};
};

using TrailerBytes = std::array<uint8_t, format::kTrailerSize>;

// The trailer's output digest, fed block by block in container order. From version 5
// it is BLAKE3 of the blocks' output digests (32 bytes each), so that only the blocks'
// own digests hash the output and they are computed on every thread; before, BLAKE3 of
// the whole output.
class OutputDigest {
 public:
  explicit OutputDigest(uint16_t version) : of_block_digests_(version >= format::kVersion5) {}

  // `output` is the block's output and `block_digest` its BLAKE3.
  void AddBlock(std::span<const uint8_t> output, const Digest& block_digest);
  Digest Final() const { return hasher_.Final(); }

 private:
  bool of_block_digests_;
  Blake3Hasher hasher_;
};

TrailerBytes EncodeTrailer(const Trailer& trailer);
// Parses the trailer (`bytes` starts with the kind byte) and checks its end magic.
Result<Trailer> DecodeTrailer(const TrailerBytes& bytes);

// A block record ready to be written: its header and its zstd frame.
struct BlockRecord {
  BlockHeaderBytes header{};
  std::vector<uint8_t> payload;
};

// Lays out the header of *record, whose payload is already compressed: the payload's
// size and checksum, and the block's sizes and output digest. REQUIRES: the sizes fit
// the format's fields (the encoder keeps them in bounds; tests may deliberately break
// the rules the decoder checks).
void FinishBlockRecord(uint32_t instruction_size, uint32_t output_size,
                       const Digest& output_digest, BlockRecord* record);

// Writes a container record by record (block records from BlockStreamCompressor).
class ContainerWriter {
 public:
  explicit ContainerWriter(ByteSink& out);
  ContainerWriter(const ContainerWriter&) = delete;
  ContainerWriter& operator=(const ContainerWriter&) = delete;

  Status WriteHeader(const ContainerHeader& header);
  Status WriteBlockRecord(const BlockRecord& record);
  Status WriteTrailer(const Trailer& trailer);

  uint64_t bytes_written() const { return bytes_written_; }

 private:
  Status Write(std::span<const uint8_t> bytes);

  ByteSink& out_;
  uint64_t bytes_written_ = 0;
};

}  // namespace reducto

#endif  // REDUCTO_CODEC_CONTAINER_H_
