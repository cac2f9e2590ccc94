// The live series of `reducto serve`, exposed at GET /metrics in the Prometheus text
// format 0.0.4 (docs/monitoring.md, "reducto serve: /metrics", lists every one).
//
// "Store requests" are every request but those for the server's own endpoints
// (/metrics, /healthz): those are counted in requests_total only, so that scrapes and
// health checks do not show up as store traffic, errors or latency.
//
// Thread safety: every method may be called from any thread at any time.
#ifndef REDUCTO_SERVE_SERVE_METRICS_H_
#define REDUCTO_SERVE_SERVE_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace reducto::serve {

// The paths the server answers itself; everything else names a store file.
constexpr std::string_view kMetricsPath = "/metrics";
constexpr std::string_view kHealthPath = "/healthz";
bool IsServerEndpoint(std::string_view path);

// Content-Type of the text exposition format, version 0.0.4.
constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The `method` label: the method when it is one of HTTP's registered ones, else "other",
// so that a client cannot create a series per invented method.
constexpr std::array<std::string_view, 10> kMethodLabels = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other"};
std::string_view MethodLabel(std::string_view method);
// The `kind` label of reducto_serve_errors_total for a response status: "bad_request"
// (400), "unauthorized" (401), "forbidden" (403), "not_found" (404), "method" (405),
// "too_large" (413, 414, 431), "bad_range" (416), "internal" (5xx), "other" (any other
// 4xx); empty for a status below 400, which is not an error.
std::string_view ErrorKind(int status);

class ServeMetrics {
 public:
  // Creates every series; the error kinds exist at 0 from the start so that rate() over
  // them is defined before the first error.
  ServeMetrics();

  // Sets reducto_serve_start_time_seconds to now.
  void MarkStarted();

  // A store request was parsed and is being answered: one more in flight.
  void StoreRequestBegan();
  // A store request's response was written (or its connection failed while writing):
  // one fewer in flight, its duration observed.
  void StoreRequestEnded(double seconds);
  // Every request, once answered, whatever its path.
  void CountRequest(std::string_view method, int status);
  // A store request answered with `status`: counted by kind when it is an error.
  void CountStoreError(int status);
  // Body bytes of store responses handed to the connection.
  void CountBodyBytes(uint64_t bytes);
  // A 206 answer with `ranges` ranges (parts of a multipart answer).
  void CountPartial(size_t ranges);
  // A conditional request the client's cached copy answered: a 304, or a Range kept
  // because its If-Range still named the file's current version.
  void CountNotModified();

  // Every series in the text format 0.0.4.
  std::string Exposition() const;

 private:
  prometheus::Counter& RequestSeries(size_t method, int status);

  // requests_total's series for each method and status from 100 to 599, found on first
  // use: later requests reach theirs without building labels or taking the family's
  // lock (measured: that was most of the cost per request).
  static constexpr int kFirstStatus = 100, kLastStatus = 599;
  std::array<std::array<std::atomic<prometheus::Counter*>, kLastStatus - kFirstStatus + 1>,
             kMethodLabels.size()>
      request_series_{};

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Counter& response_bytes_;
  prometheus::Counter& range_requests_;
  prometheus::Counter& ranges_;
  prometheus::Counter& not_modified_;
  prometheus::Histogram& duration_;
  prometheus::Gauge& in_flight_;
  prometheus::Gauge& start_time_;
};

}  // namespace reducto::serve

#endif  // REDUCTO_SERVE_SERVE_METRICS_H_
