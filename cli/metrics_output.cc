#include "metrics_output.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "command.h"
#include "reducto/io.h"

namespace reducto::cli {
namespace {

// The one command of this process.
struct CommandState {
  std::unique_ptr<RunMetrics> metrics;
  std::mutex mutex;  // Guards labels and total, which the progress thread reads.
  RunLabels labels;
  std::optional<uint64_t> total;
  std::unique_ptr<MetricsPusher> pusher;
  std::thread progress;  // --progress json, or the terminal line.
  std::condition_variable wake;
  bool stopping = false;
  bool line_drawn_elsewhere = false;  // NoteProgressLineDrawn.
};

CommandState& State() {
  static CommandState state;
  return state;
}

double Share(double part, double whole) { return whole > 0 ? part / whole : 0; }

// One line of --progress json: where the command stands.
nlohmann::json ProgressLine(const RunMetrics& metrics, const std::string& command,
                            std::optional<uint64_t> total) {
  const double elapsed = metrics.WallSeconds();
  const uint64_t done = metrics.Get(Counter::kInputBytes);
  const double rate = Share(static_cast<double>(done), elapsed);
  nlohmann::json line = {{"type", "progress"},
                         {"command", command},
                         {"elapsed_seconds", elapsed},
                         {"input_bytes", done},
                         {"output_bytes", metrics.Get(Counter::kOutputBytes)},
                         {"fetch_bytes", metrics.Get(Counter::kFetchBytes)},
                         {"rate_bytes_per_second", rate},
                         {"total_bytes", nullptr},
                         {"fraction", nullptr},
                         {"eta_seconds", nullptr}};
  if (total && *total > 0) {
    line["total_bytes"] = *total;
    line["fraction"] = std::min(1.0, Share(static_cast<double>(done), static_cast<double>(*total)));
    if (rate > 0 && done <= *total) line["eta_seconds"] = static_cast<double>(*total - done) / rate;
  }
  return line;
}

void PrintLine(const nlohmann::json& line) {
  std::fprintf(stderr, "%s\n", line.dump().c_str());
  std::fflush(stderr);
}

void ProgressLoop(CommandState* state) {
  std::unique_lock<std::mutex> lock(state->mutex);
  while (!state->wake.wait_for(lock, std::chrono::seconds(1), [state] { return state->stopping; })) {
    PrintLine(ProgressLine(*state->metrics, state->labels.command, state->total));
  }
}

// "corpus fetch: 31.4 MiB fetched, 1589 pieces, 12.3 MiB/s, 0:03", from the counts.
std::string TerminalLine(const RunMetrics& metrics, const std::string& command) {
  const double elapsed = metrics.WallSeconds();
  const uint64_t fetched = metrics.Get(Counter::kFetchBytes);
  const uint64_t read = metrics.Get(Counter::kInputBytes);
  const uint64_t done = fetched > 0 ? fetched : read;
  char text[200];
  std::snprintf(text, sizeof text, "%s: %s %s, %llu pieces, %s/s, %.0f s", command.c_str(),
                HumanBytes(done).c_str(), fetched > 0 ? "fetched" : "read",
                static_cast<unsigned long long>(metrics.Get(Counter::kPiecesFetched) +
                                                metrics.Get(Counter::kPiecesCached)),
                HumanBytes(static_cast<uint64_t>(Share(static_cast<double>(done), elapsed))).c_str(),
                elapsed);
  return text;
}

// The line for commands without their own: after a second, redrawn four times a second
// while the command counts something; erased at the end.
void TerminalLoop(CommandState* state) {
  bool drawn = false;
  std::unique_lock<std::mutex> lock(state->mutex);
  while (!state->wake.wait_for(lock, std::chrono::milliseconds(250),
                               [state] { return state->stopping; })) {
    const RunMetrics& metrics = *state->metrics;
    if (state->line_drawn_elsewhere || metrics.WallSeconds() < 1 ||
        metrics.Get(Counter::kFetchBytes) + metrics.Get(Counter::kInputBytes) == 0) {
      continue;
    }
    std::fprintf(stderr, "\r\033[K%s", TerminalLine(metrics, state->labels.command).c_str());
    std::fflush(stderr);
    drawn = true;
  }
  if (drawn) std::fprintf(stderr, "\r\033[K");
}

void StopProgress(CommandState& state) {
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.stopping = true;
  }
  state.wake.notify_all();
  if (state.progress.joinable()) state.progress.join();
}

Status CheckPath(const std::string& flag, const std::string& path) {
  if (path == "-") {
    return Status::InvalidArgument(flag + " -: stdout carries the command's output; give a file");
  }
  return Status::Ok();
}

// `text` to `path` through a temporary file renamed into place.
Status WriteReport(const std::string& flag, const std::string& path, const std::string& text) {
  auto sink = OpenSink(path, /*overwrite=*/true);
  if (!sink.ok()) return sink.status().WithContext(flag);
  RETURN_IF_ERROR((*sink)->Write(std::span(reinterpret_cast<const uint8_t*>(text.data()),
                                           text.size())));
  return (*sink)->Commit();
}

}  // namespace

void RegisterMetricsFlags(CLI::App* command, MetricsRequest& request) {
  command->add_option("--metrics-json", request.json_path,
                      "write what the run did (counts, phase times, verdict) as JSON to FILE");
  command->add_option("--metrics-prom", request.prom_path,
                      "write the same in the Prometheus text format to FILE");
  command->add_option("--metrics-push", request.push_url,
                      "push the run's series to the Prometheus Pushgateway at URL every second");
  command->add_option("--progress", request.progress,
                      "auto: a line on a terminal; json: one JSON line per second on stderr; none")
      ->check(CLI::IsMember({"auto", "json", "none"}));
}

RunMetrics* CommandMetrics() { return State().metrics.get(); }

void SetRunLabel(const std::string& key, const std::string& value) {
  CommandState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.labels.extra[key] = value;
}

void SetProgressTotal(uint64_t bytes) {
  CommandState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.total = bytes;
}

void SetProgressTotalOf(const std::vector<std::string>& inputs) {
  uint64_t total = 0;
  for (const std::string& input : inputs) {
    std::error_code error;
    if (input == "-" || !std::filesystem::is_regular_file(input, error)) return;
    total += std::filesystem::file_size(input, error);
    if (error) return;
  }
  SetProgressTotal(total);
}

void NoteProgressLineDrawn() {
  CommandState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.line_drawn_elsewhere = true;
}

Status StartCommandMetrics(MetricsRequest& request, const std::string& command, bool quiet) {
  request.terminal_line = request.progress == "auto" && !quiet && ::isatty(STDERR_FILENO) == 1;
  if (!request.wanted()) return Status::Ok();
  RETURN_IF_ERROR(CheckPath("--metrics-json", request.json_path));
  RETURN_IF_ERROR(CheckPath("--metrics-prom", request.prom_path));
  CommandState& state = State();
  state.metrics = std::make_unique<RunMetrics>();
  state.labels.command = command;
  state.labels.status = "running";  // Until FinishCommandMetrics: what a push mid-run says.
  if (!request.push_url.empty()) {
    state.pusher = std::make_unique<MetricsPusher>(*state.metrics, state.labels, request.push_url);
    RETURN_IF_ERROR(state.pusher->Start());
  }
  if (request.json_progress()) {
    state.progress = std::thread(ProgressLoop, &state);
  } else if (request.terminal_line) {
    state.progress = std::thread(TerminalLoop, &state);
  }
  return Status::Ok();
}

int FinishCommandMetrics(const MetricsRequest& request, int exit_code,
                         const std::string& failure_code) {
  CommandState& state = State();
  if (state.metrics == nullptr) return exit_code;
  StopProgress(state);
  state.metrics->Stop();
  RunLabels labels = state.labels;
  labels.exit_code = exit_code;
  labels.status = exit_code == kExitOk ? "ok" : (failure_code.empty() ? "failed" : failure_code);
  if (request.json_progress()) {
    nlohmann::json end = ProgressLine(*state.metrics, labels.command, state.total);
    end["type"] = "end";
    end["status"] = labels.status;
    end["exit_code"] = exit_code;
    PrintLine(end);
  }
  Status written = Status::Ok();
  if (!request.json_path.empty()) {
    written = WriteReport("--metrics-json", request.json_path, MetricsJson(*state.metrics, labels));
  }
  if (written.ok() && !request.prom_path.empty()) {
    written = WriteReport("--metrics-prom", request.prom_path,
                          MetricsPrometheusText(*state.metrics, labels));
  }
  if (written.ok() && state.pusher != nullptr) written = state.pusher->Finish(labels);
  if (written.ok()) return exit_code;
  const int failed = ReportFailure(written);
  return exit_code == kExitOk ? failed : exit_code;
}

void ProgressCounter::OnProgress(const Progress& progress) {
  if (RunMetrics* metrics = CommandMetrics(); metrics != nullptr) {
    metrics->Add(Counter::kInputBytes, progress.input_bytes - counted_.input_bytes);
    metrics->Add(Counter::kOutputBytes, progress.output_bytes - counted_.output_bytes);
    counted_ = progress;
  }
  if (next_ != nullptr) next_->OnProgress(progress);
}

}  // namespace reducto::cli
