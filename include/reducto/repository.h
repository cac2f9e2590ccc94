// Repositories: a directory laid out so that a static HTTP server, a CDN or an object
// store can serve corpora unchanged, and receivers fetch only the byte ranges they need
// and verify each against the signed manifest (docs/repositories.md).
//
// EXPERIMENTAL (docs/api.md): new with issue 18.
//
// Thread safety: PublishCorpus may be called concurrently, also by several processes
// for one repository: each corpus appears there with one rename, complete or not at all.
#ifndef REDUCTO_REPOSITORY_H_
#define REDUCTO_REPOSITORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "reducto/digest.h"
#include "reducto/status.h"

namespace reducto {

// The zstd level of a repository's compressed pieces, unless told otherwise.
inline constexpr int kDefaultPieceLevel = 9;

struct PublishOptions {
  int level = kDefaultPieceLevel;  // zstd level of the pieces, 1..22 (negative: fast levels).
  int threads = 0;                 // Threads compressing pieces; 0 = one per core.
  // Publishing to an http(s):// URL (HTTP PUT): the bearer token (never logged) and extra
  // CA certificates for the server.
  std::string token;
  std::string ca_file;
};

// One corpus of the chain that PublishCorpus handled.
struct PublishedCorpus {
  std::string id;
  std::string source;       // The corpus directory it was read from.
  std::string path;         // <repository>/corpora/<id>.
  Digest manifest_digest{};
  bool added = false;       // False: it was in the repository already, with this manifest.
  uint64_t files = 0;       // Files written (0 when already there).
  uint64_t bytes = 0;       // Their bytes.
};

struct PublishResult {
  // The corpus's chain, root first, the corpus itself last.
  std::vector<PublishedCorpus> corpora;
};

// Lays the corpus at `corpus_dir` out in the repository directory `repository`
// (created when missing, its parent must exist) under corpora/<id>/: manifest.json,
// signatures/, pieces/ and fine/ of its own segments, index/, and each own segment as
// compressed pieces (pack/NNNNNN.pz and .pzi) instead of the raw segment. A version's
// ancestors (found beside it, as readers find them) are published first, unless the
// repository has them already. Each corpus appears with one rename, complete; an
// interruption or a failure leaves nothing under its name (at most a
// corpora/.tmp-* directory after SIGKILL). Every own segment is checked against its
// BLAKE3 (and piece table) before it is published.
// Errors: InvalidArgument for a URL or a bad level; the errors of ReadCorpusChain
// (NotFound, Integrity, Corrupt); Integrity when the repository holds a different
// manifest under a corpus's id, or a segment does not match its manifest; Unavailable
// for an encrypted corpus (not published yet); Io when writing fails.
Result<PublishResult> PublishCorpus(const std::string& corpus_dir, const std::string& repository,
                                    const PublishOptions& options = {});

}  // namespace reducto

#endif  // REDUCTO_REPOSITORY_H_
