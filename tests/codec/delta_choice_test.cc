// Delta selection: how the pieces between kept copies form runs, and when a run becomes
// a DELTA.
#include "codec/delta_choice.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <vector>

#include "codec/profiles.h"
#include "fake_corpus.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::FakeCorpus;
using testing::RandomBytes;

Piece Literal(uint64_t offset, uint64_t length) { return {offset, length, false, 0}; }
Piece Copy(uint64_t offset, uint64_t length, uint64_t address) {
  return {offset, length, true, address};
}

TEST(EndOfRunTest, EndsAtAKeptCopy) {
  const MatchParams params = ParamsFor(Profile::kMax);
  std::vector<Piece> pieces = {Literal(0, 10), Copy(10, 20, 500), Literal(30, 5),
                               Copy(35, params.delta_keep_copy, 900), Literal(1059, 3)};
  EXPECT_EQ(EndOfRun(&pieces, 0, 1u << 20, params), 3u);
  EXPECT_EQ(pieces.size(), 5u);
  EXPECT_EQ(EndOfRun(&pieces, 4, 1u << 20, params), 5u);
}

TEST(EndOfRunTest, SplitsThePieceThatCrossesTheCap) {
  const MatchParams params = ParamsFor(Profile::kMax);
  std::vector<Piece> pieces = {Literal(100, 10), Copy(110, 50, 7000), Literal(160, 10)};
  EXPECT_EQ(EndOfRun(&pieces, 0, 30, params), 2u);
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces[1].offset, 110u);
  EXPECT_EQ(pieces[1].length, 20u);
  // The tail starts the next run, still a copy of the bytes that follow.
  EXPECT_TRUE(pieces[2].copy);
  EXPECT_EQ(pieces[2].offset, 130u);
  EXPECT_EQ(pieces[2].length, 30u);
  EXPECT_EQ(pieces[2].address, 7020u);
  // A piece that starts at the cap is not split: the run ends before it.
  EXPECT_EQ(EndOfRun(&pieces, 2, 30, params), 3u);
  EXPECT_EQ(pieces.size(), 4u);
}

class DeltaChooserTest : public ::testing::Test {
 protected:
  DeltaChooserTest()
      : corpus_(RandomBytes(5000, 17), ChunkerParams::ForAverage(256)),
        params_(ParamsFor(Profile::kMax)),
        chooser_(corpus_, params_, DefaultLevel(Profile::kMax)) {}

  // Corpus [from, from + length) with every 50th byte changed (a recompiled binary).
  std::vector<uint8_t> Edited(size_t from, size_t length) const {
    std::vector<uint8_t> out(corpus_.bytes().begin() + from,
                             corpus_.bytes().begin() + from + length);
    for (size_t i = 7; i < out.size(); i += 50) out[i] ^= 0x5a;
    return out;
  }

  // The DELTA's payload decoded against its reference (empty if zstd fails).
  std::vector<uint8_t> Decoded(const DeltaChoice& delta, size_t run_size) const {
    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    ZSTD_DCtx_refPrefix(dctx, corpus_.bytes().data() + delta.address, delta.reference_length);
    std::vector<uint8_t> decoded(run_size);
    size_t n = ZSTD_decompressDCtx(dctx, decoded.data(), decoded.size(), delta.payload.data(),
                                   delta.payload.size());
    ZSTD_freeDCtx(dctx);
    if (ZSTD_isError(n) || n != run_size) decoded.clear();
    return decoded;
  }

  FakeCorpus corpus_;
  MatchParams params_;
  DeltaChooser chooser_;
};

TEST_F(DeltaChooserTest, AnEditedRegionBecomesADeltaThatDecodesToTheRun) {
  const std::vector<uint8_t> run = Edited(1000, 2000);
  const std::vector<Piece> pieces = {Literal(10000, run.size())};
  const uint64_t before = uint64_t{1000} - 10000;  // Corpus address - target offset.
  auto chosen = chooser_.Choose(pieces, run, {before, std::nullopt});
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  ASSERT_TRUE(chosen->has_value());
  const DeltaChoice& delta = **chosen;
  // The aligned region and delta_margin bytes around it, within the corpus.
  EXPECT_EQ(delta.address, 0u);
  EXPECT_EQ(delta.reference_length, corpus_.bytes().size());
  EXPECT_LT(delta.payload.size(), run.size() / 2);

  EXPECT_EQ(Decoded(delta, run.size()), run);
}

// A DELTA that wins at the container's level is compressed again at
// delta_refine_level: the payload sent is the smaller one, and decodes to the run.
TEST_F(DeltaChooserTest, AWinningDeltaIsRefinedAtAHigherLevel) {
  // An edited copy of text-like corpus bytes, where zstd's higher levels parse better.
  std::vector<uint8_t> run = Edited(500, 4000);
  for (size_t i = 3; i < run.size(); i += 37) run[i] = static_cast<uint8_t>('a' + i % 26);
  const std::vector<Piece> pieces = {Literal(10000, run.size())};
  const RunContext context{uint64_t{500} - 10000, std::nullopt};
  MatchParams plain = params_;
  plain.delta_refine_level = 0;
  DeltaChooser unrefined(corpus_, plain, DefaultLevel(Profile::kMax));
  auto first = unrefined.Choose(pieces, run, context);
  ASSERT_TRUE(first.ok() && first->has_value());
  const size_t unrefined_size = (*first)->payload.size();

  ASSERT_GT(params_.delta_refine_level, DefaultLevel(Profile::kMax));
  auto chosen = chooser_.Choose(pieces, run, context);
  ASSERT_TRUE(chosen.ok() && chosen->has_value());
  const DeltaChoice& delta = **chosen;
  EXPECT_LT(delta.payload.size(), unrefined_size);  // 373 against 385 bytes (zstd 1.5.4).
  EXPECT_EQ(Decoded(delta, run.size()), run);
}

// The block builder turns a literal that near-matches the corpus under its neighbour's
// alignment into an ADD (a near-match extension) in a block known to be code, so the
// run is priced as that ADD, which costs less than the DELTA above. Priced as a literal,
// a DELTA took such runs and made ci-build's max container 28% larger than without DELTA.
TEST_F(DeltaChooserTest, ANearMatchInCodeIsPricedAsTheAddItBecomes) {
  const std::vector<uint8_t> run = Edited(1000, 2000);
  const std::vector<Piece> pieces = {Literal(10000, run.size())};
  const uint64_t before = uint64_t{1000} - 10000;
  auto in_code = chooser_.Choose(pieces, run, {before, std::nullopt, /*block_is_code=*/true});
  ASSERT_TRUE(in_code.ok()) << in_code.status().ToString();
  EXPECT_FALSE(in_code->has_value());
  // Without ADD the literal stays a literal, and the DELTA wins.
  MatchParams no_add = params_;
  no_add.add = false;
  DeltaChooser without_add(corpus_, no_add, DefaultLevel(Profile::kMax));
  auto chosen = without_add.Choose(pieces, run, {before, std::nullopt, true});
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_TRUE(chosen->has_value());
}

TEST_F(DeltaChooserTest, NoDeltaWithoutANeighbourOrWithoutLiterals) {
  const std::vector<uint8_t> run = Edited(1000, 2000);
  const std::vector<Piece> literal = {Literal(10000, run.size())};
  auto alone = chooser_.Choose(literal, run, {});
  ASSERT_TRUE(alone.ok());
  EXPECT_FALSE(alone->has_value());

  const std::vector<Piece> copies = {Copy(10000, 1000, 1000), Copy(11000, 1000, 2000)};
  auto copied = chooser_.Choose(copies, run, {uint64_t{1000} - 10000, std::nullopt});
  ASSERT_TRUE(copied.ok());
  EXPECT_FALSE(copied->has_value());
}

TEST_F(DeltaChooserTest, NoDeltaForNewBytes) {
  const std::vector<uint8_t> run = RandomBytes(2000, 99);
  const std::vector<Piece> pieces = {Literal(10000, run.size())};
  auto chosen = chooser_.Choose(pieces, run, {uint64_t{1000} - 10000, std::nullopt});
  ASSERT_TRUE(chosen.ok());
  EXPECT_FALSE(chosen->has_value());
}

}  // namespace
}  // namespace reducto
