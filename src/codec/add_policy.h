// When target bytes join an ADD region (codec/block_builder.h): the policy that the
// block builder applies and that DeltaChooser prices DELTA against.
#ifndef REDUCTO_CODEC_ADD_POLICY_H_
#define REDUCTO_CODEC_ADD_POLICY_H_

#include <cstdint>
#include <span>

#include "codec/displacements.h"

namespace reducto {

// A literal between two copies at one alignment joins their region when it is at most
// this many bytes (an edited displacement or field), or when at least half of its bytes
// equal the corpus bytes under that alignment. Measured on the four bench pairs
// (default profile): a quarter instead of half, or 64 bytes, made the ext4 image
// 0.6-1.9% larger.
inline constexpr uint64_t kAlwaysJoins = 16;

// Whether `literal`, compared with the corpus bytes `corpus` under the region's
// alignment (as many), joins the region.
inline bool JoinsRegion(std::span<const uint8_t> literal, const uint8_t* corpus) {
  if (literal.size() <= kAlwaysJoins) return true;
  uint64_t matching = 0;
  for (size_t i = 0; i < literal.size(); ++i) matching += literal[i] == corpus[i];
  return 2 * matching >= literal.size();
}

// Once a block's ADDs predicted this many changed displacements exactly, the block is
// code, and every near match joins an ADD. Measured (default profile): from 16 on,
// ci-build 3.07 -> 2.37 MB, libssl -8%, the kernel -5%, the ext4 image +0.05%; at 8 the
// image +0.24%; at 64 the image +0% and the kernel -1.5%.
inline constexpr uint64_t kCodeEvidence = 16;

// Reference bytes before a near match in which a displacement's opcode is looked for.
inline constexpr size_t kDisplacementLead = 16;

// Whether the near match of `target` against `reference` (equal lengths; `lead` bytes
// before `reference` readable) becomes differences in an ADD rather than literals: in a
// block known to be code, always; elsewhere when at most half of its edits lie outside
// the displacements EncodeAdd predicts. Edited records and timestamps (the ext4 image)
// compress better as literals.
inline bool NearMatchJoins(std::span<const uint8_t> reference, std::span<const uint8_t> target,
                           size_t lead, bool block_is_code) {
  if (block_is_code) return true;
  uint64_t edits = 0;
  for (size_t i = 0; i < target.size(); ++i) edits += target[i] != reference[i];
  return edits == 0 || 2 * EditsOutsideDisplacements(reference, target, lead) <= edits;
}

}  // namespace reducto

#endif  // REDUCTO_CODEC_ADD_POLICY_H_
