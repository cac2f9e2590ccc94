// Where a corpus's files live, reached by name: ranged reads, sizes, listing, and
// atomic publication of whole files. A local directory (LocalDirectoryStorage) and
// memory (MemoryStorage, for tests) implement it; an HTTP repository can, because a
// reader never needs more than these operations (docs/design.md, "Storage").
//
// Anchors: restic's backend (`Load(handle, length, offset)`, `Stat`, `List`, `Save`),
// LevelDB's `Env` (random-access files, an in-memory Env for tests). Behaviour such as
// retrying, caching or verifying fetched ranges belongs in a Storage that wraps
// another (a decorator), not inside each implementation.
//
// Names are relative paths with '/' separators ("manifest.json", "pack/000000.seg");
// every method refuses any other name ("..", ".", an empty component, a leading '/',
// a backslash or NUL) with InvalidArgument.
//
// This header uses only the public `reducto/status.h` and the standard library, so
// that it can become a public (experimental) header.
//
// Thread safety: every method of a Storage and of a StorageFile may be called from
// many threads at once.
#ifndef REDUCTO_STORAGE_STORAGE_H_
#define REDUCTO_STORAGE_STORAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "reducto/status.h"

namespace reducto {

// One opened file of a storage. It keeps reading the file that was opened even when its
// name is replaced or removed meanwhile (a local file stays open; a remote one would pin
// the version it saw), so that a reader that opened a corpus finishes with that corpus.
// It may outlive the Storage that opened it.
class StorageFile {
 public:
  virtual ~StorageFile() = default;

  // The file's size in bytes, as opened.
  virtual uint64_t size() const = 0;

  // Reads exactly out.size() bytes at `offset` into `out`. InvalidArgument when the
  // range [offset, offset + out.size()) is not inside the file (nothing is read); Io
  // when the read fails. Reading 0 bytes at size() is fine.
  virtual Status ReadAt(uint64_t offset, std::span<uint8_t> out) const = 0;

  // The whole file in memory without a copy, valid while this object lives, when the
  // file was opened with FileAccess::kView and the storage can give one (a local file:
  // mapped; memory: its own bytes). nullopt otherwise: read it with ReadAt.
  virtual std::optional<std::span<const uint8_t>> view() const { return std::nullopt; }

  // Gives back the memory that view() holds in this process where the storage can get
  // it again on the next access (a mapped file's pages: they stay in the kernel's page
  // cache). view() stays valid. Safe while other threads read the view. No-op otherwise.
  virtual void DropResidentPages() const {}
};

// How an opened file is going to be read.
enum class FileAccess {
  kRanges,  // Only through ReadAt.
  kView,    // Mostly through view(): a storage that can map or hold the file whole does.
};

// How Publish treats an existing file of the same name.
enum class PublishMode {
  kReplace,    // Atomically replaced: readers see the old file or the new one.
  kNoReplace,  // Left alone; the publication fails with InvalidArgument ("exists").
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Where the storage is, for messages: a directory, a URL, "memory:<label>".
  virtual std::string location() const = 0;
  // `name` as a user would find it ("<location>/<name>"), for messages.
  std::string PathOf(const std::string& name) const { return location() + "/" + name; }

  // Opens `name` for reading. NotFound when it does not exist; InvalidArgument when it
  // is not a regular file (a directory, a device); Permission / Io as the storage says.
  virtual Result<std::unique_ptr<StorageFile>> Open(const std::string& name,
                                                    FileAccess access = FileAccess::kRanges) const = 0;

  // The size of `name`. Errors as Open().
  virtual Result<uint64_t> Size(const std::string& name) const = 0;

  // Reads exactly out.size() bytes of `name` at `offset` (restic's Load): Open + ReadAt.
  // Errors as Open() and StorageFile::ReadAt().
  Status Read(const std::string& name, uint64_t offset, std::span<uint8_t> out) const;

  // The whole of `name`, when it has at most `max_bytes` (Corrupt, naming it, when it
  // is larger). Errors as Open().
  Result<std::string> ReadSmall(const std::string& name, uint64_t max_bytes) const;

  // The names of the regular files directly inside the folder `dir` ("" for the top),
  // without the folder ("000000.seg"), sorted byte-wise. Folders, links and files a
  // publication is writing are not listed. A folder that does not exist holds nothing
  // (object stores have no folders).
  virtual Result<std::vector<std::string>> List(const std::string& dir) const = 0;

  // Publishes `data` as `name` atomically: written under a temporary name, made durable,
  // then renamed into place, creating missing folders; a reader sees the old file (or
  // none) or the new one, never a part. With kNoReplace an existing `name` is kept and
  // the result is InvalidArgument (message: "... already exists ...").
  virtual Status Publish(const std::string& name, std::span<const uint8_t> data,
                         PublishMode mode = PublishMode::kReplace) = 0;
};

// True when `name` is a name a Storage accepts (see the top of this file).
bool IsStorageName(const std::string& name);

}  // namespace reducto

#endif  // REDUCTO_STORAGE_STORAGE_H_
