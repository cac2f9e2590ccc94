#include "serve/http_semantics.h"

#include <gtest/gtest.h>

namespace reducto::serve {
namespace {

std::vector<std::pair<uint64_t, uint64_t>> Ranges(const RangeRequest& r) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const ByteRange& range : r.ranges) out.emplace_back(range.first, range.length);
  return out;
}

TEST(ParseRangeTest, SingleSuffixOpenAndClamped) {
  RangeRequest r = ParseRange("bytes=100-199", 1000);
  EXPECT_EQ(r.outcome, RangeOutcome::kPartial);
  EXPECT_EQ(Ranges(r), (std::vector<std::pair<uint64_t, uint64_t>>{{100, 100}}));
  EXPECT_EQ(Ranges(ParseRange("bytes=-10", 1000)),
            (std::vector<std::pair<uint64_t, uint64_t>>{{990, 10}}));
  EXPECT_EQ(Ranges(ParseRange("bytes=-5000", 1000)),
            (std::vector<std::pair<uint64_t, uint64_t>>{{0, 1000}}));
  EXPECT_EQ(Ranges(ParseRange("bytes=900-", 1000)),
            (std::vector<std::pair<uint64_t, uint64_t>>{{900, 100}}));
  EXPECT_EQ(Ranges(ParseRange("bytes=990-99999", 1000)),
            (std::vector<std::pair<uint64_t, uint64_t>>{{990, 10}}));
}

TEST(ParseRangeTest, SeveralRangesKeepTheirOrderAndDropUnsatisfiableOnes) {
  RangeRequest r = ParseRange("bytes=500-509, 0-9 ,2000-3000,", 1000);
  EXPECT_EQ(r.outcome, RangeOutcome::kPartial);
  EXPECT_EQ(Ranges(r), (std::vector<std::pair<uint64_t, uint64_t>>{{500, 10}, {0, 10}}));
}

TEST(ParseRangeTest, UnsatisfiableRanges) {
  EXPECT_EQ(ParseRange("bytes=1000-", 1000).outcome, RangeOutcome::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 1000).outcome, RangeOutcome::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-", 0).outcome, RangeOutcome::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-5", 0).outcome, RangeOutcome::kUnsatisfiable);
}

TEST(ParseRangeTest, MalformedHeadersAreIgnored) {
  for (const char* header : {"", "bytes=", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=1",
                             "bytes=--1", "bytes=+1-2", "bytes=0-1,x", "bytes= ,",
                             "bytes=99999999999999999999999-"}) {
    EXPECT_EQ(ParseRange(header, 1000).outcome, RangeOutcome::kWhole) << header;
  }
}

TEST(ParseRangeTest, TooManyRangesAreIgnored) {
  std::string header = "bytes=0-0";
  for (size_t i = 1; i < kMaxRanges; ++i) header += "," + std::to_string(i) + "-" + std::to_string(i);
  EXPECT_EQ(ParseRange(header, 1000).outcome, RangeOutcome::kPartial);
  header += ",999-999";
  EXPECT_EQ(ParseRange(header, 1000).outcome, RangeOutcome::kWhole);
}

TEST(HttpDateTest, RoundTripsAndRejectsOtherForms) {
  EXPECT_EQ(HttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), std::optional<int64_t>(784111777));
  EXPECT_EQ(ParseHttpDate(HttpDate(1700000000)), std::optional<int64_t>(1700000000));
  EXPECT_FALSE(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun Nov  6 08:49:37 1994"));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Foo 1994 08:49:37 GMT"));
}

TEST(IfNoneMatchTest, WeakComparisonOverAList) {
  EXPECT_TRUE(IfNoneMatchMatches("\"a\"", "\"a\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", W/\"a\"", "\"a\""));
  EXPECT_TRUE(IfNoneMatchMatches("*", "\"a\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"b\"", "\"a\""));
  EXPECT_FALSE(IfNoneMatchMatches("", "\"a\""));
}

}  // namespace
}  // namespace reducto::serve
