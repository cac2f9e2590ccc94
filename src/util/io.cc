#include "reducto/io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sodium.h>
#include <unistd.h>

#include <csignal>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "util/file.h"
#include "util/file_sink.h"
#include "util/interrupt.h"

namespace reducto {

Result<size_t> ByteSource::ReadFull(std::span<uint8_t> buf) {
  size_t total = 0;
  while (total < buf.size()) {
    ASSIGN_OR_RETURN(size_t n, Read(buf.subspan(total)));
    if (n == 0) break;
    total += n;
  }
  return total;
}

namespace {

// Temporary files of sinks not yet committed, for the signal handler. Fixed slots so
// the handler touches no allocator.
constexpr int kMaxTempFiles = 64;
constexpr size_t kMaxTempPath = 4096;
char g_temp_paths[kMaxTempFiles][kMaxTempPath];
std::atomic<bool> g_temp_used[kMaxTempFiles];

int RegisterTempFile(const std::string& path) {
  if (path.size() >= kMaxTempPath) return -1;
  for (int i = 0; i < kMaxTempFiles; ++i) {
    bool expected = false;
    if (g_temp_used[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_temp_paths[i], path.c_str(), path.size() + 1);
      return i;
    }
  }
  return -1;
}

void UnregisterTempFile(int slot) {
  if (slot >= 0) g_temp_used[slot].store(false);
}

// Staging directories (CorpusStaging) to remove on an interruption. A slot is
// kFree, kFilling while its paths are copied in, kReady once the handler may use it.
constexpr int kMaxInterruptDirs = 8;
constexpr char kInterruptedSuffix[] = "-interrupted";
enum DirSlotState : int { kFree = 0, kFilling = 1, kReady = 2 };
char g_dir_paths[kMaxInterruptDirs][kMaxTempPath];
char g_dir_claims[kMaxInterruptDirs][kMaxTempPath];  // <dir>-interrupted
std::atomic<int> g_dir_state[kMaxInterruptDirs];

// Removes the entry `name` of the directory `parent_fd`, recursively down to `depth`
// levels, with async-signal-safe calls only. Entries that appear while it runs (a
// background thread still writing) are caught by a few repeated passes.
void RemoveTreeAt(int parent_fd, const char* name, int depth) {
  if (::unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT) return;
  int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  alignas(8) char buf[2048];
  for (int pass = 0; pass < 4; ++pass) {
    ::lseek(fd, 0, SEEK_SET);
    for (;;) {
      ssize_t n = ::getdents64(fd, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        const auto* entry = reinterpret_cast<const struct dirent64*>(buf + off);
        off += entry->d_reclen;
        const char* child = entry->d_name;
        if (child[0] == '.' && (child[1] == '\0' || (child[1] == '.' && child[2] == '\0'))) continue;
        if (depth > 0) {
          RemoveTreeAt(fd, child, depth - 1);
        } else {
          ::unlinkat(fd, child, 0);
        }
      }
    }
    if (::unlinkat(parent_fd, name, AT_REMOVEDIR) == 0) break;
  }
  ::close(fd);
}

void WriteStderr(const char* text) {
  size_t len = 0;
  while (text[len] != '\0') ++len;
  ssize_t ignored = ::write(STDERR_FILENO, text, len);
  (void)ignored;
}

extern "C" void RemoveTempFilesAndExit(int sig) {
  for (int i = 0; i < kMaxTempFiles; ++i) {
    if (g_temp_used[i].load()) ::unlink(g_temp_paths[i]);
  }
  bool removed_directory = false;
  for (int i = 0; i < kMaxInterruptDirs; ++i) {
    if (g_dir_state[i].load() != kReady) continue;
    // Claim the directory first: once renamed, no other thread can publish it; if the
    // rename fails, it was published (or removed) already and must be left alone.
    if (::rename(g_dir_paths[i], g_dir_claims[i]) != 0) continue;
    RemoveTreeAt(AT_FDCWD, g_dir_claims[i], 6);
    removed_directory = true;
  }
  if (sig == SIGPIPE) {
    WriteStderr("reducto: stopped: the reader of the output pipe went away\n");
    ::_exit(128 + sig);
  }
  WriteStderr(sig == SIGINT    ? "reducto: interrupted (SIGINT)"
              : sig == SIGTERM ? "reducto: terminated (SIGTERM)"
                               : "reducto: hung up (SIGHUP)");
  WriteStderr(removed_directory
                  ? ": the partial corpus was removed and nothing was published; run the command again\n"
                  : ": its temporary files were removed; run the command again\n");
  ::_exit(128 + sig);
}

class FdSource final : public ByteSource {
 public:
  FdSource(int fd, std::string name, bool owned) : fd_(fd), name_(std::move(name)), owned_(owned) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  Result<size_t> Read(std::span<uint8_t> buf) override {
    for (;;) {
      ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return ErrnoStatus("read", name_, errno);
    }
  }
  const std::string& name() const override { return name_; }
  std::optional<FileInfo> file_info() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    return FileInfo{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                    static_cast<uint32_t>(st.st_mode & 0777),
                    static_cast<int64_t>(st.st_mtim.tv_sec),
                    static_cast<int64_t>(st.st_mtim.tv_nsec)};
  }

 private:
  int fd_;
  std::string name_;
  bool owned_;
};

// A pipe holds 64 KiB by default: a block of megabytes then crosses it in many rounds
// of writer and reader waking each other. Asks for 1 MiB (the default
// /proc/sys/fs/pipe-max-size; less where that is lower, nothing where it fails):
// vm-ext4 decompressed through `| cat` took 0.69 -> 0.49 s with two threads (zstd -d
// of zstd -3's output through the same pipe: 0.43 s). Either end may widen it.
void WidenPipe(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  if (::fcntl(fd, F_SETPIPE_SZ, 1 << 20) < 0) (void)::fcntl(fd, F_SETPIPE_SZ, 256 << 10);
}

// Writes straight to a descriptor: stdout, or a device such as /dev/null.
class StreamSink final : public ByteSink {
 public:
  StreamSink(int fd, std::string name, bool owned) : fd_(fd), name_(std::move(name)), owned_(owned) {
    WidenPipe(fd_);
  }
  ~StreamSink() override {
    if (owned_) ::close(fd_);
  }
  Status Write(std::span<const uint8_t> data) override { return WriteAll(fd_, data, name_); }
  Status Commit() override {
    // fsync fails with EINVAL on pipes, terminals and devices; only real errors count.
    if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
      return ErrnoStatus("flush", name_, errno);
    }
    return Status::Ok();
  }
  const std::string& name() const override { return name_; }

 private:
  int fd_;
  std::string name_;
  bool owned_;
};

std::string DirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// A hidden name beside `path` for its temporary file: ".NAME.reducto-" + `suffix`.
std::string HiddenNameFor(const std::string& path, const std::string& suffix) {
  std::filesystem::path p(path);
  std::string dir = p.parent_path().string();
  return (dir.empty() ? std::string() : dir + "/") + "." + p.filename().string() + ".reducto-" +
         suffix;
}

// Links the unnamed temporary file `fd` under `path`; 0 or the errno (EEXIST: `path`
// exists, and is left as it is).
int LinkUnnamed(int fd, const std::string& path) {
  char proc_path[64];
  std::snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
  return ::linkat(AT_FDCWD, proc_path, AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
}

Status AppearedStatus(const std::string& path) {
  return Status::Unavailable(path + " appeared while this command ran (another process created "
                             "it): it was left as it is and this output was discarded; pass -f "
                             "to replace it, or choose another name");
}

// Writes to a temporary file in the destination's directory; Commit() publishes it.
// An unnamed one (O_TMPFILE) has no name until Commit() links it, so even a killed
// process leaves nothing; a named one (the fallback where the file system lacks
// O_TMPFILE) is registered for the interrupt handler to remove.
class AtomicFileSink final : public ByteSink {
 public:
  // `tmp` is the named temporary file's path, empty for an unnamed one.
  AtomicFileSink(int fd, std::string tmp, std::string path, const SinkOptions& options)
      : fd_(fd), tmp_(std::move(tmp)), path_(std::move(path)), options_(options),
        slot_(tmp_.empty() ? -1 : RegisterTempFile(tmp_)) {}
  ~AtomicFileSink() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
    UnregisterTempFile(slot_);
  }
  Status Write(std::span<const uint8_t> data) override {
    if (fd_ < 0) return Status::InvalidArgument("write after commit to " + path_);
    RETURN_IF_ERROR(WriteAll(fd_, data, path_));
    written_ += data.size();
    StartWriteback();
    return Status::Ok();
  }
  Status Commit() override {
    if (fd_ < 0) return Status::InvalidArgument(path_ + " was already committed");
    RETURN_IF_ERROR(ApplyInputTime());
    if (::fsync(fd_) != 0) return ErrnoStatus("sync", path_, errno);
    Status published = tmp_.empty() ? PublishUnnamed() : PublishNamed();
    ::close(fd_);  // After fsync, close reports nothing that matters here.
    fd_ = -1;
    RETURN_IF_ERROR(published);
    committed_ = true;
    UnregisterTempFile(slot_);
    slot_ = -1;
    return SyncDirectory(DirectoryOf(path_));
  }
  const std::string& name() const override { return path_; }

 private:
  int fd_;
  std::string tmp_;
  std::string path_;
  SinkOptions options_;
  int slot_;
  bool committed_ = false;
  uint64_t written_ = 0;
  uint64_t writeback_started_ = 0;  // Bytes handed to the kernel's writeback so far.

  // Starts writeback of each full 8 MiB written, without waiting for it, so that the
  // fsync in Commit() finds little left to do. A hint: errors surface at fsync.
  void StartWriteback() {
    constexpr uint64_t kWritebackStep = 8u << 20;
    while (written_ - writeback_started_ >= kWritebackStep) {
      ::sync_file_range(fd_, static_cast<off_t>(writeback_started_), kWritebackStep, SYNC_FILE_RANGE_WRITE);
      writeback_started_ += kWritebackStep;
    }
  }

  // The input's modification time, set after the last write.
  Status ApplyInputTime() {
    if (!options_.keep_input_attributes || !options_.input) return Status::Ok();
    timespec times[2] = {{0, UTIME_OMIT},
                         {static_cast<time_t>(options_.input->mtime_seconds),
                          static_cast<long>(options_.input->mtime_nanoseconds)}};
    if (::futimens(fd_, times) == 0) return Status::Ok();
    return ErrnoStatus("set the modification time of", path_, errno);
  }

  // Without overwrite, linkat is the publish: it fails with EEXIST rather than replace.
  // With it, the file is linked under a fresh hidden name and renamed over `path_`.
  Status PublishUnnamed() {
    if (!options_.overwrite) {
      int err = LinkUnnamed(fd_, path_);
      if (err == EEXIST) return AppearedStatus(path_);
      return err == 0 ? Status::Ok() : ErrnoStatus("create", path_, err);
    }
    std::string tmp;
    int err = EEXIST;
    for (int attempt = 0; attempt < 16 && err == EEXIST; ++attempt) {
      tmp = HiddenNameFor(path_, std::to_string(randombytes_random()));
      err = LinkUnnamed(fd_, tmp);
    }
    if (err != 0) return ErrnoStatus("create a temporary file for", path_, err);
    int slot = RegisterTempFile(tmp);
    int rc = ::rename(tmp.c_str(), path_.c_str());
    err = errno;
    if (rc != 0) ::unlink(tmp.c_str());
    UnregisterTempFile(slot);
    return rc == 0 ? Status::Ok() : ErrnoStatus("rename into", path_, err);
  }

  Status PublishNamed() {
    if (options_.overwrite) {
      if (::rename(tmp_.c_str(), path_.c_str()) == 0) return Status::Ok();
      return ErrnoStatus("rename into", path_, errno);
    }
    int err = RenameNoReplace(tmp_, path_);
    if (err == EEXIST) return AppearedStatus(path_);
    return err == 0 ? Status::Ok() : ErrnoStatus("rename into", path_, err);
  }
};

class MemorySourceImpl final : public ByteSource {
 public:
  MemorySourceImpl(std::span<const uint8_t> data, std::string name) : data_(data), name_(std::move(name)) {}
  Result<size_t> Read(std::span<uint8_t> buf) override {
    size_t n = std::min(buf.size(), data_.size());
    if (n > 0) std::memcpy(buf.data(), data_.data(), n);
    data_ = data_.subspan(n);
    return n;
  }
  const std::string& name() const override { return name_; }

 private:
  std::span<const uint8_t> data_;
  std::string name_;
};

class MemorySinkImpl final : public ByteSink {
 public:
  MemorySinkImpl(std::string* out, std::string name) : out_(out), name_(std::move(name)) {}
  Status Write(std::span<const uint8_t> data) override {
    out_->append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::Ok();
  }
  Status Commit() override { return Status::Ok(); }
  const std::string& name() const override { return name_; }

 private:
  std::string* out_;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenSource(const std::string& path) {
  if (path == "-") {
    WidenPipe(STDIN_FILENO);
    return std::unique_ptr<ByteSource>(new FdSource(STDIN_FILENO, "stdin", false));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + " is a directory: give a file, or - for stdin");
  }
  return std::unique_ptr<ByteSource>(new FdSource(fd, path, true));
}

namespace {

// Refuses an output path that exists and must not be written: not a regular file, the
// input itself, or (without overwrite) any file.
Status CheckOutputPath(const std::string& path, const SinkOptions& options) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::Ok();
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(path + " exists and is not a regular file: choose another "
                                   "output path");
  }
  if (options.input && options.input->device == static_cast<uint64_t>(st.st_dev) &&
      options.input->inode == static_cast<uint64_t>(st.st_ino)) {
    return Status::InvalidArgument(path + " is the input file itself: writing it would destroy the "
                                   "input; choose another output path");
  }
  if (!options.overwrite) {
    return Status::InvalidArgument(path + " already exists: pass -f to overwrite it or choose "
                                   "another path");
  }
  return Status::Ok();
}

// An unnamed temporary file in `dir`, or -1 with errno EOPNOTSUPP where it cannot be
// made or published: no O_TMPFILE in the file system or kernel, or no /proc for linkat.
int OpenUnnamedTemporary(const std::string& dir) {
  if (::access("/proc/self/fd", X_OK) != 0) {
    errno = EOPNOTSUPP;
    return -1;
  }
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EISDIR || errno == EINVAL)) errno = EOPNOTSUPP;
  return fd;
}

}  // namespace

Result<std::unique_ptr<ByteSink>> OpenFileSink(const std::string& path, const SinkOptions& options,
                                               TemporaryFile temporary) {
  RETURN_IF_ERROR(CheckOutputPath(path, options));
  bool keep = options.keep_input_attributes && options.input;
  mode_t mode = keep ? static_cast<mode_t>(options.input->permissions) : 0644;
  std::string tmp;
  int fd = -1;
  if (temporary == TemporaryFile::kUnnamedWhereSupported) {
    fd = OpenUnnamedTemporary(DirectoryOf(path));
  }
  if (temporary == TemporaryFile::kNamed || (fd < 0 && errno == EOPNOTSUPP)) {
    std::string name = HiddenNameFor(path, "XXXXXX");
    std::vector<char> tmpl(name.begin(), name.end());
    tmpl.push_back('\0');
    fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    tmp = tmpl.data();
  }
  if (fd < 0) return ErrnoStatus("create a temporary file for", path, errno);
  auto sink = std::make_unique<AtomicFileSink>(fd, tmp, path, options);
  if (::fchmod(fd, mode) != 0) return ErrnoStatus("set the permissions of", path, errno);
  return std::unique_ptr<ByteSink>(std::move(sink));
}

Result<std::unique_ptr<ByteSink>> OpenSink(const std::string& path, const SinkOptions& options) {
  if (path == "-") return std::unique_ptr<ByteSink>(new StreamSink(STDOUT_FILENO, "stdout", false));
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode)) {
    // /dev/null and the like: nothing to replace atomically.
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<ByteSink>(new StreamSink(fd, path, true));
  }
  return OpenFileSink(path, options, TemporaryFile::kUnnamedWhereSupported);
}

Result<std::unique_ptr<ByteSink>> OpenSink(const std::string& path, bool overwrite) {
  SinkOptions options;
  options.overwrite = overwrite;
  return OpenSink(path, options);
}

bool NamesStandardInput(const std::string& path) {
  if (path == "-") return true;
  struct stat in, st;
  if (::fstat(STDIN_FILENO, &in) != 0 || ::stat(path.c_str(), &st) != 0) return false;
  return in.st_dev == st.st_dev && in.st_ino == st.st_ino;
}

void InstallInterruptCleanup() {
  struct sigaction action {};
  action.sa_handler = RemoveTempFilesAndExit;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::sigaction(sig, &action, nullptr);
}

int RegisterInterruptDirectory(const std::string& dir) {
  if (dir.size() + sizeof kInterruptedSuffix > kMaxTempPath) return -1;
  for (int i = 0; i < kMaxInterruptDirs; ++i) {
    int expected = kFree;
    if (g_dir_state[i].compare_exchange_strong(expected, kFilling)) {
      std::memcpy(g_dir_paths[i], dir.c_str(), dir.size() + 1);
      std::memcpy(g_dir_claims[i], dir.c_str(), dir.size());
      std::memcpy(g_dir_claims[i] + dir.size(), kInterruptedSuffix, sizeof kInterruptedSuffix);
      g_dir_state[i].store(kReady);
      return i;
    }
  }
  return -1;
}

void UnregisterInterruptDirectory(int slot) {
  if (slot >= 0) g_dir_state[slot].store(kFree);
}

std::unique_ptr<ByteSource> MemorySource(std::span<const uint8_t> data, std::string name) {
  return std::make_unique<MemorySourceImpl>(data, std::move(name));
}

std::unique_ptr<ByteSink> MemorySink(std::string* out, std::string name) {
  return std::make_unique<MemorySinkImpl>(out, std::move(name));
}

}  // namespace reducto
