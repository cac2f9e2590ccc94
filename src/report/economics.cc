// reducto/report.h: metrics documents in, the economics of their corpus out. The
// formulas are documented in docs/monitoring.md, "reducto report"; keep them in step.
#include "reducto/report.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <map>

#include "util/file.h"

namespace reducto {
namespace {

using Json = nlohmann::json;

// A metrics document is a few kilobytes; anything much larger is not one.
constexpr size_t kMaxDocumentBytes = 16u << 20;

// What every message about a malformed document ends with.
constexpr const char* kWhatToDo = " (pass a file written by `reducto ... --metrics-json FILE`)";

Status Malformed(const std::string& source, const std::string& what) {
  return Status::Corrupt(source + ": not a reducto metrics document: " + what + kWhatToDo);
}

// The member `key` of `object`, or Corrupt naming `path` (the key's dotted path).
Result<const Json*> Member(const Json& object, const char* key, const std::string& path,
                           const std::string& source) {
  auto it = object.find(key);
  if (it == object.end()) return Malformed(source, "it has no \"" + path + "\"");
  return &*it;
}

Result<std::string> StringAt(const Json& object, const char* key, const std::string& path,
                             const std::string& source) {
  ASSIGN_OR_RETURN(const Json* value, Member(object, key, path, source));
  if (!value->is_string()) return Malformed(source, "\"" + path + "\" is not a string");
  return value->get<std::string>();
}

Result<uint64_t> CountAt(const Json& object, const char* key, const std::string& path,
                         const std::string& source) {
  ASSIGN_OR_RETURN(const Json* value, Member(object, key, path, source));
  if (!value->is_number_unsigned()) {
    return Malformed(source, "\"" + path + "\" is not a non-negative integer");
  }
  return value->get<uint64_t>();
}

Result<double> SecondsAt(const Json& object, const char* key, const std::string& source) {
  ASSIGN_OR_RETURN(const Json* value, Member(object, key, key, source));
  if (!value->is_number() || value->get<double>() < 0) {
    return Malformed(source, "\"" + std::string(key) + "\" is not a non-negative number");
  }
  return value->get<double>();
}

// The document's version: Corrupt without one, InvalidArgument for one this library
// does not read (a newer reducto wrote it).
Status CheckVersion(const Json& document, const std::string& source) {
  ASSIGN_OR_RETURN(const Json* version, Member(document, "reducto_metrics", "reducto_metrics",
                                               source));
  if (!version->is_number_integer()) {
    return Malformed(source, "\"reducto_metrics\" is not an integer version");
  }
  if (version->get<int64_t>() != kRunMetricsVersion) {
    return Status::InvalidArgument(
        source + ": metrics document version " + std::to_string(version->get<int64_t>()) +
        ", this reducto reads version " + std::to_string(kRunMetricsVersion) +
        ": report it with the reducto that wrote it, or a newer one");
  }
  return Status::Ok();
}

// labels.corpus_id, "" when the run used no corpus (no labels, or no corpus_id in them).
Result<std::string> CorpusIdOf(const Json& document, const std::string& source) {
  auto labels = document.find("labels");
  if (labels == document.end()) return std::string();
  if (!labels->is_object()) return Malformed(source, "\"labels\" is not an object");
  if (!labels->contains("corpus_id")) return std::string();
  return StringAt(*labels, "corpus_id", "labels.corpus_id", source);
}

Result<RunRecord> RecordOf(const Json& document, const std::string& source) {
  RunRecord run;
  run.source = source;
  ASSIGN_OR_RETURN(run.command, StringAt(document, "command", "command", source));
  ASSIGN_OR_RETURN(run.status, StringAt(document, "status", "status", source));
  ASSIGN_OR_RETURN(run.corpus_id, CorpusIdOf(document, source));
  ASSIGN_OR_RETURN(const Json* counters, Member(document, "counters", "counters", source));
  if (!counters->is_object()) return Malformed(source, "\"counters\" is not an object");
  ASSIGN_OR_RETURN(run.original_bytes,
                   CountAt(*counters, "original_bytes", "counters.original_bytes", source));
  ASSIGN_OR_RETURN(run.container_bytes,
                   CountAt(*counters, "container_bytes", "counters.container_bytes", source));
  ASSIGN_OR_RETURN(run.fetch_bytes,
                   CountAt(*counters, "fetch_bytes", "counters.fetch_bytes", source));
  ASSIGN_OR_RETURN(run.wall_seconds, SecondsAt(document, "wall_seconds", source));
  ASSIGN_OR_RETURN(run.cpu_seconds, SecondsAt(document, "cpu_seconds", source));
  return run;
}

// Sums of one command's successful runs, for the means.
struct RunTotals {
  int runs = 0;
  double original_bytes = 0;
  double container_bytes = 0;
  double wall_seconds = 0;
  double cpu_seconds = 0;
  int fetching_runs = 0;
  double fetch_bytes = 0;

  void Add(const RunRecord& run) {
    ++runs;
    original_bytes += static_cast<double>(run.original_bytes);
    container_bytes += static_cast<double>(run.container_bytes);
    wall_seconds += run.wall_seconds;
    cpu_seconds += run.cpu_seconds;
    if (run.fetch_bytes > 0) {
      ++fetching_runs;
      fetch_bytes += static_cast<double>(run.fetch_bytes);
    }
  }
};

double Mean(double total, int count) { return count == 0 ? 0 : total / count; }

// Why `run` is left out of the summary; "" when it is used.
std::string SkipReason(const RunRecord& run) {
  if (run.status != "ok") return "failed: " + run.status;
  const bool codec = run.command == "compress" || run.command == "decompress";
  if (codec && run.corpus_id.empty()) return "no corpus (a standalone container)";
  return "";
}

// "b3-1 (2 runs), b3-2 (1 run)".
std::string CorpusList(const std::map<std::string, int>& runs_by_corpus) {
  std::string text;
  for (const auto& [id, count] : runs_by_corpus) {
    text += (text.empty() ? "" : ", ") + id + " (" + std::to_string(count) +
            (count == 1 ? " run)" : " runs)");
  }
  return text;
}

Status CheckInput(double value, const char* name) {
  if (std::isfinite(value) && value >= 0) return Status::Ok();
  return Status::InvalidArgument(std::string(name) + " must be a number of at least 0, got " +
                                 std::to_string(value));
}

Status CheckInputs(const ReportInputs& in) {
  RETURN_IF_ERROR(CheckInput(in.price_transfer_gb, "price_transfer_gb"));
  RETURN_IF_ERROR(CheckInput(in.price_storage_gb_month, "price_storage_gb_month"));
  RETURN_IF_ERROR(CheckInput(in.transfers_per_month, "transfers_per_month"));
  RETURN_IF_ERROR(CheckInput(in.corpus_changes_per_month, "corpus_changes_per_month"));
  RETURN_IF_ERROR(CheckInput(in.keep_months, "keep_months"));
  if (in.receivers == 0) {
    return Status::InvalidArgument("receivers must be at least 1: the corpus is distributed "
                                   "to the places that decompress");
  }
  return Status::Ok();
}

double Gb(double bytes) { return bytes / kBytesPerGb; }

}  // namespace

Result<RunRecord> ParseRunMetrics(std::string_view text, const std::string& source) {
  Json document;
  try {
    document = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return Malformed(source, "not JSON at byte " + std::to_string(e.byte));
  }
  if (!document.is_object()) return Malformed(source, "not a JSON object");
  RETURN_IF_ERROR(CheckVersion(document, source));
  return RecordOf(document, source);
}

Result<RunRecord> ReadRunMetrics(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("metrics file " + path + " not found (write one with `reducto "
                            "compress ... --metrics-json " + path + "`)");
  }
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxDocumentBytes));
  return ParseRunMetrics(text, path);
}

Result<RunSummary> SummarizeRuns(const std::vector<RunRecord>& runs) {
  RunSummary summary;
  RunTotals compress, decompress;
  std::map<std::string, int> runs_by_corpus;
  for (const RunRecord& run : runs) {
    if (std::string reason = SkipReason(run); !reason.empty()) {
      summary.skipped.push_back({run.source, std::move(reason)});
      continue;
    }
    if (!run.corpus_id.empty()) ++runs_by_corpus[run.corpus_id];
    if (run.command == "compress") {
      compress.Add(run);
    } else if (run.command == "decompress") {
      decompress.Add(run);
    } else {
      ++summary.other_runs;
    }
  }
  if (runs_by_corpus.size() > 1) {
    return Status::InvalidArgument("the runs are of " + std::to_string(runs_by_corpus.size()) +
                                   " corpora: " + CorpusList(runs_by_corpus) +
                                   "; report on the runs of one corpus at a time");
  }
  if (compress.runs == 0) {
    return Status::InvalidArgument(
        "none of the " + std::to_string(runs.size()) + " runs is a successful compress run "
        "with a corpus, so nothing says what a transfer saves: add the --metrics-json file of "
        "`reducto compress -c CORPUS ... --metrics-json FILE`");
  }
  summary.corpus_id = runs_by_corpus.begin()->first;
  summary.compress_runs = compress.runs;
  summary.original_bytes_per_transfer = Mean(compress.original_bytes, compress.runs);
  summary.container_bytes_per_transfer = Mean(compress.container_bytes, compress.runs);
  summary.compress_wall_seconds = Mean(compress.wall_seconds, compress.runs);
  summary.compress_cpu_seconds = Mean(compress.cpu_seconds, compress.runs);
  summary.decompress_runs = decompress.runs;
  summary.decompress_wall_seconds = Mean(decompress.wall_seconds, decompress.runs);
  summary.decompress_cpu_seconds = Mean(decompress.cpu_seconds, decompress.runs);
  summary.fetching_runs = decompress.fetching_runs;
  summary.fetch_bytes_per_receiver = Mean(decompress.fetch_bytes, decompress.fetching_runs);
  return summary;
}

Result<CorpusEconomics> ComputeEconomics(const RunSummary& runs, const ReportInputs& in) {
  RETURN_IF_ERROR(CheckInputs(in));
  CorpusEconomics e;
  const double receivers = static_cast<double>(in.receivers);
  e.saved_bytes_per_transfer = runs.original_bytes_per_transfer - runs.container_bytes_per_transfer;
  e.bandwidth_saved_bytes_per_month = in.transfers_per_month * e.saved_bytes_per_transfer;
  e.bandwidth_saved = Gb(e.bandwidth_saved_bytes_per_month) * in.price_transfer_gb;
  // In steady state the receivers hold keep_months of transfers, each smaller by the
  // saving: that many bytes fewer stored every month.
  e.storage_saved_bytes = in.keep_months * e.bandwidth_saved_bytes_per_month;
  e.storage_saved = Gb(e.storage_saved_bytes) * in.price_storage_gb_month;

  // Measured fetches are what a receiver was billed for (only the pieces its containers
  // needed, retries included); without them, the whole corpus is the cautious figure.
  e.distribution_from_fetch = runs.fetching_runs > 0;
  e.distribution_bytes_per_receiver = e.distribution_from_fetch
                                          ? runs.fetch_bytes_per_receiver
                                          : static_cast<double>(in.corpus_bytes);
  e.first_distribution_bytes = e.distribution_bytes_per_receiver * receivers;
  e.first_distribution_cost = Gb(e.first_distribution_bytes) * in.price_transfer_gb;
  e.distribution_bytes_per_month = e.first_distribution_bytes * in.corpus_changes_per_month;
  e.distribution_cost = Gb(e.distribution_bytes_per_month) * in.price_transfer_gb;

  e.corpus_copies = in.corpus_copies != 0 ? in.corpus_copies : in.receivers + 1;
  e.corpus_storage_bytes = static_cast<double>(in.corpus_bytes) * static_cast<double>(e.corpus_copies);
  e.corpus_storage_cost = Gb(e.corpus_storage_bytes) * in.price_storage_gb_month;

  e.net_saving = e.bandwidth_saved + e.storage_saved - e.distribution_cost - e.corpus_storage_cost;
  if (e.net_saving > 0) e.payback_months = e.first_distribution_cost / e.net_saving;
  return e;
}

}  // namespace reducto
