#include "reducto/metrics.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace reducto {
namespace {

struct CounterRow {
  const char* name;
  const char* help;
};

// In the order of enum Counter.
constexpr CounterRow kCounters[kCounterCount] = {
    {"input_bytes", "Bytes the operation read (target, container or corpus inputs)."},
    {"output_bytes", "Bytes the operation wrote (container, original or pack)."},
    {"original_bytes", "Bytes of the original data."},
    {"container_bytes", "Bytes of the container."},
    {"copy_bytes", "Original bytes sent as copies of corpus bytes."},
    {"copies", "COPY instructions."},
    {"delta_bytes", "Original bytes sent as deltas against corpus bytes."},
    {"deltas", "DELTA and ADD instructions."},
    {"literal_bytes", "Original bytes sent as literals."},
    {"chunks", "Target chunks looked up in the corpus index."},
    {"chunks_found", "Target chunks found in the corpus index."},
    {"blocks", "Container blocks encoded or decoded."},
    {"fetch_bytes", "Bytes received from repositories."},
    {"fetch_requests", "Requests made to repositories, retries included."},
    {"fetch_retries", "Requests to repositories that were retries."},
    {"pieces_fetched", "Corpus pieces fetched from repositories and verified."},
    {"pieces_cached", "Corpus pieces needed and found in the cache."},
    {"cache_bytes", "Corpus bytes read from the cache instead of fetched."},
};

// In the order of enum Phase.
constexpr const char* kPhases[kPhaseCount] = {"read",       "chunk",   "hash",   "lookup",
                                              "match",      "compress", "decompress", "rebuild",
                                              "verify",     "fetch",   "write"};

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double Share(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0;
}

}  // namespace

const char* CounterName(Counter counter) { return kCounters[static_cast<int>(counter)].name; }
const char* CounterHelp(Counter counter) { return kCounters[static_cast<int>(counter)].help; }
const char* PhaseName(Phase phase) { return kPhases[static_cast<int>(phase)]; }

const char* StatusLabel(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kCorrupt: return "corrupt";
    case StatusCode::kIntegrity: return "integrity";
    case StatusCode::kIo: return "io";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kPermission: return "permission";
  }
  return "unknown";
}

const char* BoundName(Bound bound) {
  switch (bound) {
    case Bound::kCpu: return "cpu";
    case Bound::kIo: return "io";
    case Bound::kNetwork: return "network";
  }
  return "cpu";
}

RunMetrics::RunMetrics()
    : start_(std::chrono::steady_clock::now()), cpu_start_(ProcessCpuSeconds()) {}

double RunMetrics::PhaseWallSeconds(Phase phase) const {
  return static_cast<double>(wall_ns_[static_cast<int>(phase)].load()) / 1e9;
}

double RunMetrics::PhaseCpuSeconds(Phase phase) const {
  return static_cast<double>(cpu_ns_[static_cast<int>(phase)].load()) / 1e9;
}

double RunMetrics::WallSeconds() const {
  if (stopped_.load()) return wall_at_stop_;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double RunMetrics::CpuSeconds() const {
  if (stopped_.load()) return cpu_at_stop_;
  return ProcessCpuSeconds() - cpu_start_;
}

void RunMetrics::Stop() {
  if (stopped_.load()) return;
  wall_at_stop_ = WallSeconds();
  cpu_at_stop_ = CpuSeconds();
  stopped_.store(true);
}

uint64_t RunMetrics::PeakMemoryBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "VmHWM: %llu kB", &kib) == 1) return kib * 1024;
  }
  rusage usage{};  // Without /proc: the same peak, as getrusage keeps it.
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

double RunMetrics::Ratio() const {
  return Share(static_cast<double>(Get(Counter::kOriginalBytes)),
               static_cast<double>(Get(Counter::kContainerBytes)));
}

double RunMetrics::HitRate() const {
  return Share(static_cast<double>(Get(Counter::kChunksFound)),
               static_cast<double>(Get(Counter::kChunks)));
}

double RunMetrics::Coverage() const {
  return Share(static_cast<double>(Get(Counter::kCopyBytes) + Get(Counter::kDeltaBytes)),
               static_cast<double>(Get(Counter::kOriginalBytes)));
}

double RunMetrics::Throughput() const {
  return Share(static_cast<double>(Get(Counter::kOriginalBytes)), WallSeconds());
}

}  // namespace reducto
