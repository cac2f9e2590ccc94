// PublishCorpus: lay a corpus and its ancestors out in a repository directory
// (docs/repositories.md), each corpus staged under corpora/.tmp-<id>-<random> and
// renamed into place complete.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "corpus/corpus_format.h"
#include "fetch/http_fetch.h"
#include "reducto/corpus.h"
#include "reducto/repository.h"
#include "repository/packed_pieces.h"
#include "repository/piece_table.h"
#include "util/file.h"
#include "util/interrupt.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;

constexpr char kCorporaDirName[] = "corpora";
constexpr char kRepublish[] = ": remove that directory from the repository and publish again";

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool IsUrl(const std::string& where) {
  return where.rfind("http://", 0) == 0 || where.rfind("https://", 0) == 0;
}

std::string RandomSuffix() {
  char text[24];
  std::snprintf(text, sizeof text, "%08x%08x", randombytes_random(), randombytes_random());
  return text;
}

Status MakeDirectoryIfMissing(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return Status::Ok();
  return ErrnoStatus("create directory", path, errno);
}

// `path` is a directory, not a symbolic link to one: a repository is never followed
// out of itself.
Status CheckRealDirectory(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
  if (S_ISLNK(st.st_mode)) {
    return Status::InvalidArgument(path + " is a symbolic link: a repository's directories are "
                                   "never followed; publish to a real directory");
  }
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument(path + " is not a directory");
  return Status::Ok();
}

// A new file with `data`, fsynced. Never replaces or follows anything.
Status WriteNewFile(const std::string& path, std::span<const uint8_t> data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", path, errno);
  Status s = WriteAll(fd, data, path);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("fsync", path, errno);
  ::close(fd);
  return s;
}

// The manifest digest of the corpus published at `path` (manifest.json read without
// following a link).
Result<Digest> PublishedManifestDigest(const std::string& path) {
  const std::string manifest = path + "/" + kManifestFileName;
  int fd = ::open(manifest.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Status::Integrity(path + " holds no readable " + kManifestFileName + " (" +
                             std::strerror(errno) + ")" + kRepublish);
  }
  Result<MappedFile> bytes = MappedFile::Map(fd, manifest);
  ::close(fd);
  if (!bytes.ok()) return bytes.status();
  return Blake3(bytes->bytes());
}

// Whether `info` is at `target` already: false when nothing is there; Integrity when
// something else is.
Result<bool> AlreadyPublished(const std::string& target, const CorpusInfo& info) {
  struct stat st;
  if (::lstat(target.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoStatus("stat", target, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::Integrity(target + " is not a directory (" +
                             (S_ISLNK(st.st_mode) ? "a symbolic link" : "a file") +
                             "), where corpus " + info.id + " belongs" + kRepublish);
  }
  ASSIGN_OR_RETURN(Digest digest, PublishedManifestDigest(target));
  if (!DigestEqual(digest, info.manifest_digest)) {
    return Status::Integrity("the repository holds corpus " + info.id + " at " + target +
                             " with manifest blake3 " + ToHex(digest) + ", but " + info.path +
                             " has manifest blake3 " + ToHex(info.manifest_digest) +
                             ": one of them was edited or rebuilt under the same id" + kRepublish);
  }
  return true;
}

// A staging directory, removed unless renamed into place (also on SIGINT, SIGTERM,
// SIGHUP, through the interrupt handler).
class Staging {
 public:
  explicit Staging(std::string dir) : dir_(std::move(dir)), slot_(RegisterInterruptDirectory(dir_)) {}
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  ~Staging() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
    UnregisterInterruptDirectory(slot_);
  }
  const std::string& dir() const { return dir_; }
  // Renames the directory to `target`; returns the errno of RenameNoReplace.
  int RenameTo(const std::string& target) {
    int err = RenameNoReplace(dir_, target);
    if (err == 0) {
      UnregisterInterruptDirectory(slot_);
      slot_ = -1;
      dir_.clear();
    }
    return err;
  }

 private:
  std::string dir_;
  int slot_;
};

// Writes the files of one corpus into a staging directory, counting them.
class CorpusLayout {
 public:
  CorpusLayout(const CorpusInfo& info, std::string staging, const PublishOptions& options,
               PublishedCorpus* report)
      : info_(info), staging_(std::move(staging)), options_(options), report_(report) {}

  Status Write() {
    RETURN_IF_ERROR(WriteManifest());
    RETURN_IF_ERROR(CopyDirectory(kSignaturesDirName, kSignatureSuffix));
    RETURN_IF_ERROR(CopyDirectory(kIndexDirName, ""));
    for (size_t i = info_.segment_owners.size(); i < info_.segments.size(); ++i) {
      RETURN_IF_ERROR(WriteSegment(info_.segments[i]));
    }
    return SyncAll();
  }

 private:
  std::string Source(const std::string& name) const { return info_.path + "/" + name; }

  Status Add(const std::string& name, std::span<const uint8_t> data) {
    const std::string path = staging_ + "/" + name;
    const std::string parent = fs::path(path).parent_path().string();
    if (parent != staging_) {
      RETURN_IF_ERROR(MakeDirectoryIfMissing(parent));
      dirs_.push_back(parent);
    }
    RETURN_IF_ERROR(WriteNewFile(path, data));
    ++report_->files;
    report_->bytes += data.size();
    return Status::Ok();
  }

  // manifest.json exactly as its digest says: a corpus changed since it was read is not
  // published.
  Status WriteManifest() {
    ASSIGN_OR_RETURN(std::string bytes, ReadSmallFile(Source(kManifestFileName), kMaxManifestBytes));
    if (!DigestEqual(Blake3(Bytes(bytes)), info_.manifest_digest)) {
      return Status::Integrity(Source(kManifestFileName) +
                               " changed while it was being published: publish again");
    }
    return Add(kManifestFileName, Bytes(bytes));
  }

  // The regular files of the corpus's directory `dir` whose names end in `suffix`.
  Status CopyDirectory(const std::string& dir, const std::string& suffix) {
    std::error_code ec;
    fs::directory_iterator it(Source(dir), ec);
    if (ec == std::errc::no_such_file_or_directory) return Status::Ok();
    if (ec) return Status::Io("cannot list " + Source(dir) + ": " + ec.message());
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : it) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_regular_file(ec) || entry.is_symlink(ec)) continue;
      if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      names.push_back(name);
    }
    for (const std::string& name : names) RETURN_IF_ERROR(CopyFile(dir + "/" + name, nullptr));
    return Status::Ok();
  }

  // Copies the corpus's file `name`; with `expected`, its BLAKE3 must be that.
  Status CopyFile(const std::string& name, const Digest* expected) {
    ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(Source(name)));
    if (expected != nullptr && !DigestEqual(Blake3(file.bytes()), *expected)) {
      return Status::Integrity(Source(name) + " does not match its BLAKE3 in the manifest: "
                               "the corpus is damaged; rebuild or re-fetch it");
    }
    return Add(name, file.bytes());
  }

  Status WriteSegment(const CorpusSegment& segment) {
    ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(Source(segment.file)));
    if (file.size() != segment.size) {
      return Status::Corrupt("pack segment " + Source(segment.file) + " is " +
                             std::to_string(file.size()) + " bytes, the manifest says " +
                             std::to_string(segment.size));
    }
    RETURN_IF_ERROR(CheckSegment(segment, file.bytes()));
    if (segment.fine) RETURN_IF_ERROR(CopyFile(segment.fine->file, &segment.fine->blake3));
    const uint32_t piece_size = segment.pieces ? segment.pieces->piece_size : kDefaultPieceSize;
    std::string pz, pzi;
    RETURN_IF_ERROR(PackPieces(file.bytes(), piece_size, options_.level, Threads(), &pz, &pzi));
    RETURN_IF_ERROR(Add(PackedPiecesName(segment.file), Bytes(pz)));
    return Add(PackedPiecesIndexName(segment.file), Bytes(pzi));
  }

  // The segment against its piece table (copied too) when it has one, else against its
  // BLAKE3: a repository never serves bytes that would fail a receiver's check.
  Status CheckSegment(const CorpusSegment& segment, std::span<const uint8_t> bytes) {
    if (!segment.pieces) {
      if (DigestEqual(Blake3(bytes), segment.blake3)) return Status::Ok();
      return Status::Integrity("pack segment " + Source(segment.file) +
                               " does not match its BLAKE3 in the manifest: the corpus is "
                               "damaged; rebuild or re-fetch it");
    }
    ASSIGN_OR_RETURN(MappedFile table_file, MappedFile::Open(Source(segment.pieces->file)));
    if (!DigestEqual(Blake3(table_file.bytes()), segment.pieces->blake3)) {
      return Status::Integrity("piece table " + Source(segment.pieces->file) +
                               " does not match its BLAKE3 in the manifest: the corpus is "
                               "damaged; rebuild or re-fetch it");
    }
    Result<PieceTable> table =
        ParsePieceTable(table_file.bytes(), bytes.size(), Source(segment.pieces->file));
    if (!table.ok()) return Status::Integrity(table.status().message());
    const uint64_t bad = FirstBadPiece(*table, bytes);
    if (bad < table->count()) {
      return Status::Integrity("pack segment " + Source(segment.file) + ": piece " +
                               std::to_string(bad) + " does not match its BLAKE3 in " +
                               Source(segment.pieces->file) +
                               ": the corpus is damaged; rebuild or re-fetch it");
    }
    return Add(segment.pieces->file, table_file.bytes());
  }

  int Threads() const {
    if (options_.threads > 0) return options_.threads;
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  Status SyncAll() {
    for (const std::string& dir : dirs_) RETURN_IF_ERROR(SyncDirectory(dir));
    return SyncDirectory(staging_);
  }

  const CorpusInfo& info_;
  std::string staging_;
  const PublishOptions& options_;
  PublishedCorpus* report_;
  std::vector<std::string> dirs_;
};

// The repository's corpora/ directory, created when missing (the repository too).
Result<std::string> CorporaDirectory(std::string repository) {
  while (repository.size() > 1 && repository.back() == '/') repository.pop_back();
  RETURN_IF_ERROR(MakeDirectoryIfMissing(repository));
  RETURN_IF_ERROR(CheckRealDirectory(repository));
  const std::string corpora = repository + "/" + kCorporaDirName;
  RETURN_IF_ERROR(MakeDirectoryIfMissing(corpora));
  RETURN_IF_ERROR(CheckRealDirectory(corpora));
  return corpora;
}

Status PublishOne(const CorpusInfo& info, const std::string& corpora,
                  const PublishOptions& options, PublishedCorpus* report) {
  report->id = info.id;
  report->source = info.path;
  report->path = corpora + "/" + info.id;
  report->manifest_digest = info.manifest_digest;
  ASSIGN_OR_RETURN(bool there, AlreadyPublished(report->path, info));
  if (there) return Status::Ok();
  Staging staging(corpora + "/.tmp-" + info.id + "-" + RandomSuffix());
  if (::mkdir(staging.dir().c_str(), 0755) != 0) {
    return ErrnoStatus("create directory", staging.dir(), errno);
  }
  RETURN_IF_ERROR(CorpusLayout(info, staging.dir(), options, report).Write());
  const int err = staging.RenameTo(report->path);
  if (err == EEXIST || err == ENOTEMPTY) {
    // Another publisher was faster: fine if it published the same corpus.
    report->files = report->bytes = 0;
    ASSIGN_OR_RETURN(there, AlreadyPublished(report->path, info));
    return Status::Ok();
  }
  if (err != 0) return ErrnoStatus("rename into place", report->path, err);
  report->added = true;
  return SyncDirectory(corpora);
}

}  // namespace

namespace {

// The files of the directory `dir`, relative to it, sorted, manifest.json last (a
// receiver that finds the manifest finds everything it names).
Result<std::vector<std::string>> FilesToUpload(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(fs::relative(it->path(), dir).string());
  }
  if (ec) return ErrnoStatus("list", dir, ec.value());
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(a == kManifestFileName, a) < std::make_pair(b == kManifestFileName, b);
  });
  return files;
}

// Uploads corpus `report.id` from the staging repository `staged` with PUT, unless the
// server has it already (with the same manifest: nothing to do; another: Integrity).
Status UploadCorpus(HttpFetcher& fetcher, const Remote& remote, const std::string& staged,
                    PublishedCorpus* report) {
  const std::string prefix = std::string(kCorporaDirName) + "/" + report->id + "/";
  Result<std::string> there = fetcher.FetchWhole(remote, prefix + kManifestFileName, 16u << 20);
  if (there.ok()) {
    if (!DigestEqual(Blake3(Bytes(*there)), report->manifest_digest)) {
      return Status::Integrity(remote.base_url + "/" + prefix + kManifestFileName +
                               " is another manifest for corpus " + report->id + kRepublish);
    }
    report->added = false;
    report->files = report->bytes = 0;
    report->path = remote.base_url + "/" + prefix;
    return Status::Ok();
  }
  if (there.status().code() != StatusCode::kNotFound) return there.status();
  const std::string dir = staged + "/" + prefix;
  ASSIGN_OR_RETURN(std::vector<std::string> files, FilesToUpload(dir));
  report->files = report->bytes = 0;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(MappedFile data, MappedFile::Open(dir + file));
    RETURN_IF_ERROR(fetcher.Put(remote, prefix + file, data.bytes()));
    ++report->files;
    report->bytes += data.size();
  }
  report->added = true;
  report->path = remote.base_url + "/" + prefix;
  return Status::Ok();
}

// Publishing to a server: staged in a local repository, then uploaded with PUT, each
// corpus's manifest last; corpora the server holds already are left alone.
Result<PublishResult> PublishOverHttp(const std::string& corpus_dir, const std::string& url,
                                      const PublishOptions& options) {
  const char* tmp = std::getenv("TMPDIR");
  std::string staged = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                       "/reducto-publish-" + RandomSuffix();
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{staged};
  ASSIGN_OR_RETURN(PublishResult result, PublishCorpus(corpus_dir, staged, options));
  Remote remote;
  remote.base_url = url;
  while (!remote.base_url.empty() && remote.base_url.back() == '/') remote.base_url.pop_back();
  remote.bearer_token = options.token;
  remote.ca_file = options.ca_file;
  HttpFetcher fetcher(1);
  for (PublishedCorpus& report : result.corpora) {
    RETURN_IF_ERROR(UploadCorpus(fetcher, remote, staged, &report));
  }
  return result;
}

}  // namespace

Result<PublishResult> PublishCorpus(const std::string& corpus_dir, const std::string& repository,
                                    const PublishOptions& options) {
  if (IsUrl(repository)) return PublishOverHttp(corpus_dir, repository, options);
  if (options.level < ZSTD_minCLevel() || options.level > ZSTD_maxCLevel()) {
    return Status::InvalidArgument("zstd level " + std::to_string(options.level) +
                                   " is out of range: pass a level from 1 to " +
                                   std::to_string(ZSTD_maxCLevel()));
  }
  ASSIGN_OR_RETURN(std::vector<CorpusInfo> chain, ReadCorpusChain(corpus_dir));
  for (const CorpusInfo& member : chain) {
    if (member.is_encrypted()) {
      return Status::Unavailable("corpus " + member.id + " at " + member.path +
                                 " is encrypted, and this reducto does not publish encrypted "
                                 "corpora to a repository: copy the corpus directory itself");
    }
  }
  ASSIGN_OR_RETURN(std::string corpora, CorporaDirectory(repository));
  PublishResult result;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    PublishedCorpus report;
    RETURN_IF_ERROR(PublishOne(*it, corpora, options, &report));
    result.corpora.push_back(std::move(report));
  }
  return result;
}

}  // namespace reducto
