#include "usage_recording.h"

#include <cstdio>

#include "reducto/corpus.h"

namespace reducto::cli {

void UsageFlags::Register(CLI::App* cmd) {
  cmd->add_flag("--no-usage", no_usage,
                "do not record which corpus chunks this compression used (the usage store beside "
                "the corpus, read by `corpus prune --unused-since`)");
}

CorpusUsageRecorder MakeUsageRecorder(const std::string& corpus_dir) {
  auto info = ReadCorpusInfo(corpus_dir);  // Compress reports any problem with it.
  return CorpusUsageRecorder(info.ok() ? info->chunking.min_size : 0);
}

void RecordUsageOrWarn(const CorpusUsageRecorder& recorder, const std::string& corpus_dir,
                       const CompressStats& stats) {
  if (stats.standalone || stats.corpus_id.empty()) return;
  Status recorded = recorder.Record(corpus_dir, stats.corpus_id, UnixNow());
  if (!recorded.ok()) {
    std::fprintf(stderr,
                 "reducto: warning: the container is complete, but its corpus usage was not "
                 "recorded: %s (pass --no-usage, set usage = false in the config or "
                 "REDUCTO_USAGE=0 to stop recording)\n",
                 recorded.ToString().c_str());
  }
}

}  // namespace reducto::cli
