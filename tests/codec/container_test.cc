#include "codec/container.h"

#include <gtest/gtest.h>

#include <cstring>

#include "codec/format.h"

namespace reducto {
namespace {

ContainerHeader CorpusHeader() {
  ContainerHeader h;
  h.level = 7;
  h.chunking = ChunkerParams::ForAverage(16384, 2);
  h.block_size = 1u << 20;
  h.corpus_id = *ParseCorpusId("0f8fad5b-d9cb-469f-a165-70867728950e");
  h.manifest_digest = Blake3(std::vector<uint8_t>{1, 2, 3});
  return h;
}

ContainerHeader StandaloneHeader() {
  ContainerHeader h;
  h.flags = format::kFlagStandalone;
  return h;
}

Result<ContainerHeader> Decode(const HeaderBytes& bytes) { return DecodeHeader(bytes, "c.rdc"); }

TEST(CorpusIdTest, ParsesAndFormats) {
  auto id = ParseCorpusId("0F8FAD5B-d9cb-469f-a165-70867728950e");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ((*id)[0], 0x0f);
  EXPECT_EQ((*id)[15], 0x0e);
  EXPECT_EQ(FormatCorpusId(*id), "0f8fad5b-d9cb-469f-a165-70867728950e");
  for (const char* bad :
       {"", "0f8fad5bd9cb469fa16570867728950e", "0f8fad5b-d9cb-469f-a165-70867728950",
        "0f8fad5b-d9cb-469f-a165-70867728950e0", "0f8fad5b-d9cb-469f-a165-7086772895ge",
        "0f8fad5bd-9cb-469f-a165-70867728950e"}) {
    EXPECT_EQ(ParseCorpusId(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HeaderTest, RoundTrips) {
  for (const ContainerHeader& h : {CorpusHeader(), StandaloneHeader()}) {
    HeaderBytes bytes = EncodeHeader(h);
    auto decoded = Decode(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->version, format::kVersion);
    EXPECT_EQ(decoded->flags, h.flags);
    EXPECT_EQ(decoded->level, h.level);
    EXPECT_EQ(decoded->chunking, h.chunking);
    EXPECT_EQ(decoded->block_size, h.block_size);
    EXPECT_EQ(decoded->corpus_id, h.corpus_id);
    EXPECT_EQ(decoded->manifest_digest, h.manifest_digest);
  }
}

TEST(HeaderTest, LayoutIsFrozen) {
  HeaderBytes b = EncodeHeader(CorpusHeader());
  EXPECT_EQ(b.size(), 86u);
  EXPECT_EQ(std::vector<uint8_t>(b.begin(), b.begin() + 8),
            (std::vector<uint8_t>{0x89, 'R', 'D', 'C', 'T', 0x0d, 0x0a, 0x1a}));
  EXPECT_EQ(b[8], 1);  // Version, little-endian.
  EXPECT_EQ(b[9], 0);
  EXPECT_EQ(b[12], 7);                                   // Level.
  EXPECT_EQ(b[13], 2);                                   // Normalization.
  EXPECT_EQ(b[18] | b[19] << 8, 16384);                  // Average chunk size.
  EXPECT_EQ(b[26] | b[27] << 8 | b[28] << 16, 1 << 20);  // Block size.
  EXPECT_EQ(b[30], 0x0f);                                // Corpus id, text order.
}

TEST(HeaderTest, NotAContainer) {
  Status empty = DecodeHeader({}, "c.rdc").status();
  EXPECT_EQ(empty.code(), StatusCode::kCorrupt);
  EXPECT_NE(empty.message().find("not a Reducto container"), std::string::npos);
  std::string text = "hello, this is just some text that is long enough to be a header ...........";
  Status s =
      DecodeHeader({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, "c.rdc").status();
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("not a Reducto container"), std::string::npos);
}

TEST(HeaderTest, TextModeTransferIsRecognized) {
  HeaderBytes b = EncodeHeader(StandaloneHeader());
  std::vector<uint8_t> mangled(b.begin(), b.end());
  mangled.erase(mangled.begin() + 5);  // CRLF -> LF.
  Status s = DecodeHeader(mangled, "c.rdc").status();
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("text-mode"), std::string::npos) << s.ToString();
}

TEST(HeaderTest, TruncatedHeader) {
  HeaderBytes b = EncodeHeader(StandaloneHeader());
  for (size_t n = 1; n < b.size(); ++n) {
    Status s = DecodeHeader(std::span(b).first(n), "c.rdc").status();
    EXPECT_EQ(s.code(), StatusCode::kCorrupt) << n;
    EXPECT_NE(s.message().find("truncated"), std::string::npos) << n << ": " << s.ToString();
  }
}

TEST(HeaderTest, NewerVersionAsksForAnUpgrade) {
  ContainerHeader h = StandaloneHeader();
  h.version = format::kLatestVersion + 1;
  Status s = Decode(EncodeHeader(h)).status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("container format version " + std::to_string(format::kLatestVersion + 1) +
                             " is newer than this reducto supports"),
            std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("upgrade"), std::string::npos);
  // Checked before the checksum: a later version may lay the header out differently.
  HeaderBytes b = EncodeHeader(h);
  b[format::kHeaderChecksumOffset] ^= 1;
  EXPECT_EQ(Decode(b).status().code(), StatusCode::kUnavailable);
  h.version = 0;
  EXPECT_EQ(Decode(EncodeHeader(h)).status().code(), StatusCode::kCorrupt);
}

TEST(HeaderTest, ChecksumCoversEveryField) {
  HeaderBytes good = EncodeHeader(CorpusHeader());
  for (size_t i = format::kHeaderFlagsOffset; i < format::kHeaderSize; ++i) {
    HeaderBytes b = good;
    b[i] ^= 0x40;
    Status s = Decode(b).status();
    EXPECT_EQ(s.code(), StatusCode::kIntegrity) << i;
    EXPECT_NE(s.message().find("header checksum mismatch"), std::string::npos) << i;
  }
}

// Each case writes a validly checksummed header with one field out of range.
TEST(HeaderTest, FieldsOutOfRange) {
  struct Case {
    const char* name;
    void (*mutate)(ContainerHeader*);
    StatusCode code;
    const char* message;
  };
  const Case cases[] = {
      {"encrypted", [](ContainerHeader* h) { h->flags |= 1u << 1; }, StatusCode::kUnavailable,
       "encrypted containers are not supported"},
      {"encrypted bit 3", [](ContainerHeader* h) { h->flags |= 1u << 3; }, StatusCode::kUnavailable,
       "encrypted"},
      {"unknown flag", [](ContainerHeader* h) { h->flags |= 1u << 4; }, StatusCode::kCorrupt,
       "unknown flags"},
      {"unknown flag 15", [](ContainerHeader* h) { h->flags |= 1u << 15; }, StatusCode::kCorrupt,
       "unknown flags"},
      {"level 0", [](ContainerHeader* h) { h->level = 0; }, StatusCode::kCorrupt, "level"},
      {"level 23", [](ContainerHeader* h) { h->level = 23; }, StatusCode::kCorrupt, "level"},
      {"normalization 4", [](ContainerHeader* h) { h->chunking.normalization = 4; },
       StatusCode::kCorrupt, "chunking"},
      {"min >= avg", [](ContainerHeader* h) { h->chunking.min_size = h->chunking.avg_size; },
       StatusCode::kCorrupt, "chunking"},
      {"max too big", [](ContainerHeader* h) { h->chunking.max_size = 32u << 20; },
       StatusCode::kCorrupt, "chunking"},
      {"block size too small", [](ContainerHeader* h) { h->block_size = 4095; },
       StatusCode::kCorrupt, "block size"},
      {"block size too big", [](ContainerHeader* h) { h->block_size = (64u << 20) + 1; },
       StatusCode::kCorrupt, "block size"},
      {"standalone names a corpus", [](ContainerHeader* h) { h->flags |= format::kFlagStandalone; },
       StatusCode::kCorrupt, "standalone"},
      {"standalone with a digest",
       [](ContainerHeader* h) {
         h->flags |= format::kFlagStandalone;
         h->corpus_id = {};
       },
       StatusCode::kCorrupt, "standalone"},
      {"corpus id zero", [](ContainerHeader* h) { h->corpus_id = {}; }, StatusCode::kCorrupt,
       "corpus id is zero"},
  };
  for (const Case& c : cases) {
    ContainerHeader h = CorpusHeader();
    c.mutate(&h);
    Status s = Decode(EncodeHeader(h)).status();
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.name << ": " << s.ToString();
  }
  // The bounds themselves are accepted.
  ContainerHeader h = CorpusHeader();
  h.block_size = format::kMinBlockSize;
  h.level = 1;
  EXPECT_TRUE(Decode(EncodeHeader(h)).ok());
  h.block_size = format::kMaxBlockSize;
  h.level = 22;
  EXPECT_TRUE(Decode(EncodeHeader(h)).ok());
}

BlockHeader ValidBlock() {
  BlockHeader b;
  b.output_size = 1000;
  b.instruction_size = 1003;
  b.payload_size = 900;
  b.output_digest = Blake3(std::vector<uint8_t>(1000, 'x'));
  b.payload_hash = 0x0123456789abcdef;
  return b;
}

TEST(BlockHeaderTest, RoundTrips) {
  BlockHeader block = ValidBlock();
  auto decoded = DecodeBlockHeader(EncodeBlockHeader(block), 4096);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->payload_size, block.payload_size);
  EXPECT_EQ(decoded->instruction_size, block.instruction_size);
  EXPECT_EQ(decoded->output_size, block.output_size);
  EXPECT_EQ(decoded->output_digest, block.output_digest);
  EXPECT_EQ(decoded->payload_hash, block.payload_hash);
}

TEST(BlockHeaderTest, ChecksumCoversEveryByte) {
  BlockHeaderBytes good = EncodeBlockHeader(ValidBlock());
  for (size_t i = 0; i < good.size(); ++i) {
    BlockHeaderBytes b = good;
    b[i] ^= 0x01;
    EXPECT_EQ(DecodeBlockHeader(b, 4096).status().code(), StatusCode::kIntegrity) << i;
  }
}

TEST(BlockHeaderTest, SizesAreBounded) {
  auto code = [](void (*mutate)(BlockHeader*), uint32_t block_size = 4096) {
    BlockHeader b = ValidBlock();
    mutate(&b);
    return DecodeBlockHeader(EncodeBlockHeader(b), block_size).status().code();
  };
  EXPECT_EQ(code([](BlockHeader* b) { b->output_size = 0; }), StatusCode::kCorrupt);
  EXPECT_EQ(code([](BlockHeader* b) { b->output_size = 4097; }), StatusCode::kCorrupt);
  EXPECT_EQ(code([](BlockHeader* b) { b->output_size = 4096; }), StatusCode::kOk);
  EXPECT_EQ(code([](BlockHeader* b) { b->instruction_size = 0; }), StatusCode::kCorrupt);
  EXPECT_EQ(code([](BlockHeader* b) { b->instruction_size = 2064; }), StatusCode::kOk);
  EXPECT_EQ(code([](BlockHeader* b) { b->instruction_size = 2065; }), StatusCode::kCorrupt);
  EXPECT_EQ(code([](BlockHeader* b) { b->payload_size = 0; }), StatusCode::kCorrupt);
  EXPECT_EQ(code([](BlockHeader* b) { b->payload_size = 0xffffffff; }), StatusCode::kCorrupt);
  EXPECT_EQ(code([](BlockHeader* b) {
              b->payload_size = static_cast<uint32_t>(ZSTD_compressBound(b->instruction_size));
            }),
            StatusCode::kOk);
}

TEST(TrailerTest, RoundTripsAndChecksEndMagic) {
  Trailer t{123456789012345, 42, Blake3(std::vector<uint8_t>{9})};
  TrailerBytes bytes = EncodeTrailer(t);
  EXPECT_EQ(bytes[0], format::kRecordTrailer);
  auto decoded = DecodeTrailer(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->output_size, t.output_size);
  EXPECT_EQ(decoded->block_count, t.block_count);
  EXPECT_EQ(decoded->output_digest, t.output_digest);
  bytes[format::kTrailerSize - 1] ^= 1;
  EXPECT_EQ(DecodeTrailer(bytes).status().code(), StatusCode::kCorrupt);
}

// Version 5's trailer digest is BLAKE3 of the blocks' digests, one after the other;
// before, BLAKE3 of the output. An empty output has the same digest in both.
TEST(OutputDigestTest, FromVersion5HashesTheBlockDigests) {
  std::vector<uint8_t> a(5000, 'a');
  std::vector<uint8_t> b = {'b', 'c'};
  std::vector<uint8_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  std::vector<uint8_t> digests;
  for (const auto* block : {&a, &b}) {
    Digest d = Blake3(*block);
    digests.insert(digests.end(), d.begin(), d.end());
  }
  OutputDigest v4(format::kVersion4);
  OutputDigest v5(format::kVersion5);
  for (const auto* block : {&a, &b}) {
    v4.AddBlock(*block, Blake3(*block));
    v5.AddBlock(*block, Blake3(*block));
  }
  EXPECT_EQ(v4.Final(), Blake3(both));
  EXPECT_EQ(v5.Final(), Blake3(digests));
  EXPECT_EQ(OutputDigest(format::kVersion5).Final(), OutputDigest(format::kVersion).Final());
}

}  // namespace
}  // namespace reducto
