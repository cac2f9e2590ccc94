// The zstd stream of a version 3 container (codec/block_stream.h): blocks continue one
// frame, each payload decodes to exactly its block's instructions, and the frame ends
// with the last block. Damage to that structure is Corrupt, never a crash.
#include "codec/block_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/container.h"
#include "codec/format.h"
#include "codec_test_util.h"
#include "random_bytes.h"

namespace reducto {
namespace {

using testing::AsBytes;
using testing::AsString;
using testing::RandomBytes;

// Payloads of `blocks` compressed as one stream; the last ends the frame if `end`.
std::vector<std::vector<uint8_t>> Compress(const std::vector<std::vector<uint8_t>>& blocks,
                                           bool end = true) {
  BlockStreamCompressor stream(3);
  std::vector<std::vector<uint8_t>> payloads;
  for (size_t i = 0; i < blocks.size(); ++i) {
    BlockRecord record;
    Status s = stream.Compress(blocks[i], 1, Digest{}, end && i + 1 == blocks.size(), &record);
    EXPECT_TRUE(s.ok()) << s.ToString();
    payloads.push_back(record.payload);
  }
  return payloads;
}

std::vector<std::vector<uint8_t>> ThreeBlocks() {
  auto a = RandomBytes(50000, 1);
  auto b = RandomBytes(30000, 2);
  std::vector<uint8_t> c(a.begin() + 1000, a.begin() + 41000);  // Repeats block 0.
  return {a, b, c};
}

Status DecompressAll(BlockStreamDecompressor& stream,
                     const std::vector<std::vector<uint8_t>>& payloads,
                     const std::vector<size_t>& sizes, std::vector<std::vector<uint8_t>>* out) {
  for (size_t i = 0; i < payloads.size(); ++i) {
    std::vector<uint8_t> instructions(sizes[i]);
    RETURN_IF_ERROR(stream.Decompress(payloads[i], instructions));
    if (out != nullptr) out->push_back(instructions);
  }
  return stream.Finish();
}

TEST(BlockStreamTest, BlocksRoundTripAndLaterBlocksMatchEarlierOnes) {
  auto blocks = ThreeBlocks();
  auto payloads = Compress(blocks);
  // Block 2 repeats 40,000 bytes of block 0: a few zstd sequences, not 40 KB.
  EXPECT_LT(payloads[2].size(), 200u);
  EXPECT_GT(payloads[0].size(), 50000u);
  BlockStreamDecompressor stream;
  std::vector<std::vector<uint8_t>> out;
  Status s = DecompressAll(stream, payloads, {50000, 30000, 40000}, &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, blocks);
}

TEST(BlockStreamTest, FrameMustEndWithTheLastBlock) {
  auto payloads = Compress(ThreeBlocks(), /*end=*/false);
  BlockStreamDecompressor stream;
  Status s = DecompressAll(stream, payloads, {50000, 30000, 40000}, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("does not end with its last block"), std::string::npos)
      << s.ToString();
}

TEST(BlockStreamTest, NoBlockAfterTheFrameEnded) {
  auto blocks = ThreeBlocks();
  auto first = Compress({blocks[0]});  // A whole frame.
  auto more = Compress({blocks[1]});
  BlockStreamDecompressor stream;
  std::vector<uint8_t> instructions(50000);
  ASSERT_TRUE(stream.Decompress(first[0], instructions).ok());
  instructions.resize(30000);
  Status s = stream.Decompress(more[0], instructions);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("after the end"), std::string::npos) << s.ToString();

  // Nor a second frame inside the last payload.
  std::vector<uint8_t> two = first[0];
  two.insert(two.end(), more[0].begin(), more[0].end());
  BlockStreamDecompressor again;
  instructions.resize(50000);
  s = again.Decompress(two, instructions);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("after the end of the zstd frame"), std::string::npos)
      << s.ToString();
}

TEST(BlockStreamTest, FirstPayloadMustStartTheFrame) {
  auto payloads = Compress(ThreeBlocks());
  BlockStreamDecompressor stream;
  std::vector<uint8_t> instructions(30000);
  Status s = stream.Decompress(payloads[1], instructions);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("does not start a zstd frame"), std::string::npos) << s.ToString();
  BlockStreamDecompressor empty;
  EXPECT_EQ(empty.Decompress({}, instructions).code(), StatusCode::kCorrupt);
}

TEST(BlockStreamTest, PayloadMustDecodeToExactlyTheInstructionSize) {
  auto payloads = Compress(ThreeBlocks());
  for (size_t size : {49999u, 50001u, 1u}) {
    SCOPED_TRACE(size);
    BlockStreamDecompressor stream;
    std::vector<uint8_t> instructions(size);
    Status s = stream.Decompress(payloads[0], instructions);
    EXPECT_EQ(s.code(), StatusCode::kCorrupt);
    EXPECT_NE(s.message().find(size < 50000 ? "more than" : "less than"), std::string::npos)
        << s.ToString();
  }
}

TEST(BlockStreamTest, WindowLargerThanTheFormatAllowsIsRefused) {
  // A stream frame (no content size) declaring a 2^25-byte window.
  ZstdCCtxPtr cctx(ZSTD_createCCtx());
  ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_windowLog,
                                                   format::kStreamWindowLog + 1)));
  auto input = RandomBytes(1000, 3);
  std::vector<uint8_t> payload(ZSTD_compressBound(input.size()) + 64);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  ZSTD_outBuffer out{payload.data(), payload.size(), 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx.get(), &out, &in, ZSTD_e_flush), 0u);
  ASSERT_EQ(ZSTD_compressStream2(cctx.get(), &out, &in, ZSTD_e_end), 0u);
  payload.resize(out.pos);
  BlockStreamDecompressor stream;
  std::vector<uint8_t> instructions(input.size());
  Status s = stream.Decompress(payload, instructions);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("does not decompress"), std::string::npos) << s.ToString();
}

// A standalone container of the same random bytes twice, in different blocks: the
// second copy is a zstd match into the earlier block, so the container holds them once.
TEST(BlockStreamTest, ContainerFindsRepeatsAcrossBlocks) {
  auto once = RandomBytes(20000, 4);
  std::vector<uint8_t> input = once;
  input.insert(input.end(), once.begin(), once.end());
  CompressOptions options = testing::SmallBlockOptions(16384);
  auto container = testing::EncodeToString(nullptr, input, options);
  ASSERT_TRUE(container.ok()) << container.status().ToString();
  EXPECT_LT(container->size(), 21000u);
  std::string output;
  auto decoded = testing::DecodeFromString(*container, nullptr, &output);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->blocks, 3u);
  EXPECT_TRUE(output == AsString(input));
}

// Blocks depend on the blocks before them: a container with a block left out does not
// decode (the damaged stream or the block digest says so), for any thread count.
TEST(BlockStreamTest, ContainerWithoutAMiddleBlockFails) {
  auto once = RandomBytes(20000, 5);
  std::vector<uint8_t> input = once;
  input.insert(input.end(), once.begin(), once.end());
  auto container = testing::EncodeToString(nullptr, input, testing::SmallBlockOptions(16384));
  ASSERT_TRUE(container.ok());
  // Block records follow the header; cut out the second.
  size_t first = format::kHeaderSize;
  auto payload_size = [&](size_t at) {
    BlockHeaderBytes b;
    std::copy_n(AsBytes(*container).begin() + at, b.size(), b.begin());
    auto block = DecodeBlockHeader(b, 16384);
    EXPECT_TRUE(block.ok());
    return format::kBlockHeaderSize + block->payload_size;
  };
  size_t second = first + payload_size(first);
  std::string cut = *container;
  cut.erase(second, payload_size(second));
  for (int threads : {1, 3}) {
    std::string output;
    Status s = testing::DecodeFromString(cut, nullptr, &output, threads).status();
    EXPECT_TRUE(s.code() == StatusCode::kCorrupt || s.code() == StatusCode::kIntegrity)
        << s.ToString();
    EXPECT_NE(s.message().find("block 1"), std::string::npos) << s.ToString();
  }
}

}  // namespace
}  // namespace reducto
