// StoreServer (reducto/serve.h) on cpp-httplib 0.11.
//
// httplib parses requests, runs the connections and writes responses; everything that
// decides what is sent is here: which file (serve/store_path.h), which bytes and which
// status (serve/http_semantics.h), because httplib 0.11 applies a Range header to
// streamed content without checking it against the length. So every response clears
// the parsed ranges before httplib sees them and states its own status and lengths.
#include "reducto/serve.h"

#include <httplib.h>
#include <netdb.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "serve/http_semantics.h"
#include "serve/serve_metrics.h"
#include "serve/store_path.h"
#include "util/file.h"

namespace reducto {
namespace {

using httplib::Request;
using httplib::Response;
using serve::ByteRange;

constexpr size_t kReadChunk = 128 << 10;  // Bytes read from disk per pread.
// Request bodies (which only the refused methods carry) are read and dropped up to this,
// so the connection stays in step; a larger one gets 413.
constexpr size_t kMaxRequestBody = 64 << 10;

// A fixed set of threads and a bounded queue of accepted connections. When the queue
// is full, enqueue() waits: the accept loop stops and new connections wait in the
// kernel's listen queue instead of in memory here. (httplib's ThreadPool never bounds
// its queue.)
class BoundedThreadPool : public httplib::TaskQueue {
 public:
  BoundedThreadPool(size_t threads, size_t max_queued) : max_queued_(std::max<size_t>(max_queued, 1)) {
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
      threads_.emplace_back([this] { Work(); });
    }
  }
  ~BoundedThreadPool() override = default;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mutex_);
    space_.wait(lock, [this] { return jobs_.size() < max_queued_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    work_.notify_one();
  }

  // Runs the queued connections to the end (each ends quickly once the server socket is
  // closed), then joins the threads.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutdown_ = true;
    }
    work_.notify_all();
    space_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_.wait(lock, [this] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      space_.notify_one();
      fn();
    }
  }

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable work_, space_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

// A response body as a sequence of pieces: literal text (the part headers of a
// multipart answer) or a slice of the open file, streamed with pread so that a
// segment of several GB never sits in memory.
struct BodyPiece {
  std::string text;          // Used when length == 0.
  uint64_t file_offset = 0;  // Otherwise: `length` bytes of the file from here.
  uint64_t length = 0;
  uint64_t size() const { return length != 0 ? length : text.size(); }
};

struct FileBody {
  int fd = -1;
  std::vector<BodyPiece> pieces;
  serve::ServeMetrics* metrics = nullptr;  // Counts the bytes written, when not null.
  std::vector<char> buffer;
  ~FileBody() {
    if (fd >= 0) ::close(fd);
  }
  uint64_t size() const {
    uint64_t total = 0;
    for (const BodyPiece& piece : pieces) total += piece.size();
    return total;
  }

  // Writes some bytes of the body from `offset` to `sink`; false when the file can no
  // longer be read (it shrank while being served), which drops the connection.
  bool Provide(uint64_t offset, uint64_t max_length, httplib::DataSink& sink) {
    uint64_t start = 0;
    for (const BodyPiece& piece : pieces) {
      if (offset >= start + piece.size()) {
        start += piece.size();
        continue;
      }
      uint64_t skip = offset - start;
      uint64_t n = std::min({piece.size() - skip, max_length, uint64_t{kReadChunk}});
      if (piece.length == 0) return Write(piece.text.data() + skip, n, sink);
      buffer.resize(kReadChunk);
      ssize_t got = ::pread(fd, buffer.data(), n, static_cast<off_t>(piece.file_offset + skip));
      if (got <= 0) return false;
      return Write(buffer.data(), static_cast<size_t>(got), sink);
    }
    return false;
  }

  // Counted once the connection took the bytes, so a client that hangs up mid-body
  // counts only what it was sent.
  bool Write(const char* data, size_t size, httplib::DataSink& sink) {
    if (!sink.write(data, size)) return false;
    if (metrics != nullptr) metrics->CountBodyBytes(size);
    return true;
  }
};

std::string ContentTypeFor(const std::string& name) {
  constexpr std::string_view kJson = ".json";
  if (name.size() >= kJson.size() && name.compare(name.size() - kJson.size(), kJson.size(), kJson) == 0) {
    return "application/json";
  }
  return "application/octet-stream";
}

// Changes whenever the file is replaced or rewritten: a publisher renames a new file in
// (another inode) or a size or mtime changes.
std::string EntityTag(const struct stat& st) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "\"%llx-%llx-%llx.%lx\"", static_cast<unsigned long long>(st.st_ino),
                static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec),
                static_cast<long>(st.st_mtim.tv_nsec));
  return buf;
}

void SetText(Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text + "\n", "text/plain");
}

std::string Hex(const uint8_t* data, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

using TokenHash = std::array<uint8_t, crypto_generichash_BYTES>;

// Tokens are compared by their hashes, so the comparison takes the same time whatever
// the length or content of the token presented.
TokenHash HashToken(std::string_view token) {
  TokenHash hash;
  crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const uint8_t*>(token.data()),
                     token.size(), nullptr, 0);
  return hash;
}

// Printable ASCII only, so a request cannot forge lines in the access log.
std::string LogSafe(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", u);
      out += esc;
    } else {
      out += c;
    }
  }
  return out;
}

// When the store request this thread is answering was parsed. httplib gives no
// per-request state that lasts from the pre-routing handler to the logger, but it runs
// both, and everything between, on the one thread that serves the connection.
thread_local std::optional<std::chrono::steady_clock::time_point> store_request_start;

struct ListenAddress {
  std::string host;
  int port = 0;
};

Result<ListenAddress> ParseListenAddress(const std::string& text) {
  auto bad = [&] {
    return Status::InvalidArgument("bad listen address '" + text +
                                   "': give HOST:PORT, e.g. 127.0.0.1:8080, [::1]:8080 or "
                                   "0.0.0.0:0 (port 0 picks a free port)");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad();
  std::string host = text.substr(0, colon), port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad();  // An IPv6 address needs brackets.
  }
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos) {
    return bad();
  }
  int port = std::stoi(port_text);
  if (port > 65535) return bad();
  return ListenAddress{host, port};
}

// Why binding failed: httplib only says that it did, so the bind is tried again here to
// learn the reason.
Status BindFailure(const ListenAddress& address, const std::string& text) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  if (int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::InvalidArgument("cannot listen on " + text + ": host '" + address.host +
                                   "' does not resolve (" + gai_strerror(rc) + ")");
  }
  int fd = ::socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  int err = 0;
  if (fd < 0) {
    err = errno;
  } else {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0) err = errno;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  std::string msg = "cannot listen on " + text + ": ";
  switch (err) {
    case EADDRINUSE:
      return Status::Unavailable(msg + "address in use (stop the other server or choose another port)");
    case EADDRNOTAVAIL:
      return Status::InvalidArgument(msg + "not an address of this machine");
    case EACCES:
      return Status::Permission(msg + "permission denied (ports below 1024 need privileges)");
    case 0: return Status::Io(msg + "the server socket could not be set up");
    default: return Status::Io(msg + std::strerror(err));
  }
}

}  // namespace

class StoreServer::Impl {
 public:
  Impl(StoreServerOptions options, int store_fd, ListenAddress address)
      : options_(std::move(options)), store_fd_(store_fd), address_(std::move(address)) {
    for (const std::string& token : options_.bearer_tokens) token_hashes_.push_back(HashToken(token));
    Configure();
  }
  ~Impl() {
    Stop();
    Wait();
    ::close(store_fd_);
  }

  Result<int> Start() {
    int port = address_.port == 0 ? server_.bind_to_any_port(address_.host)
               : server_.bind_to_port(address_.host, address_.port) ? address_.port
                                                                    : -1;
    if (port < 0) return BindFailure(address_, options_.listen);
    metrics_.MarkStarted();
    running_ = true;
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      running_ = false;
    });
    // httplib's stop() does nothing until its accept loop runs; wait for it, so that a
    // Stop() right after Start() is not lost.
    while (running_ && !server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return port;
  }

  void Wait() {
    std::lock_guard<std::mutex> lock(wait_mutex_);
    if (thread_.joinable()) thread_.join();
  }

  void Stop() {
    if (!stop_requested_.exchange(true) && running_) server_.stop();
  }

  bool IsRunning() const { return running_; }

 private:
  void Configure() {
    size_t threads = options_.max_threads, queued = options_.max_queued_connections;
    server_.new_task_queue = [threads, queued] { return new BoundedThreadPool(threads, queued); };
    server_.set_keep_alive_max_count(std::max<size_t>(options_.keep_alive_requests, 1));
    server_.set_keep_alive_timeout(options_.keep_alive_timeout.count());
    server_.set_read_timeout(options_.read_timeout.count());
    server_.set_write_timeout(options_.write_timeout.count());
    server_.set_payload_max_length(kMaxRequestBody);
    // httplib writes the headers and the body in separate sends; with Nagle's algorithm
    // on, the body waits for the ACK of the headers, which the client delays: 40 ms per
    // request on a keep-alive connection (measured on loopback, one connection, 4 KiB:
    // 22 requests/s, and 4,900 with nodelay).
    server_.set_tcp_nodelay(true);
    // httplib's default sets SO_REUSEPORT, which lets a second server bind the same port
    // and silently share its connections; SO_REUSEADDR alone still allows a restart
    // while old connections linger in TIME_WAIT, and makes a port in use an error.
    server_.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    // GET, HEAD and the body-less methods are answered before routing; the methods that
    // carry a body go through routing, which reads the body first (see kMaxRequestBody).
    server_.set_pre_routing_handler([this](const Request& req, Response& res) {
      Began(req);
      if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
          req.method == "DELETE") {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      Respond(req, res);
      return httplib::Server::HandlerResponse::Handled;
    });
    auto respond = [this](const Request& req, Response& res) { Respond(req, res); };
    server_.Post(".*", respond);
    server_.Put(".*", respond);
    server_.Patch(".*", respond);
    server_.Delete(".*", respond);
    // httplib calls the logger once per request, after writing the response or failing
    // to, also for the requests it refuses itself before routing (400, 414, 416).
    server_.set_logger([this](const Request& req, const Response& res) { Finished(req, res); });
  }

  // A request parsed, about to be answered (httplib's pre-routing handler).
  void Began(const Request& req) {
    if (serve::IsServerEndpoint(req.path)) return;
    store_request_start = std::chrono::steady_clock::now();
    metrics_.StoreRequestBegan();
  }

  // A request answered: counted, then logged. A store request that httplib refused
  // before routing never began: it counts as an error but has no duration.
  void Finished(const Request& req, const Response& res) {
    metrics_.CountRequest(req.method, res.status);
    if (!serve::IsServerEndpoint(req.path)) {
      if (store_request_start) {
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - *store_request_start;
        store_request_start.reset();
        metrics_.StoreRequestEnded(took.count());
      }
      metrics_.CountStoreError(res.status);
      // File bodies count themselves as they are written (FileBody::Write).
      if (req.method != "HEAD") metrics_.CountBodyBytes(res.body.size());
    }
    if (options_.access_log) Log(req, res);
  }

  void Respond(const Request& req, Response& res) {
    // httplib would apply the ranges it parsed to whatever is sent; they are decided
    // here instead. The Request is httplib's own non-const object, handed over as const.
    const_cast<Request&>(req).ranges.clear();
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      return SetText(res, 405, "method not allowed: this server is read-only (GET, HEAD)");
    }
    if (req.path == serve::kHealthPath) return SetText(res, 200, "ok");
    if (req.path == serve::kMetricsPath) return AnswerMetrics(req, res);
    if (!Authorized(req, res)) return;
    Result<std::vector<std::string>> segments = serve::SplitTarget(req.target);
    if (!segments.ok()) return SetText(res, 400, "bad request: " + segments.status().message());
    Result<int> fd = serve::OpenStoreFile(store_fd_, *segments);
    if (!fd.ok()) {
      switch (fd.status().code()) {
        case StatusCode::kNotFound: return SetText(res, 404, "not found");
        case StatusCode::kPermission: return SetText(res, 403, "forbidden");
        default: return SetText(res, 500, "cannot read the file");
      }
    }
    auto body = std::make_shared<FileBody>();
    body->fd = *fd;
    body->metrics = &metrics_;
    ServeFile(req, res, segments->back(), std::move(body));
  }

  void AnswerMetrics(const Request& req, Response& res) {
    if (!options_.metrics_public && !Authorized(req, res)) return;
    res.status = 200;
    res.set_content(metrics_.Exposition(), serve::kMetricsContentType);
  }

  // 401 without a bearer token, 403 with a wrong one; true when the request may go on.
  bool Authorized(const Request& req, Response& res) const {
    if (token_hashes_.empty()) return true;
    std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kScheme = "bearer ";
    if (header.size() <= kScheme.size() ||
        !std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                    [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"reducto\"");
      SetText(res, 401, "unauthorized: send \"Authorization: Bearer <token>\"");
      return false;
    }
    TokenHash presented = HashToken(std::string_view(header).substr(kScheme.size()));
    bool match = false;
    for (const TokenHash& hash : token_hashes_) {
      match |= sodium_memcmp(hash.data(), presented.data(), hash.size()) == 0;
    }
    if (!match) SetText(res, 403, "forbidden: the bearer token is not accepted here");
    return match;
  }

  void ServeFile(const Request& req, Response& res, const std::string& name,
                 std::shared_ptr<FileBody> body) {
    struct stat st;
    if (::fstat(body->fd, &st) != 0) return SetText(res, 500, "cannot read the file");
    const auto size = static_cast<uint64_t>(st.st_size);
    const std::string etag = EntityTag(st);
    const std::string content_type = ContentTypeFor(name);
    res.set_header("ETag", etag);
    res.set_header("Last-Modified", serve::HttpDate(st.st_mtim.tv_sec));
    res.set_header("Accept-Ranges", "bytes");
    if (NotModified(req, etag, st.st_mtim.tv_sec)) {
      metrics_.CountNotModified();
      res.status = 304;
      return;
    }
    serve::RangeRequest ranges;
    if (req.has_header("Range") && IfRangeHolds(req, etag, st.st_mtim.tv_sec)) {
      ranges = serve::ParseRange(req.get_header_value("Range"), size);
    }
    switch (ranges.outcome) {
      case serve::RangeOutcome::kWhole:
        res.status = 200;
        body->pieces.push_back({"", 0, size});
        break;
      case serve::RangeOutcome::kUnsatisfiable:
        res.set_header("Content-Range", "bytes */" + std::to_string(size));
        return SetText(res, 416, "range not satisfiable");
      case serve::RangeOutcome::kPartial:
        // Ranges are only parsed when If-Range, if sent, names this version: the
        // client's partial copy is current and only the rest is sent.
        if (req.has_header("If-Range")) metrics_.CountNotModified();
        metrics_.CountPartial(ranges.ranges.size());
        res.status = 206;
        if (ranges.ranges.size() == 1) {
          const ByteRange& r = ranges.ranges[0];
          res.set_header("Content-Range", ContentRange(r, size));
          body->pieces.push_back({"", r.first, r.length});
          break;
        }
        return ServeMultipart(res, ranges.ranges, size, content_type, std::move(body));
    }
    SetBody(res, content_type, std::move(body));
  }

  // multipart/byteranges (RFC 9110, section 14.6), one part per range.
  static void ServeMultipart(Response& res, const std::vector<ByteRange>& ranges, uint64_t size,
                             const std::string& content_type, std::shared_ptr<FileBody> body) {
    uint8_t random[12];
    randombytes_buf(random, sizeof random);
    const std::string boundary = "reducto-" + Hex(random, sizeof random);
    for (size_t i = 0; i < ranges.size(); ++i) {
      std::string head = (i == 0 ? "--" : "\r\n--") + boundary + "\r\nContent-Type: " +
                         content_type + "\r\nContent-Range: " + ContentRange(ranges[i], size) +
                         "\r\n\r\n";
      body->pieces.push_back({std::move(head), 0, 0});
      body->pieces.push_back({"", ranges[i].first, ranges[i].length});
    }
    body->pieces.push_back({"\r\n--" + boundary + "--\r\n", 0, 0});
    SetBody(res, "multipart/byteranges; boundary=" + boundary, std::move(body));
  }

  static void SetBody(Response& res, const std::string& content_type, std::shared_ptr<FileBody> body) {
    uint64_t length = body->size();
    if (length == 0) {  // httplib wants a provider to have something to provide.
      res.set_header("Content-Type", content_type);
      res.set_header("Content-Length", "0");
      return;
    }
    res.set_content_provider(
        length, content_type,
        [body](size_t offset, size_t max_length, httplib::DataSink& sink) {
          return body->Provide(offset, max_length, sink);
        });
  }

  static std::string ContentRange(const ByteRange& r, uint64_t size) {
    return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.first + r.length - 1) + "/" +
           std::to_string(size);
  }

  // If-None-Match, or without it If-Modified-Since (RFC 9110, section 13.2.2).
  static bool NotModified(const Request& req, const std::string& etag, int64_t mtime) {
    if (req.has_header("If-None-Match")) {
      return serve::IfNoneMatchMatches(req.get_header_value("If-None-Match"), etag);
    }
    if (!req.has_header("If-Modified-Since")) return false;
    std::optional<int64_t> since = serve::ParseHttpDate(req.get_header_value("If-Modified-Since"));
    return since && mtime <= *since;
  }

  // Whether a Range header applies: always without If-Range; with it, only when it names
  // this version of the file, by strong ETag or by exactly its Last-Modified date.
  static bool IfRangeHolds(const Request& req, const std::string& etag, int64_t mtime) {
    if (!req.has_header("If-Range")) return true;
    std::string value = req.get_header_value("If-Range");
    if (!value.empty() && value.front() == '"') return value == etag;
    if (value.rfind("W/", 0) == 0) return false;  // A weak tag never validates a range.
    std::optional<int64_t> date = serve::ParseHttpDate(value);
    return date && *date == mtime;
  }

  void Log(const Request& req, const Response& res) const {
    std::string bytes = req.method == "HEAD" ? "0" : res.get_header_value("Content-Length");
    if (bytes.empty()) bytes = std::to_string(res.body.size());
    std::string range = req.has_header("Range") ? LogSafe(req.get_header_value("Range")) : "-";
    options_.access_log(LogSafe(req.remote_addr) + " \"" + LogSafe(req.method) + " " +
                        LogSafe(req.target) + "\" range=" + range + " " +
                        std::to_string(res.status) + " " + bytes);
  }

  StoreServerOptions options_;
  int store_fd_;
  ListenAddress address_;
  std::vector<TokenHash> token_hashes_;
  serve::ServeMetrics metrics_;  // Before server_: its threads count until it is gone.
  httplib::Server server_;
  std::thread thread_;
  std::mutex wait_mutex_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};
};

Result<std::unique_ptr<StoreServer>> StoreServer::Create(StoreServerOptions options) {
  if (sodium_init() < 0) return Status::Unavailable("libsodium could not be initialized");
  ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress(options.listen));
  struct stat st;
  if (::stat(options.store_dir.c_str(), &st) != 0) {
    return ErrnoStatus("serve the store", options.store_dir, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("cannot serve " + options.store_dir +
                                   ": not a directory (give the repository's base directory)");
  }
  int fd = ::open(options.store_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open the store", options.store_dir, errno);
  auto impl = std::make_unique<Impl>(std::move(options), fd, std::move(address));
  return std::unique_ptr<StoreServer>(new StoreServer(std::move(impl)));
}

StoreServer::StoreServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreServer::~StoreServer() = default;
Result<int> StoreServer::Start() { return impl_->Start(); }
void StoreServer::Wait() { impl_->Wait(); }
void StoreServer::Stop() { impl_->Stop(); }
bool StoreServer::IsRunning() const { return impl_->IsRunning(); }

}  // namespace reducto
