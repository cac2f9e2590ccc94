// Ed25519 beyond the public API (reducto/signing.h): library start-up and detached
// signature verification, both libsodium's.
#ifndef REDUCTO_CRYPTO_ED25519_H_
#define REDUCTO_CRYPTO_ED25519_H_

#include <cstdint>
#include <span>

#include "reducto/signing.h"
#include "reducto/status.h"

namespace reducto {

// sodium_init(), once per process. Unavailable when libsodium cannot start.
Status InitSodium();
// Ssh's rule for a secret key file (signing or encryption): Permission, saying to
// chmod 600, when group or others can access it.
Status CheckPrivateKeyFile(const std::string& path);

// True when `signature` is `key`'s Ed25519 signature of `message`
// (crypto_sign_verify_detached, which also rejects small-order keys).
bool VerifyDetached(const PublicKey& key, std::span<const uint8_t> message,
                    std::span<const uint8_t> signature);

}  // namespace reducto

#endif  // REDUCTO_CRYPTO_ED25519_H_
