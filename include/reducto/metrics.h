// What an operation did and where its time went, counted by the library as it works
// (docs/monitoring.md lists every series): a front end passes a RunMetrics in an
// operation's options (CompressOptions::metrics, ...) and exports it afterwards, or
// while the operation runs, as JSON or in the Prometheus text format.
//
// Thread safety: every method may be called from any thread at any time; the
// operation's worker threads add their counts while a front end reads them for progress.
#ifndef REDUCTO_METRICS_H_
#define REDUCTO_METRICS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "reducto/status.h"

namespace reducto {

// Counts, each only growing while an operation runs.
enum class Counter : int {
  kInputBytes,      // Bytes the operation read: the target (compress), the container
                    // (decompress), the inputs (corpus build).
  kOutputBytes,     // Bytes it wrote: the container, the original, the pack.
  kOriginalBytes,   // Bytes of the original data (compress's input, decompress's output).
  kContainerBytes,  // Bytes of the container (compress's output, decompress's input).
  kCopyBytes,       // Original bytes sent as copies of corpus bytes.
  kCopies,          // COPY instructions.
  kDeltaBytes,      // Original bytes sent as deltas against corpus bytes.
  kDeltas,          // DELTA and ADD instructions.
  kLiteralBytes,    // Original bytes sent as literals.
  kChunks,          // Target chunks looked up in the corpus's index.
  kChunksFound,     // Of those, found in the corpus.
  kBlocks,          // Container blocks encoded or decoded.
  kFetchBytes,      // Bytes received from repositories (all requests, retries too).
  kFetchRequests,   // Requests made to repositories, retries included.
  kFetchRetries,
  kPiecesFetched,   // Corpus pieces fetched and verified.
  kPiecesCached,    // Corpus pieces needed and found in the cache.
  kCacheBytes,      // Corpus bytes read from the cache instead of fetched.
};
inline constexpr int kCounterCount = 18;
// The counter's name without the prefix ("input_bytes") and its one-line meaning.
const char* CounterName(Counter counter);
const char* CounterHelp(Counter counter);

// Where time goes. Each phase is timed on the thread that does it; phases done on several
// threads at once add up (their sum may exceed the wall time).
enum class Phase : int {
  kRead,        // Waiting for and copying input bytes (the target, the container).
  kChunk,       // Content-defined chunking of the target.
  kHash,        // Hashing target chunks for the corpus's index.
  kLookup,      // Looking chunks up in the corpus's index.
  kMatch,       // Extending matches and the local search; delta selection.
  kCompress,    // zstd compression of blocks (on the worker threads).
  kDecompress,  // zstd decompression of blocks.
  kRebuild,     // Executing instructions: copying corpus bytes, applying deltas.
  kVerify,      // Checking digests of the output.
  kFetch,       // Waiting for corpus pieces from repositories.
  kWrite,       // Writing output bytes.
};
inline constexpr int kPhaseCount = 11;
const char* PhaseName(Phase phase);  // "read", "chunk", ...

// The resource a run waited on most.
enum class Bound { kCpu, kIo, kNetwork };
const char* BoundName(Bound bound);  // "cpu", "io", "network".

struct Verdict {
  Bound bound = Bound::kCpu;
  double io_blocked_seconds = 0;       // Time in read and write not spent on the CPU.
  double network_blocked_seconds = 0;  // Time in fetch not spent on the CPU.
  double compute_seconds = 0;          // The rest of the wall time.
  std::string evidence;                // One sentence with the figures.
};

class RunMetrics {
 public:
  // Starts the wall clock and the process's CPU clock.
  RunMetrics();

  void Add(Counter counter, uint64_t n) {
    counters_[static_cast<int>(counter)].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Get(Counter counter) const {
    return counters_[static_cast<int>(counter)].load(std::memory_order_relaxed);
  }
  // Time spent in `phase`: wall nanoseconds, and the CPU nanoseconds of the thread that
  // did it where they were measured (docs/monitoring.md says which phases).
  void AddTime(Phase phase, uint64_t wall_ns, uint64_t cpu_ns) {
    wall_ns_[static_cast<int>(phase)].fetch_add(wall_ns, std::memory_order_relaxed);
    cpu_ns_[static_cast<int>(phase)].fetch_add(cpu_ns, std::memory_order_relaxed);
  }
  double PhaseWallSeconds(Phase phase) const;
  double PhaseCpuSeconds(Phase phase) const;

  // Since construction (or Restart): wall seconds, and the whole process's CPU seconds
  // (user + system, every thread).
  double WallSeconds() const;
  double CpuSeconds() const;
  // The process's peak resident memory so far (VmHWM).
  static uint64_t PeakMemoryBytes();
  // Stops the clocks (WallSeconds/CpuSeconds keep their values): call when the
  // operation ended, before exporting.
  void Stop();

  // Derived figures; 0 when their denominator is 0.
  double Ratio() const;            // original / container.
  double HitRate() const;          // chunks_found / chunks.
  double Coverage() const;         // (copy + delta) / original: the share of the original
                                   // taken from the corpus.
  double Throughput() const;       // Original bytes per wall second.
  // Which resource the run waited on most, from the phase times.
  Verdict Judge() const;

 private:
  std::array<std::atomic<uint64_t>, kCounterCount> counters_{};
  std::array<std::atomic<uint64_t>, kPhaseCount> wall_ns_{};
  std::array<std::atomic<uint64_t>, kPhaseCount> cpu_ns_{};
  std::chrono::steady_clock::time_point start_;
  double cpu_start_ = 0;
  std::atomic<bool> stopped_{false};
  double wall_at_stop_ = 0;
  double cpu_at_stop_ = 0;
};

// A failure's code as the exported `status` says it ("not_found", "corrupt", "io", ...;
// "ok"): the names of the C ABI's reducto_error_name.
const char* StatusLabel(StatusCode code);

// What a run was, beside its counts: the labels of the exported series.
struct RunLabels {
  std::string command;      // "compress", "corpus build", ...
  std::string status = "ok";  // "ok", or the failure's code ("not_found", ...).
  int exit_code = 0;
  // Further labels: "profile", "corpus_id", ... (empty values are left out).
  std::map<std::string, std::string> extra;
};

// The run as one JSON object (docs/monitoring.md, "The JSON document"), with a trailing
// newline.
std::string MetricsJson(const RunMetrics& metrics, const RunLabels& labels);
// The run in the Prometheus text exposition format (version 0.0.4), written by
// prometheus-cpp: every counter, derived figure and phase time as a gauge named
// reducto_<name>, labelled with the command.
std::string MetricsPrometheusText(const RunMetrics& metrics, const RunLabels& labels);

// Sends a running operation's series (those of MetricsPrometheusText) to a Prometheus
// Pushgateway every `interval`, from a thread of its own, under job "reducto" with the
// grouping labels command and instance (the host name): a dashboard sees a long run
// progress. Finish() pushes once more, with the final labels. Each push replaces the
// group's previous one (HTTP PUT).
class MetricsPusher {
 public:
  // `url`: "http://HOST:PORT" of the Pushgateway (https too; no path). InvalidArgument
  // for anything else is reported by Start.
  MetricsPusher(const RunMetrics& metrics, RunLabels labels, std::string url,
                std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~MetricsPusher();  // Stops the thread (without the final push when Finish was not called).
  MetricsPusher(const MetricsPusher&) = delete;
  MetricsPusher& operator=(const MetricsPusher&) = delete;

  // Checks the URL and starts pushing.
  Status Start();
  // Stops the thread and pushes the final state with `labels`. Unavailable, naming the
  // gateway and its answer, when that last push failed (earlier failures are counted).
  Status Finish(const RunLabels& labels);
  // Pushes that failed so far.
  int failures() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace reducto

#endif  // REDUCTO_METRICS_H_
