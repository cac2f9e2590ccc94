// The cheap 64-bit key under which the chunk index files each chunk. Collisions are
// expected and harmless: every candidate is verified by BLAKE3 before use.
#ifndef REDUCTO_HASHING_WEAK_KEY_H_
#define REDUCTO_HASHING_WEAK_KEY_H_

#include <cstdint>
#include <span>

namespace reducto {

// Bits kept of XXH3-64. Always 64 in the product; the collision test builds the
// library with REDUCTO_WEAK_KEY_BITS=4 to force many candidates per key.
#ifndef REDUCTO_WEAK_KEY_BITS
#define REDUCTO_WEAK_KEY_BITS 64
#endif
inline constexpr int kWeakKeyBits = REDUCTO_WEAK_KEY_BITS;

uint64_t WeakKey(std::span<const uint8_t> chunk);

}  // namespace reducto

#endif  // REDUCTO_HASHING_WEAK_KEY_H_
