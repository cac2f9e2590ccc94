// A synthetic x86-64 program for the ADD tests: functions of filler bytes that call each
// other (E8 rel32) and load globals (48 8B 05 rel32), laid out one after the other, so
// that growing one function moves every function after it and changes the
// displacement of every call that crosses it, as a rebuild does.
#ifndef REDUCTO_TESTS_CODEC_X86_SAMPLE_H_
#define REDUCTO_TESTS_CODEC_X86_SAMPLE_H_

#include <cstdint>
#include <vector>

#include "random_bytes.h"
#include "util/endian.h"

namespace reducto::testing {

struct X86Sample {
  int functions = 64;
  size_t body = 256;        // Bytes per function before growth.
  int grown = -1;           // The function that grows (-1: none).
  size_t growth = 0;        // By how many bytes (inserted in its middle).
  size_t globals = 4096;    // Data after the code, which the loads address.
  uint64_t seed = 1;
};

inline std::vector<uint8_t> MakeX86Sample(const X86Sample& s) {
  std::vector<uint64_t> start(s.functions + 1, 0);
  for (int f = 0; f < s.functions; ++f) {
    start[f + 1] = start[f] + s.body + (f == s.grown ? s.growth : 0);
  }
  const uint64_t data = start[s.functions];
  std::vector<uint8_t> out(data + s.globals);
  for (int f = 0; f < s.functions; ++f) {
    std::vector<uint8_t> filler = RandomBytes(s.body, s.seed * 1000 + static_cast<uint64_t>(f));
    uint64_t state = s.seed * 7919 + static_cast<uint64_t>(f);
    uint64_t at = start[f];
    for (size_t i = 0; i < s.body; ++i) {
      if (f == s.grown && i == s.body / 2) {
        std::vector<uint8_t> extra = RandomBytes(s.growth, s.seed + 99);
        for (uint8_t b : extra) out[at++] = b;
      }
      out[at++] = filler[i];
    }
    // Every 16 bytes (from 8 on, outside the grown middle) a call or a load overwrites
    // the filler, so instructions keep their offsets inside the function's halves.
    for (size_t i = 8; i + 8 <= s.body; i += 16) {
      uint64_t pos = start[f] + i + (f == s.grown && i >= s.body / 2 ? s.growth : 0);
      if (f == s.grown && i < s.body / 2 && i + 8 > s.body / 2) continue;
      uint64_t r = SplitMix64(&state);
      if (r % 3 != 0) {
        uint64_t callee = start[(r >> 8) % static_cast<uint64_t>(s.functions)];
        out[pos] = 0xe8;
        StoreLe<uint32_t>(out.data() + pos + 1, static_cast<uint32_t>(callee - (pos + 5)));
      } else {
        uint64_t global = data + ((r >> 8) % (s.globals / 8)) * 8;
        out[pos] = 0x48;
        out[pos + 1] = 0x8b;
        out[pos + 2] = 0x05;
        StoreLe<uint32_t>(out.data() + pos + 3, static_cast<uint32_t>(global - (pos + 7)));
      }
    }
  }
  std::vector<uint8_t> globals = RandomBytes(s.globals, s.seed + 5);
  std::copy(globals.begin(), globals.end(), out.begin() + static_cast<ptrdiff_t>(data));
  return out;
}

}  // namespace reducto::testing

#endif  // REDUCTO_TESTS_CODEC_X86_SAMPLE_H_
