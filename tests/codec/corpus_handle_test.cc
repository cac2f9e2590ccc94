// The public corpus handle: one Corpus shared by many Compress/Decompress calls and
// threads, the containers it gives (the same as opening by directory), its checks, its
// lifetime, and LocalCorpusResolver.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "codec_test_util.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/corpus_handle.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::AsBytes;
using testing::RandomBytes;
using testing::ScratchDir;

class CorpusHandleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reference_ = RandomBytes(400000, 91);
    testing::WriteFile(dir_.Join("reference"), reference_);
    CorpusBuildOptions options;
    options.chunking = ChunkerParams::ForAverage(4096);
    ASSERT_TRUE(BuildCorpus({dir_.Join("reference")}, dir_.Join("corpus"), options).ok());
  }

  // Reference bytes with `seed`-chosen edits.
  std::vector<uint8_t> Target(uint64_t seed) const {
    std::vector<uint8_t> target = reference_;
    auto fresh = RandomBytes(3000, seed);
    target.insert(target.begin() + static_cast<long>(seed * 7919 % 390000), fresh.begin(),
                  fresh.end());
    return target;
  }

  static std::string CompressWith(const Corpus& corpus, const std::vector<uint8_t>& target) {
    std::string container;
    auto source = MemorySource(target, "target");
    auto sink = MemorySink(&container, "target.rdc");
    CompressOptions options;
    options.threads = 1;
    auto stats = Compress(corpus, *source, *sink, options);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return container;
  }

  ScratchDir dir_;
  std::vector<uint8_t> reference_;
};

// The pack's path appears in /proc/self/maps while a corpus holds it mapped.
bool PackIsMapped(const std::string& corpus_dir) {
  std::ifstream maps("/proc/self/maps");
  const std::string canonical = std::filesystem::canonical(corpus_dir).string();
  for (std::string line; std::getline(maps, line);) {
    if (line.find(canonical + "/") != std::string::npos) return true;
  }
  return false;
}

TEST_F(CorpusHandleTest, GivesTheContainersOfCompressByDirectory) {
  auto corpus = Corpus::Open(dir_.Join("corpus"));
  ASSERT_TRUE(corpus.ok()) << corpus.status().ToString();
  for (uint64_t seed : {1, 2, 3}) {
    std::string by_directory;
    const std::vector<uint8_t> target = Target(seed);
    auto source = MemorySource(target, "target");
    auto sink = MemorySink(&by_directory, "target.rdc");
    CompressOptions options;
    options.threads = 1;
    ASSERT_TRUE(Compress(dir_.Join("corpus"), *source, *sink, options).ok());
    const std::string by_handle = CompressWith(**corpus, target);
    EXPECT_GT(by_handle.size(), 100u);
    EXPECT_TRUE(by_handle == by_directory) << "seed " << seed << ": " << by_handle.size()
                                           << " bytes by handle, " << by_directory.size()
                                           << " by directory";
  }
}

TEST_F(CorpusHandleTest, OneHandleServesManyThreads) {
  auto corpus = Corpus::Open(dir_.Join("corpus"));
  ASSERT_TRUE(corpus.ok()) << corpus.status().ToString();
  const CorpusHandle handle = *corpus;
  std::vector<std::string> containers(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < containers.size(); ++t) {
    threads.emplace_back([&, t] { containers[t] = CompressWith(*handle, Target(t + 10)); });
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t t = 0; t < containers.size(); ++t) {
    ASSERT_FALSE(containers[t].empty());
    std::string output;
    auto source = MemorySource(AsBytes(containers[t]), "c.rdc");
    auto sink = MemorySink(&output, "out");
    auto stats = Decompress(*handle, *source, *sink, DecompressOptions());
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(std::vector<uint8_t>(output.begin(), output.end()), Target(t + 10));
    EXPECT_LT(containers[t].size(), 20000u) << "the handle's corpus was used";
  }
}

TEST_F(CorpusHandleTest, ClosesItsMappingsWhenTheLastHandleGoes) {
  auto corpus = Corpus::Open(dir_.Join("corpus"));
  ASSERT_TRUE(corpus.ok());
  CorpusHandle second = *corpus;
  EXPECT_TRUE(PackIsMapped(dir_.Join("corpus")));
  corpus = Status::NotFound("dropped");
  EXPECT_TRUE(PackIsMapped(dir_.Join("corpus"))) << "one handle is still held";
  second.reset();
  EXPECT_FALSE(PackIsMapped(dir_.Join("corpus")));
}

TEST_F(CorpusHandleTest, DecompressRefusesAContainerOfAnotherCorpus) {
  CorpusBuildOptions options;
  options.chunking = ChunkerParams::ForAverage(4096);
  ASSERT_TRUE(BuildCorpus({dir_.Join("reference")}, dir_.Join("other"), options).ok());
  auto corpus = Corpus::Open(dir_.Join("corpus"));
  auto other = Corpus::Open(dir_.Join("other"));
  ASSERT_TRUE(corpus.ok() && other.ok());
  std::string container = CompressWith(**corpus, Target(5));
  std::string output;
  auto source = MemorySource(AsBytes(container), "c.rdc");
  auto sink = MemorySink(&output, "out");
  auto stats = Decompress(**other, *source, *sink, DecompressOptions());
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().ToString().find((*corpus)->info().id), std::string::npos)
      << stats.status().ToString();
  EXPECT_TRUE(output.empty());
}

TEST_F(CorpusHandleTest, OpenAppliesTheTrustRules) {
  CorpusOpenOptions options;
  options.policy = [](const CorpusInfo& info) {
    return Status::Permission("corpus " + info.id + " refused by policy");
  };
  auto refused = Corpus::Open(dir_.Join("corpus"), options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermission);
  auto missing = Corpus::Open(dir_.Join("nowhere"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(CorpusHandleTest, CompressAppliesItsOwnPolicyToAnOpenCorpus) {
  auto corpus = Corpus::Open(dir_.Join("corpus"));
  ASSERT_TRUE(corpus.ok());
  std::string container;
  const std::vector<uint8_t> target = Target(6);
  auto source = MemorySource(target, "target");
  auto sink = MemorySink(&container, "target.rdc");
  CompressOptions options;
  options.corpus_policy = [](const CorpusInfo&) { return Status::Permission("not this one"); };
  auto stats = Compress(**corpus, *source, *sink, options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kPermission);
}

TEST_F(CorpusHandleTest, ResolverOpensEachCorpusOnceWhileItIsHeld) {
  LocalCorpusResolver resolver;
  auto first = resolver.Resolve(CorpusReference{dir_.Join("corpus"), "", std::nullopt});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string id = (*first)->info().id;
  // By id, in the store that holds it: the same open corpus.
  auto by_id = resolver.Resolve(CorpusReference{dir_.path(), id, (*first)->info().manifest_digest});
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(first->get(), by_id->get());
  auto unknown = resolver.Resolve(
      CorpusReference{dir_.path(), "00000000-0000-4000-8000-000000000000", std::nullopt});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST_F(CorpusHandleTest, ResolverLooksInItsLocationsForAReferenceWithoutOne) {
  auto opened = Corpus::Open(dir_.Join("corpus"));
  ASSERT_TRUE(opened.ok());
  const std::string id = (*opened)->info().id;
  LocalCorpusResolver nowhere;
  auto missing = nowhere.Resolve(CorpusReference{"", id, std::nullopt});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("pass -c DIR"), std::string::npos)
      << missing.status().ToString();
  LocalCorpusResolver stores({}, {dir_.Join("empty-store-that-does-not-exist"), dir_.path()});
  auto found = stores.Resolve(CorpusReference{"", id, std::nullopt});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ((*found)->info().id, id);
}

TEST_F(CorpusHandleTest, ResolverReopensACorpusReplacedAtItsPath) {
  LocalCorpusResolver resolver;
  auto first = resolver.Resolve(CorpusReference{dir_.Join("corpus"), "", std::nullopt});
  ASSERT_TRUE(first.ok());
  CorpusBuildOptions options;
  options.chunking = ChunkerParams::ForAverage(4096);
  options.overwrite = true;
  ASSERT_TRUE(BuildCorpus({dir_.Join("reference")}, dir_.Join("corpus"), options).ok());
  auto second = resolver.Resolve(CorpusReference{dir_.Join("corpus"), "", std::nullopt});
  ASSERT_TRUE(second.ok());
  EXPECT_NE((*first)->info().id, (*second)->info().id);
}

}  // namespace
}  // namespace reducto
