// Delta selection, the max profile's last step (MatchParams::delta): the pieces that the
// local search (codec/matcher.h) decided between two copies of at least delta_keep_copy
// bytes form a run; a run with literal bytes is compressed with zstd against the corpus
// region that its neighbouring copies point to, and sent as one DELTA when that is
// smaller than the pieces' own instructions would be in the block's compressed stream.
//
// Thread safety: a DeltaChooser is used by one thread; the corpus is only read.
#ifndef REDUCTO_CODEC_DELTA_CHOICE_H_
#define REDUCTO_CODEC_DELTA_CHOICE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "codec/displacements.h"
#include "codec/instructions.h"
#include "codec/matcher.h"
#include "codec/zstd_context.h"
#include "corpus/corpus_reader.h"
#include "reducto/status.h"

namespace reducto {

// Whether `piece` stays a copy whatever the pieces around it become: runs end at it.
inline bool IsKeptCopy(const Piece& piece, const MatchParams& params) {
  return piece.copy && piece.length >= params.delta_keep_copy;
}

// A copy's alignment (corpus address - target offset); nullopt for a literal.
inline std::optional<uint64_t> AlignmentOf(const Piece& piece) {
  if (!piece.copy) return std::nullopt;
  return piece.address - piece.offset;
}

// The run that starts at (*pieces)[i]: returns the index after its last piece (a kept
// copy's, or pieces->size()). A run covers at most `cap` target bytes: a piece that
// crosses that limit is split there, and its tail starts the next run.
// REQUIRES: (*pieces)[i] is not a kept copy; cap > 0.
size_t EndOfRun(std::vector<Piece>* pieces, size_t i, uint64_t cap, const MatchParams& params);

// A DELTA to send instead of a run's pieces: `payload` decodes to the run's bytes with
// corpus [address, address + reference_length) as its prefix.
struct DeltaChoice {
  uint64_t address = 0;
  uint64_t reference_length = 0;
  std::span<const uint8_t> payload;  // Valid until the next Choose.
};

// What the encoder knows around a run.
struct RunContext {
  // The alignments (corpus address - target offset) of the copies on either side.
  std::optional<uint64_t> before;
  std::optional<uint64_t> after;
  bool block_is_code = false;  // BlockSequence::BlockIsCode.
};

class DeltaChooser {
 public:
  // `corpus` must outlive the chooser. `level`: the container's zstd level.
  DeltaChooser(const CorpusReader& corpus, const MatchParams& params, int level);

  // `pieces` are a run (contiguous, no kept copy) and `run` their target bytes. Returns
  // the DELTA to send instead of the pieces, or nullopt when the pieces cost less. Runs
  // are priced in the context of those priced before them (PiecesCost): call once per
  // run, in target order.
  Result<std::optional<DeltaChoice>> Choose(std::span<const Piece> pieces,
                                            std::span<const uint8_t> run,
                                            const RunContext& context);

  // Starts the shadow stream afresh, so that the choices in a segment of the target do
  // not depend on the segments before it.
  void Reset() { shadow_started_ = false; }

  // References that VerifyRange found damaged (no DELTA was sent on them).
  uint64_t damaged() const { return damaged_; }

 private:
  struct Reference {
    uint64_t address = 0;
    uint64_t length = 0;
  };

  // Whether a DELTA may replace the run at all: it has literal bytes, is at least
  // delta_min_run long, and a neighbour says where its reference lies.
  bool MayReplace(std::span<const Piece> pieces, uint64_t run_size,
                  const RunContext& context) const;
  // The corpus bytes the neighbours and the run's own copies point to, with
  // delta_margin bytes around them and at most delta_max_reference long; nullopt when
  // that is empty. REQUIRES: MayReplace.
  std::optional<Reference> ReferenceFor(std::span<const Piece> pieces, uint64_t start,
                                        uint64_t run_size, const RunContext& context) const;
  // Writes the pieces' instructions into estimate_ and returns what they cost
  // (ShadowCost), as the block builder will send them: with ADD, copies at one
  // alignment and the literals between them that join their region are one ADD, and a
  // literal that near-matches the corpus under a neighbouring copy's alignment is an
  // ADD too, as the builder's near-match extension takes it (add_policy.h).
  Result<size_t> PiecesCost(std::span<const Piece> pieces, std::span<const uint8_t> run,
                            const RunContext& context);
  // The index of the last piece of the ADD region that starts with the copy pieces[k]
  // (k itself when no literal joins it).
  size_t RegionEnd(std::span<const Piece> pieces, size_t k, std::span<const uint8_t> run);
  // Writes the literal pieces[k] into estimate_: as an ADD under the alignment of the
  // copy before or after it when it near-matches the corpus there, else as a literal.
  void PriceLiteral(std::span<const Piece> pieces, size_t k, std::span<const uint8_t> run,
                    const RunContext& context);
  // Writes target bytes `target` at target offset `offset` into estimate_ as an ADD
  // against corpus `address` when they join one there (JoinsRegion, NearMatchJoins);
  // false (nothing written) when they do not, or the corpus range cannot be read.
  bool PriceNearMatch(std::span<const uint8_t> target, uint64_t offset, uint64_t address,
                      bool block_is_code);
  // What instruction bytes `raw` cost in the block's compressed stream.
  Result<size_t> ShadowCost(std::span<const uint8_t> raw);
  // Compresses `run` at zstd `level` into *payload with `reference` as the zstd prefix;
  // returns its size.
  Result<size_t> CompressDelta(std::span<const uint8_t> run, std::span<const uint8_t> reference,
                               int level, std::vector<uint8_t>* payload);

  const CorpusReader& corpus_;
  const MatchParams params_;
  const int level_;
  ZstdCCtxPtr delta_cctx_;
  ZstdCCtxPtr shadow_cctx_;
  bool shadow_started_ = false;  // The shadow stream has started (it runs across blocks).
  std::vector<uint8_t> shadow_out_;
  std::vector<uint8_t> payload_;
  std::vector<uint8_t> refined_;  // The payload at delta_refine_level.
  std::vector<uint8_t> scratch_;  // For corpus reads across pack segments.
  InstructionWriter estimate_;
  DisplacementTable estimate_displacements_{8};  // Small: emptied for every run.
  std::vector<uint8_t> add_stored_;
  std::vector<uint8_t> add_scratch_;
  uint64_t damaged_ = 0;
};

}  // namespace reducto

#endif  // REDUCTO_CODEC_DELTA_CHOICE_H_
