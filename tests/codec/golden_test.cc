// Golden containers freeze the format: every version ever written must still decode to
// the committed output. tests/codec/golden/v1-standalone.rdc, v2-delta.rdc and
// v3-stream.rdc were written once by the DISABLED_Write tests below (run them with
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

namespace reducto {
namespace {

using testing::AsBytes;
using testing::AsString;

std::string GoldenPath(const std::string& name) {
  return std::string(REDUCTO_SOURCE_DIR) + "/tests/codec/golden/" + name;
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
  std::vector<uint8_t> container_bytes = testing::ReadFile(GoldenPath("v1-standalone.rdc"));
  std::vector<uint8_t> expected = testing::ReadFile(GoldenPath("v1-standalone.out"));
  ASSERT_FALSE(container_bytes.empty());
  ASSERT_EQ(expected.size(), 21024u);
  std::string container = AsString(container_bytes);

  auto header = DecodeHeader(std::span(container_bytes).first(format::kHeaderSize), "golden");
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->version, 1);
  EXPECT_TRUE(header->standalone());
  EXPECT_EQ(header->block_size, 4096u);
  EXPECT_EQ(header->level, 19);

  std::string output;
  auto stats = testing::DecodeFromString(container, nullptr, &output);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->blocks, 6u);
  EXPECT_TRUE(output == AsString(expected));
}

TEST(GoldenTest, DISABLED_WriteV1Standalone) {
  CompressOptions options = testing::SmallBlockOptions(4096);
  options.level = 19;
  std::vector<uint8_t> input = GoldenInput();
  auto container = testing::EncodeToString(nullptr, input, options);
  ASSERT_TRUE(container.ok()) << container.status().ToString();
  testing::WriteFile(GoldenPath("v1-standalone.rdc"),
                     std::vector<uint8_t>(container->begin(), container->end()));
  testing::WriteFile(GoldenPath("v1-standalone.out"), input);
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
  std::vector<uint8_t> container_bytes = testing::ReadFile(GoldenPath("v2-delta.rdc"));
  std::vector<uint8_t> expected = testing::ReadFile(GoldenPath("v2-delta.out"));
  ASSERT_FALSE(container_bytes.empty());
  ASSERT_EQ(expected, GoldenDeltaInput(corpus.bytes()));
  std::string container = AsString(container_bytes);

  auto header = DecodeHeader(std::span(container_bytes).first(format::kHeaderSize), "golden");
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->version, 2);
  EXPECT_FALSE(header->standalone());
  EXPECT_EQ(header->block_size, 16384u);

  std::string output;
  auto stats = testing::DecodeFromString(container, &corpus, &output);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->blocks, 3u);
  EXPECT_TRUE(output == AsString(expected));

  // The same container relabelled as version 1 fails on its first DELTA: the file holds
  // the instruction this golden file exists for.
  ContainerHeader v1 = *header;
  v1.version = 1;
  HeaderBytes v1_bytes = EncodeHeader(v1);
  container.replace(0, v1_bytes.size(), AsString(v1_bytes));
  Status s = testing::DecodeFromString(container, &corpus, &output).status();
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("unknown opcode 0x02"), std::string::npos) << s.ToString();
}

TEST(GoldenTest, DISABLED_WriteV2Delta) {
  testing::FakeCorpus corpus = GoldenCorpus();
  CompressOptions options = testing::SmallBlockOptions(16384);
  options.profile = Profile::kMax;
  options.level = 19;
  std::vector<uint8_t> input = GoldenDeltaInput(corpus.bytes());
  CompressStats stats;
  auto container = testing::EncodeToString(&corpus, input, options, &stats);
  ASSERT_TRUE(container.ok()) << container.status().ToString();
  ASSERT_GT(stats.deltas, 0u);
  ASSERT_GT(stats.copies, 0u);
  ASSERT_GT(stats.literal_bytes, 0u);
  testing::WriteFile(GoldenPath("v2-delta.rdc"),
                     std::vector<uint8_t>(container->begin(), container->end()));
  testing::WriteFile(GoldenPath("v2-delta.out"), input);
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
  std::vector<uint8_t> container_bytes = testing::ReadFile(GoldenPath("v3-stream.rdc"));
  std::vector<uint8_t> expected = testing::ReadFile(GoldenPath("v3-stream.out"));
  ASSERT_FALSE(container_bytes.empty());
  ASSERT_EQ(expected, GoldenStreamInput(corpus.bytes()));
  std::string container = AsString(container_bytes);

  auto header = DecodeHeader(std::span(container_bytes).first(format::kHeaderSize), "golden");
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->version, 3);
  EXPECT_FALSE(header->standalone());
  EXPECT_EQ(header->block_size, 16384u);

  std::string output;
  auto stats = testing::DecodeFromString(container, &corpus, &output);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->blocks, 4u);
  EXPECT_TRUE(output == AsString(expected));

  // Relabelled as version 2, whose blocks are frames of their own, the first payload is
  // not a whole frame: it starts the one frame of all blocks.
  ContainerHeader v2 = *header;
  v2.version = 2;
  HeaderBytes v2_bytes = EncodeHeader(v2);
  container.replace(0, v2_bytes.size(), AsString(v2_bytes));
  Status s = testing::DecodeFromString(container, &corpus, &output).status();
  EXPECT_EQ(s.code(), StatusCode::kCorrupt) << s.ToString();
  EXPECT_NE(s.message().find("block 0"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("not exactly one zstd frame"), std::string::npos) << s.ToString();
}

TEST(GoldenTest, DISABLED_WriteV3Stream) {
  testing::FakeCorpus corpus = GoldenCorpus();
  CompressOptions options = testing::SmallBlockOptions(16384);
  options.level = 19;
  std::vector<uint8_t> input = GoldenStreamInput(corpus.bytes());
  CompressStats stats;
  auto container = testing::EncodeToString(&corpus, input, options, &stats);
  ASSERT_TRUE(container.ok()) << container.status().ToString();
  ASSERT_GT(stats.copies, 0u);
  ASSERT_GT(stats.literal_bytes, 6000u);
  testing::WriteFile(GoldenPath("v3-stream.rdc"),
                     std::vector<uint8_t>(container->begin(), container->end()));
  testing::WriteFile(GoldenPath("v3-stream.out"), input);
}

}  // namespace
}  // namespace reducto
