// PublishCorpus (docs/repositories.md, "Publishing"): what a publish adds, publishing
// again, concurrent publishers, a different manifest under the same id, and the packed
// pieces against the segment. The command line's behaviour is in
// tests/cli/corpus_publish_test.sh.
#include "reducto/repository.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "corpus/corpus_test_util.h"
#include "random_bytes.h"
#include "reducto/corpus.h"
#include "repository/packed_pieces.h"
#include "repository/piece_table.h"
#include "fetch/fault_server.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ReadFile;
using testing::ScratchDir;
using testing::WriteFile;

std::span<const uint8_t> Bytes(const std::vector<uint8_t>& v) { return v; }

class PublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Join("input"), RandomBytes(300000, 11));
    std::filesystem::create_directories(dir_.Join("store"));
    CorpusBuildOptions options;
    options.chunking = ChunkerParams::ForAverage(4096);
    auto info = BuildCorpus({dir_.Join("input")}, dir_.Join("store/c"), options);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    info_ = *info;
  }
  std::string Published(const std::string& name) const {
    return dir_.Join("repo/corpora/" + info_.id + "/" + name);
  }
  ScratchDir dir_;
  CorpusInfo info_;
};

TEST_F(PublishTest, PiecesUnpackToTheSegment) {
  auto result = PublishCorpus(dir_.Join("store/c"), dir_.Join("repo"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->corpora.size(), 1u);
  EXPECT_TRUE(result->corpora[0].added);
  std::vector<uint8_t> segment = ReadFile(dir_.Join("store/c/pack/000000.seg"));
  std::vector<uint8_t> pz = ReadFile(Published("pack/000000.pz"));
  auto index = ParsePackedPieceIndex(ReadFile(Published("pack/000000.pzi")), segment.size(), "pzi");
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  auto table = ParsePieceTable(ReadFile(Published("pieces/000000.b3")), segment.size(), "b3");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_EQ(index->count(), table->count());
  for (uint64_t i = 0; i < table->count(); ++i) {
    auto frame = Bytes(pz).subspan(index->offsets[i], index->offsets[i + 1] - index->offsets[i]);
    auto piece = UnpackPiece(frame, table->PieceLength(i), "pz");
    ASSERT_TRUE(piece.ok()) << piece.status().ToString();
    EXPECT_TRUE(DigestEqual(Blake3({reinterpret_cast<const uint8_t*>(piece->data()), piece->size()}),
                            table->digests[i])) << i;
  }
  EXPECT_FALSE(std::filesystem::exists(Published("pack/000000.seg")));
}

TEST_F(PublishTest, AgainIsANoOpAndConcurrentPublishersAgree) {
  std::vector<Result<PublishResult>> results(3, Status::Ok());
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&] { r = PublishCorpus(dir_.Join("store/c"), dir_.Join("repo")); });
  }
  for (std::thread& t : threads) t.join();
  int added = 0;
  for (auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    added += r->corpora[0].added;
  }
  EXPECT_EQ(added, 1);
  auto again = PublishCorpus(dir_.Join("store/c"), dir_.Join("repo"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->corpora[0].added);
  EXPECT_EQ(again->corpora[0].files, 0u);
  for (const auto& entry : std::filesystem::directory_iterator(dir_.Join("repo/corpora"))) {
    EXPECT_EQ(entry.path().filename().string(), info_.id) << "a staging directory was left";
  }
}

TEST_F(PublishTest, AnotherManifestUnderTheIdIsAnIntegrityFailure) {
  ASSERT_TRUE(PublishCorpus(dir_.Join("store/c"), dir_.Join("repo")).ok());
  std::vector<uint8_t> manifest = ReadFile(Published("manifest.json"));
  manifest.push_back('\n');
  WriteFile(Published("manifest.json"), manifest);
  auto result = PublishCorpus(dir_.Join("store/c"), dir_.Join("repo"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIntegrity) << result.status().ToString();
}

TEST_F(PublishTest, DamagedSegmentIsNotPublished) {
  std::vector<uint8_t> segment = ReadFile(dir_.Join("store/c/pack/000000.seg"));
  segment[100000] ^= 1;
  WriteFile(dir_.Join("store/c/pack/000000.seg"), segment);
  auto result = PublishCorpus(dir_.Join("store/c"), dir_.Join("repo"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIntegrity) << result.status().ToString();
  EXPECT_NE(result.status().message().find("piece 1 "), std::string::npos)
      << result.status().ToString();
  EXPECT_TRUE(std::filesystem::is_empty(dir_.Join("repo/corpora")));
}

TEST_F(PublishTest, PublishesOverHttpPutWithTheManifestLast) {
  std::filesystem::create_directories(dir_.Join("server"));
  testing::FaultServer server(dir_.Join("server"));
  ASSERT_TRUE(server.Start().ok());
  server.RequireToken("put-token");
  PublishOptions options;
  options.token = "put-token";
  auto first = PublishCorpus(dir_.Join("store/c"), server.url() + "/", options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->corpora.back().added);
  // What the server holds is what a directory publish writes.
  auto local = PublishCorpus(dir_.Join("store/c"), dir_.Join("repo"));
  ASSERT_TRUE(local.ok());
  const std::string id = first->corpora.back().id;
  for (const char* file : {"manifest.json", "pack/000000.pz", "pack/000000.pzi",
                           "pieces/000000.b3"}) {
    std::string name = "corpora/" + id + "/" + file;
    EXPECT_EQ(ReadFile(dir_.Join("server/" + name)), ReadFile(dir_.Join("repo/" + name)))
        << name;
  }
  // Publishing again finds it there and uploads nothing.
  int requests = server.requests();
  auto again = PublishCorpus(dir_.Join("store/c"), server.url(), options);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->corpora.back().added);
  EXPECT_EQ(server.requests(), requests + 1);  // The manifest's GET only.
  // A wrong token is refused, and never shown.
  options.token = "wrong-put-token";
  auto refused = PublishCorpus(dir_.Join("store/c"), server.url(), options);
  EXPECT_EQ(refused.status().code(), StatusCode::kPermission);
  EXPECT_EQ(refused.status().message().find("wrong-put-token"), std::string::npos);
}

TEST_F(PublishTest, RefusesBadLevels) {
  PublishOptions options;
  options.level = 99;
  auto level = PublishCorpus(dir_.Join("store/c"), dir_.Join("repo"), options);
  EXPECT_EQ(level.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reducto
