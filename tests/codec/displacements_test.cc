#include "codec/displacements.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <vector>

#include "random_bytes.h"
#include "x86_sample.h"

namespace reducto {
namespace {

// Stored bytes for consecutive ADDs of (reference, target) pairs with one table, then
// decoded with a fresh one: the decoder must rebuild every target exactly.
void ExpectRoundTrip(const std::vector<std::vector<uint8_t>>& references,
                     const std::vector<std::vector<uint8_t>>& targets) {
  DisplacementTable encode_table, decode_table;
  uint64_t offset = 0, address = 1000;
  for (size_t a = 0; a < references.size(); ++a) {
    const auto& r = references[a];
    const auto& t = targets[a];
    std::vector<uint8_t> stored(t.size()), decoded(t.size());
    EncodeAdd(r, t, address, offset, &encode_table, stored.data());
    decoded = r;
    DecodeAdd(stored, address, offset, &decode_table, decoded.data());
    RC_ASSERT(decoded == t);
    offset += t.size();
    address += r.size() * 3;
  }
}

// Bytes drawn mostly from the opcodes and ModRM bytes that start candidates, so that
// candidates overlap and run off the end of an ADD.
std::vector<uint8_t> Adversarial(size_t n) {
  static const std::vector<uint8_t> kAlphabet = {0xe8, 0xe9, 0x0f, 0x80, 0x85, 0x8b, 0x8d,
                                                  0x05, 0x15, 0x48, 0x00, 0xff, 0x10, 0x2d};
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = *rc::gen::elementOf(kAlphabet);
  return out;
}

RC_GTEST_PROP(DisplacementsTest, AnyBytesRoundTrip, ()) {
  const int adds = *rc::gen::inRange(1, 6);
  const bool adversarial = *rc::gen::arbitrary<bool>();
  std::vector<std::vector<uint8_t>> references, targets;
  for (int a = 0; a < adds; ++a) {
    const size_t n = *rc::gen::inRange<size_t>(1, 300);
    std::vector<uint8_t> r =
        adversarial ? Adversarial(n)
                    : *rc::gen::container<std::vector<uint8_t>>(n, rc::gen::arbitrary<uint8_t>());
    std::vector<uint8_t> t = r;
    const int edits = *rc::gen::inRange(0, 20);
    for (int e = 0; e < edits; ++e) {
      t[*rc::gen::inRange<size_t>(0, n)] =
          adversarial ? Adversarial(1)[0] : *rc::gen::arbitrary<uint8_t>();
    }
    references.push_back(std::move(r));
    targets.push_back(std::move(t));
  }
  ExpectRoundTrip(references, targets);
}

// One function grows by 48 bytes: every call across it changes its displacement. After
// the first call to each moved callee, the table predicts the rest: their displacement
// bytes are stored as zeros.
TEST(DisplacementsTest, CallsToAMovedFunctionArePredicted) {
  testing::X86Sample sample;
  std::vector<uint8_t> old_code = testing::MakeX86Sample(sample);
  sample.grown = 20;
  sample.growth = 48;
  std::vector<uint8_t> new_code = testing::MakeX86Sample(sample);
  // Functions 40..63 are moved by 48 bytes and keep their bytes but the displacements:
  // align them and compare.
  const size_t from = 40 * sample.body;
  const size_t n = 24 * sample.body;
  std::span<const uint8_t> reference(old_code.data() + from, n);
  std::span<const uint8_t> target(new_code.data() + from + 48, n);
  // The planted calls sit every 16 bytes from 8 on in each function.
  auto calls_where = [&](auto differs) {
    size_t count = 0;
    for (size_t p = 8; p + 5 <= n; p += 16) {
      if (reference[p] != 0xe8) continue;
      bool any = false;
      for (size_t k = p + 1; k < p + 5; ++k) any |= differs(k);
      count += any;
    }
    return count;
  };
  const size_t changed = calls_where([&](size_t k) { return reference[k] != target[k]; });
  ASSERT_GT(changed, 40u);  // Calls into functions 0..20 changed.

  DisplacementTable table;
  std::vector<uint8_t> stored(n);
  EncodeAdd(reference, target, from, from + 48, &table, stored.data());
  // Without prediction every changed call would be stored as a difference; with it, the
  // first call to each of the 21 functions that did not move is (21), and the few that
  // a candidate in the filler bytes hides from the scan (7 here).
  const size_t stored_nonzero = calls_where([&](size_t k) { return stored[k] != 0; });
  EXPECT_GE(stored_nonzero, 21u);
  EXPECT_LT(stored_nonzero * 3, changed) << "stored " << stored_nonzero << " changed " << changed;
  std::vector<uint8_t> decoded(reference.begin(), reference.end());
  DisplacementTable decode_table;
  DecodeAdd(stored, from, from + 48, &decode_table, decoded.data());
  EXPECT_TRUE(std::equal(decoded.begin(), decoded.end(), target.begin()));
}

TEST(DisplacementsTest, EditsOutsideDisplacementsCountsOtherBytes) {
  // lead byte, then E8 + rel32, then 3 plain bytes.
  std::vector<uint8_t> reference = {0x90, 0xe8, 1, 2, 3, 4, 0x11, 0x22, 0x33};
  std::vector<uint8_t> target = {0x90, 0xe8, 9, 9, 3, 4, 0x11, 0x99, 0x33};
  std::span<const uint8_t> r(reference.data() + 1, 8), t(target.data() + 1, 8);
  EXPECT_EQ(EditsOutsideDisplacements(r, t, 1), 1u);  // 0x22 -> 0x99 only.
  // Without the opcode in view (the span starts inside the displacement), nothing is one.
  std::span<const uint8_t> r2(reference.data() + 2, 7), t2(target.data() + 2, 7);
  EXPECT_EQ(EditsOutsideDisplacements(r2, t2, 0), 3u);
}

}  // namespace
}  // namespace reducto
