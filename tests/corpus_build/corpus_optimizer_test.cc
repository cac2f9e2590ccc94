// OptimizeCorpus: the budget holds on disk, the greedy choice prefers what repeats, and
// the predicted hit rate is what `compress --profile fast` then measures.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "corpus/chunk_index.h"
#include "corpus/corpus_format.h"
#include "corpus/corpus_test_util.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/signing.h"

namespace reducto {
namespace {

using testing::ChunkAll;
using testing::ListNames;
using testing::RandomBytes;
using testing::ReadFile;
using testing::ScratchDir;
using testing::TestParams;
using testing::WriteFile;

// Every regular file under `dir`, summed: what the budget bounds.
uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

std::set<Digest> StoredDigests(const std::string& corpus) {
  std::set<Digest> out;
  auto index = ChunkIndexReader::Open(corpus + "/" + kIndexDirName);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  if (!index.ok()) return out;
  auto scanned = (*index)->Scan([&out](uint64_t, const ChunkCandidate& chunk) {
    out.insert(chunk.digest);
    return Status::Ok();
  });
  EXPECT_TRUE(scanned.ok()) << scanned.status().ToString();
  return out;
}

// Digest -> length of each distinct chunk of `data`.
std::map<Digest, size_t> DigestsOf(const std::vector<uint8_t>& data) {
  std::map<Digest, size_t> out;
  for (const auto& chunk : ChunkAll(TestParams(), data)) out[Blake3(chunk)] = chunk.size();
  return out;
}

// Sample bytes that `compress --profile fast` copies from the corpus, over all samples.
struct Measured {
  uint64_t input_bytes = 0;
  uint64_t copy_bytes = 0;
  uint64_t pieces = 0;  // Samples plus blocks: the places where a copy can be cut short.
  double hit_rate() const { return input_bytes == 0 ? 0 : double(copy_bytes) / double(input_bytes); }
};

Measured CompressFast(const std::string& corpus, const std::vector<std::string>& samples) {
  Measured measured;
  CompressOptions options;
  options.profile = Profile::kFast;
  options.fallback_to_standalone = false;
  for (const std::string& sample : samples) {
    std::vector<uint8_t> data = ReadFile(sample);
    auto in = MemorySource(data);
    std::string container;
    auto out = MemorySink(&container);
    auto stats = Compress(corpus, *in, *out, options);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    if (!stats.ok()) continue;
    measured.input_bytes += stats->input_bytes;
    measured.copy_bytes += stats->copy_bytes;
    measured.pieces += 1 + stats->blocks;
  }
  return measured;
}

OptimizeOptions Options(uint64_t budget) {
  OptimizeOptions options;
  options.budget = budget;
  options.chunking = TestParams();
  return options;
}

// Blocks A (6 files), B (3 files) and C (1 file), each file one block.
class OptimizeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = RandomBytes(200000, 1);
    b_ = RandomBytes(200000, 2);
    c_ = RandomBytes(200000, 3);
    int n = 0;
    for (auto [block, copies] : {std::pair{&a_, 6}, {&b_, 3}, {&c_, 1}}) {
      for (int i = 0; i < copies; ++i) {
        samples_.push_back(dir_.Join("sample" + std::to_string(n++)));
        WriteFile(samples_.back(), *block);
      }
    }
  }
  std::string out() const { return dir_.Join("golden"); }

  ScratchDir dir_;
  std::vector<uint8_t> a_, b_, c_;
  std::vector<std::string> samples_;
};

TEST_F(OptimizeFixture, GreedyPrefersTheMostFrequentChunks) {
  // Room for A and about half of B.
  auto report = OptimizeCorpus(samples_, out(), Options(16384 + 320000));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::set<Digest> stored = StoredDigests(out());
  std::map<Digest, size_t> a = DigestsOf(a_), b = DigestsOf(b_), c = DigestsOf(c_);
  for (const auto& [d, length] : a) EXPECT_TRUE(stored.count(d)) << "a chunk of A (6 copies) is missing";
  size_t from_b = 0;
  for (const auto& [d, length] : b) from_b += stored.count(d);
  EXPECT_GT(from_b, 0u);
  EXPECT_LT(from_b, b.size());
  // A chunk that does not fit is skipped and smaller ones are still tried, so a chunk of
  // C may fill the last gap, but only when no chunk of B as short as it is missing.
  for (const auto& [dc, length_c] : c) {
    if (!stored.count(dc)) continue;
    for (const auto& [db, length_b] : b) {
      EXPECT_TRUE(length_b > length_c || stored.count(db))
          << "a chunk of C (1 copy) was stored while a shorter one of B (3 copies) was not";
    }
  }
  EXPECT_EQ(report->selected_chunks, stored.size());
  EXPECT_EQ(report->corpus.unique_chunks, stored.size());
}

TEST_F(OptimizeFixture, BudgetHoldsForEveryFileOnDisk) {
  ASSERT_TRUE(GenerateKeyFiles(dir_.Join("k1"), false).ok());
  ASSERT_TRUE(GenerateKeyFiles(dir_.Join("k2"), false).ok());
  for (uint64_t budget : {20000ull, 100000ull, 333333ull, 650000ull, 5000000ull}) {
    for (bool signed_corpus : {false, true}) {
      SCOPED_TRACE("budget " + std::to_string(budget) + (signed_corpus ? " signed" : ""));
      OptimizeOptions options = Options(budget);
      options.overwrite = true;
      if (signed_corpus) options.sign_keys = {dir_.Join("k1"), dir_.Join("k2")};
      auto report = OptimizeCorpus(samples_, out(), options);
      ASSERT_TRUE(report.ok()) << report.status().ToString();
      uint64_t on_disk = DirectoryBytes(out());
      EXPECT_LE(on_disk, budget);
      EXPECT_EQ(report->corpus_bytes, on_disk);
      EXPECT_TRUE(VerifyCorpus(out()).ok());
      if (signed_corpus) {
        EXPECT_EQ(ListNames(out() + "/" + kSignaturesDirName).size(), 2u);
        auto checks = CheckCorpusSignatures(report->corpus, {});
        ASSERT_TRUE(checks.ok());
        for (const SignatureCheck& check : *checks) EXPECT_TRUE(check.valid) << check.problem.ToString();
      }
    }
  }
  // Everything fits: every distinct chunk stored, all sample bytes covered.
  auto all = OptimizeCorpus(samples_, out(), [&] {
    OptimizeOptions o = Options(5000000);
    o.overwrite = true;
    return o;
  }());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->selected_chunks, all->distinct_chunks);
  EXPECT_DOUBLE_EQ(all->predicted_hit_rate, 1.0);
}

TEST_F(OptimizeFixture, AnUnderestimatedIndexCostsARebuildNotTheBudget) {
  // 2 MB more of distinct data: some 500 chunks of 4 KiB, whose index (about 64 bytes
  // each) the first selection does not account for.
  samples_.push_back(dir_.Join("large"));
  WriteFile(samples_.back(), RandomBytes(2000000, 4));
  OptimizeOptions options = Options(2000000);
  options.index_bytes_per_chunk = 0;
  options.candidate_averages.clear();
  auto report = OptimizeCorpus(samples_, out(), options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->builds, 1);
  EXPECT_LE(DirectoryBytes(out()), options.budget);
  EXPECT_EQ(ListNames(dir_.path()).count("golden"), 1u);
  for (const std::string& name : ListNames(dir_.path())) {
    EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name << " was left behind";
  }
}

TEST_F(OptimizeFixture, ReportsTheSamplesAndTheirDedupPotential) {
  auto report = OptimizeCorpus(samples_, out(), Options(16384 + 320000));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  uint64_t distinct = a_.size() + b_.size() + c_.size();
  EXPECT_EQ(report->sample_files, samples_.size());
  EXPECT_EQ(report->sample_bytes, 10 * 200000u);
  EXPECT_EQ(report->distinct_bytes, distinct);
  EXPECT_DOUBLE_EQ(report->dedup_potential, 1.0 - double(distinct) / (10 * 200000.0));
  // The manifest describes the samples it was built from and the chunks it stores.
  EXPECT_EQ(report->corpus.input_bytes, report->sample_bytes);
  EXPECT_EQ(report->corpus.chunk_count, report->sample_chunks);
  EXPECT_EQ(report->corpus.unique_chunks, report->selected_chunks);
  EXPECT_EQ(report->corpus.index_entries, report->selected_chunks);
  // One row per candidate average; the recommendation is one of them.
  ASSERT_EQ(report->chunk_sizes.size(), 5u);
  std::set<uint32_t> averages;
  for (const ChunkSizeEstimate& row : report->chunk_sizes) {
    EXPECT_EQ(row.distinct_bytes, distinct);
    EXPECT_GT(row.predicted_hit_rate, 0.0);
    EXPECT_LE(row.predicted_hit_rate, 1.0);
    averages.insert(row.avg_size);
  }
  EXPECT_EQ(averages, (std::set<uint32_t>{4096, 8192, 16384, 32768, 65536}));
  EXPECT_TRUE(averages.count(report->recommended_avg));
  EXPECT_NE(report->ToText().find("recommended"), std::string::npos);
  EXPECT_NE(report->ToJson().find("\"predicted_hit_rate\""), std::string::npos);
}

TEST_F(OptimizeFixture, PredictedHitRateIsWhatFastCompressionCopies) {
  for (uint64_t budget : {100000ull, 333333ull, 650000ull}) {
    OptimizeOptions options = Options(budget);
    options.overwrite = true;
    options.candidate_averages.clear();
    auto report = OptimizeCorpus(samples_, out(), options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    Measured measured = CompressFast(out(), samples_);
    EXPECT_EQ(measured.input_bytes, report->sample_bytes);
    EXPECT_NEAR(measured.hit_rate(), report->predicted_hit_rate, 0.05);
    // Whole chunks are all that the fast profile copies, so the agreement is exact.
    EXPECT_EQ(measured.copy_bytes, report->covered_bytes);
  }
}

RC_GTEST_PROP(OptimizeProperty, BudgetHoldsAndPredictionMatchesMeasurement, ()) {
  // Samples made of a few blocks that repeat with random frequencies, so that the
  // greedy choice has something to choose.
  const int blocks = *rc::gen::inRange(1, 5);
  std::vector<std::vector<uint8_t>> block;
  for (int i = 0; i < blocks; ++i) {
    block.push_back(RandomBytes(*rc::gen::inRange(5000, 60000), *rc::gen::arbitrary<uint64_t>()));
  }
  const int files = *rc::gen::inRange(1, 7);
  ScratchDir dir;
  std::vector<std::string> samples;
  for (int f = 0; f < files; ++f) {
    auto picks = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(1, 4), rc::gen::inRange(0, blocks));
    std::vector<uint8_t> data;
    for (int p : picks) data.insert(data.end(), block[p].begin(), block[p].end());
    samples.push_back(dir.Join("s" + std::to_string(f)));
    WriteFile(samples.back(), data);
  }
  OptimizeOptions options = Options(*rc::gen::inRange<uint64_t>(20000, 300000));
  options.candidate_averages.clear();
  options.max_counted_chunks = *rc::gen::element<uint64_t>(5, 40, uint64_t{1} << 22);
  auto report = OptimizeCorpus(samples, dir.Join("golden"), options);
  RC_ASSERT(report.ok());
  RC_ASSERT(DirectoryBytes(dir.Join("golden")) <= options.budget);
  Measured measured = CompressFast(dir.Join("golden"), samples);
  RC_ASSERT(std::abs(measured.hit_rate() - report->predicted_hit_rate) <= 0.05);
  // The encoder sends copies shorter than format::kMinCopyLength (16 bytes) as literals:
  // a sample's last chunk can be that short, and a block boundary can cut a copy.
  RC_ASSERT(measured.copy_bytes <= report->covered_bytes);
  RC_ASSERT(report->covered_bytes - measured.copy_bytes < 16 * measured.pieces);
}

TEST_F(OptimizeFixture, RejectsBadBudgetsAndLeavesNothing) {
  auto zero = OptimizeCorpus(samples_, out(), Options(0));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("budget"), std::string::npos) << zero.status().ToString();
  for (uint64_t tiny : {1ull, 4096ull}) {
    auto small = OptimizeCorpus(samples_, out(), Options(tiny));
    ASSERT_FALSE(small.ok());
    EXPECT_EQ(small.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(small.status().message().find("too small even for an empty corpus"), std::string::npos)
        << small.status().ToString();
  }
  std::set<std::string> names = ListNames(dir_.path());
  EXPECT_EQ(names.count("golden"), 0u);
  for (const std::string& name : names) EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name;
}

TEST_F(OptimizeFixture, RejectsBadSamples) {
  auto none = OptimizeCorpus({}, out(), Options(1 << 20));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("no samples"), std::string::npos);

  auto missing = OptimizeCorpus({samples_[0], dir_.Join("missing")}, out(), Options(1 << 20));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir_.Join("missing")), std::string::npos);

  auto stdin_sample = OptimizeCorpus({"-"}, out(), Options(1 << 20));
  ASSERT_FALSE(stdin_sample.ok());
  EXPECT_EQ(stdin_sample.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(stdin_sample.status().message().find("stdin"), std::string::npos);
  EXPECT_EQ(ListNames(dir_.path()).count("golden"), 0u);
}

TEST_F(OptimizeFixture, ExistingOutputNeedsOverwrite) {
  ASSERT_TRUE(OptimizeCorpus(samples_, out(), Options(1 << 20)).ok());
  auto again = OptimizeCorpus(samples_, out(), Options(1 << 20));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument);
  OptimizeOptions options = Options(1 << 20);
  options.overwrite = true;
  EXPECT_TRUE(OptimizeCorpus(samples_, out(), options).ok());
}

TEST_F(OptimizeFixture, CountsThatOutgrowMemorySpillAndChooseTheSame) {
  OptimizeOptions in_memory = Options(16384 + 320000);
  auto expected = OptimizeCorpus(samples_, out(), in_memory);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  EXPECT_FALSE(expected->counts_spilled);
  std::set<Digest> expected_chunks = StoredDigests(out());

  OptimizeOptions spilling = in_memory;
  spilling.max_counted_chunks = 7;  // Some 150 distinct chunks: many spills.
  spilling.overwrite = true;
  auto report = OptimizeCorpus(samples_, out(), spilling);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->counts_spilled);
  EXPECT_EQ(StoredDigests(out()), expected_chunks);
  EXPECT_EQ(report->distinct_chunks, expected->distinct_chunks);
  EXPECT_EQ(report->distinct_bytes, expected->distinct_bytes);
  EXPECT_EQ(report->covered_bytes, expected->covered_bytes);
  ASSERT_EQ(report->chunk_sizes.size(), expected->chunk_sizes.size());
  for (size_t i = 0; i < report->chunk_sizes.size(); ++i) {
    EXPECT_EQ(report->chunk_sizes[i].distinct_chunks, expected->chunk_sizes[i].distinct_chunks);
    EXPECT_EQ(report->chunk_sizes[i].covered_bytes, expected->chunk_sizes[i].covered_bytes);
  }
  EXPECT_EQ(report->recommended_avg, expected->recommended_avg);
  // The scratch databases are gone.
  for (const std::string& name : ListNames(dir_.path())) {
    EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name << " was left behind";
  }
}

}  // namespace
}  // namespace reducto
