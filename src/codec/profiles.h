// The profile table: what each Profile (reducto/codec.h) searches for (MatchParams) and
// the zstd level it compresses at. ProfileName, DefaultLevel and ParseProfile, declared
// in reducto/codec.h, are defined beside it (profiles.cc).
//
// Thread safety: pure functions.
#ifndef REDUCTO_CODEC_PROFILES_H_
#define REDUCTO_CODEC_PROFILES_H_

#include "codec/matcher.h"
#include "reducto/codec.h"

namespace reducto {

// The search `profile` runs. Chosen by measurement on the bench pairs (see
// docs/format.md, "Defaults and why"). The result passes ValidateMatchParams.
MatchParams ParamsFor(Profile profile);

// The zstd level a run compresses at: options.level, else the profile's DefaultLevel.
// Not range-checked.
int LevelFor(const CompressOptions& options);

}  // namespace reducto

#endif  // REDUCTO_CODEC_PROFILES_H_
