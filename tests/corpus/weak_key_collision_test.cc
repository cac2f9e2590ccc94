// Weak-key collisions made common. This binary links the library variant whose WeakKey
// keeps only 4 bits (tests/CMakeLists.txt, reducto_collision_tests), so each of the 16
// keys names dozens of chunks and only the BLAKE3 comparison tells them apart. Anything
// that trusted the weak key alone would pick wrong chunks here.
//
// To add a test (e.g. a codec round trip), use the CollisionCorpus fixture: corpus_dir()
// is a corpus built from inputs() with TestParams(), and model() says what it holds.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "corpus/corpus_reader.h"
#include "corpus/corpus_test_util.h"
#include "hashing/weak_key.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/io.h"
#include "test_support.h"

namespace reducto {
namespace {

static_assert(kWeakKeyBits == 4, "this test must be built with REDUCTO_WEAK_KEY_BITS=4");
constexpr uint64_t kKeyCount = uint64_t{1} << kWeakKeyBits;

using testing::CorpusModel;
using testing::RandomBytes;

class CollisionCorpus : public ::testing::Test {
 protected:
  // One corpus for the whole suite: ~1000 chunks of 2-8 KiB over 16 keys, with
  // repeated content so that deduplication must see through the collisions.
  static void SetUpTestSuite() {
    scratch_ = std::make_unique<testing::ScratchDir>();
    auto a = RandomBytes(3 << 20, 41);
    auto b = RandomBytes(1 << 20, 42);
    std::vector<uint8_t> c(a.begin() + (1 << 20), a.end());  // The tail of `a` again...
    c.insert(c.end(), b.begin(), b.begin() + (256 << 10));   // ...then part of `b`.
    inputs_ = {a, b, c};
    std::vector<std::string> paths;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      paths.push_back(scratch_->Join("input" + std::to_string(i)));
      testing::WriteFile(paths.back(), inputs_[i]);
    }
    CorpusBuildOptions options;
    options.chunking = testing::TestParams();
    auto info = BuildCorpus(paths, corpus_dir(), options);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    model_ = testing::ModelCorpus(options.chunking, inputs_);
  }
  static void TearDownTestSuite() { scratch_.reset(); }

  static std::string corpus_dir() { return scratch_->Join("corpus"); }
  static const std::vector<std::vector<uint8_t>>& inputs() { return inputs_; }
  static const CorpusModel& model() { return model_; }

  static std::unique_ptr<CorpusReader> OpenReader() {
    auto reader = CorpusReader::Open(corpus_dir());
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    return reader.ok() ? std::move(reader).value() : nullptr;
  }

  // What the encoder does: the candidates whose BLAKE3 equals the target chunk's.
  static std::vector<ChunkCandidate> Verified(const std::vector<ChunkCandidate>& candidates,
                                              const Digest& digest) {
    std::vector<ChunkCandidate> out;
    for (const ChunkCandidate& c : candidates) {
      if (DigestEqual(c.digest, digest)) out.push_back(c);
    }
    return out;
  }

  static inline std::unique_ptr<testing::ScratchDir> scratch_;
  static inline std::vector<std::vector<uint8_t>> inputs_;
  static inline CorpusModel model_;
};

TEST_F(CollisionCorpus, KeysReallyCollide) {
  ASSERT_EQ(kWeakKeyBits, 4);
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  uint64_t total = 0;
  for (uint64_t key = 0; key < kKeyCount; ++key) {
    std::vector<ChunkCandidate> candidates;
    ASSERT_TRUE(reader->Lookup(key, &candidates).ok());
    EXPECT_GE(candidates.size(), 10u) << "key " << key;
    total += candidates.size();
  }
  EXPECT_EQ(total, model().unique_chunks);  // Every stored chunk under exactly one key.
  std::vector<ChunkCandidate> none;
  ASSERT_TRUE(reader->Lookup(kKeyCount, &none).ok());
  EXPECT_TRUE(none.empty());
}

TEST_F(CollisionCorpus, BuildDeduplicatesDespiteCollisions) {
  auto info = ReadCorpusInfo(corpus_dir());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->chunk_count, model().chunks.size());
  EXPECT_EQ(info->unique_chunks, model().unique_chunks);
  EXPECT_LT(info->unique_chunks, info->chunk_count);
  EXPECT_EQ(testing::ReadFile(corpus_dir() + "/pack/000000.seg"), model().pack);
  EXPECT_TRUE(VerifyCorpus(corpus_dir()).ok());
}

TEST_F(CollisionCorpus, DigestPicksExactlyTheRightChunk) {
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  std::vector<uint8_t> scratch;
  for (const testing::ModelChunk& chunk : model().chunks) {
    std::vector<ChunkCandidate> candidates;
    ASSERT_TRUE(reader->Lookup(WeakKey(chunk.bytes), &candidates).ok());
    EXPECT_GT(candidates.size(), 1u);
    auto verified = Verified(candidates, chunk.digest);
    ASSERT_EQ(verified.size(), 1u);
    EXPECT_EQ(verified[0].address, chunk.address);
    EXPECT_EQ(verified[0].length, chunk.bytes.size());
    for (const ChunkCandidate& c : candidates) {
      auto bytes = reader->Read(c.address, c.length, &scratch);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      bool same = std::equal(bytes->begin(), bytes->end(), chunk.bytes.begin(), chunk.bytes.end());
      // Accepted exactly when the bytes are the same: no false match, no missed one.
      EXPECT_EQ(same, DigestEqual(c.digest, chunk.digest)) << "candidate at " << c.address;
    }
  }
}

TEST_F(CollisionCorpus, ForeignChunksAreNeverAccepted) {
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  auto foreign = testing::ChunkAll(testing::TestParams(), RandomBytes(512 << 10, 43));
  ASSERT_GT(foreign.size(), 50u);
  for (const auto& bytes : foreign) {
    std::vector<ChunkCandidate> candidates;
    ASSERT_TRUE(reader->Lookup(WeakKey(bytes), &candidates).ok());
    EXPECT_FALSE(candidates.empty());  // The weak key always "matches" something...
    EXPECT_TRUE(Verified(candidates, Blake3(bytes)).empty());  // ...BLAKE3 never does.
  }
}

// The whole codec over a corpus where every weak key names dozens of chunks: the
// encoder must copy only BLAKE3-verified chunks, so the round trip is exact.
TEST_F(CollisionCorpus, CodecRoundTripIsExact) {
  std::vector<uint8_t> target(inputs()[0].begin() + 100000, inputs()[0].begin() + 900000);
  auto fresh = RandomBytes(200 << 10, 44);  // Chunks that collide but never verify.
  target.insert(target.begin() + 300000, fresh.begin(), fresh.end());
  target.insert(target.end(), inputs()[1].begin(), inputs()[1].begin() + 400000);

  std::string container, output;
  auto source = MemorySource(target);
  auto sink = MemorySink(&container);
  CompressOptions options;
  options.fallback_to_standalone = false;
  auto stats = Compress(corpus_dir(), *source, *sink, options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_GT(stats->copy_bytes, target.size() * 6 / 10);
  EXPECT_GE(stats->literal_bytes, fresh.size());

  auto container_source = MemorySource(
      std::span(reinterpret_cast<const uint8_t*>(container.data()), container.size()));
  auto output_sink = MemorySink(&output);
  auto decoded = Decompress(corpus_dir(), *container_source, *output_sink);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(output == std::string(target.begin(), target.end()));
}

}  // namespace
}  // namespace reducto
