// Deleting corpora for good, and the retention policy that `reducto gc` applies
// (docs/corpus.md, "Deletion and retention").
//
// Thread safety: the functions may be called concurrently on different corpora.
#ifndef REDUCTO_RETENTION_H_
#define REDUCTO_RETENTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reducto/status.h"

namespace reducto {

struct CorpusDeleteOptions {
  // Delete even when other corpora of the store are versions built on this one (they
  // will no longer open).
  bool force = false;
};

struct CorpusDeleteReport {
  std::string id;
  uint64_t files = 0;              // Files removed.
  uint64_t bytes = 0;              // Their bytes, overwritten before the unlink.
  uint64_t linked_files = 0;       // Files with other hard links: unlinked, not overwritten.
  std::vector<std::string> dependents;  // Versions built on it (deleted only with force).
  // An encrypted corpus: its wrapped corpus key (data-key) was erased first, so what of
  // its pack and index survives the overwrite (blocks an SSD or a copy-on-write file
  // system kept) can never be decrypted. Copies made with their data-key (backups)
  // stay readable by whoever holds the key file or passphrase.
  bool crypto_shredded = false;
};

// Deletes the corpus at `dir` and its usage store (`<dir>.usage`): every regular file
// is overwritten with random bytes and synced before it is unlinked (files that have
// other hard links are only unlinked, so other copies stay intact); manifest.json goes
// first, so an interrupted delete never leaves something that passes as a corpus. An
// encrypted corpus loses its data-key before anything else (crypto-shredding).
// Overwriting does not reach copies that a copy-on-write or log-structured file system
// or an SSD keeps elsewhere (docs/corpus.md). InvalidArgument, with nothing touched,
// when `dir` is not a corpus, is a symbolic link, or has dependents and !options.force.
Result<CorpusDeleteReport> DeleteCorpus(const std::string& dir, const CorpusDeleteOptions& options);

struct RetentionPolicy {
  // Corpora created longer ago than this are deleted (unless a kept corpus builds on
  // them); none when unset.
  std::optional<uint64_t> corpus_max_age_seconds;
  // Leftovers of interrupted builds, replacements and deletes (`<name>.tmp-*`,
  // `<name>.old-*`, directories without a manifest) and usage stores whose corpus is
  // gone, unchanged for longer than this, are removed.
  uint64_t leftover_max_age_seconds = 3600;
};

struct GcAction {
  std::string path;
  std::string reason;  // "older than 30d", "leftover of an interrupted build", ...
  bool done = false;   // False on a dry run, or when it was kept (reason says why).
};

// Applies `policy` to the corpora directly inside `store` (as ListCorpora sees them)
// and their leftovers; with `dry_run`, only says what it would do. `now` (Unix time;
// 0: the clock) is for tests.
Result<std::vector<GcAction>> CollectGarbage(const std::string& store, const RetentionPolicy& policy,
                                             bool dry_run, int64_t now = 0);

}  // namespace reducto

#endif  // REDUCTO_RETENTION_H_
