#include "fetch/http_fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <list>
#include <mutex>
#include <random>
#include <string_view>
#include <vector>

#include "storage/storage.h"

namespace reducto {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxBackoffMs = 5000;
// The longest curl_multi_poll waits, so that a retry whose delay ends while transfers
// run is started soon after.
constexpr int kMaxPollMs = 1000;
constexpr char kUserAgent[] = "reducto";

enum class Scheme { kHttp, kHttps, kFile };

// A remote as checked once per call: nothing is sent for a malformed one.
struct Target {
  Scheme scheme;
  std::string base_url;  // without a trailing '/'
  bool send_token;
};

// One request as the engine runs it: a GET of a range or a whole object, or a PUT.
struct Job {
  size_t index;  // into the caller's requests
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;  // 0: whole
  uint64_t max_bytes = 0;
  bool put = false;
  std::span<const uint8_t> upload;
};

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         strncasecmp(text.data(), prefix.data(), prefix.size()) == 0;
}

Status MakeStatus(StatusCode code, std::string message) {
  switch (code) {
    case StatusCode::kOk: return Status::Ok();
    case StatusCode::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case StatusCode::kNotFound: return Status::NotFound(std::move(message));
    case StatusCode::kCorrupt: return Status::Corrupt(std::move(message));
    case StatusCode::kIntegrity: return Status::Integrity(std::move(message));
    case StatusCode::kIo: return Status::Io(std::move(message));
    case StatusCode::kUnavailable: return Status::Unavailable(std::move(message));
    case StatusCode::kPermission: return Status::Permission(std::move(message));
  }
  return Status::Unavailable(std::move(message));
}

// A server's status line or a consumer's message could echo the token back; no message
// leaves this file with it.
Status Redact(const Status& status, const std::string& token) {
  if (status.ok() || token.empty()) return status;
  static constexpr std::string_view kMark = "<token>";
  std::string message = status.message();
  // Searching on after the mark: a token such as "token" must not match inside it.
  for (size_t at = message.find(token); at != std::string::npos;
       at = message.find(token, at + kMark.size())) {
    message.replace(at, token.size(), kMark);
  }
  return MakeStatus(status.code(), std::move(message));
}

bool IsLoopbackHost(const std::string& host) {
  if (strcasecmp(host.c_str(), "localhost") == 0 || host == "[::1]") return true;
  in_addr v4;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 &&
         (ntohl(v4.s_addr) >> 24) == 127;
}

Result<std::string> HostOf(const std::string& url) {
  CURLU* parsed = curl_url();
  if (parsed == nullptr) return Status::Unavailable("curl_url: out of memory");
  char* host = nullptr;
  CURLUcode rc = curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0);
  if (rc == CURLUE_OK) rc = curl_url_get(parsed, CURLUPART_HOST, &host, 0);
  std::string result = host != nullptr ? host : "";
  curl_free(host);
  curl_url_cleanup(parsed);
  if (rc != CURLUE_OK) {
    return Status::InvalidArgument("'" + url + "' is not a usable URL (" +
                                   curl_url_strerror(rc) + ")");
  }
  return result;
}

bool TokenIsPrintable(const std::string& token) {
  return std::all_of(token.begin(), token.end(),
                     [](char c) { return c > ' ' && c < 0x7f; });
}

Result<Target> TargetOf(const Remote& remote) {
  Target target;
  const std::string& url = remote.base_url;
  if (StartsWithNoCase(url, "https://")) {
    target.scheme = Scheme::kHttps;
  } else if (StartsWithNoCase(url, "http://")) {
    target.scheme = Scheme::kHttp;
  } else if (StartsWithNoCase(url, "file://")) {
    target.scheme = Scheme::kFile;
  } else {
    return Status::InvalidArgument("'" + url +
                                   "' is not a repository URL: use https://, http:// or file://");
  }
  target.base_url = url;
  while (!target.base_url.empty() && target.base_url.back() == '/') target.base_url.pop_back();
  target.send_token = !remote.bearer_token.empty() && target.scheme != Scheme::kFile;
  if (!target.send_token) return target;
  // Checked before any header is built: a line break would split the header.
  if (!TokenIsPrintable(remote.bearer_token)) {
    return Status::InvalidArgument("the bearer token for " + target.base_url +
                                   " has spaces or control characters: check how it was read");
  }
  if (target.scheme == Scheme::kHttp) {
    ASSIGN_OR_RETURN(std::string host, HostOf(target.base_url));
    if (!IsLoopbackHost(host)) {
      return Status::InvalidArgument("refusing to send the bearer token in clear text to " +
                                     target.base_url + ": use https (plain http with a token "
                                     "is only for loopback hosts)");
    }
  }
  return target;
}

// `path` percent-encoded but for its '/' separators.
std::string EncodePath(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

Status CheckJob(const Job& job) {
  if (!IsStorageName(job.path)) {
    return Status::InvalidArgument("'" + job.path + "' is not an object name inside a "
                                   "repository (a relative path without '.', '..' or empty parts)");
  }
  if (job.put || job.length != 0) return Status::Ok();
  if (job.offset != 0) {
    return Status::InvalidArgument("a request for the whole of " + job.path +
                                   " has offset " + std::to_string(job.offset) +
                                   ": give a length for a range");
  }
  if (job.max_bytes == 0) {
    return Status::InvalidArgument("a request for the whole of " + job.path +
                                   " needs max_bytes, the most it may be");
  }
  if (job.max_bytes >= std::string().max_size()) {
    return Status::InvalidArgument("max_bytes for " + job.path + " is too large to hold");
  }
  return Status::Ok();
}

// Why a transfer ended, judged once it is over.
struct Outcome {
  Status status;
  bool retry = false;
  std::string advice;  // what to do, after the count of attempts
};

Outcome Retry(Status status) { return {std::move(status), true, ""}; }
Outcome Final(Status status) { return {std::move(status), false, ""}; }

// One attempt at one Job: an easy handle and what its callbacks saw.
struct Transfer {
  const Job* job = nullptr;
  int attempt = 0;  // 1 for the first try
  Scheme scheme = Scheme::kHttp;
  bool sent_token = false;
  std::string url;
  std::string what;  // "GET <url> bytes a-b", for messages
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  uint64_t* bytes_received = nullptr;

  long status = 0;          // of the last status line; 0 for file://
  std::string status_line;  // "503 Service Unavailable"
  std::string content_range;
  uint64_t content_length = UINT64_MAX;  // unknown
  std::string body;
  size_t uploaded = 0;
  // Set by a callback that stopped the transfer, which curl then reports as a write error.
  Outcome refusal;

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
  bool ranged() const { return !job->put && job->length != 0; }
  bool http() const { return scheme != Scheme::kFile; }
  bool success_status() const { return status >= 200 && status < 300; }
  std::string ExpectedRange() const {
    return std::to_string(job->offset) + "-" + std::to_string(job->offset + job->length - 1);
  }
  std::string Answered() const {
    return status_line.empty() ? std::to_string(status) : status_line;
  }
  Status Unavailable(const std::string& why) const { return Status::Unavailable(what + ": " + why); }
};

std::string_view TrimLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) {
    line.remove_suffix(1);
  }
  return line;
}

// The value of header `name` in `line`, or nullopt when the line is another header.
std::optional<std::string_view> HeaderValue(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':' || !StartsWithNoCase(line, name)) {
    return std::nullopt;
  }
  std::string_view value = line.substr(name.size() + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return value;
}

// Judges a response's headers as soon as they are complete, so that a wrong answer is
// dropped before its body arrives. False stops the transfer.
bool HeadersComplete(Transfer& t) {
  if (t.status < 200 || !t.success_status()) return true;  // 1xx, or judged at the end
  if (t.ranged()) {
    std::string expected = "bytes " + t.ExpectedRange() + "/";
    if (t.status != 206 || !t.content_range.starts_with(expected)) {
      t.refusal = Retry(t.Unavailable(t.Answered() + " with Content-Range '" + t.content_range +
                                      "' to a request for bytes " + t.ExpectedRange()));
      return false;
    }
    return true;
  }
  if (!t.job->put && t.content_length != UINT64_MAX && t.content_length > t.job->max_bytes) {
    t.refusal = Final(Status::Corrupt(t.what + ": the object has " +
                                      std::to_string(t.content_length) + " bytes, more than the " +
                                      std::to_string(t.job->max_bytes) + " allowed"));
    return false;
  }
  return true;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t total = size * count;
  std::string_view line = TrimLine({data, total});
  if (line.starts_with("HTTP/")) {  // a new response (after a 1xx, or the first)
    size_t space = line.find(' ');
    t.status_line = space == std::string_view::npos ? "" : std::string(line.substr(space + 1));
    t.status = std::strtol(t.status_line.c_str(), nullptr, 10);
    t.content_range.clear();
    t.content_length = UINT64_MAX;
    // A whole object where a range was asked: stop before its body arrives.
    if (t.ranged() && t.status == 200) {
      t.refusal = Retry(t.Unavailable(t.Answered() + " with the whole object to a ranged request "
                                      "(the server ignores Range; the transfer was stopped)"));
      return 0;
    }
    return total;
  }
  if (line.empty()) return HeadersComplete(t) ? total : 0;
  if (auto value = HeaderValue(line, "content-range")) t.content_range = std::string(*value);
  if (auto value = HeaderValue(line, "content-length")) {
    t.content_length = std::strtoull(std::string(*value).c_str(), nullptr, 10);
  }
  return total;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t total = size * count;
  *t.bytes_received += total;
  // An error page, or a PUT's answer: only the status matters.
  if (t.job->put || (t.http() && !t.success_status())) return total;
  uint64_t limit = t.ranged() ? t.job->length : t.job->max_bytes;
  if (total > limit - t.body.size()) {
    if (t.ranged()) {
      t.refusal = Retry(t.Unavailable("sent more than the " + std::to_string(t.job->length) +
                                      " bytes asked"));
    } else {
      t.refusal = Final(Status::Corrupt(t.what + ": the object is larger than the " +
                                        std::to_string(t.job->max_bytes) + " bytes allowed"));
    }
    return 0;
  }
  t.body.append(data, total);
  return total;
}

size_t OnUpload(char* out, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t n = std::min(size * count, t.job->upload.size() - t.uploaded);
  std::copy_n(t.job->upload.data() + t.uploaded, n, out);
  t.uploaded += n;
  return n;
}

// A failure curl reported itself (t.refusal was not set).
Outcome JudgeCurlError(const Transfer& t, CURLcode result) {
  std::string why = t.error[0] != '\0' ? t.error : curl_easy_strerror(result);
  switch (result) {
    case CURLE_FILE_COULDNT_READ_FILE:
      return Final(Status::NotFound(t.what + ": " + why));
    case CURLE_BAD_DOWNLOAD_RESUME:  // file:// with a range that starts past the end
      if (!t.http()) return Final(t.Unavailable(why + ": the file is shorter"));
      return Retry(t.Unavailable(why));
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return Final(Status::InvalidArgument(t.what + ": " + why));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      return Final(Status::Permission(t.what + ": " + why +
                                      " (the server's certificate is not trusted: check ca_file)"));
    default:  // connection refused, DNS, timeouts, stalls, a body cut short, ...
      return Retry(t.Unavailable(why));
  }
}

Outcome JudgeHttpStatus(const Transfer& t) {
  long code = t.status;
  if (code == 404 || code == 410) return Final(Status::NotFound(t.what + ": " + t.Answered()));
  if (code == 401 || code == 403) {
    Outcome outcome = Final(Status::Permission(t.what + ": " + t.Answered()));
    outcome.advice = t.sent_token ? "check the repository's bearer token"
                                  : "no bearer token was sent: configure one for this repository";
    return outcome;
  }
  if (code == 429 || code == 416 || code >= 500) return Retry(t.Unavailable(t.Answered()));
  if (!t.success_status() || (t.ranged() && code != 206) || (!t.ranged() && !t.job->put && code != 200)) {
    return Final(t.Unavailable("unexpected answer " + t.Answered() +
                               " (redirects are not followed)"));
  }
  return {};
}

Outcome Judge(const Transfer& t, CURLcode result) {
  if (!t.refusal.status.ok()) return t.refusal;
  if (result != CURLE_OK) return JudgeCurlError(t, result);
  if (t.http()) {
    Outcome outcome = JudgeHttpStatus(t);
    if (!outcome.status.ok()) return outcome;
  }
  if (t.ranged() && t.body.size() != t.job->length) {
    std::string why = "got " + std::to_string(t.body.size()) + " of the " +
                      std::to_string(t.job->length) + " bytes asked";
    // A local file that is shorter than asked stays so.
    if (!t.http()) return Final(t.Unavailable(why + ": the file is shorter"));
    return Retry(t.Unavailable(why));
  }
  return {};
}

std::string DescribeJob(const Job& job, const std::string& url) {
  std::string what = (job.put ? "PUT " : "GET ") + url;
  if (!job.put && job.length != 0) {
    what += " bytes " + std::to_string(job.offset) + "-" +
            std::to_string(job.offset + job.length - 1);
  }
  return what;
}

std::string Attempts(int n) { return std::to_string(n) + (n == 1 ? " attempt" : " attempts"); }

// Collects the first failure of a series of curl_easy_setopt calls.
class EasyOptions {
 public:
  explicit EasyOptions(CURL* easy) : easy_(easy) {}
  template <typename T>
  void Set(CURLoption option, T value) {
    CURLcode rc = curl_easy_setopt(easy_, option, value);
    if (rc != CURLE_OK && first_ == CURLE_OK) first_ = rc;
  }
  // HTTP/2 is a preference: a libcurl built without it speaks HTTP/1.1.
  void Prefer(CURLoption option, long value) {
    CURLcode rc = curl_easy_setopt(easy_, option, value);
    if (rc != CURLE_OK && rc != CURLE_UNSUPPORTED_PROTOCOL && first_ == CURLE_OK) first_ = rc;
  }
  CURLcode result() const { return first_; }

 private:
  CURL* easy_;
  CURLcode first_ = CURLE_OK;
};

Status AddHeaders(Transfer& t, const Remote& remote) {
  std::vector<std::string> lines = {"Expect:"};  // a PUT does not wait for 100 Continue
  if (t.sent_token) lines.push_back("Authorization: Bearer " + remote.bearer_token);
  for (const std::string& line : lines) {
    curl_slist* grown = curl_slist_append(t.headers, line.c_str());
    if (grown == nullptr) return Status::Unavailable(t.what + ": curl_slist_append: out of memory");
    t.headers = grown;
  }
  return Status::Ok();
}

Status Configure(Transfer& t, const Remote& remote) {
  RETURN_IF_ERROR(AddHeaders(t, remote));
  const FetchTimeouts& timeouts = remote.timeouts;
  EasyOptions o(t.easy);
  o.Set(CURLOPT_URL, t.url.c_str());
  o.Set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  o.Set(CURLOPT_ERRORBUFFER, t.error);
  o.Set(CURLOPT_NOSIGNAL, 1L);
  o.Set(CURLOPT_PROTOCOLS_STR, t.http() ? "http,https" : "file");
  o.Set(CURLOPT_FOLLOWLOCATION, 0L);
  o.Set(CURLOPT_USERAGENT, kUserAgent);
  o.Set(CURLOPT_HTTPHEADER, t.headers);
  o.Set(CURLOPT_HEADERFUNCTION, OnHeader);
  o.Set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  o.Set(CURLOPT_WRITEFUNCTION, OnBody);
  o.Set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  o.Set(CURLOPT_CONNECTTIMEOUT, static_cast<long>(timeouts.connect_seconds));
  o.Set(CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(timeouts.low_speed_bytes));
  o.Set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(timeouts.low_speed_seconds));
  o.Set(CURLOPT_TIMEOUT, static_cast<long>(timeouts.total_seconds));
  o.Set(CURLOPT_SSL_VERIFYPEER, 1L);
  o.Set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!remote.ca_file.empty()) o.Set(CURLOPT_CAINFO, remote.ca_file.c_str());
  o.Prefer(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  o.Set(CURLOPT_PIPEWAIT, 1L);
  std::string range;
  if (t.ranged()) {
    range = t.ExpectedRange();
    o.Set(CURLOPT_RANGE, range.c_str());  // curl copies it
    t.body.reserve(t.job->length);
  }
  if (t.job->put) {
    o.Set(CURLOPT_UPLOAD, 1L);
    o.Set(CURLOPT_READFUNCTION, OnUpload);
    o.Set(CURLOPT_READDATA, static_cast<void*>(&t));
    o.Set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.job->upload.size()));
  }
  if (o.result() != CURLE_OK) {
    return Status::Unavailable(t.what + ": curl_easy_setopt: " + curl_easy_strerror(o.result()));
  }
  return Status::Ok();
}

// A request waiting for its next attempt.
struct Waiting {
  const Job* job;
  int attempt;
  Clock::time_point not_before;
};

}  // namespace

struct HttpFetcher::Multi {
  explicit Multi(int max_in_flight);
  ~Multi();
  Status Run(const Remote& remote, const std::vector<Job>& jobs, const FetchConsumer& consume,
             FetchStats* stats);

 private:
  // One call's state.
  struct Call {
    const Remote* remote;
    Target target;
    const FetchConsumer* consume;
    FetchStats tally;
    std::deque<Waiting> waiting;
    std::list<Transfer> running;
  };
  Status Start(Call& call, const Waiting& next);
  Status StartReady(Call& call);
  // Handles finished transfers; a non-OK result is the call's final failure.
  Status Finish(Call& call);
  Status Settle(Call& call, Transfer& t, CURLcode result);
  void Abandon(Call& call);
  int PollTimeoutMs(const Call& call) const;
  std::chrono::milliseconds Backoff(const Remote& remote, int attempts_made);

  int max_in_flight_;
  CURLM* multi_ = nullptr;
  Status setup_;
  std::mt19937_64 jitter_{std::random_device{}()};
};

HttpFetcher::Multi::Multi(int max_in_flight) : max_in_flight_(std::max(1, max_in_flight)) {
  static CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);  // once, thread-safe
  if (global != CURLE_OK) {
    setup_ = Status::Unavailable(std::string("curl_global_init: ") + curl_easy_strerror(global));
    return;
  }
  multi_ = curl_multi_init();
  if (multi_ == nullptr) {
    setup_ = Status::Unavailable("curl_multi_init failed");
    return;
  }
  CURLMcode rc = curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  // Idle connections are kept for the next call.
  if (rc == CURLM_OK) rc = curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(max_in_flight_));
  if (rc != CURLM_OK) setup_ = Status::Unavailable(std::string("curl_multi_setopt: ") + curl_multi_strerror(rc));
}

HttpFetcher::Multi::~Multi() {
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
}

std::chrono::milliseconds HttpFetcher::Multi::Backoff(const Remote& remote, int attempts_made) {
  double base = std::max(0, remote.backoff_ms);
  for (int i = 1; i < attempts_made && base < kMaxBackoffMs; ++i) base *= 2;
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  double ms = std::min<double>(base * jitter(jitter_), kMaxBackoffMs);
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

Status HttpFetcher::Multi::Start(Call& call, const Waiting& next) {
  Transfer& t = call.running.emplace_back();
  t.job = next.job;
  t.attempt = next.attempt;
  t.scheme = call.target.scheme;
  t.sent_token = call.target.send_token;
  t.url = call.target.base_url + "/" + EncodePath(next.job->path);
  t.what = DescribeJob(*next.job, t.url);
  t.bytes_received = &call.tally.bytes_received;
  t.easy = curl_easy_init();
  if (t.easy == nullptr) return Status::Unavailable(t.what + ": curl_easy_init failed");
  RETURN_IF_ERROR(Configure(t, *call.remote));
  CURLMcode rc = curl_multi_add_handle(multi_, t.easy);
  if (rc != CURLM_OK) {
    return Status::Unavailable(t.what + ": curl_multi_add_handle: " + curl_multi_strerror(rc));
  }
  ++call.tally.requests;
  return Status::Ok();
}

Status HttpFetcher::Multi::StartReady(Call& call) {
  Clock::time_point now = Clock::now();
  for (auto it = call.waiting.begin();
       it != call.waiting.end() && call.running.size() < static_cast<size_t>(max_in_flight_);) {
    if (it->not_before > now) {
      ++it;
      continue;
    }
    Waiting next = *it;
    it = call.waiting.erase(it);
    RETURN_IF_ERROR(Start(call, next));
  }
  return Status::Ok();
}

Status HttpFetcher::Multi::Settle(Call& call, Transfer& t, CURLcode result) {
  Outcome outcome = Judge(t, result);
  if (outcome.status.ok() && !t.job->put) {
    Status consumed = (*call.consume)(t.job->index, std::move(t.body));
    if (!consumed.ok()) {
      outcome = Retry(consumed.WithContext(t.what));
    }
  }
  if (outcome.status.ok()) return Status::Ok();
  if (outcome.retry && t.attempt < call.remote->attempts) {
    ++call.tally.retries;
    call.waiting.push_back({t.job, t.attempt + 1, Clock::now() + Backoff(*call.remote, t.attempt)});
    return Status::Ok();
  }
  const Status& s = outcome.status;
  std::string advice = outcome.advice.empty() ? "" : ": " + outcome.advice;
  return MakeStatus(s.code(), s.message() + " (" + Attempts(t.attempt) + ")" + advice);
}

Status HttpFetcher::Multi::Finish(Call& call) {
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    CURLcode result = message->data.result;
    auto it = std::find_if(call.running.begin(), call.running.end(),
                           [easy](const Transfer& t) { return t.easy == easy; });
    CURLMcode rc = curl_multi_remove_handle(multi_, easy);
    if (it == call.running.end()) continue;  // not ours: cannot happen
    Status settled = rc == CURLM_OK ? Settle(call, *it, result)
                                    : Status::Unavailable(it->what + ": curl_multi_remove_handle: " +
                                                          curl_multi_strerror(rc));
    call.running.erase(it);
    RETURN_IF_ERROR(settled);
  }
  return Status::Ok();
}

void HttpFetcher::Multi::Abandon(Call& call) {
  // Nothing useful is left to do with an error here: the handles are freed either way.
  for (Transfer& t : call.running) (void)curl_multi_remove_handle(multi_, t.easy);
  call.running.clear();
  call.waiting.clear();
}

int HttpFetcher::Multi::PollTimeoutMs(const Call& call) const {
  auto wait = std::chrono::milliseconds(kMaxPollMs);
  Clock::time_point now = Clock::now();
  for (const Waiting& w : call.waiting) {
    wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::max(w.not_before - now, Clock::duration::zero())));
  }
  return static_cast<int>(wait.count());
}

Status HttpFetcher::Multi::Run(const Remote& remote, const std::vector<Job>& jobs,
                               const FetchConsumer& consume, FetchStats* stats) {
  RETURN_IF_ERROR(setup_);
  ASSIGN_OR_RETURN(Target target, TargetOf(remote));
  for (const Job& job : jobs) RETURN_IF_ERROR(CheckJob(job));
  if (remote.attempts < 1) {
    return Status::InvalidArgument("attempts for " + target.base_url + " must be at least 1");
  }
  Call call{&remote, std::move(target), &consume, {}, {}, {}};
  for (const Job& job : jobs) call.waiting.push_back({&job, 1, Clock::now()});
  Status failure;
  while (failure.ok() && (!call.waiting.empty() || !call.running.empty())) {
    failure = StartReady(call);
    if (!failure.ok()) break;
    int still_running = 0;
    CURLMcode rc = curl_multi_perform(multi_, &still_running);
    if (rc != CURLM_OK) {
      failure = Status::Unavailable(std::string("curl_multi_perform: ") + curl_multi_strerror(rc));
      break;
    }
    failure = Finish(call);
    if (!failure.ok() || (call.waiting.empty() && call.running.empty())) break;
    rc = curl_multi_poll(multi_, nullptr, 0, PollTimeoutMs(call), nullptr);
    if (rc != CURLM_OK) {
      failure = Status::Unavailable(std::string("curl_multi_poll: ") + curl_multi_strerror(rc));
    }
  }
  Abandon(call);
  if (stats != nullptr) {
    stats->requests += call.tally.requests;
    stats->retries += call.tally.retries;
    stats->bytes_received += call.tally.bytes_received;
  }
  return Redact(failure, remote.bearer_token);
}

HttpFetcher::HttpFetcher(int max_in_flight) : multi_(std::make_unique<Multi>(max_in_flight)) {}

HttpFetcher::~HttpFetcher() = default;

Status HttpFetcher::Fetch(const Remote& remote, std::span<const FetchRequest> requests,
                          const FetchConsumer& consume, FetchStats* stats) {
  std::vector<Job> jobs;
  jobs.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const FetchRequest& r = requests[i];
    jobs.push_back({i, r.path, r.offset, r.length, r.max_bytes, false, {}});
  }
  return multi_->Run(remote, jobs, consume, stats);
}

Result<std::string> HttpFetcher::FetchWhole(const Remote& remote, const std::string& path,
                                            uint64_t max_bytes, FetchStats* stats) {
  FetchRequest request{path, 0, 0, max_bytes};
  std::string object;
  RETURN_IF_ERROR(Fetch(remote, {&request, 1},
                        [&object](size_t, std::string&& body) {
                          object = std::move(body);
                          return Status::Ok();
                        },
                        stats));
  return object;
}

Status HttpFetcher::Put(const Remote& remote, const std::string& path,
                        std::span<const uint8_t> data) {
  if (StartsWithNoCase(remote.base_url, "file://")) {
    return Status::InvalidArgument("cannot PUT to " + remote.base_url +
                                   ": publish to the directory instead");
  }
  std::vector<Job> jobs = {{0, path, 0, 0, 0, true, data}};
  return multi_->Run(remote, jobs, FetchConsumer(), nullptr);
}

bool IsRemoteUrl(const std::string& text) {
  return StartsWithNoCase(text, "http://") || StartsWithNoCase(text, "https://") ||
         StartsWithNoCase(text, "file://");
}

}  // namespace reducto
