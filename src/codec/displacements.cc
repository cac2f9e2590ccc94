#include "codec/displacements.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "util/endian.h"

namespace reducto {
namespace {

// First bytes that may start a candidate (docs/format.md, "ADD").
constexpr uint8_t kCallOrJump = 1;   // E8 call rel32, E9 jmp rel32.
constexpr uint8_t kEscape = 2;       // 0F: Jcc rel32 (0F 80..8F) or 0F op modrm.
constexpr uint8_t kModRmOpcode = 4;  // One-byte opcodes with a ModRM byte.

// Second bytes after 0F that take a ModRM byte, for RIP-relative operands: SSE moves and
// arithmetic, CMOVcc, SETcc, MOVZX/MOVSX, IMUL, NOP with operand.
constexpr bool IsModRmAfterEscape(uint8_t b) {
  return (b >= 0x10 && b <= 0x2f) || (b >= 0x40 && b <= 0x7f) || (b >= 0x90 && b <= 0x9f) ||
         b == 0xaf || b == 0xb6 || b == 0xb7 || b == 0xbe || b == 0xbf;
}

// One-byte opcodes that take a ModRM byte and often address memory RIP-relative: ADD,
// OR, AND, SUB (both directions), MOVSXD, the immediate groups, TEST, XCHG, MOV, LEA,
// MOV immediate and the unary and INC/DEC groups. CMP and XOR are left out: their
// opcodes are the digits 1, 3, 8 and 9, which before "-", "5", "=" or "%" would make
// every date in a text a candidate.
constexpr bool IsModRmOpcode(uint8_t b) {
  switch (b) {
    case 0x01: case 0x03: case 0x09: case 0x0b: case 0x21: case 0x23: case 0x29: case 0x2b:
    case 0x63: case 0x80: case 0x81: case 0x83: case 0x84: case 0x85: case 0x87: case 0x88:
    case 0x89: case 0x8a: case 0x8b: case 0x8d: case 0xc6: case 0xc7: case 0xf6: case 0xf7:
    case 0xfe: case 0xff:
      return true;
    default:
      return false;
  }
}

constexpr std::array<uint8_t, 256> MakeFirstBytes() {
  std::array<uint8_t, 256> kinds{};
  for (int b = 0; b < 256; ++b) {
    uint8_t k = 0;
    if (b == 0xe8 || b == 0xe9) k |= kCallOrJump;
    if (b == 0x0f) k |= kEscape;
    if (IsModRmOpcode(static_cast<uint8_t>(b))) k |= kModRmOpcode;
    kinds[b] = k;
  }
  return kinds;
}
constexpr std::array<uint8_t, 256> kFirstBytes = MakeFirstBytes();

constexpr bool IsRipRelative(uint8_t modrm) { return (modrm & 0xc7) == 0x05; }

// The offset of the displacement of a candidate that starts at r[i], or 0 when none does.
size_t DisplacementAt(const uint8_t* r, size_t i, size_t n) {
  const uint8_t kind = kFirstBytes[r[i]];
  if (kind & kCallOrJump) return i + 1;
  if (i + 2 >= n) return 0;
  if (kind & kEscape) {
    if (r[i + 1] >= 0x80 && r[i + 1] <= 0x8f) return i + 2;
    if (IsModRmAfterEscape(r[i + 1]) && i + 3 < n && IsRipRelative(r[i + 2])) return i + 3;
    return 0;
  }
  if ((kind & kModRmOpcode) && IsRipRelative(r[i + 1])) return i + 2;
  return 0;
}

// Whether any byte of v is zero (exact: a borrow only reaches bytes above a zero one).
constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHigh = 0x8080808080808080ULL;
inline uint64_t ZeroBytes(uint64_t v) { return (v - kOnes) & ~v & kHigh; }

// The bytes of r[i, i + 8) where a candidate may start, as the top bit of each byte of
// the result: those that are E8, E9 or 0F, or that a RIP-relative ModRM byte follows
// (which every other candidate needs after its opcode). Every such byte is marked; a
// few others may be (ZeroBytes). REQUIRES: 9 readable bytes at r + i.
inline uint64_t MayStartCandidate8(const uint8_t* r, size_t i) {
  uint64_t x, y;
  std::memcpy(&x, r + i, 8);
  std::memcpy(&y, r + i + 1, 8);
  return ZeroBytes((x & (0xfe * kOnes)) ^ (0xe8 * kOnes)) | ZeroBytes(x ^ (0x0f * kOnes)) |
         ZeroBytes((y & (0xc7 * kOnes)) ^ (0x05 * kOnes));
}

// Calls at(k) for each candidate displacement r[k, k + 4) of reference `r`, in order;
// scanning resumes after each displacement.
template <typename At>
void ForEachDisplacement(std::span<const uint8_t> r, At at) {
  const size_t n = r.size();
  size_t i = 0;
  // Eight bytes at a time: only the bytes MayStartCandidate8 marks are tried. The index
  // of a marked byte is its top bit's over 8 in a little-endian load.
  if constexpr (std::endian::native == std::endian::little) {
    while (i + 9 <= n) {
      size_t next = i + 8;
      for (uint64_t marked = MayStartCandidate8(r.data(), i); marked != 0;
           marked &= marked - 1) {
        const size_t k =
            DisplacementAt(r.data(), i + static_cast<size_t>(std::countr_zero(marked)) / 8, n);
        if (k != 0 && k + 4 <= n) {
          at(k);
          next = k + 4;
          break;
        }
      }
      i = next;
    }
  }
  while (i + 5 <= n) {
    const size_t k = DisplacementAt(r.data(), i, n);
    if (k != 0 && k + 4 <= n) {
      at(k);
      i = k + 4;
    } else {
      ++i;
    }
  }
}

// out[i] = a[i] + b[i] and out[i] = a[i] - b[i] (mod 256); `out` may be `a`. Sixteen
// bytes at a time with SSE2, then eight at a time: the low seven bits of each byte are
// added (subtracted) apart, so that no carry (borrow) crosses into the next byte, and
// the top bits are put back with XOR.

enum class Bytewise { kAdd, kSubtract };

template <Bytewise kOp>
void Combine(const uint8_t* a, const uint8_t* b, size_t n, uint8_t* out) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
    const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    const __m128i z = kOp == Bytewise::kAdd ? _mm_add_epi8(x, y) : _mm_sub_epi8(x, y);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), z);
  }
#endif
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    const uint64_t z = kOp == Bytewise::kAdd
                           ? ((x & ~kHigh) + (y & ~kHigh)) ^ ((x ^ y) & kHigh)
                           : ((x | kHigh) - (y & ~kHigh)) ^ ((x ^ ~y) & kHigh);
    std::memcpy(out + i, &z, 8);
  }
  for (; i < n; ++i) {
    out[i] = static_cast<uint8_t>(kOp == Bytewise::kAdd ? a[i] + b[i] : a[i] - b[i]);
  }
}

void AddBytes(const uint8_t* a, const uint8_t* b, size_t n, uint8_t* out) {
  Combine<Bytewise::kAdd>(a, b, n, out);
}

void SubtractBytes(const uint8_t* a, const uint8_t* b, size_t n, uint8_t* out) {
  Combine<Bytewise::kSubtract>(a, b, n, out);
}

// The old destination of the displacement at reference offset k, as a corpus address.
uint64_t OldTarget(uint64_t address, size_t k, uint32_t old_displacement) {
  const int64_t signed_displacement = static_cast<int32_t>(old_displacement);
  return address + k + 4 + static_cast<uint64_t>(signed_displacement);
}

// Whether an old destination lies outside the ADD's reference [address, address + n):
// inside it, the destination moved with the candidate, as the old displacement says.
bool OutsideReference(uint64_t old_target, uint64_t address, size_t n) {
  return old_target - address >= n;
}

uint64_t NewTarget(uint64_t end, uint32_t new_displacement) {
  return end + static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(new_displacement)));
}

}  // namespace

DisplacementTable::DisplacementTable(int bits)
    : bits_(bits),
      region_bits_(bits - (kDisplacementTableBits - kRegionTableBits)),
      slots_(size_t{1} << bits_),
      used_((size_t{1} << bits_) / 64 + 1, 0),
      regions_(size_t{1} << region_bits_),
      regions_used_((size_t{1} << region_bits_) / 64 + 1, 0) {}

void DisplacementTable::Clear(uint16_t version) {
  regions_on_ = version >= format::kVersion6;
  std::fill(used_.begin(), used_.end(), 0);
  std::fill(regions_used_.begin(), regions_used_.end(), 0);
}

DisplacementTable::Prediction DisplacementTable::Predict(uint64_t old_target, uint64_t end,
                                                         uint32_t old_displacement,
                                                         bool outside_reference) const {
  const size_t i = SlotOf(old_target, bits_);
  if (Used(used_, i) && slots_[i].old_target == old_target) {
    return {static_cast<uint32_t>(slots_[i].new_target - end), true};
  }
  if (!regions_on_ || !outside_reference) return {old_displacement, false};
  const uint64_t key = old_target >> kRegionBits;
  const size_t r = SlotOf(key, region_bits_);
  const Region& region = regions_[r];
  if (!Used(regions_used_, r) || region.key != key || !region.agreed) {
    return {old_displacement, false};
  }
  return {static_cast<uint32_t>(old_target + region.shift - end), false};
}

void DisplacementTable::Learn(uint64_t old_target, uint64_t new_target) {
  const size_t i = SlotOf(old_target, bits_);
  slots_[i] = Slot{old_target, new_target};
  MarkUsed(&used_, i);
  if (!regions_on_) return;
  const uint64_t key = old_target >> kRegionBits;
  const uint64_t shift = new_target - old_target;
  const size_t r = SlotOf(key, region_bits_);
  Region& region = regions_[r];
  const bool same = Used(regions_used_, r) && region.key == key && region.shift == shift;
  region = Region{key, shift, same};
  MarkUsed(&regions_used_, r);
}

std::vector<size_t> CandidateDisplacements(std::span<const uint8_t> reference) {
  std::vector<size_t> offsets;
  ForEachDisplacement(reference, [&](size_t k) { offsets.push_back(k); });
  return offsets;
}

uint64_t EditsOutsideDisplacements(std::span<const uint8_t> reference,
                                   std::span<const uint8_t> target, size_t lead) {
  const size_t n = target.size();
  std::span<const uint8_t> scanned(reference.data() - lead, lead + n);
  uint64_t outside = 0;
  size_t i = 0;  // Span offset checked up to.
  auto count_to = [&](size_t end) {
    for (; i < end; ++i) outside += target[i] != reference[i];
  };
  ForEachDisplacement(scanned, [&](size_t k) {
    if (k + 4 <= lead) return;
    const size_t start = k >= lead ? k - lead : 0;
    count_to(std::min(start, n));
    i = std::max(i, std::min(k + 4 - lead, n));
  });
  count_to(n);
  return outside;
}

size_t EncodeAdd(std::span<const uint8_t> reference, std::span<const uint8_t> target,
                 uint64_t address, uint64_t block_offset, DisplacementTable* table,
                 uint8_t* stored) {
  size_t moved = 0;
  const size_t n = target.size();
  SubtractBytes(target.data(), reference.data(), n, stored);
  ForEachDisplacement(reference, [&](size_t k) {
    const uint32_t old_displacement = LoadLe<uint32_t>(reference.data() + k);
    const uint32_t new_displacement = LoadLe<uint32_t>(target.data() + k);
    const uint64_t old_target = OldTarget(address, k, old_displacement);
    const uint64_t end = block_offset + k + 4;
    const DisplacementTable::Prediction predicted = table->Predict(
        old_target, end, old_displacement, OutsideReference(old_target, address, n));
    StoreLe<uint32_t>(stored + k, new_displacement - predicted.displacement);
    // Only a destination's own entry is evidence of code: counting the regions' too
    // made the ext4 image 0.8% larger (more of its blocks were taken for code).
    moved += predicted.learned && predicted.displacement == new_displacement &&
             new_displacement != old_displacement;
    table->Learn(old_target, NewTarget(end, new_displacement));
  });
  return moved;
}

void DecodeAdd(std::span<const uint8_t> stored, uint64_t address, uint64_t block_offset,
               DisplacementTable* table, uint8_t* output) {
  // One pass, in place: the scan reads reference bytes ahead of the bytes it has
  // rebuilt (it resumes after each displacement), so the bytes up to a candidate can be
  // added up once it is found. Candidates are taken in batches, with their old
  // displacements, so that the adding runs over long stretches.
  struct Candidate {
    size_t k;
    uint32_t old_displacement;
  };
  std::array<Candidate, 64> batch;
  size_t count = 0;
  const size_t n = stored.size();
  size_t done = 0;  // output[0, done) holds target bytes, the rest reference bytes.
  auto rebuild_batch = [&] {
    const size_t end = batch[count - 1].k + 4;
    AddBytes(output + done, stored.data() + done, end - done, output + done);
    for (size_t c = 0; c < count; ++c) {
      const auto [k, old_displacement] = batch[c];
      const uint64_t old_target = OldTarget(address, k, old_displacement);
      const uint64_t target_end = block_offset + k + 4;
      const uint32_t predicted =
          table->Predict(old_target, target_end, old_displacement,
                         OutsideReference(old_target, address, n))
              .displacement;
      const uint32_t new_displacement = predicted + LoadLe<uint32_t>(stored.data() + k);
      StoreLe<uint32_t>(output + k, new_displacement);
      table->Learn(old_target, NewTarget(target_end, new_displacement));
    }
    done = end;
    count = 0;
  };
  ForEachDisplacement(std::span<const uint8_t>(output, n), [&](size_t k) {
    batch[count++] = {k, LoadLe<uint32_t>(output + k)};
    if (count == batch.size()) rebuild_batch();
  });
  if (count > 0) rebuild_batch();
  AddBytes(output + done, stored.data() + done, n - done, output + done);
}

}  // namespace reducto
