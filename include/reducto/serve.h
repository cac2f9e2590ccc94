// A corpus repository served read-only over HTTP (`reducto serve`, docs/serve.md).
//
// A StoreServer answers GET and HEAD for the regular files under one directory, with
// byte ranges (one, or several as multipart/byteranges), validators (ETag,
// Last-Modified) and conditional requests, so that receivers fetch a repository with
// Range requests. It never writes, never lists a directory and never follows a symbolic
// link: a path reaches a file only through real directories below the store. It also
// answers GET /healthz and GET /metrics (its live counts in the Prometheus text format,
// docs/monitoring.md); a store file at either path is not reachable.
//
// Thread safety: Start, Wait and Stop may be called from different threads; Stop may be
// called from any thread, Wait from one. Requests are served on the server's own
// threads.
#ifndef REDUCTO_SERVE_H_
#define REDUCTO_SERVE_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "reducto/status.h"

namespace reducto {

struct StoreServerOptions {
  // The directory served. It may itself be reached through a symbolic link; nothing
  // below it is.
  std::string store_dir;
  // "HOST:PORT" ("[::1]:PORT" for IPv6); PORT 0 lets the system pick a free port,
  // which Start() returns.
  std::string listen = "127.0.0.1:0";
  // When not empty, every request but GET /healthz (and /metrics when metrics_public)
  // must carry "Authorization: Bearer <one of these>".
  std::set<std::string> bearer_tokens;
  // Answer /metrics without a token even when bearer_tokens is set. The counts reveal
  // traffic, not store contents; still, by default a scraper needs a token like any
  // reader.
  bool metrics_public = false;
  // Threads serving connections. A connection holds its thread for its keep-alive
  // lifetime, bounded by keep_alive_requests and the timeouts below.
  size_t max_threads = 8;
  // Accepted connections waiting for a thread; past this, the server stops accepting
  // and further connections wait in the kernel's listen queue.
  size_t max_queued_connections = 64;
  // Requests served on one connection before it is closed, and how long an idle
  // connection is kept.
  size_t keep_alive_requests = 100;
  std::chrono::seconds keep_alive_timeout{5};
  // Longest wait for one read from, or one write to, a client: a client that stops
  // reading or sending frees its thread after this.
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{30};
  // Called after each request with one line (no newline): client, method, target,
  // Range header, status, body bytes. Never the Authorization header. Null: no log.
  // Called from the serving threads, concurrently.
  std::function<void(const std::string& line)> access_log;
};

class StoreServer {
 public:
  // Checks the options: NotFound when store_dir does not exist, InvalidArgument when
  // it is not a directory or `listen` is not HOST:PORT, Permission when it cannot be
  // opened. Ignores SIGPIPE for the whole process (a client hanging up must not end it).
  static Result<std::unique_ptr<StoreServer>> Create(StoreServerOptions options);
  ~StoreServer();  // Stops and waits.
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

  // Binds the address and starts serving on background threads; returns the port bound.
  // Unavailable when the address is in use, InvalidArgument when the host does not
  // resolve to a local address. REQUIRES: called once.
  Result<int> Start();
  // Blocks until the server has stopped (Stop, or the listening socket failed).
  void Wait();
  // Stops accepting, lets the requests in progress finish and returns; Wait() then
  // returns. Safe to call more than once, and before Start().
  void Stop();
  // True from Start() until the server stops.
  bool IsRunning() const;

 private:
  class Impl;
  explicit StoreServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a token file: one bearer token per line; blank lines and lines starting with
// '#' are skipped, surrounding spaces trimmed. NotFound / Permission / Io when it cannot
// be read, InvalidArgument when it holds no token or a token with spaces or control
// characters. The messages never quote a token.
Result<std::set<std::string>> ReadBearerTokenFile(const std::string& path);

}  // namespace reducto

#endif  // REDUCTO_SERVE_H_
