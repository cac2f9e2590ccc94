#include "usage_recording.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "corpus_origin.h"
#include "reducto/corpus.h"

namespace reducto::cli {

void UsageFlags::Register(CLI::App* cmd) { AddSettingFlag(cmd, "usage"); }

CorpusUsageRecorder MakeUsageRecorder(const std::string& corpus_dir) {
  auto info = ReadCorpusInfo(corpus_dir);  // Compress reports any problem with it.
  return CorpusUsageRecorder(info.ok() ? info->chunking.min_size : 0);
}

namespace {

// $XDG_STATE_HOME/reducto/usage-warned/<corpus id>: present once the warning that the
// usage of that corpus cannot be recorded was given (docs/corpus.md, "Usage store").
std::optional<std::string> WarnedMarker(const std::string& corpus_id) {
  std::optional<std::string> state = StateDirectory();
  if (!state) return std::nullopt;
  return *state + "/usage-warned/" + corpus_id;
}

// True the first time for `corpus_id` (and whenever the marker cannot be kept).
bool FirstWarning(const std::string& corpus_id) {
  std::optional<std::string> marker = WarnedMarker(corpus_id);
  if (!marker) return true;
  std::error_code ec;
  if (std::filesystem::exists(*marker, ec)) return false;
  std::filesystem::create_directories(std::filesystem::path(*marker).parent_path(), ec);
  std::ofstream(*marker).put('\n');
  return true;
}

}  // namespace

void RecordUsageOrWarn(const CorpusUsageRecorder& recorder, const std::string& corpus_dir,
                       const CompressStats& stats) {
  if (stats.standalone || stats.corpus_id.empty()) return;
  Status recorded = recorder.Record(corpus_dir, stats.corpus_id, UnixNow());
  if (recorded.ok() || !FirstWarning(stats.corpus_id)) return;
  std::fprintf(stderr,
               "reducto: warning: the container is complete, but its corpus usage was not "
               "recorded: %s (pass --no-usage, set usage = false in the config or "
               "REDUCTO_USAGE=0 to stop recording; this is said once per corpus)\n",
               recorded.ToString().c_str());
}

}  // namespace reducto::cli
