// libFuzzer target for the decryptor (docs/encryption.md). The first byte picks the
// mode:
//   even: the rest is an envelope from anywhere, decrypted with this process's key:
//         header and chunk framing must be refused cleanly;
//   odd:  the rest is [mutations][plaintext]: the plaintext is encrypted with the key,
//         the mutations (position, xor) applied, and the result decrypted. A mutated
//         envelope that still decrypts is a forgery: abort. An unmutated one must give
//         back the plaintext.
//         With bit 1 also set ("long"), the plaintext is repeated to span three chunks
//         or more (writers seal 256 KiB per chunk), positions take 3 bytes, and an xor
//         of 0 cuts the envelope at the position instead: the later chunks, their
//         length fields and truncations are reached too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "crypto/envelope_format.h"
#include "reducto/encryption.h"

namespace {

// Plaintext bytes of a "long" input: more than two of the chunks writers seal.
constexpr size_t kLongPlaintext = 2 * size_t{reducto::envelope::kChunkSize} + 1;

const reducto::EnvelopeKey& Key() {
  static const reducto::EnvelopeKey key = [] {
    reducto::EnvelopeKey k;
    auto generated = reducto::SymmetricKey::Generate();
    if (!generated.ok()) std::abort();
    k.key.emplace(std::move(generated).value());
    return k;
  }();
  return key;
}

reducto::Status DecryptAll(const std::string& sealed, std::string* plain) {
  auto in = reducto::MemorySource(
      std::span(reinterpret_cast<const uint8_t*>(sealed.data()), sealed.size()));
  auto source = reducto::DecryptingSource(*in, Key());
  std::vector<uint8_t> buf(65536);
  for (;;) {
    auto n = source->Read(buf);
    if (!n.ok()) return n.status();
    if (*n == 0) return reducto::Status::Ok();
    plain->append(reinterpret_cast<const char*>(buf.data()), *n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string plain;
  if ((data[0] & 1) == 0) {
    (void)DecryptAll(rest, &plain);
    return 0;
  }
  if (rest.empty()) return 0;
  const bool long_mode = (data[0] & 2) != 0;
  const size_t record = long_mode ? 4 : 3;  // Position bytes, then the xor.
  size_t mutations = static_cast<uint8_t>(rest[0]) % 4;
  if (rest.size() < 1 + record * mutations) return 0;
  std::string text = rest.substr(1 + record * mutations);
  if (long_mode) {
    if (text.empty()) return 0;
    std::string repeated;
    while (repeated.size() < kLongPlaintext) repeated += text;
    text = std::move(repeated);
  }
  std::string sealed;
  auto out = reducto::MemorySink(&sealed);
  auto sink = reducto::EncryptingSink(*out, Key());
  if (!sink.ok()) std::abort();
  if (!(*sink)->Write(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())).ok() ||
      !(*sink)->Commit().ok()) {
    std::abort();
  }
  const std::string original = sealed;
  for (size_t m = 0; m < mutations; ++m) {
    const uint8_t* r = reinterpret_cast<const uint8_t*>(rest.data()) + 1 + record * m;
    size_t at = r[0] | r[1] << 8 | (long_mode ? r[2] << 16 : 0);
    uint8_t flip = r[record - 1];
    if (sealed.empty()) break;
    at %= sealed.size();
    if (long_mode && flip == 0) {
      sealed.resize(at);  // A cut.
    } else {
      sealed[at] = static_cast<char>(sealed[at] ^ flip);
    }
  }
  const bool changed = sealed != original;  // Two flips may cancel out.
  reducto::Status s = DecryptAll(sealed, &plain);
  // A damaged magic turns the envelope into a plain stream, passed through as is.
  bool plain_stream = sealed.compare(0, 8, "\x89RDCE\r\n\x1a", 8) != 0;
  if (changed && s.ok() && !plain_stream) std::abort();  // Forged.
  if (!changed && (!s.ok() || plain != text)) std::abort();
  return 0;
}
