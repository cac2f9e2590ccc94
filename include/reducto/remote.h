// EXPERIMENTAL (docs/api.md): new; may still change.
//
// Corpora from repositories (docs/repositories.md): a receiver that does not hold the
// corpus a container names finds it in a local cache, or fetches it from the first
// repository that has it, and fetches only the pieces of the pack that the container's
// copies read. Every fetched byte is verified against digests the manifest covers, and
// the manifest against the digest the container pins, before it is used.
//
// Thread safety: a resolver may be used from many threads; the cache is safe for many
// processes at once (file locks).
#ifndef REDUCTO_REMOTE_H_
#define REDUCTO_REMOTE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reducto/corpus_handle.h"
#include "reducto/digest.h"
#include "reducto/metrics.h"
#include "reducto/signing.h"
#include "reducto/status.h"

namespace reducto {

// One repository: a base URL under which corpora/<id>/ holds each published corpus.
struct RepositoryConfig {
  std::string url;      // https://, http:// or file://, without a trailing '/'.
  std::string token;    // Bearer token; empty: none. Never logged or audited.
  std::string ca_file;  // Extra CA certificates; empty: the system's. Verification stays on.
  int connect_timeout_seconds = 10;
  int stall_seconds = 20;  // A transfer below 1 KiB/s this long is abandoned (and retried).
  int attempts = 4;        // Tries per request, retries included.
  int backoff_ms = 200;    // First retry delay; doubles, with jitter.
};

inline constexpr uint64_t kDefaultCacheLimit = uint64_t{10} << 30;

struct RemoteSettings {
  std::vector<RepositoryConfig> repositories;  // In priority order.
  std::string cache_dir;                        // Empty: DefaultCacheDir().
  uint64_t cache_limit = kDefaultCacheLimit;    // 0: no limit.
  int parallel = 8;                             // Requests in flight at once.
  // Whose signatures are fetched with a manifest, for the trust rules to check (a
  // Session sets its trusted keys here).
  std::vector<PublicKey> signature_keys;
  // When set, every fetch adds its counts (fetch_*, pieces_*, cache_bytes) and its time
  // (Phase::kFetch) here as it happens (reducto/metrics.h). Not owned.
  RunMetrics* metrics = nullptr;
};

// $XDG_CACHE_HOME/reducto, else $HOME/.cache/reducto; empty without either variable.
std::string DefaultCacheDir();

// What fetching cost; summed over the life of a resolver.
struct FetchTotals {
  uint64_t pieces_fetched = 0;   // Pieces fetched from repositories (and verified).
  uint64_t pieces_cached = 0;    // Pieces needed and found verified in the cache.
  uint64_t bytes_fetched = 0;    // Bytes received from repositories, all requests.
  uint64_t requests = 0;         // Requests made, retries included.
  uint64_t retries = 0;
};

// Resolves a reference through `local` first; when that finds nothing (NotFound) and
// the reference names an id, through the cache, then each repository of `settings` in
// order. A corpus from the cache or a repository is checked with `options`' trust
// rules (trusted keys: its signatures are fetched too; policy) before any byte of it is
// used, and reads fetch the pack pieces they need on demand. Without repositories this
// is `local` with the cache in front of nothing: a cached corpus still resolves.
class RemoteCorpusResolver : public CorpusResolver {
 public:
  RemoteCorpusResolver(std::unique_ptr<CorpusResolver> local, RemoteSettings settings,
                       CorpusOpenOptions options);
  ~RemoteCorpusResolver() override;
  Result<CorpusHandle> Resolve(const CorpusReference& reference) override;

  // Fetches, into the cache, the pieces of `corpus` (which this resolver returned) that
  // cover `ranges` ([address, address + length)); all of its pack when `ranges` is empty.
  // A corpus opened from a local directory needs nothing: OK.
  Status Prefetch(const CorpusHandle& corpus,
                  const std::vector<std::pair<uint64_t, uint64_t>>& ranges);

  FetchTotals totals() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// ---- the cache (docs/repositories.md, "The cache") ----

struct CachedCorpus {
  std::string id;
  uint64_t disk_bytes = 0;      // Blocks allocated on disk (sparse files count what they hold).
  uint64_t pack_bytes = 0;      // The corpus's address space.
  uint64_t pieces_present = 0;  // Verified pieces held, of all its segments.
  uint64_t pieces_total = 0;
  int64_t last_used = 0;        // Unix seconds.
};

struct CacheInfo {
  std::string dir;
  uint64_t disk_bytes = 0;
  std::vector<CachedCorpus> corpora;  // Most recently used first.
};

// What the cache at `dir` holds. A directory that does not exist holds nothing.
Result<CacheInfo> ReadCacheInfo(const std::string& dir);

// Removes the least recently used corpora until the cache takes at most `limit` bytes
// (0: removes all), skipping corpora that another process is using. Returns the ids
// removed.
Result<std::vector<std::string>> PruneCache(const std::string& dir, uint64_t limit);

}  // namespace reducto

#endif  // REDUCTO_REMOTE_H_
