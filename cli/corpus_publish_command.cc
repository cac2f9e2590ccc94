// reducto corpus publish CORPUS --to DIR: lay a corpus (and the ancestors the
// repository lacks) out in a repository directory (docs/repositories.md).
#include <cstdio>
#include <string>

#include "command.h"
#include "reducto/repository.h"
#include "session.h"

namespace reducto::cli {
namespace {

struct CorpusPublishCommand {
  std::string corpus;
  std::string to;
  int level = kDefaultPieceLevel;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    PublishOptions options;
    options.level = level;
    options.threads = settings.threads;
    ASSIGN_OR_RETURN(options.token, RepositoryToken(settings));
    options.ca_file = settings.repo_ca_file.value_or("");
    auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(PublishResult result, PublishCorpus(corpus, to, options));
    if (ctx.quiet) return Status::Ok();
    for (const PublishedCorpus& c : result.corpora) {
      if (c.added) {
        std::fprintf(stderr, "added    corpus %s from %s at %s: %llu files, %s\n", c.id.c_str(),
                     c.source.c_str(), c.path.c_str(), static_cast<unsigned long long>(c.files),
                     HumanBytes(c.bytes).c_str());
      } else {
        std::fprintf(stderr, "already  corpus %s at %s (manifest blake3 %s): already published\n",
                     c.id.c_str(), c.path.c_str(), ToHex(c.manifest_digest).c_str());
      }
    }
    std::fprintf(stderr, "published %s to %s in %.1f s\n", corpus.c_str(), to.c_str(),
                 SecondsSince(start));
    return Status::Ok();
  }
};

}  // namespace

void RegisterCorpusPublishCommand(CLI::App* corpus, Context& ctx) {
  static CorpusPublishCommand publish;
  auto* cmd = AddCommand(corpus, ctx, publish, "publish",
                         "lay a corpus out in a repository directory that any static HTTP "
                         "server can serve");
  cmd->add_option("dir", publish.corpus, "corpus directory to publish (it is not changed)")
      ->required();
  cmd->add_option("--to", publish.to,
                  "repository directory (created if missing; serve it with any static "
                  "server), or an http(s):// URL of a server that accepts PUT")
      ->required();
  for (const char* key : {"repo_token_file", "repo_token_env", "repo_ca_file"}) {
    AddSettingFlag(cmd, key);
  }
  cmd->add_option("-l,--level", publish.level, "zstd level of the compressed pieces (default 9)");
  AddSettingFlag(cmd, "threads");
}

}  // namespace reducto::cli
