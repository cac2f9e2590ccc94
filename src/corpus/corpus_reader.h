// Read access to a published corpus for the encoder and decoder: chunk look-ups by
// weak key and byte ranges of the corpus address space (docs/corpus.md).
//
// Thread safety: after Open(), all const methods may be called from many threads.
#ifndef REDUCTO_CORPUS_CORPUS_READER_H_
#define REDUCTO_CORPUS_CORPUS_READER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "corpus/corpus_chain.h"
#include "reducto/corpus.h"
#include "reducto/digest.h"
#include "reducto/status.h"
#include "storage/storage.h"

namespace reducto {

class FineIndex;  // corpus/fine_index.h

// A segment's fine index and the corpus address of the segment's first byte.
struct FineIndexView {
  const FineIndex* index = nullptr;
  uint64_t base = 0;
};

// One stored chunk that a weak key names. The caller must compare `digest` with the
// target chunk's BLAKE3 (DigestEqual) before using it.
struct ChunkCandidate {
  uint64_t address = 0;
  uint32_t length = 0;
  Digest digest{};
};

// How much memory a reader may keep: `cache_bytes` (0: kDefaultCorpusCacheSize) is
// shared by the index's block cache (a quarter) and the pack pages the reader keeps
// mapped (the rest), and capped to a quarter of the memory available when the reader
// opens (MemAvailable and the memory cgroup's limit), so that a run on a machine short
// of memory goes on, slower, instead of failing.
struct CorpusReaderOptions {
  uint64_t cache_bytes = 0;
  // Unlocks an encrypted corpus (docs/encryption.md, "Encrypted corpora"). Not owned.
  const EnvelopeKey* key = nullptr;
};

// Unavailable for an encrypted corpus, saying that `action` ("make a new version of",
// "prune") does not support encrypted corpora yet.
Status RefuseEncrypted(const CorpusInfo& info, const std::string& action);

inline constexpr uint64_t kMinCorpusCacheBytes = kMinCorpusCacheSize;

class CorpusReader {
 public:
  // Reads the manifest (ReadCorpusInfo) and, for a version, its ancestors
  // (ReadCorpusChain); maps every pack segment of the address space from the directory
  // that holds it and opens each member's index read-only, without writing anything
  // and without starting threads. Lookup() consults them all. The files are read
  // through LocalDirectoryStorage(dir), the index is <dir>/index, the ancestors are
  // found beside `dir` (ReadLocalCorpusChain). NotFound when `dir` or an ancestor does
  // not exist; Integrity when an ancestor is not the pinned one; Corrupt when a corpus
  // exists but is not complete.
  static Result<std::unique_ptr<CorpusReader>> Open(const std::string& dir,
                                                    const CorpusReaderOptions& options = {});
  // The same for a corpus whose manifest, pack segments and fine indexes are read
  // through `storage`, and whose chunk index is the local RocksDB directory
  // `index_dir`. Segments and fine indexes are used through StorageFile::view() where
  // the storage gives one (a local directory maps them); otherwise each is read whole
  // through ranged reads when the reader opens. A version's parent (and, asked again,
  // each further ancestor) comes from `find_parent`; without one a version fails with
  // NotFound. info().path is storage->location(). An encrypted corpus is read only
  // from a LocalDirectoryStorage (Unavailable otherwise). Errors as above.
  static Result<std::unique_ptr<CorpusReader>> Open(std::shared_ptr<const Storage> storage,
                                                    const std::string& index_dir,
                                                    const CorpusReaderOptions& options = {},
                                                    const ParentFinder& find_parent = {});
  virtual ~CorpusReader() = default;

  virtual const CorpusInfo& info() const = 0;
  // Size of the corpus address space: the sum of the segment sizes.
  virtual uint64_t size() const = 0;

  // Appends every stored chunk filed under `weak_key` to *out (usually zero or one).
  virtual Status Lookup(uint64_t weak_key, std::vector<ChunkCandidate>* out) const = 0;

  // The bytes at [address, address + length). Returns a view into the mapped pack
  // when the range lies in one segment, else copies into *scratch and views that.
  // InvalidArgument/Integrity when the range is outside the address space.
  virtual Result<std::span<const uint8_t>> Read(uint64_t address, uint64_t length,
                                                std::vector<uint8_t>* scratch) const = 0;

  // Copies the bytes at [address, address + out.size()) into `out`: what Read gives,
  // copied. A reader of mapped files reads large ranges with the file's ReadAt instead,
  // which copies from the page cache without mapping (and faulting in) the pages.
  virtual Status ReadInto(uint64_t address, std::span<uint8_t> out,
                          std::vector<uint8_t>* scratch) const;

  // Checks that the bytes [address, address + length) are the ones the corpus's
  // manifest signs, as an encoder must before it relies on bytes that differ from the
  // target (ADD and DELTA references; a COPY's bytes equal the target, so they need
  // none): Integrity naming the damaged piece or segment when they are not. A reader
  // checks each piece (or segment) once. Readers whose bytes were checked as they
  // arrived (test doubles, fetched pieces, decrypted chunks) return Ok.
  virtual Status VerifyRange(uint64_t /*address*/, uint64_t /*length*/) const {
    return Status::Ok();
  }
  // The cache size in effect (CorpusReaderOptions, after the cap); 0 for readers that
  // cache and map nothing (test doubles).
  virtual uint64_t cache_bytes() const { return 0; }
  // Tells the reader that about `bytes` of the pack were read (through Read or views
  // of it) since the last call. Once more than the pack's share of the cache was read,
  // the reader unmaps the pack pages it holds (MappedFile::DropResidentPages), so the
  // mapped pages stay bounded; they come back from the page cache when read again.
  // Thread-safe. Returns true when it unmapped. Readers that map nothing ignore it.
  virtual bool NoteRead(uint64_t /*bytes*/) const { return false; }
  // The fine indexes of the segments that have one, in address order (docs/corpus.md,
  // "Fine index"); empty for readers without any. The mapped pages they hold are
  // dropped by NoteRead with the pack's.
  virtual std::span<const FineIndexView> fine_indexes() const { return {}; }
  // True for a reader whose pack bytes may have to be fetched (a corpus from a
  // repository, src/remote): the decoder then calls Prefetch with each block's ranges
  // before it executes the block, so that they arrive in parallel, not one copy at a time.
  virtual bool fetches() const { return false; }
  // Makes the bytes of `ranges` ([address, address + length)) readable; the errors of
  // fetching them. Read() fetches what it reads anyway: this only batches.
  virtual Status Prefetch(std::span<const std::pair<uint64_t, uint64_t>> /*ranges*/) const {
    return Status::Ok();
  }
};

}  // namespace reducto

#endif  // REDUCTO_CORPUS_CORPUS_READER_H_
