// reducto/analyze.h: where the windows go, that a sample of the whole input predicts the
// real container exactly, that a sample predicts a homogeneous pair within 10%, the
// cold-fetch count against DescribeContainer, and the inputs it refuses.
#include "reducto/analyze.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "analyze/sample_windows.h"
#include "random_bytes.h"
#include "reducto/corpus.h"
#include "reducto/io.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ScratchDir;

TEST(PlanSampleWindowsTest, SmallInputIsOneWholeWindow) {
  AnalyzeOptions options;
  auto windows = PlanSampleWindows(3u << 20, options);  // Under twice the 4 MiB minimum.
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0].offset, 0u);
  EXPECT_EQ(windows[0].length, 3u << 20);
  EXPECT_TRUE(PlanSampleWindows(0, options).empty());
}

TEST(PlanSampleWindowsTest, LargeInputIsSpreadDisjointWindows) {
  AnalyzeOptions options;
  const uint64_t size = (1000u << 20) + 12345;
  auto windows = PlanSampleWindows(size, options);
  const uint64_t sample = static_cast<uint64_t>(0.05 * static_cast<double>(size));
  ASSERT_EQ(windows.size(), (sample + options.window_bytes - 1) / options.window_bytes);
  uint64_t end = 0;
  for (const SampleWindow& w : windows) {
    EXPECT_EQ(w.length, options.window_bytes);
    EXPECT_GE(w.offset, end);  // Sorted and disjoint.
    end = w.offset + w.length;
  }
  EXPECT_LE(end, size);
  // Spread: the first window in the first stride, the last one in the last.
  const uint64_t stride = size / windows.size();
  EXPECT_LT(windows.front().offset, stride);
  EXPECT_GE(windows.back().offset, size - stride - 1);
}

TEST(PlanSampleWindowsTest, SampleBytesOverridesTheFraction) {
  AnalyzeOptions options;
  options.sample_bytes = 1u << 20;
  options.window_bytes = 256u << 10;
  auto windows = PlanSampleWindows(100u << 20, options);
  EXPECT_EQ(windows.size(), 4u);
}

// A reference, its corpus, and a version of it with small edits every `edit_every`
// bytes: new bytes spread evenly, which a sample sees in proportion.
class AnalyzeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reference_ = RandomBytes(12u << 20, 7);
    testing::WriteFile(dir_.Join("ref"), reference_);
    CorpusBuildOptions build;
    build.chunking = ChunkerParams::ForAverage(8192);
    ASSERT_TRUE(BuildCorpus({dir_.Join("ref")}, dir_.Join("corpus"), build).ok());
    auto corpus = Corpus::Open(dir_.Join("corpus"));
    ASSERT_TRUE(corpus.ok()) << corpus.status().ToString();
    corpus_ = *corpus;
    target_ = reference_;
    std::vector<uint8_t> noise = RandomBytes(target_.size(), 8);
    for (size_t at = 5000; at + 300 < target_.size(); at += 40000) {
      for (size_t i = 0; i < 300; ++i) target_[at + i] = noise[at + i];
    }
    testing::WriteFile(dir_.Join("target"), target_);
  }

  // The real container and what DescribeContainer says of it.
  ContainerDescription RealRun(const CompressOptions& options, uint64_t* container_bytes) {
    std::string container;
    auto source = MemorySource(target_, "target");
    auto sink = MemorySink(&container);
    auto stats = Compress(*corpus_, *source, *sink, options);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    *container_bytes = container.size();
    auto in = MemorySource({reinterpret_cast<const uint8_t*>(container.data()), container.size()});
    auto description = DescribeContainer(*in);
    EXPECT_TRUE(description.ok());
    return *description;
  }

  ScratchDir dir_;
  std::vector<uint8_t> reference_, target_;
  CorpusHandle corpus_;
};

// The pieces of 64 KiB that `ranges` fall in (one segment, as BuildCorpus writes).
uint64_t PiecesCovering(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  std::set<uint64_t> pieces;
  for (const auto& [address, length] : ranges) {
    for (uint64_t p = address >> 16; p <= (address + length - 1) >> 16; ++p) pieces.insert(p);
  }
  return pieces.size();
}

TEST_F(AnalyzeTest, WholeInputSamplePredictsTheRealRunExactly) {
  AnalyzeOptions options;
  options.sample_fraction = 1.0;
  auto report = Analyze(*corpus_, dir_.Join("target"), options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  uint64_t real_bytes = 0;
  ContainerDescription real = RealRun(options.compress, &real_bytes);
  EXPECT_TRUE(report->whole_input);
  EXPECT_EQ(report->windows, 1u);
  EXPECT_EQ(report->container_bytes, real_bytes);
  EXPECT_EQ(report->copy_bytes, real.copy_bytes);
  EXPECT_EQ(report->literal_bytes, real.literal_bytes);
  EXPECT_EQ(report->sample_pieces, PiecesCovering(real.corpus_ranges));
  EXPECT_EQ(report->fetch_pieces, report->sample_pieces);
  EXPECT_GT(report->fetch_packed_bytes, 0u);
  EXPECT_GT(report->fetch_metadata_bytes, 0u);
}

TEST_F(AnalyzeTest, SamplePredictsTheRatioWithinTenPercent) {
  for (Profile profile : {Profile::kFast, Profile::kDefault, Profile::kMax}) {
    AnalyzeOptions options;
    options.compress.profile = profile;
    options.min_sample_bytes = 0;
    options.sample_fraction = 0.1;
    auto report = Analyze(*corpus_, dir_.Join("target"), options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_FALSE(report->whole_input);
    EXPECT_GT(report->windows, profile == Profile::kFast ? 1u : 5u);
    uint64_t real_bytes = 0;
    RealRun(options.compress, &real_bytes);
    const double real = static_cast<double>(target_.size()) / static_cast<double>(real_bytes);
    EXPECT_NEAR(report->ratio(), real, 0.1 * real) << ProfileName(profile);
  }
}

TEST_F(AnalyzeTest, TheCorpusPolicyIsApplied) {
  AnalyzeOptions options;
  options.compress.corpus_policy = [](const CorpusInfo&) {
    return Status::Permission("not trusted here");
  };
  auto report = Analyze(*corpus_, dir_.Join("target"), options);
  EXPECT_EQ(report.status().code(), StatusCode::kPermission);
}

TEST_F(AnalyzeTest, RefusesStreamsDirectoriesEmptyAndMissingInputs) {
  AnalyzeOptions options;
  EXPECT_EQ(Analyze(*corpus_, "-", options).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Analyze(*corpus_, dir_.path(), options).status().code(),
            StatusCode::kInvalidArgument);
  testing::WriteFile(dir_.Join("empty"), {});
  EXPECT_EQ(Analyze(*corpus_, dir_.Join("empty"), options).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Analyze(*corpus_, dir_.Join("missing"), options).status().code(),
            StatusCode::kNotFound);
}

TEST_F(AnalyzeTest, SumReportsAddsInputsAndCapsTheFetch) {
  AnalyzeOptions options;
  auto one = Analyze(*corpus_, dir_.Join("target"), options);
  ASSERT_TRUE(one.ok());
  AnalyzeReport total = SumReports({*one, *one});
  EXPECT_EQ(total.input_bytes, 2 * one->input_bytes);
  EXPECT_EQ(total.container_bytes, 2 * one->container_bytes);
  EXPECT_LE(total.fetch_pieces, total.corpus_pieces);
  EXPECT_LE(total.fetch_piece_bytes, total.corpus_bytes);
}

}  // namespace
}  // namespace reducto
