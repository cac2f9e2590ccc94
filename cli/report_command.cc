// reducto report RUN.json...: the economics of a corpus from the metrics documents of
// real runs and the prices and volumes of the settings (include/reducto/report.h; the
// formulas and the JSON keys are in docs/monitoring.md, "reducto report").
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "command.h"
#include "reducto/corpus.h"
#include "reducto/report.h"

namespace reducto::cli {
namespace {

using Json = nlohmann::ordered_json;

// "9.00 MB": decimal units, as the prices are per decimal GB.
std::string DecimalBytes(double bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double shown = bytes;
  size_t unit = 0;
  while (std::fabs(shown) >= 1000 && unit + 1 < std::size(kUnits)) {
    shown /= 1000;
    ++unit;
  }
  char text[48];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%.0f B", shown);
  } else {
    std::snprintf(text, sizeof text, "%.2f %s", shown, kUnits[unit]);
  }
  return text;
}

// Two decimals, four below a hundredth so that small amounts do not show as 0.00.
std::string Money(double amount) {
  char text[48];
  const bool small = amount != 0 && std::fabs(amount) < 0.005;
  std::snprintf(text, sizeof text, small ? "%.4f" : "%.2f", amount);
  return text;
}

std::string Number(double value, const char* format) {
  char text[48];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string Plural(int count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

// "0.5 changes", "1 change".
std::string Plural(double count, const std::string& noun, const std::string& nouns) {
  return DecimalText(count) + " " + (count == 1 ? noun : nouns);
}

// InvalidArgument for a setting the report needs and none of the layers gave.
Status Missing(std::string_view key, const std::string& what) {
  const Setting& setting = FindSetting(key);
  const std::string flag(setting.flag.substr(0, setting.flag.find(',')));
  return Status::InvalidArgument("no " + what + ": set " + flag + " " +
                                 std::string(setting.value_name) + ", " +
                                 std::string(setting.env) + " or `" + std::string(key) +
                                 "` in the configuration file");
}

template <typename T>
Result<T> Required(const std::optional<T>& value, std::string_view key, const std::string& what) {
  if (!value) return Missing(key, what);
  return *value;
}

// The corpus size: `corpus_size`, else the pack of the corpus directory (-c, `corpus`).
Result<uint64_t> CorpusBytes(const Context& ctx, const Settings& settings,
                             const std::string& corpus_id) {
  if (settings.corpus_size) return *settings.corpus_size;
  if (!settings.corpus) {
    return Status::InvalidArgument(
        "no corpus size: set --corpus-size SIZE, REDUCTO_CORPUS_SIZE or `corpus_size` in the "
        "configuration file, or give the corpus directory with -c CORPUS");
  }
  Result<CorpusInfo> info = ReadCorpusInfo(*settings.corpus);
  if (!info.ok()) {
    return info.status().WithContext("the size of the corpus (from " +
                                     settings.SourceOf("corpus") + "; or set --corpus-size)");
  }
  if (info->id != corpus_id && !ctx.quiet) {
    std::fprintf(stderr,
                 "reducto: warning: %s holds corpus %s but the runs are of corpus %s: its "
                 "size may not be theirs (give the runs' corpus with -c, or --corpus-size)\n",
                 settings.corpus->c_str(), info->id.c_str(), corpus_id.c_str());
  }
  Detail(ctx, "corpus size " + std::to_string(info->pack_bytes()) + " bytes: the pack of " +
                  *settings.corpus);
  return info->pack_bytes();
}

Result<ReportInputs> InputsOf(const Context& ctx, const Settings& s, const std::string& corpus_id) {
  ReportInputs in;
  ASSIGN_OR_RETURN(in.price_transfer_gb,
                   Required(s.price_transfer_gb, "price_transfer_gb", "transfer price"));
  ASSIGN_OR_RETURN(in.price_storage_gb_month, Required(s.price_storage_gb_month,
                                                       "price_storage_gb_month", "storage price"));
  ASSIGN_OR_RETURN(in.transfers_per_month, Required(s.transfers_per_month, "transfers_per_month",
                                                    "number of transfers per month"));
  ASSIGN_OR_RETURN(int receivers, Required(s.receivers, "receivers", "number of receivers"));
  in.receivers = static_cast<uint64_t>(receivers);
  ASSIGN_OR_RETURN(in.corpus_changes_per_month,
                   Required(s.corpus_changes_per_month, "corpus_changes_per_month",
                            "number of corpus changes per month (0 if it never changes)"));
  ASSIGN_OR_RETURN(in.corpus_bytes, CorpusBytes(ctx, s, corpus_id));
  in.keep_months = s.keep_months;
  in.corpus_copies = s.corpus_copies ? static_cast<uint64_t>(*s.corpus_copies) : 0;
  return in;
}

Json InputsJson(const ReportInputs& in, const CorpusEconomics& e) {
  Json j;
  j["price_transfer_gb"] = in.price_transfer_gb;
  j["price_storage_gb_month"] = in.price_storage_gb_month;
  j["transfers_per_month"] = in.transfers_per_month;
  j["receivers"] = in.receivers;
  j["corpus_bytes"] = in.corpus_bytes;
  j["corpus_changes_per_month"] = in.corpus_changes_per_month;
  j["keep_months"] = in.keep_months;
  j["corpus_copies"] = e.corpus_copies;
  return j;
}

Json RunsJson(const RunSummary& r) {
  Json j;
  j["compress"] = r.compress_runs;
  j["decompress"] = r.decompress_runs;
  j["fetching"] = r.fetching_runs;
  j["other"] = r.other_runs;
  Json skipped = Json::array();
  for (const SkippedRun& run : r.skipped) {
    skipped.push_back({{"file", run.source}, {"reason", run.reason}});
  }
  j["skipped"] = std::move(skipped);
  return j;
}

Json PerTransferJson(const RunSummary& r, const CorpusEconomics& e) {
  Json j;
  j["original_bytes"] = r.original_bytes_per_transfer;
  j["container_bytes"] = r.container_bytes_per_transfer;
  j["saved_bytes"] = e.saved_bytes_per_transfer;
  j["compress_wall_seconds"] = r.compress_wall_seconds;
  j["compress_cpu_seconds"] = r.compress_cpu_seconds;
  j["decompress_wall_seconds"] = r.decompress_wall_seconds;
  j["decompress_cpu_seconds"] = r.decompress_cpu_seconds;
  return j;
}

Json MonthlyJson(const CorpusEconomics& e) {
  Json j;
  j["bandwidth_saved_bytes"] = e.bandwidth_saved_bytes_per_month;
  j["bandwidth_saved"] = e.bandwidth_saved;
  j["storage_saved_bytes"] = e.storage_saved_bytes;
  j["storage_saved"] = e.storage_saved;
  j["distribution_bytes"] = e.distribution_bytes_per_month;
  j["distribution_cost"] = e.distribution_cost;
  j["corpus_storage_bytes"] = e.corpus_storage_bytes;
  j["corpus_storage_cost"] = e.corpus_storage_cost;
  j["net_saving"] = e.net_saving;
  return j;
}

std::string JsonReport(const RunSummary& r, const ReportInputs& in, const CorpusEconomics& e) {
  Json j;
  j["corpus_id"] = r.corpus_id;
  j["runs"] = RunsJson(r);
  j["inputs"] = InputsJson(in, e);
  j["per_transfer"] = PerTransferJson(r, e);
  j["per_month"] = MonthlyJson(e);
  j["distribution_source"] = e.distribution_from_fetch ? "fetch" : "corpus_size";
  j["distribution_bytes_per_receiver"] = e.distribution_bytes_per_receiver;
  j["first_distribution_bytes"] = e.first_distribution_bytes;
  j["first_distribution_cost"] = e.first_distribution_cost;
  j["payback_months"] = e.payback_months ? Json(*e.payback_months) : Json();
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

// "corpus ID: 2 compress runs, 1 decompress run (1 fetched from a repository), 1 skipped".
std::string RunsLine(const RunSummary& r) {
  std::string line = "corpus " + r.corpus_id + ": " + Plural(r.compress_runs, "compress run") +
                     ", " + Plural(r.decompress_runs, "decompress run");
  if (r.fetching_runs > 0) line += " (" + std::to_string(r.fetching_runs) + " fetched)";
  if (!r.skipped.empty()) line += ", " + std::to_string(r.skipped.size()) + " skipped";
  return line + "\n";
}

std::string TransferLine(const RunSummary& r, const CorpusEconomics& e) {
  const double ratio = r.container_bytes_per_transfer > 0
                           ? r.original_bytes_per_transfer / r.container_bytes_per_transfer
                           : 0;
  return "per transfer: " + DecimalBytes(r.original_bytes_per_transfer) + " original, " +
         DecimalBytes(r.container_bytes_per_transfer) + " sent (" + Number(ratio, "%.2fx") +
         "), " + DecimalBytes(e.saved_bytes_per_transfer) + " saved; compress " +
         Number(r.compress_cpu_seconds, "%.2f") + " s CPU" +
         (r.decompress_runs > 0
              ? ", decompress " + Number(r.decompress_cpu_seconds, "%.2f") + " s CPU"
              : "") +
         "\n";
}

// "0.25 months (7.6 days)"; days only under a month, where months read poorly.
std::string Months(double months) {
  constexpr double kDaysPerMonth = 365.25 / 12;  // The mean Gregorian month.
  std::string text = Number(months, "%.2f") + " months";
  if (months < 1) text += " (" + Number(months * kDaysPerMonth, "%.1f") + " days)";
  return text;
}

std::string MonthlyTable(const ReportInputs& in, const CorpusEconomics& e) {
  return FormatTable({
      {"PER MONTH", "BYTES", "MONEY"},
      {"bandwidth saved", DecimalBytes(e.bandwidth_saved_bytes_per_month), Money(e.bandwidth_saved)},
      {"storage saved (" + Plural(in.keep_months, "month", "months") + " kept)",
       DecimalBytes(e.storage_saved_bytes), Money(e.storage_saved)},
      {"corpus distribution (" + Plural(in.corpus_changes_per_month, "change", "changes") + ")",
       DecimalBytes(e.distribution_bytes_per_month), Money(-e.distribution_cost)},
      {"corpus storage (" + Plural(static_cast<double>(e.corpus_copies), "copy", "copies") + ")",
       DecimalBytes(e.corpus_storage_bytes), Money(-e.corpus_storage_cost)},
      {"net saving", "", Money(e.net_saving)},
  });
}

std::string TextReport(const RunSummary& r, const ReportInputs& in, const CorpusEconomics& e) {
  std::string out = RunsLine(r) + TransferLine(r, e) + "\n" + MonthlyTable(in, e) + "\n";
  out += "first distribution: " + DecimalBytes(e.distribution_bytes_per_receiver) + " to each of " +
         Plural(static_cast<int>(in.receivers), "receiver") + " (" +
         (e.distribution_from_fetch ? "measured fetches" : "the corpus size") + "), " +
         Money(e.first_distribution_cost) + " once\n";
  if (e.payback_months) {
    out += "payback: " + Months(*e.payback_months) + "\n";
  } else {
    out += "payback: never (the net saving per month is not positive)\n";
  }
  return out;
}

struct ReportCommand {
  std::vector<std::string> files;
  bool json = false;

  Status Run(const Context& ctx) const {
    if (files.empty()) {
      return Status::InvalidArgument(
          "no run files: give the files that `reducto compress` and `reducto decompress` "
          "wrote with --metrics-json FILE");
    }
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    std::vector<RunRecord> runs;
    for (const std::string& file : files) {
      ASSIGN_OR_RETURN(RunRecord run, ReadRunMetrics(file));
      runs.push_back(std::move(run));
    }
    ASSIGN_OR_RETURN(RunSummary summary, SummarizeRuns(runs));
    WarnSkipped(ctx, summary);
    ASSIGN_OR_RETURN(ReportInputs inputs, InputsOf(ctx, settings, summary.corpus_id));
    ASSIGN_OR_RETURN(CorpusEconomics economics, ComputeEconomics(summary, inputs));
    std::string out = json ? JsonReport(summary, inputs, economics)
                           : TextReport(summary, inputs, economics);
    if (std::fputs(out.c_str(), stdout) < 0 || std::fflush(stdout) != 0) {
      return Status::Io("cannot write to stdout");
    }
    return Status::Ok();
  }

  // A failed run's counters stop where it failed: it is left out, and said so.
  static void WarnSkipped(const Context& ctx, const RunSummary& summary) {
    if (ctx.quiet) return;
    for (const SkippedRun& run : summary.skipped) {
      std::fprintf(stderr, "reducto: warning: %s: skipped, %s\n", run.source.c_str(),
                   run.reason.c_str());
    }
  }
};

}  // namespace

void RegisterReportCommand(CLI::App* app, Context& ctx) {
  static ReportCommand report;
  auto* cmd = AddCommand(app, ctx, report, "report",
                         "the economics of a corpus: bandwidth and storage saved per month, "
                         "the cost of distributing and storing the corpus, its payback time, "
                         "from the --metrics-json files of real runs and prices");
  cmd->add_option("runs", report.files, "metrics files (--metrics-json) of compress and "
                                        "decompress runs with one corpus");
  cmd->add_flag("--json", report.json, "print one JSON object (docs/monitoring.md)");
  for (std::string_view key : {"price_transfer_gb", "price_storage_gb_month",
                               "transfers_per_month", "receivers", "corpus_changes_per_month",
                               "corpus_size", "keep_months", "corpus_copies"}) {
    AddSettingFlag(cmd, key);
  }
  AddSettingFlag(cmd, "corpus", "corpus directory: its pack's size is the corpus size "
                                "(unless --corpus-size is given)");
}

}  // namespace reducto::cli
