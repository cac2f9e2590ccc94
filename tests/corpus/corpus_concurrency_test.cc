// Threads that compress and decompress against corpora of one store while another
// thread builds a new corpus into the store and replaces one of the corpora being read
// (docs/corpus.md, "Readers and replacement"): whatever succeeds is exact, whatever
// fails says so, and readers of the corpus nobody replaces never fail.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "corpus_test_util.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ScratchDir;

struct RoundTrips {
  std::atomic<int> exact{0};
  std::atomic<int> failed{0};
  std::atomic<int> wrong{0};
  std::atomic<int> unclear{0};  // Failures without a message.
};

// Compresses `target` against `corpus_dir` and decompresses the container, `rounds`
// times, classifying each round trip.
void ReadLoop(const std::string& corpus_dir, const std::vector<uint8_t>& target, int rounds,
              RoundTrips* result) {
  CompressOptions options;
  options.fallback_to_standalone = false;
  for (int i = 0; i < rounds; ++i) {
    std::string container;
    auto source = MemorySource(target, "target");
    auto sink = MemorySink(&container, "target.rdc");
    auto compressed = Compress(corpus_dir, *source, *sink, options);
    if (!compressed.ok()) {
      ++result->failed;
      if (compressed.status().message().empty()) ++result->unclear;
      continue;
    }
    std::string output;
    auto container_source = MemorySource(
        {reinterpret_cast<const uint8_t*>(container.data()), container.size()}, "target.rdc");
    auto output_sink = MemorySink(&output, "target");
    auto decompressed = Decompress(corpus_dir, *container_source, *output_sink);
    if (!decompressed.ok()) {
      ++result->failed;
      if (decompressed.status().message().empty()) ++result->unclear;
      continue;
    }
    bool same = output.size() == target.size() &&
                std::equal(target.begin(), target.end(),
                           reinterpret_cast<const uint8_t*>(output.data()));
    ++(same ? result->exact : result->wrong);
  }
}

TEST(CorpusConcurrencyTest, ReadersSeeWholeCorporaWhileOthersAreBuiltAndReplaced) {
  ScratchDir dir;
  std::vector<uint8_t> reference = RandomBytes(1 << 20, 11);
  std::vector<uint8_t> other = RandomBytes(1 << 20, 12);
  std::vector<uint8_t> target(reference.begin() + 1000, reference.begin() + 900000);
  std::vector<uint8_t> fresh = RandomBytes(30000, 13);
  target.insert(target.begin() + 400000, fresh.begin(), fresh.end());
  testing::WriteFile(dir.Join("reference"), reference);
  testing::WriteFile(dir.Join("other"), other);
  ASSERT_EQ(::mkdir(dir.Join("store").c_str(), 0755), 0);
  std::string stable = dir.Join("store/stable");
  std::string moving = dir.Join("store/moving");
  CorpusBuildOptions options;
  options.chunking = testing::TestParams();
  ASSERT_TRUE(BuildCorpus({dir.Join("reference")}, stable, options).ok());
  ASSERT_TRUE(BuildCorpus({dir.Join("reference")}, moving, options).ok());

  constexpr int kRounds = 6;
  RoundTrips stable_trips, moving_trips;
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back(ReadLoop, stable, std::cref(target), kRounds, &stable_trips);
    readers.emplace_back(ReadLoop, moving, std::cref(target), kRounds, &moving_trips);
  }
  std::atomic<int> publish_failures{0};
  std::thread writer([&] {
    CorpusBuildOptions replace = options;
    replace.overwrite = true;
    for (int i = 0; i < 4; ++i) {
      if (!BuildCorpus({dir.Join("other")}, dir.Join("store/built" + std::to_string(i)), options).ok())
        ++publish_failures;
      if (!BuildCorpus({dir.Join("reference")}, moving, replace).ok()) ++publish_failures;
    }
  });
  for (std::thread& t : readers) t.join();
  writer.join();

  EXPECT_EQ(publish_failures.load(), 0);
  EXPECT_EQ(stable_trips.exact.load(), 2 * kRounds);
  EXPECT_EQ(stable_trips.wrong.load() + moving_trips.wrong.load(), 0);
  EXPECT_EQ(moving_trips.unclear.load(), 0);
  EXPECT_EQ(moving_trips.exact.load() + moving_trips.failed.load(), 2 * kRounds);
  auto listed = ListCorpora(dir.Join("store"));
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 6u);
  for (const std::string& name : testing::ListNames(dir.Join("store"))) {
    EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name;
    EXPECT_EQ(name.find(".old-"), std::string::npos) << name;
  }
  EXPECT_TRUE(VerifyCorpus(moving).ok());
}

// A corpus opened before it is replaced stays readable: its files are mapped or open,
// and a replacement renames and unlinks, never rewrites, them.
TEST(CorpusConcurrencyTest, AContainerMadeBeforeAReplacementStillNamesTheOldCorpus) {
  ScratchDir dir;
  std::vector<uint8_t> reference = RandomBytes(300000, 21);
  testing::WriteFile(dir.Join("reference"), reference);
  CorpusBuildOptions options;
  options.chunking = testing::TestParams();
  auto old_info = BuildCorpus({dir.Join("reference")}, dir.Join("corpus"), options);
  ASSERT_TRUE(old_info.ok());
  std::string container;
  {
    auto source = MemorySource(reference, "target");
    auto sink = MemorySink(&container, "target.rdc");
    ASSERT_TRUE(Compress(dir.Join("corpus"), *source, *sink, {}).ok());
  }
  options.overwrite = true;
  auto new_info = BuildCorpus({dir.Join("reference")}, dir.Join("corpus"), options);
  ASSERT_TRUE(new_info.ok());
  ASSERT_NE(new_info->id, old_info->id);
  std::string output;
  auto source = MemorySource(
      {reinterpret_cast<const uint8_t*>(container.data()), container.size()}, "target.rdc");
  auto sink = MemorySink(&output, "target");
  auto decompressed = Decompress(dir.Join("corpus"), *source, *sink);
  ASSERT_FALSE(decompressed.ok());
  EXPECT_NE(decompressed.status().message().find(old_info->id), std::string::npos)
      << decompressed.status().ToString();
  EXPECT_TRUE(output.empty());
}

}  // namespace
}  // namespace reducto
