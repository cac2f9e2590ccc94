// The trust policy of Compress and Decompress: with trusted keys configured, a corpus
// is used only when a trusted key signed it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/io.h"
#include "reducto/signing.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ScratchDir;

class TrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reference_ = RandomBytes(300000, 5);
    testing::WriteFile(dir_.Join("reference"), reference_);
    ASSERT_TRUE(GenerateKeyFiles(dir_.Join("alice"), false).ok());
    ASSERT_TRUE(GenerateKeyFiles(dir_.Join("mallory"), false).ok());
    CorpusBuildOptions options;
    options.chunking = ChunkerParams::ForAverage(4096);
    options.sign_keys = {dir_.Join("alice")};
    ASSERT_TRUE(BuildCorpus({dir_.Join("reference")}, dir_.Join("signed"), options).ok());
    options.sign_keys.clear();
    ASSERT_TRUE(BuildCorpus({dir_.Join("reference")}, dir_.Join("unsigned"), options).ok());
  }

  PublicKey Public(const std::string& name) { return *ReadPublicKeyFile(dir_.Join(name + ".pub")); }

  Result<CompressStats> CompressWith(const std::string& corpus, std::vector<PublicKey> trusted,
                                     std::string* container) {
    CompressOptions options;
    options.trusted_keys = std::move(trusted);
    auto source = MemorySource(reference_, "reference");
    auto sink = MemorySink(container, "out.rdc");
    return Compress(dir_.Join(corpus), *source, *sink, options);
  }

  Result<DecompressStats> DecompressWith(const std::string& corpus, std::vector<PublicKey> trusted,
                                         const std::string& container, std::string* output) {
    DecompressOptions options;
    options.trusted_keys = std::move(trusted);
    auto source = MemorySource(
        {reinterpret_cast<const uint8_t*>(container.data()), container.size()}, "in.rdc");
    auto sink = MemorySink(output, "out");
    return Decompress(corpus.empty() ? "" : dir_.Join(corpus), *source, *sink, options);
  }

  ScratchDir dir_;
  std::vector<uint8_t> reference_;
};

TEST_F(TrustTest, NoTrustedKeysMeansNoPolicy) {
  std::string container, output;
  ASSERT_TRUE(CompressWith("unsigned", {}, &container).ok());
  ASSERT_TRUE(DecompressWith("unsigned", {}, container, &output).ok());
  EXPECT_EQ(output, std::string(reference_.begin(), reference_.end()));
}

TEST_F(TrustTest, CompressRefusesAnUnsignedOrUntrustedCorpus) {
  std::string container;
  auto unsigned_corpus = CompressWith("unsigned", {Public("alice")}, &container);
  EXPECT_EQ(unsigned_corpus.status().code(), StatusCode::kPermission);
  EXPECT_NE(unsigned_corpus.status().message().find("--trusted-key"), std::string::npos);
  EXPECT_EQ(CompressWith("signed", {Public("mallory")}, &container).status().code(),
            StatusCode::kPermission);
  auto trusted = CompressWith("signed", {Public("mallory"), Public("alice")}, &container);
  ASSERT_TRUE(trusted.ok()) << trusted.status().ToString();
  EXPECT_GT(trusted->copy_bytes, 0u);
}

TEST_F(TrustTest, DecompressRefusesAnUntrustedCorpusBeforeAnyOutput) {
  std::string container, output;
  ASSERT_TRUE(CompressWith("signed", {Public("alice")}, &container).ok());
  auto refused = DecompressWith("signed", {Public("mallory")}, container, &output);
  EXPECT_EQ(refused.status().code(), StatusCode::kPermission);
  EXPECT_TRUE(output.empty());
  auto decoded = DecompressWith("signed", {Public("alice")}, container, &output);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(output, std::string(reference_.begin(), reference_.end()));
}

TEST_F(TrustTest, ADamagedSignatureIsRefused) {
  std::string container, output;
  ASSERT_TRUE(CompressWith("signed", {Public("alice")}, &container).ok());
  std::string sig = dir_.Join("signed/signatures/" + Public("alice").id() + ".sig");
  auto bytes = testing::ReadFile(sig);
  bytes[bytes.size() - 10] ^= 1;
  testing::WriteFile(sig, bytes);
  EXPECT_EQ(DecompressWith("signed", {Public("alice")}, container, &output).status().code(),
            StatusCode::kPermission);
}

TEST_F(TrustTest, StandaloneContainersNeedNoSignature) {
  std::string container, output;
  CompressOptions options;
  options.standalone = true;
  options.trusted_keys = {Public("alice")};
  auto source = MemorySource(reference_, "reference");
  auto sink = MemorySink(&container, "out.rdc");
  ASSERT_TRUE(Compress("", *source, *sink, options).ok());
  EXPECT_TRUE(DecompressWith("", {Public("alice")}, container, &output).ok());
}

}  // namespace
}  // namespace reducto
