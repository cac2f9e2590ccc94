// ChunkTally: counting that spills into RocksDB gives the same counts and the same
// greedy choice as counting in memory.
#include "corpus_build/chunk_tally.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <utility>
#include <vector>

#include "corpus/corpus_test_util.h"

namespace reducto {
namespace {

using testing::ListNames;
using testing::ScratchDir;

Digest DigestOf(int id) {
  Digest d{};
  // Distinct ids give distinct digests; the first bytes vary, as BLAKE3's would.
  d[0] = static_cast<uint8_t>(id * 37);
  d[1] = static_cast<uint8_t>(id >> 8);
  d[31] = static_cast<uint8_t>(id);
  return d;
}

RC_GTEST_PROP(ChunkTallyProperty, SpillingChangesNothing, ()) {
  // Occurrences of up to 300 distinct chunks; a chunk's length is fixed by its id.
  auto ids = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 300));
  auto length_of = [](int id) { return static_cast<uint32_t>(100 + (id * 7919) % 5000); };
  ScratchDir dir;
  ChunkTally memory(uint64_t{1} << 30, dir.Join("memory-"));
  const uint64_t limit = *rc::gen::inRange<uint64_t>(1, 50);
  ChunkTally spilling(limit, dir.Join("spill-"));
  std::map<int, uint64_t> counts;
  for (int id : ids) {
    RC_ASSERT(memory.Add(DigestOf(id), length_of(id)).ok());
    RC_ASSERT(spilling.Add(DigestOf(id), length_of(id)).ok());
    ++counts[id];
  }
  RC_ASSERT(memory.Finish().ok());
  RC_ASSERT(spilling.Finish().ok());
  RC_ASSERT(!memory.spilled());
  RC_ASSERT(spilling.spilled() == (counts.size() > limit));
  RC_ASSERT(memory.distinct_chunks() == counts.size());
  RC_ASSERT(spilling.distinct_chunks() == counts.size());
  RC_ASSERT(spilling.distinct_bytes() == memory.distinct_bytes());

  // Several choices in a row, as the optimizer makes them (the last marking one counts).
  for (int round = 0; round < 3; ++round) {
    uint64_t space = *rc::gen::inRange<uint64_t>(0, 400000);
    uint64_t per_chunk = *rc::gen::element<uint64_t>(0, 64, 1000);
    bool mark = *rc::gen::arbitrary<bool>();
    auto a = memory.Select(space, per_chunk, mark);
    auto b = spilling.Select(space, per_chunk, mark);
    RC_ASSERT(a.ok() && b.ok());
    RC_ASSERT(a->chunks == b->chunks);
    RC_ASSERT(a->stored_bytes == b->stored_bytes);
    RC_ASSERT(a->covered_bytes == b->covered_bytes);
    RC_ASSERT(a->stored_bytes + a->chunks * per_chunk <= space);
    for (const auto& [id, count] : counts) {
      auto x = memory.IsSelected(DigestOf(id));
      auto y = spilling.IsSelected(DigestOf(id));
      RC_ASSERT(x.ok() && y.ok());
      RC_ASSERT(*x == *y);
    }
  }
}

TEST(ChunkTallyTest, GreedyTakesTheMostCoveredBytesPerStoredByte) {
  ScratchDir dir;
  ChunkTally tally(2, dir.Join("t-"));  // Spills: the database path is the one tested.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(tally.Add(DigestOf(1), 1000).ok());  // 5000 covered
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(tally.Add(DigestOf(2), 4000).ok());  // 12000
  ASSERT_TRUE(tally.Add(DigestOf(3), 500).ok());                               // 500
  ASSERT_TRUE(tally.Finish().ok());
  EXPECT_TRUE(tally.spilled());
  // Per stored byte: chunk 1 scores 5, chunk 2 scores 3, chunk 3 scores 1. 4600 bytes
  // hold 1, skip 2 (too big), and still take 3.
  auto s = tally.Select(4600, 0, true);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->chunks, 2u);
  EXPECT_EQ(s->stored_bytes, 1500u);
  EXPECT_EQ(s->covered_bytes, 5500u);
  EXPECT_TRUE(*tally.IsSelected(DigestOf(1)));
  EXPECT_FALSE(*tally.IsSelected(DigestOf(2)));
  EXPECT_TRUE(*tally.IsSelected(DigestOf(3)));
  EXPECT_FALSE(*tally.IsSelected(DigestOf(4)));
  // A later marking choice replaces the earlier one: 500 bytes hold chunk 3 only.
  s = tally.Select(500, 0, true);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->chunks, 1u);
  EXPECT_FALSE(*tally.IsSelected(DigestOf(1)));
  EXPECT_TRUE(*tally.IsSelected(DigestOf(3)));
  // A choice without marking leaves it alone.
  ASSERT_TRUE(tally.Select(100000, 0, false).ok());
  EXPECT_FALSE(*tally.IsSelected(DigestOf(1)));
}

TEST(ChunkTallyTest, TheScratchDatabaseIsRemoved) {
  ScratchDir dir;
  {
    ChunkTally tally(1, dir.Join("count-"));
    ASSERT_TRUE(tally.Add(DigestOf(1), 100).ok());
    ASSERT_TRUE(tally.Add(DigestOf(2), 100).ok());
    ASSERT_TRUE(tally.Finish().ok());
    ASSERT_TRUE(tally.spilled());
    EXPECT_EQ(ListNames(dir.path()).size(), 1u);
  }
  EXPECT_TRUE(ListNames(dir.path()).empty());
}

}  // namespace
}  // namespace reducto
