// Pruning a corpus: a new corpus made of the chunks of an existing one that are still
// needed (docs/corpus.md, "Pruning").
//
// Thread safety: PruneCorpus may run concurrently with anything that reads the source.
#ifndef REDUCTO_PRUNE_H_
#define REDUCTO_PRUNE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/status.h"

namespace reducto {

struct CorpusPruneOptions {
  // Exactly one of the two modes.
  // Keep the chunks that compressing these files (with `profile`) copies or
  // delta-encodes from: every stored chunk that such a range touches.
  std::vector<std::string> keep_for;
  Profile profile = Profile::kMax;
  // Keep the chunks whose last recorded use (usage.h) is at most this many seconds
  // before `now`.
  std::optional<uint64_t> unused_since_seconds;
  int64_t now = 0;  // UnixNow() when 0.

  bool overwrite = false;              // As CorpusBuildOptions::overwrite.
  std::vector<std::string> sign_keys;  // As CorpusBuildOptions::sign_keys.
};

struct CorpusPruneResult {
  CorpusInfo info;  // The new corpus (new id, parent null).
  uint64_t kept_chunks = 0;
  uint64_t kept_bytes = 0;
  uint64_t dropped_chunks = 0;
  uint64_t dropped_bytes = 0;
};

// Publishes at `out_dir` a new corpus holding the chunks of the corpus at `source_dir`
// that the options keep, in their address order (so neighbours stay neighbours), with
// the source's chunking parameters; published like BuildCorpus (atomic, signed).
// InvalidArgument: not exactly one mode, a mode with nothing in it, `out_dir` as in
// BuildCorpus. NotFound: a missing source or keep_for file, or no usage recorded for
// the source with unused_since_seconds.
Result<CorpusPruneResult> PruneCorpus(const std::string& source_dir, const std::string& out_dir,
                                      const CorpusPruneOptions& options);

// "30d", "12h", "90m", "45s", "2w": a whole number and one unit (s, m, h, d, w) as
// seconds. InvalidArgument, saying what is accepted, otherwise.
Result<uint64_t> ParseDuration(const std::string& text);

}  // namespace reducto

#endif  // REDUCTO_PRUNE_H_
