// The run's verdict, and its export as JSON and in the Prometheus text format.
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "metrics/prometheus_registry.h"
#include "reducto/metrics.h"

namespace reducto {
namespace {

// Time a phase that waits (read, write, fetch) spent off the CPU.
double BlockedSeconds(const RunMetrics& metrics, Phase phase) {
  return std::max(0.0, metrics.PhaseWallSeconds(phase) - metrics.PhaseCpuSeconds(phase));
}

std::string Seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", seconds);
  return text;
}

std::string Percent(double part, double whole) {
  char text[16];
  std::snprintf(text, sizeof text, "%.0f%%", whole > 0 ? 100 * part / whole : 0.0);
  return text;
}

nlohmann::ordered_json CountersJson(const RunMetrics& metrics) {
  nlohmann::ordered_json counters = nlohmann::ordered_json::object();
  for (int i = 0; i < kCounterCount; ++i) {
    counters[CounterName(static_cast<Counter>(i))] = metrics.Get(static_cast<Counter>(i));
  }
  return counters;
}

nlohmann::ordered_json PhasesJson(const RunMetrics& metrics) {
  nlohmann::ordered_json phases = nlohmann::ordered_json::object();
  for (int i = 0; i < kPhaseCount; ++i) {
    const Phase phase = static_cast<Phase>(i);
    phases[PhaseName(phase)] = {{"wall_seconds", metrics.PhaseWallSeconds(phase)},
                                {"cpu_seconds", metrics.PhaseCpuSeconds(phase)}};
  }
  return phases;
}

nlohmann::ordered_json VerdictJson(const Verdict& verdict) {
  return {{"bound", BoundName(verdict.bound)},
          {"io_blocked_seconds", verdict.io_blocked_seconds},
          {"network_blocked_seconds", verdict.network_blocked_seconds},
          {"compute_seconds", verdict.compute_seconds},
          {"evidence", verdict.evidence}};
}

// One gauge family reducto_<name> with one series labelled by `labels`.
void SetGauge(prometheus::Registry& registry, const std::string& name, const std::string& help,
              const prometheus::Labels& labels, double value) {
  auto& family =
      prometheus::BuildGauge().Name("reducto_" + name).Help(help).Register(registry);
  family.Add(labels).Set(value);
}

void SetPhaseGauges(prometheus::Registry& registry, const RunMetrics& metrics,
                    const prometheus::Labels& labels) {
  auto& wall = prometheus::BuildGauge()
                   .Name("reducto_phase_wall_seconds")
                   .Help("Wall time spent in each phase, summed over the threads doing it.")
                   .Register(registry);
  auto& cpu = prometheus::BuildGauge()
                  .Name("reducto_phase_cpu_seconds")
                  .Help("CPU time of the threads in each phase (docs/monitoring.md).")
                  .Register(registry);
  for (int i = 0; i < kPhaseCount; ++i) {
    const Phase phase = static_cast<Phase>(i);
    prometheus::Labels with_phase = labels;
    with_phase["phase"] = PhaseName(phase);
    wall.Add(with_phase).Set(metrics.PhaseWallSeconds(phase));
    cpu.Add(with_phase).Set(metrics.PhaseCpuSeconds(phase));
  }
}

void SetVerdictGauge(prometheus::Registry& registry, const Verdict& verdict,
                     const prometheus::Labels& labels) {
  auto& bound = prometheus::BuildGauge()
                    .Name("reducto_bound")
                    .Help("1 for the resource the run waited on most (cpu, io, network).")
                    .Register(registry);
  for (Bound each : {Bound::kCpu, Bound::kIo, Bound::kNetwork}) {
    prometheus::Labels with_resource = labels;
    with_resource["resource"] = BoundName(each);
    bound.Add(with_resource).Set(each == verdict.bound ? 1 : 0);
  }
}

prometheus::Labels InfoLabels(const RunLabels& labels) {
  prometheus::Labels info{{"command", labels.command}, {"status", labels.status}};
  for (const auto& [key, value] : labels.extra) {
    if (!value.empty()) info[key] = value;
  }
  return info;
}

}  // namespace

Verdict RunMetrics::Judge() const {
  Verdict verdict;
  verdict.io_blocked_seconds =
      BlockedSeconds(*this, Phase::kRead) + BlockedSeconds(*this, Phase::kWrite);
  verdict.network_blocked_seconds = BlockedSeconds(*this, Phase::kFetch);
  const double wall = WallSeconds();
  verdict.compute_seconds =
      std::max(0.0, wall - verdict.io_blocked_seconds - verdict.network_blocked_seconds);
  if (verdict.network_blocked_seconds > std::max(verdict.io_blocked_seconds,
                                                 verdict.compute_seconds)) {
    verdict.bound = Bound::kNetwork;
  } else if (verdict.io_blocked_seconds > verdict.compute_seconds) {
    verdict.bound = Bound::kIo;
  }
  verdict.evidence = "waiting on reads and writes " + Seconds(verdict.io_blocked_seconds) + " (" +
                     Percent(verdict.io_blocked_seconds, wall) + " of " + Seconds(wall) +
                     " wall), on repositories " + Seconds(verdict.network_blocked_seconds) +
                     " (" + Percent(verdict.network_blocked_seconds, wall) + "), computing " +
                     Seconds(verdict.compute_seconds) + " (" +
                     Percent(verdict.compute_seconds, wall) + ", " + Seconds(CpuSeconds()) +
                     " of CPU on all threads)";
  return verdict;
}

std::string MetricsJson(const RunMetrics& metrics, const RunLabels& labels) {
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  for (const auto& [key, value] : labels.extra) {
    if (!value.empty()) extra[key] = value;
  }
  nlohmann::ordered_json document = {
      {"reducto_metrics", 1},
      {"command", labels.command},
      {"status", labels.status},
      {"exit_code", labels.exit_code},
      {"labels", extra},
      {"counters", CountersJson(metrics)},
      {"ratio", metrics.Ratio()},
      {"hit_rate", metrics.HitRate()},
      {"coverage", metrics.Coverage()},
      {"throughput_bytes_per_second", metrics.Throughput()},
      {"wall_seconds", metrics.WallSeconds()},
      {"cpu_seconds", metrics.CpuSeconds()},
      {"peak_memory_bytes", RunMetrics::PeakMemoryBytes()},
      {"phases", PhasesJson(metrics)},
      {"verdict", VerdictJson(metrics.Judge())},
  };
  return document.dump(2) + "\n";
}

std::shared_ptr<prometheus::Registry> RunRegistry(const RunMetrics& metrics,
                                                  const RunLabels& labels) {
  auto shared = std::make_shared<prometheus::Registry>();
  prometheus::Registry& registry = *shared;
  const prometheus::Labels command{{"command", labels.command}};
  SetGauge(registry, "run_info", "1, labelled with what the run was and how it ended.",
           InfoLabels(labels), 1);
  SetGauge(registry, "exit_code", "The process's exit status.", command, labels.exit_code);
  for (int i = 0; i < kCounterCount; ++i) {
    const Counter counter = static_cast<Counter>(i);
    SetGauge(registry, CounterName(counter), CounterHelp(counter), command,
             static_cast<double>(metrics.Get(counter)));
  }
  SetGauge(registry, "ratio", "Original bytes per container byte.", command, metrics.Ratio());
  SetGauge(registry, "hit_rate", "Share of target chunks found in the corpus.", command,
           metrics.HitRate());
  SetGauge(registry, "coverage", "Share of original bytes taken from the corpus.", command,
           metrics.Coverage());
  SetGauge(registry, "throughput_bytes_per_second", "Original bytes per wall second.", command,
           metrics.Throughput());
  SetGauge(registry, "wall_seconds", "Wall time of the run.", command, metrics.WallSeconds());
  SetGauge(registry, "cpu_seconds", "CPU time of the process, all threads.", command,
           metrics.CpuSeconds());
  SetGauge(registry, "peak_memory_bytes", "Peak resident memory of the process.", command,
           static_cast<double>(RunMetrics::PeakMemoryBytes()));
  SetPhaseGauges(registry, metrics, command);
  SetVerdictGauge(registry, metrics.Judge(), command);
  return shared;
}

std::string MetricsPrometheusText(const RunMetrics& metrics, const RunLabels& labels) {
  return prometheus::TextSerializer().Serialize(RunRegistry(metrics, labels)->Collect());
}

}  // namespace reducto
