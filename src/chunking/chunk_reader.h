// Reads a ByteSource and yields its content-defined chunks one by one, holding at most
// a bounded window of the stream in memory.
//
// Thread safety: not thread-safe.
#ifndef REDUCTO_CHUNKING_CHUNK_READER_H_
#define REDUCTO_CHUNKING_CHUNK_READER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "reducto/chunker.h"
#include "reducto/io.h"
#include "reducto/status.h"

namespace reducto {

struct ChunkView {
  uint64_t offset = 0;               // From the start of the stream.
  std::span<const uint8_t> bytes;    // Valid until the next call to Next().
};

class ChunkReader {
 public:
  // REQUIRES: params.Validate().ok(); `source` outlives the reader.
  // Memory: window_bytes + params.max_size.
  ChunkReader(const ChunkerParams& params, ByteSource& source, size_t window_bytes = 8u << 20);

  // Sets *chunk to the next chunk; returns false at the end of the stream.
  Result<bool> Next(ChunkView* chunk);

  uint64_t bytes_read() const { return bytes_read_; }

 private:
  Status Refill();

  Chunker chunker_;
  ByteSource& source_;
  std::vector<uint8_t> buffer_;
  size_t begin_ = 0;  // First undelivered byte in buffer_.
  size_t end_ = 0;    // One past the last valid byte in buffer_.
  bool eof_ = false;
  uint64_t offset_ = 0;  // Stream offset of buffer_[begin_].
  uint64_t bytes_read_ = 0;
};

}  // namespace reducto

#endif  // REDUCTO_CHUNKING_CHUNK_READER_H_
