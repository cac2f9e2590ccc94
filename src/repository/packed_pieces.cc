// Packed pieces (docs/repositories.md, "Packed pieces").
#include "repository/packed_pieces.h"

#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "repository/piece_table.h"
#include "util/endian.h"

namespace reducto {
namespace {

std::string WithSuffix(const std::string& segment_file, const char* suffix) {
  std::string name = segment_file;
  const size_t slash = name.rfind('/');
  const size_t dot = name.rfind('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) name.resize(dot);
  return name + suffix;
}

// The frames of pieces [0, count), each compressed by whichever thread takes it next.
Status CompressPieces(std::span<const uint8_t> segment, const PieceTable& shape, int level,
                      int threads, std::vector<std::string>* frames) {
  const uint64_t count = shape.count();
  frames->assign(count, std::string());
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    if (cctx == nullptr) {
      failed = true;
      return;
    }
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
    for (uint64_t i = next++; i < count && !failed; i = next++) {
      const size_t offset = static_cast<size_t>(shape.PieceOffset(i));
      const size_t length = static_cast<size_t>(shape.PieceLength(i));
      std::string& frame = (*frames)[i];
      frame.resize(ZSTD_compressBound(length));
      size_t n = ZSTD_compress2(cctx, frame.data(), frame.size(), segment.data() + offset, length);
      if (ZSTD_isError(n)) {
        failed = true;
        break;
      }
      frame.resize(n);
    }
    ZSTD_freeCCtx(cctx);
  };
  const int helpers = std::max(1, threads) - 1;
  std::vector<std::thread> pool;
  for (int t = 0; t < helpers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (failed) return Status::Io("zstd could not compress a piece of the segment (out of memory?)");
  return Status::Ok();
}

}  // namespace

std::string PackedPiecesName(const std::string& segment_file) {
  return WithSuffix(segment_file, kPackedPiecesSuffix);
}

std::string PackedPiecesIndexName(const std::string& segment_file) {
  return WithSuffix(segment_file, kPackedPieceIndexSuffix);
}

std::string SerializePackedPieceIndex(const PackedPieceIndex& index) {
  std::string out(kPackedPieceIndexHeaderSize + 8 * index.offsets.size(), '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(out.data());
  std::memcpy(p, kPackedPieceIndexMagic, sizeof kPackedPieceIndexMagic);
  StoreLe32(p + kPackedPieceIndexVersionOffset, kPackedPieceIndexVersion);
  StoreLe32(p + kPackedPieceIndexPieceSizeOffset, index.piece_size);
  StoreLe64(p + kPackedPieceIndexSegmentSizeOffset, index.segment_size);
  StoreLe64(p + kPackedPieceIndexCountOffset, index.count());
  for (size_t i = 0; i < index.offsets.size(); ++i) {
    StoreLe64(p + kPackedPieceIndexHeaderSize + 8 * i, index.offsets[i]);
  }
  return out;
}

Result<PackedPieceIndex> ParsePackedPieceIndex(std::span<const uint8_t> bytes,
                                               uint64_t expected_segment_size,
                                               const std::string& source) {
  auto bad = [&](const std::string& why) {
    return Status::Corrupt("packed piece index " + source + " " + why +
                           ": it is damaged; re-fetch it or publish the corpus again");
  };
  if (bytes.size() < kPackedPieceIndexHeaderSize ||
      std::memcmp(bytes.data(), kPackedPieceIndexMagic, sizeof kPackedPieceIndexMagic) != 0) {
    return bad("does not start with the packed piece index magic");
  }
  const uint8_t* p = bytes.data();
  const uint32_t version = LoadLe32(p + kPackedPieceIndexVersionOffset);
  if (version != kPackedPieceIndexVersion) {
    return bad("has version " + std::to_string(version) + ", this reducto reads version " +
               std::to_string(kPackedPieceIndexVersion));
  }
  PackedPieceIndex index;
  index.piece_size = LoadLe32(p + kPackedPieceIndexPieceSizeOffset);
  if (!ValidPieceSize(index.piece_size)) {
    return bad("has piece size " + std::to_string(index.piece_size) +
               ", not a power of two from 4096 to 16 MiB");
  }
  index.segment_size = LoadLe64(p + kPackedPieceIndexSegmentSizeOffset);
  if (index.segment_size != expected_segment_size) {
    return bad("is for a segment of " + std::to_string(index.segment_size) + " bytes, not " +
               std::to_string(expected_segment_size));
  }
  const uint64_t count = LoadLe64(p + kPackedPieceIndexCountOffset);
  if (count != PieceCount(index.segment_size, index.piece_size)) {
    return bad("counts " + std::to_string(count) + " pieces, the segment has " +
               std::to_string(PieceCount(index.segment_size, index.piece_size)));
  }
  for (size_t i = kPackedPieceIndexCountOffset + 8; i < kPackedPieceIndexHeaderSize; ++i) {
    if (p[i] != 0) return bad("has a non-zero reserved header byte");
  }
  if ((bytes.size() - kPackedPieceIndexHeaderSize) / 8 != count + 1 ||
      (bytes.size() - kPackedPieceIndexHeaderSize) % 8 != 0) {
    return bad("is " + std::to_string(bytes.size()) + " bytes, expected " +
               std::to_string(kPackedPieceIndexHeaderSize + 8 * (count + 1)));
  }
  const uint64_t bound = ZSTD_compressBound(index.piece_size);
  index.offsets.resize(count + 1);
  for (uint64_t i = 0; i <= count; ++i) {
    index.offsets[i] = LoadLe64(p + kPackedPieceIndexHeaderSize + 8 * i);
  }
  if (index.offsets[0] != 0) return bad("does not start its first piece at offset 0");
  for (uint64_t i = 0; i < count; ++i) {
    if (index.offsets[i + 1] < index.offsets[i] || index.offsets[i + 1] - index.offsets[i] > bound) {
      return bad("gives piece " + std::to_string(i) + " an impossible range [" +
                 std::to_string(index.offsets[i]) + "," + std::to_string(index.offsets[i + 1]) +
                 ")");
    }
  }
  return index;
}

Result<std::string> UnpackPiece(std::span<const uint8_t> frame, uint64_t expected_size,
                                const std::string& source) {
  auto bad = [&](const std::string& why) {
    return Status::Corrupt("packed piece " + source + " " + why +
                           ": it is damaged; re-fetch it");
  };
  const size_t frame_size = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_size)) return bad("is not a whole zstd frame");
  if (frame_size != frame.size()) return bad("has bytes after its zstd frame");
  const unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR) {
    return bad("does not declare its size");
  }
  if (declared != expected_size) {
    return bad("declares " + std::to_string(declared) + " bytes, the piece has " +
               std::to_string(expected_size));
  }
  std::string out(static_cast<size_t>(expected_size), '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) return bad(std::string("does not decompress: ") + ZSTD_getErrorName(n));
  if (n != expected_size) return bad("decompresses to " + std::to_string(n) + " bytes");
  return out;
}

Status PackPieces(std::span<const uint8_t> segment, uint32_t piece_size, int level, int threads,
                  std::string* pz, std::string* pzi) {
  PieceTable shape;
  shape.piece_size = piece_size;
  shape.segment_size = segment.size();
  shape.digests.resize(PieceCount(segment.size(), piece_size));
  std::vector<std::string> frames;
  RETURN_IF_ERROR(CompressPieces(segment, shape, level, threads, &frames));
  PackedPieceIndex index{piece_size, segment.size(), {0}};
  pz->clear();
  for (const std::string& frame : frames) {
    pz->append(frame);
    index.offsets.push_back(pz->size());
  }
  *pzi = SerializePackedPieceIndex(index);
  return Status::Ok();
}

}  // namespace reducto
