// DeleteCorpus and CollectGarbage (reducto/retention.h).
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <set>
#include <vector>

#include "corpus/corpus_format.h"
#include "crypto/corpus_keys.h"
#include "reducto/corpus.h"
#include "reducto/retention.h"
#include "util/file.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;

constexpr char kUsageSuffix[] = ".usage";

// Overwrites the regular file at `path` with random bytes, syncs it and unlinks it; a
// file with other hard links is only unlinked. Adds to *report.
Status EraseFile(const std::string& path, CorpusDeleteReport* report) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus("inspect", path, errno);
  if (S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_size > 0) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open for erasing", path, errno);
    std::vector<uint8_t> noise(1u << 20);
    uint64_t left = static_cast<uint64_t>(st.st_size);
    while (left > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, noise.size()));
      randombytes_buf(noise.data(), n);
      ssize_t w = ::write(fd, noise.data(), n);
      if (w <= 0) {
        int err = errno;
        ::close(fd);
        return ErrnoStatus("overwrite", path, err);
      }
      left -= static_cast<uint64_t>(w);
    }
    int synced = ::fdatasync(fd);
    int err = errno;
    ::close(fd);
    if (synced != 0) return ErrnoStatus("sync", path, err);
    report->bytes += static_cast<uint64_t>(st.st_size);
  } else if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
    ++report->linked_files;
  }
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("remove", path, errno);
  ++report->files;
  return Status::Ok();
}

// Erases every file below `dir` (depth first; an encrypted corpus's data-key before
// the rest), then removes the directories.
Status EraseTree(const std::string& dir, CorpusDeleteReport* report) {
  std::error_code ec;
  const std::string key = dir + "/" + kDataKeyFileName;
  if (fs::is_regular_file(key, ec)) RETURN_IF_ERROR(EraseFile(key, report));
  std::vector<std::string> files, dirs;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    (it->is_directory(ec) && !it->is_symlink(ec) ? dirs : files).push_back(it->path().string());
  }
  if (ec) return ErrnoStatus("list", dir, ec.value());
  for (const std::string& file : files) RETURN_IF_ERROR(EraseFile(file, report));
  std::sort(dirs.rbegin(), dirs.rend());  // Children before their parents.
  dirs.push_back(dir);
  for (const std::string& d : dirs) {
    if (::rmdir(d.c_str()) != 0) return ErrnoStatus("remove directory", d, errno);
  }
  return Status::Ok();
}

std::string StoreOfDir(const std::string& dir) {
  std::string parent = fs::path(dir).lexically_normal().parent_path().string();
  return parent.empty() ? "." : parent;
}

// The corpora of the store holding `info` whose parent it is.
std::vector<std::string> Dependents(const CorpusInfo& info) {
  std::vector<std::string> out;
  auto corpora = ListCorpora(StoreOfDir(info.path));
  if (!corpora.ok()) return out;
  for (const std::string& dir : *corpora) {
    auto other = ReadCorpusInfo(dir);
    if (other.ok() && other->parent_id == info.id) out.push_back(dir);
  }
  return out;
}

// Seconds since the epoch of an RFC 3339 UTC time as manifests write it.
std::optional<int64_t> ParseCreated(const std::string& text) {
  std::tm tm{};
  if (::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return std::nullopt;
  return static_cast<int64_t>(::timegm(&tm));
}

// Seconds since the last change of `path` (its mtime), or 0.
uint64_t AgeOf(const std::string& path, int64_t now) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || st.st_mtime >= now) return 0;
  return static_cast<uint64_t>(now - st.st_mtime);
}

std::string Days(uint64_t seconds) {
  return seconds % 86400 == 0 ? std::to_string(seconds / 86400) + "d"
                              : std::to_string(seconds) + "s";
}

bool IsLeftoverName(const std::string& name) {
  return name.find(".tmp-") != std::string::npos || name.find(".old-") != std::string::npos;
}

// InvalidArgument when `dir` (trailing slashes aside, which would follow it) is a
// symbolic link: deleting through it would erase the target's files and then fail to
// remove the link's "directory", leaving neither whole.
Status RefuseSymbolicLink(const std::string& dir) {
  std::string name = dir;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  struct stat st;
  if (::lstat(name.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return Status::Ok();
  std::error_code ec;
  fs::path target = fs::read_symlink(name, ec);
  return Status::InvalidArgument(name + " is a symbolic link" +
                                 (ec ? std::string() : " to " + target.string()) +
                                 ": nothing deleted; name the corpus directory itself, and "
                                 "remove the link with rm");
}

}  // namespace

Result<CorpusDeleteReport> DeleteCorpus(const std::string& dir, const CorpusDeleteOptions& options) {
  if (sodium_init() < 0) return Status::Unavailable("libsodium failed to initialize");
  RETURN_IF_ERROR(RefuseSymbolicLink(dir));
  auto info = ReadCorpusInfo(dir);
  if (!info.ok()) {
    return Status::InvalidArgument(dir + " is not a corpus (" + info.status().message() +
                                   "): nothing deleted; `reducto gc` removes remnants");
  }
  CorpusDeleteReport report;
  report.id = info->id;
  report.dependents = Dependents(*info);
  if (!report.dependents.empty() && !options.force) {
    return Status::InvalidArgument("corpus " + info->id + " at " + dir + " is the parent of " +
                                   report.dependents.front() +
                                   (report.dependents.size() > 1 ? " and others" : "") +
                                   ", which would no longer open: delete those first, or pass "
                                   "--force");
  }
  // EraseTree erases an encrypted corpus's data-key first (crypto-shredding): without
  // it, no copy of the pack or index can be read.
  report.crypto_shredded = info->is_encrypted();
  if (report.crypto_shredded) {
    const std::string key = dir + "/" + kDataKeyFileName;
    std::error_code ec;
    if (fs::is_regular_file(key, ec)) RETURN_IF_ERROR(EraseFile(key, &report));
  }
  RETURN_IF_ERROR(EraseFile(dir + "/" + kManifestFileName, &report));  // Not a corpus from here on.
  RETURN_IF_ERROR(EraseTree(dir, &report));
  std::string usage = dir + kUsageSuffix;
  std::error_code ec;
  if (fs::is_directory(usage, ec)) RETURN_IF_ERROR(EraseTree(usage, &report));
  return report;
}

Result<std::vector<GcAction>> CollectGarbage(const std::string& store, const RetentionPolicy& policy,
                                             bool dry_run, int64_t now) {
  if (now == 0) now = static_cast<int64_t>(std::time(nullptr));
  ASSIGN_OR_RETURN(std::vector<std::string> corpora, ListCorpora(store));
  std::vector<GcAction> actions;
  // Corpora past their age, unless a corpus that stays builds on them.
  std::set<std::string> expired, kept_parents;
  std::vector<CorpusInfo> infos;
  for (const std::string& dir : corpora) {
    auto info = ReadCorpusInfo(dir);
    if (!info.ok()) continue;
    infos.push_back(*info);
    std::optional<int64_t> created = ParseCreated(info->created);
    if (policy.corpus_max_age_seconds && created &&
        static_cast<uint64_t>(std::max<int64_t>(0, now - *created)) > *policy.corpus_max_age_seconds) {
      expired.insert(info->id);
    }
  }
  for (const CorpusInfo& info : infos) {
    if (!expired.contains(info.id) && info.parent_id) kept_parents.insert(*info.parent_id);
  }
  std::set<std::string> live_dirs;
  for (const CorpusInfo& info : infos) {
    const std::string reason = "created " + info.created + ", older than " +
                               Days(policy.corpus_max_age_seconds.value_or(0));
    if (!expired.contains(info.id)) {
      live_dirs.insert(info.path);
      continue;
    }
    if (kept_parents.contains(info.id)) {
      actions.push_back({info.path, reason + ", but kept: a corpus that stays builds on it", false});
      live_dirs.insert(info.path);
      continue;
    }
    GcAction action{info.path, reason, false};
    if (!dry_run) {
      CorpusDeleteOptions force;
      force.force = true;  // Its dependents are expiring too.
      ASSIGN_OR_RETURN(CorpusDeleteReport report, DeleteCorpus(info.path, force));
      if (report.crypto_shredded) action.reason += "; crypto-shredded (its key erased first)";
      action.done = true;
    }
    actions.push_back(action);
  }
  // Leftovers: staging and replaced directories, directories without a manifest, and
  // usage stores without their corpus, once nothing touched them for a while.
  std::error_code ec;
  for (fs::directory_iterator it(store, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;
    if (!it->is_directory(entry_ec)) continue;
    std::string name = it->path().filename().string();
    std::string path = (fs::path(store) / name).string();
    std::string reason;
    if (IsLeftoverName(name)) {
      reason = "leftover of an interrupted build, replacement or delete";
    } else if (name.ends_with(kUsageSuffix)) {
      std::string corpus = path.substr(0, path.size() - (sizeof kUsageSuffix - 1));
      if (live_dirs.contains(corpus)) continue;
      reason = "usage store of a corpus that is gone";
    } else if (!fs::exists(path + "/" + kManifestFileName, entry_ec) &&
               (fs::exists(path + "/" + kPackDirName, entry_ec) ||
                fs::exists(path + "/" + kIndexDirName, entry_ec))) {
      reason = "remnant of a corpus without its manifest";
    } else {
      continue;
    }
    if (AgeOf(path, now) <= policy.leftover_max_age_seconds) continue;  // May be in progress.
    GcAction action{path, reason, false};
    if (!dry_run) {
      CorpusDeleteReport ignored;
      RETURN_IF_ERROR(EraseTree(path, &ignored));
      action.done = true;
    }
    actions.push_back(action);
  }
  if (ec) return ErrnoStatus("list", store, ec.value());
  return actions;
}

}  // namespace reducto
