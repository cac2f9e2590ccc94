// The transport for corpus repositories (issue 18): byte ranges and whole objects of a
// repository reached by http://, https:// or file://, many at once over one libcurl
// multi handle, with retries where a retry can help. docs/fetch.md describes what is
// retried and what the messages say.
//
// Anchor: restic's backend `Load(handle, length, offset, fn)`, a ranged read whose
// bytes go to a consumer that may refuse them; retrying is layered here rather than
// left to every caller.
//
// The bearer token is sent only over https, or over plain http to a loopback host
// (127.0.0.0/8, ::1, localhost), so that it never crosses a network in clear text; any
// other http remote with a token is refused with InvalidArgument before anything is
// sent. The token never appears in a message: every message is built without it, and
// anything a server or a consumer says is scrubbed of it.
//
// Thread safety: an HttpFetcher is used by one thread at a time (its connections are
// its own); distinct fetchers may run on different threads.
#ifndef REDUCTO_FETCH_HTTP_FETCH_H_
#define REDUCTO_FETCH_HTTP_FETCH_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "reducto/status.h"

namespace reducto {

struct FetchTimeouts {
  int connect_seconds = 10;
  int low_speed_bytes = 1024;    // a transfer slower than this ...
  int low_speed_seconds = 20;    // ... for this long is stalled (CURLOPT_LOW_SPEED_*)
  int total_seconds = 0;         // 0: no limit on a whole transfer
};

struct Remote {                  // one repository
  std::string base_url;          // "https://host/path", "http://...", "file:///dir"; no trailing '/'
  std::string bearer_token;      // empty: none. Never in a message, log or error.
  std::string ca_file;           // empty: the system's CAs. TLS verification is always on.
  FetchTimeouts timeouts;
  int attempts = 4;              // tries per request, retries included
  int backoff_ms = 200;          // first retry delay; doubles, with +-50% jitter, capped at 5 s
};

struct FetchRequest {
  std::string path;              // relative to base_url, '/'-separated, e.g. "corpora/<id>/pack/000000.pz"
  uint64_t offset = 0;
  uint64_t length = 0;           // 0: the whole object (no Range header), at most max_bytes
  uint64_t max_bytes = 0;        // whole objects only: refuse (Corrupt) anything larger
};

// Fetch and FetchWhole add this call's counts to the caller's FetchStats.
struct FetchStats {
  uint64_t requests = 0;         // transfers started, retries included
  uint64_t retries = 0;
  uint64_t bytes_received = 0;   // body bytes received, all attempts
};

// Called on the thread that called Fetch, once per request, with its complete body
// (exactly `length` bytes for a ranged request). A non-OK status says the bytes are
// wrong (e.g. a digest mismatch): the request is retried, and Fetch fails with that
// status when the attempts run out.
using FetchConsumer = std::function<Status(size_t index, std::string&& body)>;

class HttpFetcher {
 public:
  explicit HttpFetcher(int max_in_flight = 8);
  ~HttpFetcher();
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  // Fetches all `requests` from `remote`, up to max_in_flight transfers at once on one
  // CURLM multi handle (connections reused between requests and calls; HTTP/2
  // multiplexing over TLS where the server offers it: CURLPIPE_MULTIPLEX,
  // CURL_HTTP_VERSION_2TLS, CURLOPT_PIPEWAIT). OK when every body was consumed OK.
  // Else the first final failure, with a message that names the URL and what the
  // server answered (status line, curl's error), never the token:
  //   NotFound   404 / 410, or a file:// path that does not exist (not retried)
  //   Permission 401 / 403 (not retried; message says to check the token), or a
  //              server certificate that does not verify (not retried)
  //   Unavailable connection refused, DNS failure, timeouts, stalls, 5xx, 429,
  //              a body cut short, a 200 answer to a ranged request (aborted at its
  //              header: never download a whole object by accident), 416, a wrong
  //              Content-Range — all retried with backoff and jitter until attempts run out
  //   Corrupt    a whole object larger than max_bytes (not retried)
  //   whatever the consumer returned, after the attempts
  //   InvalidArgument a malformed remote or request (nothing is sent): a base_url that
  //              is not http(s):// or file://, a path that is not a relative '/'-separated
  //              name, a whole-object request without max_bytes or with an offset, a
  //              token for plain http to a host other than loopback
  // Requests that were not consumed when a final failure happens are abandoned.
  // REQUIRES: remote.attempts >= 1 (else InvalidArgument).
  Status Fetch(const Remote& remote, std::span<const FetchRequest> requests,
               const FetchConsumer& consume, FetchStats* stats = nullptr);
  // One whole object (e.g. a manifest), at most max_bytes. Errors as Fetch.
  Result<std::string> FetchWhole(const Remote& remote, const std::string& path,
                                 uint64_t max_bytes, FetchStats* stats = nullptr);
  // HTTP(S) PUT of `data` to `path` (for publishing to a server that accepts PUT);
  // file:// is refused (InvalidArgument: publish to a directory instead). Any 2xx
  // answer is success; retried as Fetch (a PUT is idempotent).
  Status Put(const Remote& remote, const std::string& path, std::span<const uint8_t> data);

 private:
  struct Multi;  // the CURLM handle and the jitter's random source
  std::unique_ptr<Multi> multi_;
};

// True for http://, https:// and file:// URLs.
bool IsRemoteUrl(const std::string& text);

}  // namespace reducto

#endif  // REDUCTO_FETCH_HTTP_FETCH_H_
