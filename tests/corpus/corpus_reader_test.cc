#include "corpus/corpus_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "corpus/corpus_test_util.h"
#include "corpus/fine_index.h"
#include "corpus/manifest.h"
#include "hashing/weak_key.h"
#include "reducto/corpus.h"
#include "corpus/corpus_format.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::CorpusModel;
using testing::RandomBytes;
using testing::ReadFile;
using testing::ScratchDir;
using testing::WriteFile;

constexpr uint64_t kMax64 = std::numeric_limits<uint64_t>::max();

class CorpusReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = RandomBytes(200 << 10, 31);
    auto b = RandomBytes(50 << 10, 32);
    std::vector<uint8_t> c = a;  // Repeats `a` after new bytes: duplicates to find.
    c.insert(c.begin(), b.begin(), b.end());
    inputs_ = {a, c};
    WriteFile(dir_.Join("a"), a);
    WriteFile(dir_.Join("c"), c);
    CorpusBuildOptions options;
    options.chunking = testing::TestParams();
    auto info = BuildCorpus({dir_.Join("a"), dir_.Join("c")}, corpus(), options);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    model_ = testing::ModelCorpus(options.chunking, inputs_);
  }

  std::string corpus() const { return dir_.Join("corpus"); }

  std::unique_ptr<CorpusReader> OpenReader() {
    auto reader = CorpusReader::Open(corpus());
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    return reader.ok() ? std::move(reader).value() : nullptr;
  }

  // Every chunk of the inputs is found under its weak key, at the model's address,
  // and reads back as exactly its bytes.
  void ExpectEveryChunkFound(const CorpusReader& reader) {
    std::vector<uint8_t> scratch;
    for (const testing::ModelChunk& chunk : model_.chunks) {
      std::vector<ChunkCandidate> candidates;
      ASSERT_TRUE(reader.Lookup(WeakKey(chunk.bytes), &candidates).ok());
      ASSERT_EQ(candidates.size(), 1u);  // 64-bit keys: no collisions in a small corpus.
      EXPECT_TRUE(DigestEqual(candidates[0].digest, chunk.digest));
      EXPECT_EQ(candidates[0].address, chunk.address);
      EXPECT_EQ(candidates[0].length, chunk.bytes.size());
      auto bytes = reader.Read(candidates[0].address, candidates[0].length, &scratch);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      EXPECT_TRUE(std::equal(bytes->begin(), bytes->end(), chunk.bytes.begin(), chunk.bytes.end()));
    }
  }

  ScratchDir dir_;
  std::vector<std::vector<uint8_t>> inputs_;
  CorpusModel model_;
};

TEST_F(CorpusReaderTest, LookupFindsEveryChunkAndReadReturnsItsBytes) {
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->size(), model_.pack.size());
  EXPECT_EQ(reader->info().unique_chunks, model_.unique_chunks);
  EXPECT_LT(model_.unique_chunks, model_.chunks.size());
  ExpectEveryChunkFound(*reader);
}

TEST_F(CorpusReaderTest, LookupOfAnUnknownKeyFindsNothing) {
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  std::vector<uint8_t> other = RandomBytes(5000, 99);
  std::vector<ChunkCandidate> candidates;
  ASSERT_TRUE(reader->Lookup(WeakKey(other), &candidates).ok());
  EXPECT_TRUE(candidates.empty());
  ASSERT_TRUE(reader->Lookup(0, &candidates).ok());
  ASSERT_TRUE(reader->Lookup(kMax64, &candidates).ok());
  EXPECT_TRUE(candidates.empty());
}

TEST_F(CorpusReaderTest, ReadChecksBoundsWithoutOverflow) {
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  uint64_t size = reader->size();
  std::vector<uint8_t> scratch;
  auto all = reader->Read(0, size, &scratch);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(std::equal(all->begin(), all->end(), model_.pack.begin(), model_.pack.end()));
  auto empty_at_end = reader->Read(size, 0, &scratch);
  ASSERT_TRUE(empty_at_end.ok());
  EXPECT_TRUE(empty_at_end->empty());
  const std::pair<uint64_t, uint64_t> bad[] = {
      {size, 1},   {0, size + 1},    {size + 1, 0},   {1, kMax64},
      {kMax64, 1}, {kMax64, kMax64}, {kMax64 - 3, 5}, {size - 1, kMax64 - size + 2}};
  for (auto [address, length] : bad) {
    auto r = reader->Read(address, length, &scratch);
    ASSERT_FALSE(r.ok()) << address << "+" << length;
    EXPECT_EQ(r.status().code(), StatusCode::kIntegrity);
    EXPECT_NE(
        r.status().message().find("is outside the corpus (" + std::to_string(size) + " bytes)"),
        std::string::npos)
        << r.status().message();
  }
  auto r = reader->Read(size, 1, &scratch);
  EXPECT_NE(r.status().message().find("copy [" + std::to_string(size) + "," +
                                      std::to_string(size + 1) + ")"),
            std::string::npos);
}

// Splits the one pack segment into [0, cut), an empty segment and [cut, end), and
// rewrites the manifest: the address space is unchanged, so every look-up still works,
// and reads across the cut are gathered.
TEST_F(CorpusReaderTest, ReadsAcrossSegments) {
  auto info = ReadCorpusInfo(corpus());
  ASSERT_TRUE(info.ok());
  const uint64_t cut = model_.pack.size() / 3 + 17;
  std::vector<uint8_t> first(model_.pack.begin(), model_.pack.begin() + cut);
  std::vector<uint8_t> second(model_.pack.begin() + cut, model_.pack.end());
  WriteFile(corpus() + "/" + SegmentFileName(0), first);
  WriteFile(corpus() + "/" + SegmentFileName(1), {});
  WriteFile(corpus() + "/" + SegmentFileName(2), second);
  info->segments = {{SegmentFileName(0), 0, first.size(), Blake3(first), std::nullopt, std::nullopt},
                    {SegmentFileName(1), cut, 0, Blake3({}), std::nullopt, std::nullopt},
                    {SegmentFileName(2), cut, second.size(), Blake3(second), std::nullopt, std::nullopt}};
  std::string manifest = SerializeManifest(*info);
  WriteFile(corpus() + "/manifest.json", std::vector<uint8_t>(manifest.begin(), manifest.end()));

  EXPECT_TRUE(VerifyCorpus(corpus()).ok());
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->size(), model_.pack.size());
  ExpectEveryChunkFound(*reader);
  std::vector<uint8_t> scratch;
  for (uint64_t start : {cut - 1, cut - 100, uint64_t{0}}) {
    for (uint64_t length : {uint64_t{1}, uint64_t{2}, uint64_t{100}, cut + 5}) {
      auto bytes = reader->Read(start, length, &scratch);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      EXPECT_TRUE(std::equal(bytes->begin(), bytes->end(), model_.pack.begin() + start,
                             model_.pack.begin() + start + length));
    }
  }
  // ReadInto copies the same bytes, short ranges from the mapping and long ones with
  // the segment files' ReadAt, also across segments; outside the corpus it fails.
  for (uint64_t start : {cut - 1, cut - 70000, uint64_t{0}}) {
    for (uint64_t length : {uint64_t{1}, uint64_t{100}, uint64_t{65536}, uint64_t{70001}}) {
      if (start + length > model_.pack.size()) continue;
      std::vector<uint8_t> out(length);
      ASSERT_TRUE(reader->ReadInto(start, out, &scratch).ok());
      EXPECT_TRUE(std::equal(out.begin(), out.end(), model_.pack.begin() + start))
          << start << "+" << length;
    }
  }
  std::vector<uint8_t> past(70000);
  EXPECT_FALSE(reader->ReadInto(model_.pack.size() - 100, past, &scratch).ok());
  auto inside_first = reader->Read(10, 20, &scratch);
  ASSERT_TRUE(inside_first.ok());
  EXPECT_NE(inside_first->data(), scratch.data());  // One segment: a view, no copy.
}

TEST_F(CorpusReaderTest, OpeningAndReadingWritesNothing) {
  auto before = testing::SnapshotTree(corpus());
  {
    auto reader = OpenReader();
    ASSERT_NE(reader, nullptr);
    ExpectEveryChunkFound(*reader);
  }
  EXPECT_EQ(testing::SnapshotTree(corpus()), before);
  EXPECT_TRUE(VerifyCorpus(corpus()).ok());
  EXPECT_EQ(testing::SnapshotTree(corpus()), before);
}

TEST_F(CorpusReaderTest, OpensOnAReadOnlyDirectory) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
  namespace fs = std::filesystem;
  std::vector<std::string> dirs = {corpus(), corpus() + "/index", corpus() + "/pack"};
  for (const auto& d : dirs) fs::permissions(d, fs::perms::owner_write, fs::perm_options::remove);
  auto reader = CorpusReader::Open(corpus());
  for (const auto& d : dirs) fs::permissions(d, fs::perms::owner_write, fs::perm_options::add);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ExpectEveryChunkFound(**reader);
}

TEST_F(CorpusReaderTest, ManyReadersAtOnce) {
  auto one = OpenReader();
  auto two = OpenReader();
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  ExpectEveryChunkFound(*one);
  ExpectEveryChunkFound(*two);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { ExpectEveryChunkFound(t % 2 == 0 ? *one : *two); });
  }
  for (auto& thread : threads) thread.join();
}

// Resident bytes of this process's mappings of files whose path ends with `suffix`
// (/proc/self/smaps).
uint64_t MappedResidentBytes(const std::string& suffix) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  uint64_t total = 0;
  while (std::getline(smaps, line)) {
    std::istringstream fields(line);
    std::string first;
    fields >> first;
    if (first == "Rss:") {
      uint64_t kib = 0;
      fields >> kib;
      if (inside) total += kib << 10;
    } else if (first.find('-') != std::string::npos && first.back() != ':') {
      inside = line.size() >= suffix.size() &&
               line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0;
    }
  }
  return total;
}

// Touches every page of `bytes`.
void TouchPages(std::span<const uint8_t> bytes) {
  volatile uint8_t sink = 0;
  for (size_t i = 0; i < bytes.size(); i += 4096) sink = sink + bytes[i];
}

// Over its share of the cache, the reader unmaps the pack first: the target reads it
// about in order, while the fine index is read at random and each of its pages would
// fault back in. The fine index goes too once it alone holds 3/4 of the pack's share.
TEST(CorpusReaderCacheTest, DropsThePackBeforeTheFineIndex) {
  // A 16 MiB cache: 12 MiB for mapped pack and fine index pages, of which the fine
  // index alone may keep 9 MiB. A 24 MiB pack's fine index (about 6.5 MB) stays, a
  // 48 MiB pack's (about 13 MB) goes too.
  constexpr uint64_t kFineMayKeep = 9u << 20;
  ScratchDir dir;
  for (auto [mib, fine_stays] : {std::pair{24, true}, std::pair{48, false}}) {
    SCOPED_TRACE(std::to_string(mib) + " MiB pack");
    std::string input = dir.Join("input" + std::to_string(mib));
    WriteFile(input, RandomBytes(size_t(mib) << 20, 33));
    std::string corpus = dir.Join("corpus" + std::to_string(mib));
    CorpusBuildOptions options;
    options.chunking = testing::TestParams();
    ASSERT_TRUE(BuildCorpus({input}, corpus, options).ok());
    auto reader = CorpusReader::Open(corpus, CorpusReaderOptions{16u << 20, nullptr});
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    ASSERT_EQ((*reader)->fine_indexes().size(), 1u);
    std::vector<uint8_t> scratch;
    auto pack = (*reader)->Read(0, (*reader)->size(), &scratch);
    ASSERT_TRUE(pack.ok());
    const uint64_t fine_size = (*reader)->fine_indexes()[0].index->bytes().size();
    ASSERT_EQ(fine_size < kFineMayKeep, fine_stays) << fine_size;
    TouchPages((*reader)->fine_indexes()[0].index->bytes());
    TouchPages(*pack);
    EXPECT_GT(MappedResidentBytes(".fine"), fine_size * 9 / 10);
    EXPECT_GT(MappedResidentBytes(".seg"), pack->size() * 9 / 10);
    EXPECT_TRUE((*reader)->NoteRead(64u << 20));
    EXPECT_LT(MappedResidentBytes(".seg"), 1u << 20);
    if (fine_stays) {
      EXPECT_GT(MappedResidentBytes(".fine"), fine_size * 9 / 10);
    } else {
      EXPECT_LT(MappedResidentBytes(".fine"), 1u << 20);
    }
  }
}

TEST_F(CorpusReaderTest, MissingOrBrokenIndexIsCorrupt) {
  std::filesystem::rename(corpus() + "/index", dir_.Join("index-aside"));
  auto missing = CorpusReader::Open(corpus());
  EXPECT_EQ(missing.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(missing.status().message().find("index"), std::string::npos);
  std::filesystem::create_directory(corpus() + "/index");
  auto empty = CorpusReader::Open(corpus());
  EXPECT_EQ(empty.status().code(), StatusCode::kCorrupt) << empty.status().ToString();
  EXPECT_TRUE(testing::ListNames(corpus() + "/index").empty());  // Nothing was created.
}

TEST_F(CorpusReaderTest, MissingCorpusIsNotFound) {
  auto reader = CorpusReader::Open(dir_.Join("elsewhere"));
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);
}

TEST_F(CorpusReaderTest, VerifyDetectsChangedBytes) {
  ASSERT_TRUE(VerifyCorpus(corpus()).ok());
  std::string segment = corpus() + "/pack/000000.seg";
  auto bytes = ReadFile(segment);
  bytes[bytes.size() / 2] ^= 1;
  WriteFile(segment, bytes);
  Status s = VerifyCorpus(corpus());
  EXPECT_EQ(s.code(), StatusCode::kIntegrity) << s.ToString();
  EXPECT_TRUE(CorpusReader::Open(corpus()).ok());  // Open checks sizes only.
}

// VerifyRange (what an encoder checks before an ADD or DELTA relies on corpus bytes)
// checks only the pieces a range touches, against the piece table.
TEST_F(CorpusReaderTest, VerifyRangeChecksThePiecesARangeTouches) {
  std::string segment = corpus() + "/pack/000000.seg";
  auto bytes = ReadFile(segment);
  ASSERT_GT(bytes.size(), 2 * kDefaultPieceSize);
  ASSERT_FALSE(ReadFile(corpus() + "/pieces/000000.b3").empty());
  {
    auto reader = OpenReader();
    ASSERT_NE(reader, nullptr);
    EXPECT_TRUE(reader->VerifyRange(0, reader->size()).ok());
  }
  const uint64_t damaged = kDefaultPieceSize + 100;  // In piece 1.
  bytes[damaged] ^= 1;
  WriteFile(segment, bytes);
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->VerifyRange(0, kDefaultPieceSize).ok());  // Piece 0 only.
  EXPECT_TRUE(reader->VerifyRange(2 * kDefaultPieceSize, 10).ok());
  Status s = reader->VerifyRange(damaged - 5, 10);
  EXPECT_EQ(s.code(), StatusCode::kIntegrity) << s.ToString();
  EXPECT_NE(s.message().find("piece 1 "), std::string::npos) << s.ToString();
  // Asked again (the result is not remembered as checked), and through a range that
  // only ends in the piece.
  EXPECT_EQ(reader->VerifyRange(kDefaultPieceSize - 10, 20).code(), StatusCode::kIntegrity);
  EXPECT_EQ(reader->VerifyRange(reader->size() - 1, 2).code(), StatusCode::kIntegrity);
  EXPECT_TRUE(reader->VerifyRange(reader->size() - 1, 1).ok());
}

}  // namespace
}  // namespace reducto
