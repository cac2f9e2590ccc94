// Ed25519 key pairs and key files: generation, modes, round trips, wrong kinds, damage.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "reducto/signing.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::ReadFile;
using testing::ScratchDir;
using testing::WriteFile;

unsigned ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::vector<uint8_t> Bytes(const std::string& text) { return {text.begin(), text.end()}; }

TEST(KeyFilesTest, GenerateWritesAPrivateSecretKeyAndItsPublicKey) {
  ScratchDir dir;
  auto files = GenerateKeyFiles(dir.Join("release"), false);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->secret_path, dir.Join("release"));
  EXPECT_EQ(files->public_path, dir.Join("release.pub"));
  EXPECT_TRUE(std::regex_match(files->key_id, std::regex("[0-9a-f]{16}")));
  EXPECT_EQ(ModeOf(files->secret_path), 0600u);
  auto secret = ReadSecretKeyFile(files->secret_path);
  auto public_key = ReadPublicKeyFile(files->public_path);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  ASSERT_TRUE(public_key.ok()) << public_key.status().ToString();
  EXPECT_EQ(secret->id(), files->key_id);
  EXPECT_EQ(public_key->id(), files->key_id);
  EXPECT_TRUE(secret->public_key() == *public_key);
}

TEST(KeyFilesTest, FilesAreSelfDescribingText) {
  ScratchDir dir;
  auto files = GenerateKeyFiles(dir.Join("k"), false);
  ASSERT_TRUE(files.ok());
  auto as_text = [](const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); };
  EXPECT_TRUE(std::regex_match(as_text(ReadFile(files->public_path)),
                               std::regex("reducto-ed25519-public-key v1\nkey-id " + files->key_id +
                                          "\npublic-key [A-Za-z0-9+/]{43}=\n")));
  EXPECT_TRUE(std::regex_match(as_text(ReadFile(files->secret_path)),
                               std::regex("reducto-ed25519-secret-key v1\nkey-id " + files->key_id +
                                          "\nsecret-key [A-Za-z0-9+/]{86}==\n")));
}

TEST(KeyFilesTest, RefusesToOverwriteWithoutForce) {
  ScratchDir dir;
  auto first = GenerateKeyFiles(dir.Join("k"), false);
  ASSERT_TRUE(first.ok());
  auto before = ReadFile(dir.Join("k"));
  auto again = GenerateKeyFiles(dir.Join("k"), false);
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(again.status().message().find("--force"), std::string::npos);
  EXPECT_EQ(ReadFile(dir.Join("k")), before);

  std::filesystem::remove(dir.Join("k"));  // Only the .pub is left: still refused.
  EXPECT_EQ(GenerateKeyFiles(dir.Join("k"), false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.Join("k")));

  auto forced = GenerateKeyFiles(dir.Join("k"), true);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_NE(forced->key_id, first->key_id);
  EXPECT_EQ(ModeOf(dir.Join("k")), 0600u);
  EXPECT_EQ(ReadPublicKeyFile(dir.Join("k.pub"))->id(), forced->key_id);
}

TEST(KeyFilesTest, RefusesANameEndingInPub) {
  ScratchDir dir;
  EXPECT_EQ(GenerateKeyFiles(dir.Join("k.pub"), false).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(GenerateKeyFiles(dir.Join("sub") + "/", false).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(KeyFilesTest, MissingDirectoryIsNotFound) {
  ScratchDir dir;
  EXPECT_EQ(GenerateKeyFiles(dir.Join("no/such/k"), false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadPublicKeyFile(dir.Join("missing.pub")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadSecretKeyFile(dir.Join("missing")).status().code(), StatusCode::kNotFound);
}

TEST(KeyFilesTest, WrongKindOfKeyFileSaysWhichToPass) {
  ScratchDir dir;
  ASSERT_TRUE(GenerateKeyFiles(dir.Join("k"), false).ok());
  auto secret_from_public = ReadSecretKeyFile(dir.Join("k.pub"));
  EXPECT_EQ(secret_from_public.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(secret_from_public.status().message().find("is a public key"), std::string::npos);
  auto public_from_secret = ReadPublicKeyFile(dir.Join("k"));
  EXPECT_EQ(public_from_secret.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(public_from_secret.status().message().find("k.pub"), std::string::npos);
}

TEST(KeyFilesTest, SecretKeyReadableByOthersIsRefused) {
  ScratchDir dir;
  ASSERT_TRUE(GenerateKeyFiles(dir.Join("k"), false).ok());
  for (unsigned mode : {0640u, 0604u, 0620u, 0644u}) {
    ASSERT_EQ(::chmod(dir.Join("k").c_str(), mode), 0);
    auto key = ReadSecretKeyFile(dir.Join("k"));
    EXPECT_EQ(key.status().code(), StatusCode::kPermission) << std::oct << mode;
    EXPECT_NE(key.status().message().find("chmod 600"), std::string::npos);
  }
  ASSERT_EQ(::chmod(dir.Join("k").c_str(), 0400), 0);
  EXPECT_TRUE(ReadSecretKeyFile(dir.Join("k")).ok());
}

TEST(KeyFilesTest, OtherFilesAreNotKeys) {
  ScratchDir dir;
  WriteFile(dir.Join("text"), Bytes("hello\n"));
  EXPECT_EQ(ReadPublicKeyFile(dir.Join("text")).status().code(), StatusCode::kCorrupt);
  WriteFile(dir.Join("v2.pub"), Bytes("reducto-ed25519-public-key v2\nkey-id 00\n"));
  auto v2 = ReadPublicKeyFile(dir.Join("v2.pub"));
  EXPECT_EQ(v2.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(v2.status().message().find("upgrade"), std::string::npos);
  WriteFile(dir.Join("big"), std::vector<uint8_t>(100000, 'a'));
  EXPECT_EQ(ReadPublicKeyFile(dir.Join("big")).status().code(), StatusCode::kCorrupt);
  EXPECT_FALSE(ReadPublicKeyFile(dir.path()).ok());
}

// Any single-bit change of a key file is refused, never read as another key.
RC_GTEST_PROP(KeyFilesProperty, AnyBitFlipIsRefused, ()) {
  ScratchDir dir;
  RC_ASSERT(GenerateKeyFiles(dir.Join("k"), false).ok());
  bool secret = *rc::gen::arbitrary<bool>();
  std::string path = secret ? dir.Join("k") : dir.Join("k.pub");
  std::vector<uint8_t> bytes = ReadFile(path);
  size_t pos = *rc::gen::inRange<size_t>(0, bytes.size());
  bytes[pos] ^= static_cast<uint8_t>(1u << *rc::gen::inRange(0, 8));
  WriteFile(path, bytes);
  RC_ASSERT(::chmod(path.c_str(), 0600) == 0);
  if (secret) {
    RC_ASSERT_FALSE(ReadSecretKeyFile(path).ok());
  } else {
    RC_ASSERT_FALSE(ReadPublicKeyFile(path).ok());
  }
}

TEST(SecretKeyTest, SignaturesVerifyOnlyForTheirKeyAndMessage) {
  auto key = SecretKey::Generate();
  auto other = SecretKey::Generate();
  ASSERT_TRUE(key.ok() && other.ok());
  std::vector<uint8_t> message = Bytes("message");
  auto signature = key->Sign(message);
  EXPECT_TRUE(VerifyDetached(key->public_key(), message, signature));
  EXPECT_FALSE(VerifyDetached(other->public_key(), message, signature));
  EXPECT_FALSE(VerifyDetached(key->public_key(), Bytes("massage"), signature));
  signature[10] ^= 1;
  EXPECT_FALSE(VerifyDetached(key->public_key(), message, signature));
}

TEST(SecretKeyTest, FromBytesChecksThePublicHalf) {
  auto key = SecretKey::Generate();
  ASSERT_TRUE(key.ok());
  std::array<uint8_t, SecretKey::kSize> bytes{};
  // The seed's public key is the second half; a wrong second half is refused.
  auto public_bytes = key->public_key().bytes();
  std::copy(public_bytes.begin(), public_bytes.end(), bytes.begin() + 32);
  EXPECT_EQ(SecretKey::FromBytes(bytes).status().code(), StatusCode::kCorrupt);
}

TEST(SecretKeyTest, MoveKeepsTheKey) {
  auto key = SecretKey::Generate();
  ASSERT_TRUE(key.ok());
  std::string id = key->id();
  SecretKey moved = std::move(key).value();
  EXPECT_EQ(moved.id(), id);
}

}  // namespace
}  // namespace reducto
