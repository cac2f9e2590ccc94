#include "crypto/corpus_keys.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "crypto/ed25519.h"
#include "crypto/envelope_format.h"
#include "reducto/digest.h"
#include "reducto/io.h"
#include "util/endian.h"

namespace reducto {
namespace {

// crypto_kdf: the context (8 bytes) and the subkey ids. FROZEN.
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "rdcorpus";
constexpr uint64_t kPackSubkey = 1;
constexpr uint64_t kIndexSubkey = 2;

std::array<uint8_t, 24> PackNonce(uint32_t segment, uint64_t chunk) {
  std::array<uint8_t, 24> nonce{};
  StoreLe32(nonce.data(), segment);
  StoreLe64(nonce.data() + 4, chunk);
  return nonce;
}

// The key id a data-key envelope names, or "" for a passphrase; Corrupt when `header`
// is not an envelope header.
Result<std::string> NeededKeyId(std::span<const uint8_t> header, const std::string& path) {
  using namespace envelope;  // NOLINT: the format's constants.
  if (header.size() < kHeaderSize || !std::equal(kMagic.begin(), kMagic.end(), header.begin())) {
    return Status::Corrupt(path + " is not a corpus key file: the corpus is damaged");
  }
  if (header[kKeyKindOffset] != kKeyKindKeyFile) return std::string();
  return ToHex(header.subspan(kKeyIdOffset, kKeyIdBytes));
}

// Permission, saying which key `path` needs, when `key` cannot be it.
Status CheckKeyFits(const std::string& needed, const EnvelopeKey& key) {
  const std::string what = needed.empty() ? "a passphrase" : "key " + needed;
  const std::string flags = needed.empty()
                                ? "pass --corpus-passphrase-file FILE or --corpus-passphrase-env VAR"
                                : "pass --corpus-key FILE with key " + needed;
  if (key.empty()) {
    return Status::Permission("the corpus is encrypted with " + what + ": " + flags);
  }
  if (!needed.empty() && (!key.key || key.key->id() != needed)) {
    return Status::Permission("the corpus is encrypted with key " + needed + ", not with " +
                              (key.key ? "key " + key.key->id() : "a passphrase") + ": " + flags);
  }
  if (needed.empty() && !key.passphrase) {
    return Status::Permission("the corpus is encrypted with a passphrase, not a key file: " +
                              flags);
  }
  return Status::Ok();
}

}  // namespace

CorpusKeys::CorpusKeys(const Key& corpus_key, std::string pack_cipher)
    : pack_cipher_(std::move(pack_cipher)) {
  crypto_kdf_derive_from_key(pack_key_.data(), pack_key_.size(), kPackSubkey, kKdfContext,
                             corpus_key.data());
  crypto_kdf_derive_from_key(index_key_.data(), index_key_.size(), kIndexSubkey, kKdfContext,
                             corpus_key.data());
}

CorpusKeys::CorpusKeys(CorpusKeys&& other) noexcept
    : pack_cipher_(std::move(other.pack_cipher_)),
      pack_key_(other.pack_key_),
      index_key_(other.index_key_) {
  other.Wipe();
}

CorpusKeys& CorpusKeys::operator=(CorpusKeys&& other) noexcept {
  if (this != &other) {
    pack_cipher_ = std::move(other.pack_cipher_);
    pack_key_ = other.pack_key_;
    index_key_ = other.index_key_;
    other.Wipe();
  }
  return *this;
}

CorpusKeys::~CorpusKeys() { Wipe(); }

void CorpusKeys::Wipe() {
  sodium_memzero(pack_key_.data(), pack_key_.size());
  sodium_memzero(index_key_.data(), index_key_.size());
}

Result<CorpusKeys> CorpusKeys::Create(const std::string& path, const EnvelopeKey& key) {
  RETURN_IF_ERROR(InitSodium());
  Key corpus_key;
  randombytes_buf(corpus_key.data(), corpus_key.size());
  std::string cipher = crypto_aead_aes256gcm_is_available() != 0 ? kPackCipherAes256Gcm
                                                                 : kPackCipherXChaCha20Poly1305;
  CorpusKeys keys(corpus_key, std::move(cipher));
  Status written = [&]() -> Status {
    ASSIGN_OR_RETURN(std::unique_ptr<ByteSink> file, OpenSink(path, false));
    ASSIGN_OR_RETURN(std::unique_ptr<ByteSink> sealed, EncryptingSink(*file, key));
    RETURN_IF_ERROR(sealed->Write(corpus_key));
    return sealed->Commit();
  }();
  sodium_memzero(corpus_key.data(), corpus_key.size());
  RETURN_IF_ERROR(written);
  return keys;
}

Result<CorpusKeys> CorpusKeys::Open(const std::string& path, const EnvelopeKey& key,
                                    const std::string& pack_cipher) {
  RETURN_IF_ERROR(InitSodium());
  if (pack_cipher != kPackCipherAes256Gcm && pack_cipher != kPackCipherXChaCha20Poly1305) {
    return Status::Corrupt("the manifest names an unknown pack cipher '" + pack_cipher +
                           "': upgrade reducto, or the corpus is damaged");
  }
  if (pack_cipher == kPackCipherAes256Gcm && crypto_aead_aes256gcm_is_available() == 0) {
    return Status::Unavailable("the corpus is encrypted with AES-256-GCM, which needs AES "
                               "instructions this CPU lacks: use it on another machine");
  }
  auto file = OpenSource(path);
  if (!file.ok() && file.status().code() == StatusCode::kNotFound) {
    return Status::NotFound("the corpus key " + path + " is gone: the corpus was deleted "
                            "(crypto-shredded) and can never be read again; fetch another copy");
  }
  if (!file.ok()) return file.status();
  std::array<uint8_t, envelope::kHeaderSize> header{};
  ASSIGN_OR_RETURN(size_t n, (*file)->ReadFull(header));
  ASSIGN_OR_RETURN(std::string needed, NeededKeyId(std::span(header).first(n), path));
  RETURN_IF_ERROR(CheckKeyFits(needed, key));
  ASSIGN_OR_RETURN(file, OpenSource(path));
  std::unique_ptr<ByteSource> plain = DecryptingSource(**file, key);
  Key corpus_key{};
  uint8_t extra = 0;
  Result<size_t> got = plain->ReadFull(corpus_key);
  Result<size_t> more = got.ok() && *got == corpus_key.size()
                            ? plain->ReadFull(std::span(&extra, 1))
                            : Result<size_t>(size_t{0});
  Status status = !got.ok()    ? got.status()
                  : !more.ok() ? more.status()
                  : *got != corpus_key.size() || *more != 0
                      ? Status::Corrupt(path + " does not hold a 32-byte key: the corpus is damaged")
                      : Status::Ok();
  if (!status.ok()) {
    sodium_memzero(corpus_key.data(), corpus_key.size());
    return status.WithContext("corpus key " + path);
  }
  CorpusKeys keys(corpus_key, pack_cipher);
  sodium_memzero(corpus_key.data(), corpus_key.size());
  return keys;
}

uint64_t CorpusKeys::SealedSize(uint64_t plain_size) {
  return plain_size + (plain_size + kPackChunkSize - 1) / kPackChunkSize * kPackTagBytes;
}

void CorpusKeys::SealPackChunk(uint32_t segment, uint64_t chunk, std::span<const uint8_t> plain,
                               std::vector<uint8_t>* sealed) const {
  sealed->resize(plain.size() + kPackTagBytes);
  auto nonce = PackNonce(segment, chunk);
  unsigned long long n = 0;
  if (pack_cipher_ == kPackCipherAes256Gcm) {
    crypto_aead_aes256gcm_encrypt(sealed->data(), &n, plain.data(), plain.size(), nullptr, 0,
                                  nullptr, nonce.data(), pack_key_.data());
  } else {
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed->data(), &n, plain.data(), plain.size(),
                                               nullptr, 0, nullptr, nonce.data(),
                                               pack_key_.data());
  }
}

bool CorpusKeys::OpenPackChunk(uint32_t segment, uint64_t chunk, std::span<const uint8_t> sealed,
                               uint8_t* plain) const {
  if (sealed.size() < kPackTagBytes) return false;
  auto nonce = PackNonce(segment, chunk);
  unsigned long long n = 0;
  int rc = pack_cipher_ == kPackCipherAes256Gcm
               ? crypto_aead_aes256gcm_decrypt(plain, &n, nullptr, sealed.data(), sealed.size(),
                                               nullptr, 0, nonce.data(), pack_key_.data())
               : crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &n, nullptr, sealed.data(),
                                                            sealed.size(), nullptr, 0,
                                                            nonce.data(), pack_key_.data());
  return rc == 0;
}

}  // namespace reducto
