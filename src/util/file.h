// Thin, Status-returning wrappers over POSIX files: errors name the path and the
// operating system's reason.
#ifndef REDUCTO_UTIL_FILE_H_
#define REDUCTO_UTIL_FILE_H_

#include <cstdint>
#include <span>
#include <string>

#include "reducto/status.h"

namespace reducto {

// Maps errno after a failed `op` on `path` to a Status with a useful message.
Status ErrnoStatus(const std::string& op, const std::string& path, int err);

// Writes all of `data` to `fd`, retrying short writes and EINTR.
Status WriteAll(int fd, std::span<const uint8_t> data, const std::string& name);

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);
// Writes `data` to `path` through a temporary file, fsync and rename.
Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> data);
// The same, creating the file with permission bits `mode` (before the umask); unless
// `replace`, an existing `path` is kept and the result is InvalidArgument ("exists").
Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> data, unsigned mode,
                       bool replace);
// Renames `from` to `to` unless `to` exists: renameat2(RENAME_NOREPLACE), or link and
// unlink where the file system lacks it. Returns 0, or the errno (EEXIST: `to` exists).
int RenameNoReplace(const std::string& from, const std::string& to);
// fsync of a directory, so a rename inside it is durable.
Status SyncDirectory(const std::string& dir);

// A read-only memory map of a whole file. An empty file maps to an empty span.
class MappedFile {
 public:
  static Result<MappedFile> Open(const std::string& path);
  // The same for a file already open for reading (`path` names it in errors); `fd` stays
  // open and the caller's.
  static Result<MappedFile> Map(int fd, const std::string& path);
  // `size` bytes of private anonymous memory, zeroed, left out of core dumps, for the caller to fill through
  // `fill` (an encrypted corpus's decrypted pack). DropResidentPages() keeps them.
  static Result<MappedFile> Anonymous(uint64_t size, const std::string& what);
  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  // REQUIRES: made by Anonymous().
  std::span<uint8_t> fill() { return {const_cast<uint8_t*>(data_), size_}; }
  uint64_t size() const { return size_; }
  // Unmaps the pages this process holds of the file (madvise MADV_DONTNEED): they
  // stay in the kernel's page cache, and the next access maps them again. Views of
  // bytes() stay valid. Safe while other threads read the mapping.
  void DropResidentPages() const;

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  bool anonymous_ = false;  // Its pages hold the only copy: never dropped.
};

}  // namespace reducto

#endif  // REDUCTO_UTIL_FILE_H_
