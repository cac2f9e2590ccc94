// The chunk index of an encrypted corpus: every file RocksDB writes under <corpus>/index
// is encrypted with XChaCha20 (libsodium's crypto_stream_xchacha20_xor_ic) under the
// corpus's index key, through RocksDB's encrypted environment. Each file starts with a
// 4096-byte prefix: the magic "RDCIDXE1" and a random 24-byte nonce, then zeros
// (docs/encryption.md, "Encrypted corpora"). The stream cipher keeps RocksDB's random
// reads; integrity comes from the manifest's index digest (corpus verify) and from the
// digests every copy is checked against.
#ifndef REDUCTO_CORPUS_INDEX_ENCRYPTION_H_
#define REDUCTO_CORPUS_INDEX_ENCRYPTION_H_

#include <array>
#include <cstdint>
#include <memory>

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace reducto {

// An Env over the default one that encrypts and decrypts every file with `key`.
std::unique_ptr<rocksdb::Env> NewEncryptedIndexEnv(const std::array<uint8_t, 32>& key);

}  // namespace reducto

#endif  // REDUCTO_CORPUS_INDEX_ENCRYPTION_H_
