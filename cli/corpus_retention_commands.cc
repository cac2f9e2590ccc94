// reducto corpus delete | reducto gc
#include <cstdio>
#include <string>
#include <vector>

#include "command.h"
#include "reducto/prune.h"
#include "reducto/retention.h"

namespace reducto::cli {
namespace {

struct CorpusDeleteCommand {
  std::vector<std::string> dirs;
  bool force = false;

  Status Run(const Context& ctx) const {
    CorpusDeleteOptions options;
    options.force = force;
    for (const std::string& dir : dirs) {
      ASSIGN_OR_RETURN(auto report, DeleteCorpus(dir, options));
      if (!ctx.quiet) {
        std::fprintf(stderr, "corpus %s at %s deleted: %llu files, %s overwritten before removal",
                     report.id.c_str(), dir.c_str(), static_cast<unsigned long long>(report.files),
                     HumanBytes(report.bytes).c_str());
        if (report.linked_files > 0) {
          std::fprintf(stderr, " (%llu files with other hard links only unlinked)",
                       static_cast<unsigned long long>(report.linked_files));
        }
        if (report.crypto_shredded) {
          std::fprintf(stderr, "; crypto-shredded: its wrapped key was erased first, so what of "
                               "its pack and index survives on the disk (SSD or copy-on-write "
                               "blocks) can never be decrypted");
        }
        for (const std::string& dependent : report.dependents) {
          std::fprintf(stderr, "\nwarning: %s was built on it and no longer opens", dependent.c_str());
        }
        std::fprintf(stderr, "\n");
      }
    }
    return Status::Ok();
  }
};

struct GcCommand {
  std::string store = ".";
  bool dry_run = false;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    RetentionPolicy policy;
    if (settings.corpus_max_age) policy.corpus_max_age_seconds = settings.corpus_max_age;
    policy.leftover_max_age_seconds = settings.leftover_max_age;
    ASSIGN_OR_RETURN(auto actions, CollectGarbage(store, policy, dry_run));
    for (const GcAction& action : actions) {
      std::printf("%-9s %s  (%s)\n", action.done ? "deleted" : (dry_run ? "would del" : "kept"),
                  action.path.c_str(), action.reason.c_str());
    }
    if (!ctx.quiet && actions.empty()) std::fprintf(stderr, "gc: nothing to delete in %s\n", store.c_str());
    return std::fflush(stdout) == 0 ? Status::Ok() : Status::Io("cannot write to stdout");
  }
};

}  // namespace

void RegisterRetentionCommands(CLI::App* app, CLI::App* corpus, Context& ctx) {
  static CorpusDeleteCommand del;
  auto* d = AddCommand(corpus, ctx, del, "delete",
                       "delete corpora for good: files overwritten, then removed");
  d->add_option("dir", del.dirs, "corpus directories")->required();
  d->add_flag("-f,--force", del.force, "delete even when versions are built on it");

  static GcCommand gc;
  auto* g = AddCommand(app, ctx, gc, "gc",
                       "apply the retention policy to a store: expired corpora, leftovers");
  g->add_option("store", gc.store, "directory of corpora (default: the current one)");
  AddSettingFlag(g, "retention.corpus_max_age");
  AddSettingFlag(g, "retention.leftover_max_age");
  g->add_flag("-n,--dry-run", gc.dry_run, "say what would be deleted, delete nothing");
}

}  // namespace reducto::cli
