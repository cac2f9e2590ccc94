// Ed25519 keys and detached corpus signatures (libsodium). The key files and the
// signature files are small text files whose formats are frozen: docs/keys.md and
// docs/corpus.md, "Signatures".
//
// A key is named by its key id: the first 8 bytes of BLAKE3 of the public key, as 16
// lowercase hex digits. A corpus signature lives in DIR/signatures/<key id>.sig and
// signs the corpus id and the manifest digest, so signing never changes the manifest
// or its digest (which containers pin), and a signature cannot be moved to another
// corpus or another manifest.
//
// Thread safety: all functions may be called concurrently. PublicKey and SecretKey
// are values; a SecretKey wipes its bytes when it is destroyed.
#ifndef REDUCTO_SIGNING_H_
#define REDUCTO_SIGNING_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "reducto/corpus.h"
#include "reducto/status.h"

namespace reducto {

// An Ed25519 public key.
class PublicKey {
 public:
  static constexpr size_t kSize = 32;
  explicit PublicKey(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}

  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }
  // 16 lowercase hex digits: the first 8 bytes of BLAKE3(bytes()).
  std::string id() const;
  // Compares in time independent of the contents.
  bool operator==(const PublicKey& other) const;

 private:
  std::array<uint8_t, kSize> bytes_;
};

// An Ed25519 secret key in libsodium's form (32-byte seed, then the public key).
// Move-only; the bytes are wiped when the object is destroyed or moved from.
class SecretKey {
 public:
  static constexpr size_t kSize = 64;
  static constexpr size_t kSignatureSize = 64;

  // A new random key pair (crypto_sign_keypair). Unavailable if libsodium cannot start.
  static Result<SecretKey> Generate();
  // Corrupt unless the second half of `bytes` is the public key of its seed.
  static Result<SecretKey> FromBytes(const std::array<uint8_t, kSize>& bytes);
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  PublicKey public_key() const;
  std::string id() const { return public_key().id(); }
  // The detached Ed25519 signature of `message` (crypto_sign_detached).
  std::array<uint8_t, kSignatureSize> Sign(std::span<const uint8_t> message) const;

 private:
  friend struct SecretKeyAccess;  // The key file writer (src/crypto).
  SecretKey() = default;
  std::array<uint8_t, kSize> bytes_{};
};

// ---- key files (docs/keys.md) ----

struct KeyFiles {
  std::string secret_path;  // The secret key, mode 0600.
  std::string public_path;  // secret_path + ".pub".
  std::string key_id;
};

// Generates a key pair and writes the secret key to `path` (mode 0600) and the public
// key to `path`.pub, each atomically (temporary file, fsync, rename). Unless
// `overwrite`, fails with InvalidArgument before writing anything when either exists.
Result<KeyFiles> GenerateKeyFiles(const std::string& path, bool overwrite);

// Reads a public key file. NotFound when missing; InvalidArgument when it is a secret
// key file (pass the .pub file instead); Corrupt when it is not a key file or is
// damaged (its key id line must match its key).
Result<PublicKey> ReadPublicKeyFile(const std::string& path);

// Reads a secret key file. As ReadPublicKeyFile, with the roles swapped; also
// Permission when the file is readable or writable by its group or others (as ssh
// does: a secret key anyone else can read is not secret; run chmod 600).
Result<SecretKey> ReadSecretKeyFile(const std::string& path);

// ---- corpus signatures (docs/corpus.md, "Signatures") ----

// One signature file of a corpus, checked against the corpus's manifest.
struct SignatureCheck {
  std::string file;      // Path of the .sig file.
  std::string key_id;    // From the file; its name when the file does not parse.
  bool valid = false;    // Parses, names this corpus and manifest, and verifies.
  bool trusted = false;  // Valid and made by one of the trusted keys.
  Status problem;        // Why it is not valid (OK when valid): names the file, says what to do.
};

// Signs the corpus at `dir` with `key`: writes dir/signatures/<key id>.sig atomically,
// replacing an earlier signature by the same key, and changes no other file. Verifies
// the whole corpus first (VerifyCorpus), because a signature vouches for the pack and
// index too. Returns the path of the signature file.
Result<std::string> SignCorpus(const std::string& dir, const SecretKey& key,
                               const EnvelopeKey* corpus_key = nullptr);

// Checks every signatures/*.sig of the corpus `info` was read from against its id and
// manifest digest; `trusted` marks the checks made by those keys. Reads only the
// signature files (cheap). No signatures directory means no signatures; Io or
// Permission when it cannot be listed. Sorted by file name.
Result<std::vector<SignatureCheck>> CheckCorpusSignatures(const CorpusInfo& info,
                                                          const std::vector<PublicKey>& trusted);

// The trust policy of compress, decompress and verify: OK when `trusted` is empty or
// the corpus has a valid signature by a trusted key; else Permission, naming the
// corpus and its signers and saying how to trust a key.
Status CheckCorpusTrust(const CorpusInfo& info, const std::vector<PublicKey>& trusted);

}  // namespace reducto

#endif  // REDUCTO_SIGNING_H_
