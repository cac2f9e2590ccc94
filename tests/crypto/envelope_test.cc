// The encryption envelope: round trips with key files and passphrases, pass-through of
// plain streams, wrong keys, and every kind of damage (flipped bits anywhere, truncation
// at every length, reordered, duplicated and dropped chunks) refused before any
// plaintext of the damaged chunk is returned.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/stat.h>

#include "crypto/envelope_format.h"
#include "reducto/encryption.h"
#include "crypto/key_test_util.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::KeyFileKey;
using testing::RandomBytes;
using testing::ScratchDir;

// A cheap Argon2id cost, so that passphrase tests stay fast.
constexpr PassphraseCost kTestCost{1, 8u << 20};

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Result<std::string> Encrypt(std::span<const uint8_t> plain, const EnvelopeKey& key) {
  std::string sealed;
  auto out = MemorySink(&sealed, "sealed");
  ASSIGN_OR_RETURN(std::unique_ptr<ByteSink> sink, EncryptingSink(*out, key, kTestCost));
  RETURN_IF_ERROR(sink->Write(plain));
  RETURN_IF_ERROR(sink->Commit());
  return sealed;
}

// Decrypts everything; on error, *plain holds what was returned before it.
Status Decrypt(const std::string& sealed, const EnvelopeKey& key, std::string* plain) {
  plain->clear();
  auto in = MemorySource(Bytes(sealed), "sealed");
  std::unique_ptr<ByteSource> source = DecryptingSource(*in, key);
  std::vector<uint8_t> buf(10000);
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, source->Read(buf));
    if (n == 0) return Status::Ok();
    plain->append(reinterpret_cast<const char*>(buf.data()), n);
  }
}

EnvelopeKey PassphraseKey(const std::string& passphrase) {
  EnvelopeKey k;
  k.passphrase = passphrase;
  return k;
}

std::string AsText(const std::vector<uint8_t>& v) { return {v.begin(), v.end()}; }

TEST(EnvelopeTest, KeyFileRoundTripsAtEverySizeAroundChunks) {
  ScratchDir dir;
  EnvelopeKey key = KeyFileKey(dir, "k");
  const size_t chunk = envelope::kChunkSize;
  for (size_t size : {size_t{0}, size_t{1}, chunk - 1, chunk, chunk + 1, 3 * chunk}) {
    std::vector<uint8_t> plain = RandomBytes(size, size);
    auto sealed = Encrypt(plain, key);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    size_t chunks = std::max<size_t>(1, (size + chunk - 1) / chunk);  // The last may be full.
    EXPECT_EQ(sealed->size(), envelope::kHeaderSize + chunks * 20 + size) << size;
    std::string out;
    ASSERT_TRUE(Decrypt(*sealed, key, &out).ok()) << size;
    EXPECT_EQ(out, AsText(plain)) << size;
  }
}

TEST(EnvelopeTest, PassphraseRoundTripsAndTheWrongOneIsRefused) {
  std::vector<uint8_t> plain = RandomBytes(100000, 3);
  auto sealed = Encrypt(plain, PassphraseKey("correct horse"));
  ASSERT_TRUE(sealed.ok());
  std::string out;
  ASSERT_TRUE(Decrypt(*sealed, PassphraseKey("correct horse"), &out).ok());
  EXPECT_EQ(out, AsText(plain));
  Status wrong = Decrypt(*sealed, PassphraseKey("correct horse "), &out);
  EXPECT_EQ(wrong.code(), StatusCode::kIntegrity);
  EXPECT_NE(wrong.message().find("passphrase does not unlock"), std::string::npos);
  EXPECT_TRUE(out.empty());
}

TEST(EnvelopeTest, TheWrongOrAMissingKeyIsNamed) {
  ScratchDir dir;
  EnvelopeKey key = KeyFileKey(dir, "a");
  EnvelopeKey other = KeyFileKey(dir, "b");
  auto sealed = Encrypt(RandomBytes(1000, 1), key);
  ASSERT_TRUE(sealed.ok());
  std::string out;
  Status s = Decrypt(*sealed, other, &out);
  EXPECT_EQ(s.code(), StatusCode::kPermission);
  EXPECT_NE(s.message().find("encrypted with key " + key.key->id()), std::string::npos)
      << s.ToString();
  s = Decrypt(*sealed, EnvelopeKey(), &out);
  EXPECT_EQ(s.code(), StatusCode::kPermission);
  EXPECT_NE(s.message().find("pass --decrypt-key FILE"), std::string::npos) << s.ToString();
  s = Decrypt(*sealed, PassphraseKey("x"), &out);
  EXPECT_EQ(s.code(), StatusCode::kPermission);
}

TEST(EnvelopeTest, PlainStreamsPassThrough) {
  for (size_t size : {0, 3, 8, 100000}) {
    std::vector<uint8_t> plain = RandomBytes(size, size + 7);
    std::string out;
    ASSERT_TRUE(Decrypt(AsText(plain), EnvelopeKey(), &out).ok());
    EXPECT_EQ(out, AsText(plain));
  }
}

TEST(EnvelopeTest, KeyFilesArePrivateAndChecked) {
  ScratchDir dir;
  auto id = GenerateSymmetricKeyFile(dir.Join("k"), false);
  ASSERT_TRUE(id.ok());
  struct stat st;
  ASSERT_EQ(::stat(dir.Join("k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(GenerateSymmetricKeyFile(dir.Join("k"), false).status().code(),
            StatusCode::kInvalidArgument);
  ::chmod(dir.Join("k").c_str(), 0644);
  EXPECT_EQ(ReadSymmetricKeyFile(dir.Join("k")).status().code(), StatusCode::kPermission);
  ::chmod(dir.Join("k").c_str(), 0600);
  testing::WriteFile(dir.Join("bad"), std::vector<uint8_t>{'h', 'i', '\n'});
  ::chmod(dir.Join("bad").c_str(), 0600);
  EXPECT_EQ(ReadSymmetricKeyFile(dir.Join("bad")).status().code(), StatusCode::kCorrupt);
}

// Splits an envelope into its header and its chunks (length prefix included).
std::vector<std::string> Split(const std::string& sealed) {
  std::vector<std::string> parts = {sealed.substr(0, envelope::kHeaderSize)};
  size_t at = envelope::kHeaderSize;
  while (at < sealed.size()) {
    uint32_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(sealed[at + i]);
    parts.push_back(sealed.substr(at, 4 + n));
    at += 4 + n;
  }
  return parts;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

TEST(EnvelopeTest, ReorderedDuplicatedAndDroppedChunksAreRefused) {
  ScratchDir dir;
  EnvelopeKey key = KeyFileKey(dir, "k");
  auto sealed = Encrypt(RandomBytes(3 * envelope::kChunkSize + 5, 9), key);
  ASSERT_TRUE(sealed.ok());
  std::vector<std::string> parts = Split(*sealed);
  ASSERT_EQ(parts.size(), 5u);  // Header, three full chunks, the final one.
  std::vector<std::vector<std::string>> bad;
  bad.push_back({parts[0], parts[2], parts[1], parts[3], parts[4]});           // Swapped.
  bad.push_back({parts[0], parts[1], parts[1], parts[2], parts[3], parts[4]});  // Duplicated.
  bad.push_back({parts[0], parts[1], parts[3], parts[4]});                     // Dropped.
  bad.push_back({parts[0], parts[1], parts[2], parts[3]});                     // No final chunk.
  bad.push_back({parts[0], parts[1], parts[2], parts[3], parts[4], parts[4]}); // Final twice.
  // The chunks before the damage are intact and may have been returned; nothing after.
  const size_t intact[] = {1, 2, 1, 2, 3};
  for (size_t i = 0; i < bad.size(); ++i) {
    std::string out;
    Status s = Decrypt(Join(bad[i]), key, &out);
    EXPECT_FALSE(s.ok()) << i;
    EXPECT_LE(out.size(), intact[i] * envelope::kChunkSize) << i;
  }
}

TEST(EnvelopeTest, EveryFlippedBitAndEveryTruncationIsRefused) {
  ScratchDir dir;
  EnvelopeKey key = KeyFileKey(dir, "k");
  std::vector<uint8_t> plain = RandomBytes(300, 4);
  auto sealed = Encrypt(plain, key);
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = *sealed;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      std::string out;
      Status s = Decrypt(damaged, key, &out);
      if (i < envelope::kMagic.size()) {
        // Not an envelope any more: passed through as it is (no plaintext), for the
        // container decoder to refuse as not a container.
        ASSERT_TRUE(s.ok());
        ASSERT_EQ(out, damaged);
        continue;
      }
      ASSERT_FALSE(s.ok()) << "byte " << i << " bit " << bit;
      ASSERT_TRUE(out.empty()) << "byte " << i << " bit " << bit << ": plaintext released";
    }
  }
  for (size_t n = envelope::kMagic.size(); n < sealed->size(); ++n) {
    std::string out;
    ASSERT_FALSE(Decrypt(sealed->substr(0, n), key, &out).ok()) << n;
    ASSERT_TRUE(out.empty()) << n;
  }
}

RC_GTEST_PROP(EnvelopePropertyTest, RoundTripsAnyBytesAnyWrites,
              (const std::vector<uint8_t>& plain, uint8_t split)) {
  ScratchDir dir;
  EnvelopeKey key = KeyFileKey(dir, "k");
  std::string sealed;
  auto out = MemorySink(&sealed, "sealed");
  auto sink = EncryptingSink(*out, key, kTestCost);
  RC_ASSERT(sink.ok());
  size_t cut = plain.empty() ? 0 : split % plain.size();
  RC_ASSERT((*sink)->Write(std::span(plain).first(cut)).ok());
  RC_ASSERT((*sink)->Write(std::span(plain).subspan(cut)).ok());
  RC_ASSERT((*sink)->Commit().ok());
  std::string back;
  RC_ASSERT(Decrypt(sealed, key, &back).ok());
  RC_ASSERT(back == AsText(plain));
}

}  // namespace
}  // namespace reducto
