// The usage store (docs/corpus.md, "Usage store"): the recorder's range set, counts
// and last-use times across runs, concurrent writers, and the failures compress must
// survive.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "corpus_test_util.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/usage.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ScratchDir;

RC_GTEST_PROP(CorpusUsageRecorderTest, RangesAreTheUnionOfTheUses,
              (const std::vector<std::pair<uint8_t, uint8_t>>& uses)) {
  CorpusUsageRecorder recorder;
  std::set<uint64_t> model;  // Every byte used.
  for (auto [address, length] : uses) {
    recorder.OnUse(address, length);
    for (uint64_t b = address; b < uint64_t{address} + length; ++b) model.insert(b);
  }
  std::set<uint64_t> covered;
  uint64_t previous_end = 0;
  bool first = true;
  for (auto [start, end] : recorder.ranges()) {
    RC_ASSERT(start < end);
    RC_ASSERT(first || start > previous_end);  // Disjoint and not adjacent.
    first = false;
    previous_end = end;
    for (uint64_t b = start; b < end; ++b) covered.insert(b);
  }
  RC_ASSERT(covered == model);
}

// A corpus of 4 KiB-average chunks and two targets that use different parts of it.
class UsageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reference_ = RandomBytes(400000, 5);
    testing::WriteFile(dir_.Join("reference"), reference_);
    CorpusBuildOptions options;
    options.chunking = testing::TestParams();
    auto info = BuildCorpus({dir_.Join("reference")}, corpus(), options);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    id_ = info->id;
  }

  std::string corpus() const { return dir_.Join("corpus"); }

  // Compresses reference[from, to) and returns what the recorder saw.
  CorpusUsageRecorder Use(size_t from, size_t to, std::string* id = nullptr) {
    CorpusUsageRecorder recorder;
    std::vector<uint8_t> target(reference_.begin() + static_cast<ptrdiff_t>(from),
                                reference_.begin() + static_cast<ptrdiff_t>(to));
    std::string container;
    auto source = MemorySource(target);
    auto sink = MemorySink(&container);
    CompressOptions options;
    options.use_observer = &recorder;
    auto stats = Compress(corpus(), *source, *sink, options);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    if (id != nullptr && stats.ok()) *id = stats->corpus_id;
    return recorder;
  }

  static bool Touches(const CorpusUsageRecorder& recorder, const ChunkUse& chunk) {
    for (auto [start, end] : recorder.ranges()) {
      if (start < chunk.address + chunk.length && chunk.address < end) return true;
    }
    return false;
  }

  ScratchDir dir_;
  std::vector<uint8_t> reference_;
  std::string id_;
};

TEST_F(UsageStoreTest, NoStoreUntilSomethingIsRecorded) {
  auto usage = ReadCorpusUsage(corpus());
  ASSERT_FALSE(usage.ok());
  EXPECT_EQ(usage.status().code(), StatusCode::kNotFound);
  EXPECT_NE(usage.status().message().find("--keep-for"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(UsageStoreDir(corpus())));
  EXPECT_EQ(UsageStoreDir(corpus() + "//"), corpus() + ".usage");
}

TEST_F(UsageStoreTest, CountsAndLastUseAccumulateAcrossRuns) {
  std::string compressed_with;
  CorpusUsageRecorder first = Use(0, 200000, &compressed_with);
  CorpusUsageRecorder second = Use(150000, 300000);
  ASSERT_EQ(compressed_with, id_);
  ASSERT_FALSE(first.ranges().empty());
  auto before = testing::SnapshotTree(corpus());
  ASSERT_TRUE(first.Record(corpus(), id_, 1000).ok());
  ASSERT_TRUE(second.Record(corpus(), id_, 2000).ok());
  EXPECT_EQ(testing::SnapshotTree(corpus()), before) << "the corpus itself must not change";
  EXPECT_TRUE(std::filesystem::is_directory(UsageStoreDir(corpus()) + "/" + id_));

  auto usage = ReadCorpusUsage(corpus());
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  auto info = ReadCorpusInfo(corpus());
  ASSERT_EQ(usage->size(), info->index_entries);
  int both = 0, only_first = 0, only_second = 0, unused = 0;
  uint64_t previous = 0;
  for (const ChunkUse& chunk : *usage) {
    EXPECT_TRUE(&chunk == &usage->front() || chunk.address > previous);
    previous = chunk.address;
    bool a = Touches(first, chunk), b = Touches(second, chunk);
    SCOPED_TRACE("chunk at " + std::to_string(chunk.address));
    EXPECT_EQ(chunk.count, uint64_t{a} + uint64_t{b});
    EXPECT_EQ(chunk.last_use, b ? 2000 : a ? 1000 : 0);
    both += a && b;
    only_first += a && !b;
    only_second += b && !a;
    unused += !a && !b;
  }
  EXPECT_GT(both, 0);
  EXPECT_GT(only_first, 0);
  EXPECT_GT(only_second, 0);
  EXPECT_GT(unused, 0);
}

TEST_F(UsageStoreTest, ConcurrentWritersLoseNoUse) {
  CorpusUsageRecorder recorder = Use(0, 400000);
  constexpr int kThreads = 4, kRuns = 5;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int r = 0; r < kRuns; ++r) {
        if (!recorder.Record(corpus(), id_, 100 + t * kRuns + r).ok()) ++failures;
      }
    });
  }
  for (std::thread& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0);
  auto usage = ReadCorpusUsage(corpus());
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  for (const ChunkUse& chunk : *usage) {
    if (!Touches(recorder, chunk)) continue;
    EXPECT_EQ(chunk.count, uint64_t{kThreads * kRuns});
    EXPECT_EQ(chunk.last_use, 100 + kThreads * kRuns - 1);
  }
}

TEST_F(UsageStoreTest, AnUnwritableStoreIsAnErrorNotACrash) {
  testing::WriteFile(UsageStoreDir(corpus()), {1, 2, 3});  // A file where the store goes.
  CorpusUsageRecorder recorder = Use(0, 100000);
  Status recorded = recorder.Record(corpus(), id_, 1);
  EXPECT_FALSE(recorded.ok());
  EXPECT_NE(recorded.message().find(".usage"), std::string::npos) << recorded.ToString();
}

TEST_F(UsageStoreTest, UseOfAReplacedCorpusIsNotRecordedAgainstTheNewOne) {
  CorpusUsageRecorder recorder = Use(0, 100000);
  CorpusBuildOptions options;
  options.chunking = testing::TestParams();
  options.overwrite = true;
  auto replaced = BuildCorpus({dir_.Join("reference")}, corpus(), options);
  ASSERT_TRUE(replaced.ok());
  Status recorded = recorder.Record(corpus(), id_, 1);
  EXPECT_EQ(recorded.code(), StatusCode::kUnavailable) << recorded.ToString();
  EXPECT_EQ(ReadCorpusUsage(corpus()).status().code(), StatusCode::kNotFound);
}

TEST_F(UsageStoreTest, NothingUsedWritesNothing) {
  CorpusUsageRecorder recorder;
  EXPECT_TRUE(recorder.Record(corpus(), id_, 1).ok());
  EXPECT_FALSE(std::filesystem::exists(UsageStoreDir(corpus())));
}

}  // namespace
}  // namespace reducto
