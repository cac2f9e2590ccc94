// FastCDC 2020: known answers from the reference implementation, the tables, an
// independent slow transcription of the published cut-point search, parameter
// validation, and properties of streaming, chunk sizes and boundary stability.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "chunking/gear_table.h"
#include "reducto/chunker.h"
#include "reducto/digest.h"
#include "test_support.h"

namespace reducto {
namespace {

using fastcdc::kGear;
using fastcdc::kGearLs;
using fastcdc::kMasks;
using fastcdc::kMasksLs;

ChunkerParams Params(uint32_t min, uint32_t avg, uint32_t max, int normalization) {
  ChunkerParams params;
  params.min_size = min;
  params.avg_size = avg;
  params.max_size = max;
  params.normalization = normalization;
  return params;
}

std::string Describe(const ChunkerParams& p) {
  return "min=" + std::to_string(p.min_size) + " avg=" + std::to_string(p.avg_size) +
         " max=" + std::to_string(p.max_size) + " nc=" + std::to_string(p.normalization);
}

// ---------------------------------------------------------------------------------------
// The reference, transcribed word for word from shared/reference/fastcdc-2020.md and kept
// deliberately plain and slow: no shared code with src/chunking/fastcdc.cc beyond the
// tables, which GearTable.* checks on their own.

struct ReferenceCut {
  size_t length;
  uint64_t hash;
};

ReferenceCut ReferenceFindCut(const ChunkerParams& p, const uint8_t* src, size_t size) {
  const size_t min = p.min_size;
  const size_t avg = p.avg_size;
  const size_t max = p.max_size;
  // "the average size picks b = round(log2(avg)) (rounded to nearest, not floored)"
  const int b = static_cast<int>(std::round(std::log2(static_cast<double>(avg))));
  const uint64_t mask_s = kMasks[b + p.normalization];
  const uint64_t mask_s_ls = mask_s << 1;
  const uint64_t mask_l = kMasks[b - p.normalization];
  const uint64_t mask_l_ls = mask_l << 1;

  size_t r = size;
  // "if r <= min, the whole rest is one chunk"
  if (r <= min) return {r, 0};
  // "Cap r at max; let center = min(avg, r)"
  if (r > max) r = max;
  const size_t center = std::min(avg, r);
  uint64_t h = 0;
  size_t i = min / 2;
  // "Use the _s masks while i < center/2"
  while (i < center / 2) {
    const size_t a = 2 * i;
    h = (h << 2) + (static_cast<uint64_t>(kGear[src[a]]) << 1);
    if ((h & mask_s_ls) == 0) return {a, h};
    h = h + kGear[src[a + 1]];
    if ((h & mask_s) == 0) return {a + 1, h};
    ++i;
  }
  // "then the _l masks while i < r/2"
  while (i < r / 2) {
    const size_t a = 2 * i;
    h = (h << 2) + (static_cast<uint64_t>(kGear[src[a]]) << 1);
    if ((h & mask_l_ls) == 0) return {a, h};
    h = h + kGear[src[a + 1]];
    if ((h & mask_l) == 0) return {a + 1, h};
    ++i;
  }
  // "If no cut is found, the chunk is r bytes long." The hash is where the search
  // stopped, as the reference's fifth known-answer hash shows.
  return {r, h};
}

std::vector<Chunk> ReferenceChunks(const ChunkerParams& p, const std::vector<uint8_t>& data) {
  std::vector<Chunk> chunks;
  size_t offset = 0;
  while (offset < data.size()) {
    const ReferenceCut cut = ReferenceFindCut(p, data.data() + offset, data.size() - offset);
    chunks.push_back(Chunk{offset, static_cast<uint32_t>(cut.length), cut.hash});
    offset += cut.length;
  }
  return chunks;
}

// ---------------------------------------------------------------------------------------
// Helpers.

// Feeds `data` in pieces whose sizes cycle through `feeds`, then finishes.
std::vector<Chunk> FeedInPieces(const ChunkerParams& params, const std::vector<uint8_t>& data,
                                const std::vector<size_t>& feeds) {
  Chunker chunker(params);
  std::vector<Chunk> chunks;
  size_t pos = 0;
  size_t k = 0;
  while (pos < data.size()) {
    const size_t n = std::min(feeds[k++ % feeds.size()], data.size() - pos);
    chunker.Feed(std::span<const uint8_t>(data.data() + pos, n), &chunks);
    pos += n;
    // The chunker never holds a decidable chunk back.
    EXPECT_LT(chunker.PendingBytes(), params.max_size);
    uint64_t emitted = chunks.empty() ? 0 : chunks.back().offset + chunks.back().length;
    EXPECT_EQ(emitted + chunker.PendingBytes(), pos);
  }
  chunker.Finish(&chunks);
  EXPECT_EQ(chunker.PendingBytes(), 0u);
  return chunks;
}

// Data that is not uniformly random: runs of zeros (which never cut, so chunks are
// forced at max_size), short repeated patterns and random stretches.
std::vector<uint8_t> MixedBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> random = testing::RandomBytes(size, seed);
  std::vector<uint8_t> out;
  out.reserve(size);
  while (out.size() < size) {
    const size_t run = std::min<size_t>(size - out.size(), 1 + rng() % 70000);
    switch (rng() % 3) {
      case 0:
        out.insert(out.end(), run, 0);
        break;
      case 1: {
        const size_t period = 1 + rng() % 16;
        for (size_t i = 0; i < run; ++i) out.push_back(static_cast<uint8_t>('a' + i % period));
        break;
      }
      default:
        out.insert(out.end(), random.begin() + static_cast<std::ptrdiff_t>(out.size()),
                   random.begin() + static_cast<std::ptrdiff_t>(out.size() + run));
        break;
    }
  }
  return out;
}

void ExpectSameChunks(const std::vector<Chunk>& expected, const std::vector<Chunk>& actual,
                      const std::string& what) {
  ASSERT_EQ(expected.size(), actual.size()) << what;
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(expected[i].offset, actual[i].offset) << what << " chunk " << i;
    ASSERT_EQ(expected[i].length, actual[i].length) << what << " chunk " << i;
    ASSERT_EQ(expected[i].gear_hash, actual[i].gear_hash) << what << " chunk " << i;
  }
}

// ---------------------------------------------------------------------------------------
// Known answers.

TEST(FastCdcTest, SekienAkashitaKnownAnswers) {
  const std::vector<uint8_t> data =
      testing::ReadFile(testing::SharedDir() + "/testdata/SekienAkashita.jpg");
  ASSERT_EQ(data.size(), 109466u);
  // Pinned from this project's Blake3 and cross-checked with the BLAKE3 team's Rust
  // reference_impl.rs (built with rustc from the blake3 1.3.1 crate sources), which also
  // reproduces the five chunk digests below.
  EXPECT_EQ(ToHex(Blake3(data)),
            "dba425aa7292ef1209841ab3855a93d4dfa6855658a347f85c502f2c2208cf0f");

  struct Expected {
    uint64_t offset;
    uint32_t length;
    uint64_t gear_hash;
    const char* blake3;
  };
  // From the reference implementation's tests (fastcdc crate, module v2020).
  const Expected kExpected[] = {
      {0, 21325, 17968276318003433923u,
       "261930e84e14c240210ae8c459acc4bb85dd52f1b91c868f2106dbc1ceb3acca"},
      {21325, 17140, 8197189939299398838u,
       "a01747cf21202f0068b8897d2be92aa4479b7ac7207b3baa5057b8ec75fa1c10"},
      {38465, 28084, 13019990849178155730u,
       "01e5305fb8f54d214ed2946843ea360fb9bb3f5df66ef3e34fb024d32ebcaee1"},
      {66549, 18217, 4509236223063678303u,
       "fc28c67b6ef846a841452a215bf704058f65cba5c1d78160398d3c2e046642f9"},
      {84766, 24700, 2504464741100432583u,
       "f6996300fce24d3da56c81ea52e5f4f461ce6adb4496f65252996e1082471aac"},
  };
  const ChunkerParams params = Params(4096, 16384, 65535, 1);
  ASSERT_TRUE(params.Validate().ok());

  const std::vector<Chunk> chunks = ChunkBuffer(params, data);
  ASSERT_EQ(chunks.size(), std::size(kExpected));
  for (size_t i = 0; i < chunks.size(); ++i) {
    SCOPED_TRACE("chunk " + std::to_string(i));
    EXPECT_EQ(chunks[i].offset, kExpected[i].offset);
    EXPECT_EQ(chunks[i].length, kExpected[i].length);
    EXPECT_EQ(chunks[i].gear_hash, kExpected[i].gear_hash);
    EXPECT_EQ(ToHex(Blake3(std::span(data).subspan(chunks[i].offset, chunks[i].length))),
              kExpected[i].blake3);
  }

  // The slow transcription and every way of streaming agree.
  ExpectSameChunks(chunks, ReferenceChunks(params, data), "reference");
  for (size_t feed : {1, 7, 4096, 65535, 65536, 200000}) {
    ExpectSameChunks(chunks, FeedInPieces(params, data, {feed}), "feed " + std::to_string(feed));
  }
}

// ---------------------------------------------------------------------------------------
// Tables.

TEST(GearTableTest, SpotChecksAgainstMd5) {
  // Computed with python3: int.from_bytes(hashlib.md5(bytes([i]) * 64).digest()[:8], 'big')
  const std::pair<int, uint64_t> kSpots[] = {
      {0, 0x3b5d3c7d207e37dc},   {1, 0x784d68ba91123086},   {2, 0xcd52880f882e7298},
      {97, 0x014842d480b57149},  {127, 0x562f21555458339a}, {128, 0xc0ce47f889336346},
      {200, 0x9fb251413e41d49a}, {254, 0xe1d830d3f16c5ddb}, {255, 0xaabd2b2a451504e1},
  };
  for (const auto& [index, value] : kSpots) EXPECT_EQ(kGear[index], value) << "index " << index;
}

TEST(GearTableTest, ShiftedTablesAreShifted) {
  for (size_t i = 0; i < kGear.size(); ++i) EXPECT_EQ(kGearLs[i], kGear[i] << 1) << i;
  for (size_t b = 0; b < kMasks.size(); ++b) EXPECT_EQ(kMasksLs[b], kMasks[b] << 1) << b;
  EXPECT_EQ(kMasks[5], 0x0000000001804110u);
  EXPECT_EQ(kMasks[13], 0x0000d90303530000u);
  EXPECT_EQ(kMasks[25], 0x0000db3777577000u);
}

// ---------------------------------------------------------------------------------------
// Against the reference on random and mixed data.

TEST(FastCdcTest, MatchesReferenceAcrossParameters) {
  struct Case {
    uint32_t min, avg, max;
  };
  const std::vector<Case> kSizes = {
      {128, 256, 512},
      {512, 1024, 2048},
      {2048, 4096, 8192},
      {4096, 8192, 16384},
      {8192, 16384, 32768},
      {32768, 65536, 131072},
      {512 << 10, 1 << 20, 2 << 20},
      // Odd sizes: odd min (cuts may be min - 1), odd avg and max, odd r.
      {64, 65, 66},
      {1001, 3001, 9999},
      {4097, 8191, 16385},
      {333, 1000, 65535},
      {4095, 16383, 16384},
  };
  uint64_t seed = 1;
  for (const Case& size : kSizes) {
    for (int nc = 0; nc <= 3; ++nc) {
      const ChunkerParams params = Params(size.min, size.avg, size.max, nc);
      if (!params.Validate().ok()) {
        // Only the tiny averages lack masks for the high levels.
        EXPECT_LT(size.avg, 182u) << Describe(params);
        continue;
      }
      // About 40 chunks each, at most 16 MiB, with an odd total.
      const size_t bytes = std::min<size_t>(40ull * size.avg, 16u << 20) + 2 * seed + 1;
      for (const std::vector<uint8_t>& data :
           {testing::RandomBytes(bytes, seed), MixedBytes(bytes, seed)}) {
        const std::vector<Chunk> expected = ReferenceChunks(params, data);
        ExpectSameChunks(expected, ChunkBuffer(params, data), Describe(params));
        ExpectSameChunks(expected, FeedInPieces(params, data, {size.max / 3 + 1, 1, 0, 65536}),
                         Describe(params) + " streamed");
      }
      ++seed;
    }
  }
}

TEST(FastCdcTest, ZerosNeverCutAndAreForcedAtMax) {
  const ChunkerParams params = ChunkerParams::ForAverage(8192);
  const std::vector<uint8_t> zeros(5 * params.max_size + 100, 0);
  const std::vector<Chunk> chunks = ChunkBuffer(params, zeros);
  ASSERT_EQ(chunks.size(), 6u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(chunks[i].length, params.max_size);
  EXPECT_EQ(chunks[5].length, 100u);
  EXPECT_EQ(chunks[5].gear_hash, 0u);  // Not hashed at all: shorter than min.
  ExpectSameChunks(ReferenceChunks(params, zeros), chunks, "zeros");
}

TEST(FastCdcTest, EmptyAndShortInputs) {
  const ChunkerParams params;
  EXPECT_TRUE(ChunkBuffer(params, {}).empty());
  Chunker chunker(params);
  std::vector<Chunk> chunks;
  chunker.Feed({}, &chunks);
  chunker.Finish(&chunks);
  EXPECT_TRUE(chunks.empty());

  for (size_t size : {size_t{1}, size_t{params.min_size - 1}, size_t{params.min_size},
                      size_t{params.min_size + 1}}) {
    const std::vector<uint8_t> data = testing::RandomBytes(size, size);
    chunks = ChunkBuffer(params, data);
    ASSERT_EQ(chunks.size(), 1u) << size;
    EXPECT_EQ(chunks[0].offset, 0u);
    EXPECT_EQ(chunks[0].length, size);
    ExpectSameChunks(chunks, FeedInPieces(params, data, {1}), "short");
  }
}

TEST(FastCdcTest, FinishStartsANewStream) {
  const ChunkerParams params = ChunkerParams::ForAverage(1024);
  const std::vector<uint8_t> data = testing::RandomBytes(50000, 9);
  Chunker chunker(params);
  std::vector<Chunk> first;
  chunker.Feed(data, &first);
  chunker.Finish(&first);
  std::vector<Chunk> second;
  chunker.Feed(data, &second);
  chunker.Finish(&second);
  ExpectSameChunks(first, second, "second stream");
  ExpectSameChunks(first, ChunkBuffer(params, data), "buffer");
}

// ---------------------------------------------------------------------------------------
// Validation.

TEST(ChunkerParamsTest, ForAverage) {
  const ChunkerParams params = ChunkerParams::ForAverage(8192);
  EXPECT_EQ(params, Params(4096, 8192, 16384, 1));
  EXPECT_EQ(ChunkerParams(), params);
  EXPECT_EQ(ChunkerParams::ForAverage(65536, 2), Params(32768, 65536, 131072, 2));
  EXPECT_FALSE(ChunkerParams::ForAverage(0xF0000000u).Validate().ok());  // No wrap-around.
}

TEST(ChunkerParamsTest, AcceptsTheDocumentedRange) {
  const uint32_t kMiB16 = 16u << 20;
  for (const ChunkerParams& params : {
           Params(64, 128, 256, 1),                    // Smallest min.
           Params(64, 65, 66, 0),                      // Tightest sizes.
           Params(64, 65, 66, 1),                      // b = 6, masks 5..7.
           Params(64, 91, 200, 2),                     // round(log2(91)) = 7: masks 5..9.
           Params(64, 182, 400, 3),                    // round(log2(182)) = 8: masks 5..11.
           Params(kMiB16 / 4, kMiB16 / 2, kMiB16, 1),  // Largest max.
           Params(kMiB16 - 2, kMiB16 - 1, kMiB16, 1),  // b = 24, masks 23..25.
           Params(4096, 16384, 65535, 1),              // The known-answer parameters.
           ChunkerParams::ForAverage(1 << 20, 3),      // b = 20, masks 17..23.
       }) {
    const Status status = params.Validate();
    EXPECT_TRUE(status.ok()) << Describe(params) << ": " << status.ToString();
  }
}

TEST(ChunkerParamsTest, RejectsOutOfRange) {
  const uint32_t kMiB16 = 16u << 20;
  for (const ChunkerParams& params : {
           Params(63, 128, 256, 1),                        // min below 64.
           Params(0, 128, 256, 1),                         // min zero.
           Params(kMiB16 / 4, kMiB16 / 2, kMiB16 + 1, 1),  // max above 16 MiB.
           Params(4096, 4096, 16384, 1),                   // min == avg.
           Params(8192, 4096, 16384, 1),                   // min > avg.
           Params(4096, 16384, 16384, 1),                  // avg == max.
           Params(4096, 8192, 4096, 1),                    // max < avg.
           Params(4096, 8192, 16384, 4),                   // Normalization above 3.
           Params(4096, 8192, 16384, -1),                  // Normalization below 0.
           Params(64, 90, 200, 2),                         // round(log2(90)) = 6: mask 4.
           Params(64, 181, 400, 3),                        // round(log2(181)) = 7: mask 4.
           Params(kMiB16 - 2, kMiB16 - 1, kMiB16, 2),      // b = 24: mask 26.
       }) {
    const Status status = params.Validate();
    EXPECT_FALSE(status.ok()) << Describe(params);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << Describe(params);
  }
}

TEST(ChunkerParamsTest, MessagesNameTheValidRange) {
  Status status = Params(63, 128, 256, 1).Validate();
  EXPECT_NE(status.message().find("64 <= min < avg < max <= 16777216 (got min=63 avg=128 "
                                  "max=256)"),
            std::string::npos)
      << status.message();
  status = Params(4096, 8192, 16384, 4).Validate();
  EXPECT_NE(status.message().find("0, 1, 2 or 3 (got 4)"), std::string::npos) << status.message();
  status = Params(64, 90, 200, 2).Validate();
  EXPECT_NE(status.message().find("5..25"), std::string::npos) << status.message();
}

// ---------------------------------------------------------------------------------------
// Properties.

// Valid parameters with small sizes, so that a few hundred KiB hold many chunks. Every
// average >= 182 has masks for every normalization level.
rc::Gen<ChunkerParams> GenSmallParams() {
  return rc::gen::mapcat(rc::gen::inRange<uint32_t>(182, 20000), [](uint32_t avg) {
    return rc::gen::apply(
        [avg](uint32_t min, uint32_t max, int nc) { return Params(min, avg, max, nc); },
        rc::gen::inRange<uint32_t>(64, avg), rc::gen::inRange<uint32_t>(avg + 1, 4 * avg + 1),
        rc::gen::inRange(0, 4));
  });
}

// Up to 1 MB (RapidCheck scales the bound with its size), random or mixed, drawn as
// (size, seed, kind) so that shrinking stays cheap.
std::vector<uint8_t> GenData() {
  const auto size = *rc::gen::inRange<size_t>(0, 1000000);
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  return *rc::gen::arbitrary<bool>() ? MixedBytes(size, seed) : testing::RandomBytes(size, seed);
}

RC_GTEST_PROP(FastCdcProperty, FeedSplitsDoNotChangeTheChunks, ()) {
  const ChunkerParams params = *GenSmallParams();
  RC_ASSERT(params.Validate().ok());
  const std::vector<uint8_t> data = GenData();
  const auto feeds = *rc::gen::nonEmpty(rc::gen::container<std::vector<size_t>>(rc::gen::oneOf(
      rc::gen::just<size_t>(0), rc::gen::just<size_t>(1), rc::gen::inRange<size_t>(0, 64),
      rc::gen::inRange<size_t>(0, 3 * params.max_size))));
  // Zero-size feeds alone would never finish feeding the data.
  RC_PRE(std::any_of(feeds.begin(), feeds.end(), [](size_t n) { return n > 0; }));

  const std::vector<Chunk> whole = ChunkBuffer(params, data);
  const std::vector<Chunk> streamed = FeedInPieces(params, data, feeds);
  RC_ASSERT(whole.size() == streamed.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    RC_ASSERT(whole[i].offset == streamed[i].offset);
    RC_ASSERT(whole[i].length == streamed[i].length);
    RC_ASSERT(whole[i].gear_hash == streamed[i].gear_hash);
  }
}

RC_GTEST_PROP(FastCdcProperty, ChunkSizesAndOffsets, ()) {
  const ChunkerParams params = *GenSmallParams();
  const std::vector<uint8_t> data = GenData();
  const std::vector<Chunk> chunks = ChunkBuffer(params, data);
  // The reference never cuts before pair min/2, so an odd min allows min - 1.
  const uint32_t lower = params.min_size & ~1u;
  uint64_t offset = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    RC_ASSERT(chunks[i].offset == offset);
    RC_ASSERT(chunks[i].length > 0u);
    RC_ASSERT(chunks[i].length <= params.max_size);
    if (i + 1 < chunks.size()) RC_ASSERT(chunks[i].length >= lower);
    offset += chunks[i].length;
  }
  RC_ASSERT(offset == data.size());

  const std::vector<Chunk> expected = ReferenceChunks(params, data);
  RC_ASSERT(expected.size() == chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    RC_ASSERT(expected[i].length == chunks[i].length);
    RC_ASSERT(expected[i].gear_hash == chunks[i].gear_hash);
  }
}

// Inserting or deleting one byte changes only the chunks around it: at most 3 chunks of
// the edited stream are not chunks (same length and bytes) of the original.
//
// That bound is typical, not guaranteed: over 2,000 random edits of 16 MiB random inputs
// the count was 1 for 82%, 2 for 15%, 3 for 2%, 4 for 0.35% and 5 for 0.1%. Longer
// disturbances come from runs of chunks forced at max_size, or from cut candidates that
// one stream skips inside its min_size window and the other does not. So the seed is
// fixed, which makes the test deterministic; REDUCTO_TEST_SEED=<n> explores others, where
// about one edit in 200 exceeding 3 is expected and not a bug.
TEST(FastCdcProperty, OneByteEditsChangeAtMostThreeChunks) {
  const ChunkerParams params;  // 4 / 8 / 16 KiB, normalization 1.
  uint64_t base_seed = 20240601;
  if (const char* env = std::getenv("REDUCTO_TEST_SEED"))
    base_seed = std::strtoull(env, nullptr, 10);
  const std::vector<uint8_t> original = testing::RandomBytes(16u << 20, base_seed);

  std::set<std::pair<uint32_t, Digest>> known;  // (length, BLAKE3) of the original's chunks.
  for (const Chunk& c : ChunkBuffer(params, original)) {
    known.insert({c.length, Blake3(std::span(original).subspan(c.offset, c.length))});
  }

  std::mt19937_64 rng(base_seed);
  constexpr int kTrials = 20;
  int total_differing = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<uint8_t> edited = original;
    const size_t pos = rng() % original.size();
    const bool insert = trial % 2 == 0;
    if (insert) {
      edited.insert(edited.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<uint8_t>(rng()));
    } else {
      edited.erase(edited.begin() + static_cast<std::ptrdiff_t>(pos));
    }
    int differing = 0;
    for (const Chunk& c : ChunkBuffer(params, edited)) {
      if (!known.contains({c.length, Blake3(std::span(edited).subspan(c.offset, c.length))})) {
        ++differing;
      }
    }
    total_differing += differing;
    EXPECT_GE(differing, 1) << "seed " << base_seed << " trial " << trial;
    EXPECT_LE(differing, 3) << "seed " << base_seed << " trial " << trial
                            << (insert ? " insert at " : " delete at ") << pos;
  }
  // The measured mean is about 1.2.
  EXPECT_LE(total_differing, 2 * kTrials) << "seed " << base_seed;
}

}  // namespace
}  // namespace reducto
