#include "codec/chunk_lookup.h"

#include <cstring>
#include <string>

#include "hashing/weak_key.h"
#include "metrics/phase_timer.h"
#include "reducto/digest.h"

namespace reducto {

Result<std::optional<uint64_t>> ChunkLookup::Find(std::span<const uint8_t> chunk) {
  ++lookups_;
  ASSIGN_OR_RETURN(std::optional<uint64_t> address, Search(chunk));
  if (address) ++found_;
  return address;
}

Result<std::optional<uint64_t>> ChunkLookup::Search(std::span<const uint8_t> chunk) {
  candidates_.clear();
  uint64_t key = 0;
  {
    PhaseTimer timer(metrics_, Phase::kHash);
    key = WeakKey(chunk);
  }
  {
    PhaseTimer timer(metrics_, Phase::kLookup);
    RETURN_IF_ERROR(corpus_.Lookup(key, &candidates_));
  }
  std::optional<Digest> digest;
  for (const ChunkCandidate& candidate : candidates_) {
    if (candidate.length != chunk.size()) continue;
    if (!digest) {
      PhaseTimer timer(metrics_, Phase::kHash);
      digest = Blake3(chunk);
    }
    if (!DigestEqual(candidate.digest, *digest)) continue;
    if (candidate.address > corpus_.size() ||
        candidate.length > corpus_.size() - candidate.address) {
      return Status::Corrupt("the chunk index of the corpus at " + corpus_.info().path +
                             " names bytes outside its pack (address " +
                             std::to_string(candidate.address) +
                             "): the corpus is damaged; rebuild or fetch it again");
    }
    if (!PackHolds(candidate.address, chunk)) continue;
    return std::optional<uint64_t>(candidate.address);
  }
  return std::optional<uint64_t>();
}

bool ChunkLookup::PackHolds(uint64_t address, std::span<const uint8_t> chunk) {
  PhaseTimer timer(metrics_, Phase::kLookup);
  const uint8_t* stored = view_.At(address, chunk.size());
  if (stored != nullptr && std::memcmp(stored, chunk.data(), chunk.size()) == 0) return true;
  ++damaged_chunks_;
  return false;
}

}  // namespace reducto
