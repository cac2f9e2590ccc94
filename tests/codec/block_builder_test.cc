// The block builder: how pieces become one block's instructions, and how the block
// pipeline cuts the target into blocks.
#include "codec/block_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/format.h"
#include "codec/instructions.h"
#include "codec_test_util.h"
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
  BlockBuilder builder(&stats, nullptr);
  builder.AddLiteral(b.subspan(0, 5));
  builder.AddLiteral(b.subspan(5, 5));
  builder.AddCopy(1000, b.subspan(10, 40));
  builder.AddCopy(1040, b.subspan(50, 30));  // Continues the copy before it.
  builder.AddCopy(5000, b.subspan(80, format::kMinCopyLength - 1));  // Too short to copy.
  BlockJob job;
  builder.Finish(&job);

  EXPECT_EQ(job.output_size, 80 + format::kMinCopyLength - 1);
  EXPECT_TRUE(DigestEqual(job.digest, Blake3(b.first(job.output_size))));
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
  BlockBuilder builder(&stats, nullptr);
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
    BlockBuilder builder(&stats, nullptr);
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

// The builder hashes bytes as they come: the block's digest must be that of its bytes,
// whether they came as copies or literals.
TEST(BlockBuilderTest, HashingAsBytesComeGivesTheBlocksDigest) {
  const std::vector<uint8_t> bytes = RandomBytes(3 * kHashStage + 123, 4);
  const std::span<const uint8_t> b(bytes);
  CompressStats stats;
  BlockBuilder builder(&stats, nullptr);
  builder.AddLiteral(b.first(100));
  builder.AddCopy(0, b.subspan(100, kHashStage + 7));  // Hashed straight from the span.
  builder.AddLiteral(b.subspan(kHashStage + 107, kHashStage));
  builder.AddCopy(7, b.subspan(2 * kHashStage + 107));
  BlockJob job;
  builder.Finish(&job);

  EXPECT_EQ(job.output_size, bytes.size());
  EXPECT_TRUE(DigestEqual(job.digest, Blake3(bytes)));
}

TEST(BlockSequenceTest, FillsBlocksToTheBlockSize) {
  constexpr uint32_t kBlock = format::kMinBlockSize;
  const std::vector<uint8_t> bytes = RandomBytes(2 * kBlock + kBlock / 2, 5);
  CompressStats stats;
  BlockSequence blocks(kBlock, &stats);
  std::vector<BlockJob> jobs;
  size_t count = 99;
  blocks.Start(&jobs, &count, nullptr);
  EXPECT_EQ(count, 0u);
  const std::span<const uint8_t> b(bytes);
  blocks.Append(b.first(kBlock / 2), std::nullopt);
  EXPECT_EQ(blocks.room(), kBlock / 2);
  // Split across the first two blocks.
  blocks.Append(b.subspan(kBlock / 2, kBlock), uint64_t{4096});
  blocks.Append(b.subspan(kBlock + kBlock / 2), std::nullopt);
  EXPECT_EQ(count, 2u);
  blocks.Finish();

  ASSERT_EQ(count, 3u);
  for (size_t i = 0; i < count; ++i) {
    SCOPED_TRACE(i);
    const size_t size = i < 2 ? kBlock : kBlock / 2;
    EXPECT_EQ(jobs[i].output_size, size);
    EXPECT_TRUE(DigestEqual(jobs[i].digest, Blake3(b.subspan(i * kBlock, size))));
  }
  EXPECT_EQ(stats.input_bytes, bytes.size());
  EXPECT_EQ(stats.copies, 2u);  // The copy, split at the block's end.
  EXPECT_EQ(stats.copy_bytes, kBlock);

  // A second segment starts at the first job again, reusing its buffers.
  blocks.Start(&jobs, &count, nullptr);
  blocks.Append(b.first(100), std::nullopt);
  blocks.Finish();
  ASSERT_EQ(count, 1u);
  EXPECT_EQ(jobs.size(), 3u);
  EXPECT_TRUE(DigestEqual(jobs[0].digest, Blake3(b.first(100))));
}

TEST(BlockStreamWriterTest, TheLastBlockWrittenEndsTheFrame) {
  std::string container;
  auto sink = MemorySink(&container);
  ContainerWriter writer(*sink);
  CompressStats stats;
  BlockStreamWriter stream(writer, 3, &stats);
  const std::vector<uint8_t> bytes = RandomBytes(100, 6);
  BlockJob job;
  InstructionWriter instructions;
  instructions.Literal(bytes);
  instructions.TakeBytesInto(&job.instructions);
  job.output_size = bytes.size();
  ASSERT_TRUE(stream.Write(job).ok());
  EXPECT_EQ(stats.blocks, 0u);  // Held back: it may be the last.
  EXPECT_TRUE(container.empty());
  ASSERT_TRUE(stream.Finish().ok());
  EXPECT_EQ(stats.blocks, 1u);
  // One record whose payload is one zstd frame, ended, holding the instructions.
  InstructionWriter again;
  again.Literal(bytes);
  ASSERT_GT(container.size(), format::kBlockHeaderSize);
  std::vector<uint8_t> decoded(again.bytes().size());
  BlockStreamDecompressor decompressor;
  const auto payload = testing::AsBytes(container).subspan(format::kBlockHeaderSize);
  ASSERT_TRUE(decompressor.Decompress(payload, decoded).ok());
  EXPECT_TRUE(decompressor.Finish().ok());
  EXPECT_EQ(decoded, again.bytes());
}

}  // namespace
}  // namespace reducto
