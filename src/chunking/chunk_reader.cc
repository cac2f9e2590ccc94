#include "chunking/chunk_reader.h"

#include <cstring>

namespace reducto {

ChunkReader::ChunkReader(const ChunkerParams& params, ByteSource& source, size_t window_bytes)
    : chunker_(params), source_(source), buffer_(window_bytes + params.max_size) {}

Status ChunkReader::Refill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (!eof_ && end_ < buffer_.size()) {
    ASSIGN_OR_RETURN(size_t n, source_.Read(std::span(buffer_).subspan(end_)));
    if (n == 0) eof_ = true;
    end_ += n;
    bytes_read_ += n;
  }
  return Status::Ok();
}

Result<bool> ChunkReader::Next(ChunkView* chunk) {
  // A cut can be decided only with max_size bytes in view, or at the end.
  if (!eof_ && end_ - begin_ < chunker_.params().max_size) RETURN_IF_ERROR(Refill());
  size_t available = end_ - begin_;
  if (available == 0) return false;
  uint64_t gear = 0;
  size_t length = chunker_.FindCut(buffer_.data() + begin_, available, &gear);
  chunk->offset = offset_;
  chunk->bytes = std::span<const uint8_t>(buffer_.data() + begin_, length);
  begin_ += length;
  offset_ += length;
  return true;
}

Status ChunkStream(const ChunkerParams& params, ByteSource& source, const ChunkCallback& on_chunk) {
  ChunkReader reader(params, source);
  ChunkView chunk;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&chunk));
    if (!more) return Status::Ok();
    RETURN_IF_ERROR(on_chunk(chunk.offset, chunk.bytes));
  }
}

}  // namespace reducto
