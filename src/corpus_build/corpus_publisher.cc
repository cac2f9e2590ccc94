#include "corpus_build/corpus_publisher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <sodium.h>

#include "corpus/corpus_format.h"
#include "corpus/signatures.h"
#include "util/file.h"
#include "util/interrupt.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;

std::string RandomSuffix() {
  char text[24];
  std::snprintf(text, sizeof text, "%08x%08x", randombytes_random(), randombytes_random());
  return text;
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
// CheckOutput() refuses. Sets *published when `tmp` no longer holds the new corpus
// (it may then hold the old one, for the caller to delete).
Status RenameIntoPlace(const std::string& tmp, const std::string& out_dir, bool overwrite,
                       bool* published) {
  int rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out_dir.c_str(), RENAME_NOREPLACE);
  int err = rc == 0 ? 0 : errno;
  if (err == EINVAL || err == ENOSYS) {  // No renameat2 flags on this file system.
    RETURN_IF_ERROR(CheckOutput(out_dir, overwrite));
    if (::access(out_dir.c_str(), F_OK) != 0) {
      rc = ::rename(tmp.c_str(), out_dir.c_str());
      err = rc == 0 ? 0 : errno;
    } else {
      err = EEXIST;
    }
  }
  if (err == EEXIST || err == ENOTEMPTY) {
    RETURN_IF_ERROR(CheckOutput(out_dir, overwrite));
    RETURN_IF_ERROR(ReplaceDirectory(tmp, out_dir));  // The old corpus goes to tmp.
  } else if (err != 0) {
    return ErrnoStatus("rename into", out_dir, err);
  }
  *published = true;
  return SyncDirectory(ParentOf(out_dir));
}

}  // namespace

Result<std::string> CheckCorpusDestination(const std::string& out_dir, bool overwrite) {
  ASSIGN_OR_RETURN(std::string out, NormalizeOutput(out_dir));
  RETURN_IF_ERROR(CheckOutput(out, overwrite));
  return out;
}

Result<CorpusStaging> CorpusStaging::Create(const std::string& out_dir, bool overwrite) {
  for (int attempt = 0;; ++attempt) {
    std::string path = out_dir + ".tmp-" + RandomSuffix();
    if (::mkdir(path.c_str(), 0755) == 0) return CorpusStaging(path, out_dir, overwrite);
    if (errno != EEXIST || attempt == 8) return ErrnoStatus("create directory", path, errno);
  }
}

CorpusStaging::CorpusStaging(std::string dir, std::string out_dir, bool overwrite)
    : dir_(std::move(dir)),
      out_dir_(std::move(out_dir)),
      overwrite_(overwrite),
      interrupt_slot_(RegisterInterruptDirectory(dir_)) {}

CorpusStaging::CorpusStaging(CorpusStaging&& other) noexcept
    : dir_(std::move(other.dir_)),
      out_dir_(std::move(other.out_dir_)),
      overwrite_(other.overwrite_),
      interrupt_slot_(other.interrupt_slot_) {
  other.dir_.clear();
  other.interrupt_slot_ = -1;
}

CorpusStaging::~CorpusStaging() {
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
  UnregisterInterruptDirectory(interrupt_slot_);
}

Result<CorpusInfo> CorpusStaging::Publish(const std::vector<SecretKey>& sign_keys) {
  ASSIGN_OR_RETURN(CorpusInfo info, ReadCorpusInfo(dir_));
  for (const SecretKey& key : sign_keys) {
    RETURN_IF_ERROR(WriteCorpusSignature(dir_, info, key).status());
  }
  bool published = false;
  Status renamed = RenameIntoPlace(dir_, out_dir_, overwrite_, &published);
  if (published) {
    // dir_ now holds the replaced corpus, if any: delete it (the destructor would too,
    // but a failed sync must not leave it behind either).
    // It stays registered with the interrupt handler until deleted: an interruption
    // meanwhile deletes it too, and never the corpus just published.
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
    UnregisterInterruptDirectory(interrupt_slot_);
    interrupt_slot_ = -1;
  }
  RETURN_IF_ERROR(renamed);
  info.path = out_dir_;
  return info;
}

}  // namespace reducto
