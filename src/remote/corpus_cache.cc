#include "remote/corpus_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

namespace reducto {

std::string CachedCorpusDir(const std::string& cache_dir, const std::string& id) {
  return cache_dir + "/corpora/" + id;
}

Result<FileLock> FileLock::Acquire(const std::string& path, Mode mode, bool wait) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus("open the lock file", path, errno);
  int operation = (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
  int rc;
  do {
    rc = ::flock(fd, operation);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return Status::Unavailable(path + " is locked by another process");
    return ErrnoStatus("lock", path, err);
  }
  FileLock lock;
  lock.fd_ = fd;
  return lock;
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // Closing the descriptor releases the lock.
}

Status MakeDirectories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus("create the directory", dir, ec.value());
  return Status::Ok();
}

namespace {

// Opens `path` read-write, creating it (mode 0600), never through a symbolic link.
Result<int> OpenReadWrite(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  return fd;
}

Result<uint64_t> FileSize(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status Resize(int fd, uint64_t size, const std::string& path) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return ErrnoStatus("resize", path, errno);
  return Status::Ok();
}

Status PwriteAll(int fd, std::span<const uint8_t> data, uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("write to", path, n < 0 ? errno : EIO);
    data = data.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

// Brings the files to their sizes: a data file of another size is resized and every
// mark cleared (its pieces cannot be trusted); a record of another size is cleared.
Status Normalize(int data_fd, int have_fd, uint64_t size, uint64_t pieces,
                 const std::string& path) {
  ASSIGN_OR_RETURN(uint64_t data_size, FileSize(data_fd, path));
  ASSIGN_OR_RETURN(uint64_t have_size, FileSize(have_fd, path + ".have"));
  if (data_size == size && have_size == pieces) return Status::Ok();
  RETURN_IF_ERROR(Resize(have_fd, 0, path + ".have"));
  RETURN_IF_ERROR(Resize(have_fd, pieces, path + ".have"));
  return Resize(data_fd, size, path);
}

}  // namespace

CachedSegment::CachedSegment(std::string path, int data_fd, int have_fd, MappedFile map)
    : path_(std::move(path)), data_fd_(data_fd), have_fd_(have_fd), map_(std::move(map)) {}

CachedSegment::~CachedSegment() {
  if (data_fd_ >= 0) ::close(data_fd_);
  if (have_fd_ >= 0) ::close(have_fd_);
}

Result<std::unique_ptr<CachedSegment>> CachedSegment::Open(const std::string& path, uint64_t size,
                                                           uint64_t pieces) {
  RETURN_IF_ERROR(MakeDirectories(std::filesystem::path(path).parent_path().string()));
  ASSIGN_OR_RETURN(int data_fd, OpenReadWrite(path));
  Result<int> have_fd = OpenReadWrite(path + ".have");
  if (!have_fd.ok()) {
    ::close(data_fd);
    return have_fd.status();
  }
  Status s = Normalize(data_fd, *have_fd, size, pieces, path);
  Result<MappedFile> map = s.ok() ? MappedFile::Map(data_fd, path) : Result<MappedFile>(s);
  if (!map.ok()) {
    ::close(data_fd);
    ::close(*have_fd);
    return map.status();
  }
  return std::unique_ptr<CachedSegment>(
      new CachedSegment(path, data_fd, *have_fd, std::move(map).value()));
}

Result<bool> CachedSegment::Marked(uint64_t i) const {
  uint8_t byte = 0;
  ssize_t n = ::pread(have_fd_, &byte, 1, static_cast<off_t>(i));
  if (n < 0) return ErrnoStatus("read", path_ + ".have", errno);
  return n == 1 && byte == 1;
}

Status CachedSegment::Write(uint64_t offset, std::span<const uint8_t> data) const {
  return PwriteAll(data_fd_, data, offset, path_);
}

Status CachedSegment::Mark(std::span<const uint64_t> pieces) const {
  if (::fdatasync(data_fd_) != 0) return ErrnoStatus("sync", path_, errno);
  const uint8_t one = 1;
  for (uint64_t i : pieces) RETURN_IF_ERROR(PwriteAll(have_fd_, std::span(&one, 1), i, path_ + ".have"));
  if (::fdatasync(have_fd_) != 0) return ErrnoStatus("sync", path_ + ".have", errno);
  return Status::Ok();
}

Status CachedSegment::Unmark(uint64_t i) const {
  const uint8_t zero = 0;
  return PwriteAll(have_fd_, std::span(&zero, 1), i, path_ + ".have");
}

}  // namespace reducto
