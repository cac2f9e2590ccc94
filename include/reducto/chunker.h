// FastCDC 2020 content-defined chunking (Xia et al., IEEE TPDS 2020): gear hash,
// normalized chunking (levels 0-3), two bytes per step. Cut points depend only on the
// bytes, never on how the caller splits them into buffers.
//
// Thread safety: a Chunker is not thread-safe; use one per stream.
#ifndef REDUCTO_CHUNKER_H_
#define REDUCTO_CHUNKER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <functional>

#include "reducto/io.h"
#include "reducto/status.h"

namespace reducto {

struct ChunkerParams {
  // Bounds accepted by the algorithm: 64 <= min_size < avg_size < max_size <= 16 MiB,
  // normalization in 0..3.
  static constexpr uint32_t kMinAllowed = 64;
  static constexpr uint32_t kMaxAllowed = 16u << 20;

  uint32_t min_size = 4096;
  uint32_t avg_size = 8192;
  uint32_t max_size = 16384;
  int normalization = 1;

  // min = avg / 2, max = avg * 2: every chunk but a stream's last stays in 50%..200%.
  static ChunkerParams ForAverage(uint32_t avg_size, int normalization = 1);

  // InvalidArgument, naming the valid ranges, unless the combination is allowed.
  Status Validate() const;
  bool operator==(const ChunkerParams&) const = default;
};

struct Chunk {
  uint64_t offset = 0;  // From the start of the stream.
  uint32_t length = 0;
  // The gear hash at the cut. When no cut was found (the chunk was cut at max_size or at
  // the end of the stream) it is the hash where the search stopped, as in the reference
  // vectors, and 0 when the chunk was too short to hash at all (<= min_size).
  uint64_t gear_hash = 0;
};

// Streams bytes in, chunk boundaries out.
class Chunker {
 public:
  // REQUIRES: params.Validate().ok()
  explicit Chunker(const ChunkerParams& params);

  // Appends to `out` every chunk that ends inside the bytes fed so far and can be
  // decided without more input: a chunk is decided once max_size bytes from its start
  // have been fed, or at Finish(). The chunks are the same however the stream is split
  // into Feed calls (empty ones included). Chunks carry offsets, not bytes: a caller
  // that needs their contents keeps the bytes itself, from the start of the oldest
  // undecided chunk on (the last PendingBytes() bytes fed). The chunker copies only that
  // undecided tail, never `bytes` as a whole, and does not hold on to `bytes`.
  void Feed(std::span<const uint8_t> bytes, std::vector<Chunk>* out);
  // Ends the stream: emits the remaining bytes as the final chunks. The chunker is then
  // ready for a new stream, whose offsets start again at 0.
  void Finish(std::vector<Chunk>* out);

  // Bytes fed but not yet part of an emitted chunk: fewer than max_size between calls.
  uint64_t PendingBytes() const { return buffer_.size(); }
  const ChunkerParams& params() const { return params_; }

  // One cut-point search on a contiguous buffer: the length of the first chunk of
  // `data` (the whole of it when no cut is found within max_size). `*gear` receives
  // the hash at the cut. This is the reference algorithm; Feed/Finish build on it.
  // The result depends only on the first min(size, max_size) bytes, and is final only
  // when size >= max_size or `data` ends the stream. It is at most max_size and, unless
  // it is all of a `data` of at most min_size bytes, at least min_size rounded down to
  // even (min_size - 1 when min_size is odd, as in the reference).
  size_t FindCut(const uint8_t* data, size_t size, uint64_t* gear) const;

 private:
  // Cuts the first chunk of `data`, appends it to `out` and returns its length.
  // REQUIRES: size >= max_size, or `data` ends the stream.
  size_t EmitChunk(const uint8_t* data, size_t size, std::vector<Chunk>* out);

  ChunkerParams params_;
  uint64_t mask_s_, mask_s_ls_, mask_l_, mask_l_ls_;
  uint64_t stream_offset_ = 0;  // Offset of the first undecided byte (buffer_[0]).
  std::vector<uint8_t> buffer_;  // Exactly the undecided tail: < max_size bytes between calls.
};

// Chunks a whole buffer at once: the same chunks as one Feed of `data` and Finish.
// REQUIRES: params.Validate().ok()
std::vector<Chunk> ChunkBuffer(const ChunkerParams& params, std::span<const uint8_t> data);

// Reads `source` to its end and calls `on_chunk` with each chunk's stream offset and
// bytes (valid only during the call), holding a bounded window in memory. Stops at
// the first error, from the source or from `on_chunk`.
// REQUIRES: params.Validate().ok()
using ChunkCallback = std::function<Status(uint64_t offset, std::span<const uint8_t> bytes)>;
Status ChunkStream(const ChunkerParams& params, ByteSource& source, const ChunkCallback& on_chunk);

}  // namespace reducto

#endif  // REDUCTO_CHUNKER_H_
