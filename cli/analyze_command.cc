// reducto analyze: a dry run of compress (reducto/analyze.h, docs/monitoring.md).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "encryption_flags.h"
#include "reducto/analyze.h"
#include "reducto/encryption.h"
#include "reducto/progress.h"
#include "session.h"

namespace reducto::cli {
namespace {

// --sample: a fraction of each input ("0.05", "5%") or a size ("16M").
Status ParseSample(const std::string& text, AnalyzeOptions* options) {
  if (text.empty()) return Status::Ok();
  const bool percent = text.back() == '%';
  const bool fraction = percent || text.find('.') != std::string::npos;
  if (fraction) {
    double value = 0;
    size_t used = 0;
    try {
      value = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (percent) value /= 100;
    if (used != text.size() - (percent ? 1 : 0) || !(value > 0 && value <= 1)) {
      return Status::InvalidArgument("--sample " + text + ": give a fraction of the input in "
                                     "(0, 1] (0.05, 5%) or a size (16M)");
    }
    options->sample_fraction = value;
    options->min_sample_bytes = 0;  // The fraction asked for, even of a small input.
    return Status::Ok();
  }
  auto bytes = ParseSize(text);
  if (!bytes.ok() || *bytes == 0) {
    return Status::InvalidArgument("--sample " + text + ": give a fraction of the input in "
                                   "(0, 1] (0.05, 5%) or a size (16M)");
  }
  options->sample_bytes = *bytes;
  return Status::Ok();
}

std::string Percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", 100 * share);
  return text;
}

std::string Seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", seconds);
  return text;
}

// One readable block: what a real compress would give, then how that was found.
void PrintReport(const AnalyzeReport& r) {
  const char* how = r.whole_input ? "exact: the sample was the whole input" : "predicted";
  std::printf("%s: %s\n", r.input.c_str(), how);
  std::printf("  ratio            %s (%s -> %s)\n", Ratio(r.input_bytes, r.container_bytes).c_str(),
              HumanBytes(r.input_bytes).c_str(), HumanBytes(r.container_bytes).c_str());
  std::printf("  hit rate         %s copied from the corpus\n", Percent(r.hit_rate()).c_str());
  std::printf("  coverage         %s copied or delta-encoded, %s literals\n",
              Percent(r.coverage()).c_str(), Percent(r.literal_share()).c_str());
  std::printf("  compress time    %s (the encoder's time per byte on a stretch of the input)\n",
              Seconds(r.compress_seconds).c_str());
  std::printf("  cold fetch       %s in %llu pieces of %s (about %s as stored) + %s of "
              "metadata%s\n",
              HumanBytes(r.fetch_piece_bytes).c_str(),
              static_cast<unsigned long long>(r.fetch_pieces), HumanBytes(r.piece_size).c_str(),
              HumanBytes(r.fetch_packed_bytes).c_str(), HumanBytes(r.fetch_metadata_bytes).c_str(),
              r.whole_input ? "" : " (estimated; the sample's own pieces are exact)");
  std::printf("  sample           %s in %llu windows (%s of the input), %llu pieces read\n",
              HumanBytes(r.sample_bytes).c_str(), static_cast<unsigned long long>(r.windows),
              Percent(static_cast<double>(r.sample_bytes) / r.input_bytes).c_str(),
              static_cast<unsigned long long>(r.sample_pieces));
  std::printf("  analysis took    %s\n", Seconds(r.seconds).c_str());
}

nlohmann::ordered_json Json(const AnalyzeReport& r) {
  nlohmann::ordered_json j;
  j["input"] = r.input;
  j["exact"] = r.whole_input;
  j["input_bytes"] = r.input_bytes;
  j["container_bytes"] = r.container_bytes;
  j["ratio"] = r.ratio();
  j["hit_rate"] = r.hit_rate();
  j["coverage"] = r.coverage();
  j["literal_share"] = r.literal_share();
  j["copy_bytes"] = r.copy_bytes;
  j["delta_bytes"] = r.delta_bytes;
  j["literal_bytes"] = r.literal_bytes;
  j["compress_seconds"] = r.compress_seconds;
  j["fetch"] = {{"pieces", r.fetch_pieces},
                {"piece_size", r.piece_size},
                {"piece_bytes", r.fetch_piece_bytes},
                {"packed_bytes_estimate", r.fetch_packed_bytes},
                {"metadata_bytes", r.fetch_metadata_bytes},
                {"corpus_pieces", r.corpus_pieces}};
  j["sample"] = {{"bytes", r.sample_bytes},
                 {"windows", r.windows},
                 {"container_bytes", r.sample_container_bytes},
                 {"fixed_container_bytes", r.fixed_container_bytes},
                 {"block_container_bytes", r.block_container_bytes},
                 {"pieces", r.sample_pieces},
                 {"seconds", r.sample_seconds}};
  j["seconds"] = r.seconds;
  return j;
}

struct AnalyzeCommand {
  std::vector<std::string> inputs;
  std::string profile = "default";
  std::string sample;
  std::string window;
  bool json = false;
  CorpusUseFlags origin;
  EncryptionFlags corpus_key;

  CommandResult Run(Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    ASSIGN_OR_RETURN(EnvelopeKey unlock, corpus_key.Load());
    ASSIGN_OR_RETURN(AnalyzeOptions options, Options(settings, unlock));
    const std::string corpus_dir = settings.corpus.value_or("");
    if (corpus_dir.empty()) {
      return Status::InvalidArgument(
          "analyze needs a corpus: pass -c DIR (or set `corpus` in the config file or "
          "REDUCTO_CORPUS), or build one with `reducto corpus build -o DIR FILE...`");
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Session> session, OpenSession(settings, {.origin = &origin}));
    // The corpus through the session, as compress opens it: the origin rule applies.
    ASSIGN_OR_RETURN(CorpusHandle corpus,
                     session->OpenCorpus(corpus_dir, options.compress.cache_size,
                                         options.compress.corpus_key));
    options.compress.corpus_policy = [&session](const CorpusInfo& info) {
      return session->CheckOrigin(info);
    };
    return AnalyzeAll(*corpus, options);
  }

  // Every input in turn; a failure is reported and the next input still runs.
  CommandResult AnalyzeAll(const Corpus& corpus, const AnalyzeOptions& options) const {
    std::vector<AnalyzeReport> reports;
    int exit_code = kExitOk;
    for (const std::string& input : inputs) {
      auto report = Analyze(corpus, input, options);
      if (!report.ok()) {
        exit_code = std::max(exit_code, ReportFailure(report.status()));
        continue;
      }
      if (!json) PrintReport(*report);
      reports.push_back(std::move(report).value());
    }
    if (json) {
      PrintJson(reports);
    } else if (reports.size() > 1) {
      PrintReport(SumReports(reports));
    }
    return CommandResult::Reported(exit_code);
  }

  void PrintJson(const std::vector<AnalyzeReport>& reports) const {
    nlohmann::ordered_json out;
    out["inputs"] = nlohmann::ordered_json::array();
    for (const AnalyzeReport& r : reports) out["inputs"].push_back(Json(r));
    out["total"] = Json(SumReports(reports));
    std::printf("%s\n", out.dump(2).c_str());
  }

  // The options compress would use, and the sample's.
  Result<AnalyzeOptions> Options(const Settings& settings, const EnvelopeKey& unlock) const {
    AnalyzeOptions options;
    CompressOptions& compress = options.compress;
    ASSIGN_OR_RETURN(compress.profile, ParseProfile(profile));
    compress.level = settings.level;
    compress.block_size = static_cast<uint32_t>(settings.block_size);  // At most 64M.
    compress.threads = settings.threads;
    compress.cache_size = settings.cache_size;
    compress.corpus_key = unlock.empty() ? nullptr : &unlock;
    RETURN_IF_ERROR(ParseSample(sample, &options));
    if (!window.empty()) {
      auto bytes = ParseSize(window);
      if (!bytes.ok() || *bytes < (64u << 10)) {
        return Status::InvalidArgument("--window " + window + ": give a size of 64K or more");
      }
      options.window_bytes = *bytes;
    }
    return options;
  }
};

}  // namespace

void RegisterAnalyzeCommand(CLI::App* app, Context& ctx) {
  static AnalyzeCommand analyze;
  auto* a = AddCommand(app, ctx, analyze, "analyze",
                       "predict what compress would give (ratio, hit rate, time, cold fetch) "
                       "from a sample, writing nothing");
  a->add_option("inputs", analyze.inputs, "files (not stdin: a dry run must not consume it)")
      ->required();
  AddSettingFlag(a, "corpus");
  AddSettingFlag(a, "level");
  a->add_option("--profile", analyze.profile,
                "how hard compress would search the corpus: fast, default, max");
  AddSettingFlag(a, "block_size");
  a->add_option("--sample", analyze.sample,
                "how much of each input to compress: a fraction (0.05, 5%) or a size (16M); "
                "default 5%, at least 4M");
  a->add_option("--window", analyze.window, "the size of each sample window (default 128K)");
  a->add_flag("--json", analyze.json, "print JSON");
  AddSettingFlag(a, "threads");
  AddSettingFlag(a, "cache_size");
  analyze.origin.Register(a);
  analyze.corpus_key.Register(a, "--corpus-key");
}

}  // namespace reducto::cli
