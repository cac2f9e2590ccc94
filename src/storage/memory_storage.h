// A Storage held in memory, for tests (LevelDB's in-memory Env): a corpus copied into it
// opens and reads as from its directory. It can withhold views, so that a test reads
// everything through ranged reads, as from a storage that cannot map (HTTP).
//
// Thread safety: as Storage.
#ifndef REDUCTO_STORAGE_MEMORY_STORAGE_H_
#define REDUCTO_STORAGE_MEMORY_STORAGE_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/storage.h"

namespace reducto {

class MemoryStorage final : public Storage {
 public:
  // Whether files opened with FileAccess::kView give their bytes as view().
  enum class Views { kGiven, kWithheld };

  // An empty storage; `label` names it in messages ("memory:<label>").
  explicit MemoryStorage(std::string label = "storage", Views views = Views::kGiven);

  std::string location() const override { return "memory:" + label_; }
  // An opened file keeps the bytes it was opened with, whatever is published later.
  Result<std::unique_ptr<StorageFile>> Open(const std::string& name,
                                            FileAccess access = FileAccess::kRanges) const override;
  Result<uint64_t> Size(const std::string& name) const override;
  Result<std::vector<std::string>> List(const std::string& dir) const override;
  Status Publish(const std::string& name, std::span<const uint8_t> data,
                 PublishMode mode = PublishMode::kReplace) override;

  // Bytes read through ReadAt so far, by every file this storage opened (views are not
  // counted).
  uint64_t bytes_read() const;

 private:
  using Bytes = std::shared_ptr<const std::vector<uint8_t>>;
  Result<Bytes> Find(const std::string& name) const;

  std::string label_;
  Views views_;
  mutable std::mutex mutex_;
  std::map<std::string, Bytes> files_;  // Guarded by mutex_.
  std::shared_ptr<std::atomic<uint64_t>> bytes_read_;
};

}  // namespace reducto

#endif  // REDUCTO_STORAGE_MEMORY_STORAGE_H_
