// The byte-level matcher: comparisons, extension across pack segments, and where the
// local search finds what.
#include "codec/matcher.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "codec_test_util.h"
#include "fake_corpus.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ScratchDir;

// A corpus of several pack segments (as a corpus with versions has), over one byte
// vector: Read copies into scratch when a range spans segments. Chunks are indexed as
// in FakeCorpus.
class SegmentedCorpus final : public CorpusReader {
 public:
  SegmentedCorpus(std::vector<uint8_t> bytes, std::vector<uint64_t> sizes)
      : bytes_(std::move(bytes)), index_(bytes_, ChunkerParams::ForAverage(256)) {
    uint64_t base = 0;
    for (uint64_t size : sizes) {
      info_.segments.push_back({"pack/" + std::to_string(base), base, size, {}, std::nullopt, std::nullopt});
      base += size;
    }
    info_.segments.push_back({"pack/last", base, bytes_.size() - base, {}, std::nullopt, std::nullopt});
    info_.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    info_.path = "segmented";
    info_.chunking = ChunkerParams::ForAverage(256);
  }
  const CorpusInfo& info() const override { return info_; }
  uint64_t size() const override { return bytes_.size(); }
  Status Lookup(uint64_t weak_key, std::vector<ChunkCandidate>* out) const override {
    return index_.Lookup(weak_key, out);
  }
  Result<std::span<const uint8_t>> Read(uint64_t address, uint64_t length,
                                        std::vector<uint8_t>* scratch) const override {
    if (address > bytes_.size() || length > bytes_.size() - address) {
      return Status::InvalidArgument("outside");
    }
    for (const CorpusSegment& s : info_.segments) {
      if (address >= s.base && address + length <= s.base + s.size) {
        return std::span<const uint8_t>(bytes_).subspan(address, length);
      }
    }
    scratch->assign(bytes_.begin() + address, bytes_.begin() + address + length);
    return std::span<const uint8_t>(*scratch);
  }

 private:
  std::vector<uint8_t> bytes_;
  testing::FakeCorpus index_;
  CorpusInfo info_;
};

TEST(CommonBytesTest, PrefixAndSuffix) {
  std::string a = "0123456789abcdefghij", b = "0123456789abcdefXhij";
  auto p = [](const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); };
  EXPECT_EQ(CommonPrefix(p(a), p(b), a.size()), 16u);
  EXPECT_EQ(CommonPrefix(p(a), p(a), 5), 5u);
  EXPECT_EQ(CommonSuffix(p(a) + a.size(), p(b) + b.size(), a.size()), 3u);
  EXPECT_EQ(CommonSuffix(p(a) + 7, p(b) + 7, 7), 7u);
  EXPECT_EQ(CommonPrefix(p(a), p(b), 0), 0u);
}

RC_GTEST_PROP(CommonBytesTest, AgreeWithAByteLoop, ()) {
  auto a = *rc::gen::container<std::vector<uint8_t>>(rc::gen::inRange<uint8_t>(0, 3));
  auto b = a;
  if (!b.empty()) b[*rc::gen::inRange<size_t>(0, b.size())] ^= 1;
  size_t prefix = 0;
  while (prefix < a.size() && a[prefix] == b[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < a.size() && a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) ++suffix;
  RC_ASSERT(CommonPrefix(a.data(), b.data(), a.size()) == prefix);
  RC_ASSERT(CommonSuffix(a.data() + a.size(), b.data() + b.size(), a.size()) == suffix);
}

TEST(CorpusViewTest, ExtendsAcrossSegments) {
  auto bytes = RandomBytes(10000, 3);
  SegmentedCorpus corpus(bytes, {3000, 4000});  // Segments at 0, 3000 and 7000.
  auto view = CorpusView::Open(corpus);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->size(), 10000u);
  EXPECT_EQ(view->From(2990).size(), 10u);
  EXPECT_EQ(view->Before(3000).size(), 3000u);
  EXPECT_EQ(view->Before(3001).size(), 1u);
  EXPECT_EQ(view->At(2995, 8), nullptr);  // Spans two segments.
  EXPECT_NE(view->At(3000, 8), nullptr);
  EXPECT_TRUE(view->From(10000).empty());
  EXPECT_TRUE(view->Before(0).empty());

  // The target is corpus [1000, 9000) with one byte changed at 8500.
  std::vector<uint8_t> target(bytes.begin() + 1000, bytes.begin() + 9000);
  target[7500] ^= 0xff;
  std::span<const uint8_t> t(target);
  EXPECT_EQ(ExtendForward(*view, t.subspan(1000), 2000), 6500u);
  EXPECT_EQ(ExtendBackward(*view, t.first(7000), 8000), 7000u);
  EXPECT_EQ(ExtendBackward(*view, t.first(7600), 8600), 99u);
  // At the end of the corpus, extension stops.
  EXPECT_EQ(ExtendForward(*view, std::span<const uint8_t>(bytes).subspan(9990), 9990), 10u);
}

class LocalMatcherTest : public ::testing::Test {
 protected:
  LocalMatcherTest()
      : reference_(RandomBytes(200000, 5)),
        corpus_(reference_, ChunkerParams::ForAverage(1024)),
        view_(*CorpusView::Open(corpus_)) {}

  // Runs the matcher over `target` as one gap after a copy that ended at target
  // offset 0 = corpus `aligned_at`, and returns the pieces.
  std::vector<Piece> Fill(LocalMatcher& matcher, const std::vector<uint8_t>& target,
                          uint64_t aligned_at) {
    matcher.NoteCopy(0, aligned_at, 0);
    std::vector<Piece> pieces;
    matcher.FillGap(target, 0, std::nullopt, &pieces);
    uint64_t covered = 0;
    for (const Piece& p : pieces) {
      EXPECT_EQ(p.offset, covered);
      if (p.copy) {
        EXPECT_TRUE(std::equal(target.begin() + p.offset, target.begin() + p.offset + p.length,
                               reference_.begin() + p.address));
      }
      covered += p.length;
    }
    EXPECT_EQ(covered, target.size());
    return pieces;
  }

  std::vector<uint8_t> reference_;
  testing::FakeCorpus corpus_;
  CorpusView view_;
};

TEST_F(LocalMatcherTest, SubstitutionsResumeAtTheSameAlignment) {
  std::vector<uint8_t> target(reference_.begin() + 50000, reference_.begin() + 60000);
  for (size_t i = 40; i < target.size(); i += 75) target[i] ^= 0x10;
  LocalMatcher matcher(view_, MatchParams{});
  auto pieces = Fill(matcher, target, 50000);
  uint64_t copied = 0;
  for (const Piece& p : pieces) copied += p.copy ? p.length : 0;
  EXPECT_GT(copied, target.size() * 95 / 100);
  EXPECT_GT(matcher.stats().copies[static_cast<int>(LocalMatcher::Source::kRepeat)], 100u);
}

// Rebuilt code: a four-byte field changed every 14 bytes leaves runs of 10 unchanged
// bytes, too short to copy, but in a block known to be code (with ADD) they are copies
// at the previous alignment, which the block builder joins into one ADD.
TEST_F(LocalMatcherTest, ShortRunsAtTheSameAlignmentAreCopiesInCode) {
  std::vector<uint8_t> target(reference_.begin() + 50000, reference_.begin() + 60000);
  for (size_t i = 10; i + 4 <= target.size(); i += 14) {
    for (size_t k = i; k < i + 4; ++k) target[k] ^= 0x5a;
  }
  MatchParams params;
  params.add = true;
  params.min_code_repeat_copy = 10;
  ASSERT_TRUE(ValidateMatchParams(params).ok());
  for (bool code : {false, true}) {
    LocalMatcher matcher(view_, params);
    matcher.set_code(code);
    uint64_t copied = 0;
    for (const Piece& p : Fill(matcher, target, 50000)) {
      if (!p.copy) continue;
      copied += p.length;
      EXPECT_EQ(p.address - p.offset, 50000u);
    }
    if (code) {
      EXPECT_GT(copied, target.size() * 6 / 10);
    } else {
      EXPECT_EQ(copied, 0u);
    }
  }
}

TEST_F(LocalMatcherTest, InsertionsAndDeletionsAreFoundInTheLocalIndex) {
  std::vector<uint8_t> target(reference_.begin() + 80000, reference_.begin() + 84000);
  auto fresh = RandomBytes(37, 9);
  target.insert(target.end(), fresh.begin(), fresh.end());                        // Insertion.
  target.insert(target.end(), reference_.begin() + 84000, reference_.begin() + 88000);
  target.insert(target.end(), reference_.begin() + 88100, reference_.begin() + 92000);  // Deletion.
  target.insert(target.end(), reference_.begin() + 70000, reference_.begin() + 71000);  // From behind.
  LocalMatcher matcher(view_, MatchParams{});
  auto pieces = Fill(matcher, target, 80000);
  uint64_t literal = 0;
  for (const Piece& p : pieces) literal += p.copy ? 0 : p.length;
  EXPECT_LE(literal, 37u + 16u);
  EXPECT_GT(matcher.stats().copies[static_cast<int>(LocalMatcher::Source::kLocal)], 0u);
}

TEST_F(LocalMatcherTest, SkippedRangesComeBackFromFarAway) {
  MatchParams params;
  params.skipped_bits = 16;
  LocalMatcher matcher(view_, params);
  // A copy, a skipped range of 300 bytes, another copy: the skipped bytes are indexed.
  matcher.NoteCopy(0, 10000, 1000);
  matcher.NoteCopy(1000, 11300, 1000);
  // Much later, far from the copies' region, the skipped bytes return.
  std::vector<uint8_t> target(reference_.begin() + 11000, reference_.begin() + 11300);
  std::vector<Piece> pieces;
  matcher.NoteCopy(100000, 150000, 5000);
  matcher.FillGap(target, 105000, std::nullopt, &pieces);
  uint64_t copied = 0;
  for (const Piece& p : pieces) copied += p.copy ? p.length : 0;
  EXPECT_GT(copied, 250u);
  EXPECT_GT(matcher.stats().copies[static_cast<int>(LocalMatcher::Source::kSkipped)], 0u);
}

TEST_F(LocalMatcherTest, NewDataIsCrossedInGrowingStepsSlowerWhileFineIndexesAreLookedUp) {
  // Nothing in 100,000 new bytes matches. After m misses the scan is about
  // m + m^2 / 2^(skip_log + 1) bytes on: 1,773 look-ups for skip_log 4, 3,515 for 6.
  std::vector<uint8_t> target = RandomBytes(100000, 77);
  LocalMatcher plain(view_, MatchParams{});
  Fill(plain, target, 50000);
  EXPECT_GT(plain.stats().positions, 1700u);
  EXPECT_LT(plain.stats().positions, 1850u);

  ScratchDir dir;
  std::filesystem::create_directories(dir.Join("fine"));
  auto file = WriteFineIndex(reference_, dir.path(), FineFileName(0));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto fine = FineIndex::Open(dir.Join(file->file), *file, reference_.size());
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  corpus_.SetFineIndexes({FineIndexView{&*fine, 0}});
  auto view = CorpusView::Open(corpus_);
  ASSERT_TRUE(view.ok());
  MatchParams params;
  params.fine = true;
  LocalMatcher with_fine(*view, params);
  Fill(with_fine, target, 50000);
  EXPECT_GT(with_fine.stats().positions, 3400u);
  EXPECT_LT(with_fine.stats().positions, 3600u);
  EXPECT_EQ(with_fine.stats().fine_lookups, with_fine.stats().positions);
}

// After 10,000 new bytes (more than widen_after), code that moved 80 KB away from where
// the last copy's alignment predicts it: beyond the regions the local search indexes
// (16 KiB either side), within them once they widen eight times.
TEST_F(LocalMatcherTest, MovedBytesFarFromThePredictionAreFoundOnceTheSearchWidens) {
  std::vector<uint8_t> target = RandomBytes(10000, 31);
  target.insert(target.end(), reference_.begin() + 100000, reference_.begin() + 110000);
  auto copied_with = [&](uint32_t widen) {
    MatchParams params;
    params.widen = widen;
    LocalMatcher matcher(view_, params);
    uint64_t copied = 0;
    for (const Piece& p : Fill(matcher, target, 10000)) copied += p.copy ? p.length : 0;
    return copied;
  };
  EXPECT_EQ(copied_with(1), 0u);
  EXPECT_GT(copied_with(8), 9900u);
}

TEST_F(LocalMatcherTest, WithoutResyncEverythingIsLiteral) {
  MatchParams params;
  params.resync = false;
  LocalMatcher matcher(view_, params);
  std::vector<uint8_t> target(reference_.begin(), reference_.begin() + 5000);
  auto pieces = Fill(matcher, target, 0);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_FALSE(pieces[0].copy);
}

TEST(MatchParamsTest, AreValidated) {
  EXPECT_TRUE(ValidateMatchParams(MatchParams{}).ok());
  MatchParams p;
  p.window = 3;
  EXPECT_FALSE(ValidateMatchParams(p).ok());
  p = MatchParams{};
  p.min_copy = 15;
  EXPECT_FALSE(ValidateMatchParams(p).ok());
  p = MatchParams{};
  p.delta_max_reference = (16u << 20) + 1;
  EXPECT_FALSE(ValidateMatchParams(p).ok());
  p = MatchParams{};
  p.skipped_bits = 27;
  EXPECT_FALSE(ValidateMatchParams(p).ok());
  p = MatchParams{};
  p.fine_skip_log = 0;
  EXPECT_FALSE(ValidateMatchParams(p).ok());
  p = MatchParams{};
  p.widen = 0;
  EXPECT_FALSE(ValidateMatchParams(p).ok());
  // Repeat copies shorter than a COPY are for ADD regions only, and never under 8 bytes.
  p = MatchParams{};
  p.min_repeat_copy = 10;
  EXPECT_FALSE(ValidateMatchParams(p).ok());
  p.add = true;
  EXPECT_TRUE(ValidateMatchParams(p).ok());
  p.min_code_repeat_copy = 7;
  EXPECT_FALSE(ValidateMatchParams(p).ok());
}

// Copies and DELTA references may span pack segments; the decoder gathers them.
RC_GTEST_PROP(SegmentedCorpusTest, RoundTripsAcrossSegments, ()) {
  auto reference = RandomBytes(*rc::gen::inRange<size_t>(20000, 60000), 11);
  uint64_t first = *rc::gen::inRange<uint64_t>(1, reference.size() / 2);
  uint64_t second = *rc::gen::inRange<uint64_t>(1, reference.size() / 2);
  SegmentedCorpus corpus(reference, {first, second});
  std::vector<uint8_t> target = reference;
  for (size_t i = *rc::gen::inRange<size_t>(0, 50); i < target.size();
       i += *rc::gen::inRange<size_t>(300, 3000)) {
    target[i] ^= 0x42;
  }
  CompressOptions options = testing::SmallBlockOptions(8192);
  options.profile = *rc::gen::element(Profile::kFast, Profile::kDefault, Profile::kMax);
  CompressStats stats;
  auto container = testing::EncodeToString(&corpus, target, options, &stats);
  RC_ASSERT(container.ok());
  RC_CLASSIFY(stats.deltas > 0, "with deltas or ADDs");
  RC_ASSERT(stats.copies + stats.deltas > 0);
  std::string output;
  auto decoded = testing::DecodeFromString(*container, &corpus, &output);
  RC_LOG() << decoded.status().ToString();
  RC_ASSERT(decoded.ok());
  RC_ASSERT(output == testing::AsString(target));
}

}  // namespace
}  // namespace reducto
