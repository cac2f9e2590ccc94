// FastCDC 2020 (see shared/reference/fastcdc-2020.md): the cut-point search and the
// streaming driver around it.

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "chunking/gear_table.h"
#include "reducto/chunker.h"

namespace reducto {
namespace {

using fastcdc::kGear;
using fastcdc::kGearLs;
using fastcdc::kMasks;
using fastcdc::kMasksLs;
using fastcdc::kMaxMaskBits;
using fastcdc::kMinMaskBits;

// b = round(log2(avg)), rounded to nearest as the reference does (not floored).
// REQUIRES: avg > 0
int MaskBits(uint32_t avg) { return static_cast<int>(std::lround(std::log2(avg))); }

// Hashes the pairs i in [begin, end) of `data` (bytes 2i and 2i + 1), continuing from
// *hash. Returns the length of the chunk that ends at the first cut, or 0 when there is
// none (a cut is never at 0: pairs start at min_size / 2 >= 32); *hash is the hash at the
// cut or after the last pair.
//
// This is the hot loop, and its plain form was the fastest measured (GCC 12, -O2, Zen 5,
// ChunkBuffer at avg 8 KiB: 5.7-6.1 GB/s): the loop-carried chain is one lea and one add
// per pair. Slower were: adding kGearLs[x] + kGear[y] off the chain behind an asm barrier
// (GCC folds it back otherwise), 3.5 GB/s; unrolling 2, 4 or 8 pairs behind a single
// branch, 5.3, 5.0 and 4.8 GB/s.
inline size_t ScanPairs(const uint8_t* data, size_t begin, size_t end, uint64_t mask,
                        uint64_t mask_ls, uint64_t* hash) {
  uint64_t h = *hash;
  for (size_t i = begin; i < end; ++i) {
    const size_t a = 2 * i;
    const uint64_t h1 = (h << 2) + kGearLs[data[a]];
    if ((h1 & mask_ls) == 0) [[unlikely]] {
      *hash = h1;
      return a;
    }
    const uint64_t h2 = h1 + kGear[data[a + 1]];
    if ((h2 & mask) == 0) [[unlikely]] {
      *hash = h2;
      return a + 1;
    }
    h = h2;
  }
  *hash = h;
  return 0;
}

std::string SizesText(const ChunkerParams& p) {
  return "min=" + std::to_string(p.min_size) + " avg=" + std::to_string(p.avg_size) +
         " max=" + std::to_string(p.max_size);
}

}  // namespace

ChunkerParams ChunkerParams::ForAverage(uint32_t avg_size, int normalization) {
  ChunkerParams params;
  params.avg_size = avg_size;
  params.min_size = avg_size / 2;
  // Saturates rather than wraps, so that a too-large average fails Validate() by name.
  params.max_size = avg_size > std::numeric_limits<uint32_t>::max() / 2
                        ? std::numeric_limits<uint32_t>::max()
                        : avg_size * 2;
  params.normalization = normalization;
  return params;
}

Status ChunkerParams::Validate() const {
  if (!(kMinAllowed <= min_size && min_size < avg_size && avg_size < max_size &&
        max_size <= kMaxAllowed)) {
    return Status::InvalidArgument(
        "chunk sizes must satisfy " + std::to_string(kMinAllowed) +
        " <= min < avg < max <= " + std::to_string(kMaxAllowed) + " (got " + SizesText(*this) +
        "): pick sizes in that order, e.g. min = avg / 2 and max = avg * 2");
  }
  if (normalization < 0 || normalization > 3) {
    return Status::InvalidArgument("normalization level must be 0, 1, 2 or 3 (got " +
                                   std::to_string(normalization) + "); 1 is the default");
  }
  const int bits = MaskBits(avg_size);
  if (bits - normalization < kMinMaskBits || bits + normalization > kMaxMaskBits) {
    return Status::InvalidArgument(
        "average chunk size " + std::to_string(avg_size) +
        " selects mask bits round(log2(avg)) = " + std::to_string(bits) +
        ", and normalization level " + std::to_string(normalization) + " needs masks " +
        std::to_string(bits - normalization) + ".." + std::to_string(bits + normalization) +
        ", but the mask table covers only " + std::to_string(kMinMaskBits) + ".." +
        std::to_string(kMaxMaskBits) +
        ": lower the normalization level or choose an average size nearer the middle");
  }
  return Status::Ok();
}

Chunker::Chunker(const ChunkerParams& params) : params_(params) {
  assert(params.Validate().ok());
  // Clamped so that a caller who ignored REQUIRES gets wrong cuts, not an out-of-bounds
  // read.
  const int bits = MaskBits(std::max<uint32_t>(params.avg_size, 1));
  const int s = std::clamp(bits + params.normalization, kMinMaskBits, kMaxMaskBits);
  const int l = std::clamp(bits - params.normalization, kMinMaskBits, kMaxMaskBits);
  mask_s_ = kMasks[s];
  mask_s_ls_ = kMasksLs[s];
  mask_l_ = kMasks[l];
  mask_l_ls_ = kMasksLs[l];
}

size_t Chunker::FindCut(const uint8_t* data, size_t size, uint64_t* gear) const {
  const size_t min = params_.min_size;
  if (size <= min) {
    *gear = 0;
    return size;
  }
  const size_t remaining = std::min<size_t>(size, params_.max_size);
  const size_t center = std::min<size_t>(params_.avg_size, remaining);
  uint64_t hash = 0;
  // Before the average size the stricter mask_s makes a cut less likely, after it the
  // looser mask_l more likely: this is what normalizes the size distribution.
  size_t cut = ScanPairs(data, min / 2, center / 2, mask_s_, mask_s_ls_, &hash);
  if (cut == 0) {
    cut = ScanPairs(data, std::max(min, center) / 2, remaining / 2, mask_l_, mask_l_ls_, &hash);
  }
  *gear = hash;
  // No cut: the chunk is everything in view (with an odd count the last byte was never
  // hashed), and *gear is the hash where the search stopped, as in the reference.
  return cut != 0 ? cut : remaining;
}

size_t Chunker::EmitChunk(const uint8_t* data, size_t size, std::vector<Chunk>* out) {
  uint64_t gear = 0;
  const size_t length = FindCut(data, size, &gear);
  out->push_back(Chunk{stream_offset_, static_cast<uint32_t>(length), gear});
  stream_offset_ += length;
  return length;
}

void Chunker::Feed(std::span<const uint8_t> bytes, std::vector<Chunk>* out) {
  const size_t max = params_.max_size;
  size_t consumed = 0;  // Bytes of `bytes` that are decided or copied into buffer_.
  if (!buffer_.empty()) {
    // Every chunk that starts in buffer_ ends within max_size bytes of its start, so
    // appending at most max_size bytes decides all of them; the chunks after those are
    // cut in place in `bytes`, without copying.
    const size_t pending = buffer_.size();
    const size_t take = std::min(bytes.size(), max);
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    size_t start = 0;
    while (start < pending && buffer_.size() - start >= max) {
      start += EmitChunk(buffer_.data() + start, buffer_.size() - start, out);
    }
    if (start < pending) {
      // Only possible when take < max, so all of `bytes` is in buffer_ already.
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start));
      return;
    }
    consumed = start - pending;
    buffer_.clear();
  }
  const uint8_t* data = bytes.data() + consumed;
  size_t left = bytes.size() - consumed;
  while (left >= max) {
    const size_t length = EmitChunk(data, left, out);
    data += length;
    left -= length;
  }
  buffer_.assign(data, data + left);
}

void Chunker::Finish(std::vector<Chunk>* out) {
  size_t start = 0;
  while (start < buffer_.size()) {
    start += EmitChunk(buffer_.data() + start, buffer_.size() - start, out);
  }
  buffer_.clear();
  stream_offset_ = 0;
}

std::vector<Chunk> ChunkBuffer(const ChunkerParams& params, std::span<const uint8_t> data) {
  const Chunker chunker(params);
  std::vector<Chunk> chunks;
  chunks.reserve(data.size() / std::max<uint32_t>(params.avg_size, 1) + 1);
  size_t start = 0;
  while (start < data.size()) {
    uint64_t gear = 0;
    const size_t length = chunker.FindCut(data.data() + start, data.size() - start, &gear);
    chunks.push_back(Chunk{start, static_cast<uint32_t>(length), gear});
    start += length;
  }
  return chunks;
}

}  // namespace reducto
