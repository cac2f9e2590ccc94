// The fine index (docs/corpus.md, "Fine index"): the frozen format against golden
// files made from the specification (golden/make_fine_golden.py), look-ups, the size
// bound, and what a reader does with damaged or missing fine indexes.
#include "corpus/fine_index.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "corpus/corpus_test_util.h"
#include "reducto/corpus.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ReadFile;
using testing::ScratchDir;
using testing::WriteFile;

std::string GoldenPath(const std::string& name) {
  return std::string(REDUCTO_SOURCE_DIR) + "/tests/corpus/golden/" + name;
}

uint64_t HashOf(const std::string& window) {
  EXPECT_EQ(window.size(), kFineWindow);
  return FineHash(reinterpret_cast<const uint8_t*>(window.data()));
}

// The candidates of the window at `offset`, which must be the same read either way.
std::set<uint64_t> CandidatesOf(const FineIndex& index, std::span<const uint8_t> segment,
                                uint64_t offset) {
  std::set<uint64_t> mapped, read;
  const uint64_t hash = FineHash(segment.data() + offset);
  index.ForEachCandidate(hash, FineIndex::Access::kMapped, [&](uint64_t at) { mapped.insert(at); });
  index.ForEachCandidate(hash, FineIndex::Access::kRead, [&](uint64_t at) { read.insert(at); });
  EXPECT_EQ(mapped, read) << offset;
  return mapped;
}

TEST(FineIndexTest, HashKnownAnswers) {
  // From golden/make_fine_golden.py, which follows the specification, not this code.
  EXPECT_EQ(HashOf(std::string(16, '\0')), 0u);
  EXPECT_EQ(HashOf("abcdefghijklmnop"), 0x5ae761d8d66f9a79u);
  std::string counting(16, '\0');
  for (int i = 0; i < 16; ++i) counting[i] = static_cast<char>(i);
  EXPECT_EQ(HashOf(counting), 0xa8a1d04033d8f6aau);
}

TEST(FineIndexTest, WriterMatchesTheGoldenFile) {
  ScratchDir dir;
  std::vector<uint8_t> segment = ReadFile(GoldenPath("fine-v1.seg"));
  std::vector<uint8_t> golden = ReadFile(GoldenPath("fine-v1.fine"));
  std::filesystem::create_directories(dir.Join("fine"));
  auto fine = WriteFineIndex(segment, dir.path(), FineFileName(0));
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->file, "fine/000000.fine");
  EXPECT_EQ(fine->stride, 32u);
  EXPECT_EQ(fine->size, golden.size());
  EXPECT_TRUE(DigestEqual(fine->blake3, Blake3(golden)));
  EXPECT_EQ(ReadFile(dir.Join(fine->file)), golden);
}

TEST(FineIndexTest, GoldenFileFindsEveryIndexedWindow) {
  std::vector<uint8_t> segment = ReadFile(GoldenPath("fine-v1.seg"));
  std::vector<uint8_t> golden = ReadFile(GoldenPath("fine-v1.fine"));
  FineIndexFile expected{"fine-v1.fine", golden.size(), Blake3(golden), 32};
  auto index = FineIndex::Open(GoldenPath("fine-v1.fine"), expected, segment.size());
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  for (uint64_t offset = 0; offset + 16 <= 2048; offset += 32) {
    std::set<uint64_t> found = CandidatesOf(*index, segment, offset);
    EXPECT_TRUE(found.count(offset)) << offset;
    // The repeated kilobyte at 2048 has the same windows: the first occurrence is kept.
    if (offset < 1024) {
      EXPECT_FALSE(found.count(offset + 2048)) << offset;
      EXPECT_EQ(CandidatesOf(*index, segment, offset + 2048), found);
    }
  }
}

TEST(FineIndexTest, FindsNearlyEveryIndexedWindowOfRandomData) {
  ScratchDir dir;
  std::vector<uint8_t> segment = RandomBytes(1 << 20, 7);
  std::filesystem::create_directories(dir.Join("fine"));
  auto fine = WriteFineIndex(segment, dir.path(), FineFileName(3));
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->file, "fine/000003.fine");
  auto index = FineIndex::Open(dir.Join(fine->file), *fine, segment.size());
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  uint64_t found = 0, positions = 0, wrong = 0;
  for (uint64_t offset = 0; offset + 16 <= segment.size(); offset += 32) {
    ++positions;
    std::set<uint64_t> candidates = CandidatesOf(*index, segment, offset);
    found += candidates.count(offset);
    for (uint64_t at : candidates) wrong += at != offset;
  }
  // Full buckets drop about 4% (docs/corpus.md); a 24-bit fingerprint almost never collides.
  EXPECT_GT(found, positions * 95 / 100);
  EXPECT_LT(wrong, positions / 1000 + 1);
  // An unindexed window (not at a multiple of the stride) is not found.
  EXPECT_TRUE(CandidatesOf(*index, segment, 5).empty());
}

TEST(FineIndexTest, StrideDoublesToFitTheBound) {
  ScratchDir dir;
  std::vector<uint8_t> segment = RandomBytes(1 << 20, 8);
  std::filesystem::create_directories(dir.Join("fine"));
  auto fine = WriteFineIndex(segment, dir.path(), FineFileName(0), 32, 64 << 10);
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_LE(fine->size, 64u << 10);
  EXPECT_EQ(fine->stride, 256u);  // At stride 128 the file takes 75 KiB; at 256, 37 KiB.
  EXPECT_EQ(std::filesystem::file_size(dir.Join(fine->file)), fine->size);
  // Below one bucket and the header nothing fits: no fine index, no file.
  auto none = WriteFineIndex(segment, dir.path(), FineFileName(1), 32, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->stride, 0u);
  EXPECT_FALSE(std::filesystem::exists(dir.Join(FineFileName(1))));
}

TEST(FineIndexTest, HeaderChecksNameTheProblem) {
  std::vector<uint8_t> segment = ReadFile(GoldenPath("fine-v1.seg"));
  std::vector<uint8_t> golden = ReadFile(GoldenPath("fine-v1.fine"));
  FineIndexFile expected{"f", golden.size(), Blake3(golden), 32};
  EXPECT_TRUE(CheckFineHeader(golden, expected, segment.size(), "f").ok());
  auto fails = [&](std::vector<uint8_t> bytes, FineIndexFile file, uint64_t size,
                   const std::string& words) {
    Status s = CheckFineHeader(bytes, file, size, "f");
    EXPECT_EQ(s.code(), StatusCode::kCorrupt) << words;
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
  };
  std::vector<uint8_t> bad = golden;
  bad[0] ^= 1;
  fails(bad, expected, segment.size(), "magic");
  bad = golden;
  bad[8] = 2;
  fails(bad, expected, segment.size(), "format version 2");
  FineIndexFile other_stride = expected;
  other_stride.stride = 64;
  fails(golden, other_stride, segment.size(), "stride 32");
  fails(golden, expected, segment.size() + 1, "describes a segment of 4096 bytes");
  bad = golden;
  bad[24] = 20;  // Buckets: 20 instead of 19.
  fails(bad, expected, segment.size(), "buckets");
  std::vector<uint8_t> truncated(golden.begin(), golden.end() - 64);
  fails(truncated, expected, segment.size(), "the manifest says 1280");
}

// A corpus on disk: a flipped byte of the fine index fails verification; a missing or
// truncated one makes the corpus unreadable with a message that says what to do.
TEST(FineIndexTest, DamagedFineIndexOfACorpus) {
  ScratchDir dir;
  WriteFile(dir.Join("ref"), RandomBytes(300000, 9));
  CorpusBuildOptions options;
  options.chunking = testing::TestParams();
  auto info = BuildCorpus({dir.Join("ref")}, dir.Join("corpus"), options);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE(info->segments[0].fine.has_value());
  const std::string fine = dir.Join("corpus/" + info->segments[0].fine->file);
  ASSERT_TRUE(VerifyCorpus(dir.Join("corpus")).ok());

  std::vector<uint8_t> bytes = ReadFile(fine);
  std::vector<uint8_t> flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  WriteFile(fine, flipped);
  Status s = VerifyCorpus(dir.Join("corpus"));
  EXPECT_EQ(s.code(), StatusCode::kIntegrity);
  EXPECT_NE(s.message().find("fine index"), std::string::npos) << s.message();

  WriteFile(fine, std::vector<uint8_t>(bytes.begin(), bytes.end() - 1));
  auto truncated = ReadCorpusInfo(dir.Join("corpus"));
  EXPECT_EQ(truncated.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(truncated.status().message().find("rebuild or re-fetch"), std::string::npos);

  std::filesystem::remove(fine);
  auto missing = ReadCorpusInfo(dir.Join("corpus"));
  EXPECT_EQ(missing.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(missing.status().message().find("fine index " + fine + " is missing"),
            std::string::npos)
      << missing.status().message();
}

TEST(FineIndexTest, BuildWithoutFineIndex) {
  ScratchDir dir;
  WriteFile(dir.Join("ref"), RandomBytes(100000, 10));
  CorpusBuildOptions options;
  options.chunking = testing::TestParams();
  options.fine_index = false;
  auto info = BuildCorpus({dir.Join("ref")}, dir.Join("corpus"), options);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE(info->segments[0].fine.has_value());
  EXPECT_FALSE(std::filesystem::exists(dir.Join("corpus/fine")));
  EXPECT_TRUE(VerifyCorpus(dir.Join("corpus")).ok());
}

}  // namespace
}  // namespace reducto
