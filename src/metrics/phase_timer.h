// Times one phase of an operation into a RunMetrics (reducto/metrics.h), when there is
// one: with none, nothing is read from any clock.
#ifndef REDUCTO_METRICS_PHASE_TIMER_H_
#define REDUCTO_METRICS_PHASE_TIMER_H_

#include <time.h>

#include <chrono>
#include <cstdint>

#include "reducto/metrics.h"

namespace reducto {

// The CPU time of the calling thread, in nanoseconds.
inline uint64_t ThreadCpuNanos() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(now.tv_nsec);
}

// How a phase's CPU time is known (docs/monitoring.md, "Phases"):
// - kMeasured: the thread's CPU clock, read at both ends. For phases timed in large
//   steps (reads, writes, fetches, a block's compression), where the call costs little
//   against the work and where waiting must be told from computing.
// - kComputing: phases that only compute on the CPU, timed per chunk or per match
//   (chunking, hashing, look-ups, matching), where reading the thread's CPU clock (a
//   system call) would cost more than the work: their CPU time is their wall time.
enum class CpuTime { kMeasured, kComputing };

class PhaseTimer {
 public:
  PhaseTimer(RunMetrics* metrics, Phase phase, CpuTime cpu = CpuTime::kComputing)
      : metrics_(metrics), phase_(phase), cpu_(cpu) {
    if (metrics_ == nullptr) return;
    start_ = std::chrono::steady_clock::now();
    if (cpu_ == CpuTime::kMeasured) cpu_start_ = ThreadCpuNanos();
  }
  ~PhaseTimer() {
    if (metrics_ == nullptr) return;
    const auto wall = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                             start_)
            .count());
    const uint64_t cpu = cpu_ == CpuTime::kMeasured ? ThreadCpuNanos() - cpu_start_ : wall;
    metrics_->AddTime(phase_, wall, cpu);
  }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  RunMetrics* metrics_;
  Phase phase_;
  CpuTime cpu_;
  std::chrono::steady_clock::time_point start_;
  uint64_t cpu_start_ = 0;
};

}  // namespace reducto

#endif  // REDUCTO_METRICS_PHASE_TIMER_H_
