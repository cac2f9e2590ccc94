// The encryption envelope (docs/encryption.md): EncryptingSink and DecryptingSource.
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "crypto/ed25519.h"
#include "crypto/envelope_format.h"
#include "reducto/digest.h"
#include "reducto/encryption.h"
#include "util/endian.h"

namespace reducto {
namespace {

using namespace envelope;  // NOLINT: the format's constants.
using Header = std::array<uint8_t, kHeaderSize>;
using DataKey = std::array<uint8_t, kDataKeyBytes>;

// Wipes what it holds when it goes.
struct SecretBytes {
  DataKey bytes{};
  ~SecretBytes() { sodium_memzero(bytes.data(), bytes.size()); }
};

// The key-encryption key for `header` (salt and cost in it for a passphrase).
Status DeriveKek(const EnvelopeKey& key, const Header& header, SecretBytes* kek) {
  if (key.key) {
    kek->bytes = key.key->bytes();
    return Status::Ok();
  }
  const std::string& passphrase = *key.passphrase;
  if (crypto_pwhash(kek->bytes.data(), kek->bytes.size(), passphrase.data(), passphrase.size(),
                    header.data() + kSaltOffset, LoadLe64(header.data() + kOpsOffset),
                    static_cast<size_t>(LoadLe64(header.data() + kMemoryOffset)),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Unavailable("not enough memory for the passphrase's key derivation (Argon2id, " +
                               std::to_string(LoadLe64(header.data() + kMemoryOffset) >> 20) +
                               " MiB): free memory and try again");
  }
  return Status::Ok();
}

// The nonce of chunk `index`: its little-endian index, zero-padded to the cipher's size.
std::array<uint8_t, 24> ChunkNonce(uint64_t index) {
  std::array<uint8_t, 24> nonce{};
  StoreLe64(nonce.data(), index);
  return nonce;
}

// What a chunk's tag also covers: the header, the chunk's index, whether it is the last.
std::array<uint8_t, 32 + 9> ChunkAad(const Digest& header_digest, uint64_t index, bool final) {
  std::array<uint8_t, 32 + 9> aad{};
  std::copy(header_digest.begin(), header_digest.end(), aad.begin());
  StoreLe64(aad.data() + 32, index);
  aad[40] = final ? 1 : 0;
  return aad;
}

class ChunkCipher {
 public:
  ChunkCipher(uint8_t cipher, const DataKey& key, const Digest& header_digest)
      : cipher_(cipher), header_digest_(header_digest) {
    key_.bytes = key;
  }

  void Seal(uint64_t index, bool final, std::span<const uint8_t> plain, std::vector<uint8_t>* out) {
    out->resize(plain.size() + kTagBytes);
    auto nonce = ChunkNonce(index);
    auto aad = ChunkAad(header_digest_, index, final);
    unsigned long long n = 0;
    if (cipher_ == kCipherAes256Gcm) {
      crypto_aead_aes256gcm_encrypt(out->data(), &n, plain.data(), plain.size(), aad.data(),
                                    aad.size(), nullptr, nonce.data(), key_.bytes.data());
    } else {
      crypto_aead_xchacha20poly1305_ietf_encrypt(out->data(), &n, plain.data(), plain.size(),
                                                 aad.data(), aad.size(), nullptr, nonce.data(),
                                                 key_.bytes.data());
    }
  }

  bool Open(uint64_t index, bool final, std::span<const uint8_t> sealed, std::vector<uint8_t>* out) {
    if (sealed.size() < kTagBytes) return false;
    out->resize(sealed.size() - kTagBytes);
    auto nonce = ChunkNonce(index);
    auto aad = ChunkAad(header_digest_, index, final);
    unsigned long long n = 0;
    int rc = cipher_ == kCipherAes256Gcm
                 ? crypto_aead_aes256gcm_decrypt(out->data(), &n, nullptr, sealed.data(),
                                                 sealed.size(), aad.data(), aad.size(),
                                                 nonce.data(), key_.bytes.data())
                 : crypto_aead_xchacha20poly1305_ietf_decrypt(out->data(), &n, nullptr,
                                                              sealed.data(), sealed.size(),
                                                              aad.data(), aad.size(),
                                                              nonce.data(), key_.bytes.data());
    return rc == 0;
  }

 private:
  uint8_t cipher_;
  SecretBytes key_;
  Digest header_digest_;
};

class EncryptingSinkImpl final : public ByteSink {
 public:
  EncryptingSinkImpl(ByteSink& out, uint8_t cipher, const DataKey& key, const Header& header)
      : out_(out), cipher_(cipher, key, Blake3(header)), name_(out.name()) {
    plain_.reserve(kChunkSize);
  }

  Status Write(std::span<const uint8_t> data) override {
    while (!data.empty()) {
      if (plain_.size() == kChunkSize) RETURN_IF_ERROR(Emit(false));
      size_t n = std::min(data.size(), kChunkSize - plain_.size());
      plain_.insert(plain_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(n));
      data = data.subspan(n);
    }
    return Status::Ok();
  }

  Status Commit() override {
    RETURN_IF_ERROR(Emit(true));
    return out_.Commit();
  }
  const std::string& name() const override { return name_; }
  ~EncryptingSinkImpl() override { sodium_memzero(plain_.data(), plain_.size()); }

 private:
  Status Emit(bool final) {
    cipher_.Seal(index_++, final, plain_, &sealed_);
    std::array<uint8_t, kChunkLengthBytes> length;
    StoreLe32(length.data(), static_cast<uint32_t>(sealed_.size()));
    RETURN_IF_ERROR(out_.Write(length));
    RETURN_IF_ERROR(out_.Write(sealed_));
    sodium_memzero(plain_.data(), plain_.size());
    plain_.clear();
    return Status::Ok();
  }

  ByteSink& out_;
  ChunkCipher cipher_;
  std::string name_;
  std::vector<uint8_t> plain_;
  std::vector<uint8_t> sealed_;
  uint64_t index_ = 0;
};

class DecryptingSourceImpl final : public ByteSource {
 public:
  DecryptingSourceImpl(ByteSource& in, const EnvelopeKey& key) : in_(in), name_(in.name()) {
    if (key.key) key_file_.emplace(key.key->bytes(), key.key->id());
    if (key.passphrase) passphrase_ = *key.passphrase;
  }
  ~DecryptingSourceImpl() override {
    sodium_memzero(passphrase_.data(), passphrase_.size());
    sodium_memzero(plain_.data(), plain_.size());
  }

  Result<size_t> Read(std::span<uint8_t> buf) override {
    if (state_ == State::kStart) RETURN_IF_ERROR(Start());
    if (state_ == State::kPlain) return ReadPlain(buf);
    while (pos_ == plain_.size()) {
      if (state_ == State::kDone) return size_t{0};
      RETURN_IF_ERROR(NextChunk());
    }
    size_t n = std::min(buf.size(), plain_.size() - pos_);
    std::memcpy(buf.data(), plain_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }

 private:
  enum class State { kStart, kPlain, kChunks, kDone };

  // Reads the magic: an envelope, or plain bytes to pass through.
  Status Start() {
    ASSIGN_OR_RETURN(size_t n, in_.ReadFull(std::span(header_).first(kMagic.size())));
    if (n < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), header_.begin())) {
      state_ = State::kPlain;
      pending_.assign(header_.begin(), header_.begin() + static_cast<ptrdiff_t>(n));
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(size_t rest, in_.ReadFull(std::span(header_).subspan(kMagic.size())));
    if (rest < kHeaderSize - kMagic.size()) {
      return Status::Corrupt("truncated encrypted container: " + name_ +
                             " ends inside its header: get a complete copy");
    }
    RETURN_IF_ERROR(InitSodium());
    RETURN_IF_ERROR(CheckHeader());
    if (header_[kCipherOffset] == kCipherAes256Gcm && crypto_aead_aes256gcm_is_available() == 0) {
      return Status::Unavailable(name_ + " is encrypted with AES-256-GCM, which needs AES "
                                 "instructions this CPU lacks: decrypt it on another machine");
    }
    SecretBytes data_key;
    RETURN_IF_ERROR(Unwrap(&data_key));
    cipher_.emplace(header_[kCipherOffset], data_key.bytes, Blake3(header_));
    state_ = State::kChunks;
    return Status::Ok();
  }

  Result<size_t> ReadPlain(std::span<uint8_t> buf) {
    if (pos_ < pending_.size()) {
      size_t n = std::min(buf.size(), pending_.size() - pos_);
      std::memcpy(buf.data(), pending_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return in_.Read(buf);
  }

  Status CheckHeader() {
    const uint64_t version = LoadLe16(header_.data() + kVersionOffset);
    if (version != kVersion) {
      return Status::Corrupt(name_ + " is encrypted with envelope version " +
                             std::to_string(version) + ", which this reducto does not know: "
                             "upgrade reducto");
    }
    const uint8_t cipher = header_[kCipherOffset];
    if (cipher != kCipherAes256Gcm && cipher != kCipherXChaCha20Poly1305) {
      return Status::Corrupt("the encryption header of " + name_ + " names an unknown cipher: "
                             "the file is damaged");
    }
    const uint64_t chunk = LoadLe32(header_.data() + kChunkSizeOffset);
    if (chunk < kMinChunkSize || chunk > kMaxChunkSize) {
      return Status::Corrupt("the encryption header of " + name_ + " declares chunks of " +
                             std::to_string(chunk) + " bytes: the file is damaged");
    }
    chunk_size_ = static_cast<uint32_t>(chunk);
    const uint8_t kind = header_[kKeyKindOffset];
    const std::string id = ToHex(std::span(header_).subspan(kKeyIdOffset, kKeyIdBytes));
    if (kind == kKeyKindKeyFile) {
      if (!key_file_ && passphrase_.empty()) {
        return Status::Permission(name_ + " is encrypted with key " + id +
                                  ": pass --decrypt-key FILE with that key");
      }
      if (!key_file_) {
        return Status::Permission(name_ + " is encrypted with key " + id + ", not a passphrase: "
                                  "pass --decrypt-key FILE with that key");
      }
      if (key_file_->second != id) {
        return Status::Permission(name_ + " is encrypted with key " + id + ", and the key given "
                                  "is " + key_file_->second + ": pass --decrypt-key FILE with key " +
                                  id);
      }
      return Status::Ok();
    }
    if (kind == kKeyKindPassphrase) {
      if (passphrase_.empty()) {
        return Status::Permission(name_ + " is encrypted with a passphrase: pass "
                                  "--passphrase-file FILE (or --passphrase-env VAR)");
      }
      const uint64_t ops = LoadLe64(header_.data() + kOpsOffset);
      const uint64_t memory = LoadLe64(header_.data() + kMemoryOffset);
      if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN || ops > kMaxOps ||
          memory < crypto_pwhash_argon2id_MEMLIMIT_MIN || memory > kMaxMemoryBytes) {
        return Status::Corrupt("the encryption header of " + name_ + " asks for an Argon2id "
                               "cost outside the accepted range: the file is damaged or hostile");
      }
      return Status::Ok();
    }
    return Status::Corrupt("the encryption header of " + name_ + " names an unknown key kind: "
                           "the file is damaged");
  }

  Status Unwrap(SecretBytes* data_key) {
    EnvelopeKey kek_source;
    SecretBytes kek;
    if (key_file_) {
      kek.bytes = key_file_->first;
    } else {
      kek_source.passphrase = passphrase_;
      RETURN_IF_ERROR(DeriveKek(kek_source, header_, &kek));
      sodium_memzero(kek_source.passphrase->data(), kek_source.passphrase->size());
    }
    unsigned long long n = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            data_key->bytes.data(), &n, nullptr, header_.data() + kWrappedKeyOffset,
            kDataKeyBytes + kTagBytes, header_.data(), kWrappedKeyOffset,
            header_.data() + kWrapNonceOffset, kek.bytes.data()) != 0) {
      return Status::Integrity(
          key_file_ ? "the encryption header of " + name_ + " does not authenticate with key " +
                          key_file_->second + ": the file is damaged"
                    : "the passphrase does not unlock " + name_ +
                          " (or its encryption header is damaged): check the passphrase");
    }
    return Status::Ok();
  }

  // Reads, authenticates and decrypts the next chunk into plain_.
  Status NextChunk() {
    std::array<uint8_t, kChunkLengthBytes> length;
    size_t got = 0;
    if (lookahead_) {
      length[0] = *lookahead_;
      lookahead_.reset();
      ASSIGN_OR_RETURN(size_t rest, in_.ReadFull(std::span(length).subspan(1)));
      got = 1 + rest;
    } else {
      ASSIGN_OR_RETURN(got, in_.ReadFull(length));
    }
    if (got == 0) {
      return Status::Corrupt("truncated encrypted container: " + name_ + " ends after " +
                             std::to_string(index_) + " chunks without the final one: get a "
                             "complete copy");
    }
    if (got < length.size()) return Truncated();
    const uint64_t size = LoadLe32(length.data());
    if (size < kTagBytes || size > chunk_size_ + kTagBytes) {
      return Status::Corrupt("encrypted chunk " + std::to_string(index_) + " of " + name_ +
                             " declares " + std::to_string(size) + " bytes: the file is damaged");
    }
    sealed_.resize(size);
    ASSIGN_OR_RETURN(got, in_.ReadFull(sealed_));
    if (got < size) return Truncated();
    // Only the last chunk may be short; a short chunk must be the final one.
    const bool final = size < chunk_size_ + kTagBytes || !MoreFollows();
    if (!cipher_->Open(index_, final, sealed_, &plain_)) {
      return Status::Integrity("encrypted chunk " + std::to_string(index_) + " of " + name_ +
                               " does not authenticate: the file is damaged, truncated, "
                               "reordered or spliced; nothing of it was used");
    }
    ++index_;
    pos_ = 0;
    if (final) {
      uint8_t extra;
      ASSIGN_OR_RETURN(size_t more, in_.ReadFull(std::span(&extra, 1)));
      if (more != 0 || lookahead_) {
        return Status::Corrupt("data after the final encrypted chunk of " + name_ +
                               ": the file is damaged or has bytes appended");
      }
      state_ = State::kDone;
    }
    return Status::Ok();
  }

  // Whether another chunk follows a full one: peeks one byte (kept in lookahead_ and
  // prepended to the next length).
  bool MoreFollows() {
    uint8_t byte;
    auto n = in_.ReadFull(std::span(&byte, 1));
    if (!n.ok() || *n == 0) return false;
    lookahead_ = byte;
    return true;
  }

  Status Truncated() {
    return Status::Corrupt("truncated encrypted container: " + name_ + " ends inside chunk " +
                           std::to_string(index_) + ": get a complete copy");
  }

  ByteSource& in_;
  std::string name_;
  std::optional<std::pair<std::array<uint8_t, SymmetricKey::kSize>, std::string>> key_file_;
  std::string passphrase_;
  State state_ = State::kStart;
  Header header_{};
  std::vector<uint8_t> pending_;  // Plain mode: the bytes read while looking for the magic.
  std::optional<ChunkCipher> cipher_;
  uint32_t chunk_size_ = 0;
  std::vector<uint8_t> sealed_;
  std::vector<uint8_t> plain_;
  size_t pos_ = 0;
  uint64_t index_ = 0;
  std::optional<uint8_t> lookahead_;
};

}  // namespace

Result<std::unique_ptr<ByteSink>> EncryptingSink(ByteSink& out, const EnvelopeKey& key,
                                                 const PassphraseCost& cost) {
  RETURN_IF_ERROR(InitSodium());
  if (key.empty() || (key.key && key.passphrase)) {
    return Status::InvalidArgument("encryption needs exactly one of a key file and a passphrase");
  }
  const uint8_t cipher = crypto_aead_aes256gcm_is_available() != 0 ? kCipherAes256Gcm
                                                                   : kCipherXChaCha20Poly1305;
  Header header{};
  std::copy(kMagic.begin(), kMagic.end(), header.begin());
  StoreLe16(header.data() + kVersionOffset, kVersion);
  header[kCipherOffset] = cipher;
  StoreLe32(header.data() + kChunkSizeOffset, kChunkSize);
  if (key.key) {
    header[kKeyKindOffset] = kKeyKindKeyFile;
    std::array<uint8_t, kKeyIdBytes> id{};
    size_t bin_len = 0;
    sodium_hex2bin(id.data(), id.size(), key.key->id().data(), key.key->id().size(), nullptr,
                   &bin_len, nullptr);
    std::copy(id.begin(), id.end(), header.begin() + kKeyIdOffset);
  } else {
    header[kKeyKindOffset] = kKeyKindPassphrase;
    StoreLe64(header.data() + kOpsOffset, cost.ops);
    StoreLe64(header.data() + kMemoryOffset, cost.memory_bytes);
    randombytes_buf(header.data() + kSaltOffset, kSaltBytes);
  }
  randombytes_buf(header.data() + kWrapNonceOffset, 24);
  SecretBytes kek;
  RETURN_IF_ERROR(DeriveKek(key, header, &kek));
  SecretBytes data_key;
  randombytes_buf(data_key.bytes.data(), data_key.bytes.size());
  unsigned long long n = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(header.data() + kWrappedKeyOffset, &n,
                                             data_key.bytes.data(), data_key.bytes.size(),
                                             header.data(), kWrappedKeyOffset, nullptr,
                                             header.data() + kWrapNonceOffset, kek.bytes.data());
  RETURN_IF_ERROR(out.Write(header));
  return std::unique_ptr<ByteSink>(new EncryptingSinkImpl(out, cipher, data_key.bytes, header));
}

std::unique_ptr<ByteSource> DecryptingSource(ByteSource& in, const EnvelopeKey& key) {
  return std::make_unique<DecryptingSourceImpl>(in, key);
}

}  // namespace reducto
