// Golden containers freeze the format: every version ever written must still decode to
// the committed output. tests/codec/golden/v1-standalone.rdc was written once by
// DISABLED_WriteV1Standalone below (run it with --gtest_also_run_disabled_tests only
// when adding a new golden file; never to "fix" a failing test).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "codec/container.h"
#include "codec/format.h"
#include "codec_test_util.h"
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

}  // namespace
}  // namespace reducto
