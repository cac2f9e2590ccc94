// An opened corpus, and how a reference to a corpus becomes one.
//
// Opening a corpus reads its manifest (and its ancestors', for a version), maps its
// pack and opens its index; a `Corpus` holds all of that open so that any number of
// Compress and Decompress calls, from any threads, pay it once. It closes its files and
// mappings when the last `CorpusHandle` to it goes.
//
// A `CorpusReference` names a corpus without opening it: a directory, or the id (and
// manifest digest) that a container pins, looked for in a store. A `CorpusResolver`
// turns references into handles; `LocalCorpusResolver` looks in local directories, and
// later resolvers add a cache and repositories in front of it.
//
// Thread safety: a Corpus is immutable once open; all its methods, and all methods of
// the resolvers here, may be called from many threads.
#ifndef REDUCTO_CORPUS_HANDLE_H_
#define REDUCTO_CORPUS_HANDLE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "reducto/corpus.h"
#include "reducto/digest.h"
#include "reducto/signing.h"
#include "reducto/status.h"

namespace reducto {

class CorpusReader;  // Private: src/corpus/corpus_reader.h.

// A caller's own condition on a corpus about to be used (the command line's origin
// rule, docs/security.md): a non-OK status refuses the corpus with it.
using CorpusPolicy = std::function<Status(const CorpusInfo& info)>;

struct CorpusOpenOptions {
  // Memory for the index block cache and mapped pack pages; 0: kDefaultCorpusCacheSize.
  // Capped to a quarter of the available memory when the corpus opens.
  uint64_t cache_size = 0;
  // Unlocks an encrypted corpus (docs/encryption.md); only read while opening.
  const EnvelopeKey* key = nullptr;
  // When not empty, the corpus opens only if it has a valid signature by one of these
  // keys (CheckCorpusTrust: signatures and manifest, not the pack); else Permission.
  std::vector<PublicKey> trusted_keys;
  // When set, called with the manifest after the signature check, before anything else
  // is opened; a non-OK status refuses the corpus.
  CorpusPolicy policy;
};

class Corpus {
 public:
  // Opens the corpus at `dir` (CorpusReader's checks: the manifest, the chain of
  // ancestors for a version, segment sizes; not a full read, which VerifyCorpus does).
  // NotFound, naming the path, when `dir` does not exist; Permission when a trust rule
  // of `options` refuses it; Corrupt / Integrity as ReadCorpusChain.
  static Result<std::shared_ptr<const Corpus>> Open(const std::string& dir,
                                                    const CorpusOpenOptions& options = {});
  ~Corpus();
  Corpus(const Corpus&) = delete;
  Corpus& operator=(const Corpus&) = delete;

  const CorpusInfo& info() const;
  // The memory the corpus may keep (CorpusOpenOptions::cache_size after the cap).
  uint64_t cache_size() const;

 private:
  friend const CorpusReader& ReaderOf(const Corpus& corpus);  // src/corpus/corpus_handle_access.h
  friend std::shared_ptr<const Corpus> MakeCorpusHandle(std::unique_ptr<CorpusReader> reader);
  explicit Corpus(std::unique_ptr<CorpusReader> reader);
  std::unique_ptr<CorpusReader> reader_;
};

using CorpusHandle = std::shared_ptr<const Corpus>;

// What a compression against `dir` opens (Compress(corpus_dir, ...), the command line's
// compress): Corpus::Open(dir, options), except that when `fall_back` is set and `dir`
// does not exist at all, an empty handle, which means "write a standalone container".
// A directory that exists but does not open is always an error the user must see.
// InvalidArgument when `dir` is empty.
Result<CorpusHandle> OpenCorpusOrFallBack(const std::string& dir,
                                          const CorpusOpenOptions& options, bool fall_back);

// A corpus named but not opened.
struct CorpusReference {
  // A corpus directory, or a store: a directory of corpora (ListCorpora).
  std::string location;
  // When set, the corpus with this id: `location` itself when its manifest names it,
  // else the corpus of the store `location` that does (LocateCorpus).
  std::string id;
  // When set, the corpus's manifest must have exactly this digest (what a container
  // pins); Integrity otherwise.
  std::optional<Digest> manifest_digest;
};

// Turns references into open corpora.
class CorpusResolver {
 public:
  virtual ~CorpusResolver() = default;
  // NotFound names what was looked for, where, and how to get it.
  virtual Result<CorpusHandle> Resolve(const CorpusReference& reference) = 0;
};

// Resolves references to local directories and stores, opening each corpus once: while
// any handle to a corpus is held, resolving it again returns that handle. A reference
// without a location is looked for in `locations` (corpus directories or stores), in
// order; NotFound, saying what to pass, when there are none.
class LocalCorpusResolver : public CorpusResolver {
 public:
  explicit LocalCorpusResolver(CorpusOpenOptions options = {},
                               std::vector<std::string> locations = {});
  Result<CorpusHandle> Resolve(const CorpusReference& reference) override;

 private:
  Result<std::string> Locate(const CorpusReference& reference) const;
  Result<CorpusHandle> OpenOnce(const std::string& dir, const std::optional<Digest>& digest);

  CorpusOpenOptions options_;
  std::vector<std::string> locations_;
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<const Corpus>> open_;  // By canonical directory.
};

}  // namespace reducto

#endif  // REDUCTO_CORPUS_HANDLE_H_
