// reducto corpus fetch, reducto cache info|prune: the cache of corpus pieces fetched
// from repositories (docs/repositories.md, "The cache").
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "command.h"
#include "reducto/codec.h"
#include "reducto/io.h"
#include "reducto/remote.h"
#include "session.h"

namespace reducto::cli {
namespace {

using Json = nlohmann::ordered_json;

// The cache directory the settings give; InvalidArgument when there is none.
Result<std::string> CacheDirOf(const Settings& settings) {
  std::string dir = settings.cache_dir.value_or(DefaultCacheDir());
  if (dir.empty()) {
    return Status::InvalidArgument("no cache directory: pass --cache-dir DIR (or set "
                                   "XDG_CACHE_HOME or HOME)");
  }
  return dir;
}

std::string Age(int64_t when) {
  if (when == 0) return "-";
  int64_t seconds = std::max<int64_t>(0, static_cast<int64_t>(std::time(nullptr)) - when);
  if (seconds < 120) return std::to_string(seconds) + "s ago";
  if (seconds < 7200) return std::to_string(seconds / 60) + "m ago";
  if (seconds < 172800) return std::to_string(seconds / 3600) + "h ago";
  return std::to_string(seconds / 86400) + "d ago";
}

// reducto corpus fetch [ID] [--for CONTAINER]: the cache warmed with a whole corpus, or
// with the pieces a container needs.
struct CorpusFetchCommand {
  std::string id;
  std::string container;
  CorpusUseFlags origin;

  Status Run(Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    CorpusReference reference{"", id, std::nullopt};
    if (!container.empty()) RETURN_IF_ERROR(ReadContainer(&reference, &ranges));
    if (reference.id.empty()) {
      return Status::InvalidArgument("name the corpus: reducto corpus fetch ID, or --for "
                                     "CONTAINER");
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                     OpenSession(settings, SessionUse{.origin = &origin, .remote = true}));
    std::unique_ptr<CorpusResolver> resolver = session->Resolver({});
    auto* remote = dynamic_cast<RemoteCorpusResolver*>(resolver.get());
    ASSIGN_OR_RETURN(CorpusHandle corpus, resolver->Resolve(reference));
    ctx.audit.corpus_id = corpus->info().id;
    RETURN_IF_ERROR(remote->Prefetch(corpus, ranges));
    FetchTotals totals = remote->totals();
    if (!ctx.quiet) {
      std::fprintf(stderr, "corpus %s: %llu pieces fetched (%s in %llu requests), %llu already "
                   "in the cache %s\n",
                   corpus->info().id.c_str(),
                   static_cast<unsigned long long>(totals.pieces_fetched),
                   HumanBytes(totals.bytes_fetched).c_str(),
                   static_cast<unsigned long long>(totals.requests),
                   static_cast<unsigned long long>(totals.pieces_cached),
                   corpus->info().path.c_str());
    }
    return Status::Ok();
  }

  // The corpus the container names, and the ranges its copies read.
  Status ReadContainer(CorpusReference* reference,
                       std::vector<std::pair<uint64_t, uint64_t>>* ranges) const {
    ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenSource(container));
    ASSIGN_OR_RETURN(ContainerDescription d, DescribeContainer(*source));
    if (!d.readable) return Status::Permission(container + " is encrypted: " + d.lock);
    if (d.standalone) {
      return Status::InvalidArgument(container + " is a standalone container: it needs no corpus");
    }
    if (!reference->id.empty() && reference->id != d.corpus_id) {
      return Status::InvalidArgument(container + " was made against corpus " + d.corpus_id +
                                     ", not " + reference->id);
    }
    reference->id = d.corpus_id;
    reference->manifest_digest = d.corpus_manifest_digest;
    *ranges = std::move(d.corpus_ranges);
    if (ranges->empty()) ranges->emplace_back(0, 0);  // Copies nothing: fetch nothing.
    return Status::Ok();
  }
};

// reducto cache info [--json]
struct CacheInfoCommand {
  bool json = false;

  Status Run(Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    ASSIGN_OR_RETURN(std::string dir, CacheDirOf(settings));
    ASSIGN_OR_RETURN(CacheInfo info, ReadCacheInfo(dir));
    std::fputs((json ? JsonReport(info, settings.cache_limit) : TextReport(info, settings.cache_limit)).c_str(),
               stdout);
    return Status::Ok();
  }

  static std::string TextReport(const CacheInfo& info, uint64_t limit) {
    std::string out = "cache " + info.dir + ": " + HumanBytes(info.disk_bytes) + " on disk, limit " +
                      (limit == 0 ? std::string("none") : HumanBytes(limit)) + ", " +
                      std::to_string(info.corpora.size()) + " corpora\n";
    if (info.corpora.empty()) return out;
    std::vector<std::vector<std::string>> rows{{"CORPUS", "DISK", "PIECES", "PACK", "USED"}};
    for (const CachedCorpus& c : info.corpora) {
      rows.push_back({c.id, HumanBytes(c.disk_bytes),
                      std::to_string(c.pieces_present) + "/" + std::to_string(c.pieces_total),
                      HumanBytes(c.pack_bytes), Age(c.last_used)});
    }
    return out + FormatTable(rows);
  }

  static std::string JsonReport(const CacheInfo& info, uint64_t limit) {
    Json j;
    j["dir"] = info.dir;
    j["disk_bytes"] = info.disk_bytes;
    j["limit"] = limit;
    Json corpora = Json::array();
    for (const CachedCorpus& c : info.corpora) {
      corpora.push_back({{"id", c.id},
                         {"disk_bytes", c.disk_bytes},
                         {"pack_bytes", c.pack_bytes},
                         {"pieces_present", c.pieces_present},
                         {"pieces_total", c.pieces_total},
                         {"last_used", c.last_used}});
    }
    j["corpora"] = std::move(corpora);
    return j.dump(2) + "\n";
  }
};

// reducto cache prune [--all]: down to the limit, or empty.
struct CachePruneCommand {
  bool all = false;

  Status Run(Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    ASSIGN_OR_RETURN(std::string dir, CacheDirOf(settings));
    uint64_t limit = all ? 0 : settings.cache_limit;
    if (!all && limit == 0) return Status::Ok();  // No limit: nothing to prune.
    ASSIGN_OR_RETURN(std::vector<std::string> removed, PruneCache(dir, limit));
    ASSIGN_OR_RETURN(CacheInfo info, ReadCacheInfo(dir));
    if (!ctx.quiet) {
      for (const std::string& id : removed) std::fprintf(stderr, "removed corpus %s\n", id.c_str());
      std::fprintf(stderr, "cache %s: %s on disk, %zu corpora left%s\n", dir.c_str(),
                   HumanBytes(info.disk_bytes).c_str(), info.corpora.size(),
                   info.disk_bytes > limit ? " (the others are in use)" : "");
    }
    return Status::Ok();
  }
};

void RegisterCacheSettings(CLI::App* command) {
  AddSettingFlag(command, "cache_dir");
  AddSettingFlag(command, "cache_limit");
}

}  // namespace

void RegisterCacheCommands(CLI::App* app, CLI::App* corpus, Context& ctx) {
  static CorpusFetchCommand fetch;
  auto* f = AddCommand(corpus, ctx, fetch, "fetch",
                       "fetch a corpus from the repositories into the cache (all of it, or what "
                       "a container needs)");
  f->add_option("id", fetch.id, "corpus id (optional with --for)");
  f->add_option("--for", fetch.container, "fetch only what this container needs")
      ->option_text("CONTAINER");
  RegisterRepositoryOptions(f);
  fetch.origin.Register(f);

  CLI::App* cache = app->add_subcommand("cache", "the cache of corpora fetched from repositories");
  cache->require_subcommand(1);
  static CacheInfoCommand info;
  auto* i = AddCommand(cache, ctx, info, "info", "what the cache holds");
  i->add_flag("--json", info.json, "as JSON");
  RegisterCacheSettings(i);
  static CachePruneCommand prune;
  auto* p = AddCommand(cache, ctx, prune, "prune",
                       "remove the least recently used corpora down to the limit");
  p->add_flag("--all", prune.all, "remove every corpus not in use");
  RegisterCacheSettings(p);
}

}  // namespace reducto::cli
