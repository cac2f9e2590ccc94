#include "storage/memory_storage.h"

#include <algorithm>
#include <cstring>

namespace reducto {
namespace {

class MemoryFile final : public StorageFile {
 public:
  MemoryFile(std::shared_ptr<const std::vector<uint8_t>> bytes, std::string path, bool view,
             std::shared_ptr<std::atomic<uint64_t>> bytes_read)
      : bytes_(std::move(bytes)), path_(std::move(path)), view_(view),
        bytes_read_(std::move(bytes_read)) {}

  uint64_t size() const override { return bytes_->size(); }

  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    const uint64_t size = bytes_->size();
    if (offset > size || out.size() > size - offset) {
      return Status::InvalidArgument("cannot read " + std::to_string(out.size()) +
                                     " bytes at offset " + std::to_string(offset) + " of " +
                                     path_ + ", which has " + std::to_string(size));
    }
    if (!out.empty()) std::memcpy(out.data(), bytes_->data() + offset, out.size());
    bytes_read_->fetch_add(out.size(), std::memory_order_relaxed);
    return Status::Ok();
  }

  std::optional<std::span<const uint8_t>> view() const override {
    if (!view_) return std::nullopt;
    return std::span<const uint8_t>(*bytes_);
  }

 private:
  std::shared_ptr<const std::vector<uint8_t>> bytes_;
  std::string path_;
  bool view_;
  std::shared_ptr<std::atomic<uint64_t>> bytes_read_;
};

}  // namespace

MemoryStorage::MemoryStorage(std::string label, Views views)
    : label_(std::move(label)), views_(views),
      bytes_read_(std::make_shared<std::atomic<uint64_t>>(0)) {}

Result<MemoryStorage::Bytes> MemoryStorage::Find(const std::string& name) const {
  if (!IsStorageName(name)) {
    return Status::InvalidArgument("'" + name + "' is not a file name inside " + location());
  }
  std::lock_guard lock(mutex_);
  auto it = files_.find(name);
  if (it != files_.end()) return it->second;
  // A name that is a folder of other files is not a file.
  auto below = files_.lower_bound(name + "/");
  if (below != files_.end() && below->first.starts_with(name + "/")) {
    return Status::InvalidArgument(PathOf(name) + " is not a regular file");
  }
  return Status::NotFound("cannot open " + PathOf(name) + ": no such file (check the path)");
}

Result<std::unique_ptr<StorageFile>> MemoryStorage::Open(const std::string& name,
                                                         FileAccess access) const {
  ASSIGN_OR_RETURN(Bytes bytes, Find(name));
  bool view = access == FileAccess::kView && views_ == Views::kGiven;
  return std::unique_ptr<StorageFile>(
      new MemoryFile(std::move(bytes), PathOf(name), view, bytes_read_));
}

Result<uint64_t> MemoryStorage::Size(const std::string& name) const {
  ASSIGN_OR_RETURN(Bytes bytes, Find(name));
  return static_cast<uint64_t>(bytes->size());
}

Result<std::vector<std::string>> MemoryStorage::List(const std::string& dir) const {
  if (!dir.empty() && !IsStorageName(dir)) {
    return Status::InvalidArgument("'" + dir + "' is not a folder name inside " + location());
  }
  const std::string prefix = dir.empty() ? "" : dir + "/";
  std::vector<std::string> names;
  std::lock_guard lock(mutex_);
  for (auto it = files_.lower_bound(prefix); it != files_.end(); ++it) {
    if (!it->first.starts_with(prefix)) break;
    std::string rest = it->first.substr(prefix.size());
    if (rest.find('/') == std::string::npos) names.push_back(std::move(rest));
  }
  return names;  // The map's order is byte-wise.
}

Status MemoryStorage::Publish(const std::string& name, std::span<const uint8_t> data,
                              PublishMode mode) {
  if (!IsStorageName(name)) {
    return Status::InvalidArgument("'" + name + "' is not a file name inside " + location());
  }
  auto bytes = std::make_shared<const std::vector<uint8_t>>(data.begin(), data.end());
  std::lock_guard lock(mutex_);
  auto [it, inserted] = files_.try_emplace(name, bytes);
  if (!inserted) {
    if (mode == PublishMode::kNoReplace) {
      return Status::InvalidArgument(PathOf(name) +
                                     " already exists: pass --force or choose another name");
    }
    it->second = std::move(bytes);
  }
  return Status::Ok();
}

uint64_t MemoryStorage::bytes_read() const { return bytes_read_->load(); }

}  // namespace reducto
