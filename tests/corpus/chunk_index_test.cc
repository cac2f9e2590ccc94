#include "corpus/chunk_index.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <vector>

#include "corpus/corpus_test_util.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::ScratchDir;

ChunkCandidate MakeChunk(uint64_t address, uint32_t length, uint8_t fill) {
  ChunkCandidate c;
  c.address = address;
  c.length = length;
  c.digest.fill(fill);
  return c;
}

TEST(ChunkIndexTest, KeysAndValuesHaveTheFrozenLayout) {
  std::string key = EncodeIndexKey(0x0102030405060708ULL, 0x1112131415161718ULL);
  EXPECT_EQ(key,
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x11\x12\x13\x14\x15\x16\x17\x18", 16));
  Digest d;
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i);
  std::string value = EncodeIndexValue(d, 0x0a0b0c0d);
  ASSERT_EQ(value.size(), kIndexValueSize);
  EXPECT_EQ(value.substr(0, 32), std::string(d.begin(), d.end()));
  EXPECT_EQ(value.substr(32), std::string("\x0d\x0c\x0b\x0a", 4));
  // Big-endian keys sort like the numbers they hold.
  EXPECT_LT(EncodeIndexKey(1, 0xff00), EncodeIndexKey(1, 0x10000));
  EXPECT_LT(EncodeIndexKey(0xff, ~uint64_t{0}), EncodeIndexKey(0x100, 0));
}

TEST(ChunkIndexTest, WriterSeesItsOwnEntriesAndKeepsCollisionsApart) {
  ScratchDir dir;
  auto writer = ChunkIndexWriter::Create(dir.Join("index"));
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::vector<ChunkCandidate> found;
  ASSERT_TRUE((*writer)->Lookup(7, &found).ok());
  EXPECT_TRUE(found.empty());
  ASSERT_TRUE((*writer)->Add(7, MakeChunk(5000, 10, 0xaa)).ok());
  ASSERT_TRUE((*writer)->Add(8, MakeChunk(100, 20, 0xbb)).ok());
  ASSERT_TRUE((*writer)->Add(7, MakeChunk(300, 30, 0xcc)).ok());
  ASSERT_TRUE((*writer)->Add(6, MakeChunk(1, 40, 0xdd)).ok());
  ASSERT_TRUE((*writer)->Lookup(7, &found).ok());
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].address, 300u);  // Address order.
  EXPECT_EQ(found[0].length, 30u);
  EXPECT_EQ(found[0].digest[0], 0xcc);
  EXPECT_EQ(found[1].address, 5000u);
  auto summary = (*writer)->Finish();
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->entries, 4u);

  auto reader = ChunkIndexReader::Open(dir.Join("index"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  found.clear();
  ASSERT_TRUE((*reader)->Lookup(7, &found).ok());
  EXPECT_EQ(found.size(), 2u);
  std::vector<uint64_t> keys;
  auto scanned = (*reader)->Scan([&](uint64_t weak_key, const ChunkCandidate&) {
    keys.push_back(weak_key);
    return Status::Ok();
  });
  ASSERT_TRUE(scanned.ok());
  EXPECT_EQ(keys, (std::vector<uint64_t>{6, 7, 7, 8}));
  EXPECT_TRUE(DigestEqual(scanned->digest, summary->digest));
}

TEST(ChunkIndexTest, DigestDependsOnEveryEntry) {
  ScratchDir dir;
  std::vector<Digest> digests;
  for (int variant = 0; variant < 3; ++variant) {
    std::string path = dir.Join("index" + std::to_string(variant));
    auto writer = ChunkIndexWriter::Create(path);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Add(1, MakeChunk(0, 10, 1)).ok());
    ASSERT_TRUE((*writer)->Add(2, MakeChunk(10, variant == 1 ? 11 : 10, 2)).ok());
    if (variant == 2) {
      ASSERT_TRUE((*writer)->Add(3, MakeChunk(20, 1, 3)).ok());
    }
    auto summary = (*writer)->Finish();
    ASSERT_TRUE(summary.ok());
    digests.push_back(summary->digest);
  }
  EXPECT_FALSE(DigestEqual(digests[0], digests[1]));
  EXPECT_FALSE(DigestEqual(digests[0], digests[2]));
}

TEST(ChunkIndexTest, MalformedEntryIsCorrupt) {
  ScratchDir dir;
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.Join("index"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), EncodeIndexKey(9, 0), "short").ok());
    ASSERT_TRUE(db->Close().ok());
  }
  auto reader = ChunkIndexReader::Open(dir.Join("index"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<ChunkCandidate> found;
  Status s = (*reader)->Lookup(9, &found);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt) << s.ToString();
  EXPECT_NE(s.message().find("rebuild or re-fetch"), std::string::npos);
  EXPECT_EQ((*reader)->Scan(nullptr).status().code(), StatusCode::kCorrupt);
}

TEST(ChunkIndexTest, ReaderRefusesWhatIsNotAnIndex) {
  ScratchDir dir;
  auto missing = ChunkIndexReader::Open(dir.Join("none"));
  EXPECT_EQ(missing.status().code(), StatusCode::kCorrupt);
  auto empty = ChunkIndexReader::Open(dir.path());
  EXPECT_EQ(empty.status().code(), StatusCode::kCorrupt);
  EXPECT_TRUE(testing::ListNames(dir.path()).empty());
}

}  // namespace
}  // namespace reducto
