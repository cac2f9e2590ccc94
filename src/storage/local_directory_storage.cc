#include "storage/local_directory_storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "util/file.h"

namespace reducto {
namespace {

// Publication's temporary files (WriteFileAtomic: "<name>.tmp-<random>").
constexpr char kTemporaryMarker[] = ".tmp-";

// An open file: pread for ranges, and the mapping when opened for a view. The
// descriptor stays open so that both read the file that was opened.
class LocalFile final : public StorageFile {
 public:
  LocalFile(int fd, std::string path, uint64_t size, MappedFile mapped, bool mapped_view)
      : fd_(fd), path_(std::move(path)), size_(size), mapped_(std::move(mapped)),
        has_view_(mapped_view) {}
  ~LocalFile() override { ::close(fd_); }

  uint64_t size() const override { return size_; }

  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    if (offset > size_ || out.size() > size_ - offset) {
      return Status::InvalidArgument("cannot read " + std::to_string(out.size()) +
                                     " bytes at offset " + std::to_string(offset) + " of " +
                                     path_ + ", which has " + std::to_string(size_));
    }
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("read", path_, errno);
      if (n == 0) {
        return Status::Io("cannot read " + path_ + ": it ended at " +
                          std::to_string(offset + done) + " bytes, it had " +
                          std::to_string(size_) + " when opened (was it truncated?)");
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  std::optional<std::span<const uint8_t>> view() const override {
    if (!has_view_) return std::nullopt;
    return mapped_.bytes();
  }

  void DropResidentPages() const override { mapped_.DropResidentPages(); }

 private:
  int fd_;
  std::string path_;
  uint64_t size_;
  MappedFile mapped_;
  bool has_view_;
};

Status NotARegularFile(const std::string& path) {
  return Status::InvalidArgument(path + " is not a regular file");
}

}  // namespace

LocalDirectoryStorage::LocalDirectoryStorage(std::string dir) : dir_(std::move(dir)) {}

Status LocalDirectoryStorage::CheckName(const std::string& name) const {
  if (IsStorageName(name)) return Status::Ok();
  return Status::InvalidArgument("'" + name + "' is not a file name inside " + dir_ +
                                 " (a relative path without '.', '..' or empty parts)");
}

Result<std::unique_ptr<StorageFile>> LocalDirectoryStorage::Open(const std::string& name,
                                                                 FileAccess access) const {
  RETURN_IF_ERROR(CheckName(name));
  std::string path = PathOf(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return NotARegularFile(path);
  }
  MappedFile mapped;
  if (access == FileAccess::kView) {
    Result<MappedFile> map = MappedFile::Map(fd, path);
    if (!map.ok()) {
      ::close(fd);
      return map.status();
    }
    mapped = std::move(map).value();
  }
  return std::unique_ptr<StorageFile>(new LocalFile(fd, std::move(path),
                                                    static_cast<uint64_t>(st.st_size),
                                                    std::move(mapped),
                                                    access == FileAccess::kView));
}

Result<uint64_t> LocalDirectoryStorage::Size(const std::string& name) const {
  RETURN_IF_ERROR(CheckName(name));
  std::string path = PathOf(name);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return NotARegularFile(path);
  return static_cast<uint64_t>(st.st_size);
}

Result<std::vector<std::string>> LocalDirectoryStorage::List(const std::string& dir) const {
  namespace fs = std::filesystem;
  if (!dir.empty()) RETURN_IF_ERROR(CheckName(dir));
  std::string path = dir.empty() ? dir_ : PathOf(dir);
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(path, ec);
  if (ec == std::errc::no_such_file_or_directory) return names;
  if (ec) return ErrnoStatus("list", path, ec.value());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.find(kTemporaryMarker) == std::string::npos &&
        fs::is_regular_file(it->symlink_status(ec))) {
      names.push_back(std::move(name));
    }
  }
  if (ec) return ErrnoStatus("list", path, ec.value());
  std::sort(names.begin(), names.end());
  return names;
}

Status LocalDirectoryStorage::Publish(const std::string& name, std::span<const uint8_t> data,
                                      PublishMode mode) {
  RETURN_IF_ERROR(CheckName(name));
  // Create the missing folders, each made durable in its parent before it is used.
  std::string parent = dir_;
  for (size_t slash = name.find('/'); slash != std::string::npos;
       slash = name.find('/', slash + 1)) {
    std::string folder = PathOf(name.substr(0, slash));
    if (::mkdir(folder.c_str(), 0755) == 0) {
      RETURN_IF_ERROR(SyncDirectory(parent));
    } else if (errno != EEXIST) {
      return ErrnoStatus("create directory", folder, errno);
    }
    parent = folder;
  }
  return WriteFileAtomic(PathOf(name), data, 0644, mode == PublishMode::kReplace);
}

}  // namespace reducto
