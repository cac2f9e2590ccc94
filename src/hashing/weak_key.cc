#include "hashing/weak_key.h"

#include <xxhash.h>

namespace reducto {

uint64_t WeakKey(std::span<const uint8_t> chunk) {
  uint64_t key = XXH3_64bits(chunk.data(), chunk.size());
  if constexpr (kWeakKeyBits < 64) key &= (uint64_t{1} << kWeakKeyBits) - 1;
  return key;
}

}  // namespace reducto
