// Where a corpus comes from. The corpora this user made on this machine (corpus build,
// update, optimize, prune) are recorded in the state directory; any other corpus came
// from elsewhere and must verify against a trusted key before compress, decompress,
// corpus update or corpus prune use it, unless --insecure-skip-verify says otherwise
// (docs/security.md, "Corpus origin").
#ifndef REDUCTO_CLI_CORPUS_ORIGIN_H_
#define REDUCTO_CLI_CORPUS_ORIGIN_H_

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "reducto/corpus.h"
#include "reducto/signing.h"
#include "reducto/status.h"
#include "settings.h"
#include "trust.h"

namespace reducto::cli {

// $XDG_STATE_HOME/reducto, else ~/.local/state/reducto; nullopt without either.
std::optional<std::string> StateDirectory();

// Records that `info` (id and manifest digest) was made here. A failure is a warning:
// the corpus exists, and using it will ask for a trusted key instead.
void RememberMadeHere(const CorpusInfo& info);

// OK when the corpus was made here (RememberMadeHere); else Permission naming the
// record looked up and saying how to trust the corpus.
Status CheckMadeHere(const CorpusInfo& info);
// Where RememberMadeHere records corpora ("" without a state directory).
std::string MadeHereRecordPath();

// --trusted-key and --insecure-skip-verify, for the commands that use a corpus.
struct CorpusUseFlags {
  TrustFlags trust;
  bool insecure_skip_verify = false;

  void Register(CLI::App* cmd);
  // Fills `trusted_keys` and `corpus_policy` of compress or decompress options:
  // - --insecure-skip-verify: neither (a warning on stderr);
  // - trusted keys configured: those, so a signature by one of them is required;
  // - none: the corpus must be one made here (CheckMadeHere).
  template <typename Options>
  Status Apply(const Settings& settings, Options* options) const {
    if (insecure_skip_verify) {
      WarnSkipping();
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(options->trusted_keys, trust.Resolve(settings));
    if (options->trusted_keys.empty()) options->corpus_policy = CheckMadeHere;
    return Status::Ok();
  }
  // The same check for commands that read the corpus at `dir` themselves (corpus update
  // and prune). A `dir` without a readable manifest passes: the command says what is
  // wrong with it.
  Status Check(const Settings& settings, const std::string& dir) const;

 private:
  static void WarnSkipping();
};

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_CORPUS_ORIGIN_H_
