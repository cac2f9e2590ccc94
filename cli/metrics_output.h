// --metrics-json FILE, --metrics-prom FILE, --metrics-push URL and --progress json: what a
// command did, from the library's counts (reducto/metrics.h, docs/monitoring.md).
//
// The command line runs one command per process, so the command's metrics are one
// object here: commands pass CommandMetrics() in the library's options (and the
// repository settings), AddCommand starts and finishes the export around Run().
#ifndef REDUCTO_CLI_METRICS_OUTPUT_H_
#define REDUCTO_CLI_METRICS_OUTPUT_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "reducto/metrics.h"
#include "reducto/progress.h"
#include "reducto/status.h"

namespace reducto::cli {

struct MetricsRequest {
  std::string json_path;  // --metrics-json
  std::string prom_path;  // --metrics-prom
  std::string push_url;   // --metrics-push
  std::string progress = "auto";  // --progress: auto (a line on a terminal), json, none.

  // Set by StartCommandMetrics: a line on stderr, which is a terminal, for commands that
  // draw none of their own (TerminalProgress), e.g. corpus fetch.
  bool terminal_line = false;

  bool json_progress() const { return progress == "json"; }
  // Whether anything needs the library to count.
  bool wanted() const {
    return !json_path.empty() || !prom_path.empty() || !push_url.empty() || json_progress() ||
           terminal_line;
  }
};

// The four flags, on `command`.
void RegisterMetricsFlags(CLI::App* command, MetricsRequest& request);

// The running command's metrics; nullptr when none were asked for (the library then
// counts nothing).
RunMetrics* CommandMetrics();
// A label of the exported run ("profile", "corpus_id"); empty values are left out.
void SetRunLabel(const std::string& key, const std::string& value);
// The bytes the command will read, when known: --progress json then says the fraction
// done and the time left.
void SetProgressTotal(uint64_t bytes);
// The same for the sum of `inputs`' sizes, when each is a regular file.
void SetProgressTotalOf(const std::vector<std::string>& inputs);

// Before the command runs `command` ("compress", "corpus build"): starts counting, the
// pusher and the progress stream or line as `request` (and -q, `quiet`) asks.
// InvalidArgument for a bad flag.
Status StartCommandMetrics(MetricsRequest& request, const std::string& command, bool quiet);
// Called by a command's own progress line (TerminalProgress): the generic one stays off.
void NoteProgressLineDrawn();
// After it ran: stops the clocks, writes the files and the last push with the outcome.
// Returns `exit_code`, or kExitFailure when the command succeeded but a file could not
// be written (the failure is printed).
int FinishCommandMetrics(const MetricsRequest& request, int exit_code,
                         const std::string& failure_code);

// A ProgressObserver for the library calls that report progress but do not count
// (corpus build, update): their input and output bytes become the command's counts.
class ProgressCounter final : public ProgressObserver {
 public:
  // `next` (may be nullptr) is told too: the terminal line.
  explicit ProgressCounter(ProgressObserver* next) : next_(next) {}
  // This, or `next` when no metrics are counted.
  ProgressObserver* observer() { return CommandMetrics() != nullptr ? this : next_; }
  void OnProgress(const Progress& progress) override;

 private:
  ProgressObserver* next_;
  Progress counted_;
};

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_METRICS_OUTPUT_H_
