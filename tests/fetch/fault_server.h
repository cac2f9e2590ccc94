// The tests' own HTTP/1.1 server, with faults on demand: it serves the files of a
// directory on 127.0.0.1 (an OS-chosen port unless one is asked for), with single-range
// GETs, keep-alive connections and PUT, and misbehaves as scripted for the next
// requests, so that every failure of fetch/http_fetch.h can be produced on purpose.
// tests/fetch/fault_server_main.cc wraps it as the executable reducto-fault-server.
//
// Not a general web server: it reads each file whole for every request, and trusts
// nothing but its own directory (".." and absolute names are refused with 400).
//
// Thread safety: every method may be called from any thread while the server runs.
#ifndef REDUCTO_TESTS_FETCH_FAULT_SERVER_H_
#define REDUCTO_TESTS_FETCH_FAULT_SERVER_H_

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "reducto/status.h"

namespace reducto::testing {

enum class Fault {
  kNone,
  kRefuse,       // a new connection is closed at once, without an answer
  kStatus,       // the answer is status `arg` (404, 401, 403, 429, 500, 503, ...)
  kCutShort,     // the headers promise the whole body; half of it is sent, then close
  kStall,        // the headers, then nothing for `arg` seconds (default 30), then close
  kIgnoreRange,  // a ranged GET is answered 200 with the whole file
  kWrongBytes,   // one byte of the body is flipped
  kWrongRange,   // a ranged GET is answered 206 with a Content-Range one byte off
};

// "refuse", "status", "cut-short", "stall", "ignore-range", "wrong-bytes", "wrong-range",
// "none".
Result<Fault> ParseFault(const std::string& name);

class FaultServer {
 public:
  explicit FaultServer(std::string dir);
  ~FaultServer();  // Stop()
  FaultServer(const FaultServer&) = delete;
  FaultServer& operator=(const FaultServer&) = delete;

  // Listens on 127.0.0.1:`port` (0: the OS chooses) and serves in background threads.
  Status Start(int port = 0);
  // Closes every connection, even a stalled one, and joins every thread. Idempotent.
  void Stop();

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next `times` requests (for kRefuse: connections) get `fault`; times < 0: all of
  // them until the next Inject. Replaces the fault injected before.
  void Inject(Fault fault, int arg = 0, int times = 1);
  // Requests without "Authorization: Bearer <token>" get 401; with another token, 403.
  // Empty: none needed.
  void RequireToken(std::string token);

  int connections() const { return connections_; }  // accepted, refused ones included
  int requests() const { return requests_; }

 private:
  struct Script {
    Fault fault = Fault::kNone;
    int arg = 0;
    int times = 0;
  };
  struct Request;

  void AcceptLoop();
  void Serve(int fd);
  // The fault for this request (or, with `at_accept`, this connection), counted down.
  Script TakeFault(bool at_accept);
  // False when the connection must be closed.
  bool Answer(int fd, const Request& request);
  bool AnswerGet(int fd, const Request& request, const Script& script);
  bool AnswerPut(int fd, const Request& request);
  // Waits up to `ms` for `fd` to be readable; false on Stop() or timeout.
  bool WaitReadable(int fd, int ms) const;

  std::string dir_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // written once by Stop(): every poll sees it readable
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;  // guards script_, token_, workers_
  Script script_;
  std::string token_;
  std::vector<std::thread> workers_;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
};

}  // namespace reducto::testing

#endif  // REDUCTO_TESTS_FETCH_FAULT_SERVER_H_
