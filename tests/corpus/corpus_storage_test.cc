// A corpus whose manifest, pack and fine index come from a MemoryStorage (copied there
// from a built corpus) reads, compresses and decompresses exactly as from its
// directory: with views (as a local directory gives) and without (as HTTP would), and
// for a version whose parent is found through the storage too.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "codec/decoder.h"
#include "codec/encoder.h"
#include "corpus/corpus_reader.h"
#include "corpus/corpus_test_util.h"
#include "corpus/fine_index.h"
#include "corpus/manifest.h"
#include "hashing/weak_key.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/io.h"
#include "storage/memory_storage.h"
#include "test_support.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;

// Every file of the corpus directory `dir` but its RocksDB index, in a new storage.
std::shared_ptr<MemoryStorage> CopyToMemory(const std::string& dir, MemoryStorage::Views views) {
  auto storage = std::make_shared<MemoryStorage>(fs::path(dir).filename().string(), views);
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string name = fs::relative(entry.path(), dir).generic_string();
    if (name.starts_with("index/")) continue;
    EXPECT_TRUE(storage->Publish(name, testing::ReadFile(entry.path().string())).ok());
  }
  return storage;
}

std::string Compress(const CorpusReader& corpus, const std::vector<uint8_t>& target) {
  auto in = MemorySource(target);
  std::string out;
  auto sink = MemorySink(&out);
  CompressOptions options;
  options.threads = 1;
  auto stats = EncodeContainer(&corpus, *in, *sink, options);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(sink->Commit().ok());
  return out;
}

std::string Decompress(const CorpusReader& corpus, const std::string& container) {
  auto in = MemorySource({reinterpret_cast<const uint8_t*>(container.data()), container.size()});
  std::string out;
  auto sink = MemorySink(&out);
  auto stats = DecodeContainer(*in, *sink, [&](const ContainerHeader&) -> Result<const CorpusReader*> {
    return &corpus;
  });
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(sink->Commit().ok());
  return out;
}

// Looks up every chunk of `data` in both readers: the same candidates.
void ExpectSameLookups(const CorpusReader& a, const CorpusReader& b, const std::vector<uint8_t>& data) {
  for (const auto& chunk : testing::ChunkAll(a.info().chunking, data)) {
    std::vector<ChunkCandidate> from_a, from_b;
    ASSERT_TRUE(a.Lookup(WeakKey(chunk), &from_a).ok());
    ASSERT_TRUE(b.Lookup(WeakKey(chunk), &from_b).ok());
    ASSERT_EQ(from_a.size(), from_b.size());
    for (size_t i = 0; i < from_a.size(); ++i) {
      EXPECT_EQ(from_a[i].address, from_b[i].address);
      EXPECT_EQ(from_a[i].length, from_b[i].length);
      EXPECT_TRUE(DigestEqual(from_a[i].digest, from_b[i].digest));
    }
  }
}

class CorpusStorageTest : public ::testing::TestWithParam<MemoryStorage::Views> {
 protected:
  void SetUp() override {
    reference_ = testing::RandomBytes(3u << 20, 11);
    target_ = reference_;
    for (size_t at = 1000; at < target_.size(); at += 150000) target_[at] ^= 0x5a;  // Edits.
    testing::WriteFile(dir_.Join("ref"), reference_);
    CorpusBuildOptions build;
    build.chunking = ChunkerParams::ForAverage(8192);
    fs::create_directory(dir_.Join("store"));
    auto built = BuildCorpus({dir_.Join("ref")}, dir_.Join("store/v1"), build);
    ASSERT_TRUE(built.ok()) << built.status().ToString();
  }

  testing::ScratchDir dir_;
  std::vector<uint8_t> reference_, target_;
};

TEST_P(CorpusStorageTest, ReadsAndCodesAsFromTheDirectory) {
  auto local = CorpusReader::Open(dir_.Join("store/v1"));
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  auto storage = CopyToMemory(dir_.Join("store/v1"), GetParam());
  auto memory = CorpusReader::Open(storage, dir_.Join("store/v1/index"));
  ASSERT_TRUE(memory.ok()) << memory.status().ToString();

  EXPECT_EQ((*memory)->info().id, (*local)->info().id);
  EXPECT_TRUE(DigestEqual((*memory)->info().manifest_digest, (*local)->info().manifest_digest));
  EXPECT_EQ((*memory)->info().path, "memory:v1");
  EXPECT_EQ((*memory)->size(), (*local)->size());
  ASSERT_EQ((*memory)->fine_indexes().size(), 1u);
  EXPECT_TRUE(std::ranges::equal((*memory)->fine_indexes()[0].index->bytes(),
                                 (*local)->fine_indexes()[0].index->bytes()));
  ExpectSameLookups(**local, **memory, reference_);
  std::vector<uint8_t> scratch_a, scratch_b;
  const uint64_t size = (*local)->size();
  for (uint64_t at : {uint64_t{0}, uint64_t{12345}, size - 100}) {
    auto a = (*local)->Read(at, 100, &scratch_a);
    auto b = (*memory)->Read(at, 100, &scratch_b);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(std::ranges::equal(*a, *b));
  }
  EXPECT_EQ((*memory)->Read(size - 10, 11, &scratch_b).status().code(), StatusCode::kIntegrity);
  if (GetParam() == MemoryStorage::Views::kWithheld) {
    EXPECT_GE(storage->bytes_read(), size);  // Read through ranged reads.
  } else {
    EXPECT_LT(storage->bytes_read(), size);  // The manifest only: the rest is viewed.
  }

  const std::string container = Compress(**local, target_);
  EXPECT_EQ(Compress(**memory, target_), container);
  const std::string restored = Decompress(**memory, container);
  EXPECT_EQ(std::vector<uint8_t>(restored.begin(), restored.end()), target_);
}

TEST_P(CorpusStorageTest, AVersionFindsItsParentThroughTheStorage) {
  std::vector<uint8_t> more = testing::RandomBytes(1u << 20, 12);
  testing::WriteFile(dir_.Join("more"), more);
  ASSERT_TRUE(UpdateCorpus(dir_.Join("store/v1"), {dir_.Join("ref"), dir_.Join("more")},
                           dir_.Join("store/v2"), {})
                  .ok());
  auto local = CorpusReader::Open(dir_.Join("store/v2"));
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  std::shared_ptr<const Storage> v1 = CopyToMemory(dir_.Join("store/v1"), GetParam());
  std::shared_ptr<const Storage> v2 = CopyToMemory(dir_.Join("store/v2"), GetParam());

  // Without a way to find the parent, a version does not open.
  auto alone = CorpusReader::Open(v2, dir_.Join("store/v2/index"));
  EXPECT_EQ(alone.status().code(), StatusCode::kNotFound);

  int asked = 0;
  ParentFinder find = [&](const CorpusInfo& child) -> Result<CorpusSource> {
    ++asked;
    EXPECT_EQ(*child.parent_id, (*local)->info().parent_id.value());
    return CorpusSource{v1, dir_.Join("store/v1/index")};
  };
  auto memory = CorpusReader::Open(v2, dir_.Join("store/v2/index"), {}, find);
  ASSERT_TRUE(memory.ok()) << memory.status().ToString();
  EXPECT_EQ(asked, 1);
  EXPECT_EQ((*memory)->size(), (*local)->size());
  std::vector<uint8_t> target = target_;
  target.insert(target.end(), more.begin(), more.end());
  ExpectSameLookups(**local, **memory, target);
  const std::string container = Compress(**local, target);
  EXPECT_EQ(Compress(**memory, target), container);
  const std::string restored = Decompress(**memory, container);
  EXPECT_EQ(std::vector<uint8_t>(restored.begin(), restored.end()), target);

  // A parent with another manifest is refused.
  ParentFinder wrong = [&](const CorpusInfo&) -> Result<CorpusSource> {
    return CorpusSource{v2, dir_.Join("store/v2/index")};
  };
  EXPECT_EQ(CorpusReader::Open(v2, dir_.Join("store/v2/index"), {}, wrong).status().code(),
            StatusCode::kIntegrity);
}

TEST_P(CorpusStorageTest, MissingOrDamagedFilesAreReported) {
  auto storage = CopyToMemory(dir_.Join("store/v1"), GetParam());
  auto info = ReadCorpusInfo(*storage);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  // A segment of the wrong size is Corrupt, as in a directory.
  auto truncated = std::make_shared<MemoryStorage>("truncated", GetParam());
  for (const std::string& name : {std::string("manifest.json"), info->segments[0].fine->file}) {
    ASSERT_TRUE(truncated->Publish(name, testing::ReadFile(dir_.Join("store/v1/" + name))).ok());
  }
  ASSERT_TRUE(truncated->Publish(info->segments[0].file, std::vector<uint8_t>(10)).ok());
  auto opened = CorpusReader::Open(truncated, dir_.Join("store/v1/index"));
  EXPECT_EQ(opened.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(opened.status().message().find("memory:truncated/pack/000000.seg"), std::string::npos)
      << opened.status().message();
  // No manifest: not a corpus.
  auto empty = std::make_shared<MemoryStorage>("empty", GetParam());
  EXPECT_EQ(CorpusReader::Open(empty, dir_.Join("store/v1/index")).status().code(),
            StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Views, CorpusStorageTest,
                         ::testing::Values(MemoryStorage::Views::kGiven,
                                           MemoryStorage::Views::kWithheld),
                         [](const auto& param_info) {
                           return param_info.param == MemoryStorage::Views::kGiven ? "Given"
                                                                                   : "Withheld";
                         });

}  // namespace
}  // namespace reducto
