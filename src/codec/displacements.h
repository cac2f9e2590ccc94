// The x86-64 displacement prediction of ADD instructions (format version 4, docs/format.md,
// "ADD"): inside an ADD, the reference's 32-bit relative displacements (rel32 calls and
// jumps, RIP-relative operands) are predicted through what the block's earlier ADDs
// showed about where each old destination went, so that an unchanged call to a moved
// function costs four zero bytes instead of four changed ones.
//
// Candidates are found in the reference bytes only (which the decoder has before it
// decodes), so encoding and decoding take the same decisions on any bytes: the transform
// is exact for data that merely looks like code, and costs it only ratio, never bytes.
//
// Thread safety: a DisplacementTable is used by one thread.
#ifndef REDUCTO_CODEC_DISPLACEMENTS_H_
#define REDUCTO_CODEC_DISPLACEMENTS_H_

#include <cstdint>
#include <span>
#include <vector>

namespace reducto {

// Where the old destinations of displacements went: old destination (corpus address) ->
// new destination (offset in the block's output), direct-mapped, 2^kDisplacementTableBits
// slots. Emptied at every block start.
inline constexpr int kDisplacementTableBits = 14;

class DisplacementTable {
 public:
  // `bits`: log2 of the slots. Containers use kDisplacementTableBits; an encoder's
  // estimates may use fewer.
  explicit DisplacementTable(int bits = kDisplacementTableBits)
      : bits_(bits), slots_(size_t{1} << bits), used_((size_t{1} << bits) / 64 + 1, 0) {}

  void Clear();
  // The displacement predicted for the candidate whose old destination is `old_target`,
  // ending at block offset `end`: the learned new destination's distance from `end`, or
  // `old_displacement` when none was learned for `old_target`.
  uint32_t Predict(uint64_t old_target, uint64_t end, uint32_t old_displacement) const;
  void Learn(uint64_t old_target, uint64_t new_target);

 private:
  struct Slot {
    uint64_t old_target = 0;
    uint64_t new_target = 0;
  };
  size_t SlotOf(uint64_t old_target) const {
    return static_cast<size_t>((old_target * 0x9E3779B97F4A7C15ULL) >> (64 - bits_));
  }
  bool Used(size_t slot) const { return (used_[slot / 64] >> (slot % 64)) & 1; }

  int bits_;
  std::vector<Slot> slots_;
  std::vector<uint64_t> used_;  // One bit per slot: emptying the table clears only these.
};

// An ADD's stored bytes for target bytes `target` against `reference` (equal lengths),
// the reference at corpus `address` and the target at block offset `block_offset`.
// Writes target.size() bytes to `stored` and learns into *table. Returns how many
// displacements changed and were predicted exactly (evidence that the bytes are code).
size_t EncodeAdd(std::span<const uint8_t> reference, std::span<const uint8_t> target,
                 uint64_t address, uint64_t block_offset, DisplacementTable* table,
                 uint8_t* stored);

// The inverse, in place: `output` (stored.size() bytes) holds the reference on entry
// (so that a decoder reads it straight from the corpus into its output, as for a COPY)
// and the target bytes on return. Learns into *table as EncodeAdd did.
void DecodeAdd(std::span<const uint8_t> stored, uint64_t address, uint64_t block_offset,
               DisplacementTable* table, uint8_t* output);

// The offsets k of the candidate displacements [k, k + 4) in `reference`, in scan order
// (docs/format.md, "ADD"): where EncodeAdd and DecodeAdd predict.
std::vector<size_t> CandidateDisplacements(std::span<const uint8_t> reference);

// How many bytes of `target` differ from `reference` outside the candidate
// displacements that EncodeAdd would find in `reference`: 0 when every edit is a
// displacement, as in a recompiled function. The candidates are looked for from
// reference[-lead] on (lead bytes before the span must be readable there), so that an
// opcode just before the span counts. REQUIRES: equal lengths.
uint64_t EditsOutsideDisplacements(std::span<const uint8_t> reference,
                                   std::span<const uint8_t> target, size_t lead);

}  // namespace reducto

#endif  // REDUCTO_CODEC_DISPLACEMENTS_H_
