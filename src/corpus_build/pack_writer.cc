#include "corpus_build/pack_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include <algorithm>
#include <cerrno>

#include "util/file.h"

namespace reducto {
namespace {
constexpr size_t kBufferBytes = 1u << 20;
}  // namespace

PackWriter::PackWriter(int fd, std::string path, uint64_t base, const CorpusKeys* keys,
                       uint32_t segment)
    : fd_(fd), path_(std::move(path)), base_(base), keys_(keys), segment_(segment) {
  buffer_.reserve(kBufferBytes);
}

PackWriter::~PackWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!pending_.empty()) sodium_memzero(pending_.data(), pending_.size());
}

Result<std::unique_ptr<PackWriter>> PackWriter::Create(const std::string& path, uint64_t base,
                                                       const CorpusKeys* keys, uint32_t segment) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create pack segment", path, errno);
  return std::unique_ptr<PackWriter>(new PackWriter(fd, path, base, keys, segment));
}

Status PackWriter::Append(std::span<const uint8_t> bytes, uint64_t* address) {
  if (fd_ < 0) return Status::InvalidArgument("append to finished pack segment " + path_);
  *address = base_ + size_;
  hasher_.Update(bytes);
  size_ += bytes.size();
  if (keys_ != nullptr) return AppendSealed(bytes);
  if (buffer_.size() + bytes.size() > kBufferBytes) RETURN_IF_ERROR(FlushBuffer());
  if (bytes.size() >= kBufferBytes) return WriteAll(fd_, bytes, path_);
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  return Status::Ok();
}

Status PackWriter::AppendSealed(std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    size_t n = std::min<size_t>(bytes.size(), kPackChunkSize - pending_.size());
    pending_.insert(pending_.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    bytes = bytes.subspan(n);
    if (pending_.size() == kPackChunkSize) RETURN_IF_ERROR(SealPending());
  }
  return Status::Ok();
}

Status PackWriter::SealPending() {
  keys_->SealPackChunk(segment_, sealed_chunks_++, pending_, &sealed_);
  sodium_memzero(pending_.data(), pending_.size());
  pending_.clear();
  if (buffer_.size() + sealed_.size() > kBufferBytes) RETURN_IF_ERROR(FlushBuffer());
  buffer_.insert(buffer_.end(), sealed_.begin(), sealed_.end());
  return Status::Ok();
}

Status PackWriter::FlushBuffer() {
  Status s = WriteAll(fd_, buffer_, path_);
  buffer_.clear();
  return s;
}

Status PackWriter::Finish() {
  if (fd_ < 0) return Status::InvalidArgument("pack segment " + path_ + " was already finished");
  Status s = keys_ != nullptr && !pending_.empty() ? SealPending() : Status::Ok();
  if (s.ok()) s = FlushBuffer();
  if (s.ok() && ::fsync(fd_) != 0) s = ErrnoStatus("sync", path_, errno);
  if (::close(fd_) != 0 && s.ok()) s = ErrnoStatus("close", path_, errno);
  fd_ = -1;
  return s;
}

}  // namespace reducto
