// Piece tables (docs/corpus.md, "Piece tables"): the frozen format against golden files
// made from the specification (corpus/golden/make_pieces_golden.py, which carries its
// own BLAKE3), and every malformed header field refused.
#include "repository/piece_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "corpus/corpus_format.h"
#include "test_support.h"
#include "util/endian.h"

namespace reducto {
namespace {

using testing::ReadFile;

std::string GoldenPath(const std::string& name) {
  return std::string(REDUCTO_SOURCE_DIR) + "/tests/corpus/golden/" + name;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(PieceTable, ReproducesTheGoldenFileByteForByte) {
  std::vector<uint8_t> segment = ReadFile(GoldenPath("pieces-v1.seg"));
  std::vector<uint8_t> golden = ReadFile(GoldenPath("pieces-v1.b3"));
  std::string table = SerializePieceTable(ComputePieceTable(segment, 4096));
  EXPECT_EQ(std::vector<uint8_t>(table.begin(), table.end()), golden);
}

TEST(PieceTable, ParsesTheGoldenFile) {
  std::vector<uint8_t> segment = ReadFile(GoldenPath("pieces-v1.seg"));
  auto table = ParsePieceTable(ReadFile(GoldenPath("pieces-v1.b3")), segment.size(), "golden");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->piece_size, 4096u);
  EXPECT_EQ(table->count(), 4u);
  EXPECT_EQ(table->PieceOffset(3), 3u * 4096);
  EXPECT_EQ(table->PieceLength(2), 4096u);
  EXPECT_EQ(table->PieceLength(3), 1000u);
  EXPECT_EQ(FirstBadPiece(*table, segment), 4u);
  segment[2 * 4096 + 5] ^= 1;
  EXPECT_EQ(FirstBadPiece(*table, segment), 2u);
}

TEST(PieceTable, EmptySegmentHasNoPieces) {
  PieceTable table = ComputePieceTable({}, kDefaultPieceSize);
  EXPECT_EQ(table.count(), 0u);
  std::string bytes = SerializePieceTable(table);
  EXPECT_EQ(bytes.size(), kPieceTableHeaderSize);
  auto parsed = ParsePieceTable(Bytes(bytes), 0, "empty");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->count(), 0u);
}

TEST(PieceTable, ExactMultipleHasNoShortPiece) {
  std::vector<uint8_t> segment(2 * 4096, 7);
  PieceTable table = ComputePieceTable(segment, 4096);
  EXPECT_EQ(table.count(), 2u);
  EXPECT_EQ(table.PieceLength(1), 4096u);
  EXPECT_EQ(PieceTableFileSize(segment.size(), 4096), 64u + 64u);
  EXPECT_EQ(PieceTableFileName(1), "pieces/000001.b3");
}

// The golden table with one header field changed: every one is Corrupt.
class PieceTableDamage : public ::testing::Test {
 protected:
  void SetUp() override {
    segment_ = ReadFile(GoldenPath("pieces-v1.seg"));
    table_ = ReadFile(GoldenPath("pieces-v1.b3"));
  }
  void ExpectCorrupt(const std::vector<uint8_t>& bytes, const std::string& why) {
    auto parsed = ParsePieceTable(bytes, segment_.size(), "t.b3");
    ASSERT_FALSE(parsed.ok()) << why;
    EXPECT_EQ(parsed.status().code(), StatusCode::kCorrupt) << why;
    EXPECT_NE(parsed.status().message().find("t.b3"), std::string::npos) << why;
  }
  std::vector<uint8_t> segment_, table_;
};

TEST_F(PieceTableDamage, EveryMalformedFieldIsCorrupt) {
  auto with = [&](auto change) {
    std::vector<uint8_t> t = table_;
    change(t.data());
    return t;
  };
  ExpectCorrupt(with([](uint8_t* p) { p[0] = 'X'; }), "magic");
  ExpectCorrupt(with([](uint8_t* p) { StoreLe32(p + 8, 2); }), "version");
  ExpectCorrupt(with([](uint8_t* p) { StoreLe32(p + 12, 2048); }), "piece size below 4096");
  ExpectCorrupt(with([](uint8_t* p) { StoreLe32(p + 12, 32u << 20); }), "piece size above 16 MiB");
  ExpectCorrupt(with([](uint8_t* p) { StoreLe32(p + 12, 6000); }), "piece size not a power of two");
  ExpectCorrupt(with([](uint8_t* p) { StoreLe32(p + 12, 8192); }), "another piece size");
  ExpectCorrupt(with([](uint8_t* p) { StoreLe64(p + 16, 13289); }), "segment size");
  ExpectCorrupt(with([](uint8_t* p) { StoreLe64(p + 24, 5); }), "count");
  ExpectCorrupt(with([](uint8_t* p) { p[40] = 1; }), "reserved byte");
  std::vector<uint8_t> shorter(table_.begin(), table_.end() - 1);
  ExpectCorrupt(shorter, "truncated digest");
  std::vector<uint8_t> longer = table_;
  longer.push_back(0);
  ExpectCorrupt(longer, "trailing byte");
  ExpectCorrupt(std::vector<uint8_t>(table_.begin(), table_.begin() + 63), "short header");
  auto other = ParsePieceTable(table_, segment_.size() + 1, "t.b3");
  EXPECT_EQ(other.status().code(), StatusCode::kCorrupt) << "expected segment size";
}

}  // namespace
}  // namespace reducto
