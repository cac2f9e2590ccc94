// Symmetric key files (docs/encryption.md, "Key files").
#include <sodium.h>
#include <sys/stat.h>

#include <cstdio>

#include "crypto/ed25519.h"
#include "crypto/envelope_format.h"
#include "crypto/key_format.h"
#include "crypto/text_record.h"
#include "reducto/digest.h"
#include "reducto/encryption.h"
#include "reducto/signing.h"
#include "util/file.h"

namespace reducto {
namespace {

std::string Header() {
  return std::string(envelope::kKeyFileKind) + " " + envelope::kKeyFileVersion;
}

std::string KeyId(const std::array<uint8_t, SymmetricKey::kSize>& bytes) {
  Blake3Hasher hasher;
  hasher.Update({reinterpret_cast<const uint8_t*>(envelope::kKeyIdContext),
                 sizeof envelope::kKeyIdContext - 1});
  hasher.Update(bytes);
  Digest digest = hasher.Final();
  return ToHex(std::span(digest).first(envelope::kKeyIdBytes));
}

constexpr char kDamaged[] = ": the key file is damaged; use an intact copy";

}  // namespace

SymmetricKey::SymmetricKey(const std::array<uint8_t, kSize>& bytes)
    : bytes_(bytes), id_(KeyId(bytes)) {}

SymmetricKey::SymmetricKey(SymmetricKey&& other) noexcept
    : bytes_(other.bytes_), id_(std::move(other.id_)) {
  sodium_memzero(other.bytes_.data(), kSize);
}

SymmetricKey& SymmetricKey::operator=(SymmetricKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    id_ = std::move(other.id_);
    sodium_memzero(other.bytes_.data(), kSize);
  }
  return *this;
}

SymmetricKey::~SymmetricKey() { sodium_memzero(bytes_.data(), kSize); }

Result<SymmetricKey> SymmetricKey::Generate() {
  RETURN_IF_ERROR(InitSodium());
  std::array<uint8_t, kSize> bytes;
  randombytes_buf(bytes.data(), bytes.size());
  SymmetricKey key(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

Result<std::string> GenerateSymmetricKeyFile(const std::string& path, bool overwrite) {
  if (path.empty() || path.back() == '/') {
    return Status::InvalidArgument("'" + path + "' is not a file name: pass -o FILE");
  }
  struct stat st;
  if (!overwrite && ::lstat(path.c_str(), &st) == 0) {
    return Status::InvalidArgument(path + " already exists: pass --force to replace the key (what "
                                          "it encrypted can then no longer be decrypted) or "
                                          "choose another name");
  }
  ASSIGN_OR_RETURN(SymmetricKey key, SymmetricKey::Generate());
  std::string text = FormatRecord(Header(), {{envelope::kKeyIdField, key.id()},
                                             {envelope::kKeyField, ToBase64(key.bytes())}});
  Status written = WriteFileAtomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()},
                                   kSecretKeyFileMode, overwrite);
  sodium_memzero(text.data(), text.size());
  RETURN_IF_ERROR(written);
  return key.id();
}

Result<SymmetricKey> ReadSymmetricKeyFile(const std::string& path) {
  RETURN_IF_ERROR(InitSodium());
  RETURN_IF_ERROR(CheckPrivateKeyFile(path));
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxKeyFileBytes));
  if (FirstLine(text) != Header()) {
    sodium_memzero(text.data(), text.size());
    return Status::Corrupt(path + " is not a Reducto symmetric key file (its first line should "
                                  "be '" + Header() + "'): pass a file made by `reducto key "
                                  "generate --symmetric`");
  }
  auto values = ParseRecord(text, Header(), {envelope::kKeyIdField, envelope::kKeyField}, path);
  sodium_memzero(text.data(), text.size());
  if (!values.ok()) return Status::Corrupt(values.status().message() + kDamaged);
  auto bytes = FromBase64((*values)[1], SymmetricKey::kSize);
  if (!bytes.ok()) return Status::Corrupt(path + ": the key " + bytes.status().message() + kDamaged);
  std::array<uint8_t, SymmetricKey::kSize> raw;
  std::copy(bytes->begin(), bytes->end(), raw.begin());
  sodium_memzero(bytes->data(), bytes->size());
  SymmetricKey key(raw);
  sodium_memzero(raw.data(), raw.size());
  if (key.id() != (*values)[0]) {
    return Status::Corrupt(path + ": its key-id line does not match its key" + kDamaged);
  }
  return key;
}

}  // namespace reducto
