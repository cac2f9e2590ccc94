// Encrypted corpora: nothing of the inputs is readable in the corpus directory, the
// right key reads exactly what a plain corpus holds, wrong or missing keys are refused
// by name, every kind of damage is detected, and deleting erases the key first.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "corpus/corpus_format.h"
#include "corpus/corpus_reader.h"
#include "corpus_test_util.h"
#include "crypto/corpus_keys.h"
#include "hashing/weak_key.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/encryption.h"
#include "reducto/retention.h"
#include "crypto/key_test_util.h"
#include "test_support.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;
using testing::CorpusModel;
using testing::KeyFileKey;
using testing::ModelCorpus;
using testing::RandomBytes;
using testing::ReadFile;
using testing::ScratchDir;
using testing::TestParams;
using testing::WriteFile;

// Input with repeats (so that dedup matters) and enough bytes for several pack chunks.
std::vector<uint8_t> Input() {
  std::vector<uint8_t> data = RandomBytes(300000, 7);
  std::vector<uint8_t> again(data.begin() + 1000, data.begin() + 90000);
  data.insert(data.end(), again.begin(), again.end());
  return data;
}

CorpusInfo Build(const ScratchDir& dir, const std::string& name, const std::string& input,
                 const EnvelopeKey* key) {
  CorpusBuildOptions options;
  options.chunking = TestParams();
  options.encrypt_key = key;
  auto info = BuildCorpus({input}, dir.Join(name), options);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return info.ok() ? *info : CorpusInfo();
}

bool Contains(const std::vector<uint8_t>& haystack, std::span<const uint8_t> needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

class EncryptedCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Join("input"), input_);
    key_ = KeyFileKey(dir_, "k");
    other_ = KeyFileKey(dir_, "other");
    plain_ = Build(dir_, "plain", dir_.Join("input"), nullptr);
    sealed_ = Build(dir_, "sealed", dir_.Join("input"), &key_);
  }

  Result<std::unique_ptr<CorpusReader>> Open(const EnvelopeKey* key, const std::string& name = "sealed") {
    CorpusReaderOptions options;
    options.key = key;
    return CorpusReader::Open(dir_.Join(name), options);
  }

  ScratchDir dir_;
  std::vector<uint8_t> input_ = Input();
  EnvelopeKey key_, other_;
  CorpusInfo plain_, sealed_;
};

TEST_F(EncryptedCorpusTest, NoInputBytesAreReadableOnDisk) {
  ASSERT_TRUE(sealed_.is_encrypted());
  EXPECT_FALSE(plain_.is_encrypted());
  // Every 64-byte window of the input would do; check one per 4 KiB.
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir_.Join("sealed"))) {
    if (!entry.is_regular_file() || entry.path().filename() == kManifestFileName) continue;
    std::vector<uint8_t> bytes = ReadFile(entry.path().string());
    ++files;
    for (size_t at = 0; at + 64 <= input_.size(); at += 4096) {
      ASSERT_FALSE(Contains(bytes, std::span(input_).subspan(at, 64)))
          << entry.path() << " holds input bytes at " << at;
    }
    if (entry.path().parent_path().filename() == kIndexDirName && !bytes.empty()) {
      EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "RDCIDXE1") << entry.path();
    }
  }
  EXPECT_GE(files, 4);  // data-key, the segment, the index's files.
  // The plain corpus does hold them (the check above can fail).
  EXPECT_TRUE(Contains(ReadFile(dir_.Join("plain/pack/000000.seg")), std::span(input_).first(64)));
}

TEST_F(EncryptedCorpusTest, TheKeyReadsWhatAPlainCorpusHolds) {
  EXPECT_EQ(sealed_.pack_bytes(), plain_.pack_bytes());
  EXPECT_EQ(sealed_.index_entries, plain_.index_entries);
  EXPECT_TRUE(DigestEqual(sealed_.index_digest, plain_.index_digest));
  EXPECT_TRUE(DigestEqual(sealed_.segments[0].blake3, plain_.segments[0].blake3));
  auto reader = Open(&key_);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  CorpusModel model = ModelCorpus(TestParams(), {input_});
  std::vector<uint8_t> scratch;
  auto all = (*reader)->Read(0, (*reader)->size(), &scratch);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(std::equal(all->begin(), all->end(), model.pack.begin(), model.pack.end()));
  for (const auto& chunk : model.chunks) {
    std::vector<ChunkCandidate> found;
    ASSERT_TRUE((*reader)->Lookup(WeakKey(chunk.bytes), &found).ok());
    EXPECT_TRUE(std::any_of(found.begin(), found.end(), [&](const ChunkCandidate& c) {
      return c.address == chunk.address && DigestEqual(c.digest, chunk.digest);
    }));
  }
  EXPECT_TRUE(VerifyCorpus(dir_.Join("sealed"), &key_).ok());
}

TEST_F(EncryptedCorpusTest, MissingOrWrongKeysAreRefusedByName) {
  const std::string id = key_.key->id();
  for (const EnvelopeKey* key : std::vector<const EnvelopeKey*>{nullptr, &other_}) {
    auto reader = Open(key);
    ASSERT_FALSE(reader.ok());
    EXPECT_EQ(reader.status().code(), StatusCode::kPermission);
    EXPECT_NE(reader.status().message().find("key " + id), std::string::npos)
        << reader.status().ToString();
    EXPECT_NE(reader.status().message().find("--corpus-key"), std::string::npos);
  }
  EnvelopeKey passphrase;
  passphrase.passphrase = "not a key file";
  auto reader = Open(&passphrase);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kPermission);
  EXPECT_EQ(VerifyCorpus(dir_.Join("sealed")).code(), StatusCode::kPermission);
}

TEST_F(EncryptedCorpusTest, APassphraseLocksACorpus) {
  EnvelopeKey passphrase;
  passphrase.passphrase = "correct horse battery staple";
  Build(dir_, "by-passphrase", dir_.Join("input"), &passphrase);
  EXPECT_TRUE(Open(&passphrase, "by-passphrase").ok());
  EnvelopeKey wrong;
  wrong.passphrase = "Correct horse battery staple";
  auto reader = Open(&wrong, "by-passphrase");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kIntegrity) << reader.status().ToString();
  EXPECT_EQ(Open(&key_, "by-passphrase").status().code(), StatusCode::kPermission);
}

// A flipped bit anywhere in the sealed pack (each chunk: its start, middle and tag) or
// in the wrapped key is refused; a flipped bit in the index is caught by verify.
TEST_F(EncryptedCorpusTest, EveryDamageIsDetected) {
  const std::string segment = dir_.Join("sealed/pack/000000.seg");
  const std::vector<uint8_t> original = ReadFile(segment);
  for (size_t at = 0; at < original.size(); at += (kPackChunkSize + kPackTagBytes) / 3) {
    std::vector<uint8_t> damaged = original;
    damaged[at] ^= 0x04;
    WriteFile(segment, damaged);
    auto reader = Open(&key_);
    ASSERT_FALSE(reader.ok()) << "flip at " << at;
    EXPECT_EQ(reader.status().code(), StatusCode::kIntegrity) << reader.status().ToString();
  }
  std::vector<uint8_t> short_by_one(original.begin(), original.end() - 1);
  WriteFile(segment, short_by_one);
  EXPECT_EQ(Open(&key_).status().code(), StatusCode::kCorrupt);
  WriteFile(segment, original);
  ASSERT_TRUE(Open(&key_).ok());

  const std::string key_file = dir_.Join("sealed/") + kDataKeyFileName;
  const std::vector<uint8_t> wrapped = ReadFile(key_file);
  for (size_t at = 0; at < wrapped.size(); ++at) {
    std::vector<uint8_t> damaged = wrapped;
    damaged[at] ^= 0x01;
    WriteFile(key_file, damaged);
    EXPECT_FALSE(Open(&key_).ok()) << "flip at " << at << " of the wrapped key";
  }
  WriteFile(key_file, wrapped);

  for (const auto& entry : fs::directory_iterator(dir_.Join("sealed/index"))) {
    if (entry.path().extension() != ".sst") continue;
    std::vector<uint8_t> sst = ReadFile(entry.path().string());
    sst[sst.size() / 2] ^= 0x10;
    WriteFile(entry.path().string(), sst);
  }
  EXPECT_FALSE(VerifyCorpus(dir_.Join("sealed"), &key_).ok());
}

TEST_F(EncryptedCorpusTest, CompressAndDecompressThroughTheKey) {
  std::vector<uint8_t> target(input_.begin() + 5000, input_.end());
  std::vector<uint8_t> fresh = RandomBytes(20000, 9);
  target.insert(target.begin() + 100000, fresh.begin(), fresh.end());
  auto encode = [&](const std::string& corpus, const EnvelopeKey* key, std::string* out) {
    auto in = MemorySource(target);
    auto sink = MemorySink(out);
    CompressOptions options;
    options.corpus_key = key;
    return Compress(dir_.Join(corpus), *in, *sink, options);
  };
  std::string plain_container, sealed_container;
  ASSERT_TRUE(encode("plain", nullptr, &plain_container).ok());
  auto stats = encode("sealed", &key_, &sealed_container);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(sealed_container.size(), plain_container.size());  // Same corpus bytes, same copies.
  EXPECT_EQ(encode("sealed", nullptr, &sealed_container).status().code(), StatusCode::kPermission);

  std::string decoded;
  auto in = MemorySource({reinterpret_cast<const uint8_t*>(sealed_container.data()),
                          sealed_container.size()});
  auto out = MemorySink(&decoded);
  DecompressOptions options;
  options.corpus_key = &key_;
  ASSERT_TRUE(Decompress(dir_.Join("sealed"), *in, *out, options).ok());
  EXPECT_EQ(decoded, std::string(target.begin(), target.end()));
}

TEST_F(EncryptedCorpusTest, DeleteErasesTheKeyFirst) {
  fs::copy(dir_.Join("sealed"), dir_.Join("copy"), fs::copy_options::recursive);
  auto report = DeleteCorpus(dir_.Join("sealed"), CorpusDeleteOptions());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->crypto_shredded);
  EXPECT_FALSE(fs::exists(dir_.Join("sealed")));
  auto plain_report = DeleteCorpus(dir_.Join("plain"), CorpusDeleteOptions());
  ASSERT_TRUE(plain_report.ok());
  EXPECT_FALSE(plain_report->crypto_shredded);
  // What survives of a shredded corpus without its key never opens, whatever the key.
  fs::remove(dir_.Join("copy/") + kDataKeyFileName);
  auto reader = Open(&key_, "copy");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);
  EXPECT_NE(reader.status().message().find("crypto-shredded"), std::string::npos);
}

TEST_F(EncryptedCorpusTest, VersionsAndPruningRefuseEncryptedCorpora) {
  auto update = UpdateCorpus(dir_.Join("sealed"), {dir_.Join("input")}, dir_.Join("v2"),
                             CorpusUpdateOptions());
  ASSERT_FALSE(update.ok());
  EXPECT_EQ(update.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(update.status().message().find("encrypted"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_.Join("v2")));
}

}  // namespace
}  // namespace reducto
