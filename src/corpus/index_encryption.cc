#include "corpus/index_encryption.h"

#include <rocksdb/env.h>
#include <rocksdb/env_encryption.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace reducto {
namespace {

// FROZEN: the prefix of every encrypted index file.
constexpr char kPrefixMagic[8] = {'R', 'D', 'C', 'I', 'D', 'X', 'E', '1'};
constexpr size_t kPrefixBytes = 4096;
constexpr size_t kNonceBytes = crypto_stream_xchacha20_NONCEBYTES;
constexpr size_t kStreamBlock = 64;  // XChaCha20's block: the counter counts these.

using Key = std::array<uint8_t, 32>;
using Nonce = std::array<uint8_t, kNonceBytes>;

// XOR with the key stream at a file offset: encryption and decryption alike.
class XChaChaStream final : public rocksdb::BlockAccessCipherStream {
 public:
  XChaChaStream(const Key& key, const Nonce& nonce) : key_(key), nonce_(nonce) {}
  ~XChaChaStream() override { sodium_memzero(key_.data(), key_.size()); }

  size_t BlockSize() override { return kStreamBlock; }
  rocksdb::Status Encrypt(uint64_t offset, char* data, size_t size) override {
    Xor(offset, reinterpret_cast<uint8_t*>(data), size);
    return rocksdb::Status::OK();
  }
  rocksdb::Status Decrypt(uint64_t offset, char* data, size_t size) override {
    Xor(offset, reinterpret_cast<uint8_t*>(data), size);
    return rocksdb::Status::OK();
  }

 protected:
  // Encrypt and Decrypt above handle any offset; the block interface is unused.
  void AllocateScratch(std::string&) override {}
  rocksdb::Status EncryptBlock(uint64_t, char*, char*) override {
    return rocksdb::Status::NotSupported("block-wise encryption");
  }
  rocksdb::Status DecryptBlock(uint64_t, char*, char*) override {
    return rocksdb::Status::NotSupported("block-wise decryption");
  }

 private:
  void Xor(uint64_t offset, uint8_t* data, size_t size) const {
    uint64_t block = offset / kStreamBlock;
    const size_t skip = offset % kStreamBlock;
    if (skip != 0 && size > 0) {
      std::array<uint8_t, kStreamBlock> stream{};
      crypto_stream_xchacha20_xor_ic(stream.data(), stream.data(), stream.size(), nonce_.data(),
                                     block, key_.data());
      const size_t n = std::min(size, kStreamBlock - skip);
      for (size_t i = 0; i < n; ++i) data[i] ^= stream[skip + i];
      sodium_memzero(stream.data(), stream.size());
      data += n;
      size -= n;
      ++block;
    }
    if (size > 0) crypto_stream_xchacha20_xor_ic(data, data, size, nonce_.data(), block, key_.data());
  }

  Key key_;
  Nonce nonce_;
};

class IndexEncryptionProvider final : public rocksdb::EncryptionProvider {
 public:
  explicit IndexEncryptionProvider(const Key& key) : key_(key) {}
  ~IndexEncryptionProvider() override { sodium_memzero(key_.data(), key_.size()); }

  const char* Name() const override { return "ReductoIndexEncryption"; }
  size_t GetPrefixLength() const override { return kPrefixBytes; }

  rocksdb::Status CreateNewPrefix(const std::string&, char* prefix, size_t length) const override {
    if (length < sizeof kPrefixMagic + kNonceBytes) {
      return rocksdb::Status::InvalidArgument("encrypted index prefix too short");
    }
    std::memset(prefix, 0, length);
    std::memcpy(prefix, kPrefixMagic, sizeof kPrefixMagic);
    randombytes_buf(prefix + sizeof kPrefixMagic, kNonceBytes);
    return rocksdb::Status::OK();
  }

  rocksdb::Status AddCipher(const std::string&, const char*, size_t, bool) override {
    return rocksdb::Status::NotSupported("the index key is fixed per corpus");
  }

  rocksdb::Status CreateCipherStream(
      const std::string& name, const rocksdb::EnvOptions&, rocksdb::Slice& prefix,
      std::unique_ptr<rocksdb::BlockAccessCipherStream>* result) override {
    if (prefix.size() < sizeof kPrefixMagic + kNonceBytes ||
        std::memcmp(prefix.data(), kPrefixMagic, sizeof kPrefixMagic) != 0) {
      return rocksdb::Status::Corruption(name + " is not an encrypted index file");
    }
    Nonce nonce;
    std::memcpy(nonce.data(), prefix.data() + sizeof kPrefixMagic, nonce.size());
    *result = std::make_unique<XChaChaStream>(key_, nonce);
    return rocksdb::Status::OK();
  }

 private:
  Key key_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewEncryptedIndexEnv(const Key& key) {
  return std::unique_ptr<rocksdb::Env>(rocksdb::NewEncryptedEnv(
      rocksdb::Env::Default(), std::make_shared<IndexEncryptionProvider>(key)));
}

}  // namespace reducto
