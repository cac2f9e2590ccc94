// MetricsPusher: the series of a running operation, pushed to a Pushgateway through
// prometheus-cpp's Gateway (libcurl).
#include <prometheus/collectable.h>
#include <prometheus/gateway.h>
#include <prometheus/registry.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "metrics/prometheus_registry.h"
#include "reducto/metrics.h"

namespace reducto {
namespace {

// The run's series as they are at each Collect(): what the gateway is sent.
class RunCollectable final : public prometheus::Collectable {
 public:
  RunCollectable(const RunMetrics& metrics, RunLabels labels)
      : metrics_(metrics), labels_(std::move(labels)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return RunRegistry(metrics_, labels_)->Collect();
  }
  void set_labels(RunLabels labels) {
    std::lock_guard<std::mutex> lock(mutex_);
    labels_ = std::move(labels);
  }

 private:
  const RunMetrics& metrics_;
  mutable std::mutex mutex_;
  RunLabels labels_;
};

// "http://host:port" split as prometheus-cpp's Gateway takes it: scheme and host, port.
bool SplitGatewayUrl(const std::string& url, std::string* host, std::string* port) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  const std::string protocol = url.substr(0, scheme);
  if (protocol != "http" && protocol != "https") return false;
  const size_t colon = url.rfind(':');
  if (colon == std::string::npos || colon <= scheme) return false;
  *host = url.substr(0, colon);
  *port = url.substr(colon + 1);
  while (!port->empty() && port->back() == '/') port->pop_back();
  return !port->empty() && port->find_first_not_of("0123456789") == std::string::npos &&
         host->size() > scheme + 3;
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

}  // namespace

struct MetricsPusher::State {
  std::shared_ptr<RunCollectable> collectable;
  std::string url;
  std::chrono::milliseconds interval;
  std::unique_ptr<prometheus::Gateway> gateway;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::atomic<int> failures{0};

  // HTTP 2xx from the gateway; anything else (or no answer: a negative code) fails.
  int PushOnce() {
    const int code = gateway->Push();
    if (code < 200 || code >= 300) failures.fetch_add(1);
    return code;
  }

  void Loop() {
    std::unique_lock<std::mutex> lock(mutex);
    while (!wake.wait_for(lock, interval, [this] { return stopping; })) {
      lock.unlock();
      PushOnce();
      lock.lock();
    }
  }

  void StopThread() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    if (thread.joinable()) thread.join();
  }
};

MetricsPusher::MetricsPusher(const RunMetrics& metrics, RunLabels labels, std::string url,
                             std::chrono::milliseconds interval)
    : state_(std::make_unique<State>()) {
  state_->collectable = std::make_shared<RunCollectable>(metrics, std::move(labels));
  state_->url = std::move(url);
  state_->interval = interval;
}

MetricsPusher::~MetricsPusher() { state_->StopThread(); }

Status MetricsPusher::Start() {
  std::string host;
  std::string port;
  if (!SplitGatewayUrl(state_->url, &host, &port)) {
    return Status::InvalidArgument("--metrics-push " + state_->url +
                                   ": give the Pushgateway as http://HOST:PORT");
  }
  state_->gateway = std::make_unique<prometheus::Gateway>(
      host, port, "reducto", prometheus::Labels{{"instance", HostName()}});
  state_->gateway->RegisterCollectable(state_->collectable);
  state_->thread = std::thread([state = state_.get()] { state->Loop(); });
  return Status::Ok();
}

Status MetricsPusher::Finish(const RunLabels& labels) {
  state_->StopThread();
  if (state_->gateway == nullptr) return Status::Ok();
  state_->collectable->set_labels(labels);
  const int code = state_->PushOnce();
  if (code >= 200 && code < 300) return Status::Ok();
  return Status::Unavailable("the Pushgateway at " + state_->url + " did not take the run's " +
                             "metrics (" + (code < 0 ? std::string("no answer") :
                                            "HTTP " + std::to_string(code)) +
                             "): check that it runs and the URL");
}

int MetricsPusher::failures() const { return state_->failures.load(); }

}  // namespace reducto
