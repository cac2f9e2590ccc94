// RunMetrics against inputs whose truth is known: a target made of known corpus ranges,
// known literal bytes and a known run of edited corpus bytes (delta), counted by the
// encoder as it works and by the decoder from the container; and the exports.
#include "reducto/metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "codec/decoder.h"
#include "codec/encoder.h"
#include "codec/codec_test_util.h"
#include "codec/fake_corpus.h"
#include "random_bytes.h"

namespace reducto {
namespace {

using testing::AsBytes;
using testing::FakeCorpus;
using testing::RandomBytes;

constexpr size_t kCorpusSize = 1 << 20;

class RunMetricsTest : public ::testing::Test {
 protected:
  RunMetricsTest() : reference_(RandomBytes(kCorpusSize, 41)), corpus_(reference_, Chunking()) {}

  static ChunkerParams Chunking() { return ChunkerParams::ForAverage(1024); }

  void AppendCorpus(size_t offset, size_t length) {
    target_.insert(target_.end(), reference_.begin() + static_cast<ptrdiff_t>(offset),
                   reference_.begin() + static_cast<ptrdiff_t>(offset + length));
  }
  // `length` random bytes whose first and last differ from the corpus bytes a copy
  // before or after them could extend into (so the truth cannot shift by a byte).
  void AppendLiterals(size_t length, uint32_t seed, size_t corpus_before, size_t corpus_after) {
    std::vector<uint8_t> bytes = RandomBytes(length, seed);
    if (bytes.front() == reference_[corpus_before]) bytes.front() ^= 0xff;
    if (bytes.back() == reference_[corpus_after - 1]) bytes.back() ^= 0xff;
    target_.insert(target_.end(), bytes.begin(), bytes.end());
  }

  // Compresses target_ with `metrics`, then decodes it with `decoded`; the container.
  std::string RoundTrip(Profile profile, RunMetrics* metrics, RunMetrics* decoded) {
    CompressOptions options;
    options.profile = profile;
    options.metrics = metrics;
    options.threads = 1;
    auto container = testing::EncodeToString(&corpus_, target_, options);
    EXPECT_TRUE(container.ok()) << container.status().ToString();
    std::string output;
    auto source = MemorySource(AsBytes(*container), "test.rdc");
    auto sink = MemorySink(&output, "output");
    auto stats = DecodeContainer(
        *source, *sink, [&](const ContainerHeader&) -> Result<const CorpusReader*> {
          return &corpus_;
        },
        1, 0, nullptr, decoded);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_TRUE(output == testing::AsString(target_));
    return *container;
  }

  std::vector<uint8_t> reference_;
  FakeCorpus corpus_;
  std::vector<uint8_t> target_;
};

// Two corpus ranges and two literal runs: every counter equals what the target was made
// of, on both sides.
TEST_F(RunMetricsTest, CountsEqualAKnownTargetOfCopiesAndLiterals) {
  AppendCorpus(100000, 200000);
  AppendLiterals(10000, 1, 300000, 600000);
  AppendCorpus(600000, 300000);
  AppendLiterals(5000, 2, 900000, 100000);
  RunMetrics encoded;
  RunMetrics decoded;
  const std::string container = RoundTrip(Profile::kDefault, &encoded, &decoded);
  for (const RunMetrics* metrics : {&encoded, &decoded}) {
    EXPECT_EQ(metrics->Get(Counter::kCopyBytes), 500000u);
    EXPECT_EQ(metrics->Get(Counter::kCopies), 2u);
    EXPECT_EQ(metrics->Get(Counter::kLiteralBytes), 15000u);
    EXPECT_EQ(metrics->Get(Counter::kDeltaBytes), 0u);
    EXPECT_EQ(metrics->Get(Counter::kDeltas), 0u);
    EXPECT_EQ(metrics->Get(Counter::kOriginalBytes), target_.size());
    EXPECT_EQ(metrics->Get(Counter::kContainerBytes), container.size());
    EXPECT_EQ(metrics->Get(Counter::kBlocks), 1u);
  }
  EXPECT_EQ(encoded.Get(Counter::kInputBytes), target_.size());
  EXPECT_EQ(encoded.Get(Counter::kOutputBytes), container.size());
  EXPECT_EQ(decoded.Get(Counter::kInputBytes), container.size());
  EXPECT_EQ(decoded.Get(Counter::kOutputBytes), target_.size());
  EXPECT_DOUBLE_EQ(encoded.Coverage(), 500000.0 / static_cast<double>(target_.size()));
  EXPECT_DOUBLE_EQ(encoded.Ratio(),
                   static_cast<double>(target_.size()) / static_cast<double>(container.size()));
}

// Chunk look-ups: a target that is one corpus range whose chunks are all looked up and
// found (the fast profile looks up every chunk, extends nothing), then random bytes
// whose chunks are looked up and not found.
TEST_F(RunMetricsTest, HitRateCountsTheChunksLookedUpAndFound) {
  const std::vector<Chunk> chunks = ChunkBuffer(Chunking(), reference_);
  ASSERT_GT(chunks.size(), 40u);
  const Chunk& last = chunks[20];
  AppendCorpus(0, last.offset + last.length);  // Chunks 0..20 of the corpus, whole.
  RunMetrics all_found;
  RoundTrip(Profile::kFast, &all_found, nullptr);
  EXPECT_EQ(all_found.Get(Counter::kChunks), 21u);
  EXPECT_EQ(all_found.Get(Counter::kChunksFound), 21u);
  EXPECT_DOUBLE_EQ(all_found.HitRate(), 1.0);

  target_ = RandomBytes(200000, 9);
  RunMetrics none_found;
  RoundTrip(Profile::kFast, &none_found, nullptr);
  EXPECT_GT(none_found.Get(Counter::kChunks), 50u);
  EXPECT_EQ(none_found.Get(Counter::kChunksFound), 0u);
  EXPECT_EQ(none_found.Get(Counter::kLiteralBytes), target_.size());
}

// A run of corpus bytes with every 50th byte changed between two copies: the max profile
// sends it as one DELTA, and the counts say so exactly.
TEST_F(RunMetricsTest, CountsEqualAKnownDeltaRun) {
  AppendCorpus(0, 65536);
  const size_t edited_from = target_.size();
  AppendCorpus(65536, 32768);
  // The run's first and last bytes are edited too, so that no copy can reach into it.
  for (size_t i = edited_from; i < target_.size(); i += 50) target_[i] ^= 0x5a;
  target_.back() ^= 0x5a;
  AppendCorpus(98304, 65536);
  RunMetrics encoded;
  RunMetrics decoded;
  RoundTrip(Profile::kMax, &encoded, &decoded);
  for (const RunMetrics* metrics : {&encoded, &decoded}) {
    EXPECT_EQ(metrics->Get(Counter::kDeltas), 1u);
    EXPECT_EQ(metrics->Get(Counter::kDeltaBytes), 32768u);
    EXPECT_EQ(metrics->Get(Counter::kCopyBytes), 131072u);
    EXPECT_EQ(metrics->Get(Counter::kLiteralBytes), 0u);
  }
}

// The counters grow segment by segment (64 KiB segments here), while the run goes on
// (one thread: with more, one report may cover several segments).
TEST_F(RunMetricsTest, CountersGrowSegmentBySegment) {
  AppendCorpus(0, kCorpusSize);
  RunMetrics metrics;
  struct Watcher final : ProgressObserver {
    RunMetrics* metrics;
    std::vector<uint64_t> copied;
    void OnProgress(const Progress&) override {
      copied.push_back(metrics->Get(Counter::kCopyBytes));
    }
  } watcher;
  watcher.metrics = &metrics;
  CompressOptions options = testing::SmallBlockOptions(65536);
  options.metrics = &metrics;
  options.progress = &watcher;
  options.threads = 1;
  ASSERT_TRUE(testing::EncodeToString(&corpus_, target_, options, nullptr, 65536).ok());
  ASSERT_GE(watcher.copied.size(), 16u);
  EXPECT_GT(watcher.copied[1], 0u);
  EXPECT_LT(watcher.copied[1], kCorpusSize);
  EXPECT_EQ(watcher.copied.back(), kCorpusSize);
}

TEST(RunMetricsExportTest, JsonHoldsEveryCounterPhaseAndTheVerdict) {
  RunMetrics metrics;
  metrics.Add(Counter::kOriginalBytes, 1000);
  metrics.Add(Counter::kContainerBytes, 10);
  metrics.AddTime(Phase::kRead, 3'000'000'000, 1'000'000'000);  // 2 s waiting on reads.
  metrics.Stop();
  RunLabels labels;
  labels.command = "compress";
  labels.extra["profile"] = "default";
  labels.extra["corpus_id"] = "";
  auto document = nlohmann::json::parse(MetricsJson(metrics, labels));
  EXPECT_EQ(document["reducto_metrics"], 1);
  EXPECT_EQ(document["command"], "compress");
  EXPECT_EQ(document["status"], "ok");
  EXPECT_EQ(document["labels"], nlohmann::json({{"profile", "default"}}));
  EXPECT_EQ(document["counters"].size(), static_cast<size_t>(kCounterCount));
  EXPECT_EQ(document["counters"]["original_bytes"], 1000);
  EXPECT_DOUBLE_EQ(document["ratio"].get<double>(), 100.0);
  EXPECT_EQ(document["phases"].size(), static_cast<size_t>(kPhaseCount));
  EXPECT_DOUBLE_EQ(document["phases"]["read"]["wall_seconds"].get<double>(), 3.0);
  // 2 s blocked on reads in a run that took far less wall time: bound by I/O.
  EXPECT_EQ(document["verdict"]["bound"], "io");
  EXPECT_DOUBLE_EQ(document["verdict"]["io_blocked_seconds"].get<double>(), 2.0);
}

TEST(RunMetricsExportTest, VerdictNamesTheNetworkWhenFetchesWaitedMost) {
  RunMetrics metrics;
  metrics.AddTime(Phase::kFetch, 5'000'000'000, 100'000'000);
  metrics.AddTime(Phase::kRead, 1'000'000'000, 0);
  metrics.Stop();
  const Verdict verdict = metrics.Judge();
  EXPECT_EQ(verdict.bound, Bound::kNetwork);
  EXPECT_DOUBLE_EQ(verdict.network_blocked_seconds, 4.9);
  EXPECT_NE(verdict.evidence.find("on repositories 4.90 s"), std::string::npos)
      << verdict.evidence;
}

TEST(RunMetricsExportTest, VerdictIsCpuWhenNothingWaited) {
  RunMetrics metrics;
  metrics.AddTime(Phase::kMatch, 1'000'000, 1'000'000);
  EXPECT_EQ(metrics.Judge().bound, Bound::kCpu);
}

TEST(RunMetricsExportTest, PrometheusTextHasOneGaugePerCounterAndThePhases) {
  RunMetrics metrics;
  metrics.Add(Counter::kCopyBytes, 42);
  RunLabels labels;
  labels.command = "corpus build";
  const std::string text = MetricsPrometheusText(metrics, labels);
  EXPECT_NE(text.find("# TYPE reducto_copy_bytes gauge"), std::string::npos);
  EXPECT_NE(text.find("reducto_copy_bytes{command=\"corpus build\"} 42"), std::string::npos);
  EXPECT_NE(text.find("reducto_phase_wall_seconds{command=\"corpus build\",phase=\"fetch\"}"),
            std::string::npos);
  EXPECT_NE(text.find("reducto_run_info{command=\"corpus build\",status=\"ok\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace reducto
