// The repository's compressed form of a pack segment (docs/repositories.md, "Packed
// pieces"): `pack/NNNNNN.pz` holds each piece of the segment as one zstd frame, and
// `pack/NNNNNN.pzi` where each frame starts, so that a receiver fetches any piece with
// one ranged read and checks it against the corpus's piece table once decompressed.
//
// Format code (zstd and byte order only). Thread safety: functions only; PackPieces
// starts and joins its own threads.
#ifndef REDUCTO_REPOSITORY_PACKED_PIECES_H_
#define REDUCTO_REPOSITORY_PACKED_PIECES_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "reducto/status.h"

namespace reducto {

// ---- FROZEN (docs/repositories.md, "Packed pieces") ----
inline constexpr char kPackedPiecesSuffix[] = ".pz";
inline constexpr char kPackedPieceIndexSuffix[] = ".pzi";
inline constexpr char kPackedPieceIndexMagic[8] = {'R', 'D', 'C', 'P', 'Z', 'I', '0', '1'};
inline constexpr uint32_t kPackedPieceIndexVersion = 1;
inline constexpr size_t kPackedPieceIndexHeaderSize = 64;
// Header fields, little-endian: version (u32), piece size (u32), segment size (u64),
// piece count (u64); bytes 32..63 are zero. Then count + 1 offsets (u64).
inline constexpr size_t kPackedPieceIndexVersionOffset = 8;
inline constexpr size_t kPackedPieceIndexPieceSizeOffset = 12;
inline constexpr size_t kPackedPieceIndexSegmentSizeOffset = 16;
inline constexpr size_t kPackedPieceIndexCountOffset = 24;

// "pack/000000.seg" -> "pack/000000.pz" / "pack/000000.pzi"
std::string PackedPiecesName(const std::string& segment_file);
std::string PackedPiecesIndexName(const std::string& segment_file);

struct PackedPieceIndex {
  uint32_t piece_size = 0;
  uint64_t segment_size = 0;
  std::vector<uint64_t> offsets;          // count + 1 entries: piece i is [offsets[i], offsets[i+1]) of the .pz file
  uint64_t count() const { return offsets.empty() ? 0 : offsets.size() - 1; }
};

std::string SerializePackedPieceIndex(const PackedPieceIndex& index);
// Checks header, monotonic offsets, offsets[0] == 0, count == ceil(segment_size / piece_size), each compressed piece at most ZSTD_compressBound(piece_size). Corrupt naming `source`.
Result<PackedPieceIndex> ParsePackedPieceIndex(std::span<const uint8_t> bytes, uint64_t expected_segment_size, const std::string& source);
// One piece: a single zstd frame declaring its content size == expected_size; decompressed. Corrupt otherwise (no other frame, no trailing bytes).
Result<std::string> UnpackPiece(std::span<const uint8_t> frame, uint64_t expected_size, const std::string& source);
// The .pz and .pzi files of a segment: each piece one zstd frame at `level` (content size declared, no checksum), pieces compressed on `threads` threads.
// REQUIRES: ValidPieceSize(piece_size) (repository/piece_table.h); threads <= 0 means 1.
Status PackPieces(std::span<const uint8_t> segment, uint32_t piece_size, int level, int threads, std::string* pz, std::string* pzi);

}  // namespace reducto

#endif  // REDUCTO_REPOSITORY_PACKED_PIECES_H_
