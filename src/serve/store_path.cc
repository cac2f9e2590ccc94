#include "serve/store_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reducto::serve {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes one segment. A decoded '/' or '\' would let one segment name a
// deeper path, so both are refused along with control characters.
Result<std::string> DecodeSegment(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      int hi = i + 2 < raw.size() ? HexValue(raw[i + 1]) : -1;
      int lo = i + 2 < raw.size() ? HexValue(raw[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Status::InvalidArgument("bad percent-encoding in the path");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '/' || c == '\\') return Status::InvalidArgument("encoded '/' or '\\' in the path");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("control character in the path");
    }
    out += c;
  }
  return out;
}

Status NotFound() { return Status::NotFound("no such file"); }

Status OpenError(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:  // O_NOFOLLOW met a symbolic link.
    case EISDIR: return NotFound();
    case EACCES:
    case EPERM: return Status::Permission(std::strerror(err));
    default: return Status::Io(std::strerror(err));
  }
}

}  // namespace

Result<std::vector<std::string>> SplitTarget(std::string_view target) {
  target = target.substr(0, target.find('?'));
  if (target.empty() || target[0] != '/') {
    return Status::InvalidArgument("the path must start with '/'");
  }
  std::vector<std::string> segments;
  size_t start = 1;
  while (true) {
    size_t end = target.find('/', start);
    std::string_view raw = target.substr(start, end == std::string_view::npos ? end : end - start);
    ASSIGN_OR_RETURN(std::string segment, DecodeSegment(raw));
    if (segment.empty() || segment == "." || segment == "..") {
      return Status::InvalidArgument("empty, '.' or '..' path segment");
    }
    segments.push_back(std::move(segment));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return segments;
}

Result<int> OpenStoreFile(int store_fd, const std::vector<std::string>& segments) {
  if (segments.empty()) return NotFound();
  int dir_fd = store_fd;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    int next = ::openat(dir_fd, segments[i].c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    if (dir_fd != store_fd) ::close(dir_fd);
    if (next < 0) return OpenError(err);
    dir_fd = next;
  }
  // O_NONBLOCK: opening a FIFO someone left in the store must not hang a thread; a
  // regular file ignores the flag.
  int fd = ::openat(dir_fd, segments.back().c_str(),
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  int err = errno;
  if (dir_fd != store_fd) ::close(dir_fd);
  if (fd < 0) return OpenError(err);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return NotFound();
  }
  return fd;
}

}  // namespace reducto::serve
