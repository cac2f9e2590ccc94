// Writes one pack segment: distinct chunks appended in first-seen order, buffered,
// hashed on the way (docs/corpus.md, "Pack segments").
//
// Thread safety: not thread-safe.
#ifndef REDUCTO_CORPUS_BUILD_PACK_WRITER_H_
#define REDUCTO_CORPUS_BUILD_PACK_WRITER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "crypto/corpus_keys.h"
#include "reducto/digest.h"
#include "reducto/status.h"

namespace reducto {

class PackWriter {
 public:
  // Creates `path`, which must not exist. `base` is the corpus address of its first byte.
  // With `keys`, the file holds the bytes sealed in chunks as segment number `segment`
  // (CorpusKeys::SealPackChunk); size() and digest() are the plaintext's.
  static Result<std::unique_ptr<PackWriter>> Create(const std::string& path, uint64_t base,
                                                    const CorpusKeys* keys = nullptr,
                                                    uint32_t segment = 0);
  ~PackWriter();
  PackWriter(const PackWriter&) = delete;
  PackWriter& operator=(const PackWriter&) = delete;

  // Appends `bytes` and sets *address to the corpus address they start at.
  Status Append(std::span<const uint8_t> bytes, uint64_t* address);
  // Writes what is buffered, fsyncs and closes. No Append() afterwards.
  Status Finish();

  uint64_t size() const { return size_; }            // Bytes appended so far.
  Digest digest() const { return hasher_.Final(); }  // Of the bytes appended so far.

 private:
  PackWriter(int fd, std::string path, uint64_t base, const CorpusKeys* keys, uint32_t segment);
  Status FlushBuffer();
  Status AppendSealed(std::span<const uint8_t> bytes);
  Status SealPending();

  int fd_;
  std::string path_;
  uint64_t base_;
  uint64_t size_ = 0;
  std::vector<uint8_t> buffer_;
  Blake3Hasher hasher_;
  const CorpusKeys* keys_;        // Null for a plain segment.
  uint32_t segment_;
  uint64_t sealed_chunks_ = 0;
  std::vector<uint8_t> pending_;  // Plaintext of the chunk being filled.
  std::vector<uint8_t> sealed_;
};

}  // namespace reducto

#endif  // REDUCTO_CORPUS_BUILD_PACK_WRITER_H_
