// BuildCorpus: chunk the inputs, store each distinct chunk once, index it, write the
// manifest last, and publish the directory with one rename.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "chunking/chunk_reader.h"
#include "corpus/chunk_index.h"
#include "corpus/corpus_format.h"
#include "corpus/manifest.h"
#include "corpus/pack_writer.h"
#include "hashing/weak_key.h"
#include "reducto/corpus.h"
#include "reducto/io.h"
#include "util/file.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;

// Read-ahead per input. Small, because the reader's buffer is allocated (and zeroed)
// per input and a directory may hold many small files; 1 MiB reads are already cheap.
constexpr size_t kInputWindowBytes = 1u << 20;

std::string RandomSuffix() {
  std::random_device random;
  char text[24];
  std::snprintf(text, sizeof text, "%08x%08x", random(), random());
  return text;
}

Status ValidateChunking(const ChunkerParams& params) {
  Status valid = params.Validate();
  if (!valid.ok()) return valid.WithContext("invalid chunking for a corpus");
  if (params.avg_size < kCorpusMinAvgChunk || params.avg_size > kCorpusMaxAvgChunk) {
    return Status::InvalidArgument(
        "average chunk size " + std::to_string(params.avg_size) +
        " is outside 4 KiB..64 KiB, the range allowed for corpora: pass --avg between 4K and 64K");
  }
  return Status::Ok();
}

// out_dir without trailing slashes. InvalidArgument when it names no new directory.
Result<std::string> NormalizeOutput(std::string out_dir) {
  while (out_dir.size() > 1 && out_dir.back() == '/') out_dir.pop_back();
  std::string name = fs::path(out_dir).filename().string();
  if (name.empty() || name == "." || name == ".." || out_dir == "/") {
    return Status::InvalidArgument(
        "'" + out_dir + "' cannot be a corpus directory: name a new directory, e.g. -o corpus");
  }
  std::string parent = fs::path(out_dir).parent_path().string();
  if (parent.empty()) parent = ".";
  struct stat st;
  if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::NotFound("cannot create corpus " + out_dir + ": directory " + parent +
                            " does not exist (create it first)");
  }
  return out_dir;
}

bool IsEmptyDirectory(const std::string& dir) {
  std::error_code ec;
  return fs::is_empty(dir, ec) && !ec;
}

// OK when out_dir may be written: it does not exist, or `overwrite` and it is a corpus
// (has a manifest.json, even a damaged one) or an empty directory. Anything else is
// kept: --force must never delete a user's unrelated directory.
Status CheckOutput(const std::string& out_dir, bool overwrite) {
  struct stat st;
  if (::lstat(out_dir.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::Ok() : ErrnoStatus("inspect", out_dir, errno);
  }
  if (!overwrite) {
    return Status::InvalidArgument(out_dir +
                                   " already exists: pass --force or choose another path");
  }
  bool corpus_like =
      S_ISDIR(st.st_mode) && (::access((out_dir + "/" + kManifestFileName).c_str(), F_OK) == 0 ||
                              IsEmptyDirectory(out_dir));
  if (!corpus_like) {
    return Status::InvalidArgument(out_dir +
                                   " exists and is not a corpus directory: refusing to replace it "
                                   "even with --force; remove it yourself or choose another path");
  }
  return Status::Ok();
}

// ---- inputs ----

struct Input {
  std::string path;  // "-" for stdin.
};

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool valid = false;
};

FileId IdentifyDirectory(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return {};
  return {st.st_dev, st.st_ino, true};
}

// Appends the regular files under `dir` (recursively, symbolic links not followed,
// sockets, FIFOs and devices skipped), sorted byte-wise by path. The directory
// `exclude` (the corpus being replaced, when it lies inside an input) is skipped.
Status ListDirectory(const std::string& dir, const FileId& exclude, std::vector<Input>* out) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return ErrnoStatus("list directory", dir, ec.value());
  std::string current = dir;  // The directory the iterator reads from, for messages.
  while (it != fs::recursive_directory_iterator()) {
    fs::file_status status = it->symlink_status(ec);
    if (ec) return ErrnoStatus("inspect", it->path().string(), ec.value());
    if (fs::is_directory(status)) {
      FileId id = IdentifyDirectory(it->path().string());
      if (exclude.valid && id.valid && id.dev == exclude.dev && id.ino == exclude.ino) {
        it.disable_recursion_pending();
      }
      current = it->path().string();
    } else if (fs::is_regular_file(status)) {
      files.push_back(it->path().string());
    }
    it.increment(ec);
    if (ec) return ErrnoStatus("list directory", current, ec.value());
  }
  std::sort(files.begin(), files.end());  // std::string compares bytes as unsigned char.
  for (std::string& f : files) out->push_back({std::move(f)});
  return Status::Ok();
}

Result<std::vector<Input>> ExpandInputs(const std::vector<std::string>& inputs,
                                        const std::string& out_dir) {
  if (inputs.empty()) {
    return Status::InvalidArgument(
        "no inputs to build a corpus from: pass files, directories or - for stdin");
  }
  FileId exclude = IdentifyDirectory(out_dir);
  std::vector<Input> files;
  bool stdin_seen = false;
  for (const std::string& input : inputs) {
    if (input == "-") {
      if (stdin_seen) {
        return Status::InvalidArgument("stdin (-) is given more than once: pass it at most once");
      }
      stdin_seen = true;
      files.push_back({input});
      continue;
    }
    struct stat st;
    if (::stat(input.c_str(), &st) != 0) return ErrnoStatus("read input", input, errno);
    if (S_ISDIR(st.st_mode)) {
      RETURN_IF_ERROR(ListDirectory(input, exclude, &files));
    } else {
      files.push_back({input});  // Files, and FIFOs such as <(command) named explicitly.
    }
  }
  return files;
}

// ---- the build directory ----

// A directory removed with its contents on destruction, unless released.
class TempDir {
 public:
  static Result<TempDir> Create(const std::string& out_dir) {
    for (int attempt = 0;; ++attempt) {
      std::string path = out_dir + ".tmp-" + RandomSuffix();
      if (::mkdir(path.c_str(), 0755) == 0) return TempDir(path);
      if (errno != EEXIST || attempt == 8) return ErrnoStatus("create directory", path, errno);
    }
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  void Release() { path_.clear(); }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Status MakeDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) return ErrnoStatus("create directory", path, errno);
  return Status::Ok();
}

// Fills one corpus directory: the first pack segment, the index, then the manifest.
class CorpusBuilder {
 public:
  CorpusBuilder(std::string dir, const ChunkerParams& params)
      : dir_(std::move(dir)), params_(params) {}

  Status Start() {
    RETURN_IF_ERROR(MakeDirectory(dir_ + "/" + kPackDirName));
    ASSIGN_OR_RETURN(pack_, PackWriter::Create(dir_ + "/" + SegmentFileName(0), 0));
    ASSIGN_OR_RETURN(index_, ChunkIndexWriter::Create(dir_ + "/" + kIndexDirName));
    return Status::Ok();
  }

  // Each input is chunked on its own: a file's end is always a chunk's end.
  Status AddInput(const Input& input) {
    ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenSource(input.path));
    ChunkReader reader(params_, *source, kInputWindowBytes);
    ChunkView chunk;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader.Next(&chunk));
      if (!more) return Status::Ok();
      RETURN_IF_ERROR(AddChunk(chunk.bytes));
    }
  }

  // Completes the files and writes manifest.json, everything fsynced. Returns the
  // manifest's contents in *manifest.
  Result<CorpusInfo> Finish(std::string* manifest) {
    RETURN_IF_ERROR(pack_->Finish());
    ASSIGN_OR_RETURN(IndexSummary index, index_->Finish());
    index_.reset();
    if (index.entries != unique_chunks_) {
      return Status::Io("the chunk index holds " + std::to_string(index.entries) + " entries but " +
                        std::to_string(unique_chunks_) +
                        " chunks were stored: the build is broken; please report this");
    }
    RETURN_IF_ERROR(SyncDirectory(dir_ + "/" + kPackDirName));
    RETURN_IF_ERROR(SyncDirectory(dir_ + "/" + kIndexDirName));
    CorpusInfo info;
    info.id = NewCorpusId();
    info.created = NowRfc3339();
    info.builder = std::string("reducto ") + REDUCTO_VERSION;
    info.chunking = params_;
    info.segments.push_back({SegmentFileName(0), 0, pack_->size(), pack_->digest()});
    info.input_bytes = input_bytes_;
    info.chunk_count = chunk_count_;
    info.unique_chunks = unique_chunks_;
    info.index_entries = index.entries;
    info.index_digest = index.digest;
    *manifest = SerializeManifest(info);
    RETURN_IF_ERROR(
        WriteFileAtomic(dir_ + "/" + kManifestFileName,
                        {reinterpret_cast<const uint8_t*>(manifest->data()), manifest->size()}));
    return info;
  }

 private:
  Status AddChunk(std::span<const uint8_t> bytes) {
    ++chunk_count_;
    input_bytes_ += bytes.size();
    uint64_t weak_key = WeakKey(bytes);
    ChunkCandidate chunk;
    chunk.digest = Blake3(bytes);
    chunk.length = static_cast<uint32_t>(bytes.size());
    candidates_.clear();
    RETURN_IF_ERROR(index_->Lookup(weak_key, &candidates_));
    for (const ChunkCandidate& c : candidates_) {
      if (c.length == chunk.length && DigestEqual(c.digest, chunk.digest)) return Status::Ok();
    }
    RETURN_IF_ERROR(pack_->Append(bytes, &chunk.address));
    ++unique_chunks_;
    return index_->Add(weak_key, chunk);
  }

  std::string dir_;
  ChunkerParams params_;
  std::unique_ptr<PackWriter> pack_;
  std::unique_ptr<ChunkIndexWriter> index_;
  std::vector<ChunkCandidate> candidates_;
  uint64_t input_bytes_ = 0;
  uint64_t chunk_count_ = 0;
  uint64_t unique_chunks_ = 0;
};

// ---- publishing ----

std::string ParentOf(const std::string& path) {
  std::string parent = fs::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// Swaps `tmp` and an existing `out_dir` atomically when the file system can
// (renameat2 RENAME_EXCHANGE), else moves the old corpus aside first. Afterwards the
// old corpus is at `tmp`, for the caller to delete.
Status ReplaceDirectory(const std::string& tmp, const std::string& out_dir) {
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out_dir.c_str(), RENAME_EXCHANGE) == 0) {
    return Status::Ok();
  }
  if (errno != EINVAL && errno != ENOSYS) return ErrnoStatus("replace", out_dir, errno);
  std::string aside = out_dir + ".old-" + RandomSuffix();
  if (::rename(out_dir.c_str(), aside.c_str()) != 0)
    return ErrnoStatus("move aside", out_dir, errno);
  if (::rename(tmp.c_str(), out_dir.c_str()) != 0) {
    Status s = ErrnoStatus("rename into", out_dir, errno);
    (void)::rename(aside.c_str(), out_dir.c_str());
    return s;
  }
  if (::rename(aside.c_str(), tmp.c_str()) != 0) {
    std::error_code ec;
    fs::remove_all(aside, ec);
  }
  return Status::Ok();
}

// Renames the complete corpus at `tmp` to `out_dir`, never over something that
// CheckOutput() refuses.
Status Publish(TempDir& tmp, const std::string& out_dir, bool overwrite) {
  int rc = ::renameat2(AT_FDCWD, tmp.path().c_str(), AT_FDCWD, out_dir.c_str(), RENAME_NOREPLACE);
  int err = rc == 0 ? 0 : errno;
  if (err == EINVAL || err == ENOSYS) {  // No renameat2 flags on this file system.
    RETURN_IF_ERROR(CheckOutput(out_dir, overwrite));
    if (::access(out_dir.c_str(), F_OK) != 0) {
      rc = ::rename(tmp.path().c_str(), out_dir.c_str());
      err = rc == 0 ? 0 : errno;
    } else {
      err = EEXIST;
    }
  }
  if (err == 0) {
    tmp.Release();
  } else if (err == EEXIST || err == ENOTEMPTY) {
    RETURN_IF_ERROR(CheckOutput(out_dir, overwrite));
    RETURN_IF_ERROR(ReplaceDirectory(tmp.path(), out_dir));  // The old corpus goes with tmp.
  } else {
    return ErrnoStatus("rename into", out_dir, err);
  }
  return SyncDirectory(ParentOf(out_dir));
}

}  // namespace

Result<CorpusInfo> BuildCorpus(const std::vector<std::string>& inputs, const std::string& out_dir,
                               const CorpusBuildOptions& options) {
  RETURN_IF_ERROR(ValidateChunking(options.chunking));
  ASSIGN_OR_RETURN(std::string out, NormalizeOutput(out_dir));
  RETURN_IF_ERROR(CheckOutput(out, options.overwrite));
  ASSIGN_OR_RETURN(std::vector<Input> files, ExpandInputs(inputs, out));
  ASSIGN_OR_RETURN(TempDir tmp, TempDir::Create(out));
  std::string manifest;
  CorpusInfo info;
  {
    CorpusBuilder builder(tmp.path(), options.chunking);
    RETURN_IF_ERROR(builder.Start());
    for (const Input& file : files) RETURN_IF_ERROR(builder.AddInput(file));
    ASSIGN_OR_RETURN(info, builder.Finish(&manifest));
  }
  RETURN_IF_ERROR(Publish(tmp, out, options.overwrite));
  info.path = out;
  info.manifest_digest =
      Blake3({reinterpret_cast<const uint8_t*>(manifest.data()), manifest.size()});
  return info;
}

}  // namespace reducto
