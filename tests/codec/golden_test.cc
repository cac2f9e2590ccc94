// Golden containers freeze the format: every version ever written must still decode to
// the committed output. tests/codec/golden/v1-standalone.rdc and v2-delta.rdc were
// written by the encoder of their time (up to commit 6778b43, which wrote versions 1
// and 2) from GoldenInput() and GoldenDeltaInput() below; the encoder now writes
// version 6, so they can never be written again. v3-stream.rdc was written once by
// DISABLED_WriteV3Stream (before the default profile wrote version 4), v4-add.rdc by
// DISABLED_WriteV4Add, v5-digests.rdc by DISABLED_WriteV5Digests and v6-regions.rdc by
// DISABLED_WriteV6Regions (run them with
// --gtest_also_run_disabled_tests only when adding a new golden file; never to "fix" a
// failing test).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "codec/container.h"
#include "codec/format.h"
#include "codec_test_util.h"
#include "fake_corpus.h"
#include "test_support.h"
#include "x86_sample.h"

namespace reducto {
namespace {

using testing::AsBytes;
using testing::AsString;

std::string GoldenPath(const std::string& name) {
  return std::string(REDUCTO_SOURCE_DIR) + "/tests/codec/golden/" + name;
}

// What a golden container must say and produce.
struct GoldenExpectation {
  uint16_t version = 0;
  uint32_t block_size = 0;
  uint64_t blocks = 0;
  std::vector<uint8_t> output;
};

// Decodes tests/codec/golden/NAME.rdc against `corpus` (nullptr: standalone) and checks
// its header and its output against NAME.out and `expected`. Returns the container.
std::string ExpectGoldenDecodes(const std::string& name, const CorpusReader* corpus,
                                const GoldenExpectation& expected) {
  std::vector<uint8_t> container_bytes = testing::ReadFile(GoldenPath(name + ".rdc"));
  EXPECT_FALSE(container_bytes.empty());
  EXPECT_EQ(testing::ReadFile(GoldenPath(name + ".out")), expected.output);
  auto header = DecodeHeader(std::span(container_bytes).first(format::kHeaderSize), "golden");
  EXPECT_TRUE(header.ok()) << header.status().ToString();
  if (!header.ok()) return {};
  EXPECT_EQ(header->version, expected.version);
  EXPECT_EQ(header->standalone(), corpus == nullptr);
  EXPECT_EQ(header->block_size, expected.block_size);
  std::string container = AsString(container_bytes);
  std::string output;
  auto stats = testing::DecodeFromString(container, corpus, &output);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  if (stats.ok()) {
    EXPECT_EQ(stats->blocks, expected.blocks);
  }
  EXPECT_TRUE(output == AsString(expected.output));
  return container;
}

// `container` with its header relabelled as format `version`, decoded against `corpus`.
Status DecodeAsVersion(std::string container, const CorpusReader* corpus, uint16_t version) {
  auto header = DecodeHeader(AsBytes(container).first(format::kHeaderSize), "golden");
  if (!header.ok()) return header.status();
  header->version = version;
  HeaderBytes relabelled = EncodeHeader(*header);
  container.replace(0, relabelled.size(), AsString(relabelled));
  std::string output;
  return testing::DecodeFromString(container, corpus, &output).status();
}

// Encodes `input` with `options` and writes NAME.rdc and NAME.out (DISABLED_Write tests).
CompressStats WriteGolden(const std::string& name, const CorpusReader* corpus,
                          const std::vector<uint8_t>& input, const CompressOptions& options) {
  CompressStats stats;
  auto container = testing::EncodeToString(corpus, input, options, &stats);
  EXPECT_TRUE(container.ok()) << container.status().ToString();
  if (!container.ok()) return stats;
  testing::WriteFile(GoldenPath(name + ".rdc"),
                     std::vector<uint8_t>(container->begin(), container->end()));
  testing::WriteFile(GoldenPath(name + ".out"), input);
  return stats;
}

// 20 KiB of text with 1 KiB of random bytes inside: several 4 KiB blocks, literals that
// compress and literals that do not.
std::vector<uint8_t> GoldenInput() {
  std::string text;
  for (int i = 0; text.size() < 20000; ++i) {
    text += "line " + std::to_string(i) + ": the Reducto container format, version 1\n";
  }
  text.resize(20000);
  std::vector<uint8_t> input(text.begin(), text.end());
  auto random = testing::RandomBytes(1024, 2024);
  input.insert(input.begin() + 9000, random.begin(), random.end());
  return input;
}

TEST(GoldenTest, V1StandaloneStillDecodes) {
  std::vector<uint8_t> input = GoldenInput();
  ASSERT_EQ(input.size(), 21024u);
  std::string container = ExpectGoldenDecodes("v1-standalone", nullptr, {1, 4096, 6, input});
  auto header = DecodeHeader(AsBytes(container).first(format::kHeaderSize), "golden");
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->level, 19);
}

// The corpus of v2-delta.rdc, rebuilt from a seed: 48 KiB of table rows.
testing::FakeCorpus GoldenCorpus() {
  std::string text;
  auto random = testing::RandomBytes(4096, 2026);
  for (size_t i = 0; text.size() < 48 * 1024; ++i) {
    text += std::to_string(i) + "\t" + std::to_string(random[i % random.size()] * 7919u) +
            "\taccount-" + std::to_string(i * 31 % 977) + "\t2026-11-24\n";
  }
  return testing::FakeCorpus(std::vector<uint8_t>(text.begin(), text.end()),
                             ChunkerParams::ForAverage(512), "7e57da7a-0002-4d17-a000-00000000de17");
}

// The target of v2-delta.rdc: the corpus with a byte changed every 12 in every other
// 2 KiB (DELTA), rows deleted (COPY) and new rows (LITERAL).
std::vector<uint8_t> GoldenDeltaInput(const std::vector<uint8_t>& reference) {
  std::vector<uint8_t> target = reference;
  for (size_t i = 100; i < target.size(); i += 12) {
    if ((i / 2048) % 2 == 0) target[i] = static_cast<uint8_t>('a' + i % 26);
  }
  target.erase(target.begin() + 30000, target.begin() + 30500);
  std::string fresh = "new row: the Reducto container format, version 2\n";
  target.insert(target.begin() + 40000, fresh.begin(), fresh.end());
  return target;
}

TEST(GoldenTest, V2DeltaStillDecodes) {
  testing::FakeCorpus corpus = GoldenCorpus();
  std::string container = ExpectGoldenDecodes("v2-delta", &corpus,
                                               {2, 16384, 3, GoldenDeltaInput(corpus.bytes())});
  // The same container relabelled as version 1 fails on its first DELTA: the file holds
  // the instruction this golden file exists for.
  Status s = DecodeAsVersion(container, &corpus, 1);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("unknown opcode 0x02"), std::string::npos) << s.ToString();
}

// The target of v3-stream.rdc (default profile: COPY and LITERAL; DELTA is frozen by
// v2-delta.rdc and means the same in version 3): the v2 target with 3 KiB of new random
// bytes inserted twice, 24 KiB apart, so that zstd finds the second copy's literals in
// the frame's window, in an earlier block. Blocks of 16 KiB.
std::vector<uint8_t> GoldenStreamInput(const std::vector<uint8_t>& reference) {
  std::vector<uint8_t> target = GoldenDeltaInput(reference);
  auto fresh = testing::RandomBytes(3072, 2027);
  target.insert(target.begin() + 30000, fresh.begin(), fresh.end());
  target.insert(target.begin() + 6000, fresh.begin(), fresh.end());
  return target;
}

TEST(GoldenTest, V3StreamStillDecodes) {
  testing::FakeCorpus corpus = GoldenCorpus();
  std::string container = ExpectGoldenDecodes("v3-stream", &corpus,
                                               {3, 16384, 4, GoldenStreamInput(corpus.bytes())});
  // Relabelled as version 2, whose blocks are frames of their own, the first payload is
  // not a whole frame: it starts the one frame of all blocks.
  Status s = DecodeAsVersion(container, &corpus, 2);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt) << s.ToString();
  EXPECT_NE(s.message().find("block 0"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("not exactly one zstd frame"), std::string::npos) << s.ToString();
}

TEST(GoldenTest, DISABLED_WriteV3Stream) {
  testing::FakeCorpus corpus = GoldenCorpus();
  CompressOptions options = testing::SmallBlockOptions(16384);
  options.level = 19;
  CompressStats stats =
      WriteGolden("v3-stream", &corpus, GoldenStreamInput(corpus.bytes()), options);
  EXPECT_GT(stats.copies, 0u);
  EXPECT_GT(stats.literal_bytes, 6000u);
}

// The corpus and target of v4-add.rdc: a synthetic x86-64 program (x86_sample.h) and
// its rebuild with function 20 grown by 48 bytes, so that calls across it change.
testing::X86Sample GoldenAddSample() {
  testing::X86Sample sample;
  sample.seed = 2028;
  return sample;
}

testing::FakeCorpus GoldenAddCorpus() {
  return testing::FakeCorpus(testing::MakeX86Sample(GoldenAddSample()),
                             ChunkerParams::ForAverage(512), "7e57da7a-0004-4d17-a000-00000000add4");
}

std::vector<uint8_t> GoldenAddInput() {
  testing::X86Sample sample = GoldenAddSample();
  sample.grown = 20;
  sample.growth = 48;
  return testing::MakeX86Sample(sample);
}

TEST(GoldenTest, V4AddStillDecodes) {
  testing::FakeCorpus corpus = GoldenAddCorpus();
  std::string container = ExpectGoldenDecodes("v4-add", &corpus, {4, 16384, 2, GoldenAddInput()});
  // Relabelled as version 3, the first ADD is an unknown opcode: the file holds the
  // instruction it exists for.
  Status s = DecodeAsVersion(container, &corpus, 3);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("unknown opcode 0x03"), std::string::npos) << s.ToString();
}

TEST(GoldenTest, DISABLED_WriteV4Add) {
  testing::FakeCorpus corpus = GoldenAddCorpus();
  CompressOptions options = testing::SmallBlockOptions(16384);
  CompressStats stats = WriteGolden("v4-add", &corpus, GoldenAddInput(), options);
  EXPECT_GT(stats.deltas, 0u);
}

// The target of v5-digests.rdc: v4-add.rdc's, in blocks of 4 KiB, so that the trailer's
// digest (of the blocks' digests, the one change of version 5) covers six blocks.
TEST(GoldenTest, V5DigestsStillDecodes) {
  testing::FakeCorpus corpus = GoldenAddCorpus();
  std::string container =
      ExpectGoldenDecodes("v5-digests", &corpus, {5, 4096, 6, GoldenAddInput()});
  // Relabelled as version 4, the trailer's digest is read as one of the whole output
  // and does not match it: the file holds the digest it exists for.
  Status s = DecodeAsVersion(container, &corpus, 4);
  EXPECT_EQ(s.code(), StatusCode::kIntegrity) << s.ToString();
  EXPECT_NE(s.message().find("digest in the trailer"), std::string::npos) << s.ToString();
}

TEST(GoldenTest, DISABLED_WriteV5Digests) {
  testing::FakeCorpus corpus = GoldenAddCorpus();
  CompressOptions options = testing::SmallBlockOptions(4096);
  CompressStats stats = WriteGolden("v5-digests", &corpus, GoldenAddInput(), options);
  EXPECT_GT(stats.deltas, 0u);
}

// The target of v6-regions.rdc: v4-add.rdc's, in one block of 64 KiB, so that first
// calls into a region whose functions moved alike are predicted from it (the one change
// of version 6).
TEST(GoldenTest, V6RegionsStillDecodes) {
  testing::FakeCorpus corpus = GoldenAddCorpus();
  std::string container =
      ExpectGoldenDecodes("v6-regions", &corpus, {6, 65536, 1, GoldenAddInput()});
  // Relabelled as version 5, those displacements are predicted as the old ones, the
  // block's output differs from its digest: the file holds the predictions it exists for.
  Status s = DecodeAsVersion(container, &corpus, 5);
  EXPECT_EQ(s.code(), StatusCode::kIntegrity) << s.ToString();
}

TEST(GoldenTest, DISABLED_WriteV6Regions) {
  testing::FakeCorpus corpus = GoldenAddCorpus();
  CompressOptions options = testing::SmallBlockOptions(65536);
  CompressStats stats = WriteGolden("v6-regions", &corpus, GoldenAddInput(), options);
  EXPECT_GT(stats.deltas, 0u);
}

}  // namespace
}  // namespace reducto
