// The piece table of a pack segment (docs/corpus.md, "Piece tables"): the BLAKE3-256 of
// each piece_size-byte piece of the segment file as stored, so that a receiver that
// fetched only some byte ranges verifies each against the signed manifest.
//
// Format code only (hashing and byte order): corpus/ and corpus_build/ use it to write
// and check piece tables, the repository (corpus_publish.cc) to lay corpora out.
// Thread safety: functions only, no shared state.
#ifndef REDUCTO_REPOSITORY_PIECE_TABLE_H_
#define REDUCTO_REPOSITORY_PIECE_TABLE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "reducto/digest.h"
#include "reducto/status.h"

namespace reducto {

struct PieceTable {
  uint32_t piece_size = 0;
  uint64_t segment_size = 0;
  std::vector<Digest> digests;           // one per piece
  uint64_t count() const { return digests.size(); }
  uint64_t PieceOffset(uint64_t i) const;   // i * piece_size
  uint64_t PieceLength(uint64_t i) const;   // piece_size, or less for the last
};

// ceil(segment_size / piece_size). REQUIRES: piece_size > 0.
uint64_t PieceCount(uint64_t segment_size, uint32_t piece_size);
// Bytes of the serialized table: 64 + 32 * PieceCount(...).
uint64_t PieceTableFileSize(uint64_t segment_size, uint32_t piece_size);
// A power of two in [kMinPieceSize, kMaxPieceSize].
bool ValidPieceSize(uint64_t piece_size);
// "pack/000000.seg" -> "pieces/000000.b3".
std::string PieceTableFileName(uint32_t segment_number);

// REQUIRES: ValidPieceSize(piece_size).
PieceTable ComputePieceTable(std::span<const uint8_t> segment, uint32_t piece_size);
std::string SerializePieceTable(const PieceTable& table);
// Checks magic, version, piece_size range, count and exact size; `expected_segment_size` must match. Corrupt naming `source` otherwise.
Result<PieceTable> ParsePieceTable(std::span<const uint8_t> bytes, uint64_t expected_segment_size, const std::string& source);

// The first piece of `segment` whose digest differs from `table`'s, or table.count()
// when all match. REQUIRES: table.segment_size == segment.size().
uint64_t FirstBadPiece(const PieceTable& table, std::span<const uint8_t> segment);

}  // namespace reducto

#endif  // REDUCTO_REPOSITORY_PIECE_TABLE_H_
