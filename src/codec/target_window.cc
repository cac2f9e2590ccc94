#include "codec/target_window.h"

#include <cstring>

namespace reducto {

Status TargetWindow::Fill(uint64_t keep, uint64_t want) {
  if (end() >= want || eof_) return Status::Ok();
  size_t drop = keep - base_;
  if (drop > 0) {
    std::memmove(buffer_.data(), buffer_.data() + drop, size_ - drop);
    base_ += drop;
    size_ -= drop;
  }
  while (!eof_ && size_ < buffer_.size()) {
    ASSIGN_OR_RETURN(size_t n, in_.Read(std::span(buffer_).subspan(size_)));
    if (n == 0) eof_ = true;
    size_ += n;
  }
  return Status::Ok();
}

}  // namespace reducto
