#include "codec/delta_choice.h"

#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "codec/add_policy.h"
#include "codec/block_stream.h"
#include "codec/format.h"

namespace reducto {
namespace {

// The smallest zstd frame that declares its content size: magic (4), frame header
// descriptor (1), content size (at least 1), one block header (3) and one byte (RLE).
constexpr size_t kMinZstdFrameSize = 9;

// zstd's parameter tables give inputs of at most 16 KiB a binary-tree search (btlazy2)
// at levels 9 and 10, where larger inputs get the hash-chain search (lazy2). For a
// DELTA, whose input is mostly its reference, the tree costs inserting the reference:
// 32 us against 7 us for lazy2 on a 5 KB reference and a 550-byte run, same output.
// Measured with max (level 9), one thread: the dump 0.95 -> 0.70 s with the same
// container (none of its 4,882 trials wins), the kernel 2.40 -> 1.79 s and 2,517 bytes
// (0.03%) larger, ci-build and vm-ext4 about 80 bytes larger. Such DELTAs use lazy2.
constexpr size_t kSmallZstdInput = 16u << 10;
bool UsesSmallInputTreeSearch(int level, size_t input_size) {
  return input_size <= kSmallZstdInput && (level == 9 || level == 10);
}

// Corpus bytes [lo, hi), signed: an alignment may point before the corpus's start.
struct Extent {
  int64_t lo = INT64_MAX;
  int64_t hi = INT64_MIN;

  void Cover(const Extent& e) {
    lo = std::min(lo, e.lo);
    hi = std::max(hi, e.hi);
  }
};

// The corpus bytes that target [start, start + size) would be at under `alignment`.
Extent Aligned(uint64_t start, uint64_t size, uint64_t alignment) {
  int64_t a = static_cast<int64_t>(start + alignment);
  return {a, a + static_cast<int64_t>(size)};
}

// The smallest zstd window (log2) that holds `size` bytes, from zstd's smallest (10) up
// to 30.
int WindowLogFor(uint64_t size) {
  int window_log = 10;
  while (window_log < 30 && (uint64_t{1} << window_log) < size) ++window_log;
  return window_log;
}

}  // namespace

size_t EndOfRun(std::vector<Piece>* pieces, size_t i, uint64_t cap, const MatchParams& params) {
  const uint64_t start = (*pieces)[i].offset;
  size_t j = i;
  while (j < pieces->size() && !IsKeptCopy((*pieces)[j], params)) {
    const Piece& piece = (*pieces)[j];
    if (piece.offset + piece.length - start <= cap) {
      ++j;
      continue;
    }
    if (piece.offset - start >= cap) break;
    // Split at start + cap: the head ends this run.
    Piece tail = piece;
    const uint64_t head_length = start + cap - tail.offset;
    (*pieces)[j].length = head_length;
    tail.offset += head_length;
    tail.length -= head_length;
    if (tail.copy) tail.address += head_length;
    pieces->insert(pieces->begin() + static_cast<ptrdiff_t>(j) + 1, tail);
    return j + 1;
  }
  return j;
}

DeltaChooser::DeltaChooser(const CorpusReader& corpus, const MatchParams& params, int level)
    : corpus_(corpus),
      params_(params),
      level_(level),
      delta_cctx_(MakeZstdCCtx()),
      shadow_cctx_(MakeZstdCCtx()) {}

Result<std::optional<DeltaChoice>> DeltaChooser::Choose(std::span<const Piece> pieces,
                                                        std::span<const uint8_t> run,
                                                        const RunContext& context) {
  const std::optional<DeltaChoice> none;
  if (!MayReplace(pieces, run.size(), context)) return none;
  std::optional<Reference> ref = ReferenceFor(pieces, pieces[0].offset, run.size(), context);
  if (!ref) return none;
  ASSIGN_OR_RETURN(size_t pieces_cost, PiecesCost(pieces, run, context));
  // No DELTA can be cheaper than one with the smallest zstd frame: then skip the
  // compression (most runs of a dump: an edited field between two copies).
  if (InstructionWriter::DeltaSize(UINT64_MAX, ref->length, run.size(), kMinZstdFrameSize) >=
      pieces_cost) {
    return none;
  }
  // The payload depends on reference bytes that differ from the target: they must be
  // the ones the corpus signs (CorpusReader::VerifyRange).
  if (!corpus_.VerifyRange(ref->address, ref->length).ok()) {
    ++damaged_;
    return none;
  }
  ASSIGN_OR_RETURN(std::span<const uint8_t> reference,
                   corpus_.Read(ref->address, ref->length, &scratch_));
  ASSIGN_OR_RETURN(size_t payload_size, CompressDelta(run, reference, level_, &payload_));
  const size_t delta_cost =
      InstructionWriter::DeltaSize(UINT64_MAX, ref->length, run.size(), payload_size);
  // A DELTA never takes more instruction bytes than the pieces it replaces, so streams
  // stay within the bound of docs/format.md.
  if (delta_cost >= pieces_cost || delta_cost > estimate_.bytes().size()) return none;
  if (params_.delta_refine_level > level_) {
    ASSIGN_OR_RETURN(size_t refined_size,
                     CompressDelta(run, reference, params_.delta_refine_level, &refined_));
    if (refined_size < payload_size) {
      payload_.swap(refined_);
      payload_size = refined_size;
    }
  }
  std::span<const uint8_t> payload = std::span<const uint8_t>(payload_).first(payload_size);
  return std::optional(DeltaChoice{ref->address, ref->length, payload});
}

bool DeltaChooser::MayReplace(std::span<const Piece> pieces, uint64_t run_size,
                              const RunContext& context) const {
  bool has_literal = false;
  for (const Piece& piece : pieces) has_literal |= !piece.copy;
  return has_literal && run_size >= params_.delta_min_run && (context.before || context.after);
}

std::optional<DeltaChooser::Reference> DeltaChooser::ReferenceFor(
    std::span<const Piece> pieces, uint64_t start, uint64_t run_size,
    const RunContext& context) const {
  const std::optional<uint64_t> before = context.before;
  const std::optional<uint64_t> after = context.after;
  Extent extent;
  if (before) extent.Cover(Aligned(start, run_size, *before));
  if (after) extent.Cover(Aligned(start, run_size, *after));
  for (const Piece& piece : pieces) {
    if (!piece.copy) continue;
    int64_t a = static_cast<int64_t>(piece.address);
    extent.Cover({a, a + static_cast<int64_t>(piece.length)});
  }
  const int64_t margin = params_.delta_margin;
  const int64_t max_reference = params_.delta_max_reference;
  if (extent.hi - extent.lo + 2 * margin > max_reference) {
    // Scattered: keep the region around the preceding copy's alignment.
    extent = Aligned(start, run_size, before ? *before : *after);
  }
  const int64_t lo = std::max<int64_t>(0, extent.lo - margin);
  const int64_t hi = std::min({static_cast<int64_t>(corpus_.size()), extent.hi + margin,
                               lo + max_reference});
  if (lo >= hi) return std::nullopt;
  return Reference{static_cast<uint64_t>(lo), static_cast<uint64_t>(hi - lo)};
}

Result<size_t> DeltaChooser::PiecesCost(std::span<const Piece> pieces,
                                        std::span<const uint8_t> run, const RunContext& context) {
  const uint64_t start = pieces[0].offset;
  estimate_.Clear();
  estimate_displacements_.Clear(format::kLatestVersion);
  for (size_t k = 0; k < pieces.size(); ++k) {
    const Piece& piece = pieces[k];
    if (!piece.copy || piece.length < format::kMinCopyLength) {
      PriceLiteral(pieces, k, run, context);
      continue;
    }
    const size_t last = params_.add ? RegionEnd(pieces, k, run) : k;
    if (last == k) {
      estimate_.Copy(piece.address, piece.length);
      continue;
    }
    const uint64_t length = pieces[last].offset + pieces[last].length - piece.offset;
    ASSIGN_OR_RETURN(std::span<const uint8_t> reference,
                     corpus_.Read(piece.address, length, &add_scratch_));
    add_stored_.resize(length);
    EncodeAdd(reference, run.subspan(piece.offset - start, length), piece.address,
              piece.offset, &estimate_displacements_, add_stored_.data());
    estimate_.Add(piece.address, add_stored_);
    k = last;
  }
  return ShadowCost(estimate_.bytes());
}

size_t DeltaChooser::RegionEnd(std::span<const Piece> pieces, size_t k,
                               std::span<const uint8_t> run) {
  const uint64_t start = pieces[0].offset;
  const uint64_t alignment = pieces[k].address - pieces[k].offset;
  size_t last = k;
  while (last + 2 < pieces.size() && !pieces[last + 1].copy && pieces[last + 2].copy &&
         pieces[last + 2].address - pieces[last + 2].offset == alignment) {
    const Piece& literal = pieces[last + 1];
    auto corpus = corpus_.Read(literal.offset + alignment, literal.length, &add_scratch_);
    if (!corpus.ok() || corpus->size() != literal.length ||
        !JoinsRegion(run.subspan(literal.offset - start, literal.length), corpus->data())) {
      break;
    }
    last += 2;
  }
  return last;
}

void DeltaChooser::PriceLiteral(std::span<const Piece> pieces, size_t k,
                                std::span<const uint8_t> run, const RunContext& context) {
  const Piece& piece = pieces[k];
  const std::span<const uint8_t> literal =
      run.subspan(piece.offset - pieces[0].offset, piece.length);
  const std::optional<uint64_t> before = k > 0 ? AlignmentOf(pieces[k - 1]) : context.before;
  const std::optional<uint64_t> after =
      k + 1 < pieces.size() ? AlignmentOf(pieces[k + 1]) : context.after;
  if (params_.add) {
    for (std::optional<uint64_t> alignment : {before, after}) {
      if (alignment && PriceNearMatch(literal, piece.offset, piece.offset + *alignment,
                                      context.block_is_code)) {
        return;
      }
    }
  }
  estimate_.Literal(literal);
}

bool DeltaChooser::PriceNearMatch(std::span<const uint8_t> target, uint64_t offset,
                                  uint64_t address, bool block_is_code) {
  // Alignments may point outside the corpus (unsigned arithmetic wraps).
  if (address >= corpus_.size() || target.size() > corpus_.size() - address) return false;
  const size_t lead = std::min<uint64_t>(kDisplacementLead, address);
  // An unreadable range is not priced as an ADD, as in RegionEnd: the estimate must not
  // fail the run (the builder checks what it sends itself).
  auto read = corpus_.Read(address - lead, lead + target.size(), &add_scratch_);
  if (!read.ok() || read->size() != lead + target.size()) return false;
  const std::span<const uint8_t> reference = read->subspan(lead);
  if (!JoinsRegion(target, reference.data()) ||
      !NearMatchJoins(reference, target, lead, block_is_code)) {
    return false;
  }
  add_stored_.resize(target.size());
  EncodeAdd(reference, target, address, offset, &estimate_displacements_, add_stored_.data());
  estimate_.Add(address, add_stored_);
  return true;
}

// A shadow zstd stream of the block stream's runs compresses `raw` after everything
// priced before it, as the block's own compression will (literals of new files compress
// much better in context than alone), and its flushed output is the cost.
Result<size_t> DeltaChooser::ShadowCost(std::span<const uint8_t> raw) {
  ZSTD_CCtx* cctx = shadow_cctx_.get();
  if (cctx == nullptr) return Status::Unavailable("cannot allocate a zstd compression context");
  if (!shadow_started_) {
    RETURN_IF_ERROR(ConfigureBlockStream(cctx, level_));
    shadow_started_ = true;
  }
  ZSTD_inBuffer in{raw.data(), raw.size(), 0};
  size_t produced = 0;
  for (;;) {
    shadow_out_.resize(std::max<size_t>(shadow_out_.size(), ZSTD_CStreamOutSize()));
    ZSTD_outBuffer out{shadow_out_.data(), shadow_out_.size(), 0};
    size_t left = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_flush);
    if (ZSTD_isError(left)) {
      return Status::Unavailable(std::string("zstd: ") + ZSTD_getErrorName(left));
    }
    produced += out.pos;
    if (left == 0) return produced;
  }
}

Result<size_t> DeltaChooser::CompressDelta(std::span<const uint8_t> run,
                                           std::span<const uint8_t> reference, int level,
                                           std::vector<uint8_t>* payload) {
  ZSTD_CCtx* cctx = delta_cctx_.get();
  if (cctx == nullptr) return Status::Unavailable("cannot allocate a zstd compression context");
  const size_t input_size = reference.size() + run.size();
  size_t r = ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (!ZSTD_isError(r)) {
    r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, WindowLogFor(input_size));
  }
  if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  if (!ZSTD_isError(r) && UsesSmallInputTreeSearch(level, input_size)) {
    r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_strategy, ZSTD_lazy2);
  }
  if (!ZSTD_isError(r)) r = ZSTD_CCtx_refPrefix(cctx, reference.data(), reference.size());
  if (!ZSTD_isError(r)) {
    payload->resize(ZSTD_compressBound(run.size()));
    r = ZSTD_compress2(cctx, payload->data(), payload->size(), run.data(), run.size());
  }
  if (ZSTD_isError(r)) {
    return Status::Unavailable(std::string("zstd could not compress a delta: ") +
                               ZSTD_getErrorName(r));
  }
  return r;
}

}  // namespace reducto
