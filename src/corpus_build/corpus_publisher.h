// Publishing a corpus (docs/corpus.md, "Building and publishing"): the corpus is
// written into a staging directory beside its destination, signed there, and renamed
// into place in one step, so that it appears complete and with its signatures, or not
// at all. Every operation that makes a corpus (build, and new versions) publishes so.
#ifndef REDUCTO_CORPUS_BUILD_CORPUS_PUBLISHER_H_
#define REDUCTO_CORPUS_BUILD_CORPUS_PUBLISHER_H_

#include <string>
#include <vector>

#include "reducto/corpus.h"
#include "reducto/signing.h"
#include "reducto/status.h"

namespace reducto {

// `out_dir` without trailing slashes, when a corpus may be published there: its parent
// directory exists, and `out_dir` does not exist, or `overwrite` is set and it is a
// corpus (holds a manifest.json, even a damaged one) or an empty directory; never an
// unrelated directory or a file. InvalidArgument or NotFound otherwise.
Result<std::string> CheckCorpusDestination(const std::string& out_dir, bool overwrite);

// The directory <out_dir>.tmp-<random> that a new corpus is written into. It is
// removed with its contents on destruction unless it was published, and by the
// interrupt handler (InstallInterruptCleanup) on SIGINT, SIGTERM or SIGHUP.
class CorpusStaging {
 public:
  // REQUIRES: `out_dir` was returned by CheckCorpusDestination(out_dir, overwrite).
  static Result<CorpusStaging> Create(const std::string& out_dir, bool overwrite);
  CorpusStaging(CorpusStaging&& other) noexcept;
  CorpusStaging(const CorpusStaging&) = delete;
  CorpusStaging& operator=(const CorpusStaging&) = delete;
  CorpusStaging& operator=(CorpusStaging&&) = delete;
  ~CorpusStaging();

  // Where the corpus's files go.
  const std::string& dir() const { return dir_; }

  // REQUIRES: dir() holds a complete corpus, everything fsynced, manifest.json written
  // last. Reads the manifest back, writes signatures/<key id>.sig for each key, renames
  // dir() to the destination (atomically replacing an old corpus there when
  // `overwrite`; the old one is then deleted) and fsyncs the parent directory. Returns
  // the published corpus's info, its path the destination.
  Result<CorpusInfo> Publish(const std::vector<SecretKey>& sign_keys);

 private:
  CorpusStaging(std::string dir, std::string out_dir, bool overwrite);

  std::string dir_;  // Empty once published.
  std::string out_dir_;
  bool overwrite_ = false;
  int interrupt_slot_ = -1;  // RegisterInterruptDirectory(dir_).
};

}  // namespace reducto

#endif  // REDUCTO_CORPUS_BUILD_CORPUS_PUBLISHER_H_
