#include "codec/displacements.h"

#include <algorithm>
#include <array>

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

// Calls at(k) for each candidate displacement r[k, k + 4) of reference `r`, in order;
// scanning resumes after each displacement.
template <typename At>
void ForEachDisplacement(std::span<const uint8_t> r, At at) {
  const size_t n = r.size();
  if (n < 5) return;
  size_t i = 0;
  while (i + 5 <= n) {
    if (kFirstBytes[r[i]] == 0) {
      ++i;
      continue;
    }
    const size_t k = DisplacementAt(r.data(), i, n);
    if (k == 0 || k + 4 > n) {
      ++i;
      continue;
    }
    at(k);
    i = k + 4;
  }
}

// The old destination of the displacement at reference offset k, as a corpus address.
uint64_t OldTarget(uint64_t address, size_t k, uint32_t old_displacement) {
  return address + k + 4 + static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(old_displacement)));
}

uint64_t NewTarget(uint64_t end, uint32_t new_displacement) {
  return end + static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(new_displacement)));
}

}  // namespace

void DisplacementTable::Clear() { std::fill(slots_.begin(), slots_.end(), Slot{}); }

uint32_t DisplacementTable::Predict(uint64_t old_target, uint64_t end,
                                    uint32_t old_displacement) const {
  const Slot& slot = slots_[SlotOf(old_target)];
  if (!slot.used || slot.old_target != old_target) return old_displacement;
  return static_cast<uint32_t>(slot.new_target - end);
}

void DisplacementTable::Learn(uint64_t old_target, uint64_t new_target) {
  slots_[SlotOf(old_target)] = Slot{old_target, new_target, true};
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

void EncodeAdd(std::span<const uint8_t> reference, std::span<const uint8_t> target,
               uint64_t address, uint64_t block_offset, DisplacementTable* table, uint8_t* stored) {
  const size_t n = target.size();
  for (size_t i = 0; i < n; ++i) stored[i] = static_cast<uint8_t>(target[i] - reference[i]);
  ForEachDisplacement(reference, [&](size_t k) {
    const uint32_t old_displacement = LoadLe<uint32_t>(reference.data() + k);
    const uint32_t new_displacement = LoadLe<uint32_t>(target.data() + k);
    const uint64_t old_target = OldTarget(address, k, old_displacement);
    const uint64_t end = block_offset + k + 4;
    const uint32_t predicted = table->Predict(old_target, end, old_displacement);
    StoreLe<uint32_t>(stored + k, new_displacement - predicted);
    table->Learn(old_target, NewTarget(end, new_displacement));
  });
}

void DecodeAdd(std::span<const uint8_t> reference, std::span<const uint8_t> stored,
               uint64_t address, uint64_t block_offset, DisplacementTable* table, uint8_t* output) {
  const size_t n = stored.size();
  for (size_t i = 0; i < n; ++i) output[i] = static_cast<uint8_t>(reference[i] + stored[i]);
  ForEachDisplacement(reference, [&](size_t k) {
    const uint32_t old_displacement = LoadLe<uint32_t>(reference.data() + k);
    const uint64_t old_target = OldTarget(address, k, old_displacement);
    const uint64_t end = block_offset + k + 4;
    const uint32_t predicted = table->Predict(old_target, end, old_displacement);
    const uint32_t new_displacement = predicted + LoadLe<uint32_t>(stored.data() + k);
    StoreLe<uint32_t>(output + k, new_displacement);
    table->Learn(old_target, NewTarget(end, new_displacement));
  });
}

}  // namespace reducto
