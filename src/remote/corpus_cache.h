// The corpus cache on disk (docs/repositories.md, "The cache"): per corpus a directory
// with its manifest, signatures, piece tables and, per pack segment, a sparse file of the
// segment's size and a record of which pieces it holds verified. Many processes share
// one cache: fetches into a corpus take its fetch lock, users hold its in-use lock
// (shared) so that eviction passes it by.
#ifndef REDUCTO_REMOTE_CORPUS_CACHE_H_
#define REDUCTO_REMOTE_CORPUS_CACHE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "reducto/status.h"
#include "util/file.h"

namespace reducto {

// <cache>/corpora/<id>.
std::string CachedCorpusDir(const std::string& cache_dir, const std::string& id);

// A flock(2) on a lock file, created when missing; released on destruction.
class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  // Waits for the lock unless `wait` is false: then Unavailable when another holds it.
  static Result<FileLock> Acquire(const std::string& path, Mode mode, bool wait);
  FileLock() = default;
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  int fd_ = -1;
};

// Creates `dir` and its parents (mode 0700 for those it creates).
Status MakeDirectories(const std::string& dir);

// A pack segment in the cache: `path` (sparse, exactly the segment's size) and
// `path`.have, one byte per piece, 1 when the piece is held and was verified when it
// was stored. Data is made durable before its byte is set, so a crash leaves at most a
// piece held but not marked (fetched again), never one marked but not held; a piece
// marked but damaged later is found by the digest check of its first use in a process.
class CachedSegment {
 public:
  // Opens or creates the files. A segment file of another size (truncated, damaged) is
  // recreated empty, with every mark cleared.
  static Result<std::unique_ptr<CachedSegment>> Open(const std::string& path, uint64_t size,
                                                     uint64_t pieces);
  ~CachedSegment();
  CachedSegment(const CachedSegment&) = delete;
  CachedSegment& operator=(const CachedSegment&) = delete;

  // The segment's bytes, mapped; pieces not held read as zeros.
  std::span<const uint8_t> bytes() const { return map_.bytes(); }
  const std::string& path() const { return path_; }

  // Whether the record says piece `i` is held (read from the file: another process may
  // have stored it since).
  Result<bool> Marked(uint64_t i) const;
  // Writes `data` at `offset` without marking anything (a legacy segment's pieces wait
  // for the whole segment's digest).
  Status Write(uint64_t offset, std::span<const uint8_t> data) const;
  // Makes what was written durable, then sets the marks of `pieces`: two syncs in all.
  Status Mark(std::span<const uint64_t> pieces) const;
  Status Unmark(uint64_t i) const;

 private:
  CachedSegment(std::string path, int data_fd, int have_fd, MappedFile map);
  std::string path_;
  int data_fd_ = -1;
  int have_fd_ = -1;
  MappedFile map_;
};

}  // namespace reducto

#endif  // REDUCTO_REMOTE_CORPUS_CACHE_H_
