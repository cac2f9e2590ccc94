// The public Compress/Decompress: options, corpus directories (missing, not a corpus,
// real), fallback to standalone, and round trips against corpora built by BuildCorpus.
#include <gtest/gtest.h>

#include <filesystem>

#include "codec_test_util.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::AsBytes;
using testing::AsString;
using testing::RandomBytes;
using testing::ScratchDir;

Result<CompressStats> CompressBytes(const std::string& corpus_dir,
                                    const std::vector<uint8_t>& input,
                                    const CompressOptions& options, std::string* container) {
  container->clear();
  auto source = MemorySource(input, "target");
  auto sink = MemorySink(container, "target.rdc");
  return Compress(corpus_dir, *source, *sink, options);
}

Result<DecompressStats> DecompressBytes(const std::string& corpus_dir, const std::string& container,
                                        std::string* output) {
  output->clear();
  auto source = MemorySource(AsBytes(container), "target.rdc");
  auto sink = MemorySink(output, "target");
  return Decompress(corpus_dir, *source, *sink);
}

CompressOptions StandaloneOptions() {
  CompressOptions options;
  options.standalone = true;
  return options;
}

// A reference file, a corpus built from it, and a target that shares most of it.
class RealCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reference_ = RandomBytes(600000, 77);
    testing::WriteFile(dir_.Join("reference"), reference_);
    CorpusBuildOptions options;
    options.chunking = ChunkerParams::ForAverage(4096);
    auto info = BuildCorpus({dir_.Join("reference")}, corpus_dir(), options);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    info_ = *info;
    target_.assign(reference_.begin() + 100000, reference_.begin() + 500000);
    auto fresh = RandomBytes(20000, 78);
    target_.insert(target_.begin() + 200000, fresh.begin(), fresh.end());
  }
  std::string corpus_dir() const { return dir_.Join("corpus"); }

  ScratchDir dir_;
  std::vector<uint8_t> reference_;
  std::vector<uint8_t> target_;
  CorpusInfo info_;
};

TEST_F(RealCorpusTest, RoundTrips) {
  std::string container, output;
  CompressOptions options;
  options.block_size = 64u << 10;
  auto stats = CompressBytes(corpus_dir(), target_, options, &container);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_FALSE(stats->standalone);
  EXPECT_FALSE(stats->fell_back);
  EXPECT_EQ(stats->corpus_id, info_.id);
  EXPECT_GT(stats->copy_bytes, target_.size() * 8 / 10);
  EXPECT_LT(container.size(), target_.size() / 5);
  auto decoded = DecompressBytes(corpus_dir(), container, &output);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(output == AsString(target_));
  EXPECT_EQ(decoded->corpus_id, info_.id);
  EXPECT_FALSE(decoded->standalone);
  EXPECT_EQ(decoded->blocks, stats->blocks);
}

// Records what the observer is told, and checks each range against the corpus bytes.
class RecordingObserver : public CorpusUseObserver {
 public:
  void OnUse(uint64_t address, uint64_t length) override { ranges.emplace_back(address, length); }
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
};

TEST_F(RealCorpusTest, ObserverSeesEveryCopiedRange) {
  for (Profile profile : {Profile::kFast, Profile::kDefault}) {
    RecordingObserver observer;
    std::string container;
    CompressOptions options;
    options.profile = profile;
    options.use_observer = &observer;
    auto stats = CompressBytes(corpus_dir(), target_, options, &container);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    uint64_t total = 0;
    for (auto [address, length] : observer.ranges) {
      ASSERT_LE(address + length, reference_.size());
      total += length;
    }
    EXPECT_EQ(observer.ranges.size(), stats->copies) << ProfileName(profile);
    EXPECT_EQ(total, stats->copy_bytes) << ProfileName(profile);
  }
}

TEST_F(RealCorpusTest, EmptyTargetRoundTrips) {
  std::string container, output;
  ASSERT_TRUE(CompressBytes(corpus_dir(), {}, CompressOptions(), &container).ok());
  ASSERT_TRUE(DecompressBytes(corpus_dir(), container, &output).ok());
  EXPECT_TRUE(output.empty());
}

TEST_F(RealCorpusTest, DecompressNeedsTheCorpus) {
  std::string container, output;
  ASSERT_TRUE(CompressBytes(corpus_dir(), target_, CompressOptions(), &container).ok());
  auto missing = DecompressBytes("", container, &output);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(
      missing.status().message().find("this container needs corpus " + info_.id + ": pass -c DIR"),
      std::string::npos)
      << missing.status().ToString();
  auto gone = DecompressBytes(dir_.Join("nowhere"), container, &output);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status().ToString();
  // It names the corpus needed and how to get it, never building one under the missing
  // name (a new corpus can never match).
  EXPECT_NE(gone.status().message().find("corpus " + info_.id + " is needed, and " +
                                         dir_.Join("nowhere") + " does not exist"),
            std::string::npos)
      << gone.status().ToString();
  EXPECT_EQ(gone.status().message().find("corpus build"), std::string::npos);
}

// -c STORE: the corpus is found in the store by the container's id.
TEST_F(RealCorpusTest, DecompressFindsTheCorpusInAStore) {
  std::string container, output;
  ASSERT_TRUE(CompressBytes(corpus_dir(), target_, CompressOptions(), &container).ok());
  auto found = DecompressBytes(dir_.path(), container, &output);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_TRUE(output == AsString(target_));
  ScratchDir empty_store;
  auto absent = DecompressBytes(empty_store.path(), container, &output);
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
  EXPECT_NE(absent.status().message().find("is neither that corpus nor a store that holds it"),
            std::string::npos)
      << absent.status().ToString();
}

// DescribeContainer reads, without the corpus, what Compress reported writing.
TEST_F(RealCorpusTest, DescribeContainerAgreesWithCompress) {
  for (Profile profile : {Profile::kFast, Profile::kMax}) {
    std::string container;
    CompressOptions options;
    options.profile = profile;
    auto stats = CompressBytes(corpus_dir(), target_, options, &container);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    auto source = MemorySource(AsBytes(container), "target.rdc");
    auto d = DescribeContainer(*source);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->container_bytes, container.size());
    EXPECT_EQ(d->original_bytes, stats->input_bytes);
    EXPECT_EQ(d->copy_bytes, stats->copy_bytes);
    EXPECT_EQ(d->literal_bytes, stats->literal_bytes);
    EXPECT_EQ(d->delta_bytes, stats->delta_bytes);
    EXPECT_EQ(d->blocks, stats->blocks);
    EXPECT_EQ(d->corpus_id, info_.id);
    EXPECT_EQ(d->level, DefaultLevel(profile));
    EXPECT_FALSE(d->encrypted);
    EXPECT_GT(d->corpus_bytes_referenced, 0u);
  }
  std::string container;
  ASSERT_TRUE(CompressBytes(corpus_dir(), target_, CompressOptions(), &container).ok());
  container.resize(container.size() - 1);
  auto source = MemorySource(AsBytes(container), "cut.rdc");
  EXPECT_EQ(DescribeContainer(*source).status().code(), StatusCode::kCorrupt);
}

TEST_F(RealCorpusTest, AnotherCorpusIsRefused) {
  std::string container, output;
  ASSERT_TRUE(CompressBytes(corpus_dir(), target_, CompressOptions(), &container).ok());
  CorpusBuildOptions options;
  options.chunking = ChunkerParams::ForAverage(4096);
  ASSERT_TRUE(BuildCorpus({dir_.Join("reference")}, dir_.Join("other"), options).ok());
  auto result = DecompressBytes(dir_.Join("other"), container, &output);
  // A corpus problem, not a wrong command line: NotFound (exit 1), naming the one needed.
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_NE(result.status().message().find("pass -c with corpus " + info_.id), std::string::npos)
      << result.status().ToString();
}

TEST_F(RealCorpusTest, StandaloneIgnoresTheCorpus) {
  std::string container, output;
  auto stats = CompressBytes(corpus_dir(), target_, StandaloneOptions(), &container);
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(stats->standalone);
  EXPECT_EQ(stats->copy_bytes, 0u);
  // Decodes without a corpus, and with a corpus directory that does not even exist.
  ASSERT_TRUE(DecompressBytes("", container, &output).ok());
  ASSERT_TRUE(DecompressBytes(dir_.Join("nowhere"), container, &output).ok());
  EXPECT_TRUE(output == AsString(target_));
}

TEST(CompressApiTest, MissingCorpusFallsBackToStandaloneWhenAsked) {
  ScratchDir dir;
  auto input = RandomBytes(100000, 5);
  std::string container, output;
  CompressOptions options;
  options.fallback_to_standalone = true;
  auto stats = CompressBytes(dir.Join("nowhere"), input, options, &container);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(stats->fell_back);
  EXPECT_TRUE(stats->standalone);
  EXPECT_TRUE(stats->corpus_id.empty());
  ASSERT_TRUE(DecompressBytes("", container, &output).ok());
  EXPECT_TRUE(output == AsString(input));
}

// The default: a missing corpus (a mistyped path) is an error, never a standalone
// container that passes for a compression.
TEST(CompressApiTest, MissingCorpusIsNotFoundByDefault) {
  ScratchDir dir;
  std::string container;
  auto stats =
      CompressBytes(dir.Join("nowhere"), RandomBytes(10, 1), CompressOptions(), &container);
  EXPECT_EQ(stats.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(stats.status().message(),
            "corpus " + dir.Join("nowhere") +
                " not found: no such directory: pass the right corpus directory (`reducto corpus "
                "list STORE` lists the corpora of a store), or --standalone for a container that "
                "needs no corpus");
  EXPECT_TRUE(container.empty());
}

TEST(CompressApiTest, DirectoryThatIsNotACorpusNeverFallsBack) {
  ScratchDir dir;
  testing::WriteFile(dir.Join("some-file"), RandomBytes(10, 1));
  std::string container;
  auto stats = CompressBytes(dir.path(), RandomBytes(10, 1), CompressOptions(), &container);
  EXPECT_FALSE(stats.ok());
  EXPECT_NE(stats.status().code(), StatusCode::kOk);
}

TEST(CompressApiTest, OptionsAreValidated) {
  std::string container;
  CompressOptions options = StandaloneOptions();
  options.level = 23;
  auto s = CompressBytes("", {}, options, &container).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("level"), std::string::npos);
  options = StandaloneOptions();
  options.block_size = (64u << 10) - 1;  // Below the public minimum, though legal on disk.
  s = CompressBytes("", {}, options, &container).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("64K to 64M"), std::string::npos) << s.ToString();
  options.block_size = (64u << 20) + 1;
  EXPECT_EQ(CompressBytes("", {}, options, &container).status().code(),
            StatusCode::kInvalidArgument);
  // A corpus container without a corpus directory.
  EXPECT_EQ(CompressBytes("", {}, CompressOptions(), &container).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CompressApiTest, StandaloneRoundTripWithDefaults) {
  auto input = RandomBytes(5u << 20, 9);  // More than one default block.
  std::string container, output;
  auto stats = CompressBytes("", input, StandaloneOptions(), &container);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->blocks, 2u);
  EXPECT_FALSE(stats->fell_back);
  auto decoded = DecompressBytes("", container, &output);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->standalone);
  EXPECT_TRUE(output == AsString(input));
}

}  // namespace
}  // namespace reducto
