// An in-memory CorpusReader for codec tests: the reference bytes are the whole
// address space (one segment), chunked with the given parameters and indexed by weak
// key, as a real corpus would be, but without files or RocksDB.
#ifndef REDUCTO_TESTS_CODEC_FAKE_CORPUS_H_
#define REDUCTO_TESTS_CODEC_FAKE_CORPUS_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "corpus/corpus_reader.h"
#include "hashing/weak_key.h"
#include "reducto/chunker.h"
#include "reducto/digest.h"

namespace reducto::testing {

class FakeCorpus final : public CorpusReader {
 public:
  // Chunks `reference` with `chunking` and indexes every chunk (duplicates once, at
  // their first address, as the corpus builder stores them).
  FakeCorpus(std::vector<uint8_t> reference, const ChunkerParams& chunking,
             std::string id = "0f8fad5b-d9cb-469f-a165-70867728950e")
      : bytes_(std::move(reference)) {
    info_.path = "fake-corpus";
    info_.id = std::move(id);
    info_.chunking = chunking;
    info_.segments.push_back({"pack/0", 0, bytes_.size(), Blake3(bytes_), std::nullopt, std::nullopt});
    info_.manifest_digest =
        Blake3(std::span(reinterpret_cast<const uint8_t*>(info_.id.data()), info_.id.size()));
    for (const Chunk& chunk : ChunkBuffer(chunking, bytes_)) {
      AddChunk(chunk.offset, chunk.length);
    }
  }

  // Files the chunk at [address, address + length) under its weak key, unless an equal
  // chunk is already filed.
  void AddChunk(uint64_t address, uint32_t length) {
    auto bytes = std::span<const uint8_t>(bytes_).subspan(address, length);
    ChunkCandidate candidate{address, length, Blake3(bytes)};
    auto& list = index_[WeakKey(bytes)];
    for (const ChunkCandidate& c : list) {
      if (c.length == length && c.digest == candidate.digest) return;
    }
    list.push_back(candidate);
  }
  // Files a candidate as given, true or not (to test that the encoder verifies).
  void AddRawCandidate(uint64_t weak_key, const ChunkCandidate& candidate) {
    index_[weak_key].push_back(candidate);
  }

  // Makes fine_indexes() return `views`; the indexes must outlive their use.
  void SetFineIndexes(std::vector<FineIndexView> views) { fine_ = std::move(views); }
  std::span<const FineIndexView> fine_indexes() const override { return fine_; }

  CorpusInfo& mutable_info() { return info_; }
  const CorpusInfo& info() const override { return info_; }
  uint64_t size() const override { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  mutable uint64_t lookups = 0;

  Status Lookup(uint64_t weak_key, std::vector<ChunkCandidate>* out) const override {
    ++lookups;
    auto it = index_.find(weak_key);
    if (it != index_.end()) out->insert(out->end(), it->second.begin(), it->second.end());
    return Status::Ok();
  }

  Result<std::span<const uint8_t>> Read(uint64_t address, uint64_t length,
                                        std::vector<uint8_t>*) const override {
    if (address > bytes_.size() || length > bytes_.size() - address) {
      return Status::InvalidArgument("read outside the fake corpus");
    }
    return std::span<const uint8_t>(bytes_).subspan(address, length);
  }

 private:
  std::vector<uint8_t> bytes_;
  CorpusInfo info_;
  std::map<uint64_t, std::vector<ChunkCandidate>> index_;
  std::vector<FineIndexView> fine_;
};

}  // namespace reducto::testing

#endif  // REDUCTO_TESTS_CODEC_FAKE_CORPUS_H_
