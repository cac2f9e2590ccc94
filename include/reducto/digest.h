// BLAKE3-256 digests, the strong hash of every chunk, block and whole output.
//
// Thread safety: Blake3Hasher is not thread-safe; the free functions are.
#ifndef REDUCTO_DIGEST_H_
#define REDUCTO_DIGEST_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "reducto/status.h"

namespace reducto {

using Digest = std::array<uint8_t, 32>;

Digest Blake3(std::span<const uint8_t> data);
std::string ToHex(std::span<const uint8_t> bytes);
// InvalidArgument unless `hex` is exactly 64 hex digits.
Result<Digest> DigestFromHex(const std::string& hex);
// Compares in time independent of the contents.
bool DigestEqual(const Digest& a, const Digest& b);

class Blake3Hasher {
 public:
  Blake3Hasher();
  ~Blake3Hasher();
  Blake3Hasher(const Blake3Hasher&) = delete;
  Blake3Hasher& operator=(const Blake3Hasher&) = delete;
  void Update(std::span<const uint8_t> data);
  Digest Final() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace reducto

#endif  // REDUCTO_DIGEST_H_
