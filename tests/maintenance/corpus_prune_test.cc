// PruneCorpus: --keep-for keeps what a file needs, --unused-since follows the usage
// store, the modes exclude each other, and durations parse strictly.
#include <gtest/gtest.h>

#include "corpus/corpus_test_util.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/prune.h"
#include "reducto/usage.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ScratchDir;

class CorpusPruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two unrelated halves; the target needs most of the first and none of the second.
    reference_ = RandomBytes(300000, 31);
    auto other = RandomBytes(300000, 32);
    reference_.insert(reference_.end(), other.begin(), other.end());
    testing::WriteFile(dir_.Join("reference"), reference_);
    target_.assign(reference_.begin() + 20000, reference_.begin() + 280000);
    auto fresh = RandomBytes(5000, 33);
    target_.insert(target_.begin() + 100000, fresh.begin(), fresh.end());
    testing::WriteFile(dir_.Join("target"), target_);
    CorpusBuildOptions options;
    options.chunking = testing::TestParams();
    auto info = BuildCorpus({dir_.Join("reference")}, source(), options);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    source_info_ = *info;
  }

  std::string source() const { return dir_.Join("corpus"); }

  CompressStats CompressTarget(const std::string& corpus, Profile profile,
                               CorpusUseObserver* observer = nullptr) {
    std::string container;
    auto in = MemorySource(target_);
    auto out = MemorySink(&container);
    CompressOptions options;
    options.profile = profile;
    options.fallback_to_standalone = false;
    options.use_observer = observer;
    auto stats = Compress(corpus, *in, *out, options);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return stats.ok() ? *stats : CompressStats{};
  }

  ScratchDir dir_;
  std::vector<uint8_t> reference_, target_;
  CorpusInfo source_info_;
};

TEST_F(CorpusPruneTest, KeepForKeepsWhatTheFileUsesAndNothingElse) {
  for (Profile profile : {Profile::kFast, Profile::kDefault, Profile::kMax}) {
    SCOPED_TRACE(ProfileName(profile));
    std::string out = dir_.Join(std::string("pruned-") + ProfileName(profile));
    CorpusPruneOptions options;
    options.keep_for = {dir_.Join("target")};
    options.profile = profile;
    auto pruned = PruneCorpus(source(), out, options);
    ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
    EXPECT_NE(pruned->info.id, source_info_.id);
    EXPECT_FALSE(pruned->info.parent_id.has_value());
    EXPECT_EQ(pruned->kept_chunks + pruned->dropped_chunks, source_info_.unique_chunks);
    EXPECT_EQ(pruned->kept_bytes + pruned->dropped_bytes, source_info_.pack_bytes());
    EXPECT_EQ(pruned->info.unique_chunks, pruned->kept_chunks);
    EXPECT_EQ(pruned->info.pack_bytes(), pruned->kept_bytes);
    EXPECT_EQ(pruned->info.chunking.avg_size, source_info_.chunking.avg_size);
    // The target uses under half of the reference: the rest goes.
    EXPECT_LT(pruned->kept_bytes, reference_.size() / 2 + 20000);
    EXPECT_GT(pruned->dropped_bytes, reference_.size() / 2 - 20000);
    EXPECT_TRUE(VerifyCorpus(out).ok());
    // The same profile finds the same bytes in the pruned corpus.
    CompressStats original = CompressTarget(source(), profile);
    CompressStats smaller = CompressTarget(out, profile);
    EXPECT_EQ(smaller.copy_bytes, original.copy_bytes);
    EXPECT_EQ(smaller.delta_bytes, original.delta_bytes);
  }
  EXPECT_TRUE(VerifyCorpus(source()).ok()) << "the source is not changed";
}

TEST_F(CorpusPruneTest, UnusedSinceKeepsRecentlyUsedChunks) {
  CorpusUsageRecorder recorder;
  CompressTarget(source(), Profile::kDefault, &recorder);
  ASSERT_TRUE(recorder.Record(source(), source_info_.id, 10000).ok());

  CorpusPruneOptions recent;
  recent.unused_since_seconds = 3600;
  recent.now = 10000 + 60;
  auto kept = PruneCorpus(source(), dir_.Join("recent"), recent);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_GT(kept->kept_chunks, 0u);
  EXPECT_GT(kept->dropped_chunks, 0u);
  EXPECT_EQ(CompressTarget(dir_.Join("recent"), Profile::kDefault).copy_bytes,
            CompressTarget(source(), Profile::kDefault).copy_bytes);

  // Same usage, pruned with --keep-for: the same chunks.
  CorpusPruneOptions keep_for;
  keep_for.keep_for = {dir_.Join("target")};
  keep_for.profile = Profile::kDefault;
  auto same = PruneCorpus(source(), dir_.Join("keep-for"), keep_for);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->kept_chunks, kept->kept_chunks);
  EXPECT_EQ(same->info.index_digest, kept->info.index_digest);

  CorpusPruneOptions stale = recent;
  stale.now = 10000 + 7200;
  auto nothing = PruneCorpus(source(), dir_.Join("stale"), stale);
  ASSERT_TRUE(nothing.ok()) << nothing.status().ToString();
  EXPECT_EQ(nothing->kept_chunks, 0u);
  EXPECT_EQ(nothing->dropped_chunks, source_info_.unique_chunks);
  EXPECT_TRUE(VerifyCorpus(dir_.Join("stale")).ok());
}

TEST_F(CorpusPruneTest, UnusedSinceWithoutAUsageStoreSaysWhatToDo) {
  CorpusPruneOptions options;
  options.unused_since_seconds = 86400;
  auto pruned = PruneCorpus(source(), dir_.Join("out"), options);
  ASSERT_FALSE(pruned.ok());
  EXPECT_EQ(pruned.status().code(), StatusCode::kNotFound);
  EXPECT_NE(pruned.status().message().find("--keep-for"), std::string::npos);
  EXPECT_EQ(testing::ListNames(dir_.path()),
            (std::set<std::string>{"corpus", "reference", "target"}));
}

TEST_F(CorpusPruneTest, ExactlyOneMode) {
  CorpusPruneOptions neither;
  auto a = PruneCorpus(source(), dir_.Join("out"), neither);
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  CorpusPruneOptions both;
  both.keep_for = {dir_.Join("target")};
  both.unused_since_seconds = 60;
  auto b = PruneCorpus(source(), dir_.Join("out"), both);
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().message().find("exactly one"), std::string::npos);
  CorpusPruneOptions missing;
  missing.keep_for = {dir_.Join("no-such-file")};
  EXPECT_EQ(PruneCorpus(source(), dir_.Join("out"), missing).status().code(), StatusCode::kNotFound);
  CorpusPruneOptions exists;
  exists.keep_for = {dir_.Join("target")};
  EXPECT_EQ(PruneCorpus(source(), source(), exists).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(testing::ListNames(dir_.path()),
            (std::set<std::string>{"corpus", "reference", "target"}));
}

TEST_F(CorpusPruneTest, ADamagedSourceChunkFailsThePruneAndLeavesNothing) {
  std::string pack = source() + "/pack/000000.seg";
  std::vector<uint8_t> bytes = testing::ReadFile(pack);
  bytes[150000] ^= 0xff;  // Inside what the target uses.
  testing::WriteFile(pack, bytes);
  CorpusPruneOptions options;
  options.keep_for = {dir_.Join("target")};
  options.profile = Profile::kFast;
  auto pruned = PruneCorpus(source(), dir_.Join("out"), options);
  ASSERT_FALSE(pruned.ok());
  EXPECT_EQ(pruned.status().code(), StatusCode::kIntegrity) << pruned.status().ToString();
  EXPECT_EQ(testing::ListNames(dir_.path()),
            (std::set<std::string>{"corpus", "reference", "target"}));
}

TEST(ParseDurationTest, AcceptsANumberAndAUnit) {
  EXPECT_EQ(*ParseDuration("45s"), 45u);
  EXPECT_EQ(*ParseDuration("90m"), 5400u);
  EXPECT_EQ(*ParseDuration("12h"), 43200u);
  EXPECT_EQ(*ParseDuration("30d"), 2592000u);
  EXPECT_EQ(*ParseDuration("2w"), 1209600u);
  EXPECT_EQ(*ParseDuration("0d"), 0u);
}

TEST(ParseDurationTest, RejectsEverythingElse) {
  for (const char* bad : {"", "d", "30", "-1d", "1.5d", "30x", "30 d", "d30", "30dd", "1d12h",
                          " 30d", "30D", "99999999999999999999s", "99999999999999999w"}) {
    auto parsed = ParseDuration(bad);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << "'" << bad << "'";
    EXPECT_NE(parsed.status().message().find("30d"), std::string::npos) << parsed.status().ToString();
  }
}

}  // namespace
}  // namespace reducto
