// Round trips through EncodeContainer and DecodeContainer, standalone and against an
// in-memory corpus.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "codec/format.h"
#include "codec_test_util.h"
#include "fake_corpus.h"
#include "hashing/weak_key.h"
#include "test_support.h"
#include "x86_sample.h"

namespace reducto {
namespace {

using testing::AsBytes;
using testing::AsString;
using testing::DecodeFromString;
using testing::EncodeToString;
using testing::FakeCorpus;
using testing::RandomBytes;
using testing::SmallBlockOptions;

// Text-like bytes that zstd compresses, so containers stay small.
std::vector<uint8_t> TextBytes(size_t size, uint64_t seed) {
  static const char* const kWords[] = {"reducto ", "corpus ", "chunk ",  "copy ", "literal ",
                                       "block ",   "zstd ",   "blake3 ", "\n",    "format "};
  std::vector<uint8_t> random = RandomBytes(size, seed);
  std::vector<uint8_t> out;
  for (size_t i = 0; out.size() < size; ++i) {
    const char* word = kWords[random[i % random.size()] % 10];
    out.insert(out.end(), word, word + std::strlen(word));
  }
  out.resize(size);
  return out;
}

// A target made of `reference` pieces, reordered, with new bytes between them.
std::vector<uint8_t> EditedCopy(const std::vector<uint8_t>& reference, uint64_t seed) {
  std::vector<uint8_t> out;
  size_t piece = reference.size() / 8;
  for (size_t i = 0; i < 8; ++i) {
    size_t from = ((i * 5) % 8) * piece;
    out.insert(out.end(), reference.begin() + from, reference.begin() + from + piece);
    auto fresh = RandomBytes(100 + i * 37, seed + i);
    if (i % 3 == 0) out.insert(out.end(), fresh.begin(), fresh.end());
  }
  return out;
}

void ExpectRoundTrip(const CorpusReader* corpus, const std::vector<uint8_t>& input,
                     const CompressOptions& options, CompressStats* stats_out = nullptr) {
  CompressStats stats;
  auto container = EncodeToString(corpus, input, options, &stats);
  ASSERT_TRUE(container.ok()) << container.status().ToString();
  std::string output;
  auto decoded = DecodeFromString(*container, corpus, &output);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(output.size(), input.size());
  EXPECT_TRUE(output == AsString(input));
  EXPECT_EQ(stats.input_bytes, input.size());
  EXPECT_EQ(stats.output_bytes, container->size());
  EXPECT_EQ(stats.copy_bytes + stats.literal_bytes + stats.delta_bytes, input.size());
  EXPECT_EQ(decoded->output_bytes, input.size());
  EXPECT_EQ(decoded->input_bytes, container->size());
  EXPECT_EQ(decoded->blocks, stats.blocks);
  EXPECT_EQ(decoded->standalone, corpus == nullptr);
  EXPECT_EQ(stats.standalone, corpus == nullptr);
  // Blocks hold at most block_size bytes and are only as many as needed.
  EXPECT_GE(stats.blocks * options.block_size, input.size());
  if (stats_out != nullptr) *stats_out = stats;
}

TEST(CodecRoundTripTest, EmptyInput) {
  CompressStats stats;
  ExpectRoundTrip(nullptr, {}, SmallBlockOptions(), &stats);
  EXPECT_EQ(stats.blocks, 0u);
  EXPECT_EQ(stats.output_bytes, format::kHeaderSize + format::kTrailerSize);
  FakeCorpus corpus(RandomBytes(5000, 1), ChunkerParams::ForAverage(256));
  ExpectRoundTrip(&corpus, {}, SmallBlockOptions(), &stats);
  EXPECT_EQ(stats.blocks, 0u);
  EXPECT_EQ(stats.corpus_id, corpus.info().id);
}

TEST(CodecRoundTripTest, StandaloneSizesAroundBlockBoundaries) {
  for (size_t size : {1, 15, 16, 4095, 4096, 4097, 8192, 12289, 100000}) {
    SCOPED_TRACE(size);
    CompressStats stats;
    ExpectRoundTrip(nullptr, RandomBytes(size, size), SmallBlockOptions(4096), &stats);
    EXPECT_EQ(stats.blocks, (size + 4095) / 4096);
    EXPECT_EQ(stats.literal_bytes, size);
    EXPECT_EQ(stats.copies, 0u);
  }
}

TEST(CodecRoundTripTest, StandaloneCompresses) {
  auto input = TextBytes(200000, 3);
  CompressStats stats;
  ExpectRoundTrip(nullptr, input, SmallBlockOptions(64u << 10), &stats);
  EXPECT_LT(stats.output_bytes, input.size() / 3);
}

TEST(CodecRoundTripTest, EveryLevelRoundTrips) {
  auto input = TextBytes(20000, 4);
  for (int level = 1; level <= 22; ++level) {
    SCOPED_TRACE(level);
    CompressOptions options = SmallBlockOptions();
    options.level = level;
    ExpectRoundTrip(nullptr, input, options);
  }
}

TEST(CodecRoundTripTest, AgainstACorpus) {
  auto reference = RandomBytes(300000, 11);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(1024));
  auto target = EditedCopy(reference, 12);
  CompressStats stats;
  ExpectRoundTrip(&corpus, target, SmallBlockOptions(64u << 10), &stats);
  EXPECT_GT(stats.copy_bytes, target.size() * 8 / 10);
  EXPECT_GT(stats.literal_bytes, 0u);
  EXPECT_LT(stats.output_bytes, target.size() / 10);
  EXPECT_FALSE(stats.standalone);
  EXPECT_EQ(stats.corpus_id, corpus.info().id);
}

TEST(CodecRoundTripTest, IdenticalTargetIsOneMergedCopyPerBlock) {
  auto reference = RandomBytes(200000, 21);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(1024));
  CompressStats stats;
  ExpectRoundTrip(&corpus, reference, SmallBlockOptions(64u << 10), &stats);
  EXPECT_EQ(stats.literal_bytes, 0u);
  EXPECT_EQ(stats.copy_bytes, reference.size());
  EXPECT_EQ(stats.copies, stats.blocks);
  EXPECT_GE(stats.blocks, 4u);
}

TEST(CodecRoundTripTest, ChunksLargerThanABlockAreSplit) {
  // Chunks of up to 32 KiB, blocks of 4 KiB: most copies span several blocks.
  auto reference = RandomBytes(400000, 31);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(16384));
  std::vector<uint8_t> target = reference;
  auto fresh = RandomBytes(5000, 32);
  target.insert(target.begin() + 200000, fresh.begin(), fresh.end());
  CompressStats stats;
  ExpectRoundTrip(&corpus, target, SmallBlockOptions(4096), &stats);
  EXPECT_GT(stats.copy_bytes, target.size() / 2);
  // Blocks are filled to the block size; copies and literals are split between them.
  EXPECT_EQ(stats.blocks, (target.size() + 4095) / 4096);
}

TEST(CodecRoundTripTest, ShortCopiesAreSentAsLiterals) {
  auto reference = RandomBytes(5000, 41);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(256));
  corpus.AddChunk(1000, 10);  // A 10-byte chunk that the target will match exactly.
  std::vector<uint8_t> target(reference.begin() + 1000, reference.begin() + 1010);
  CompressStats stats;
  ExpectRoundTrip(&corpus, target, SmallBlockOptions(), &stats);
  EXPECT_EQ(stats.copies, 0u);
  EXPECT_EQ(stats.literal_bytes, 10u);
  EXPECT_GT(corpus.lookups, 0u);
}

TEST(CodecRoundTripTest, CandidatesAreVerifiedByDigest) {
  auto reference = RandomBytes(5000, 51);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(256));
  // The target's only chunk is filed under its own weak key but points at other bytes,
  // and a second candidate has another length: neither may be used.
  auto target = RandomBytes(100, 52);
  corpus.AddRawCandidate(WeakKey(target), {0, 100, Blake3(std::span(reference).first(100))});
  corpus.AddRawCandidate(WeakKey(target), {0, 99, Blake3(target)});
  CompressStats stats;
  ExpectRoundTrip(&corpus, target, SmallBlockOptions(), &stats);
  EXPECT_EQ(stats.copy_bytes, 0u);
}

TEST(CodecRoundTripTest, IndexEntryOutsideThePackIsAnError) {
  auto reference = RandomBytes(5000, 61);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(256));
  auto target = RandomBytes(100, 62);
  corpus.AddRawCandidate(WeakKey(target), {4950, 100, Blake3(target)});
  auto container = EncodeToString(&corpus, target, SmallBlockOptions());
  EXPECT_EQ(container.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(container.status().message().find("damaged"), std::string::npos);
}

TEST(CodecRoundTripTest, OptionsAreValidated) {
  auto input = RandomBytes(10, 1);
  CompressOptions options = SmallBlockOptions();
  options.level = 0;
  EXPECT_EQ(EncodeToString(nullptr, input, options).status().code(), StatusCode::kInvalidArgument);
  options.level = 23;
  Status s = EncodeToString(nullptr, input, options).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("level 23"), std::string::npos);
  options = SmallBlockOptions(format::kMinBlockSize - 1);
  EXPECT_EQ(EncodeToString(nullptr, input, options).status().code(), StatusCode::kInvalidArgument);
  options = SmallBlockOptions(format::kMaxBlockSize + 1);
  EXPECT_EQ(EncodeToString(nullptr, input, options).status().code(), StatusCode::kInvalidArgument);
  options = SmallBlockOptions();
  options.standalone_chunking.normalization = 9;
  EXPECT_EQ(EncodeToString(nullptr, input, options).status().code(), StatusCode::kInvalidArgument);
}

// A reference, and a target assembled from pieces of it and from fresh bytes.
struct Pair {
  std::vector<uint8_t> reference;
  std::vector<uint8_t> target;
};

rc::Gen<Pair> GenPair() {
  return rc::gen::exec([] {
    Pair pair;
    size_t ref_size = *rc::gen::inRange<size_t>(0, 40000);
    if (*rc::gen::inRange(0, 10) != 0) ref_size = std::max<size_t>(ref_size, 4000);
    pair.reference = RandomBytes(ref_size, *rc::gen::arbitrary<uint64_t>());
    int pieces = *rc::gen::inRange(0, 40);
    for (int i = 0; i < pieces; ++i) {
      if (!pair.reference.empty() && *rc::gen::inRange(0, 3) != 0) {
        size_t from = *rc::gen::inRange<size_t>(0, pair.reference.size());
        size_t len = *rc::gen::inRange<size_t>(0, std::min<size_t>(8000, ref_size - from) + 1);
        pair.target.insert(pair.target.end(), pair.reference.begin() + from,
                           pair.reference.begin() + from + len);
      } else {
        auto fresh = *rc::gen::container<std::vector<uint8_t>>(*rc::gen::inRange<size_t>(0, 500),
                                                               rc::gen::arbitrary<uint8_t>());
        pair.target.insert(pair.target.end(), fresh.begin(), fresh.end());
      }
    }
    return pair;
  });
}

Status RoundTripStatus(const CorpusReader* corpus, const std::vector<uint8_t>& target,
                       const CompressOptions& options, CompressStats* stats = nullptr) {
  ASSIGN_OR_RETURN(std::string container, EncodeToString(corpus, target, options, stats));
  std::string output;
  RETURN_IF_ERROR(DecodeFromString(container, corpus, &output).status());
  if (output != AsString(target)) return Status::Integrity("output differs");
  return Status::Ok();
}

RC_GTEST_PROP(CodecPropertyTest, TargetFromReferencePiecesRoundTrips, ()) {
  Pair pair = *GenPair();
  int avg = *rc::gen::element(128, 256, 1024);
  FakeCorpus corpus(pair.reference, ChunkerParams::ForAverage(avg));
  CompressOptions options = SmallBlockOptions(*rc::gen::element(4096u, 8192u, 65536u));
  options.level = *rc::gen::inRange(1, 10);
  CompressStats stats;
  Status s = RoundTripStatus(&corpus, pair.target, options, &stats);
  RC_LOG() << s.ToString();
  RC_ASSERT(s.ok());
  RC_CLASSIFY(stats.copies > 0, "with copies");
  RC_CLASSIFY(stats.blocks > 1, "several blocks");
}

// A reference (random or text-like bytes) and a target made from it by a few edits of
// the kinds real updates make: insertions, deletions, bursts of substituted bytes, and
// blocks moved elsewhere.
rc::Gen<Pair> GenEditedPair() {
  return rc::gen::exec([] {
    Pair pair;
    size_t size = *rc::gen::inRange<size_t>(0, 60000);
    uint64_t seed = *rc::gen::arbitrary<uint64_t>();
    pair.reference = *rc::gen::arbitrary<bool>() ? TextBytes(size, seed) : RandomBytes(size, seed);
    std::vector<uint8_t>& t = pair.target;
    t = pair.reference;
    int edits = *rc::gen::inRange(0, 30);
    for (int e = 0; e < edits; ++e) {
      size_t at = *rc::gen::inRange<size_t>(0, t.size() + 1);
      size_t length = *rc::gen::inRange<size_t>(1, 400);
      switch (*rc::gen::inRange(0, 4)) {
        case 0: {  // Insertion.
          auto fresh = RandomBytes(length, seed + e);
          t.insert(t.begin() + at, fresh.begin(), fresh.end());
          break;
        }
        case 1:  // Deletion.
          t.erase(t.begin() + at, t.begin() + std::min(t.size(), at + length));
          break;
        case 2: {  // Substitutions: every `step`-th byte of a range.
          size_t step = *rc::gen::inRange<size_t>(1, 40);
          for (size_t i = at; i < std::min(t.size(), at + length * 4); i += step) t[i] ^= 0xa5;
          break;
        }
        default: {  // A block moved elsewhere.
          size_t end = std::min(t.size(), at + length * 8);
          std::vector<uint8_t> block(t.begin() + at, t.begin() + end);
          t.erase(t.begin() + at, t.begin() + end);
          size_t to = *rc::gen::inRange<size_t>(0, t.size() + 1);
          t.insert(t.begin() + to, block.begin(), block.end());
          break;
        }
      }
    }
    return pair;
  });
}

RC_GTEST_PROP(CodecPropertyTest, EditedTargetsRoundTripInEveryProfile, ()) {
  Pair pair = *GenEditedPair();
  int avg = *rc::gen::element(128, 256, 1024);
  FakeCorpus corpus(pair.reference, ChunkerParams::ForAverage(avg));
  CompressOptions options = SmallBlockOptions(*rc::gen::element(4096u, 8192u, 65536u));
  options.level = *rc::gen::inRange(1, 10);
  options.profile = *rc::gen::element(Profile::kFast, Profile::kDefault, Profile::kMax);
  CompressStats stats;
  Status s = RoundTripStatus(&corpus, pair.target, options, &stats);
  RC_LOG() << ProfileName(options.profile) << ": " << s.ToString();
  RC_ASSERT(s.ok());
  RC_ASSERT(stats.copy_bytes + stats.literal_bytes + stats.delta_bytes == pair.target.size());
  RC_CLASSIFY(stats.copies > 0, "with copies");
  RC_CLASSIFY(stats.deltas > 0, "with deltas");
  RC_CLASSIFY(stats.blocks > 1, "several blocks");
}

// Rebuilt code (x86_sample.h: a function grown, every call across it changed), with
// random bytes edited too, in every profile: ADDs and their displacement prediction
// round-trip, across blocks of any size.
RC_GTEST_PROP(CodecPropertyTest, RebuiltCodeRoundTripsInEveryProfile, ()) {
  testing::X86Sample sample;
  sample.seed = *rc::gen::inRange<uint64_t>(1, 1000);
  sample.functions = *rc::gen::inRange(8, 80);
  sample.body = *rc::gen::element<size_t>(64, 256, 1024);
  std::vector<uint8_t> reference = testing::MakeX86Sample(sample);
  sample.grown = *rc::gen::inRange(0, sample.functions);
  sample.growth = *rc::gen::inRange<size_t>(1, 200);
  std::vector<uint8_t> target = testing::MakeX86Sample(sample);
  const int edits = *rc::gen::inRange(0, 20);
  for (int e = 0; e < edits; ++e) {
    target[*rc::gen::inRange<size_t>(0, target.size())] = *rc::gen::arbitrary<uint8_t>();
  }
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(*rc::gen::element(128, 512)));
  CompressOptions options = SmallBlockOptions(*rc::gen::element(4096u, 8192u, 65536u));
  options.profile = *rc::gen::element(Profile::kFast, Profile::kDefault, Profile::kMax);
  CompressStats stats;
  Status s = RoundTripStatus(&corpus, target, options, &stats);
  RC_LOG() << ProfileName(options.profile) << ": " << s.ToString();
  RC_ASSERT(s.ok());
  RC_ASSERT(stats.copy_bytes + stats.literal_bytes + stats.delta_bytes == target.size());
  RC_CLASSIFY(stats.deltas > 0, "with ADDs or DELTAs");
}

// On rebuilt code the default profile's ADDs make the container a fraction of what
// copies and literals (the fast profile, and the default profile before ADD) give.
TEST(CodecRoundTripTest, AddsShrinkRebuiltCode) {
  testing::X86Sample sample;
  sample.functions = 400;
  std::vector<uint8_t> reference = testing::MakeX86Sample(sample);
  sample.grown = 100;
  sample.growth = 40;
  std::vector<uint8_t> target = testing::MakeX86Sample(sample);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(1024));
  uint64_t size[2] = {};
  for (Profile profile : {Profile::kFast, Profile::kDefault}) {
    CompressOptions options = SmallBlockOptions(64u << 10);
    options.profile = profile;
    CompressStats stats;
    ExpectRoundTrip(&corpus, target, options, &stats);
    size[profile == Profile::kDefault] = stats.output_bytes;
    if (profile == Profile::kDefault) {
      EXPECT_GT(stats.deltas, 0u);
    }
  }
  EXPECT_LT(size[1] * 3, size[0]) << "fast " << size[0] << ", default " << size[1];
}

// Segments are matched on whichever thread is free, each from a fresh state, and
// blocks are compressed, hashed and rebuilt in order: the container and the output are
// the same bytes for any thread count, whether the target spans one segment or many.
RC_GTEST_PROP(CodecPropertyTest, ContainerDoesNotDependOnThreads, ()) {
  Pair pair = *GenEditedPair();
  FakeCorpus corpus(pair.reference, ChunkerParams::ForAverage(256));
  CompressOptions options = SmallBlockOptions(*rc::gen::element(4096u, 8192u));
  options.profile = *rc::gen::element(Profile::kFast, Profile::kDefault, Profile::kMax);
  const uint64_t segment =
      *rc::gen::element<uint64_t>(options.block_size, 3 * options.block_size, kSegmentSize);
  options.threads = 1;
  auto one = EncodeToString(&corpus, pair.target, options, nullptr, segment);
  RC_ASSERT(one.ok());
  options.threads = *rc::gen::element(2, 3, 8);
  auto many = EncodeToString(&corpus, pair.target, options, nullptr, segment);
  RC_ASSERT(many.ok());
  RC_ASSERT(*one == *many);
  for (int threads : {1, 4}) {
    std::string output;
    RC_ASSERT(DecodeFromString(*many, &corpus, &output, threads).ok());
    RC_ASSERT(output == AsString(pair.target));
  }
  RC_CLASSIFY(one->size() > 3 * options.block_size / 4, "several blocks");
  RC_CLASSIFY(pair.target.size() > segment, "several segments");
}

// What the caller's observers hear while segments are matched on other threads.
class CallerObservers : public CorpusUseObserver, public ProgressObserver {
 public:
  void OnUse(uint64_t address, uint64_t length) override {
    if (std::this_thread::get_id() != caller) ++elsewhere;
    uses.emplace_back(address, length);
  }
  void OnProgress(const Progress& progress) override {
    if (std::this_thread::get_id() != caller) ++elsewhere;
    reports.push_back(progress);
  }

  std::thread::id caller = std::this_thread::get_id();
  int elsewhere = 0;
  std::vector<std::pair<uint64_t, uint64_t>> uses;
  std::vector<Progress> reports;
};

// The observers are called on the caller's thread only, with the corpus ranges in target
// order (the same as with one thread) and progress that grows with every report.
TEST(CodecRoundTripTest, ObserversHearSegmentsOnTheCallersThreadInOrder) {
  auto reference = RandomBytes(400000, 93);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(1024));
  std::vector<uint8_t> target = reference;
  for (size_t i = 0; i < target.size(); i += 5000) target[i] ^= 1;
  CompressOptions options = SmallBlockOptions(8192);
  constexpr uint64_t kSegment = 32768;  // 13 segments.
  std::vector<std::pair<uint64_t, uint64_t>> uses[2];
  for (int threads : {1, 3}) {
    SCOPED_TRACE(threads);
    CallerObservers observers;
    options.threads = threads;
    options.use_observer = &observers;
    options.progress = &observers;
    CompressStats stats;
    ASSERT_TRUE(EncodeToString(&corpus, target, options, &stats, kSegment).ok());
    EXPECT_EQ(observers.elsewhere, 0);
    EXPECT_GT(observers.uses.size(), 13u);
    ASSERT_FALSE(observers.reports.empty());
    for (size_t i = 1; i < observers.reports.size(); ++i) {
      EXPECT_GT(observers.reports[i].input_bytes, observers.reports[i - 1].input_bytes);
    }
    EXPECT_EQ(observers.reports.back().input_bytes, target.size());
    EXPECT_EQ(observers.reports.back().blocks, stats.blocks);
    uses[threads > 1] = observers.uses;
  }
  EXPECT_EQ(uses[0], uses[1]);

  // An empty target is reported once, with nothing done.
  CallerObservers observers;
  options.progress = &observers;
  options.use_observer = nullptr;
  ASSERT_TRUE(EncodeToString(&corpus, {}, options, nullptr, kSegment).ok());
  ASSERT_EQ(observers.reports.size(), 1u);
  EXPECT_EQ(observers.reports[0].input_bytes, 0u);
}

// A segment starts from a fresh matcher state; the first anchor in it extends backward
// to its first byte, so an unedited target stays copies across segment edges.
TEST(CodecRoundTripTest, SegmentEdgesCostNoCopies) {
  auto reference = RandomBytes(300000, 94);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(1024));
  CompressOptions options = SmallBlockOptions(4096);
  for (Profile profile : {Profile::kFast, Profile::kDefault, Profile::kMax}) {
    SCOPED_TRACE(ProfileName(profile));
    options.profile = profile;
    CompressStats stats;
    auto container = EncodeToString(&corpus, reference, options, &stats, 3 * 4096 + 100);
    ASSERT_TRUE(container.ok());
    // Only what the fast profile cannot extend: the partial chunks at the segments' edges.
    if (profile == Profile::kFast) {
      EXPECT_GT(stats.copy_bytes, reference.size() * 3 / 4);
    } else {
      EXPECT_EQ(stats.copy_bytes, reference.size());
    }
    std::string output;
    ASSERT_TRUE(DecodeFromString(*container, &corpus, &output).ok());
    EXPECT_TRUE(output == AsString(reference));
  }
}

// Blocks are hashed as they are built, in 64 KiB stages or straight from the target for
// longer pieces, on whichever thread matches them. Same container for any thread count.
TEST(CodecRoundTripTest, HashingAsBlocksAreBuiltDoesNotDependOnThreads) {
  auto reference = RandomBytes(1 << 20, 91);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(4096));
  std::vector<uint8_t> target(reference.begin(), reference.begin() + 300000);  // Long copies.
  auto fresh = RandomBytes(200000, 92);  // A literal run longer than a stage.
  target.insert(target.end(), fresh.begin(), fresh.end());
  size_t edited = target.size();
  target.insert(target.end(), reference.begin() + 500000, reference.begin() + 900000);
  for (size_t i = edited; i < target.size(); i += 100) target[i] ^= 0x20;  // Short pieces.
  CompressOptions options = SmallBlockOptions(256u << 10);
  for (Profile profile : {Profile::kDefault, Profile::kMax}) {
    options.profile = profile;
    options.threads = 1;
    auto one = EncodeToString(&corpus, target, options);
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    options.threads = 3;
    auto many = EncodeToString(&corpus, target, options);
    ASSERT_TRUE(many.ok()) << many.status().ToString();
    EXPECT_TRUE(*one == *many) << ProfileName(profile);
    std::string output;
    ASSERT_TRUE(DecodeFromString(*one, &corpus, &output, 1).ok());
    EXPECT_TRUE(output == AsString(target));
  }
}

TEST(CodecRoundTripTest, ExtensionAndResyncCoverEditedChunks) {
  // Scattered one-byte edits, about one per chunk: whole-chunk matching copies little,
  // extension and re-synchronisation cover nearly everything (as copies, or as ADDs
  // where the edits are closer than the COPY runs inside a region).
  auto reference = RandomBytes(200000, 71);
  FakeCorpus corpus(reference, ChunkerParams::ForAverage(1024));
  std::vector<uint8_t> target = reference;
  for (size_t i = 500; i < target.size(); i += 900) target[i] ^= 1;
  std::vector<uint8_t> deleted(target.begin() + 50000, target.begin() + 50007);
  target.erase(target.begin() + 50000, target.begin() + 50007);
  target.insert(target.begin() + 120000, {'n', 'e', 'w'});
  CompressStats fast, standard;
  CompressOptions options = SmallBlockOptions(64u << 10);
  options.profile = Profile::kFast;
  ExpectRoundTrip(&corpus, target, options, &fast);
  options.profile = Profile::kDefault;
  ExpectRoundTrip(&corpus, target, options, &standard);
  EXPECT_LT(fast.copy_bytes, target.size() / 2);
  EXPECT_GT(standard.copy_bytes + standard.delta_bytes, target.size() * 97 / 100);
  EXPECT_LT(standard.output_bytes * 5, fast.output_bytes);
}

TEST(CodecRoundTripTest, EditedRowsThatMovedFarAwayAreFound) {
  // A table dump whose updated rows left their place and came back at the end, edited,
  // as an MVCC database writes them: far from every copy's neighbourhood.
  auto hex = RandomBytes(40000 * 24, 81);
  std::vector<std::string> rows;
  for (size_t i = 0; i < 40000; ++i) {
    std::string row = std::to_string(i) + "\t" + std::to_string(i % 7) + "\t0\t";
    for (size_t j = 0; j < 24; ++j) {
      char buf[3];
      std::snprintf(buf, sizeof buf, "%02x", hex[i * 24 + j]);
      row += buf;
    }
    rows.push_back(row + "\n");
  }
  std::string reference, target, moved;
  for (size_t i = 0; i < rows.size(); ++i) {
    reference += rows[i];
    if (i % 37 == 5) {
      std::string row = rows[i];
      row.replace(row.find("\t0\t"), 3, "\t-" + std::to_string(i % 1000) + "\t");
      moved += row;
    } else {
      target += rows[i];
    }
  }
  target += moved;
  std::vector<uint8_t> ref(reference.begin(), reference.end());
  std::vector<uint8_t> tgt(target.begin(), target.end());
  FakeCorpus corpus(ref, ChunkerParams::ForAverage(1024));
  CompressOptions options = SmallBlockOptions(1u << 20);
  CompressStats fast;
  options.profile = Profile::kFast;
  ExpectRoundTrip(&corpus, tgt, options, &fast);
  for (Profile profile : {Profile::kDefault, Profile::kMax}) {
    SCOPED_TRACE(ProfileName(profile));
    CompressStats stats;
    options.profile = profile;
    ExpectRoundTrip(&corpus, tgt, options, &stats);
    // The rows come from the index of skipped corpus ranges: the rest of the table is
    // whole chunks and needs no search.
    EXPECT_LT(stats.literal_bytes + stats.delta_bytes, moved.size() / 2);
    EXPECT_LT(stats.output_bytes * 4, fast.output_bytes);
  }
}

TEST(CodecRoundTripTest, ProfilesParse) {
  for (Profile p : {Profile::kFast, Profile::kDefault, Profile::kMax}) {
    auto parsed = ParseProfile(ProfileName(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  Status s = ParseProfile("fastest").status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("fast, default or max"), std::string::npos);
}

RC_GTEST_PROP(CodecPropertyTest, StandaloneRoundTrips, (const std::vector<uint8_t>& input)) {
  Status s = RoundTripStatus(nullptr, input, SmallBlockOptions());
  RC_LOG() << s.ToString();
  RC_ASSERT(s.ok());
}

}  // namespace
}  // namespace reducto
