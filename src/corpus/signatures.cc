#include "corpus/signatures.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "corpus/corpus_format.h"
#include "crypto/ed25519.h"
#include "crypto/key_format.h"
#include "crypto/text_record.h"
#include "storage/local_directory_storage.h"

namespace reducto {
namespace {

constexpr char kRefetch[] = ": re-fetch the corpus from its publisher";

std::string SignatureFileName(const std::string& key_id) { return key_id + kSignatureSuffix; }

bool IsKeyId(const std::string& text) {
  if (text.size() != 2 * kKeyIdBytes) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The fields of a signature file, decoded; Corrupt naming the file when malformed.
struct SignatureFile {
  std::string key_id;
  std::array<uint8_t, PublicKey::kSize> public_key{};
  std::string corpus_id;
  Digest manifest_digest{};
  std::vector<uint8_t> signature;
};

Result<SignatureFile> ParseSignatureFile(const std::string& text, const std::string& path) {
  std::string damaged = ": the signature file is damaged";
  auto values =
      ParseRecord(text, kSignatureFileHeader,
                  {kSignatureKeyIdField, kSignaturePublicKeyField, kSignatureCorpusIdField,
                   kSignatureManifestField, kSignatureValueField},
                  path);
  if (!values.ok()) return Status::Corrupt(values.status().message() + damaged + kRefetch);
  SignatureFile file;
  file.key_id = (*values)[0];
  file.corpus_id = (*values)[2];
  auto field_error = [&](const char* field, const Status& s) {
    return Status::Corrupt(path + ": " + field + " " + s.message() + damaged + kRefetch);
  };
  if (!IsKeyId(file.key_id)) {
    return field_error(kSignatureKeyIdField, Status::Corrupt("is not 16 lowercase hex digits"));
  }
  auto key = FromBase64((*values)[1], PublicKey::kSize);
  if (!key.ok()) return field_error(kSignaturePublicKeyField, key.status());
  std::copy(key->begin(), key->end(), file.public_key.begin());
  auto digest = DigestFromLowerHex((*values)[3]);
  if (!digest.ok()) return field_error(kSignatureManifestField, digest.status());
  file.manifest_digest = *digest;
  auto signature = FromBase64((*values)[4], SecretKey::kSignatureSize);
  if (!signature.ok()) return field_error(kSignatureValueField, signature.status());
  file.signature = std::move(signature).value();
  return file;
}

// OK when the parsed file is a valid signature of the corpus `info` describes.
Status CheckSignature(const SignatureFile& file, const std::string& path, const std::string& name,
                      const CorpusInfo& info) {
  PublicKey key(file.public_key);
  if (key.id() != file.key_id) {
    return Status::Integrity(path + ": its key-id is not the id of its public key" + kRefetch);
  }
  if (name != SignatureFileName(file.key_id)) {
    return Status::Integrity(path + " holds a signature by key " + file.key_id +
                             " under another key's name" + kRefetch);
  }
  if (file.corpus_id != info.id) {
    return Status::Integrity(path + " is a signature for corpus " + file.corpus_id +
                             ", not for this corpus (" + info.id +
                             "): it was copied from another corpus; delete it, or re-fetch the "
                             "corpus from its publisher");
  }
  if (!DigestEqual(file.manifest_digest, info.manifest_digest)) {
    return Status::Integrity(path + " signs manifest blake3 " + ToHex(file.manifest_digest) +
                             ", but " + kManifestFileName + " has blake3 " +
                             ToHex(info.manifest_digest) +
                             ": the manifest changed after it was signed" + kRefetch);
  }
  std::vector<uint8_t> message = SignatureMessage(info.id, info.manifest_digest);
  if (!VerifyDetached(key, message, file.signature)) {
    return Status::Integrity(path +
                             ": the signature does not verify (the file is damaged or "
                             "forged)" +
                             kRefetch);
  }
  return Status::Ok();
}

SignatureCheck CheckSignatureFile(const Storage& storage, const std::string& name,
                                  const CorpusInfo& info, const std::vector<PublicKey>& trusted) {
  const std::string path = storage.PathOf(std::string(kSignaturesDirName) + "/" + name);
  SignatureCheck check;
  check.file = path;
  check.key_id = name.substr(0, name.size() - std::strlen(kSignatureSuffix));
  auto text = storage.ReadSmall(std::string(kSignaturesDirName) + "/" + name, kMaxKeyFileBytes);
  if (!text.ok()) {
    check.problem = text.status();
    return check;
  }
  auto file = ParseSignatureFile(*text, path);
  if (!file.ok()) {
    check.problem = file.status();
    return check;
  }
  check.key_id = file->key_id;
  check.problem = CheckSignature(*file, path, name, info);
  check.valid = check.problem.ok();
  PublicKey key(file->public_key);
  check.trusted = check.valid && std::any_of(trusted.begin(), trusted.end(),
                                             [&](const PublicKey& t) { return t == key; });
  return check;
}

// The names of the regular files in signatures/ of `storage` that end in ".sig",
// sorted. A missing folder holds none.
Result<std::vector<std::string>> ListSignatureFiles(const Storage& storage) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, storage.List(kSignaturesDirName));
  std::erase_if(names, [](const std::string& name) { return !name.ends_with(kSignatureSuffix); });
  return names;
}

// REQUIRES: !checks.empty()
std::string DescribeSigners(const std::vector<SignatureCheck>& checks) {
  std::string out = "is signed only by";
  for (size_t i = 0; i < checks.size(); ++i) {
    out += (i == 0 ? " " : ", ") + checks[i].key_id +
           (checks[i].valid ? " (valid, not trusted)" : " (invalid)");
  }
  return out;
}

std::string DescribeKeys(const std::vector<PublicKey>& keys) {
  std::string out;
  for (const PublicKey& key : keys) out += (out.empty() ? "" : ", ") + key.id();
  return out;
}

// The first invalid signature that names one of the trusted keys, if any.
const SignatureCheck* InvalidTrustedSignature(const std::vector<SignatureCheck>& checks,
                                              const std::vector<PublicKey>& trusted) {
  for (const SignatureCheck& check : checks) {
    for (const PublicKey& key : trusted) {
      if (!check.valid && check.key_id == key.id()) return &check;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<uint8_t> SignatureMessage(const std::string& corpus_id, const Digest& manifest_digest) {
  std::string message(kSignatureDomain, sizeof kSignatureDomain);  // With the NUL.
  message += corpus_id;
  message.append(reinterpret_cast<const char*>(manifest_digest.data()), manifest_digest.size());
  return std::vector<uint8_t>(message.begin(), message.end());
}

Result<std::string> WriteCorpusSignature(Storage& storage, const CorpusInfo& info,
                                         const SecretKey& key) {
  PublicKey public_key = key.public_key();
  auto signature = key.Sign(SignatureMessage(info.id, info.manifest_digest));
  std::string text =
      FormatRecord(kSignatureFileHeader, {{kSignatureKeyIdField, public_key.id()},
                                          {kSignaturePublicKeyField, ToBase64(public_key.bytes())},
                                          {kSignatureCorpusIdField, info.id},
                                          {kSignatureManifestField, ToHex(info.manifest_digest)},
                                          {kSignatureValueField, ToBase64(signature)}});
  std::string name = std::string(kSignaturesDirName) + "/" + SignatureFileName(public_key.id());
  RETURN_IF_ERROR(
      storage.Publish(name, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
  return storage.PathOf(name);
}

Result<std::string> WriteCorpusSignature(const std::string& dir, const CorpusInfo& info,
                                         const SecretKey& key) {
  LocalDirectoryStorage storage(dir);
  return WriteCorpusSignature(storage, info, key);
}

Result<std::vector<SecretKey>> ReadSigningKeys(const std::vector<std::string>& paths) {
  std::vector<SecretKey> keys;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(SecretKey key, ReadSecretKeyFile(path));
    PublicKey public_key = key.public_key();
    bool seen = std::any_of(keys.begin(), keys.end(),
                            [&](const SecretKey& k) { return k.public_key() == public_key; });
    if (!seen) keys.push_back(std::move(key));
  }
  return keys;
}

Result<std::string> SignCorpus(const std::string& dir, const SecretKey& key,
                               const EnvelopeKey* corpus_key) {
  ASSIGN_OR_RETURN(CorpusInfo info, ReadCorpusInfo(dir));
  if (Status s = VerifyCorpus(dir, corpus_key); !s.ok()) {
    return s.WithContext("refusing to sign corpus " + info.id + " because it does not verify");
  }
  ASSIGN_OR_RETURN(CorpusInfo verified, ReadCorpusInfo(dir));
  if (!DigestEqual(verified.manifest_digest, info.manifest_digest)) {
    return Status::Unavailable(dir + "/" + kManifestFileName +
                               " changed while the corpus was being verified: try again");
  }
  return WriteCorpusSignature(dir, info, key);
}

Result<std::vector<SignatureCheck>> CheckCorpusSignatures(const Storage& storage,
                                                          const CorpusInfo& info,
                                                          const std::vector<PublicKey>& trusted) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListSignatureFiles(storage));
  std::vector<SignatureCheck> checks;
  for (const std::string& name : names) {
    checks.push_back(CheckSignatureFile(storage, name, info, trusted));
  }
  return checks;
}

Result<std::vector<SignatureCheck>> CheckCorpusSignatures(const CorpusInfo& info,
                                                          const std::vector<PublicKey>& trusted) {
  return CheckCorpusSignatures(LocalDirectoryStorage(info.path), info, trusted);
}

Status CheckCorpusTrust(const CorpusInfo& info, const std::vector<PublicKey>& trusted) {
  if (trusted.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(std::vector<SignatureCheck> checks, CheckCorpusSignatures(info, trusted));
  for (const SignatureCheck& check : checks) {
    if (check.trusted) return Status::Ok();
  }
  std::string head = "corpus " + info.id + " at " + info.path +
                     " has no valid signature by a trusted key (trusted: " + DescribeKeys(trusted) +
                     ")";
  if (const SignatureCheck* damaged = InvalidTrustedSignature(checks, trusted)) {
    return Status::Permission(head + "; its signature by " + damaged->key_id +
                              " does not check: " + damaged->problem.message());
  }
  if (checks.empty()) {
    return Status::Permission(
        head + ": it has no signatures. Get a signed copy from its publisher and trust their "
        "key with --trusted-key FILE.pub or `trusted_keys` in the config; or, if you vouch for "
        "its contents yourself, sign it with `reducto corpus sign " + info.path +
        " --sign-key KEY` and trust KEY.pub");
  }
  return Status::Permission(
      head + ": it " + DescribeSigners(checks) +
      ". If you trust its signer, add their public key with --trusted-key FILE.pub or to "
      "`trusted_keys` in the config; `reducto corpus verify " +
      info.path + "` shows details");
}

}  // namespace reducto
