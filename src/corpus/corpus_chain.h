// Versions of a corpus (docs/corpus.md, "Versions"): a version's manifest lists its
// ancestors' segments first, and their files stay in the ancestors' directories.
// ReadCorpusChain (reducto/corpus.h) finds and checks the ancestors; this says where
// each segment's file is.
#ifndef REDUCTO_CORPUS_CORPUS_CHAIN_H_
#define REDUCTO_CORPUS_CORPUS_CHAIN_H_

#include <optional>
#include <string>
#include <vector>

#include "reducto/corpus.h"

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

// Both absent, or the same file, size, digest and stride.
bool SameFineIndex(const std::optional<FineIndexFile>& a, const std::optional<FineIndexFile>& b);

}  // namespace reducto

#endif  // REDUCTO_CORPUS_CORPUS_CHAIN_H_
