// A corpus read from the cache, whose pack pieces are fetched from repositories when a
// read needs them (docs/repositories.md, "Fetching"). Decoding only: it has no chunk
// index, so Lookup finds nothing.
#ifndef REDUCTO_REMOTE_REMOTE_CORPUS_H_
#define REDUCTO_REMOTE_REMOTE_CORPUS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "corpus/corpus_reader.h"
#include "fetch/http_fetch.h"
#include "reducto/corpus_handle.h"
#include "reducto/remote.h"

namespace reducto {

// What every corpus of one resolver shares: the repositories, one fetcher (its
// connections are reused across corpora), the totals.
class FetchContext {
 public:
  explicit FetchContext(RemoteSettings settings);

  const RemoteSettings& settings() const { return settings_; }
  const std::string& cache_dir() const { return cache_dir_; }
  std::vector<Remote> remotes() const;

  // Says whether a fetched body is right; a non-OK status has it fetched again.
  using BodyCheck = std::function<Status(const std::string& body)>;
  // One whole object from the first repository that has it and passes `check` (may be
  // empty); NotFound when none does. `tried` gets one line per repository that failed,
  // saying what it answered.
  Result<std::string> FetchWhole(const std::string& path, uint64_t max_bytes,
                                 const BodyCheck& check, std::vector<std::string>* tried);
  // Fetch on one repository (serialized: one multi handle).
  Status Fetch(const Remote& remote, std::span<const FetchRequest> requests,
               const FetchConsumer& consume);
  // `pieces` found in the cache, holding `bytes` corpus bytes.
  void CountCached(uint64_t pieces, uint64_t bytes);
  void CountFetched(uint64_t pieces);
  FetchTotals totals() const;

 private:
  RemoteSettings settings_;
  std::string cache_dir_;
  mutable std::mutex mutex_;
  HttpFetcher fetcher_;
  FetchTotals totals_;
};

// Opens corpus `id` from the cache, fetching its manifest (which must have the digest
// `pinned` when set), its signatures by the trusted keys and its piece tables from the
// repositories when the cache lacks them; then applies `options`' trust rules.
Result<std::unique_ptr<CorpusReader>> OpenRemoteCorpus(std::shared_ptr<FetchContext> context,
                                                       const std::string& id,
                                                       const std::optional<Digest>& pinned,
                                                       const CorpusOpenOptions& options);

}  // namespace reducto

#endif  // REDUCTO_REMOTE_REMOTE_CORPUS_H_
