// The DELTA instruction of container format version 2: execution, every bound the
// decoder checks, damaged version 2 containers, and which profiles write which version.
#include <gtest/gtest.h>
#include <zstd.h>

#include <cstring>
#include <limits>
#include <string>

#include "codec/container.h"
#include "codec/format.h"
#include "codec/instructions.h"
#include "codec_test_util.h"
#include "fake_corpus.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::AsString;
using testing::DecodeFromString;
using testing::EncodeToString;
using testing::FakeCorpus;
using testing::RandomBytes;
using testing::SmallBlockOptions;

// One zstd frame of `target` compressed with `reference` as its prefix.
std::vector<uint8_t> DeltaPayload(std::span<const uint8_t> target,
                                  std::span<const uint8_t> reference, int level = 3) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_refPrefix(cctx, reference.data(), reference.size());
  std::vector<uint8_t> out(ZSTD_compressBound(target.size()));
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), target.data(), target.size());
  ZSTD_freeCCtx(cctx);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// The reference bytes with every 50th byte changed: what a recompiled binary looks like.
std::vector<uint8_t> Substituted(std::span<const uint8_t> reference) {
  std::vector<uint8_t> out(reference.begin(), reference.end());
  for (size_t i = 7; i < out.size(); i += 50) out[i] ^= 0x5a;
  return out;
}

class DeltaInstructionTest : public ::testing::Test {
 protected:
  DeltaInstructionTest() : corpus_(RandomBytes(5000, 17), ChunkerParams::ForAverage(256)) {}

  std::span<const uint8_t> Ref(size_t from, size_t length) const {
    return std::span<const uint8_t>(corpus_.bytes()).subspan(from, length);
  }

  Status Execute(const std::vector<uint8_t>& stream, size_t output_size,
                 uint16_t version = format::kVersion2, std::string* output = nullptr) {
    std::vector<uint8_t> out(output_size), scratch;
    Status s = ExecuteInstructions(stream, &corpus_, out, &scratch, ExecuteContext{version});
    if (output != nullptr) *output = AsString(out);
    return s;
  }

  // A DELTA of `target` against corpus [address, address + length), raw operands.
  std::vector<uint8_t> Stream(uint64_t address, uint64_t reference_length, uint64_t length,
                              const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> stream = {format::kOpDelta};
    AppendVarint(ZigZagEncode(static_cast<int64_t>(address)), &stream);
    AppendVarint(reference_length, &stream);
    AppendVarint(length, &stream);
    AppendVarint(payload.size(), &stream);
    stream.insert(stream.end(), payload.begin(), payload.end());
    return stream;
  }

  FakeCorpus corpus_;
};

TEST_F(DeltaInstructionTest, DecodesAgainstItsReference) {
  std::vector<uint8_t> target = Substituted(Ref(1000, 2000));
  InstructionWriter w;
  w.Literal(std::vector<uint8_t>{'a', 'b'});
  w.Delta(900, 2200, target.size(), DeltaPayload(target, Ref(900, 2200)));
  w.Copy(3100, 20);  // Delta base: the end of the reference (3100), so delta 0.
  std::string out;
  Status s = Execute(w.bytes(), 2 + target.size() + 20, format::kVersion2, &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, "ab" + AsString(target) + AsString(Ref(3100, 20)));
  EXPECT_EQ(w.bytes()[w.bytes().size() - 2], 0x00);  // The COPY's delta.
}

TEST_F(DeltaInstructionTest, IsUnknownInVersion1) {
  std::vector<uint8_t> target = Substituted(Ref(0, 500));
  auto stream = Stream(0, 500, 500, DeltaPayload(target, Ref(0, 500)));
  Status s = Execute(stream, 500, format::kVersion);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("unknown opcode 0x02"), std::string::npos) << s.ToString();
  EXPECT_TRUE(Execute(stream, 500, format::kVersion2).ok());
}

TEST_F(DeltaInstructionTest, OpcodesAfterDeltaAreUnknown) {
  for (int op = 0x03; op <= 0xff; ++op) {
    std::vector<uint8_t> stream = {static_cast<uint8_t>(op), 1, 'x'};
    Status s = Execute(stream, 1);
    ASSERT_EQ(s.code(), StatusCode::kCorrupt) << op;
    EXPECT_NE(s.message().find("unknown opcode"), std::string::npos);
  }
}

TEST_F(DeltaInstructionTest, ReferenceMustLieInTheCorpus) {
  std::vector<uint8_t> target = Substituted(Ref(4000, 1000));
  auto payload = DeltaPayload(target, Ref(4000, 1000));
  ASSERT_TRUE(Execute(Stream(4000, 1000, 1000, payload), 1000).ok());
  Status s = Execute(Stream(4001, 1000, 1000, payload), 1000);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("past the end of the corpus"), std::string::npos) << s.ToString();
  // Length 0 and longer than the format allows.
  EXPECT_EQ(Execute(Stream(0, 0, 1000, payload), 1000).code(), StatusCode::kCorrupt);
  EXPECT_EQ(Execute(Stream(0, format::kMaxDeltaReference + 1, 1000, payload), 1000).code(),
            StatusCode::kCorrupt);
  // An address that wraps below zero, and one whose end overflows 64 bits.
  EXPECT_EQ(Execute(Stream(static_cast<uint64_t>(-1), 10, 1000, payload), 1000).code(),
            StatusCode::kCorrupt);
  EXPECT_EQ(
      Execute(Stream(std::numeric_limits<uint64_t>::max() - 5, 10, 1000, payload), 1000).code(),
      StatusCode::kCorrupt);
  // No corpus at all.
  std::vector<uint8_t> out(1000), scratch;
  s = ExecuteInstructions(Stream(0, 10, 1000, payload), nullptr, out, &scratch,
                          ExecuteContext{format::kVersion2});
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("standalone"), std::string::npos) << s.ToString();
}

TEST_F(DeltaInstructionTest, ReferenceMustBeTheOneTheFrameWasMadeWith) {
  std::vector<uint8_t> target = Substituted(Ref(1000, 1000));
  auto payload = DeltaPayload(target, Ref(1000, 1000));
  std::string out;
  // Another reference of the same length decodes to other bytes or fails; either way the
  // block digest stops it. It never reads outside the reference.
  Status s = Execute(Stream(2000, 1000, 1000, payload), 1000, format::kVersion2, &out);
  EXPECT_TRUE(!s.ok() || out != AsString(target));
}

TEST_F(DeltaInstructionTest, LengthsAreBounded) {
  std::vector<uint8_t> target = Substituted(Ref(0, 1000));
  auto payload = DeltaPayload(target, Ref(0, 1000));
  // Output length 0, or more than the block has left.
  EXPECT_EQ(Execute(Stream(0, 1000, 0, payload), 1000).code(), StatusCode::kCorrupt);
  EXPECT_EQ(Execute(Stream(0, 1000, 1000, payload), 999).code(), StatusCode::kCorrupt);
  // Payload length 0, past the end of the stream, or above the zstd bound.
  auto stream = Stream(0, 1000, 1000, {});
  EXPECT_EQ(Execute(stream, 1000).code(), StatusCode::kCorrupt);
  stream = Stream(0, 1000, 1000, payload);
  stream.pop_back();
  EXPECT_EQ(Execute(stream, 1000).code(), StatusCode::kCorrupt);
  std::vector<uint8_t> huge(ZSTD_compressBound(10) + 1, 0);
  EXPECT_EQ(Execute(Stream(0, 1000, 10, huge), 10).code(), StatusCode::kCorrupt);
}

TEST_F(DeltaInstructionTest, PayloadMustBeExactlyOneFrameOfTheDeclaredLength) {
  std::vector<uint8_t> target = Substituted(Ref(0, 1000));
  auto payload = DeltaPayload(target, Ref(0, 1000));
  // A frame of another content size.
  EXPECT_EQ(Execute(Stream(0, 1000, 999, payload), 999).code(), StatusCode::kCorrupt);
  // Two frames, and a frame followed by a stray byte.
  auto twice = payload;
  twice.insert(twice.end(), payload.begin(), payload.end());
  EXPECT_EQ(Execute(Stream(0, 1000, 1000, twice), 1000).code(), StatusCode::kCorrupt);
  auto extra = payload;
  extra.push_back(0);
  EXPECT_EQ(Execute(Stream(0, 1000, 1000, extra), 1000).code(), StatusCode::kCorrupt);
  // A frame without a content size.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  ZSTD_CCtx_refPrefix(cctx, Ref(0, 1000).data(), 1000);
  std::vector<uint8_t> unsized(ZSTD_compressBound(target.size()));
  unsized.resize(
      ZSTD_compress2(cctx, unsized.data(), unsized.size(), target.data(), target.size()));
  ZSTD_freeCCtx(cctx);
  Status s = Execute(Stream(0, 1000, 1000, unsized), 1000);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("does not declare"), std::string::npos) << s.ToString();
  // A frame that names a dictionary.
  std::vector<uint8_t> with_dict(ZSTD_compressBound(target.size()));
  cctx = ZSTD_createCCtx();
  ZSTD_CDict* cdict = ZSTD_createCDict(Ref(0, 1000).data(), 1000, 3);
  with_dict.resize(ZSTD_compress_usingCDict(cctx, with_dict.data(), with_dict.size(),
                                            target.data(), target.size(), cdict));
  ZSTD_freeCDict(cdict);
  ZSTD_freeCCtx(cctx);
  if (ZSTD_getDictID_fromFrame(with_dict.data(), with_dict.size()) != 0) {
    EXPECT_EQ(Execute(Stream(0, 1000, 1000, with_dict), 1000).code(), StatusCode::kCorrupt);
  }
}

// zstd frames carry no checksum here: a damaged payload may fail, decode to other
// bytes, or (zstd ignores some bits) to the same bytes. It must never read or write out
// of bounds (run under ASan); the block's payload checksum and BLAKE3 catch the damage
// in a container (DeltaContainerTest.EveryFlippedBitIsDetected).
TEST_F(DeltaInstructionTest, DamagedPayloadFailsCleanly) {
  std::vector<uint8_t> target = Substituted(Ref(0, 2000));
  auto payload = DeltaPayload(target, Ref(0, 2000));
  int failed = 0;
  for (size_t i = 0; i < payload.size(); ++i) {
    for (int bit = 0; bit < 8; bit += 3) {
      auto damaged = payload;
      damaged[i] ^= static_cast<uint8_t>(1 << bit);
      Status s = Execute(Stream(0, 2000, 2000, damaged), 2000);
      if (!s.ok()) {
        ASSERT_EQ(s.code(), StatusCode::kCorrupt) << s.ToString();
        ++failed;
      }
    }
  }
  EXPECT_GT(failed, 0);
}

// A text-like reference and a target with scattered edits: the max profile sends the
// edited runs as DELTA.
std::vector<uint8_t> TextReference(size_t size, uint64_t seed) {
  auto random = RandomBytes(size / 8 + 16, seed);
  std::string text;
  for (size_t i = 0; text.size() < size; ++i) {
    text += std::to_string(i) + "\t" + std::to_string(random[i % random.size()] * 7919u) +
            "\taccount-" + std::to_string(i * 31 % 977) + "\t2026-11-24\n";
  }
  text.resize(size);
  return std::vector<uint8_t>(text.begin(), text.end());
}

// A byte changed every 12 in every other 2 KiB: too dense for copies (each match is
// shorter than the shortest copy), but whole chunks between the edited stretches survive
// as anchors.
std::vector<uint8_t> EditedText(const std::vector<uint8_t>& reference) {
  std::vector<uint8_t> target = reference;
  for (size_t i = 100; i < target.size(); i += 12) {
    if ((i / 2048) % 2 == 1) continue;
    target[i] = static_cast<uint8_t>('a' + i % 26);
  }
  return target;
}

// Every profile writes version 6 (one zstd stream for all blocks, the trailer's digest
// over the blocks' digests, ADD's region prediction). Only max sends DELTAs; the deltas count ADDs too, which the
// edited text gives the default profile.
TEST(DeltaContainerTest, EveryProfileWritesVersion6AndFastSendsNoDelta) {
  auto reference = TextReference(40000, 1);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(1024));
  auto target = EditedText(reference);
  for (Profile profile : {Profile::kFast, Profile::kDefault, Profile::kMax}) {
    SCOPED_TRACE(ProfileName(profile));
    CompressOptions options = SmallBlockOptions(16384);
    options.profile = profile;
    CompressStats stats;
    auto container = EncodeToString(&corpus, target, options, &stats);
    ASSERT_TRUE(container.ok()) << container.status().ToString();
    auto header = DecodeHeader(testing::AsBytes(*container).first(format::kHeaderSize), "c");
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(header->version, format::kVersion6);
    if (profile == Profile::kFast) {
      EXPECT_EQ(stats.deltas, 0u);
    }
    if (profile == Profile::kMax) {
      EXPECT_GT(stats.deltas, 0u);
    }
    EXPECT_EQ(stats.copy_bytes + stats.literal_bytes + stats.delta_bytes, target.size());
    std::string output;
    auto decoded = DecodeFromString(*container, &corpus, &output);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(output == AsString(target));
  }
}

TEST(DeltaContainerTest, EachProfileHasItsLevelUnlessOneIsGiven) {
  auto reference = TextReference(40000, 1);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(1024));
  auto target = EditedText(reference);
  auto level_written = [&](Profile profile, std::optional<int> level) {
    CompressOptions options = SmallBlockOptions(16384);
    options.profile = profile;
    options.level = level;
    auto container = EncodeToString(&corpus, target, options);
    EXPECT_TRUE(container.ok()) << container.status().ToString();
    if (!container.ok()) return -1;
    auto header = DecodeHeader(testing::AsBytes(*container).first(format::kHeaderSize), "c");
    EXPECT_TRUE(header.ok());
    return header.ok() ? header->level : -1;
  };
  EXPECT_EQ(level_written(Profile::kFast, std::nullopt), 3);
  EXPECT_EQ(level_written(Profile::kDefault, std::nullopt), 3);
  EXPECT_EQ(level_written(Profile::kMax, std::nullopt), 9);
  EXPECT_EQ(level_written(Profile::kMax, 3), 3);
  EXPECT_EQ(level_written(Profile::kDefault, 9), 9);
}

TEST(DeltaContainerTest, EveryFlippedBitIsDetected) {
  auto reference = TextReference(12000, 2);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(256));
  auto target = EditedText(reference);
  CompressOptions options = SmallBlockOptions(4096);
  options.profile = Profile::kMax;
  CompressStats stats;
  auto container = EncodeToString(&corpus, target, options, &stats);
  ASSERT_TRUE(container.ok()) << container.status().ToString();
  ASSERT_GT(stats.deltas, 0u);
  ASSERT_LT(container->size(), 20000u);
  for (size_t i = 0; i < container->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = *container;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      std::string output;
      auto result = DecodeFromString(damaged, &corpus, &output);
      ASSERT_FALSE(result.ok()) << "byte " << i << " bit " << bit;
      StatusCode code = result.status().code();
      ASSERT_TRUE(code == StatusCode::kCorrupt || code == StatusCode::kIntegrity ||
                  code == StatusCode::kUnavailable)
          << "byte " << i << " bit " << bit << ": " << result.status().ToString();
    }
  }
}

}  // namespace
}  // namespace reducto
