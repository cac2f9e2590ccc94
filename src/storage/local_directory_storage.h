// A Storage over a local directory: files are opened, mapped and read with POSIX calls
// and published through a temporary file, fsync, rename and a directory fsync
// (util/file.h). Opened with FileAccess::kView, a file is memory-mapped whole, and
// DropResidentPages() gives its pages back (MappedFile::DropResidentPages).
//
// Thread safety: as Storage.
#ifndef REDUCTO_STORAGE_LOCAL_DIRECTORY_STORAGE_H_
#define REDUCTO_STORAGE_LOCAL_DIRECTORY_STORAGE_H_

#include <string>

#include "storage/storage.h"

namespace reducto {

class LocalDirectoryStorage final : public Storage {
 public:
  // The files under `dir` (which need not exist yet: Open then says NotFound). Names
  // resolve to "<dir>/<name>"; symbolic links inside are followed, as a path would be.
  explicit LocalDirectoryStorage(std::string dir);

  std::string location() const override { return dir_; }
  Result<std::unique_ptr<StorageFile>> Open(const std::string& name,
                                            FileAccess access = FileAccess::kRanges) const override;
  Result<uint64_t> Size(const std::string& name) const override;
  Result<std::vector<std::string>> List(const std::string& dir) const override;
  // Files are created with mode 0644 (before the umask); new folders 0755, each synced
  // into its parent.
  Status Publish(const std::string& name, std::span<const uint8_t> data,
                 PublishMode mode = PublishMode::kReplace) override;

 private:
  Status CheckName(const std::string& name) const;
  std::string dir_;
};

}  // namespace reducto

#endif  // REDUCTO_STORAGE_LOCAL_DIRECTORY_STORAGE_H_
