// Usage recording for `compress` (docs/corpus.md, "Usage store"): the --no-usage flag
// and the step after a compression that records, or warns and goes on.
#ifndef REDUCTO_CLI_USAGE_RECORDING_H_
#define REDUCTO_CLI_USAGE_RECORDING_H_

#include <CLI/CLI.hpp>
#include <string>

#include "reducto/codec.h"
#include "reducto/usage.h"
#include "settings.h"

namespace reducto::cli {

// --no-usage: the setting `usage` as a flag.
struct UsageFlags {
  void Register(CLI::App* cmd);
  // Recording is on unless --no-usage, REDUCTO_USAGE=0 or `usage = false` says otherwise.
  bool Enabled(const Settings& settings) const { return settings.usage; }
};

// A recorder for compressing against the corpus at `corpus_dir`: it merges ranges
// closer than the corpus's minimum chunk size as they come, so that memory and the
// final sort stay small however many copies the container has.
CorpusUsageRecorder MakeUsageRecorder(const std::string& corpus_dir);

// Records what `recorder` saw into the usage store of `corpus_dir` for the corpus that
// `stats` names. Never fails: when the store cannot be written it prints a warning
// the first time for that corpus (a marker under $XDG_STATE_HOME/reducto/usage-warned/
// remembers it) and the command goes on. Nothing is recorded for a standalone container.
void RecordUsageOrWarn(const CorpusUsageRecorder& recorder, const std::string& corpus_dir,
                       const CompressStats& stats);

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_USAGE_RECORDING_H_
