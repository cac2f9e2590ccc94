#include "serve/serve_metrics.h"

#include <prometheus/text_serializer.h>

#include <array>

namespace reducto::serve {
namespace {

// Upper bounds in seconds, from a loopback answer from the page cache (well under a
// millisecond) to a pack segment streamed over a slow WAN link.
const prometheus::Histogram::BucketBoundaries kDurationBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

constexpr std::array<std::string_view, 9> kErrorKinds = {
    "bad_request", "unauthorized", "forbidden", "not_found", "method",
    "too_large",   "bad_range",    "internal",  "other"};

prometheus::Family<prometheus::Counter>& CounterFamily(prometheus::Registry& registry,
                                                       const std::string& name,
                                                       const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Counter& SingleCounter(prometheus::Registry& registry, const std::string& name,
                                   const std::string& help) {
  return CounterFamily(registry, name, help).Add({});
}

prometheus::Gauge& SingleGauge(prometheus::Registry& registry, const std::string& name,
                               const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

}  // namespace

bool IsServerEndpoint(std::string_view path) { return path == kMetricsPath || path == kHealthPath; }

namespace {

// The index of the method's label in kMethodLabels.
size_t MethodIndex(std::string_view method) {
  for (size_t i = 0; i + 1 < kMethodLabels.size(); ++i) {
    if (method == kMethodLabels[i]) return i;
  }
  return kMethodLabels.size() - 1;
}

}  // namespace

std::string_view MethodLabel(std::string_view method) { return kMethodLabels[MethodIndex(method)]; }

std::string_view ErrorKind(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method";
    case 413:
    case 414:
    case 431: return "too_large";
    case 416: return "bad_range";
    default: break;
  }
  if (status >= 500) return "internal";
  if (status >= 400) return "other";
  return "";
}

ServeMetrics::ServeMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(CounterFamily(*registry_, "reducto_serve_requests_total",
                              "Requests answered, by method and status code, /metrics and "
                              "/healthz included.")),
      errors_(CounterFamily(*registry_, "reducto_serve_errors_total",
                            "Store requests answered with a 4xx or 5xx status, by kind.")),
      response_bytes_(SingleCounter(*registry_, "reducto_serve_response_bytes_total",
                                    "Body bytes of store responses written to clients.")),
      range_requests_(SingleCounter(*registry_, "reducto_serve_range_requests_total",
                                    "Store requests answered 206 Partial Content.")),
      ranges_(SingleCounter(*registry_, "reducto_serve_ranges_total",
                            "Byte ranges served in 206 answers, each part of a multipart "
                            "answer counted.")),
      not_modified_(SingleCounter(*registry_, "reducto_serve_not_modified_total",
                                  "Conditional requests answered from the client's cached "
                                  "copy: 304 Not Modified, and ranges kept by If-Range.")),
      duration_(prometheus::BuildHistogram()
                    .Name("reducto_serve_request_duration_seconds")
                    .Help("Time from a store request parsed to its response written.")
                    .Register(*registry_)
                    .Add({}, kDurationBuckets)),
      in_flight_(SingleGauge(*registry_, "reducto_serve_in_flight_requests",
                             "Store requests being answered now.")),
      start_time_(SingleGauge(*registry_, "reducto_serve_start_time_seconds",
                              "When the server started, in seconds since the Unix epoch.")) {
  for (std::string_view kind : kErrorKinds) errors_.Add({{"kind", std::string(kind)}});
}

void ServeMetrics::MarkStarted() { start_time_.SetToCurrentTime(); }

void ServeMetrics::StoreRequestBegan() { in_flight_.Increment(); }

void ServeMetrics::StoreRequestEnded(double seconds) {
  in_flight_.Decrement();
  duration_.Observe(seconds);
}

void ServeMetrics::CountRequest(std::string_view method, int status) {
  RequestSeries(MethodIndex(method), status).Increment();
}

prometheus::Counter& ServeMetrics::RequestSeries(size_t method, int status) {
  auto add = [&]() -> prometheus::Counter& {
    return requests_.Add(
        {{"method", std::string(kMethodLabels[method])}, {"code", std::to_string(status)}});
  };
  if (status < kFirstStatus || status > kLastStatus) return add();
  std::atomic<prometheus::Counter*>& slot = request_series_[method][status - kFirstStatus];
  prometheus::Counter* series = slot.load(std::memory_order_acquire);
  if (series == nullptr) {
    // Family::Add returns the series already there for the same labels, so two threads
    // racing here store the same pointer.
    series = &add();
    slot.store(series, std::memory_order_release);
  }
  return *series;
}

void ServeMetrics::CountStoreError(int status) {
  std::string_view kind = ErrorKind(status);
  if (!kind.empty()) errors_.Add({{"kind", std::string(kind)}}).Increment();
}

void ServeMetrics::CountBodyBytes(uint64_t bytes) {
  if (bytes != 0) response_bytes_.Increment(static_cast<double>(bytes));
}

void ServeMetrics::CountPartial(size_t ranges) {
  range_requests_.Increment();
  ranges_.Increment(static_cast<double>(ranges));
}

void ServeMetrics::CountNotModified() { not_modified_.Increment(); }

std::string ServeMetrics::Exposition() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace reducto::serve
