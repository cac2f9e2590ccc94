// manifest.json of a corpus: serialization, parsing and validation (docs/corpus.md,
// "Manifest"). ReadCorpusInfo() (reducto/corpus.h) is built on these.
#ifndef REDUCTO_CORPUS_MANIFEST_H_
#define REDUCTO_CORPUS_MANIFEST_H_

#include <cstdint>
#include <string>

#include "reducto/corpus.h"
#include "reducto/status.h"
#include "storage/storage.h"

namespace reducto {

// "pack/000000.seg" for index 0.
std::string SegmentFileName(uint32_t index);

// The bytes of manifest.json for `info` (pretty JSON, fields in documented order,
// ending in a newline). `path` and `manifest_digest` are not part of it.
std::string SerializeManifest(const CorpusInfo& info);

// Parses and checks manifest text: format, version, every field's presence and type,
// chunking parameters, contiguous segments, safe relative paths. Does not look at the
// files. `where` names the manifest in messages. Corrupt on any failure.
Result<CorpusInfo> ParseManifest(const std::string& text, const std::string& where);

// Reads and parses <dir>/manifest.json and computes its digest, without looking at the
// segment files (ReadCorpusInfo does both). Errors as ReadCorpusInfo's.
Result<CorpusInfo> ReadManifestFile(const std::string& dir);

// The same through a storage: manifest.json read and parsed, its digest computed;
// `path` is the storage's location(). NotFound when there is no manifest.json.
Result<CorpusInfo> ReadManifest(const Storage& storage);
// ReadManifest, and the sizes of the corpus's own segment files and fine indexes in
// `storage` checked against the manifest (ReadCorpusInfo(dir) through a storage).
Result<CorpusInfo> ReadCorpusInfo(const Storage& storage);

// A random UUID version 4, lowercase 8-4-4-4-12.
std::string NewCorpusId();

}  // namespace reducto

#endif  // REDUCTO_CORPUS_MANIFEST_H_
