// Piece tables (docs/corpus.md, "Piece tables").
#include "repository/piece_table.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "corpus/corpus_format.h"
#include "util/endian.h"

namespace reducto {
namespace {

std::span<const uint8_t> Piece(std::span<const uint8_t> segment, uint64_t offset,
                               uint64_t length) {
  return segment.subspan(static_cast<size_t>(offset), static_cast<size_t>(length));
}

}  // namespace

uint64_t PieceTable::PieceOffset(uint64_t i) const { return i * piece_size; }

uint64_t PieceTable::PieceLength(uint64_t i) const {
  return std::min<uint64_t>(piece_size, segment_size - PieceOffset(i));
}

uint64_t PieceCount(uint64_t segment_size, uint32_t piece_size) {
  return segment_size / piece_size + (segment_size % piece_size != 0);
}

uint64_t PieceTableFileSize(uint64_t segment_size, uint32_t piece_size) {
  return kPieceTableHeaderSize + kPieceDigestSize * PieceCount(segment_size, piece_size);
}

bool ValidPieceSize(uint64_t piece_size) {
  return std::has_single_bit(piece_size) && piece_size >= kMinPieceSize &&
         piece_size <= kMaxPieceSize;
}

std::string PieceTableFileName(uint32_t segment_number) {
  char name[32];
  std::snprintf(name, sizeof name, "%s/%06u%s", kPiecesDirName, segment_number,
                kPieceTableSuffix);
  return name;
}

PieceTable ComputePieceTable(std::span<const uint8_t> segment, uint32_t piece_size) {
  PieceTable table;
  table.piece_size = piece_size;
  table.segment_size = segment.size();
  const uint64_t count = PieceCount(segment.size(), piece_size);
  table.digests.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    table.digests[i] = Blake3(Piece(segment, table.PieceOffset(i), table.PieceLength(i)));
  }
  return table;
}

std::string SerializePieceTable(const PieceTable& table) {
  std::string out(kPieceTableHeaderSize + kPieceDigestSize * table.count(), '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(out.data());
  std::memcpy(p, kPieceTableMagic, sizeof kPieceTableMagic);
  StoreLe32(p + kPieceTableVersionOffset, kPieceTableFormatVersion);
  StoreLe32(p + kPieceTablePieceSizeOffset, table.piece_size);
  StoreLe64(p + kPieceTableSegmentSizeOffset, table.segment_size);
  StoreLe64(p + kPieceTableCountOffset, table.count());
  for (uint64_t i = 0; i < table.count(); ++i) {
    std::memcpy(p + kPieceTableHeaderSize + i * kPieceDigestSize, table.digests[i].data(),
                kPieceDigestSize);
  }
  return out;
}

Result<PieceTable> ParsePieceTable(std::span<const uint8_t> bytes, uint64_t expected_segment_size,
                                   const std::string& source) {
  auto bad = [&](const std::string& why) {
    return Status::Corrupt("piece table " + source + " " + why +
                           ": it is damaged; re-fetch or rebuild the corpus");
  };
  if (bytes.size() < kPieceTableHeaderSize ||
      std::memcmp(bytes.data(), kPieceTableMagic, sizeof kPieceTableMagic) != 0) {
    return bad("does not start with the piece table magic");
  }
  const uint8_t* p = bytes.data();
  const uint32_t version = LoadLe32(p + kPieceTableVersionOffset);
  if (version != kPieceTableFormatVersion) {
    return bad("has version " + std::to_string(version) + ", this reducto reads version " +
               std::to_string(kPieceTableFormatVersion));
  }
  PieceTable table;
  table.piece_size = LoadLe32(p + kPieceTablePieceSizeOffset);
  if (!ValidPieceSize(table.piece_size)) {
    return bad("has piece size " + std::to_string(table.piece_size) +
               ", not a power of two from 4096 to 16 MiB");
  }
  table.segment_size = LoadLe64(p + kPieceTableSegmentSizeOffset);
  if (table.segment_size != expected_segment_size) {
    return bad("is for a segment of " + std::to_string(table.segment_size) + " bytes, not " +
               std::to_string(expected_segment_size));
  }
  const uint64_t count = LoadLe64(p + kPieceTableCountOffset);
  if (count != PieceCount(table.segment_size, table.piece_size)) {
    return bad("counts " + std::to_string(count) + " pieces, the segment has " +
               std::to_string(PieceCount(table.segment_size, table.piece_size)));
  }
  for (size_t i = kPieceTableCountOffset + 8; i < kPieceTableHeaderSize; ++i) {
    if (p[i] != 0) return bad("has a non-zero reserved header byte");
  }
  if (bytes.size() != PieceTableFileSize(table.segment_size, table.piece_size)) {
    return bad("is " + std::to_string(bytes.size()) + " bytes, expected " +
               std::to_string(PieceTableFileSize(table.segment_size, table.piece_size)));
  }
  table.digests.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::memcpy(table.digests[i].data(), p + kPieceTableHeaderSize + i * kPieceDigestSize,
                kPieceDigestSize);
  }
  return table;
}

uint64_t FirstBadPiece(const PieceTable& table, std::span<const uint8_t> segment) {
  for (uint64_t i = 0; i < table.count(); ++i) {
    Digest d = Blake3(Piece(segment, table.PieceOffset(i), table.PieceLength(i)));
    if (!DigestEqual(d, table.digests[i])) return i;
  }
  return table.count();
}

}  // namespace reducto
