// Encryption of containers at rest and in transit (docs/encryption.md): a container's
// bytes are wrapped in an envelope of independently authenticated chunks
// (AES-256-GCM, or XChaCha20-Poly1305 on CPUs without AES instructions; libsodium),
// under a random data key that is wrapped by a key-encryption key: a symmetric key
// file or a passphrase (Argon2id). Streaming works as before: each chunk is checked
// before any of its plaintext is released.
//
// Thread safety: the functions are; a sink or source is used by one thread.
#ifndef REDUCTO_ENCRYPTION_H_
#define REDUCTO_ENCRYPTION_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "reducto/io.h"
#include "reducto/status.h"

namespace reducto {

// A 256-bit key-encryption key read from a key file. Its id (16 lowercase hex digits)
// is derived from the key and names it in envelope headers and messages.
class SymmetricKey {
 public:
  static constexpr size_t kSize = 32;
  SymmetricKey(const SymmetricKey&) = delete;
  SymmetricKey& operator=(const SymmetricKey&) = delete;
  SymmetricKey(SymmetricKey&& other) noexcept;
  SymmetricKey& operator=(SymmetricKey&& other) noexcept;
  ~SymmetricKey();  // Wipes the key.

  // A fresh random key.
  static Result<SymmetricKey> Generate();
  const std::string& id() const { return id_; }
  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }

 private:
  explicit SymmetricKey(const std::array<uint8_t, kSize>& bytes);
  friend Result<SymmetricKey> ReadSymmetricKeyFile(const std::string& path);
  std::array<uint8_t, kSize> bytes_{};
  std::string id_;
};

// Writes a new key file (mode 0600) at `path`; refuses to replace a file unless
// `overwrite`. Returns the key's id.
Result<std::string> GenerateSymmetricKeyFile(const std::string& path, bool overwrite);
// Reads a key file made by GenerateSymmetricKeyFile. Permission when group or others
// can access it; Corrupt when it is not such a file or was changed.
Result<SymmetricKey> ReadSymmetricKeyFile(const std::string& path);

// What locks or unlocks an envelope: exactly one of a key file's key and a passphrase.
struct EnvelopeKey {
  std::optional<SymmetricKey> key;
  std::optional<std::string> passphrase;
  bool empty() const { return !key && !passphrase; }
};

// Argon2id cost for passphrases (stored in each header, so readers follow it).
struct PassphraseCost {
  uint64_t ops = 2;
  uint64_t memory_bytes = 64u << 20;
};

// A sink that encrypts what is written to it into `out` (which must outlive it):
// writes the header at once, then one chunk per `chunk_size` bytes; Commit() writes
// the final chunk and commits `out`. REQUIRES: !key.empty().
Result<std::unique_ptr<ByteSink>> EncryptingSink(ByteSink& out, const EnvelopeKey& key,
                                                 const PassphraseCost& cost = {});

// A source that decrypts `in` (which must outlive it). A stream that does not start
// with the envelope's magic passes through unchanged, so one call serves encrypted and
// plain containers. Errors: Permission when the stream is encrypted and `key` is empty
// or is not the key it needs (the message names the needed key id); Integrity when a
// chunk (or the wrapped data key) does not authenticate, before any of its plaintext
// is returned; Corrupt when the stream is truncated, has chunks after the final one, or
// a malformed header.
std::unique_ptr<ByteSource> DecryptingSource(ByteSource& in, const EnvelopeKey& key);

}  // namespace reducto

#endif  // REDUCTO_ENCRYPTION_H_
