// The one switch of fuzzing builds (cmake -DREDUCTO_FUZZ=ON defines REDUCTO_FUZZING):
// the checksum and digest comparisons that guard the container's parsers are skipped,
// so that a fuzzer's mutations reach the parsing behind them instead of stopping at the
// first checksum. Never set in normal builds; the damage tests
// (tests/codec/codec_damage_test.cc, EveryFlippedBitIsDetected) fail if it were.
#ifndef REDUCTO_UTIL_FUZZING_H_
#define REDUCTO_UTIL_FUZZING_H_

namespace reducto {

#ifdef REDUCTO_FUZZING
inline constexpr bool kSkipIntegrityChecks = true;
#else
inline constexpr bool kSkipIntegrityChecks = false;
#endif

}  // namespace reducto

#endif  // REDUCTO_UTIL_FUZZING_H_
