// reducto corpus prune (--keep-for FILE... | --unused-since DURATION) -o OUT DIR
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "reducto/prune.h"
#include "reducto/signing.h"
#include "session.h"

namespace reducto::cli {
namespace {

struct CorpusPruneCommand {
  std::string source;
  std::string output;
  std::vector<std::string> keep_for;
  std::optional<std::string> unused_since;
  std::string profile = "max";
  std::vector<std::string> sign_keys;
  CorpusUseFlags origin;
  bool force = false;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                     OpenSession(settings, SessionUse{&origin}));
    CorpusPruneOptions options;
    options.keep_for = keep_for;
    if (unused_since) {
      auto seconds = ParseDuration(*unused_since);
      if (!seconds.ok()) return seconds.status().WithContext("--unused-since");
      options.unused_since_seconds = *seconds;
    }
    ASSIGN_OR_RETURN(auto parsed_profile, ParseProfile(profile));
    options.profile = parsed_profile;
    options.overwrite = force;
    options.sign_keys = sign_keys;
    auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(auto result, session->PruneCorpus(source, output, options));
    if (!ctx.quiet) {
      const CorpusInfo& info = result.info;
      uint64_t chunks = result.kept_chunks + result.dropped_chunks;
      uint64_t bytes = result.kept_bytes + result.dropped_bytes;
      double kept_share = bytes ? 100.0 * static_cast<double>(result.kept_bytes) / static_cast<double>(bytes) : 0;
      std::fprintf(stderr,
                   "corpus %s pruned from %s at %s in %.1f s: kept %llu of %llu chunks (%s, %.1f%%), "
                   "dropped %llu chunks (%s)\n",
                   info.id.c_str(), source.c_str(), output.c_str(), SecondsSince(start),
                   static_cast<unsigned long long>(result.kept_chunks),
                   static_cast<unsigned long long>(chunks), HumanBytes(result.kept_bytes).c_str(),
                   kept_share, static_cast<unsigned long long>(result.dropped_chunks),
                   HumanBytes(result.dropped_bytes).c_str());
      ReportSigners(info, sign_keys);
    }
    return Status::Ok();
  }
};

}  // namespace

void RegisterCorpusPruneCommand(CLI::App* corpus, Context& ctx) {
  static CorpusPruneCommand prune;
  auto* cmd = AddCommand(corpus, ctx, prune, "prune",
                         "make a new corpus without the chunks that are no longer needed");
  cmd->add_option("dir", prune.source, "corpus to prune (it is not changed)")->required();
  cmd->add_option("-o,--output", prune.output, "corpus directory to create")->required();
  cmd->add_option("--keep-for", prune.keep_for,
                  "keep the chunks that compressing these files uses (copies, extensions and "
                  "delta references)")
      ->expected(1, -1);
  cmd->add_option("--unused-since", prune.unused_since,
                  "keep the chunks whose last recorded use is within DURATION (30d, 12h, 90m; "
                  "needs the corpus's usage store)");
  cmd->add_option("--profile", prune.profile,
                  "with --keep-for: the compression profile whose copies and delta references are kept "
                  "(fast, default, max; default max)");
  cmd->add_flag("-f,--force", prune.force, "replace an existing corpus at the output path");
  prune.origin.Register(cmd);
  RegisterSignKeyOption(cmd, &prune.sign_keys);
}

}  // namespace reducto::cli
