// Every constant of the key files that reaches the disk (docs/keys.md).
// FROZEN: changing any of them makes existing key files unreadable; a new layout needs
// a new version in the first line, and readers keep reading v1.
#ifndef REDUCTO_CRYPTO_KEY_FORMAT_H_
#define REDUCTO_CRYPTO_KEY_FORMAT_H_

#include <cstddef>

namespace reducto {

// First lines: "<kind> v<version>".
inline constexpr char kSecretKeyFileKind[] = "reducto-ed25519-secret-key";
inline constexpr char kPublicKeyFileKind[] = "reducto-ed25519-public-key";
inline constexpr char kKeyFileVersion[] = "v1";
// Field names, one "<name> <value>" line each, in this order after the first line.
inline constexpr char kKeyIdField[] = "key-id";
inline constexpr char kSecretKeyField[] = "secret-key";  // base64 (RFC 4648, padded)
inline constexpr char kPublicKeyField[] = "public-key";  // base64 (RFC 4648, padded)

// The key id is this many leading bytes of BLAKE3(public key), in lowercase hex.
inline constexpr size_t kKeyIdBytes = 8;
// The public key file's name is the secret key file's name with this suffix.
inline constexpr char kPublicKeySuffix[] = ".pub";
// Readers refuse larger key and signature files.
inline constexpr size_t kMaxKeyFileBytes = 4096;
// Mode of a new secret key file; readers refuse one with any group or other bits.
inline constexpr unsigned kSecretKeyFileMode = 0600;
inline constexpr unsigned kPublicKeyFileMode = 0644;

}  // namespace reducto

#endif  // REDUCTO_CRYPTO_KEY_FORMAT_H_
