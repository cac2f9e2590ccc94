// Packed pieces (docs/repositories.md, "Packed pieces"): a segment packed and unpacked
// piece by piece gives back its bytes, and damaged frames and indexes are Corrupt.
#include "repository/packed_pieces.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <zstd.h>

#include <string>
#include <vector>

#include "random_bytes.h"
#include "repository/piece_table.h"
#include "util/endian.h"

namespace reducto {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Every piece of `segment` from the packed form, as a receiver would take it.
std::string UnpackAll(const std::string& pz, const std::string& pzi, uint64_t segment_size) {
  auto index = ParsePackedPieceIndex(Bytes(pzi), segment_size, "x.pzi");
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  if (!index.ok()) return {};
  EXPECT_EQ(index->offsets.back(), pz.size());
  std::string out;
  for (uint64_t i = 0; i < index->count(); ++i) {
    const uint64_t length = std::min<uint64_t>(index->piece_size, segment_size - i * index->piece_size);
    auto frame = Bytes(pz).subspan(index->offsets[i], index->offsets[i + 1] - index->offsets[i]);
    auto piece = UnpackPiece(frame, length, "x.pz piece " + std::to_string(i));
    EXPECT_TRUE(piece.ok()) << piece.status().ToString();
    if (!piece.ok()) return {};
    out += *piece;
  }
  return out;
}

std::string Segment(size_t size, uint64_t seed) {
  std::vector<uint8_t> random = testing::RandomBytes(size / 2, seed);
  std::string s(random.begin(), random.end());
  while (s.size() < size) s += "compressible text, again and again. ";
  s.resize(size);
  return s;
}

TEST(PackedPieces, Names) {
  EXPECT_EQ(PackedPiecesName("pack/000000.seg"), "pack/000000.pz");
  EXPECT_EQ(PackedPiecesIndexName("pack/000012.seg"), "pack/000012.pzi");
}

TEST(PackedPieces, RoundTripOnSeveralThreads) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, size_t{4097}, size_t{200000}}) {
    std::string segment = Segment(size, size);
    std::string pz, pzi;
    ASSERT_TRUE(PackPieces(Bytes(segment), 4096, 9, 3, &pz, &pzi).ok());
    EXPECT_EQ(UnpackAll(pz, pzi, size), segment) << size;
    std::string pz1, pzi1;
    ASSERT_TRUE(PackPieces(Bytes(segment), 4096, 9, 1, &pz1, &pzi1).ok());
    EXPECT_EQ(pz1, pz) << "the packed form does not depend on the thread count";
    EXPECT_EQ(pzi1, pzi);
  }
}

RC_GTEST_PROP(PackedPieces, RoundTripProperty, ()) {
  const size_t size = *rc::gen::inRange<size_t>(0, 70000);
  const uint32_t piece_size = 4096u << *rc::gen::inRange(0, 3);
  std::string segment = Segment(size, *rc::gen::arbitrary<uint32_t>());
  std::string pz, pzi;
  RC_ASSERT(PackPieces(Bytes(segment), piece_size, 3, 2, &pz, &pzi).ok());
  RC_ASSERT(UnpackAll(pz, pzi, size) == segment);
}

TEST(PackedPieces, DamagedFramesAreCorrupt) {
  std::string segment = Segment(10000, 1);
  std::string pz, pzi;
  ASSERT_TRUE(PackPieces(Bytes(segment), 4096, 9, 1, &pz, &pzi).ok());
  auto index = ParsePackedPieceIndex(Bytes(pzi), segment.size(), "x.pzi");
  ASSERT_TRUE(index.ok());
  std::string first = pz.substr(0, index->offsets[1]);
  std::string second = pz.substr(index->offsets[1], index->offsets[2] - index->offsets[1]);
  auto code = [](const Result<std::string>& r) { return r.ok() ? StatusCode::kOk : r.status().code(); };
  EXPECT_EQ(code(UnpackPiece(Bytes(first), 4096, "p")), StatusCode::kOk);
  EXPECT_EQ(code(UnpackPiece(Bytes(first.substr(0, first.size() - 1)), 4096, "p")), StatusCode::kCorrupt);
  EXPECT_EQ(code(UnpackPiece(Bytes(first + second), 4096, "p")), StatusCode::kCorrupt);
  EXPECT_EQ(code(UnpackPiece(Bytes(first + "x"), 4096, "p")), StatusCode::kCorrupt);
  EXPECT_EQ(code(UnpackPiece(Bytes(first), 4095, "p")), StatusCode::kCorrupt);
  EXPECT_EQ(code(UnpackPiece({}, 0, "p")), StatusCode::kCorrupt);
  // A frame that does not declare its size.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string undeclared(ZSTD_compressBound(4096), '\0');
  undeclared.resize(ZSTD_compress2(cctx, undeclared.data(), undeclared.size(), segment.data(), 4096));
  ZSTD_freeCCtx(cctx);
  EXPECT_EQ(code(UnpackPiece(Bytes(undeclared), 4096, "p")), StatusCode::kCorrupt);
}

TEST(PackedPieces, DamagedIndexesAreCorrupt) {
  std::string segment = Segment(10000, 2);
  std::string pz, pzi;
  ASSERT_TRUE(PackPieces(Bytes(segment), 4096, 9, 1, &pz, &pzi).ok());
  auto expect_corrupt = [&](std::string bytes, const std::string& why) {
    auto parsed = ParsePackedPieceIndex(Bytes(bytes), segment.size(), "x.pzi");
    ASSERT_FALSE(parsed.ok()) << why;
    EXPECT_EQ(parsed.status().code(), StatusCode::kCorrupt) << why;
  };
  auto with = [&](auto change) {
    std::string t = pzi;
    change(reinterpret_cast<uint8_t*>(t.data()));
    return t;
  };
  expect_corrupt(with([](uint8_t* p) { p[7] = '2'; }), "magic");
  expect_corrupt(with([](uint8_t* p) { StoreLe32(p + 8, 2); }), "version");
  expect_corrupt(with([](uint8_t* p) { StoreLe32(p + 12, 1000); }), "piece size");
  expect_corrupt(with([](uint8_t* p) { StoreLe64(p + 16, 9999); }), "segment size");
  expect_corrupt(with([](uint8_t* p) { StoreLe64(p + 24, 2); }), "count");
  expect_corrupt(with([](uint8_t* p) { p[63] = 1; }), "reserved");
  expect_corrupt(with([](uint8_t* p) { StoreLe64(p + 64, 1); }), "first offset");
  expect_corrupt(with([](uint8_t* p) { StoreLe64(p + 72, LoadLe64(p + 80) + 1); }), "decreasing");
  expect_corrupt(with([](uint8_t* p) { StoreLe64(p + 88, 1u << 30); }), "piece beyond the bound");
  expect_corrupt(pzi.substr(0, pzi.size() - 8), "truncated");
  expect_corrupt(pzi + std::string(8, '\0'), "longer");
}

}  // namespace
}  // namespace reducto
