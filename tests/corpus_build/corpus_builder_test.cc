#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "corpus/corpus_test_util.h"
#include "reducto/corpus.h"
#include "repository/piece_table.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::CorpusModel;
using testing::ListNames;
using testing::ModelCorpus;
using testing::RandomBytes;
using testing::ReadFile;
using testing::ScratchDir;
using testing::TestParams;
using testing::WriteFile;

CorpusBuildOptions TestOptions(bool overwrite = false) {
  CorpusBuildOptions options;
  options.chunking = TestParams();
  options.overwrite = overwrite;
  return options;
}

// Random data with repeats inside it, so that a single input already deduplicates.
std::vector<uint8_t> RepetitiveBytes(size_t unit, uint64_t seed) {
  std::vector<uint8_t> a = RandomBytes(unit, seed), b = RandomBytes(unit / 3, seed + 1);
  std::vector<uint8_t> out = a;
  out.insert(out.end(), b.begin(), b.end());
  out.insert(out.end(), a.begin(), a.end());
  return out;
}

void ExpectMatchesModel(const CorpusInfo& info, const CorpusModel& model) {
  EXPECT_EQ(info.input_bytes, model.input_bytes);
  EXPECT_EQ(info.chunk_count, model.chunks.size());
  EXPECT_EQ(info.unique_chunks, model.unique_chunks);
  EXPECT_EQ(info.index_entries, model.unique_chunks);
  ASSERT_EQ(info.segments.size(), 1u);
  EXPECT_EQ(info.pack_bytes(), model.pack.size());
  EXPECT_EQ(ReadFile(info.path + "/pack/000000.seg"), model.pack);
  EXPECT_TRUE(DigestEqual(info.segments[0].blake3, Blake3(model.pack)));
}

TEST(CorpusBuilderTest, BuildsFromFilesAndMatchesTheModel) {
  ScratchDir dir;
  auto a = RepetitiveBytes(300 << 10, 1), b = RandomBytes(100 << 10, 2);
  WriteFile(dir.Join("a"), a);
  WriteFile(dir.Join("b"), b);
  auto info = BuildCorpus({dir.Join("a"), dir.Join("b")}, dir.Join("corpus"), TestOptions());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->path, dir.Join("corpus"));
  ExpectMatchesModel(*info, ModelCorpus(TestParams(), {a, b}));
  EXPECT_LT(info->unique_chunks, info->chunk_count);  // `a` repeats itself.
  auto reread = ReadCorpusInfo(dir.Join("corpus"));
  ASSERT_TRUE(reread.ok()) << reread.status().ToString();
  EXPECT_EQ(reread->id, info->id);
  EXPECT_TRUE(DigestEqual(reread->manifest_digest, info->manifest_digest));
  EXPECT_TRUE(DigestEqual(reread->index_digest, info->index_digest));
}

TEST(CorpusBuilderTest, SameFileTwiceStoresItsChunksOnce) {
  ScratchDir dir;
  auto data = RandomBytes(256 << 10, 3);
  WriteFile(dir.Join("f"), data);
  auto info = BuildCorpus({dir.Join("f"), dir.Join("f")}, dir.Join("corpus"), TestOptions());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  size_t chunks = testing::ChunkAll(TestParams(), data).size();
  EXPECT_EQ(info->chunk_count, 2 * chunks);
  EXPECT_EQ(info->unique_chunks, chunks);  // Random data: every chunk distinct.
  EXPECT_EQ(info->input_bytes, 2 * data.size());
  EXPECT_EQ(info->pack_bytes(), data.size());
  EXPECT_EQ(ReadFile(dir.Join("corpus/pack/000000.seg")), data);
}

TEST(CorpusBuilderTest, DirectoriesAreWalkedInByteWiseOrder) {
  ScratchDir dir;
  // Byte-wise: "A" < "a-c" < "a/x" < "a/y/z" < "b" ('-' is 0x2d, '/' is 0x2f).
  std::vector<std::string> sorted = {"A", "a-c", "a/x", "a/y/z", "b"};
  std::vector<std::vector<uint8_t>> contents;
  for (size_t i = 0; i < sorted.size(); ++i)
    contents.push_back(RandomBytes(20000 + 977 * i, 10 + i));
  std::filesystem::create_directories(dir.Join("in/a/y"));
  for (size_t i : {4, 2, 0, 3, 1}) WriteFile(dir.Join("in/" + sorted[i]), contents[i]);
  WriteFile(dir.Join("in/empty"), {});
  std::filesystem::create_symlink(dir.Join("in/b"), dir.Join("in/link-to-b"));  // Not followed.

  auto info = BuildCorpus({dir.Join("in")}, dir.Join("corpus"), TestOptions());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ExpectMatchesModel(*info, ModelCorpus(TestParams(), contents));

  // The same tree created in another order gives the same pack and index.
  std::filesystem::create_directories(dir.Join("in2/a/y"));
  for (size_t i : {1, 3, 0, 2, 4}) WriteFile(dir.Join("in2/" + sorted[i]), contents[i]);
  auto again = BuildCorpus({dir.Join("in2")}, dir.Join("corpus2"), TestOptions());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(DigestEqual(again->segments[0].blake3, info->segments[0].blake3));
  EXPECT_TRUE(DigestEqual(again->index_digest, info->index_digest));
  EXPECT_NE(again->id, info->id);
}

TEST(CorpusBuilderTest, ManifestHasTheDocumentedShape) {
  ScratchDir dir;
  WriteFile(dir.Join("f"), RandomBytes(50000, 4));
  auto info = BuildCorpus({dir.Join("f")}, dir.Join("corpus"), TestOptions());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(std::regex_match(info->id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                                                    "[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_TRUE(
      std::regex_match(info->created, std::regex("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z")));
  EXPECT_EQ(info->builder.rfind("reducto ", 0), 0u);
  EXPECT_FALSE(info->parent_id.has_value());
  EXPECT_EQ(info->chunking, TestParams());
  EXPECT_EQ(info->segments[0].file, "pack/000000.seg");
  EXPECT_EQ(info->segments[0].base, 0u);
  ASSERT_TRUE(info->segments[0].fine.has_value());
  EXPECT_EQ(info->segments[0].fine->file, "fine/000000.fine");
  EXPECT_EQ(info->segments[0].fine->stride, 32u);
  auto fine_bytes = ReadFile(dir.Join("corpus/fine/000000.fine"));
  EXPECT_EQ(fine_bytes.size(), info->segments[0].fine->size);
  EXPECT_TRUE(DigestEqual(Blake3(fine_bytes), info->segments[0].fine->blake3));
  ASSERT_TRUE(info->segments[0].pieces.has_value());
  EXPECT_EQ(info->segments[0].pieces->file, "pieces/000000.b3");
  EXPECT_EQ(info->segments[0].pieces->piece_size, 65536u);
  auto segment_bytes = ReadFile(dir.Join("corpus/pack/000000.seg"));
  auto table_bytes = ReadFile(dir.Join("corpus/pieces/000000.b3"));
  EXPECT_EQ(table_bytes.size(), info->segments[0].pieces->size);
  EXPECT_TRUE(DigestEqual(Blake3(table_bytes), info->segments[0].pieces->blake3));
  std::string table = SerializePieceTable(ComputePieceTable(segment_bytes, 65536));
  EXPECT_EQ(std::vector<uint8_t>(table.begin(), table.end()), table_bytes);
  auto bytes = ReadFile(dir.Join("corpus/manifest.json"));
  EXPECT_TRUE(DigestEqual(info->manifest_digest, Blake3(bytes)));
  std::string text(bytes.begin(), bytes.end());
  for (const char* field :
       {"\"format\": \"reducto-corpus\"", "\"format_version\": 1", "\"parent\": null",
        "\"algorithm\": \"fastcdc-2020\"", "\"weak_key\": \"xxh3-64\"", "\"dir\": \"index\"",
        "\"file\": \"fine/000000.fine\"", "\"stride\": 32", "\"file\": \"pieces/000000.b3\"",
        "\"piece_size\": 65536"}) {
    EXPECT_NE(text.find(field), std::string::npos) << field << " in\n" << text;
  }
  EXPECT_EQ(ListNames(dir.Join("corpus")),
            (std::set<std::string>{"fine", "index", "manifest.json", "pack", "pieces"}));
  for (const std::string& name : ListNames(dir.Join("corpus/index"))) {
    EXPECT_EQ(name.find("LOG"), std::string::npos) << name;
  }
}

TEST(CorpusBuilderTest, EmptyInputGivesAnEmptyButValidCorpus) {
  ScratchDir dir;
  WriteFile(dir.Join("empty"), {});
  auto info = BuildCorpus({dir.Join("empty")}, dir.Join("corpus"), TestOptions());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->pack_bytes(), 0u);
  EXPECT_EQ(info->chunk_count, 0u);
  EXPECT_TRUE(VerifyCorpus(dir.Join("corpus")).ok());
}

TEST(CorpusBuilderTest, RejectsChunkingOutsideTheCorpusRange) {
  ScratchDir dir;
  WriteFile(dir.Join("f"), RandomBytes(1000, 5));
  for (uint32_t avg : {2048u, 128u << 10}) {
    CorpusBuildOptions options;
    options.chunking = ChunkerParams::ForAverage(avg);
    auto info = BuildCorpus({dir.Join("f")}, dir.Join("corpus"), options);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(info.status().message().find("4 KiB..64 KiB"), std::string::npos)
        << info.status().message();
  }
  CorpusBuildOptions bad;
  bad.chunking = TestParams();
  bad.chunking.min_size = bad.chunking.avg_size;
  auto info = BuildCorpus({dir.Join("f")}, dir.Join("corpus"), bad);
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.Join("corpus")));
}

TEST(CorpusBuilderTest, ReportsBadInputs) {
  ScratchDir dir;
  auto none = BuildCorpus({}, dir.Join("corpus"), TestOptions());
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);

  auto missing = BuildCorpus({dir.Join("nope")}, dir.Join("corpus"), TestOptions());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir.Join("nope")), std::string::npos);

  auto twice = BuildCorpus({"-", "-"}, dir.Join("corpus"), TestOptions());
  EXPECT_EQ(twice.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(twice.status().message().find("more than once"), std::string::npos);

  auto no_parent = BuildCorpus({dir.path()}, dir.Join("no/such/corpus"), TestOptions());
  EXPECT_EQ(no_parent.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ListNames(dir.path()), std::set<std::string>{});
}

TEST(CorpusBuilderTest, ReportsUnreadableInputs) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
  ScratchDir dir;
  WriteFile(dir.Join("secret"), {1, 2, 3});
  ::chmod(dir.Join("secret").c_str(), 0);
  std::filesystem::create_directories(dir.Join("tree/closed"));
  ::chmod(dir.Join("tree/closed").c_str(), 0);
  auto file = BuildCorpus({dir.Join("secret")}, dir.Join("corpus"), TestOptions());
  EXPECT_EQ(file.status().code(), StatusCode::kPermission) << file.status().ToString();
  EXPECT_NE(file.status().message().find(dir.Join("secret")), std::string::npos);
  auto tree = BuildCorpus({dir.Join("tree")}, dir.Join("corpus"), TestOptions());
  EXPECT_EQ(tree.status().code(), StatusCode::kPermission) << tree.status().ToString();
  EXPECT_NE(tree.status().message().find(dir.Join("tree/closed")), std::string::npos);
  ::chmod(dir.Join("tree/closed").c_str(), 0755);
  EXPECT_FALSE(std::filesystem::exists(dir.Join("corpus")));
}

// Binds a Unix socket at `path`: it passes stat() as an input but cannot be opened,
// so the build fails after the temporary directory exists.
void MakeSocket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  path.copy(addr.sun_path, path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
}

TEST(CorpusBuilderTest, FailedBuildLeavesNothingBehind) {
  ScratchDir dir;
  WriteFile(dir.Join("f"), RandomBytes(100000, 6));
  MakeSocket(dir.Join("s"));
  auto before = ListNames(dir.path());
  auto info = BuildCorpus({dir.Join("f"), dir.Join("s")}, dir.Join("corpus"), TestOptions());
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(ListNames(dir.path()), before);
}

TEST(CorpusBuilderTest, ExistingOutputNeedsOverwrite) {
  ScratchDir dir;
  WriteFile(dir.Join("f"), RandomBytes(100000, 7));
  WriteFile(dir.Join("g"), RandomBytes(70000, 8));
  auto first = BuildCorpus({dir.Join("f")}, dir.Join("corpus"), TestOptions());
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  auto refused = BuildCorpus({dir.Join("g")}, dir.Join("corpus"), TestOptions());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("already exists: pass --force or choose another path"),
            std::string::npos);
  EXPECT_EQ(ReadCorpusInfo(dir.Join("corpus"))->id, first->id);

  auto replaced = BuildCorpus({dir.Join("g")}, dir.Join("corpus/"), TestOptions(true));
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(replaced->path, dir.Join("corpus"));
  auto now = ReadCorpusInfo(dir.Join("corpus"));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->id, replaced->id);
  EXPECT_EQ(now->input_bytes, 70000u);
  EXPECT_TRUE(VerifyCorpus(dir.Join("corpus")).ok());
  EXPECT_EQ(ListNames(dir.path()), (std::set<std::string>{"corpus", "f", "g"}));
}

TEST(CorpusBuilderTest, OverwriteNeverReplacesWhatIsNotACorpus) {
  ScratchDir dir;
  WriteFile(dir.Join("f"), RandomBytes(10000, 9));
  std::filesystem::create_directory(dir.Join("precious"));
  WriteFile(dir.Join("precious/thesis.tex"), {'x'});
  auto info = BuildCorpus({dir.Join("f")}, dir.Join("precious"), TestOptions(true));
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::exists(dir.Join("precious/thesis.tex")));
  auto file = BuildCorpus({dir.Join("f")}, dir.Join("f"), TestOptions(true));
  EXPECT_EQ(file.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFile(dir.Join("f")).size(), 10000u);

  std::filesystem::create_directory(dir.Join("empty"));
  auto into_empty = BuildCorpus({dir.Join("f")}, dir.Join("empty"), TestOptions(true));
  EXPECT_TRUE(into_empty.ok()) << into_empty.status().ToString();
}

TEST(CorpusBuilderTest, RebuildingInsideTheInputSkipsTheOldCorpus) {
  ScratchDir dir;
  std::filesystem::create_directory(dir.Join("data"));
  WriteFile(dir.Join("data/f"), RandomBytes(60000, 11));
  auto first = BuildCorpus({dir.Join("data")}, dir.Join("data/corpus"), TestOptions());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = BuildCorpus({dir.Join("data")}, dir.Join("data/corpus"), TestOptions(true));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->input_bytes, 60000u);
}

}  // namespace
}  // namespace reducto
