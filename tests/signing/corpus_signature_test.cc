// Detached corpus signatures: signing, checking, several signers, the trust policy,
// and that every change to a signed manifest, signature or key is refused.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "corpus/corpus_test_util.h"
#include "crypto/text_record.h"
#include "reducto/corpus.h"
#include "reducto/signing.h"
#include "test_support.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;
using testing::ListNames;
using testing::RandomBytes;
using testing::ReadFile;
using testing::ScratchDir;
using testing::SnapshotTree;
using testing::WriteFile;

std::string AsText(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }
std::vector<uint8_t> AsBytes(const std::string& s) { return {s.begin(), s.end()}; }

// Two small corpora and two key pairs in one scratch directory.
class CorpusSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Join("a"), RandomBytes(200000, 1));
    WriteFile(dir_.Join("b"), RandomBytes(100000, 2));
    ASSERT_TRUE(GenerateKeyFiles(dir_.Join("alice"), false).ok());
    ASSERT_TRUE(GenerateKeyFiles(dir_.Join("bob"), false).ok());
  }

  CorpusInfo Build(const std::string& name, const std::string& input,
                   std::vector<std::string> sign_keys = {}) {
    CorpusBuildOptions options;
    options.chunking = testing::TestParams();
    options.sign_keys = std::move(sign_keys);
    auto info = BuildCorpus({dir_.Join(input)}, dir_.Join(name), options);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : CorpusInfo{};
  }

  SecretKey Secret(const std::string& name) {
    return std::move(ReadSecretKeyFile(dir_.Join(name))).value();
  }
  PublicKey Public(const std::string& name) { return *ReadPublicKeyFile(dir_.Join(name + ".pub")); }

  std::vector<SignatureCheck> Checks(const std::string& corpus,
                                     const std::vector<PublicKey>& trusted = {}) {
    auto info = ReadCorpusInfo(dir_.Join(corpus));
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    if (!info.ok()) return {};
    auto checks = CheckCorpusSignatures(*info, trusted);
    EXPECT_TRUE(checks.ok()) << checks.status().ToString();
    return checks.ok() ? *checks : std::vector<SignatureCheck>{};
  }

  // True when the corpus has a valid signature (or its manifest no longer reads).
  bool HasValidSignature(const std::string& corpus) {
    auto info = ReadCorpusInfo(dir_.Join(corpus));
    if (!info.ok()) return false;
    auto checks = CheckCorpusSignatures(*info, {});
    if (!checks.ok()) return false;
    for (const auto& c : *checks) {
      if (c.valid) return true;
    }
    return false;
  }

  ScratchDir dir_;
};

TEST_F(CorpusSignatureTest, SignThenCheckRoundTrips) {
  CorpusInfo info = Build("corpus", "a");
  EXPECT_TRUE(Checks("corpus").empty());
  auto path = SignCorpus(info.path, Secret("alice"));
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, info.path + "/signatures/" + Public("alice").id() + ".sig");
  auto checks = Checks("corpus", {Public("alice")});
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_TRUE(checks[0].valid) << checks[0].problem.ToString();
  EXPECT_TRUE(checks[0].trusted);
  EXPECT_EQ(checks[0].key_id, Public("alice").id());
  EXPECT_EQ(checks[0].file, *path);
  EXPECT_TRUE(VerifyCorpus(info.path).ok());
}

TEST_F(CorpusSignatureTest, SigningChangesNothingButItsSignatureFile) {
  CorpusInfo info = Build("corpus", "a");
  auto before = SnapshotTree(info.path);
  ASSERT_TRUE(SignCorpus(info.path, Secret("alice")).ok());
  auto after = SnapshotTree(info.path);
  for (const auto& [name, desc] : before) EXPECT_EQ(after[name], desc) << name;
  EXPECT_EQ(after.size(), before.size() + 2);  // signatures/ and the .sig.
  EXPECT_EQ(ListNames(info.path + "/signatures"),
            std::set<std::string>{Public("alice").id() + ".sig"});
  EXPECT_TRUE(DigestEqual(ReadCorpusInfo(info.path)->manifest_digest, info.manifest_digest));
}

TEST_F(CorpusSignatureTest, SignatureFileFormat) {
  CorpusInfo info = Build("corpus", "a");
  auto path = SignCorpus(info.path, Secret("alice"));
  ASSERT_TRUE(path.ok());
  auto values =
      ParseRecord(AsText(ReadFile(*path)), "reducto-corpus-signature v1",
                  {"key-id", "public-key", "corpus-id", "manifest-blake3", "signature"}, *path);
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ((*values)[0], Public("alice").id());
  EXPECT_EQ((*values)[1], ToBase64(Public("alice").bytes()));
  EXPECT_EQ((*values)[2], info.id);
  EXPECT_EQ((*values)[3], ToHex(info.manifest_digest));
}

TEST_F(CorpusSignatureTest, BuildWithSignKeysPublishesASignedCorpus) {
  CorpusInfo info =
      Build("corpus", "a", {dir_.Join("alice"), dir_.Join("bob"), dir_.Join("alice")});
  auto checks = Checks("corpus", {Public("bob")});
  ASSERT_EQ(checks.size(), 2u);
  for (const auto& c : checks) EXPECT_TRUE(c.valid) << c.problem.ToString();
  EXPECT_LT(checks[0].file, checks[1].file);
  EXPECT_TRUE(CheckCorpusTrust(info, {Public("bob")}).ok());
  EXPECT_TRUE(CheckCorpusTrust(info, {Public("alice"), Public("bob")}).ok());
}

TEST_F(CorpusSignatureTest, BuildWithABadKeyBuildsNothing) {
  CorpusBuildOptions options;
  options.chunking = testing::TestParams();
  options.sign_keys = {dir_.Join("alice.pub")};
  auto built = BuildCorpus({dir_.Join("a")}, dir_.Join("corpus"), options);
  EXPECT_EQ(built.status().code(), StatusCode::kInvalidArgument);
  options.sign_keys = {dir_.Join("nobody")};
  EXPECT_EQ(BuildCorpus({dir_.Join("a")}, dir_.Join("corpus"), options).status().code(),
            StatusCode::kNotFound);
  for (const auto& name : ListNames(dir_.path()))
    EXPECT_EQ(name.find("corpus"), std::string::npos) << name;
}

TEST_F(CorpusSignatureTest, SeveralSignersAreIndependent) {
  CorpusInfo info = Build("corpus", "a");
  ASSERT_TRUE(SignCorpus(info.path, Secret("alice")).ok());
  auto alice_sig = ReadFile(info.path + "/signatures/" + Public("alice").id() + ".sig");
  ASSERT_TRUE(SignCorpus(info.path, Secret("bob")).ok());
  ASSERT_TRUE(SignCorpus(info.path, Secret("bob")).ok());  // Again: replaces its own.
  EXPECT_EQ(ReadFile(info.path + "/signatures/" + Public("alice").id() + ".sig"), alice_sig);
  auto checks = Checks("corpus", {Public("alice")});
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_TRUE(checks[0].valid && checks[1].valid);
  EXPECT_EQ(checks[0].trusted + checks[1].trusted, 1);
}

TEST_F(CorpusSignatureTest, TrustPolicy) {
  CorpusInfo info = Build("corpus", "a");
  EXPECT_TRUE(CheckCorpusTrust(info, {}).ok());
  Status unsigned_corpus = CheckCorpusTrust(info, {Public("alice")});
  EXPECT_EQ(unsigned_corpus.code(), StatusCode::kPermission);
  EXPECT_NE(unsigned_corpus.message().find("no signatures"), std::string::npos);
  EXPECT_NE(unsigned_corpus.message().find("--trusted-key"), std::string::npos);
  ASSERT_TRUE(SignCorpus(info.path, Secret("bob")).ok());
  Status untrusted = CheckCorpusTrust(info, {Public("alice")});
  EXPECT_EQ(untrusted.code(), StatusCode::kPermission);
  EXPECT_NE(untrusted.message().find(Public("bob").id() + " (valid, not trusted)"),
            std::string::npos);
  EXPECT_TRUE(CheckCorpusTrust(info, {Public("alice"), Public("bob")}).ok());
}

TEST_F(CorpusSignatureTest, ASignatureCopiedToAnotherCorpusIsRejected) {
  CorpusInfo a = Build("corpus-a", "a", {dir_.Join("alice")});
  CorpusInfo b = Build("corpus-b", "b");
  std::string name = "/signatures/" + Public("alice").id() + ".sig";
  fs::create_directory(b.path + "/signatures");
  fs::copy_file(a.path + name, b.path + name);
  auto checks = Checks("corpus-b", {Public("alice")});
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_FALSE(checks[0].valid);
  EXPECT_NE(checks[0].problem.message().find("another corpus"), std::string::npos);
  EXPECT_EQ(CheckCorpusTrust(b, {Public("alice")}).code(), StatusCode::kPermission);
}

TEST_F(CorpusSignatureTest, ASignatureUnderAnotherKeysNameIsRejected) {
  CorpusInfo info = Build("corpus", "a", {dir_.Join("alice")});
  std::string dir = info.path + "/signatures/";
  fs::rename(dir + Public("alice").id() + ".sig", dir + Public("bob").id() + ".sig");
  auto checks = Checks("corpus");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_FALSE(checks[0].valid);
}

TEST_F(CorpusSignatureTest, OtherFilesInTheSignaturesDirectoryAreIgnored) {
  CorpusInfo info = Build("corpus", "a", {dir_.Join("alice")});
  WriteFile(info.path + "/signatures/README", AsBytes("notes\n"));
  WriteFile(info.path + "/signatures/x.sig.tmp-1", AsBytes("partial"));
  fs::create_directory(info.path + "/signatures/d.sig");
  auto checks = Checks("corpus");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_TRUE(checks[0].valid);
}

TEST_F(CorpusSignatureTest, SignRefusesADamagedCorpus) {
  CorpusInfo info = Build("corpus", "a");
  auto pack = ReadFile(info.path + "/pack/000000.seg");
  pack[1000] ^= 1;
  WriteFile(info.path + "/pack/000000.seg", pack);
  auto signed_path = SignCorpus(info.path, Secret("alice"));
  EXPECT_EQ(signed_path.status().code(), StatusCode::kIntegrity);
  EXPECT_FALSE(fs::exists(info.path + "/signatures"));
}

TEST_F(CorpusSignatureTest, ListCorporaFindsTheCorporaInAStore) {
  fs::create_directories(dir_.Join("store"));
  Build("store/one", "a");
  Build("store/two", "b");
  fs::create_directories(dir_.Join("store/not-a-corpus"));
  fs::create_directories(dir_.Join("store/three.tmp-1234"));
  WriteFile(dir_.Join("store/three.tmp-1234/manifest.json"), AsBytes("{}"));
  WriteFile(dir_.Join("store/file"), AsBytes("x"));
  auto list = ListCorpora(dir_.Join("store"));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(*list, (std::vector<std::string>{dir_.Join("store/one"), dir_.Join("store/two")}));
  EXPECT_EQ(ListCorpora(dir_.Join("nowhere")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ListCorpora(dir_.Join("store/file")).status().code(), StatusCode::kNotFound);
}

// ---- properties: any single-bit change is refused ----

void FlipBit(std::vector<uint8_t>* bytes) {
  size_t pos = *rc::gen::inRange<size_t>(0, bytes->size());
  (*bytes)[pos] ^= static_cast<uint8_t>(1u << *rc::gen::inRange(0, 8));
}

// One signed corpus, built once for all the property runs.
class SignedCorpus {
 public:
  static SignedCorpus& Get() {
    static SignedCorpus corpus;
    return corpus;
  }
  std::string path() const { return dir_.Join("corpus"); }
  std::string manifest() const { return path() + "/manifest.json"; }
  std::string signature() const { return path() + "/signatures/" + key_id_ + ".sig"; }
  const std::vector<uint8_t>& manifest_bytes() const { return manifest_; }
  const std::vector<uint8_t>& signature_bytes() const { return signature_; }
  bool Valid() {
    auto info = ReadCorpusInfo(path());
    if (!info.ok()) return false;
    auto checks = CheckCorpusSignatures(*info, {});
    return checks.ok() && checks->size() == 1 && (*checks)[0].valid;
  }
  void Restore() {
    WriteFile(manifest(), manifest_);
    WriteFile(signature(), signature_);
  }

 private:
  SignedCorpus() {
    WriteFile(dir_.Join("input"), RandomBytes(50000, 3));
    auto key = GenerateKeyFiles(dir_.Join("key"), false);
    key_id_ = key->key_id;
    CorpusBuildOptions options;
    options.chunking = testing::TestParams();
    options.sign_keys = {dir_.Join("key")};
    auto info = BuildCorpus({dir_.Join("input")}, path(), options);
    manifest_ = ReadFile(manifest());
    signature_ = ReadFile(signature());
  }
  ScratchDir dir_;
  std::string key_id_;
  std::vector<uint8_t> manifest_, signature_;
};

RC_GTEST_PROP(CorpusSignatureProperty, AnyBitFlipOfTheManifestIsRejected, ()) {
  SignedCorpus& corpus = SignedCorpus::Get();
  corpus.Restore();
  RC_ASSERT(corpus.Valid());
  std::vector<uint8_t> manifest = corpus.manifest_bytes();
  FlipBit(&manifest);
  WriteFile(corpus.manifest(), manifest);
  RC_ASSERT_FALSE(corpus.Valid());
}

RC_GTEST_PROP(CorpusSignatureProperty, AnyBitFlipOfTheSignatureFileIsRejected, ()) {
  SignedCorpus& corpus = SignedCorpus::Get();
  corpus.Restore();
  std::vector<uint8_t> signature = corpus.signature_bytes();
  FlipBit(&signature);
  WriteFile(corpus.signature(), signature);
  RC_ASSERT_FALSE(corpus.Valid());
}

// Flips a bit of a decoded base64 field and writes it back well-formed, so that the
// signature check itself (not the parser) must refuse it.
RC_GTEST_PROP(CorpusSignatureProperty, AnyBitFlipOfTheSignedBytesOrKeyIsRejected, ()) {
  SignedCorpus& corpus = SignedCorpus::Get();
  corpus.Restore();
  std::string text = AsText(corpus.signature_bytes());
  bool key = *rc::gen::arbitrary<bool>();
  std::string field = key ? "\npublic-key " : "\nsignature ";
  size_t start = text.find(field) + field.size(), end = text.find('\n', start);
  auto decoded = FromBase64(text.substr(start, end - start), key ? 32 : 64);
  RC_ASSERT(decoded.ok());
  FlipBit(&decoded.value());
  text.replace(start, end - start, ToBase64(*decoded));
  WriteFile(corpus.signature(), AsBytes(text));
  RC_ASSERT_FALSE(corpus.Valid());
}

}  // namespace
}  // namespace reducto
