#include "reducto/digest.h"

#include <sodium.h>

#include "blake3.h"

namespace reducto {

struct Blake3Hasher::State {
  blake3_hasher hasher;
};

Digest Blake3(std::span<const uint8_t> data) {
  blake3_hasher hasher;
  blake3_hasher_init(&hasher);
  blake3_hasher_update(&hasher, data.data(), data.size());
  Digest out;
  blake3_hasher_finalize(&hasher, out.data(), out.size());
  return out;
}

std::string ToHex(std::span<const uint8_t> bytes) {
  std::string hex(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  hex.pop_back();
  return hex;
}

Result<Digest> DigestFromHex(const std::string& hex) {
  Digest out;
  size_t len = 0;
  if (hex.size() != 64 ||
      sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != out.size()) {
    return Status::InvalidArgument("'" + hex + "' is not a BLAKE3 digest: expected 64 hex digits");
  }
  return out;
}

bool DigestEqual(const Digest& a, const Digest& b) {
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Blake3Hasher::Blake3Hasher() : state_(std::make_unique<State>()) {
  blake3_hasher_init(&state_->hasher);
}
Blake3Hasher::~Blake3Hasher() = default;

void Blake3Hasher::Update(std::span<const uint8_t> data) {
  blake3_hasher_update(&state_->hasher, data.data(), data.size());
}

Digest Blake3Hasher::Final() const {
  Digest out;
  blake3_hasher_finalize(&state_->hasher, out.data(), out.size());
  return out;
}

}  // namespace reducto
