// The block builder: how pieces become one block's instructions, and how the block
// pipeline cuts the target into blocks.
#include "codec/block_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/format.h"
#include "codec/instructions.h"
#include "fake_corpus.h"
#include "x86_sample.h"
#include "reducto/io.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;

InstructionTally Tally(const BlockJob& job) {
  InstructionTally tally;
  EXPECT_TRUE(TallyInstructions(job.instructions, format::kVersion3, &tally).ok());
  return tally;
}

TEST(BlockBuilderTest, MergesNeighboursAndSendsShortCopiesAsLiterals) {
  const std::vector<uint8_t> bytes = RandomBytes(200, 3);
  const std::span<const uint8_t> b(bytes);
  CompressStats stats;
  BlockBuilder builder(&stats, nullptr, nullptr);
  builder.AddLiteral(b.subspan(0, 5));
  builder.AddLiteral(b.subspan(5, 5));
  builder.AddCopy(1000, b.subspan(10, 40));
  builder.AddCopy(1040, b.subspan(50, 30));  // Continues the copy before it.
  builder.AddCopy(5000, b.subspan(80, format::kMinCopyLength - 1));  // Too short to copy.
  BlockJob job;
  builder.Finish(&job);

  EXPECT_FALSE(job.hashed);
  EXPECT_EQ(job.output_size, 80 + format::kMinCopyLength - 1);
  EXPECT_EQ(job.output, std::vector<uint8_t>(bytes.begin(), bytes.begin() + job.output_size));
  EXPECT_EQ(stats.copies, 1u);
  EXPECT_EQ(stats.copy_bytes, 70u);
  EXPECT_EQ(stats.literal_bytes, 10 + format::kMinCopyLength - 1);
  InstructionTally tally = Tally(job);
  EXPECT_EQ(tally.corpus_ranges, (std::vector<std::pair<uint64_t, uint64_t>>{{1000, 70}}));
  EXPECT_EQ(tally.literal_bytes, stats.literal_bytes);
}

// In ADD mode a copy too short to send, from elsewhere, is a literal that stays in the
// open region's tail: the edited bytes and it join the region when the next copy
// continues its alignment, and the block is one ADD.
TEST(BlockBuilderTest, AShortCopyElsewhereLeavesTheAddRegionOpen) {
  const std::vector<uint8_t> reference = RandomBytes(10000, 5);
  testing::FakeCorpus corpus(reference, ChunkerParams::ForAverage(1024));
  Result<CorpusView> view = CorpusView::Open(corpus);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  std::vector<uint8_t> target(reference.begin() + 1000, reference.begin() + 1200);
  for (size_t i = 100; i < 104; ++i) target[i] ^= 0xff;  // An edited field,
  std::copy_n(reference.begin() + 5000, 10, target.begin() + 104);  // then 10 bytes from 5000.
  const std::span<const uint8_t> t(target);
  CompressStats stats;
  BlockBuilder builder(&stats, nullptr, nullptr);
  builder.EnableAdds(&*view);
  builder.AddCopy(1000, t.first(100));
  builder.AddLiteral(t.subspan(100, 4));
  builder.AddCopy(5000, t.subspan(104, 10));
  builder.AddCopy(1114, t.subspan(114));
  BlockJob job;
  builder.Finish(&job);

  InstructionTally tally;
  ASSERT_TRUE(TallyInstructions(job.instructions, format::kVersion4, &tally).ok());
  EXPECT_EQ(tally.adds, 1u);
  EXPECT_EQ(tally.literal_bytes, 0u);
  EXPECT_EQ(tally.corpus_ranges, (std::vector<std::pair<uint64_t, uint64_t>>{{1000, 200}}));
  std::vector<uint8_t> output(target.size());
  std::vector<uint8_t> scratch;
  ExecuteContext context;
  context.version = format::kVersion4;
  ASSERT_TRUE(ExecuteInstructions(job.instructions, &corpus, output, &scratch, context).ok());
  EXPECT_EQ(output, target);
}

// Sends `target` (rebuilt code: the reference with `growth` bytes inserted at `at`) to
// the builder as copies of its equal runs and literals between, at the alignment each
// side of the insertion has, as the local search would find them.
void AddRebuiltCode(BlockBuilder& builder, const std::vector<uint8_t>& reference,
                    const std::vector<uint8_t>& target, size_t at, size_t growth) {
  const std::span<const uint8_t> t(target);
  size_t i = 0;
  while (i < target.size()) {
    if (i >= at && i < at + growth) {
      builder.AddLiteral(t.subspan(i, at + growth - i));
      i = at + growth;
      continue;
    }
    const size_t address = i < at ? i : i - growth;
    const size_t end = i < at ? at : target.size();
    size_t j = i;
    while (j < end && target[j] == reference[address + (j - i)]) ++j;
    if (j > i) {
      builder.AddCopy(address, t.subspan(i, j - i));
    } else {
      while (j < end && target[j] != reference[address + (j - i)]) ++j;
      builder.AddLiteral(t.subspan(i, j - i));
    }
    i = j;
  }
}

// A block that continues code is code from its first byte when the ADDs of the last
// code_window bytes of output predicted enough displacements; without a window, only
// once its own ADDs did. The verdict lapses once the window has passed them.
TEST(BlockBuilderTest, TheCodeWindowCarriesTheVerdictIntoTheNextBlock) {
  testing::X86Sample sample;
  sample.functions = 200;
  const std::vector<uint8_t> reference = testing::MakeX86Sample(sample);
  sample.grown = 20;
  sample.growth = 48;
  const std::vector<uint8_t> target = testing::MakeX86Sample(sample);
  testing::FakeCorpus corpus(reference, ChunkerParams::ForAverage(1024));
  Result<CorpusView> view = CorpusView::Open(corpus);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  const std::vector<uint8_t> text = RandomBytes(100000, 8);
  for (uint64_t window : {uint64_t{0}, uint64_t{64} << 10}) {
    CompressStats stats;
    BlockBuilder builder(&stats, nullptr, nullptr);
    builder.EnableAdds(&*view);
    builder.set_code_window(window);
    EXPECT_FALSE(builder.IsCode());
    AddRebuiltCode(builder, reference, target, 20 * sample.body + sample.body / 2, 48);
    EXPECT_TRUE(builder.IsCode());
    BlockJob job;
    builder.Finish(&job);
    EXPECT_EQ(builder.IsCode(), window > 0) << window;
    builder.AddLiteral(text);  // 100,000 bytes: past the window.
    EXPECT_FALSE(builder.IsCode()) << window;
  }
}

// With one thread the builder hashes as bytes come: the block's digest and the
// target's must be those of its bytes, whether they came as copies or literals.
TEST(BlockBuilderTest, HashingAsBytesComeGivesTheBlocksDigest) {
  const std::vector<uint8_t> bytes = RandomBytes(3 * kHashStage + 123, 4);
  const std::span<const uint8_t> b(bytes);
  CompressStats stats;
  Blake3Hasher whole;
  BlockBuilder builder(&stats, nullptr, &whole);
  builder.AddLiteral(b.first(100));
  builder.AddCopy(0, b.subspan(100, kHashStage + 7));  // Hashed straight from the span.
  builder.AddLiteral(b.subspan(kHashStage + 107, kHashStage));
  builder.AddCopy(7, b.subspan(2 * kHashStage + 107));
  BlockJob job;
  builder.Finish(&job);

  EXPECT_TRUE(job.hashed);
  EXPECT_TRUE(job.output.empty());
  EXPECT_EQ(job.output_size, bytes.size());
  EXPECT_TRUE(DigestEqual(job.digest, Blake3(bytes)));
  EXPECT_TRUE(DigestEqual(whole.Final(), Blake3(bytes)));
}

TEST(BlockPipelineTest, FillsBlocksToTheBlockSize) {
  constexpr uint32_t kBlock = format::kMinBlockSize;
  const std::vector<uint8_t> bytes = RandomBytes(2 * kBlock + kBlock / 2, 5);
  for (int threads : {1, 3}) {
    SCOPED_TRACE(threads);
    std::string container;
    auto sink = MemorySink(&container);
    ContainerWriter writer(*sink);
    CompressStats stats;
    std::vector<uint64_t> ended;
    BlockPipeline blocks(writer, 3, kBlock, threads, &stats, nullptr,
                         [&](uint64_t block_bytes) { ended.push_back(block_bytes); });
    const std::span<const uint8_t> b(bytes);
    ASSERT_TRUE(blocks.Append(b.first(kBlock / 2), std::nullopt).ok());
    EXPECT_EQ(blocks.room(), kBlock / 2);
    // Split across the first two blocks.
    ASSERT_TRUE(blocks.Append(b.subspan(kBlock / 2, kBlock), uint64_t{4096}).ok());
    ASSERT_TRUE(blocks.Append(b.subspan(kBlock + kBlock / 2), std::nullopt).ok());
    EXPECT_EQ(blocks.ended_blocks(), 2u);
    ASSERT_TRUE(blocks.Finish(Status::Ok()).ok());

    EXPECT_EQ(ended, (std::vector<uint64_t>{kBlock, kBlock, kBlock / 2}));
    EXPECT_EQ(blocks.ended_bytes(), bytes.size());
    EXPECT_EQ(stats.blocks, 3u);
    EXPECT_EQ(stats.input_bytes, bytes.size());
    EXPECT_EQ(stats.copies, 2u);  // The copy, split at the block's end.
    EXPECT_EQ(stats.copy_bytes, kBlock);
    EXPECT_TRUE(DigestEqual(blocks.TargetDigest(), Blake3(bytes)));
    EXPECT_FALSE(container.empty());
  }
}

TEST(BlockPipelineTest, AnEncoderErrorEndsNoMoreBlocks) {
  std::string container;
  auto sink = MemorySink(&container);
  ContainerWriter writer(*sink);
  CompressStats stats;
  int ended = 0;
  BlockPipeline blocks(writer, 3, format::kMinBlockSize, 1, &stats, nullptr,
                       [&](uint64_t) { ++ended; });
  const std::vector<uint8_t> bytes = RandomBytes(100, 6);
  ASSERT_TRUE(blocks.Append(bytes, std::nullopt).ok());
  Status s = blocks.Finish(Status::Corrupt("damaged"));
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_EQ(ended, 0);
  EXPECT_EQ(stats.blocks, 0u);
}

}  // namespace
}  // namespace reducto
