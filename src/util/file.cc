#include "util/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sodium.h>

namespace reducto {

Status ErrnoStatus(const std::string& op, const std::string& path, int err) {
  std::string msg = "cannot " + op + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT: return Status::NotFound(msg + " (check the path)");
    case EACCES:
    case EPERM: return Status::Permission(msg + " (check the file's permissions)");
    case ENOSPC:
    case EDQUOT: return Status::Io(msg + " (free some space or write elsewhere)");
    case EISDIR: return Status::InvalidArgument(msg);
    default: return Status::Io(msg);
  }
}

Status WriteAll(int fd, std::span<const uint8_t> data, const std::string& name) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write to", name, errno);
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus("read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return Status::Corrupt(path + " is larger than the " + std::to_string(max_bytes) +
                             " bytes allowed for it");
    }
  }
  ::close(fd);
  return out;
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) return ErrnoStatus("sync directory", dir, err);
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> data) {
  return WriteFileAtomic(path, data, 0644, true);
}

int RenameNoReplace(const std::string& from, const std::string& to) {
  int rc = ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
    rc = ::link(from.c_str(), to.c_str());
    if (rc == 0) ::unlink(from.c_str());
  }
  return rc == 0 ? 0 : errno;
}

namespace {

Status PublishNoReplace(const std::string& tmp, const std::string& path) {
  int err = RenameNoReplace(tmp, path);
  if (err == 0) return Status::Ok();
  if (err == EEXIST) {
    return Status::InvalidArgument(path + " already exists: pass --force or choose another name");
  }
  return ErrnoStatus("rename to", path, err);
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> data, unsigned mode,
                       bool replace) {
  std::string tmp = path + ".tmp-" + std::to_string(randombytes_random());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return ErrnoStatus("create", tmp, errno);
  Status s = WriteAll(fd, data, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("sync", tmp, errno);
  if (::close(fd) != 0 && s.ok()) s = ErrnoStatus("close", tmp, errno);
  if (s.ok() && replace && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = ErrnoStatus("rename to", path, errno);
  }
  if (s.ok() && !replace) s = PublishNoReplace(tmp, path);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

Result<MappedFile> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  Result<MappedFile> file = Map(fd, path);
  ::close(fd);
  return file;
}

Result<MappedFile> MappedFile::Map(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat", path, errno);
  MappedFile file;
  file.size_ = static_cast<uint64_t>(st.st_size);
  if (file.size_ > 0) {
    void* p = ::mmap(nullptr, file.size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return ErrnoStatus("map", path, errno);
    file.data_ = static_cast<const uint8_t*>(p);
  }
  return file;
}

Result<MappedFile> MappedFile::Anonymous(uint64_t size, const std::string& what) {
  MappedFile file;
  file.anonymous_ = true;
  if (size == 0) return file;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return Status::Unavailable("cannot allocate " + std::to_string(size) + " bytes for " + what +
                               ": free memory");
  }
  ::madvise(p, size, MADV_DONTDUMP);  // Decrypted bytes stay out of core dumps.
  file.data_ = static_cast<const uint8_t*>(p);
  file.size_ = size;
  return file;
}

void MappedFile::DropResidentPages() const {
  if (data_ != nullptr && !anonymous_) ::madvise(const_cast<uint8_t*>(data_), size_, MADV_DONTNEED);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(other.data_), size_(other.size_), anonymous_(other.anonymous_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    this->~MappedFile();
    data_ = other.data_;
    size_ = other.size_;
    anonymous_ = other.anonymous_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace reducto
