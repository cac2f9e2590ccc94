#include "storage/storage.h"

namespace reducto {

bool IsStorageName(const std::string& name) {
  if (name.empty() || name.front() == '/') return false;
  size_t start = 0;
  for (;;) {
    size_t end = name.find('/', start);
    std::string part = name.substr(start, end == std::string::npos ? end : end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (part.find('\0') != std::string::npos || part.find('\\') != std::string::npos) return false;
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

Status Storage::Read(const std::string& name, uint64_t offset, std::span<uint8_t> out) const {
  ASSIGN_OR_RETURN(std::unique_ptr<StorageFile> file, Open(name));
  return file->ReadAt(offset, out);
}

Result<std::string> Storage::ReadSmall(const std::string& name, uint64_t max_bytes) const {
  ASSIGN_OR_RETURN(std::unique_ptr<StorageFile> file, Open(name));
  if (file->size() > max_bytes) {
    return Status::Corrupt(PathOf(name) + " is larger than the " + std::to_string(max_bytes) +
                           " bytes allowed for it");
  }
  std::string text(file->size(), '\0');
  RETURN_IF_ERROR(file->ReadAt(0, {reinterpret_cast<uint8_t*>(text.data()), text.size()}));
  return text;
}

}  // namespace reducto
