// Ed25519 keys and their files (docs/keys.md).
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "crypto/key_format.h"
#include "crypto/text_record.h"
#include "reducto/digest.h"
#include "reducto/signing.h"
#include "util/file.h"

namespace reducto {

static_assert(PublicKey::kSize == crypto_sign_PUBLICKEYBYTES);
static_assert(SecretKey::kSize == crypto_sign_SECRETKEYBYTES);
static_assert(SecretKey::kSignatureSize == crypto_sign_BYTES);

// Grants the key file writer the secret bytes, which the public API never exposes.
struct SecretKeyAccess {
  static const std::array<uint8_t, SecretKey::kSize>& Bytes(const SecretKey& key) {
    return key.bytes_;
  }
};

namespace {

enum class KeyKind { kSecret, kPublic };

std::string Header(const char* kind) { return std::string(kind) + " " + kKeyFileVersion; }

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

constexpr char kDamagedKey[] =
    ": the key file is damaged; use an intact copy or generate a new key";

// The first line decides what the file is; a key of the other kind is a usage error
// with its own message, because passing NAME for NAME.pub is an easy slip.
Status CheckKind(const std::string& path, const std::string& first, KeyKind want) {
  const char* wanted = want == KeyKind::kSecret ? kSecretKeyFileKind : kPublicKeyFileKind;
  const char* other = want == KeyKind::kSecret ? kPublicKeyFileKind : kSecretKeyFileKind;
  if (first == Header(wanted)) return Status::Ok();
  if (StartsWith(first, std::string(other) + " ")) {
    if (want == KeyKind::kSecret) {
      return Status::InvalidArgument(
          path + " is a public key; signing needs the secret key file (the same name without " +
          kPublicKeySuffix + ")");
    }
    return Status::InvalidArgument(path + " is a SECRET key; pass its public key (" + path +
                                   kPublicKeySuffix + ") to trust or verify, and keep " + path +
                                   " private");
  }
  if (StartsWith(first, std::string(wanted) + " ")) {
    return Status::Corrupt(path + " is a key file of version '" + first.substr(strlen(wanted) + 1) +
                           "', which this reducto does not know: upgrade reducto");
  }
  return Status::Corrupt(path + " is not a Reducto " +
                         (want == KeyKind::kSecret ? "secret" : "public") +
                         " key file (its first line should be '" + Header(wanted) +
                         "'): pass a file made by `reducto key generate`");
}

// InvalidArgument naming what `path` is when it is not a regular file (a directory,
// /dev/null, a pipe): a key is always read from a file.
Status CheckRegularKeyFile(const std::string& path, const struct stat& st) {
  if (S_ISREG(st.st_mode)) return Status::Ok();
  const char* what = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISFIFO(st.st_mode) ? "a pipe"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a regular file";
  return Status::InvalidArgument(path + " is " + what + ", not a key file: pass the path of a " +
                                 "key file made by `reducto key generate`");
}

// The key bytes of a key file of kind `want`, after checking the key id line.
Result<std::vector<uint8_t>> ReadKeyFile(const std::string& path, KeyKind want) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("inspect", path, errno);
  RETURN_IF_ERROR(CheckRegularKeyFile(path, st));
  auto text = ReadSmallFile(path, kMaxKeyFileBytes);
  if (!text.ok()) {
    if (text.status().code() != StatusCode::kCorrupt) return text.status();
    return Status::Corrupt(
        path + " is not a Reducto " + (want == KeyKind::kSecret ? "secret" : "public") +
        " key file (it is too large): pass a file made by `reducto key generate`");
  }
  RETURN_IF_ERROR(CheckKind(path, FirstLine(*text), want));
  bool secret = want == KeyKind::kSecret;
  auto values = ParseRecord(*text, Header(secret ? kSecretKeyFileKind : kPublicKeyFileKind),
                            {kKeyIdField, secret ? kSecretKeyField : kPublicKeyField}, path);
  if (!values.ok()) return Status::Corrupt(values.status().message() + kDamagedKey);
  auto bytes = FromBase64((*values)[1], secret ? SecretKey::kSize : PublicKey::kSize);
  if (!bytes.ok()) {
    return Status::Corrupt(path + ": the key " + bytes.status().message() + kDamagedKey);
  }
  std::array<uint8_t, PublicKey::kSize> public_bytes{};
  std::copy_n(bytes->end() - PublicKey::kSize, PublicKey::kSize, public_bytes.begin());
  if (PublicKey(public_bytes).id() != (*values)[0]) {
    return Status::Corrupt(path + ": its key-id line does not match its key" + kDamagedKey);
  }
  return bytes;
}

Status WriteText(const std::string& path, const std::string& text, unsigned mode, bool overwrite) {
  return WriteFileAtomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, mode,
                         overwrite);
}

std::string SecretKeyText(const SecretKey& key) {
  const auto& bytes = SecretKeyAccess::Bytes(key);
  return FormatRecord(Header(kSecretKeyFileKind),
                      {{kKeyIdField, key.id()}, {kSecretKeyField, ToBase64(bytes)}});
}

std::string PublicKeyText(const PublicKey& key) {
  return FormatRecord(Header(kPublicKeyFileKind),
                      {{kKeyIdField, key.id()}, {kPublicKeyField, ToBase64(key.bytes())}});
}

Status CheckNewKeyPath(const std::string& path, const std::string& public_path, bool overwrite) {
  if (path.empty() || path.back() == '/') {
    return Status::InvalidArgument("'" + path + "' is not a file name: pass -o NAME");
  }
  if (path.size() > 4 && path.ends_with(kPublicKeySuffix)) {
    return Status::InvalidArgument("name the secret key file, not '" + path + "': its public key " +
                                   "goes to NAME" + kPublicKeySuffix);
  }
  if (overwrite) return Status::Ok();
  for (const std::string& p : {path, public_path}) {
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0) {
      return Status::InvalidArgument(p + " already exists: pass --force to replace the key pair " +
                                     "(the old key will be gone) or choose another name");
    }
  }
  return Status::Ok();
}

}  // namespace

// Ssh's rule: a secret key that others can read or write may have been copied or
// replaced, so it is refused rather than used.
Status CheckPrivateKeyFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("inspect", path, errno);
  RETURN_IF_ERROR(CheckRegularKeyFile(path, st));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::Permission("secret key " + path + " is accessible by group or others (mode " +
                              mode + "): run `chmod 600 " + path +
                              "`, or generate a new key if others may have copied it");
  }
  return Status::Ok();
}

Status InitSodium() {
  static const int rc = sodium_init();
  if (rc < 0)
    return Status::Unavailable("libsodium failed to initialize: check the system's random source");
  return Status::Ok();
}

bool VerifyDetached(const PublicKey& key, std::span<const uint8_t> message,
                    std::span<const uint8_t> signature) {
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.bytes().data()) == 0;
}

// ---- PublicKey ----

std::string PublicKey::id() const {
  Digest digest = Blake3(bytes_);
  return ToHex(std::span(digest).first(kKeyIdBytes));
}

bool PublicKey::operator==(const PublicKey& other) const {
  return sodium_memcmp(bytes_.data(), other.bytes_.data(), kSize) == 0;
}

// ---- SecretKey ----

Result<SecretKey> SecretKey::Generate() {
  RETURN_IF_ERROR(InitSodium());
  SecretKey key;
  std::array<uint8_t, PublicKey::kSize> public_bytes{};
  crypto_sign_keypair(public_bytes.data(), key.bytes_.data());
  return key;
}

Result<SecretKey> SecretKey::FromBytes(const std::array<uint8_t, kSize>& bytes) {
  RETURN_IF_ERROR(InitSodium());
  SecretKey derived;
  std::array<uint8_t, PublicKey::kSize> public_bytes{};
  crypto_sign_seed_keypair(public_bytes.data(), derived.bytes_.data(), bytes.data());
  if (sodium_memcmp(derived.bytes_.data(), bytes.data(), kSize) != 0) {
    return Status::Corrupt("the secret key's public half is not the public key of its seed");
  }
  return derived;
}

SecretKey::SecretKey(SecretKey&& other) noexcept : bytes_(other.bytes_) {
  sodium_memzero(other.bytes_.data(), kSize);
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    sodium_memzero(other.bytes_.data(), kSize);
  }
  return *this;
}

SecretKey::~SecretKey() { sodium_memzero(bytes_.data(), kSize); }

PublicKey SecretKey::public_key() const {
  std::array<uint8_t, PublicKey::kSize> public_bytes{};
  crypto_sign_ed25519_sk_to_pk(public_bytes.data(), bytes_.data());
  return PublicKey(public_bytes);
}

std::array<uint8_t, SecretKey::kSignatureSize> SecretKey::Sign(
    std::span<const uint8_t> message) const {
  std::array<uint8_t, kSignatureSize> signature{};
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), bytes_.data());
  return signature;
}

// ---- key files ----

Result<KeyFiles> GenerateKeyFiles(const std::string& path, bool overwrite) {
  KeyFiles files{path, path + kPublicKeySuffix, ""};
  RETURN_IF_ERROR(CheckNewKeyPath(path, files.public_path, overwrite));
  ASSIGN_OR_RETURN(SecretKey key, SecretKey::Generate());
  files.key_id = key.id();
  std::string secret_text = SecretKeyText(key);
  Status written = WriteText(path, secret_text, kSecretKeyFileMode, overwrite);
  sodium_memzero(secret_text.data(), secret_text.size());
  RETURN_IF_ERROR(written);
  written =
      WriteText(files.public_path, PublicKeyText(key.public_key()), kPublicKeyFileMode, overwrite);
  if (!written.ok()) {
    ::unlink(path.c_str());  // A secret key without its public key is of no use.
    return written;
  }
  return files;
}

Result<PublicKey> ReadPublicKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadKeyFile(path, KeyKind::kPublic));
  std::array<uint8_t, PublicKey::kSize> key{};
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return PublicKey(key);
}

Result<SecretKey> ReadSecretKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadKeyFile(path, KeyKind::kSecret));
  std::array<uint8_t, SecretKey::kSize> key{};
  std::copy(bytes.begin(), bytes.end(), key.begin());
  sodium_memzero(bytes.data(), bytes.size());
  auto secret = SecretKey::FromBytes(key);
  sodium_memzero(key.data(), key.size());
  if (!secret.ok()) return Status::Corrupt(path + ": " + secret.status().message() + kDamagedKey);
  RETURN_IF_ERROR(CheckPrivateKeyFile(path));
  return secret;
}

}  // namespace reducto
