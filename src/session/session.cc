#include "reducto/session.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace reducto {
namespace {

constexpr char kMadeHereFile[] = "corpora-made-here";

// $XDG_STATE_HOME/reducto, else ~/.local/state/reducto; "" without either.
std::string DefaultStateDirectory() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/reducto";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.local/state/reducto";
  }
  return "";
}

std::string AuditLogIn(const SessionSettings& settings, const std::string& state_dir) {
  if (settings.audit_log) return *settings.audit_log == "off" ? "" : *settings.audit_log;
  return state_dir.empty() ? "" : state_dir + "/audit.log";
}

// One line per corpus: "<id> <BLAKE3 of manifest.json in hex>".
std::string MadeHereLine(const CorpusInfo& info) {
  return info.id + " " + ToHex(info.manifest_digest);
}

std::string UserName() {
  struct passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr ? pw->pw_name : std::to_string(::geteuid());
}

// "ok", "ok: <note>" or "failed: <message>" (docs/audit.md).
std::string Outcome(const Status& status, const std::string& note) {
  if (!status.ok()) return "failed: " + status.ToString();
  return note.empty() ? "ok" : "ok: " + note;
}

// Tells both `first` and `second` of every corpus range used.
class UseTee final : public CorpusUseObserver {
 public:
  UseTee(CorpusUseObserver* first, CorpusUseObserver* second) : first_(first), second_(second) {}
  void OnUse(uint64_t address, uint64_t length) override {
    first_->OnUse(address, length);
    if (second_ != nullptr) second_->OnUse(address, length);
  }

 private:
  CorpusUseObserver* first_;
  CorpusUseObserver* second_;
};

}  // namespace

bool IsAuditedOperation(const std::string& operation) {
  static const std::set<std::string> operations = {
      "compress",     "decompress",    "corpus build", "corpus update", "corpus optimize",
      "corpus prune", "corpus delete", "corpus sign",  "corpus verify", "corpus publish",
      "gc",
      "test"};
  return operations.contains(operation);
}

Session::Session(SessionSettings settings)
    : settings_(std::move(settings)),
      state_dir_(settings_.state_dir.value_or(DefaultStateDirectory())),
      audit_log_(AuditLogIn(settings_, state_dir_)) {}

void Session::Warn(const std::string& line) const {
  if (settings_.warn) {
    settings_.warn(line);
  } else {
    std::fprintf(stderr, "reducto: warning: %s\n", line.c_str());
  }
}

std::string Session::MadeHereRecordPath() const {
  return state_dir_.empty() ? "" : state_dir_ + "/" + kMadeHereFile;
}

void Session::RememberMadeHere(const CorpusInfo& info) const {
  const std::string path = MadeHereRecordPath();
  std::error_code error;
  if (!state_dir_.empty()) std::filesystem::create_directories(state_dir_, error);
  std::ofstream out;
  if (!path.empty() && !error) out.open(path, std::ios::app);
  if (out << MadeHereLine(info) << '\n' << std::flush) return;
  Warn("could not record corpus " + info.id + " in " +
       (path.empty() ? std::string("the state directory (no HOME)") : path) +
       ": compress and decompress will ask for a trusted key (or --insecure-skip-verify) to "
       "use it");
}

Status Session::CheckOrigin(const CorpusInfo& info) const {
  if (settings_.skip_origin_check) return Status::Ok();
  if (!settings_.trusted_keys.empty()) return CheckCorpusTrust(info, settings_.trusted_keys);
  const std::string record = MadeHereRecordPath();
  std::ifstream in(record);
  const std::string wanted = MadeHereLine(info);
  for (std::string line; !record.empty() && std::getline(in, line);) {
    if (line == wanted) return Status::Ok();
  }
  return Status::Permission(
      "corpus " + info.id + " at " + info.path + " is not in the record of corpora made here (" +
      (record.empty() ? std::string("no state directory: HOME is not set") : record) +
      ", for user " + UserName() +
      "): it was made by another user or machine, under another XDG_STATE_HOME (sudo, a CI "
      "step, a systemd unit), or its manifest changed since. See who signed it (reducto corpus "
      "info " + info.path + "), then pass --trusted-key KEY.pub or set trusted_keys (the set-up "
      "for fleets and services: docs/security.md); or pass --insecure-skip-verify to use it "
      "unverified (in the C ABI and Python: the settings trusted_keys and skip_origin_check)");
}

CorpusOpenOptions Session::OpenOptions(uint64_t cache_size, const EnvelopeKey* key) const {
  CorpusOpenOptions options;
  options.cache_size = cache_size;
  options.key = key;
  options.policy = [this](const CorpusInfo& info) { return CheckOrigin(info); };
  return options;
}

Result<CorpusHandle> Session::OpenCorpus(const std::string& dir, uint64_t cache_size,
                                         const EnvelopeKey* key, bool fall_back) const {
  if (!fall_back) return Corpus::Open(dir, OpenOptions(cache_size, key));
  return OpenCorpusOrFallBack(dir, OpenOptions(cache_size, key), true);
}

Result<CompressStats> Session::Compress(const Corpus& corpus, ByteSource& in, ByteSink& out,
                                        CompressOptions options) const {
  options.corpus_policy = [this](const CorpusInfo& info) { return CheckOrigin(info); };
  CorpusUsageRecorder recorder(corpus.info().chunking.min_size);
  UseTee tee(&recorder, options.use_observer);
  const bool record = settings_.record_usage && !options.standalone;
  if (record) options.use_observer = &tee;
  Result<CompressStats> stats = reducto::Compress(corpus, in, out, options);
  if (stats.ok() && record) RecordUsage(recorder, corpus.info().path, *stats);
  RecordOperation("compress", stats.ok() ? stats->corpus_id : corpus.info().id, stats.status());
  return stats;
}

Result<CompressStats> Session::Compress(const std::string& corpus_dir, ByteSource& in,
                                        ByteSink& out, CompressOptions options) const {
  Result<CorpusHandle> corpus = CorpusHandle();
  if (!options.standalone) {
    corpus = OpenCorpus(corpus_dir, options.cache_size, options.corpus_key,
                        options.fallback_to_standalone);
  }
  if (!corpus.ok()) {
    RecordOperation("compress", "", corpus.status());
    return corpus.status();
  }
  if (*corpus) return Compress(**corpus, in, out, std::move(options));
  Result<CompressStats> stats = CompressStandalone(in, out, options);
  const bool fell_back = stats.ok() && !options.standalone;
  if (fell_back) stats->fell_back = true;
  RecordOperation("compress", "", stats.status(),
                  fell_back ? "fell back to a standalone container" : "");
  return stats;
}

void Session::RecordUsage(const CorpusUsageRecorder& recorder, const std::string& corpus_dir,
                          const CompressStats& stats) const {
  if (stats.standalone || stats.corpus_id.empty()) return;
  Status recorded = recorder.Record(corpus_dir, stats.corpus_id, UnixNow());
  if (recorded.ok()) return;
  // Said once per corpus: a marker under <state>/usage-warned/ remembers it.
  if (!state_dir_.empty()) {
    const std::filesystem::path marker = state_dir_ + "/usage-warned/" + stats.corpus_id;
    std::error_code ec;
    if (std::filesystem::exists(marker, ec)) return;
    std::filesystem::create_directories(marker.parent_path(), ec);
    std::ofstream(marker).put('\n');
  }
  Warn("the container is complete, but its corpus usage was not recorded: " +
       recorded.ToString() +
       " (pass --no-usage, set usage = false in the config or REDUCTO_USAGE=0 to stop "
       "recording; this is said once per corpus)");
}

std::unique_ptr<CorpusResolver> Session::Resolver(std::vector<std::string> locations,
                                                  uint64_t cache_size,
                                                  const EnvelopeKey* key) const {
  auto local = std::make_unique<LocalCorpusResolver>(OpenOptions(cache_size, key),
                                                     std::move(locations));
  if (!settings_.remote) return local;
  RemoteSettings remote = *settings_.remote;
  remote.signature_keys = settings_.trusted_keys;
  return std::make_unique<RemoteCorpusResolver>(std::move(local), std::move(remote),
                                                OpenOptions(cache_size, key));
}

Result<DecompressStats> Session::Decompress(CorpusResolver& corpora, ByteSource& in,
                                            ByteSink& out, DecompressOptions options) const {
  options.corpus_policy = [this](const CorpusInfo& info) { return CheckOrigin(info); };
  Result<DecompressStats> stats = reducto::Decompress(corpora, in, out, options);
  RecordOperation("decompress", stats.ok() ? stats->corpus_id : "", stats.status());
  return stats;
}

Result<DecompressStats> Session::Decompress(const Corpus& corpus, ByteSource& in, ByteSink& out,
                                            DecompressOptions options) const {
  options.corpus_policy = [this](const CorpusInfo& info) { return CheckOrigin(info); };
  Result<DecompressStats> stats = reducto::Decompress(corpus, in, out, options);
  RecordOperation("decompress", stats.ok() ? stats->corpus_id : corpus.info().id, stats.status());
  return stats;
}

Result<DecompressStats> Session::Decompress(const std::string& corpus_dir, ByteSource& in,
                                            ByteSink& out, DecompressOptions options) const {
  std::vector<std::string> locations;
  if (!corpus_dir.empty()) locations.push_back(corpus_dir);
  auto corpora = Resolver(std::move(locations), options.cache_size, options.corpus_key);
  return Decompress(*corpora, in, out, std::move(options));
}

Status Session::VerifyCorpus(const std::string& dir, const EnvelopeKey* key) const {
  Result<CorpusInfo> info = ReadCorpusInfo(dir);
  Status verified = info.status();
  if (verified.ok()) verified = reducto::VerifyCorpus(dir, key);
  if (verified.ok()) verified = CheckOrigin(*info);
  RecordOperation("corpus verify", info.ok() ? info->id : "", verified);
  return verified;
}

Result<CorpusInfo> Session::BuildCorpus(const std::vector<std::string>& inputs,
                                        const std::string& out_dir,
                                        const CorpusBuildOptions& options) const {
  Result<CorpusInfo> info = reducto::BuildCorpus(inputs, out_dir, options);
  if (info.ok()) RememberMadeHere(*info);
  RecordOperation("corpus build", info.ok() ? info->id : "", info.status());
  return info;
}

Result<CorpusInfo> Session::UpdateCorpus(const std::string& parent_dir,
                                         const std::vector<std::string>& inputs,
                                         const std::string& out_dir,
                                         const CorpusUpdateOptions& options) const {
  Result<CorpusInfo> info = [&]() -> Result<CorpusInfo> {
    if (Result<CorpusInfo> parent = ReadCorpusInfo(parent_dir); parent.ok()) {
      RETURN_IF_ERROR(CheckOrigin(*parent).WithContext("the parent corpus"));
    }
    return reducto::UpdateCorpus(parent_dir, inputs, out_dir, options);
  }();
  if (info.ok()) RememberMadeHere(*info);
  RecordOperation("corpus update", info.ok() ? info->id : "", info.status());
  return info;
}

Result<OptimizeReport> Session::OptimizeCorpus(const std::vector<std::string>& samples,
                                               const std::string& out_dir,
                                               const OptimizeOptions& options) const {
  Result<OptimizeReport> report = reducto::OptimizeCorpus(samples, out_dir, options);
  if (report.ok()) RememberMadeHere(report->corpus);
  RecordOperation("corpus optimize", report.ok() ? report->corpus.id : "", report.status());
  return report;
}

Result<CorpusPruneResult> Session::PruneCorpus(const std::string& source_dir,
                                               const std::string& out_dir,
                                               const CorpusPruneOptions& options) const {
  Result<CorpusPruneResult> result = [&]() -> Result<CorpusPruneResult> {
    if (Result<CorpusInfo> source = ReadCorpusInfo(source_dir); source.ok()) {
      RETURN_IF_ERROR(CheckOrigin(*source));
    }
    return reducto::PruneCorpus(source_dir, out_dir, options);
  }();
  if (result.ok()) RememberMadeHere(result->info);
  RecordOperation("corpus prune", result.ok() ? result->info.id : "", result.status());
  return result;
}

void Session::RecordOperation(const std::string& operation, const std::string& corpus_id,
                              const Status& status, const std::string& note) const {
  if (!settings_.audit_each_operation) return;
  AuditEntry entry;
  entry.operation = operation;
  entry.corpus = corpus_id;
  entry.outcome = Outcome(status, note);
  (void)Record(std::move(entry));  // Record warns.
}

std::string Session::AuditAnchorPath() const {
  if (state_dir_.empty() || audit_log_.empty()) return "";
  return state_dir_ + "/audit-anchors/" + AuditAnchorName(audit_log_);
}

Status Session::Record(AuditEntry entry) const {
  if (audit_log_.empty()) return Status::Ok();
  if (entry.args.empty()) entry.args = settings_.audit_args;
  AuditLogOptions options;
  options.anchor = AuditAnchorPath();
  options.sign_key = settings_.audit_sign_key.get();
  const std::string operation = entry.operation;
  Status appended = AppendAuditEntry(audit_log_, std::move(entry), options);
  if (!appended.ok()) {
    Warn("this " + operation + " was not recorded in the audit log: " + appended.ToString());
  }
  return appended;
}

}  // namespace reducto
