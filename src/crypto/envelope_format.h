// Every constant of the encryption envelope and the symmetric key file that reaches
// the disk (docs/encryption.md). FROZEN: a new layout needs a new version, and readers
// keep reading version 1.
#ifndef REDUCTO_CRYPTO_ENVELOPE_FORMAT_H_
#define REDUCTO_CRYPTO_ENVELOPE_FORMAT_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace reducto::envelope {

inline constexpr std::array<uint8_t, 8> kMagic = {0x89, 'R', 'D', 'C', 'E', 0x0D, 0x0A, 0x1A};
inline constexpr uint16_t kVersion = 1;

// Header fields: offsets and sizes in bytes, integers little-endian.
inline constexpr size_t kVersionOffset = 8;       // u16
inline constexpr size_t kCipherOffset = 10;       // u8, kCipher*
inline constexpr size_t kKeyKindOffset = 11;      // u8, kKeyKind*
inline constexpr size_t kChunkSizeOffset = 12;    // u32, plaintext bytes per chunk
inline constexpr size_t kKeyIdOffset = 16;        // 8 bytes; zero for a passphrase
inline constexpr size_t kOpsOffset = 24;          // u64, Argon2id opslimit; 0 for a key file
inline constexpr size_t kMemoryOffset = 32;       // u64, Argon2id memlimit in bytes
inline constexpr size_t kSaltOffset = 40;         // 16 bytes; zero for a key file
inline constexpr size_t kWrapNonceOffset = 56;    // 24 bytes, random
inline constexpr size_t kWrappedKeyOffset = 80;   // 32 + 16 bytes
inline constexpr size_t kHeaderSize = 128;

inline constexpr uint8_t kCipherAes256Gcm = 1;
inline constexpr uint8_t kCipherXChaCha20Poly1305 = 2;
inline constexpr uint8_t kKeyKindKeyFile = 1;
inline constexpr uint8_t kKeyKindPassphrase = 2;

inline constexpr size_t kKeyIdBytes = 8;
inline constexpr size_t kSaltBytes = 16;
inline constexpr size_t kDataKeyBytes = 32;
inline constexpr size_t kTagBytes = 16;

// Chunks: u32 ciphertext length, then the ciphertext (plaintext + tag).
inline constexpr size_t kChunkLengthBytes = 4;
inline constexpr uint32_t kChunkSize = 256u << 10;          // What writers use.
inline constexpr uint32_t kMinChunkSize = 4u << 10;         // What readers accept.
inline constexpr uint32_t kMaxChunkSize = 16u << 20;
// Readers refuse Argon2id costs above these (a hostile header must not take the
// machine's memory).
inline constexpr uint64_t kMaxOps = 64;
inline constexpr uint64_t kMaxMemoryBytes = 4ull << 30;

// The key id: the first kKeyIdBytes of BLAKE3(kKeyIdContext || key), in hex.
inline constexpr char kKeyIdContext[] = "reducto symmetric key id v1";

// The key file: "reducto-symmetric-key v1", then "key-id <hex>" and "key <base64>".
inline constexpr char kKeyFileKind[] = "reducto-symmetric-key";
inline constexpr char kKeyFileVersion[] = "v1";
inline constexpr char kKeyIdField[] = "key-id";
inline constexpr char kKeyField[] = "key";

}  // namespace reducto::envelope

#endif  // REDUCTO_CRYPTO_ENVELOPE_FORMAT_H_
