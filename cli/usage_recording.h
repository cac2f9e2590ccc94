// Usage recording for `compress` (docs/corpus.md, "Usage store"): the --no-usage flag.
// The recording itself is the library session's (reducto/session.h).
#ifndef REDUCTO_CLI_USAGE_RECORDING_H_
#define REDUCTO_CLI_USAGE_RECORDING_H_

#include <CLI/CLI.hpp>
#include <string>

#include "settings.h"

namespace reducto::cli {

// --no-usage: the setting `usage` as a flag.
struct UsageFlags {
  void Register(CLI::App* cmd);
  // Recording is on unless --no-usage, REDUCTO_USAGE=0 or `usage = false` says otherwise.
  bool Enabled(const Settings& settings) const { return settings.usage; }
};

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_USAGE_RECORDING_H_
