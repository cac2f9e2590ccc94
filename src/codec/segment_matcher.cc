#include "codec/segment_matcher.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "codec/delta_choice.h"
#include "metrics/phase_timer.h"
#include "reducto/chunker.h"

namespace reducto {
namespace {

// The longest run of undecided bytes held before deciding them without waiting for
// the next anchor.
constexpr uint64_t kMaxGap = 4u << 20;
// An extension that ends this far past its chunk makes chunking restart at its end.
constexpr uint64_t kRechunkDistance = 8u << 10;

}  // namespace

// One segment: chunks it, looks the chunks up, extends the anchors, fills the gaps with
// the local search and (max) chooses DELTAs, appending decisions to the job.
class SegmentMatcher::Scan {
 public:
  Scan(SegmentMatcher& m, SegmentJob* job)
      : m_(m), job_(*job), bytes_(job->bytes.span()), lookup_(*m.corpus_, *m.view_) {
    lookup_.set_metrics(m.metrics_);
    if (m.params_.delta) delta_.emplace(*m.corpus_, m.params_, m.level_);
  }

  Status Run() {
    Chunker chunker(m_.corpus_->info().chunking);
    uint64_t cursor = 0;  // Segment bytes before it are decided.
    uint64_t chunk_start = 0;
    while (chunk_start < bytes_.size()) {
      uint64_t gear = 0;
      uint64_t chunk_end = chunk_start;
      {
        PhaseTimer timer(m_.metrics_, Phase::kChunk);
        chunk_end += chunker.FindCut(bytes_.data() + chunk_start, bytes_.size() - chunk_start,
                                     &gear);
      }
      RETURN_IF_ERROR(EncodeChunk(chunk_start, chunk_end, &cursor));
      // Chunking goes on from the chunk's natural end, so that the next chunks are cut
      // where the corpus's were, even when a copy extended into them. After a long
      // extension it restarts where the copy ended instead (cut points realign within a
      // chunk or two), rather than cutting through all the copied bytes.
      chunk_start = cursor > chunk_end + kRechunkDistance ? cursor : chunk_end;
    }
    RETURN_IF_ERROR(EncodeGap(cursor, bytes_.size(), std::nullopt));
    if (!contiguous_ || decided_ != bytes_.size()) {
      return Status::Corrupt("the encoder's decisions for the segment at target offset " +
                             std::to_string(job_.offset) +
                             " do not cover it exactly: a bug in reducto, please report it");
    }
    Count();
    return Status::Ok();
  }

 private:
  std::span<const uint8_t> Bytes(uint64_t from, uint64_t to) const {
    return bytes_.subspan(from, to - from);
  }
  uint64_t TargetOffset(uint64_t at) const { return job_.offset + at; }

  // Segment [cursor, chunk_end) is undecided; [chunk_start, chunk_end) is the next chunk.
  Status EncodeChunk(uint64_t chunk_start, uint64_t chunk_end, uint64_t* cursor) {
    if (chunk_end <= *cursor) return Status::Ok();  // Copied already.
    std::span<const uint8_t> chunk = Bytes(chunk_start, chunk_end);
    ASSIGN_OR_RETURN(std::optional<uint64_t> found, lookup_.Find(chunk));
    if (!found) {
      // Without a local search there is nothing to wait for; otherwise the gap grows
      // until the next anchor, up to kMaxGap.
      if (!m_.params_.resync || chunk_end - *cursor >= kMaxGap) {
        RETURN_IF_ERROR(EncodeGap(*cursor, chunk_end, std::nullopt));
        *cursor = chunk_end;
      }
      return Status::Ok();
    }
    // A chunk that a copy reached into continues from where the copy ended.
    uint64_t start = std::max(chunk_start, *cursor);
    uint64_t address = *found + (start - chunk_start);
    if (m_.params_.extend && start == chunk_start) {
      PhaseTimer timer(m_.metrics_, Phase::kMatch);
      uint64_t back = ExtendBackward(*m_.view_, Bytes(*cursor, start), address);
      start -= back;
      address -= back;
    }
    RETURN_IF_ERROR(EncodeGap(*cursor, start, address));
    uint64_t end = chunk_end;
    if (m_.params_.extend) {
      PhaseTimer timer(m_.metrics_, Phase::kMatch);
      end += ExtendForward(*m_.view_, Bytes(chunk_end, bytes_.size()), *found + chunk.size());
    }
    AddCopy(start, end - start, address);
    m_.matcher_->NoteCopy(TargetOffset(start), address, end - start);
    *cursor = end;
    return Status::Ok();
  }

  // Decides segment [from, to) (the local search, then in the max profile delta
  // choice). `next_address` is the corpus address that byte `to` is copied from, when
  // known.
  Status EncodeGap(uint64_t from, uint64_t to, std::optional<uint64_t> next_address) {
    if (from >= to) return Status::Ok();
    std::vector<Piece>& pieces = m_.pieces_;
    pieces.clear();
    {
      PhaseTimer timer(m_.metrics_, Phase::kMatch);
      m_.matcher_->FillGap(Bytes(from, to), TargetOffset(from), next_address, &pieces);
    }
    if (!delta_) return AddPieces(pieces);
    std::optional<uint64_t> next_alignment;
    if (next_address) next_alignment = *next_address - TargetOffset(to);
    size_t i = 0;
    while (i < pieces.size()) {
      if (IsKeptCopy(pieces[i], m_.params_)) {
        AddPiece(pieces[i++]);
        continue;
      }
      // A run: the pieces up to the next kept copy, within one block and delta_max_run.
      const uint64_t cap = std::min<uint64_t>(m_.params_.delta_max_run, Room(pieces[i].offset));
      const size_t j = EndOfRun(&pieces, i, cap, m_.params_);
      std::optional<uint64_t> after = next_alignment;
      if (j < pieces.size()) {
        after = pieces[j].copy ? std::optional(pieces[j].address - pieces[j].offset)
                               : std::nullopt;
      }
      RETURN_IF_ERROR(EncodeRun(std::span(pieces).subspan(i, j - i), after));
      i = j;
    }
    return Status::Ok();
  }

  // The target bytes from `target_offset` to the end of its block.
  uint64_t Room(uint64_t target_offset) const {
    return m_.block_size_ - target_offset % m_.block_size_;
  }

  Status AddPieces(std::span<const Piece> pieces) {
    for (const Piece& piece : pieces) AddPiece(piece);
    return Status::Ok();
  }

  // A piece of the local search (target offsets).
  void AddPiece(const Piece& piece) {
    const uint64_t at = piece.offset - job_.offset;
    if (!piece.copy) return AddLiteral(at, piece.length);
    AddCopy(at, piece.length, piece.address);
  }

  void AddLiteral(uint64_t at, uint64_t length) {
    Add({0, 0, Decision::Kind::kLiteral}, at, length);
  }

  void AddCopy(uint64_t at, uint64_t length, uint64_t address) {
    last_alignment_ = address - TargetOffset(at);
    Add({address, 0, Decision::Kind::kCopy}, at, length);
  }

  // `at`: where the decision starts, right after the previous one.
  void Add(Decision decision, uint64_t at, uint64_t length) {
    if (length == 0) return;
    if (at != decided_) contiguous_ = false;
    decided_ = at + length;
    decision.length = static_cast<uint32_t>(length);
    job_.decisions.push_back(decision);
  }

  // Sends a run (pieces with no kept copy; `after`: the alignment of the copy after it)
  // as one DELTA when DeltaChooser finds that smaller, else as its pieces.
  Status EncodeRun(std::span<const Piece> run, std::optional<uint64_t> after) {
    const uint64_t start = run.front().offset - job_.offset;
    const uint64_t end = run.back().offset + run.back().length - job_.offset;
    std::optional<DeltaChoice> delta;
    {
      PhaseTimer timer(m_.metrics_, Phase::kMatch);
      ASSIGN_OR_RETURN(delta, delta_->Choose(run, Bytes(start, end), last_alignment_, after));
    }
    if (!delta) return AddPieces(run);
    job_.deltas.push_back({static_cast<uint32_t>(delta->reference_length),
                           static_cast<uint32_t>(delta->payload.size())});
    job_.payloads.insert(job_.payloads.end(), delta->payload.begin(), delta->payload.end());
    Add({delta->address, 0, Decision::Kind::kDelta}, start, end - start);
    if (after) last_alignment_ = after;
    return Status::Ok();
  }

  void Count() {
    SegmentCounts& counts = job_.counts;
    counts.chunks = lookup_.lookups();
    counts.chunks_found = lookup_.found();
    counts.damaged_chunks = lookup_.damaged_chunks();
    counts.indexed_bytes = m_.matcher_->stats().indexed_bytes;
    counts.fine_lookups = m_.matcher_->stats().fine_lookups;
  }

  SegmentMatcher& m_;
  SegmentJob& job_;
  std::span<const uint8_t> bytes_;
  ChunkLookup lookup_;
  std::optional<DeltaChooser> delta_;  // When params.delta.
  std::optional<uint64_t> last_alignment_;  // Corpus address - target offset of the last copy.
  uint64_t decided_ = 0;     // Segment bytes the decisions cover so far,
  bool contiguous_ = true;   // one after the other.
};

SegmentMatcher::SegmentMatcher(const CorpusReader& corpus, CorpusView view,
                               const MatchParams& params, int level, uint32_t block_size,
                               RunMetrics* metrics)
    : corpus_(&corpus),
      view_(std::make_unique<CorpusView>(std::move(view))),
      params_(params),
      level_(level),
      block_size_(block_size),
      metrics_(metrics),
      matcher_(std::make_unique<LocalMatcher>(*view_, params_)) {}

Result<SegmentMatcher> SegmentMatcher::Open(const CorpusReader& corpus, const MatchParams& params,
                                            int level, uint32_t block_size,
                                            RunMetrics* metrics) {
  ASSIGN_OR_RETURN(CorpusView view, CorpusView::Open(corpus));
  return SegmentMatcher(corpus, std::move(view), params, level, block_size, metrics);
}

Status SegmentMatcher::Match(SegmentJob* job) {
  job->decisions.clear();
  job->deltas.clear();
  job->payloads.clear();
  job->counts = SegmentCounts();
  matcher_->Reset();
  Scan scan(*this, job);
  return scan.Run();
}

}  // namespace reducto
