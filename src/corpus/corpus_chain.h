// Versions of a corpus (docs/corpus.md, "Versions"): a version's manifest lists its
// ancestors' segments first, and their files stay in the ancestors' directories.
// ReadCorpusChain (reducto/corpus.h) finds and checks the ancestors; this says where
// each segment's file is.
#ifndef REDUCTO_CORPUS_CORPUS_CHAIN_H_
#define REDUCTO_CORPUS_CORPUS_CHAIN_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reducto/corpus.h"
#include "storage/storage.h"

namespace reducto {

// The directory that holds the corpus directory `path` (its store): "." for "name".
std::string StoreOf(std::string path);

// True when both paths name the same existing directory (or file).
bool SameDirectory(const std::string& a, const std::string& b);

// The directory holding the files of each segment of chain[0] (its pack segment and
// fine index), in address order. REQUIRES: `chain` was returned by ReadCorpusChain.
std::vector<std::string> SegmentDirs(const std::vector<CorpusInfo>& chain);
// The path of the file of each segment of chain[0], in address order.
// REQUIRES: `chain` was returned by ReadCorpusChain.
std::vector<std::string> SegmentPaths(const std::vector<CorpusInfo>& chain);

// Where one corpus's files are: all but the chunk index through `storage` (manifest,
// pack segments, fine indexes, signatures), the chunk index in the local directory
// `index_dir` (RocksDB needs real files).
struct CorpusSource {
  std::shared_ptr<const Storage> storage;
  std::string index_dir;
};

// A member of a corpus chain: what its manifest says, and where its files are.
struct ChainMember {
  CorpusInfo info;
  CorpusSource source;
};

// Finds the parent of `child`: the source of the corpus with id *child.parent_id.
// The chain then reads its manifest and uses it only with the pinned digest. NotFound
// (saying where it looked and what to do) when there is none.
using ParentFinder = std::function<Result<CorpusSource>(const CorpusInfo& child)>;

// The corpus at `root` and its ancestors, nearest first, as ReadCorpusChain(dir) but
// through storages: each parent comes from `find_parent` (which may be empty: then a
// version fails with NotFound), is read with ReadCorpusInfo(storage) and checked
// against the pinned id and manifest digest (Integrity otherwise) and the child's
// segment list (Corrupt).
Result<std::vector<ChainMember>> ReadCorpusChain(CorpusSource root, const ParentFinder& find_parent);

// The chain of the corpus directory `dir`, each member a LocalDirectoryStorage with its
// index in <member>/index; parents are found beside `dir` (ReadCorpusChain(dir)).
Result<std::vector<ChainMember>> ReadLocalCorpusChain(const std::string& dir);

// The storage holding the files of each segment of chain[0] (its pack segment and fine
// index), in address order. REQUIRES: `chain` was returned by one of the above.
std::vector<const Storage*> SegmentStorages(const std::vector<ChainMember>& chain);

// Both absent, or the same file, size, digest and stride.
bool SameFineIndex(const std::optional<FineIndexFile>& a, const std::optional<FineIndexFile>& b);
// The same for piece tables.
bool SamePieceTable(const std::optional<PieceTableFile>& a,
                    const std::optional<PieceTableFile>& b);

}  // namespace reducto

#endif  // REDUCTO_CORPUS_CORPUS_CHAIN_H_
