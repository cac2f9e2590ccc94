// Corpora from repositories (reducto/remote.h): exactly the pieces a container needs are
// fetched, in the bytes of the merged requests; the cache serves them again without a
// request; damaged repositories are refused and the next one is asked.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <cstdint>
#include <set>

#include "corpus/corpus_handle_access.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/remote.h"
#include "reducto/repository.h"
#include "repository/packed_pieces.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ReadFile;
using testing::ScratchDir;
using testing::WriteFile;

constexpr uint64_t kPiece = 65536;

class RemoteCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A reference of random runs; the target reuses every fourth 40 KiB run of it, so
    // that it needs some pieces of the pack and not others.
    reference_ = RandomBytes(3 << 20, 7);
    for (size_t at = 0; at + 40960 <= reference_.size(); at += 4 * 40960) {
      target_.insert(target_.end(), reference_.begin() + at, reference_.begin() + at + 40960);
      std::vector<uint8_t> fresh = RandomBytes(2000, at);
      target_.insert(target_.end(), fresh.begin(), fresh.end());
    }
    WriteFile(dir_.Join("ref"), reference_);
    CorpusBuildOptions build;
    build.chunking = ChunkerParams{2048, 8192, 32768, 1};
    ASSERT_TRUE(BuildCorpus({dir_.Join("ref")}, dir_.Join("corpus"), build).ok());
    auto published = PublishCorpus(dir_.Join("corpus"), dir_.Join("repo"));
    ASSERT_TRUE(published.ok()) << published.status().ToString();
    id_ = published->corpora.back().id;
    auto source = MemorySource(target_);
    auto sink = MemorySink(&container_);
    auto stats = Compress(dir_.Join("corpus"), *source, *sink, CompressOptions{});
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    auto in = MemorySource(std::span(reinterpret_cast<const uint8_t*>(container_.data()),
                                     container_.size()));
    auto description = DescribeContainer(*in);
    ASSERT_TRUE(description.ok());
    description_ = *description;
  }

  RemoteSettings Settings(std::vector<std::string> urls) const {
    RemoteSettings settings;
    for (const std::string& url : urls) {
      RepositoryConfig repository;
      repository.url = url;
      repository.attempts = 2;
      repository.backoff_ms = 1;
      settings.repositories.push_back(repository);
    }
    settings.cache_dir = dir_.Join("cache");
    return settings;
  }

  // Decompresses the container through `resolver`; the output must be the target.
  void ExpectRoundTrip(CorpusResolver& resolver) {
    auto in = MemorySource(std::span(reinterpret_cast<const uint8_t*>(container_.data()),
                                     container_.size()));
    std::string out;
    auto sink = MemorySink(&out);
    auto stats = Decompress(resolver, *in, *sink, DecompressOptions{});
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    ASSERT_TRUE((*sink).Commit().ok());
    EXPECT_EQ(out, std::string(target_.begin(), target_.end()));
  }

  std::string RepoUrl() const { return "file://" + dir_.Join("repo"); }

  // The pieces the container's ranges touch.
  std::set<uint64_t> NeededPieces() const {
    std::set<uint64_t> pieces;
    for (const auto& [address, length] : description_.corpus_ranges) {
      for (uint64_t i = address / kPiece; i * kPiece < address + length; ++i) pieces.insert(i);
    }
    return pieces;
  }

  ScratchDir dir_;
  std::vector<uint8_t> reference_, target_;
  std::string container_;
  ContainerDescription description_;
  std::string id_;
};

TEST_F(RemoteCorpusTest, FetchesExactlyThePiecesTheContainerNeeds) {
  RemoteCorpusResolver resolver(nullptr, Settings({RepoUrl()}), CorpusOpenOptions{});
  ExpectRoundTrip(resolver);
  const std::set<uint64_t> needed = NeededPieces();
  const uint64_t pack_pieces = (std::filesystem::file_size(dir_.Join("corpus/pack/000000.seg")) +
                                kPiece - 1) / kPiece;
  ASSERT_GT(needed.size(), 0u);
  ASSERT_LT(needed.size(), pack_pieces);  // The test needs a partial fetch.
  FetchTotals totals = resolver.totals();
  EXPECT_EQ(totals.pieces_fetched, needed.size());
  EXPECT_EQ(totals.retries, 0u);
  // The bytes received: the compressed pieces needed, plus the gaps between pieces that
  // share a request (at most 16 KiB each), plus the manifest, piece table and index.
  auto pzi = ReadFile(dir_.Join("repo/corpora/" + id_ + "/pack/000000.pzi"));
  auto index = ParsePackedPieceIndex(pzi, std::filesystem::file_size(
                                              dir_.Join("corpus/pack/000000.seg")), "pzi");
  ASSERT_TRUE(index.ok());
  uint64_t pieces_bytes = 0;
  for (uint64_t i : needed) pieces_bytes += index->offsets[i + 1] - index->offsets[i];
  uint64_t metadata = std::filesystem::file_size(dir_.Join("repo/corpora/" + id_ +
                                                           "/manifest.json")) +
                      std::filesystem::file_size(dir_.Join("repo/corpora/" + id_ +
                                                           "/pieces/000000.b3")) +
                      pzi.size();
  EXPECT_GE(totals.bytes_fetched, pieces_bytes + metadata);
  EXPECT_LE(totals.bytes_fetched, pieces_bytes + metadata + (16u << 10) * needed.size());
}

TEST_F(RemoteCorpusTest, TheCacheServesAgainWithoutARequest) {
  {
    RemoteCorpusResolver first(nullptr, Settings({RepoUrl()}), CorpusOpenOptions{});
    ExpectRoundTrip(first);
  }
  RemoteCorpusResolver again(nullptr, Settings({"http://127.0.0.1:9/none"}), CorpusOpenOptions{});
  ExpectRoundTrip(again);
  EXPECT_EQ(again.totals().requests, 0u);
  EXPECT_EQ(again.totals().pieces_cached, NeededPieces().size());
}

TEST_F(RemoteCorpusTest, DamagedPiecesInARepositoryFailOverToTheNext) {
  // A second repository whose .pz file has every byte flipped: its pieces do not decode
  // or do not verify, so the first repository's are used.
  std::filesystem::copy(dir_.Join("repo"), dir_.Join("bad"),
                        std::filesystem::copy_options::recursive);
  std::string pz = dir_.Join("bad/corpora/" + id_ + "/pack/000000.pz");
  std::vector<uint8_t> bytes = ReadFile(pz);
  for (uint8_t& b : bytes) b ^= 0x5A;
  WriteFile(pz, bytes);
  RemoteCorpusResolver resolver(nullptr, Settings({"file://" + dir_.Join("bad"), RepoUrl()}),
                                CorpusOpenOptions{});
  ExpectRoundTrip(resolver);
  EXPECT_EQ(resolver.totals().pieces_fetched, NeededPieces().size());
}

TEST_F(RemoteCorpusTest, ARepositoryWithAnotherManifestIsRefused) {
  std::string manifest = dir_.Join("repo/corpora/" + id_ + "/manifest.json");
  std::ofstream(manifest, std::ios::app) << " ";
  RemoteCorpusResolver resolver(nullptr, Settings({RepoUrl()}), CorpusOpenOptions{});
  auto in = MemorySource(std::span(reinterpret_cast<const uint8_t*>(container_.data()),
                                   container_.size()));
  std::string out;
  auto sink = MemorySink(&out);
  auto stats = Decompress(resolver, *in, *sink, DecompressOptions{});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kNotFound);
  EXPECT_NE(stats.status().message().find("not the pinned"), std::string::npos)
      << stats.status().message();
  EXPECT_NE(stats.status().message().find(RepoUrl()), std::string::npos);
}

TEST_F(RemoteCorpusTest, RangesOutsideTheCorpusFetchNothingAndFailToRead) {
  // A damaged or hostile container may name any range: prefetching it must neither hang
  // nor fetch, and reading it is an error (the decoder reports the instruction).
  RemoteCorpusResolver resolver(nullptr, Settings({RepoUrl()}), CorpusOpenOptions{});
  auto handle = resolver.Resolve(CorpusReference{"", id_, std::nullopt});
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  const CorpusReader& reader = ReaderOf(**handle);
  const uint64_t size = reader.size();
  const std::vector<std::pair<uint64_t, uint64_t>> outside = {
      {size, 1}, {size + 100, 5}, {size - 1, 2}, {1, UINT64_MAX}, {UINT64_MAX, 1}};
  EXPECT_TRUE(reader.Prefetch(outside).ok());
  EXPECT_EQ(resolver.totals().pieces_fetched, 0u);
  std::vector<uint8_t> scratch;
  for (const auto& [address, length] : outside) {
    EXPECT_FALSE(reader.Read(address, length, &scratch).ok()) << address << "+" << length;
  }
  EXPECT_EQ(resolver.totals().pieces_fetched, 0u);
}

TEST_F(RemoteCorpusTest, NoRepositorySaysWhatToPass) {
  RemoteCorpusResolver resolver(nullptr, Settings({}), CorpusOpenOptions{});
  auto handle = resolver.Resolve(CorpusReference{"", id_, std::nullopt});
  ASSERT_FALSE(handle.ok());
  EXPECT_EQ(handle.status().code(), StatusCode::kNotFound);
  EXPECT_NE(handle.status().message().find("--repo URL"), std::string::npos);
}

}  // namespace
}  // namespace reducto
