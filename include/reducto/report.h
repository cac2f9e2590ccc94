// The economics of a corpus (docs/monitoring.md, "reducto report"): from the metrics
// documents of real runs (--metrics-json FILE) and prices and volumes, the bandwidth and
// storage a corpus saves per month, what distributing and storing the corpus costs, the
// net saving and the payback time.
//
// Prices are per decimal gigabyte (1 GB = 1e9 bytes), the unit transfer and storage are
// billed in. Amounts of money are in the currency of the prices.
//
// Thread safety: the functions keep no state; distinct objects may be used from
// different threads freely.
#ifndef REDUCTO_REPORT_H_
#define REDUCTO_REPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reducto/status.h"

namespace reducto {

// The version of the metrics document this library reads (its "reducto_metrics" key).
inline constexpr int kRunMetricsVersion = 1;
// Bytes in the gigabyte that prices are given per.
inline constexpr double kBytesPerGb = 1e9;

// What the report reads of one run's metrics document.
struct RunRecord {
  std::string source;      // The file it was read from; messages name it.
  std::string command;     // "compress", "decompress", "test", ...
  std::string status;      // "ok", or the failure's code.
  std::string corpus_id;   // labels.corpus_id; "" when the run used no corpus.
  uint64_t original_bytes = 0;
  uint64_t container_bytes = 0;
  uint64_t fetch_bytes = 0;  // Bytes received from repositories (retries included).
  double wall_seconds = 0;
  double cpu_seconds = 0;
};

// Parses one metrics document (docs/monitoring.md, "The JSON document"); `source` names
// it in messages. Corrupt when `text` is not JSON, not an object, or lacks a key the
// report reads or gives it the wrong type; InvalidArgument when its "reducto_metrics"
// version is not kRunMetricsVersion.
Result<RunRecord> ParseRunMetrics(std::string_view text, const std::string& source);
// Reads the file `path` and parses it: NotFound when it does not exist, Io when it
// cannot be read, then as ParseRunMetrics.
Result<RunRecord> ReadRunMetrics(const std::string& path);

// A run the summary left out, and why ("failed: not_found", "no corpus").
struct SkippedRun {
  std::string source;
  std::string reason;
};

// The runs of one corpus, aggregated.
struct RunSummary {
  std::string corpus_id;
  // Successful compress runs: the mean bytes of one transfer, and its cost in time.
  int compress_runs = 0;
  double original_bytes_per_transfer = 0;
  double container_bytes_per_transfer = 0;
  double compress_wall_seconds = 0;  // Mean per run.
  double compress_cpu_seconds = 0;
  // Successful decompress runs; those that fetched corpus bytes from a repository, and
  // the mean of what each fetched (0 when none did).
  int decompress_runs = 0;
  double decompress_wall_seconds = 0;
  double decompress_cpu_seconds = 0;
  int fetching_runs = 0;
  double fetch_bytes_per_receiver = 0;
  int other_runs = 0;  // Successful runs of other commands (test, corpus build...): unused.
  std::vector<SkippedRun> skipped;  // Failed runs and runs without a corpus.
};

// Aggregates `runs`. Runs whose status is not "ok" (their counters stop where they
// failed) and compress or decompress runs without a corpus id (standalone containers
// save nothing by the corpus) are left out, in `skipped`. InvalidArgument when the
// runs left name more than one corpus (the report is about one), or none of them is a
// successful compress run (nothing says what a transfer saves).
Result<RunSummary> SummarizeRuns(const std::vector<RunRecord>& runs);

// Prices and volumes.
struct ReportInputs {
  double price_transfer_gb = 0;       // Per GB sent over the network.
  double price_storage_gb_month = 0;  // Per GB stored for a month.
  // Containers sent per month, all receivers together (one file sent to 3 receivers is
  // 3 transfers).
  double transfers_per_month = 0;
  uint64_t receivers = 0;          // Places the corpus is distributed to; at least 1.
  uint64_t corpus_bytes = 0;       // The corpus (its pack).
  double corpus_changes_per_month = 0;  // New corpora distributed per month (0.25: quarterly).
  // Months the receivers keep what they receive, as containers instead of originals.
  // 0: they keep nothing, and no storage is saved.
  double keep_months = 0;
  // Places that store the corpus; 0: each receiver and one repository (receivers + 1).
  uint64_t corpus_copies = 0;
};

// What the corpus saves and costs. Money per month unless the name says otherwise.
struct CorpusEconomics {
  double saved_bytes_per_transfer = 0;  // original - container (negative: it costs).
  double bandwidth_saved_bytes_per_month = 0;
  double bandwidth_saved = 0;
  // Bytes the receivers store less, all the time (keep_months of transfers), and what
  // storing them would cost per month.
  double storage_saved_bytes = 0;
  double storage_saved = 0;
  // Distributing the corpus: per receiver either what the decompress runs fetched
  // (when some did: a receiver fetches only the pieces its containers need) or the
  // whole corpus.
  bool distribution_from_fetch = false;
  double distribution_bytes_per_receiver = 0;
  double first_distribution_bytes = 0;  // One-off: every receiver gets the corpus once.
  double first_distribution_cost = 0;
  double distribution_bytes_per_month = 0;  // Each change, to every receiver.
  double distribution_cost = 0;
  uint64_t corpus_copies = 0;
  double corpus_storage_bytes = 0;
  double corpus_storage_cost = 0;
  // bandwidth_saved + storage_saved - distribution_cost - corpus_storage_cost.
  double net_saving = 0;
  // first_distribution_cost / net_saving; nullopt ("never") when net_saving <= 0.
  std::optional<double> payback_months;
};

// The economics of the runs' corpus at `inputs`. InvalidArgument, naming the input, when
// a price or volume is negative or not finite, or receivers is 0.
Result<CorpusEconomics> ComputeEconomics(const RunSummary& runs, const ReportInputs& inputs);

}  // namespace reducto

#endif  // REDUCTO_REPORT_H_
