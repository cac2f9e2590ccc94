// The keys of an encrypted corpus (docs/encryption.md, "Encrypted corpora").
//
// A random 32-byte corpus key is stored in <corpus>/data-key as an envelope whose
// plaintext is that key, so the key file or passphrase that locks containers locks a
// corpus the same way, and destroying that one small file makes every other byte of
// the corpus unreadable (crypto-shredding). Two subkeys are derived from the corpus key
// with libsodium's crypto_kdf: one seals the pack in independently authenticated
// chunks (AES-256-GCM, or XChaCha20-Poly1305 without AES instructions), one encrypts
// the index's files (corpus/index_encryption.h).
//
// Thread safety: after Create or Open, the const methods may be called from many
// threads.
#ifndef REDUCTO_CRYPTO_CORPUS_KEYS_H_
#define REDUCTO_CRYPTO_CORPUS_KEYS_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "reducto/encryption.h"
#include "reducto/status.h"

namespace reducto {

// Plaintext bytes per sealed pack chunk; each sealed chunk is 16 bytes longer.
inline constexpr uint32_t kPackChunkSize = 64u << 10;
inline constexpr size_t kPackTagBytes = 16;
inline constexpr char kPackCipherAes256Gcm[] = "aes-256-gcm";
inline constexpr char kPackCipherXChaCha20Poly1305[] = "xchacha20-poly1305";
// The corpus key's file in a corpus directory.
inline constexpr char kDataKeyFileName[] = "data-key";

class CorpusKeys {
 public:
  using Key = std::array<uint8_t, 32>;

  // A new random corpus key, wrapped by `key` and written to `path` (a new file,
  // fsynced). The pack cipher is AES-256-GCM when the CPU has AES instructions.
  static Result<CorpusKeys> Create(const std::string& path, const EnvelopeKey& key);
  // Unwraps the corpus key at `path` for a pack sealed with `pack_cipher` (the
  // manifest's). NotFound when the file is gone (the corpus was shredded); Permission
  // when `key` is empty or not the key it needs, naming the needed key id; Integrity
  // when it does not authenticate.
  static Result<CorpusKeys> Open(const std::string& path, const EnvelopeKey& key,
                                 const std::string& pack_cipher);
  CorpusKeys(CorpusKeys&& other) noexcept;
  CorpusKeys& operator=(CorpusKeys&& other) noexcept;
  CorpusKeys(const CorpusKeys&) = delete;
  CorpusKeys& operator=(const CorpusKeys&) = delete;
  ~CorpusKeys();  // Wipes the keys.

  const std::string& pack_cipher() const { return pack_cipher_; }
  const Key& index_key() const { return index_key_; }

  // The sealed size of a segment of `plain_size` bytes.
  static uint64_t SealedSize(uint64_t plain_size);
  // Seals chunk `chunk` of pack segment `segment` (nonce LE32(segment) || LE64(chunk)).
  void SealPackChunk(uint32_t segment, uint64_t chunk, std::span<const uint8_t> plain,
                     std::vector<uint8_t>* sealed) const;
  // Opens it into `plain` (sealed.size() - 16 bytes). False when it does not
  // authenticate; `plain` then holds nothing of it.
  bool OpenPackChunk(uint32_t segment, uint64_t chunk, std::span<const uint8_t> sealed,
                     uint8_t* plain) const;

 private:
  CorpusKeys(const Key& corpus_key, std::string pack_cipher);
  void Wipe();
  std::string pack_cipher_;
  Key pack_key_{};
  Key index_key_{};
};

}  // namespace reducto

#endif  // REDUCTO_CRYPTO_CORPUS_KEYS_H_
