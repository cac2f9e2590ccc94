// The profile table: each profile's search is valid and does what reducto/codec.h says.
#include "codec/profiles.h"

#include <gtest/gtest.h>

namespace reducto {
namespace {

TEST(ProfilesTest, EveryProfileHasValidParams) {
  for (Profile p : {Profile::kFast, Profile::kDefault, Profile::kMax}) {
    EXPECT_TRUE(ValidateMatchParams(ParamsFor(p)).ok()) << ProfileName(p);
  }
}

TEST(ProfilesTest, EachProfileAddsToTheOneBefore) {
  MatchParams fast = ParamsFor(Profile::kFast);
  EXPECT_FALSE(fast.extend || fast.resync || fast.delta);
  MatchParams normal = ParamsFor(Profile::kDefault);
  EXPECT_TRUE(normal.extend && normal.resync && normal.fine);
  EXPECT_FALSE(normal.delta);
  MatchParams max = ParamsFor(Profile::kMax);
  EXPECT_TRUE(max.extend && max.resync && max.fine && max.delta);
  EXPECT_GT(max.delta_refine_level, DefaultLevel(Profile::kMax));
  EXPECT_TRUE(ValidateMatchParams(max).ok());
}

TEST(ProfilesTest, LevelIsTheCallersElseTheProfiles) {
  CompressOptions options;
  options.profile = Profile::kMax;
  EXPECT_EQ(LevelFor(options), DefaultLevel(Profile::kMax));
  options.level = 19;
  EXPECT_EQ(LevelFor(options), 19);
}

}  // namespace
}  // namespace reducto
