// The x86-64 displacement prediction of ADD instructions (format version 4, docs/format.md,
// "ADD"): inside an ADD, the reference's 32-bit relative displacements (rel32 calls and
// jumps, RIP-relative operands) are predicted through what the block's earlier ADDs
// showed about where each old destination went, so that an unchanged call to a moved
// function costs four zero bytes instead of four changed ones. From version 6, a
// destination not seen yet is predicted to have moved as the destinations before it in
// the same 4 KiB of the corpus did, when the last two agreed.
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

#include "codec/format.h"

namespace reducto {

// Where the old destinations of displacements went: old destination (corpus address) ->
// new destination (offset in the block's output), direct-mapped, 2^kDisplacementTableBits
// slots. From version 6 also, per region of 2^kRegionBits corpus addresses, the last
// learned shift (new destination - old destination) and whether the one before agreed,
// direct-mapped, 2^kRegionTableBits slots. Emptied at every block start.
inline constexpr int kDisplacementTableBits = 14;
inline constexpr int kRegionBits = 12;
inline constexpr int kRegionTableBits = kDisplacementTableBits - 2;

class DisplacementTable {
 public:
  // `bits`: log2 of the slots (the regions have a quarter as many). Containers use
  // kDisplacementTableBits; an encoder's estimates may use fewer (8 or more). A new
  // table is empty and predicts as the latest version does.
  explicit DisplacementTable(int bits = kDisplacementTableBits);

  // Empties the table for a block of a container of format `version`, which says how
  // displacements are predicted.
  void Clear(uint16_t version);

  struct Prediction {
    uint32_t displacement = 0;
    bool learned = false;  // From the destination's own entry, not a region's or the old one.
  };
  // The displacement predicted for the candidate whose old destination is `old_target`,
  // ending at block offset `end`: the learned new destination's distance from `end`;
  // else, from version 6 and when `old_target` is outside the ADD's own reference, the
  // distance of `old_target` moved by its region's agreed shift; else `old_displacement`.
  Prediction Predict(uint64_t old_target, uint64_t end, uint32_t old_displacement,
                     bool outside_reference) const;
  void Learn(uint64_t old_target, uint64_t new_target);

 private:
  struct Slot {
    uint64_t old_target = 0;
    uint64_t new_target = 0;
  };
  struct Region {
    uint64_t key = 0;  // old_target >> kRegionBits
    uint64_t shift = 0;
    bool agreed = false;  // The two last shifts learned in the region were equal.
  };
  static size_t SlotOf(uint64_t key, int bits) {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
  }
  static bool Used(const std::vector<uint64_t>& used, size_t slot) {
    return (used[slot / 64] >> (slot % 64)) & 1;
  }
  static void MarkUsed(std::vector<uint64_t>* used, size_t slot) {
    (*used)[slot / 64] |= uint64_t{1} << (slot % 64);
  }

  int bits_;
  int region_bits_;  // log2 of the region slots.
  bool regions_on_ = format::kLatestVersion >= format::kVersion6;
  std::vector<Slot> slots_;
  std::vector<uint64_t> used_;  // One bit per slot: emptying the table clears only these.
  std::vector<Region> regions_;
  std::vector<uint64_t> regions_used_;
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
