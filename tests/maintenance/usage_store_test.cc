// The usage store (docs/corpus.md, "Usage store"): the recorder's range set, counts
// and last-use times across runs, concurrent writers, and the failures compress must
// survive.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "corpus/corpus_test_util.h"
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
  for (auto [start, end] : recorder.Ranges()) {
    RC_ASSERT(start < end);
    RC_ASSERT(first || start > previous_end);  // Disjoint and not adjacent.
    first = false;
    previous_end = end;
    for (uint64_t b = start; b < end; ++b) covered.insert(b);
  }
  RC_ASSERT(covered == model);
}

RC_GTEST_PROP(CorpusUsageRecorderTest, MergedRangesKeepEveryUseAndTheirGaps,
              (const std::vector<std::pair<uint8_t, uint8_t>>& uses, uint8_t gap)) {
  CorpusUsageRecorder exact, merged(gap);
  for (auto [address, length] : uses) {
    exact.OnUse(address, length);
    merged.OnUse(address, length);
  }
  auto coarse = merged.Ranges();
  for (size_t i = 1; i < coarse.size(); ++i) RC_ASSERT(coarse[i].first - coarse[i - 1].second >= gap);
  for (auto [start, end] : exact.Ranges()) {  // Each exact range lies inside a merged one.
    bool inside = false;
    for (auto [s, e] : coarse) inside = inside || (s <= start && end <= e);
    RC_ASSERT(inside);
  }
  // Merged ranges start and end where uses do: no byte beyond the outermost uses.
  if (!coarse.empty()) {
    RC_ASSERT(coarse.front().first == exact.Ranges().front().first);
    RC_ASSERT(coarse.back().second == exact.Ranges().back().second);
  }
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
    for (auto [start, end] : recorder.Ranges()) {
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
  ASSERT_FALSE(first.Ranges().empty());
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

// More runs than trigger a fold, from several threads at once: folds run while others
// write runs, and no use is lost or counted twice.
TEST_F(UsageStoreTest, ConcurrentWritersLoseNoUse) {
  CorpusUsageRecorder recorder = Use(0, 400000);
  constexpr int kThreads = 4, kRuns = 40;
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
  int touched = 0;
  for (const ChunkUse& chunk : *usage) {
    if (!Touches(recorder, chunk)) continue;
    ++touched;
    EXPECT_EQ(chunk.count, uint64_t{kThreads * kRuns});
    EXPECT_EQ(chunk.last_use, 100 + kThreads * kRuns - 1);
  }
  EXPECT_GT(touched, 0);
  EXPECT_TRUE(testing::ListNames(UsageStoreDir(corpus()) + "/" + id_ + "/runs").empty());
}

// A run file is deleted only after the write that counted it is durable; one that
// survives a crash in between is not counted again, and a damaged one is skipped.
TEST_F(UsageStoreTest, ARunIsCountedOnceEvenIfItsFileSurvivesAFold) {
  CorpusUsageRecorder recorder = Use(0, 100000);
  ASSERT_TRUE(recorder.Record(corpus(), id_, 50).ok());
  std::string runs = UsageStoreDir(corpus()) + "/" + id_ + "/runs";
  auto names = testing::ListNames(runs);
  ASSERT_EQ(names.size(), 1u);
  std::string run = runs + "/" + *names.begin();
  std::vector<uint8_t> bytes = testing::ReadFile(run);
  ASSERT_TRUE(ReadCorpusUsage(corpus()).ok());
  testing::WriteFile(run, bytes);                                 // As if the delete was lost.
  testing::WriteFile(runs + "/9-1-torn.run", {'R', 'D', 'C', 'U'});  // As if torn by a crash.
  bytes.back() ^= 1;
  testing::WriteFile(runs + "/9-2-flipped.run", bytes);
  auto usage = ReadCorpusUsage(corpus());
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  for (const ChunkUse& chunk : *usage) {
    EXPECT_EQ(chunk.count, Touches(recorder, chunk) ? 1u : 0u);
  }
  EXPECT_TRUE(testing::ListNames(runs).empty());
}

TEST_F(UsageStoreTest, AnUnwritableStoreIsAnErrorNotACrash) {
  testing::WriteFile(UsageStoreDir(corpus()), {1, 2, 3});  // A file where the store goes.
  CorpusUsageRecorder recorder = Use(0, 100000);
  Status recorded = recorder.Record(corpus(), id_, 1);
  EXPECT_FALSE(recorded.ok());
  EXPECT_NE(recorded.message().find(".usage"), std::string::npos) << recorded.ToString();
}

TEST_F(UsageStoreTest, UseOfAReplacedCorpusIsNotRecorded) {
  CorpusUsageRecorder recorder = Use(0, 100000);
  CorpusBuildOptions options;
  options.chunking = testing::TestParams();
  options.overwrite = true;
  auto replaced = BuildCorpus({dir_.Join("reference")}, corpus(), options);
  ASSERT_TRUE(replaced.ok());
  EXPECT_TRUE(recorder.Record(corpus(), id_, 1).ok());
  EXPECT_FALSE(std::filesystem::exists(UsageStoreDir(corpus())));
  EXPECT_EQ(ReadCorpusUsage(corpus()).status().code(), StatusCode::kNotFound);
}

// Merging ranges closer than the minimum chunk size touches the same chunks.
TEST_F(UsageStoreTest, MergingNearbyRangesTouchesTheSameChunks) {
  const uint32_t min = testing::TestParams().min_size;
  CorpusUsageRecorder exact, merged(min);
  for (uint64_t a = 0; a < 300000; a += 2 * min - 1) {  // Gaps of min - 1 bytes.
    exact.OnUse(a, min);
    merged.OnUse(a, min);
  }
  EXPECT_GT(exact.Ranges().size(), 50u);
  EXPECT_EQ(merged.Ranges().size(), 1u);
  ASSERT_TRUE(merged.Record(corpus(), id_, 7).ok());
  auto usage = ReadCorpusUsage(corpus());
  ASSERT_TRUE(usage.ok());
  for (const ChunkUse& chunk : *usage) EXPECT_EQ(chunk.count, Touches(exact, chunk) ? 1u : 0u);
}

TEST_F(UsageStoreTest, NeverWritesIntoACorpusNamedLikeTheStore) {
  CorpusBuildOptions options;
  options.chunking = testing::TestParams();
  ASSERT_TRUE(BuildCorpus({dir_.Join("reference")}, UsageStoreDir(corpus()), options).ok());
  auto before = testing::SnapshotTree(UsageStoreDir(corpus()));
  CorpusUsageRecorder recorder = Use(0, 100000);
  EXPECT_EQ(recorder.Record(corpus(), id_, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(testing::SnapshotTree(UsageStoreDir(corpus())), before);
}

TEST_F(UsageStoreTest, NothingUsedWritesNothing) {
  CorpusUsageRecorder recorder;
  EXPECT_TRUE(recorder.Record(corpus(), id_, 1).ok());
  EXPECT_FALSE(std::filesystem::exists(UsageStoreDir(corpus())));
}

}  // namespace
}  // namespace reducto
