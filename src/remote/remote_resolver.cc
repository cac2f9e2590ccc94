// RemoteCorpusResolver, and reading and pruning the cache (reducto/remote.h).
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>

#include "corpus/corpus_handle_access.h"
#include "corpus/manifest.h"
#include "remote/corpus_cache.h"
#include "remote/remote_corpus.h"
#include "repository/piece_table.h"
#include "util/file.h"

namespace reducto {

struct RemoteCorpusResolver::State {
  std::unique_ptr<CorpusResolver> local;
  CorpusOpenOptions options;
  std::shared_ptr<FetchContext> context;
  std::mutex mutex;
  std::map<std::string, std::weak_ptr<const Corpus>> open;  // By id.
};

RemoteCorpusResolver::RemoteCorpusResolver(std::unique_ptr<CorpusResolver> local,
                                           RemoteSettings settings, CorpusOpenOptions options)
    : state_(std::make_unique<State>()) {
  state_->local = std::move(local);
  state_->options = std::move(options);
  state_->context = std::make_shared<FetchContext>(std::move(settings));
}

// Fetching may have taken the cache past its limit: the least recently used corpora
// (not those in use) go.
RemoteCorpusResolver::~RemoteCorpusResolver() {
  const RemoteSettings& settings = state_->context->settings();
  if (settings.cache_limit == 0 || state_->context->totals().pieces_fetched == 0) return;
  (void)PruneCache(state_->context->cache_dir(), settings.cache_limit);
}

Result<CorpusHandle> RemoteCorpusResolver::Resolve(const CorpusReference& reference) {
  Result<CorpusHandle> local = state_->local ? state_->local->Resolve(reference)
                                             : Result<CorpusHandle>(Status::NotFound(""));
  if (local.ok() || local.status().code() != StatusCode::kNotFound || reference.id.empty()) {
    return local;
  }
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (auto it = state_->open.find(reference.id); it != state_->open.end()) {
    CorpusHandle held = it->second.lock();
    if (held && (!reference.manifest_digest ||
                 DigestEqual(*reference.manifest_digest, held->info().manifest_digest))) {
      return held;
    }
  }
  auto reader = OpenRemoteCorpus(state_->context, reference.id, reference.manifest_digest,
                                 state_->options);
  if (!reader.ok()) {
    if (reader.status().code() != StatusCode::kNotFound || local.status().message().empty()) {
      return reader.status();
    }
    return Status::NotFound(local.status().message() + "; " + reader.status().message());
  }
  CorpusHandle handle = MakeCorpusHandle(std::move(reader).value());
  state_->open[reference.id] = handle;
  return handle;
}

Status RemoteCorpusResolver::Prefetch(const CorpusHandle& corpus,
                                      const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  const CorpusReader& reader = ReaderOf(*corpus);
  if (!reader.fetches()) return Status::Ok();
  if (!ranges.empty()) return reader.Prefetch(ranges);
  const std::pair<uint64_t, uint64_t> all{0, reader.size()};
  return reader.Prefetch(std::span(&all, 1));
}

FetchTotals RemoteCorpusResolver::totals() const { return state_->context->totals(); }

// ---- the cache ----

namespace {

uint64_t DiskBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  }
  return total;
}

int64_t LastUsed(const std::filesystem::path& dir) {
  struct stat st;
  if (::stat((dir / "used").c_str(), &st) != 0 && ::stat(dir.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtime);
}

// How many pieces the segment files of the corpus at `dir` hold, of how many.
void CountPieces(const std::filesystem::path& dir, CachedCorpus* corpus) {
  Result<std::string> text = ReadSmallFile((dir / "manifest.json").string(), 16u << 20);
  if (!text.ok()) return;
  Result<CorpusInfo> info = ParseManifest(*text, (dir / "manifest.json").string());
  if (!info.ok()) return;
  corpus->pack_bytes = info->pack_bytes();
  for (size_t i = info->segment_owners.size(); i < info->segments.size(); ++i) {
    const CorpusSegment& segment = info->segments[i];
    uint32_t piece_size = segment.pieces ? segment.pieces->piece_size : 65536;
    corpus->pieces_total += PieceCount(segment.size, piece_size);
    Result<std::string> have =
        ReadSmallFile((dir / (segment.file + ".have")).string(), uint64_t{1} << 32);
    if (have.ok()) corpus->pieces_present += std::count(have->begin(), have->end(), '\1');
  }
}

}  // namespace

Result<CacheInfo> ReadCacheInfo(const std::string& dir) {
  CacheInfo info;
  info.dir = dir;
  std::filesystem::path corpora = std::filesystem::path(dir) / "corpora";
  std::error_code ec;
  if (!std::filesystem::is_directory(corpora, ec)) return info;
  for (const auto& entry : std::filesystem::directory_iterator(corpora, ec)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_directory() || entry.is_symlink() || name.starts_with(".")) continue;
    CachedCorpus corpus;
    corpus.id = name;
    corpus.disk_bytes = DiskBytes(entry.path());
    corpus.last_used = LastUsed(entry.path());
    CountPieces(entry.path(), &corpus);
    info.disk_bytes += corpus.disk_bytes;
    info.corpora.push_back(std::move(corpus));
  }
  if (ec) return ErrnoStatus("list", corpora.string(), ec.value());
  std::sort(info.corpora.begin(), info.corpora.end(),
            [](const CachedCorpus& a, const CachedCorpus& b) { return a.last_used > b.last_used; });
  return info;
}

Result<std::vector<std::string>> PruneCache(const std::string& dir, uint64_t limit) {
  ASSIGN_OR_RETURN(CacheInfo info, ReadCacheInfo(dir));
  std::vector<std::string> removed;
  uint64_t total = info.disk_bytes;
  std::mt19937_64 random{std::random_device{}()};
  // Least recently used first.
  for (auto it = info.corpora.rbegin(); it != info.corpora.rend() && total > limit; ++it) {
    std::string corpus_dir = CachedCorpusDir(dir, it->id);
    // A corpus another process has open holds its in-use lock shared: pass it by.
    auto lock = FileLock::Acquire(corpus_dir + "/inuse.lock", FileLock::Mode::kExclusive, false);
    if (!lock.ok()) continue;
    // Renamed away first, so that no process finds half a corpus.
    std::string doomed = dir + "/corpora/.evicted-" + it->id + "-" + std::to_string(random());
    if (::rename(corpus_dir.c_str(), doomed.c_str()) != 0) continue;
    std::error_code ec;
    std::filesystem::remove_all(doomed, ec);
    total -= std::min(total, it->disk_bytes);
    removed.push_back(it->id);
  }
  return removed;
}

}  // namespace reducto
