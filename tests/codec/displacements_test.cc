#include "codec/displacements.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <span>
#include <vector>

#include "codec/format.h"
#include "random_bytes.h"
#include "x86_sample.h"

namespace reducto {
namespace {

// Stored bytes for consecutive ADDs of (reference, target) pairs with one table, then
// decoded with a fresh one: the decoder must rebuild every target exactly.
void ExpectRoundTrip(const std::vector<std::vector<uint8_t>>& references,
                     const std::vector<std::vector<uint8_t>>& targets, uint16_t version) {
  DisplacementTable encode_table, decode_table;
  encode_table.Clear(version);
  decode_table.Clear(version);
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

// The candidate rule of docs/format.md ("ADD"), written from the text one byte at a time.
std::vector<size_t> CandidatesAsSpecified(const std::vector<uint8_t>& r) {
  auto in = [](uint8_t b, std::initializer_list<uint8_t> set) {
    return std::find(set.begin(), set.end(), b) != set.end();
  };
  auto modrm_after_0f = [](uint8_t b) {
    return (b >= 0x10 && b <= 0x2f) || (b >= 0x40 && b <= 0x7f) || (b >= 0x90 && b <= 0x9f) ||
           b == 0xaf || b == 0xb6 || b == 0xb7 || b == 0xbe || b == 0xbf;
  };
  auto rip = [](uint8_t m) { return (m & 0xc7) == 0x05; };
  std::vector<size_t> found;
  const size_t len = r.size();
  size_t i = 0;
  while (i + 5 <= len) {
    size_t k = 0;
    if (r[i] == 0xe8 || r[i] == 0xe9) {
      k = i + 1;
    } else if (r[i] == 0x0f && i + 2 < len && r[i + 1] >= 0x80 && r[i + 1] <= 0x8f) {
      k = i + 2;
    } else if (r[i] == 0x0f && i + 3 < len && modrm_after_0f(r[i + 1]) && rip(r[i + 2])) {
      k = i + 3;
    } else if (i + 2 < len && rip(r[i + 1]) &&
               in(r[i], {0x01, 0x03, 0x09, 0x0b, 0x21, 0x23, 0x29, 0x2b, 0x63, 0x80, 0x81,
                         0x83, 0x84, 0x85, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8d, 0xc6, 0xc7,
                         0xf6, 0xf7, 0xfe, 0xff})) {
      k = i + 2;
    }
    if (k != 0 && k + 4 <= len) {
      found.push_back(k);
      i = k + 4;
    } else {
      ++i;
    }
  }
  return found;
}

// The decoder's fast scan (eight bytes at a time) finds exactly the specified
// candidates, on random bytes, on bytes drawn from the opcode alphabet, and on code.
RC_GTEST_PROP(DisplacementsTest, TheScanFindsTheSpecifiedCandidates, ()) {
  const size_t n = *rc::gen::inRange<size_t>(0, 400);
  const bool adversarial = *rc::gen::arbitrary<bool>();
  const std::vector<uint8_t> r =
      adversarial ? Adversarial(n)
                  : *rc::gen::container<std::vector<uint8_t>>(n, rc::gen::arbitrary<uint8_t>());
  RC_ASSERT(CandidateDisplacements(r) == CandidatesAsSpecified(r));
}

TEST(DisplacementsTest, TheScanFindsTheSpecifiedCandidatesInCode) {
  const std::vector<uint8_t> code = testing::MakeX86Sample(testing::X86Sample{});
  const std::vector<size_t> found = CandidateDisplacements(code);
  EXPECT_GT(found.size(), code.size() / 64);
  EXPECT_EQ(found, CandidatesAsSpecified(code));
}

RC_GTEST_PROP(DisplacementsTest, AnyBytesRoundTrip, ()) {
  const int adds = *rc::gen::inRange(1, 6);
  const bool adversarial = *rc::gen::arbitrary<bool>();
  std::vector<std::vector<uint8_t>> references, targets;
  for (int a = 0; a < adds; ++a) {
    // Up to 1500 bytes: adversarial ones hold a few hundred candidates, more than the
    // decoder takes in one batch.
    const size_t n = *rc::gen::inRange<size_t>(1, 1500);
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
  ExpectRoundTrip(references, targets, *rc::gen::element(format::kVersion5, format::kVersion6));
}

// One function grows by 48 bytes: every call across it changes its displacement. After
// the first call to each moved callee, the table predicts the rest: their displacement
// bytes are stored as zeros. From version 6, a callee not called yet is predicted from
// its region (4 KiB of the old program), once two calls into the region agreed.
class CallsToAMovedFunction : public ::testing::Test {
 protected:
  CallsToAMovedFunction() {
    old_code_ = testing::MakeX86Sample(sample_);
    sample_.grown = 20;
    sample_.growth = 48;
    new_code_ = testing::MakeX86Sample(sample_);
  }

  // Functions 40..63 are moved by 48 bytes and keep their bytes but the displacements:
  // the ADD aligns them.
  size_t from() const { return 40 * sample_.body; }
  size_t length() const { return 24 * sample_.body; }
  std::span<const uint8_t> reference() const {
    return std::span<const uint8_t>(old_code_).subspan(from(), length());
  }
  std::span<const uint8_t> target() const {
    return std::span<const uint8_t>(new_code_).subspan(from() + 48, length());
  }

  // How many of the planted calls (every 16 bytes from 8 on in each function) have a
  // byte for which differs(k) holds.
  template <typename Differs>
  size_t CallsWhere(Differs differs) const {
    size_t count = 0;
    for (size_t p = 8; p + 5 <= length(); p += 16) {
      if (reference()[p] != 0xe8) continue;
      bool any = false;
      for (size_t k = p + 1; k < p + 5; ++k) any |= differs(k);
      count += any;
    }
    return count;
  }

  size_t Changed() const {
    return CallsWhere([&](size_t k) { return reference()[k] != target()[k]; });
  }

  // The calls whose stored bytes are not zero in the ADD of `version`, after checking
  // that the ADD decodes to the target.
  size_t StoredNonzero(uint16_t version) const {
    DisplacementTable table;
    table.Clear(version);
    std::vector<uint8_t> stored(length());
    EncodeAdd(reference(), target(), from(), from() + 48, &table, stored.data());
    std::vector<uint8_t> decoded(reference().begin(), reference().end());
    DisplacementTable decode_table;
    decode_table.Clear(version);
    DecodeAdd(stored, from(), from() + 48, &decode_table, decoded.data());
    EXPECT_TRUE(std::equal(decoded.begin(), decoded.end(), target().begin()));
    return CallsWhere([&](size_t k) { return stored[k] != 0; });
  }

  testing::X86Sample sample_;
  std::vector<uint8_t> old_code_, new_code_;
};

TEST_F(CallsToAMovedFunction, ArePredictedAfterTheFirstCallToEach) {
  const size_t changed = Changed();
  ASSERT_GT(changed, 40u);  // Calls into functions 0..20 changed.
  // Without prediction every changed call would be stored as a difference; with it
  // (version 5), the first call to each of the 21 functions that did not move is (21),
  // and the few that a candidate in the filler bytes hides from the scan (7 here).
  const size_t stored_nonzero = StoredNonzero(format::kVersion5);
  EXPECT_GE(stored_nonzero, 21u);
  EXPECT_LT(stored_nonzero * 3, changed) << "stored " << stored_nonzero << " changed " << changed;
}

TEST_F(CallsToAMovedFunction, FirstCallsArePredictedFromTheirRegion) {
  // Functions 0..15 are the old program's first 4 KiB region, 16..31 its second (of
  // which 16..20 did not move and 21..31 did). Version 6 predicts a first call into
  // the first region once two calls into it agreed: of the 28 nonzero calls of
  // version 5, 14 are left.
  const size_t version5 = StoredNonzero(format::kVersion5);
  const size_t version6 = StoredNonzero(format::kVersion6);
  EXPECT_LT(version6 + 10, version5) << "version 5 " << version5 << ", version 6 " << version6;
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
