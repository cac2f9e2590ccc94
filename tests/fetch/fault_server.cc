#include "fetch/fault_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace reducto::testing {

struct FaultServer::Request {
  std::string method;
  std::string path;  // decoded, relative to the directory
  std::string range;  // the Range header's value
  std::string authorization;
  uint64_t content_length = 0;
  bool close = false;  // "Connection: close"
  std::string body;    // a PUT's
};

namespace {

constexpr int kDefaultStallSeconds = 30;
constexpr size_t kMaxHeaderBytes = 64 * 1024;

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 410: return "Gone";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Fault";
  }
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string Head(int status, uint64_t content_length, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
         "\r\nContent-Length: " + std::to_string(content_length) + "\r\n" + extra + "\r\n";
}

bool SendStatus(int fd, int status, const std::string& extra = "") {
  std::string body = std::string(Reason(status)) + "\n";
  return SendAll(fd, Head(status, body.size(), extra) + body);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The request target as a name inside the directory, or "" when it is not one.
std::string NameOf(const std::string& target) {
  std::string name;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == '%' && i + 2 < target.size() && HexDigit(target[i + 1]) >= 0 &&
        HexDigit(target[i + 2]) >= 0) {
      name.push_back(static_cast<char>(HexDigit(target[i + 1]) * 16 + HexDigit(target[i + 2])));
      i += 2;
    } else {
      name.push_back(target[i]);
    }
  }
  if (!name.starts_with("/")) return "";
  name.erase(0, 1);
  std::stringstream parts(name);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty() || part == "." || part == "..") return "";
  }
  return name.find('\0') == std::string::npos ? name : "";
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

// "bytes=a-b" or "bytes=a-" of a file of `size` bytes, as [first, last]; false when it
// is not one satisfiable range.
bool ParseRange(const std::string& value, uint64_t size, uint64_t* first, uint64_t* last) {
  unsigned long long a = 0, b = 0;
  int consumed = 0;
  if (std::sscanf(value.c_str(), "bytes=%llu-%n", &a, &consumed) != 1 || consumed == 0) return false;
  std::string rest = value.substr(static_cast<size_t>(consumed));
  if (rest.empty()) {
    b = size == 0 ? 0 : size - 1;
  } else if (std::sscanf(rest.c_str(), "%llu", &b) != 1 || rest.find(',') != std::string::npos) {
    return false;
  }
  if (a >= size || b < a) return false;
  *first = a;
  *last = std::min<uint64_t>(b, size - 1);
  return true;
}

// Bytes [first, first + count) of the file at `path`.
bool ReadPart(const std::string& path, uint64_t first, uint64_t count, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  out->resize(count);
  in.seekg(static_cast<std::streamoff>(first));
  in.read(out->data(), static_cast<std::streamsize>(count));
  return static_cast<uint64_t>(in.gcount()) == count;
}

}  // namespace

Result<Fault> ParseFault(const std::string& name) {
  if (name == "none") return Fault::kNone;
  if (name == "refuse") return Fault::kRefuse;
  if (name == "status") return Fault::kStatus;
  if (name == "cut-short") return Fault::kCutShort;
  if (name == "stall") return Fault::kStall;
  if (name == "ignore-range") return Fault::kIgnoreRange;
  if (name == "wrong-bytes") return Fault::kWrongBytes;
  if (name == "wrong-range") return Fault::kWrongRange;
  return Status::InvalidArgument("unknown fault '" + name + "': use none, refuse, status:N, "
                                 "cut-short, stall[:SECONDS], ignore-range, wrong-bytes or "
                                 "wrong-range");
}

FaultServer::FaultServer(std::string dir) : dir_(std::move(dir)) {}

FaultServer::~FaultServer() { Stop(); }

Status FaultServer::Start(int port) {
  if (::pipe2(wake_, O_CLOEXEC) != 0) return Status::Io(std::string("pipe: ") + strerror(errno));
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Status::Io(std::string("socket: ") + strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t length = sizeof(address);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Status::Io("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                      strerror(errno));
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread(&FaultServer::AcceptLoop, this);
  return Status::Ok();
}

void FaultServer::Stop() {
  if (wake_[1] >= 0) {
    char byte = 0;
    while (::write(wake_[1], &byte, 1) < 0 && errno == EINTR) {
    }
  }
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers.swap(workers_);
  }
  for (std::thread& worker : workers) worker.join();
  for (int* fd : {&listen_fd_, &wake_[0], &wake_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void FaultServer::Inject(Fault fault, int arg, int times) {
  std::lock_guard<std::mutex> lock(mutex_);
  script_ = {fault, arg, times};
}

void FaultServer::RequireToken(std::string token) {
  std::lock_guard<std::mutex> lock(mutex_);
  token_ = std::move(token);
}

FaultServer::Script FaultServer::TakeFault(bool at_accept) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (script_.times == 0 || (script_.fault == Fault::kRefuse) != at_accept) return {};
  if (script_.times > 0) --script_.times;
  return script_;
}

bool FaultServer::WaitReadable(int fd, int ms) const {
  pollfd fds[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
  for (;;) {
    int n = ::poll(fds, 2, ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && fds[1].revents == 0;
  }
}

void FaultServer::AcceptLoop() {
  while (WaitReadable(listen_fd_, -1)) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    if (TakeFault(/*at_accept=*/true).fault == Fault::kRefuse) {
      ::close(fd);
      continue;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    workers_.emplace_back(&FaultServer::Serve, this, fd);
  }
}

void FaultServer::Serve(int fd) {
  std::string buffer;
  char chunk[16 * 1024];
  for (;;) {
    size_t end = buffer.find("\r\n\r\n");
    while (end == std::string::npos) {
      if (buffer.size() > kMaxHeaderBytes || !WaitReadable(fd, -1)) return (void)::close(fd);
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return (void)::close(fd);
      buffer.append(chunk, static_cast<size_t>(n));
      end = buffer.find("\r\n\r\n");
    }
    Request request;
    std::istringstream lines(buffer.substr(0, end));
    buffer.erase(0, end + 4);
    std::string line, target;
    std::getline(lines, line);
    std::istringstream(line) >> request.method >> target;
    request.path = NameOf(target);
    while (std::getline(lines, line)) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::string value(Trim(std::string_view(line).substr(colon + 1)));
      if (strcasecmp(name.c_str(), "range") == 0) request.range = value;
      if (strcasecmp(name.c_str(), "authorization") == 0) request.authorization = value;
      if (strcasecmp(name.c_str(), "content-length") == 0) request.content_length = std::strtoull(value.c_str(), nullptr, 10);
      if (strcasecmp(name.c_str(), "connection") == 0) request.close = strcasecmp(value.c_str(), "close") == 0;
    }
    // A PUT's body follows its headers.
    while (buffer.size() < request.content_length) {
      if (!WaitReadable(fd, -1)) return (void)::close(fd);
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return (void)::close(fd);
      buffer.append(chunk, static_cast<size_t>(n));
    }
    request.body = buffer.substr(0, request.content_length);
    buffer.erase(0, request.content_length);
    ++requests_;
    if (!Answer(fd, request) || request.close) return (void)::close(fd);
  }
}

bool FaultServer::Answer(int fd, const Request& request) {
  Script script = TakeFault(/*at_accept=*/false);
  if (script.fault == Fault::kStatus) return SendStatus(fd, script.arg);
  std::string token;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    token = token_;
  }
  if (!token.empty() && request.authorization.empty()) return SendStatus(fd, 401);
  if (!token.empty() && request.authorization != "Bearer " + token) return SendStatus(fd, 403);
  if (request.path.empty()) return SendStatus(fd, 400);
  if (request.method == "PUT") return AnswerPut(fd, request);
  if (request.method != "GET") return SendStatus(fd, 400);
  return AnswerGet(fd, request, script);
}

bool FaultServer::AnswerPut(int fd, const Request& request) {
  std::filesystem::path path = std::filesystem::path(dir_) / request.path;
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << request.body;
  out.close();
  return SendStatus(fd, out ? 201 : 500);
}

bool FaultServer::AnswerGet(int fd, const Request& request, const Script& script) {
  std::string path = dir_ + "/" + request.path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return SendStatus(fd, 404);
  uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return SendStatus(fd, 404);
  int status = 200;
  uint64_t first = 0, last = size == 0 ? 0 : size - 1;
  std::string extra = "Accept-Ranges: bytes\r\n";
  if (!request.range.empty() && script.fault != Fault::kIgnoreRange) {
    if (!ParseRange(request.range, size, &first, &last)) {
      return SendStatus(fd, 416, "Content-Range: bytes */" + std::to_string(size) + "\r\n");
    }
    uint64_t shown = script.fault == Fault::kWrongRange ? first + 1 : first;
    status = 206;
    extra += "Content-Range: bytes " + std::to_string(shown) + "-" +
             std::to_string(shown + last - first) + "/" + std::to_string(size) + "\r\n";
  }
  std::string body;
  if (!ReadPart(path, first, size == 0 ? 0 : last - first + 1, &body)) return SendStatus(fd, 500);
  if (script.fault == Fault::kWrongBytes && !body.empty()) body[body.size() / 2] ^= 0x5a;
  std::string head = Head(status, body.size(), extra);
  if (script.fault == Fault::kCutShort) {
    SendAll(fd, head + body.substr(0, body.size() / 2));
    return false;
  }
  if (script.fault == Fault::kStall) {
    SendAll(fd, head);
    int seconds = script.arg > 0 ? script.arg : kDefaultStallSeconds;
    WaitReadable(wake_[0], seconds * 1000);  // returns early on Stop()
    return false;
  }
  return SendAll(fd, head + body);
}

}  // namespace reducto::testing
