// Deterministic pseudo-random data (SplitMix64) for tests and benchmarks: the same
// bytes for the same seed, on every machine of the same byte order.
#ifndef REDUCTO_TESTS_RANDOM_BYTES_H_
#define REDUCTO_TESTS_RANDOM_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace reducto::testing {

// Advances *state and returns the next SplitMix64 output.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Non-repeating bytes: consecutive SplitMix64 outputs, least significant byte first.
inline std::vector<uint8_t> RandomBytes(size_t size, uint64_t seed) {
  std::vector<uint8_t> out(size);
  uint64_t state = seed;
  for (size_t i = 0; i < size; i += 8) {
    uint64_t z = SplitMix64(&state);
    for (size_t j = 0; j < 8 && i + j < size; ++j) out[i + j] = static_cast<uint8_t>(z >> (8 * j));
  }
  return out;
}

}  // namespace reducto::testing

#endif  // REDUCTO_TESTS_RANDOM_BYTES_H_
