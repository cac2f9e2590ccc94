// LargeBuffer and OrderedPipeline::Recycled: the buffers the decoder and the encoder
// reuse from block to block.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "util/large_buffer.h"
#include "util/ordered_pipeline.h"

namespace reducto {
namespace {

TEST(LargeBufferTest, KeepsItsBytesWithinItsCapacity) {
  LargeBuffer buffer;
  EXPECT_TRUE(buffer.span().empty());
  for (size_t size : {size_t{100}, size_t{3} << 20}) {  // Small pages, then huge ones.
    std::span<uint8_t> bytes = buffer.Resize(size);
    ASSERT_EQ(bytes.size(), size);
    for (size_t i = 0; i < size; i += 4093) bytes[i] = static_cast<uint8_t>(i);
    const uint8_t* data = bytes.data();
    std::span<uint8_t> smaller = buffer.Resize(size / 2);  // Within the capacity:
    EXPECT_EQ(smaller.data(), data);                        // the same memory,
    EXPECT_EQ(smaller.size(), size / 2);
    for (size_t i = 0; i < size / 2; i += 4093) {
      ASSERT_EQ(smaller[i], static_cast<uint8_t>(i));  // and the same bytes.
    }
  }
  if (reinterpret_cast<uintptr_t>(buffer.span().data()) % (2u << 20) != 0) {
    ADD_FAILURE() << "a buffer of huge pages starts on a 2 MiB boundary";
  }
  LargeBuffer moved = std::move(buffer);
  EXPECT_EQ(moved.size(), (size_t{3} << 20) / 2);
  EXPECT_EQ(buffer.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty.
}

// What zstd's contexts allocate through: small blocks and mapped ones, each writable to
// its end and apart from the others; a mapped one starts on a huge-page boundary.
TEST(LargeAllocateTest, GivesDistinctWritableBlocks) {
  const std::vector<size_t> sizes = {1, 100, (size_t{2} << 20) - 1, size_t{2} << 20,
                                     (size_t{5} << 20) + 3};
  std::vector<uint8_t*> blocks;
  for (size_t size : sizes) {
    auto* block = static_cast<uint8_t*>(LargeAllocate(size));
    ASSERT_NE(block, nullptr) << size;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 16, 0u) << size;
    if (size >= (size_t{2} << 20)) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % (size_t{2} << 20), 0u) << size;
    }
    std::fill_n(block, size, static_cast<uint8_t>(blocks.size() + 1));
    blocks.push_back(block);
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_EQ(blocks[i][0], i + 1);
    EXPECT_EQ(blocks[i][sizes[i] - 1], i + 1) << "another block overwrote block " << i;
    LargeFree(blocks[i]);
  }
  LargeFree(nullptr);
  // A size whose rounding up to huge pages would overflow is refused, not wrapped.
  EXPECT_EQ(LargeAllocate(SIZE_MAX - 100), nullptr);
}

// The local search's table of skipped positions: zero from the start, and only the pages
// written are backed, so a short input does not pay for the whole table.
TEST(ZeroedWordsTest, StartsZeroAndBacksOnlyThePagesWritten) {
  const size_t count = size_t{1} << 21;  // 16 MiB, 4,096 pages of 4 KiB.
  ZeroedWords words(count);
  std::span<uint64_t> table = words.span();
  ASSERT_EQ(table.size(), count);
  table[12345] = 7;
  table[count - 1] = 9;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t bytes = count * sizeof(uint64_t);
  std::vector<unsigned char> resident((bytes + page - 1) / page);
  ASSERT_EQ(::mincore(table.data(), bytes, resident.data()), 0);
  const size_t backed = static_cast<size_t>(std::count_if(
      resident.begin(), resident.end(), [](unsigned char r) { return (r & 1) != 0; }));
  // Two pages, or two huge pages where the kernel gives them to every mapping.
  EXPECT_GE(backed, 2u);
  EXPECT_LE(backed, resident.size() / 4) << backed << " of " << resident.size() << " pages";
  EXPECT_EQ(std::count(table.begin(), table.end(), uint64_t{0}), static_cast<ptrdiff_t>(count - 2));
  EXPECT_TRUE(ZeroedWords(0).span().empty());
}

struct Job {
  std::vector<uint8_t> bytes;
  int id = 0;
};

// Jobs come back from Recycled() with the buffers of delivered jobs, so that a pipeline
// of any thread count allocates at most as many buffers as it holds jobs at once.
TEST(OrderedPipelineTest, RecycledJobsKeepTheirBuffers) {
  for (int threads : {1, 3}) {
    std::vector<int> delivered;
    OrderedPipeline<Job> pipeline(
        threads, [](Job& job, int) { job.bytes.assign(1 << 16, 7); return Status::Ok(); },
        [&](Job& job) { delivered.push_back(job.id); return Status::Ok(); });
    int created = 0;  // Jobs that came without a buffer.
    for (int id = 0; id < 50; ++id) {
      Job job = pipeline.Recycled();
      if (job.bytes.capacity() < (1u << 16)) ++created;
      job.id = id;
      ASSERT_TRUE(pipeline.Submit(std::move(job)).ok());
    }
    ASSERT_TRUE(pipeline.Finish().ok());
    EXPECT_EQ(delivered.size(), 50u);
    for (int id = 0; id < 50; ++id) EXPECT_EQ(delivered[static_cast<size_t>(id)], id);
    // At most the jobs in flight (threads + 1 with workers, 1 without) and the one
    // being filled.
    EXPECT_LE(created, threads > 1 ? threads + 2 : 1) << threads << " threads";
  }
}

}  // namespace
}  // namespace reducto
