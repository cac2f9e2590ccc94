// The encoder's window on its target: it never holds the whole target (EncodeContainer's
// memory bound, codec/encoder.h).
//
// Thread safety: used by one thread.
#ifndef REDUCTO_CODEC_TARGET_WINDOW_H_
#define REDUCTO_CODEC_TARGET_WINDOW_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "reducto/io.h"
#include "reducto/status.h"

namespace reducto {

// The target bytes the encoder may still look at: from the oldest undecided byte to a
// lookahead, read from the source in large steps. Memory: `capacity` bytes.
class TargetWindow {
 public:
  TargetWindow(ByteSource& in, size_t capacity) : in_(in), buffer_(capacity) {}

  // Reads until bytes up to offset `want` are present or the input ended, dropping the
  // bytes before `keep`. REQUIRES: begin() <= keep <= end(), want - keep <= capacity.
  Status Fill(uint64_t keep, uint64_t want);

  uint64_t begin() const { return base_; }
  uint64_t end() const { return base_ + size_; }
  // REQUIRES: begin() <= from <= to <= end().
  std::span<const uint8_t> Bytes(uint64_t from, uint64_t to) const {
    return std::span<const uint8_t>(buffer_).subspan(from - base_, to - from);
  }

 private:
  ByteSource& in_;
  std::vector<uint8_t> buffer_;
  uint64_t base_ = 0;  // Target offset of buffer_[0].
  size_t size_ = 0;
  bool eof_ = false;
};

}  // namespace reducto

#endif  // REDUCTO_CODEC_TARGET_WINDOW_H_
