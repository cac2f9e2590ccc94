#include "codec/matcher.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "codec/format.h"

namespace reducto {
namespace {

constexpr size_t kMaxIntervals = 4;
// Copies at least this long move the region the local index covers.
constexpr uint64_t kRegionCopy = 1024;
// Skipped corpus ranges shorter than this are edits inside a line or an instruction,
// not content that comes back: they are not indexed.
constexpr uint64_t kMinSkipped = 32;
// The skipped-range index retires when, after this many look-ups (checked as they
// happen, and again at each gap), it has found fewer than kSkippedMinYield copied bytes
// per look-up. Measured: the database dump finds about 20 bytes per look-up; the kernel
// 61 bytes in its first 274,753 look-ups, ci-build 6,094 bytes in 351,974. 2^16 instead
// of 2^18 makes the kernel 0.025 s faster and its container 1 KB smaller; the dump's is
// the same (2^14 too).
constexpr uint64_t kSkippedTrialLookups = 1u << 16;
constexpr uint64_t kSkippedMinYield = 4;
// How far the previous copy's alignment is tried ahead of a mismatch before the tables.
constexpr size_t kRepeatLookahead = 8;
// A skipped-range slot keeps 16 bits of the hash beside the address (48 bits), so that
// most wrong candidates are rejected without reading the corpus.
constexpr uint64_t kFingerprintMask = uint64_t{0xffff} << 48;
// The skipped-range index holds, and is searched at, only the positions whose hash has
// these bits (above bit 24) clear: target and corpus agree on them, and a row of 100
// bytes still has a dozen, for an eighth of the memory traffic.
constexpr uint64_t kSkippedSampleMask = 7;
// The fine indexes cost a cache miss per look-up. Each run of kFineTrialLookups
// look-ups must find at least kFineMinYield copied bytes per look-up, or the look-ups
// pause: for the next kFinePause target bytes after the first poor run, twice as many
// after each further one in a row (up to 2^kFineMaxBackoff times). Measured (default
// profile, min copy 48): a database dump finds about 9 bytes per look-up, a kernel
// tarball 0.3, a disk image 0.6, at about 60 ns a look-up (and a page fault for each
// page a run maps again). Runs of 2^12 paused for 16 MiB keep the dump's ratio and
// cost the kernel 12,288 look-ups (3 runs); runs of 2^16 paused for 4 MiB, 327,680.
constexpr uint64_t kFineTrialLookups = 1u << 12;
constexpr uint64_t kFineMinYield = 1;
constexpr uint64_t kFinePause = 16u << 20;
constexpr int kFineMaxBackoff = 8;
constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

// ---- CorpusView ----

Result<CorpusView> CorpusView::Open(const CorpusReader& reader) {
  CorpusView view;
  std::vector<uint8_t> scratch;
  for (const CorpusSegment& segment : reader.info().segments) {
    if (segment.size == 0) continue;
    ASSIGN_OR_RETURN(std::span<const uint8_t> bytes,
                     reader.Read(segment.base, segment.size, &scratch));
    if (bytes.size() != segment.size || (!scratch.empty() && bytes.data() == scratch.data())) {
      return Status::Integrity("pack segment " + segment.file + " of the corpus at " +
                               reader.info().path +
                               " cannot be mapped whole: the corpus is damaged");
    }
    view.segments_.push_back({segment.base, bytes});
  }
  view.size_ = reader.size();
  view.fine_ = reader.fine_indexes();
  view.reader_ = &reader;
  return view;
}

const CorpusView::Segment* CorpusView::Find(uint64_t address) const {
  if (address >= last_.base && address - last_.base < last_.bytes.size()) return &last_;
  auto it = std::upper_bound(segments_.begin(), segments_.end(), address,
                             [](uint64_t a, const Segment& s) { return a < s.base; });
  if (it == segments_.begin()) return nullptr;
  --it;
  if (address - it->base >= it->bytes.size()) return nullptr;
  last_ = *it;
  return &last_;
}

std::span<const uint8_t> CorpusView::From(uint64_t address) const {
  if (address >= size_) return {};
  const Segment* s = Find(address);
  if (s == nullptr) return {};
  return s->bytes.subspan(address - s->base);
}

std::span<const uint8_t> CorpusView::Before(uint64_t address) const {
  if (address == 0 || address > size_) return {};
  const Segment* s = Find(address - 1);
  if (s == nullptr) return {};
  return s->bytes.first(address - s->base);
}

// ---- Comparisons ----

size_t CommonPrefix(const uint8_t* a, const uint8_t* b, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x = Load64(a + i) ^ Load64(b + i);
    if (x != 0) return i + (std::countr_zero(x) >> 3);
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

size_t CommonSuffix(const uint8_t* a_end, const uint8_t* b_end, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x = Load64(a_end - i - 8) ^ Load64(b_end - i - 8);
    if (x != 0) return i + (std::countl_zero(x) >> 3);
  }
  while (i < n && a_end[-1 - static_cast<ptrdiff_t>(i)] == b_end[-1 - static_cast<ptrdiff_t>(i)]) {
    ++i;
  }
  return i;
}

uint64_t ExtendForward(const CorpusView& corpus, std::span<const uint8_t> target,
                       uint64_t address) {
  uint64_t done = 0;
  while (done < target.size()) {
    std::span<const uint8_t> c = corpus.From(address + done);
    if (c.empty()) break;
    size_t n = std::min<uint64_t>(c.size(), target.size() - done);
    size_t same = CommonPrefix(target.data() + done, c.data(), n);
    done += same;
    if (same < n) break;
  }
  return done;
}

uint64_t ExtendBackward(const CorpusView& corpus, std::span<const uint8_t> target,
                        uint64_t address) {
  uint64_t done = 0;
  while (done < target.size()) {
    std::span<const uint8_t> c = corpus.Before(address - done);
    if (c.empty()) break;
    size_t n = std::min<uint64_t>(c.size(), target.size() - done);
    size_t same = CommonSuffix(target.data() + target.size() - done, c.data() + c.size(), n);
    done += same;
    if (same < n) break;
  }
  return done;
}

// ---- LocalMatcher ----

Status ValidateMatchParams(const MatchParams& p) {
  auto bad = [](const std::string& what) {
    return Status::InvalidArgument("match parameter " + what);
  };
  if (p.window < 4 || p.window > 32) return bad("window must be 4..32");
  if (p.stride < 1 || p.stride > 64) return bad("stride must be 1..64");
  if (p.min_copy < format::kMinCopyLength || p.fine_min_copy < format::kMinCopyLength) {
    return bad("min_copy and fine_min_copy must be at least " +
               std::to_string(format::kMinCopyLength));
  }
  if (p.min_repeat_copy < (p.add ? 8 : format::kMinCopyLength) || p.min_code_repeat_copy < 8) {
    return bad("min_repeat_copy must be at least " + std::to_string(format::kMinCopyLength) +
               " (8 with ADD), min_code_repeat_copy at least 8");
  }
  if (p.behind > (1u << 30) || p.ahead > (1u << 30)) return bad("behind/ahead must be <= 1 GiB");
  if (p.widen < 1 || p.widen > 64) return bad("widen must be 1..64");
  if (p.code_window > (uint64_t{1} << 30)) return bad("code_window must be <= 1 GiB");
  if (p.skipped_bits != 0 && (p.skipped_bits < 8 || p.skipped_bits > 26)) {
    return bad("skipped_bits must be 0 (off) or 8..26");
  }
  if (p.table_bits != 0 && (p.table_bits < 8 || p.table_bits > 26)) {
    return bad("table_bits must be 0 (automatic) or 8..26");
  }
  if (p.skip_log < 1 || p.skip_log > 31 || p.fine_skip_log < 1 || p.fine_skip_log > 31) {
    return bad("skip_log and fine_skip_log must be 1..31");
  }
  if (p.delta_max_reference < 1 || p.delta_max_reference > format::kMaxDeltaReference) {
    return bad("delta_max_reference must be 1.." + std::to_string(format::kMaxDeltaReference));
  }
  if (p.delta_max_run < p.delta_min_run || p.delta_max_run > (64u << 20)) {
    return bad("delta_max_run must be delta_min_run..64 MiB");
  }
  if (p.delta_refine_level != 0 &&
      (p.delta_refine_level < format::kMinLevel || p.delta_refine_level > format::kMaxLevel)) {
    return bad("delta_refine_level must be 0 (off) or a zstd level 1..22");
  }
  return Status::Ok();
}

LocalMatcher::LocalMatcher(const CorpusView& corpus, const MatchParams& params)
    : corpus_(corpus), params_(params) {
  table_bits_ = TableBits();
  window_mask_ = params_.window >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * params_.window)) - 1;
  if (params_.resync) table_.assign(size_t{1} << table_bits_, 0);
  if (params_.resync && params_.skipped_bits > 0) {
    skipped_storage_.emplace(size_t{1} << params_.skipped_bits);
    skipped_ = skipped_storage_->span();
  }
  if (params_.resync && params_.fine) fine_ = fine_all_ = corpus_.fine();
}

void LocalMatcher::Reset() {
  std::fill(table_.begin(), table_.end(), 0);
  if (skipped_storage_) {
    // Zero pages until written: a target that never indexed skipped bytes leaves them so.
    if (skipped_written_) std::ranges::fill(skipped_storage_->span(), 0);
    skipped_written_ = false;
    skipped_ = skipped_storage_->span();
  }
  skipped_lookups_ = skipped_yield_ = 0;
  fine_ = fine_all_;
  fine_resume_ = 0;
  fine_access_ = FineIndex::Access::kRead;
  fine_lookups_ = fine_yield_ = 0;
  fine_poor_runs_ = 0;
  last_copy_end_ = region_alignment_ = 0;
  has_region_ = copied_ = code_ = false;
  indexed_.clear();
  ++index_generation_;
  repeat_[0] = repeat_[1] = 0;
  repeats_known_ = 0;
  stats_ = Stats();
}

void LocalMatcher::NoteFineLookup(uint64_t target) {
  ++stats_.fine_lookups;
  if (++fine_lookups_ < kFineTrialLookups) return;
  if (fine_yield_ >= kFineMinYield * kFineTrialLookups) {
    fine_poor_runs_ = 0;
    // Worth it here: from now on through the mapping, which is faster once mapped.
    fine_access_ = FineIndex::Access::kMapped;
  } else {
    fine_resume_ = target + (kFinePause << std::min(fine_poor_runs_++, kFineMaxBackoff));
    // Not read again for a while: give back the pages the trial mapped.
    for (const FineIndexView& view : fine_) view.index->DropResidentPages();
    fine_ = {};
  }
  fine_lookups_ = 0;
  fine_yield_ = 0;
}

void LocalMatcher::PrefetchFine(uint64_t fine_hash) const {
  for (const FineIndexView& view : fine_) view.index->Prefetch(fine_hash);
}

int LocalMatcher::TableBits() const {
  if (params_.table_bits != 0) return params_.table_bits;
  uint64_t positions = (uint64_t{params_.behind} + params_.ahead + params_.ahead / 4) / params_.stride;
  int bits = 10;
  while (bits < 24 && (uint64_t{1} << bits) < 2 * positions) ++bits;
  return bits;
}

uint64_t LocalMatcher::HashWide(const uint8_t* p) const {
  const uint32_t w = params_.window;
  uint64_t h = Load64(p) * kPrime1;
  uint32_t k = 8;
  for (; k + 8 <= w; k += 8) h = std::rotl(h, 29) ^ (Load64(p + k) * kPrime2);
  if (k < w) h = std::rotl(h, 29) ^ (Load64(p + w - 8) * kPrime2);
  return h * kPrime1;
}

void LocalMatcher::IndexRange(uint64_t lo, uint64_t hi) {
  stats_.indexed_bytes += hi - lo;
  const uint64_t stride = params_.stride;
  const size_t need = std::max<uint32_t>(8, params_.window);
  uint64_t p = (lo + stride - 1) / stride * stride;
  while (p < hi) {
    std::span<const uint8_t> bytes = corpus_.From(p);
    if (bytes.size() < need) {
      // The last bytes of a segment: too few for a window; skip to the next segment.
      p += std::max<uint64_t>(bytes.size(), 1);
      p = (p + stride - 1) / stride * stride;
      continue;
    }
    const uint64_t first = p;  // bytes[0] is corpus address `first`.
    uint64_t end = std::min<uint64_t>(hi, p + bytes.size() - need + 1);
    for (; p < end; p += stride) {
      const uint64_t hash = Hash(bytes.data() + (p - first));
      table_[Slot(hash)] = SlotEntry(hash, p);
      ++stats_.indexed_positions;
    }
  }
}

void LocalMatcher::EnsureIndexed(uint64_t lo, uint64_t hi) {
  hi = std::min(hi, corpus_.size());
  if (lo >= hi) return;
  ++index_generation_;
  for (size_t i = 0; i < indexed_.size(); ++i) {
    Interval& iv = indexed_[i];
    if (hi < iv.lo || lo > iv.hi) continue;
    if (lo < iv.lo) IndexRange(lo, iv.lo);
    if (hi > iv.hi) IndexRange(iv.hi, hi);
    Interval merged{std::min(lo, iv.lo), std::max(hi, iv.hi)};
    indexed_.erase(indexed_.begin() + static_cast<ptrdiff_t>(i));
    indexed_.insert(indexed_.begin(), merged);
    return;
  }
  IndexRange(lo, hi);
  indexed_.insert(indexed_.begin(), Interval{lo, hi});
  if (indexed_.size() > kMaxIntervals) indexed_.pop_back();
}

void LocalMatcher::IndexSkipped(uint64_t lo, uint64_t hi) {
  const size_t need = std::max<uint32_t>(8, params_.window);
  std::span<const uint8_t> bytes = corpus_.From(lo);
  if (bytes.size() < hi - lo || hi - lo < need) return;
  stats_.indexed_bytes += hi - lo;
  skipped_written_ = true;
  const int shift = 64 - params_.skipped_bits;
  for (uint64_t p = lo; p + need <= hi; ++p) {
    uint64_t hash = Hash(bytes.data() + (p - lo));
    if (((hash >> 24) & kSkippedSampleMask) == 0) {
      skipped_[hash >> shift] = (hash & kFingerprintMask) | (p + 1);
    }
  }
}

void LocalMatcher::NoteCopy(uint64_t offset, uint64_t address, uint64_t length) {
  if (!skipped_.empty() && copied_ && address >= last_copy_end_ + kMinSkipped &&
      address - last_copy_end_ <= params_.skipped_max) {
    IndexSkipped(last_copy_end_, address);
  }
  copied_ = true;
  last_copy_end_ = address + length;
  uint64_t alignment = address - offset;
  // A short copy from elsewhere (a moved row) does not move the indexed region.
  if (length >= kRegionCopy || !has_region_) {
    region_alignment_ = alignment;
    has_region_ = true;
  }
  if (repeats_known_ > 0 && repeat_[0] == alignment) return;
  repeat_[1] = repeat_[0];
  repeat_[0] = alignment;
  repeats_known_ = std::min(repeats_known_ + 1, 2);
}

LocalMatcher::Match LocalMatcher::TryAt(std::span<const uint8_t> gap, uint64_t offset, size_t pos,
                                        size_t floor, uint64_t address) const {
  const uint8_t* c = corpus_.At(address, 8);
  if (c == nullptr || Load64(gap.data() + pos) != Load64(c)) return {};
  std::span<const uint8_t> after = corpus_.From(address);
  size_t n = std::min<uint64_t>(gap.size() - pos, after.size());
  uint64_t forward = 8 + CommonPrefix(gap.data() + pos + 8, after.data() + 8, n - 8);
  std::span<const uint8_t> before = corpus_.Before(address);
  size_t back = CommonSuffix(gap.data() + pos, before.data() + before.size(),
                             std::min<uint64_t>(pos - floor, before.size()));
  return {offset + pos - back, address - back, back + forward};
}

void LocalMatcher::RetireSkippedIfPoor() {
  if (!skipped_.empty() && skipped_lookups_ >= kSkippedTrialLookups &&
      skipped_yield_ < kSkippedMinYield * skipped_lookups_) {
    // On this target skipped content does not come back (binaries: replaced code is
    // gone): stop paying a cache miss per look-up for it.
    skipped_ = {};
  }
}

std::optional<uint64_t> LocalMatcher::LookUpSkipped(uint64_t hash) {
  // The first verdict comes within the gap: one gap of a binary can take 10^5 look-ups.
  if (++skipped_lookups_ == kSkippedTrialLookups) RetireSkippedIfPoor();
  if (skipped_.empty()) return std::nullopt;
  const uint64_t slot = skipped_[hash >> (64 - params_.skipped_bits)];
  if (slot == 0 || ((slot ^ hash) & kFingerprintMask) != 0) return std::nullopt;
  return (slot & ~kFingerprintMask) - 1;
}

// The scan of one gap. At each position it looks for the longest match, cheapest
// sources first: the alignments of recent copies and of the next anchor
// (TryAlignments), the previous alignment a few bytes on after a substitution
// (TryResumeAfterSubstitution), then the indexes (TryIndexes). A match becomes a copy
// (TakeMatch); a miss moves on, in growing steps while misses last (StepPastMiss).
class LocalMatcher::GapScan {
 public:
  GapScan(LocalMatcher& matcher, std::span<const uint8_t> gap, uint64_t offset,
          std::optional<uint64_t> next_address, std::vector<Piece>* out)
      : m_(matcher),
        gap_(gap),
        offset_(offset),
        out_(out),
        need_(std::max<uint32_t>(8, matcher.params_.window)),
        has_next_(next_address.has_value()),
        next_alignment_(has_next_ ? *next_address - (offset + gap.size()) : 0),
        min_repeat_copy_(matcher.code_ && matcher.params_.add ? matcher.params_.min_code_repeat_copy
                                                              : matcher.params_.min_repeat_copy) {}

  void Run() {
    while (m_.params_.resync && pos_ + need_ <= gap_.size()) {
      if (FindMatch()) {
        TakeMatch();
      } else {
        StepPastMiss();
      }
    }
    EmitLiteral(gap_.size());
  }

 private:
  // The positions (the scan only moves forward) for which the index holds the whole
  // region around the address that `alignment` predicts, as long as no interval of the
  // index changes (generation).
  struct Covered {
    uint64_t alignment = 0, from = 0, until = 0, generation = 0;
    uint32_t widen = 1;

    bool Covers(uint64_t a, uint64_t target, uint64_t index_generation, uint32_t w) const {
      return generation == index_generation && alignment == a && target >= from &&
             target < until && widen == w;
    }
  };

  // Sets best_ (and source_) to the longest match at pos_; false when there is none.
  bool FindMatch() {
    ++m_.stats_.positions;
    target_ = offset_ + pos_;
    here_ = Load64(gap_.data() + pos_);
    best_ = {};
    source_ = Source::kRepeat;
    TryAlignments();
    if (best_.length == 0 && m_.repeats_known_ > 0 && pos_ == literal_start_) {
      TryResumeAfterSubstitution();
    }
    if (best_.length == 0) TryIndexes();
    return best_.length > 0;
  }

  void TryAlignments() {
    for (int i = 0; i < m_.repeats_known_; ++i) {
      const uint64_t address = target_ + m_.repeat_[i];
      if (SameFirst8(address)) Consider(Source::kRepeat, address, min_repeat_copy_);
    }
    if (has_next_ && SameFirst8(target_ + next_alignment_)) {
      Consider(Source::kNext, target_ + next_alignment_, min_repeat_copy_);
    }
  }

  // Right after a copy, a substitution: the previous alignment usually resumes a few
  // bytes on, which is cheaper to find, and to encode, than what the tables offer.
  void TryResumeAfterSubstitution() {
    const size_t limit = std::min<size_t>(kRepeatLookahead, gap_.size() - need_ - pos_);
    for (size_t ahead = 1; ahead <= limit; ++ahead) {
      const uint64_t address = target_ + ahead + m_.repeat_[0];
      const uint8_t* c = m_.corpus_.At(address, 8);
      if (c != nullptr && Load64(c) == Load64(gap_.data() + pos_ + ahead)) {
        Match m = m_.TryAt(gap_, offset_, pos_ + ahead, literal_start_, address);
        if (m.length >= min_repeat_copy_) best_ = m;
        return;
      }
    }
  }

  void TryIndexes() {
    IndexAroundPredictions();
    const uint64_t hash = hashed_pos_ == pos_ ? pos_hash_ : m_.Hash(gap_.data() + pos_);
    TryLocalIndex(hash);
    if (!m_.skipped_.empty() && ((hash >> 24) & kSkippedSampleMask) == 0) TrySkippedIndex(hash);
    if (!m_.fine_.empty() && pos_ + kFineWindow <= gap_.size()) TryFineIndexes();
  }

  // Makes sure the local index holds the corpus around the addresses that the region's
  // alignment and the next anchor's predict for this position (MatchParams::widen
  // times as far once the literal run is widen_after bytes long).
  void IndexAroundPredictions() {
    widen_ = pos_ - literal_start_ >= m_.params_.widen_after ? m_.params_.widen : 1;
    // Indexing around one prediction changes the index's generation for the next.
    if (m_.has_region_ &&
        !region_covered_.Covers(m_.region_alignment_, target_, m_.index_generation_, widen_)) {
      IndexAround(&region_covered_, m_.region_alignment_);
    }
    if (has_next_ &&
        !next_covered_.Covers(next_alignment_, target_, m_.index_generation_, widen_)) {
      IndexAround(&next_covered_, next_alignment_);
    }
  }

  // Indexes the corpus around the address that `alignment` predicts for this position,
  // and records in *covered the positions that need nothing more.
  void IndexAround(Covered* covered, uint64_t alignment) {
    const uint64_t corpus_size = m_.corpus_.size();
    const uint64_t center = target_ + alignment;
    if (center >= corpus_size) return;
    const uint64_t behind = uint64_t{m_.params_.behind} * widen_;
    const uint64_t ahead = uint64_t{m_.params_.ahead} * widen_;
    const uint64_t lo = center > behind ? center - behind : 0;
    const uint64_t hi = std::min<uint64_t>(corpus_size, center + ahead);
    const Interval* inside = m_.FindIndexed(lo, hi);
    if (inside == nullptr) {
      // Over-index ahead so that a scan moving forward does not come back every byte.
      m_.EnsureIndexed(lo, std::min<uint64_t>(corpus_size, hi + m_.params_.ahead / 4));
      inside = m_.FindIndexed(lo, hi);
      if (inside == nullptr) return;  // An empty region (no bytes before or after).
    }
    *covered = {alignment, target_, target_ + (inside->hi - hi) + 1, m_.index_generation_,
                widen_};
  }

  void TryLocalIndex(uint64_t hash) {
    const uint64_t entry = m_.table_[m_.Slot(hash)];
    if (entry >> 32 != m_.Fingerprint(hash)) return;
    const uint64_t near = m_.has_region_ ? m_.region_alignment_ : next_alignment_;
    const uint64_t candidate = Unpack(static_cast<uint32_t>(entry), target_ + near);
    if (SameFirst8(candidate)) Consider(Source::kLocal, candidate, m_.params_.min_copy);
  }

  void TrySkippedIndex(uint64_t hash) {
    std::optional<uint64_t> address = m_.LookUpSkipped(hash);
    if (address && SameFirst8(*address)) Consider(Source::kSkipped, *address, m_.params_.min_copy);
  }

  void TryFineIndexes() {
    m_.NoteFineLookup(target_);
    const uint64_t fine_hash =
        hashed_pos_ == pos_ && fine_hashed_ ? pos_fine_hash_ : FineHash(gap_.data() + pos_);
    for (const FineIndexView& view : m_.fine_) {
      view.index->ForEachCandidate(fine_hash, m_.fine_access_, [&](uint64_t at) {
        if (SameFirst8(view.base + at)) {
          Consider(Source::kFine, view.base + at, m_.params_.fine_min_copy);
        }
      });
    }
  }

  // The first 8 bytes decide whether a candidate is worth extending.
  bool SameFirst8(uint64_t address) const {
    const uint8_t* c = m_.corpus_.At(address, 8);
    return c != nullptr && Load64(c) == here_;
  }

  // Takes the match at corpus `address` as best_ if it is at least `min_length` long
  // and longer than best_.
  void Consider(Source from, uint64_t address, uint64_t min_length) {
    Match m = m_.TryAt(gap_, offset_, pos_, literal_start_, address);
    if (m.length >= min_length && m.length > best_.length) {
      best_ = m;
      source_ = from;
    }
  }

  // Emits best_ (after the literal bytes before it) and goes on after it.
  void TakeMatch() {
    m_.stats_.copies[static_cast<int>(source_)]++;
    m_.stats_.bytes[static_cast<int>(source_)] += best_.length;
    if (source_ == Source::kSkipped) m_.skipped_yield_ += best_.length;
    if (source_ == Source::kFine) m_.fine_yield_ += best_.length;
    EmitLiteral(best_.start - offset_);
    out_->push_back({best_.start, best_.length, true, best_.address});
    m_.NoteCopy(best_.start, best_.address, best_.length);
    pos_ = best_.start - offset_ + best_.length;
    literal_start_ = pos_;
    misses_ = 0;
  }

  // Moves on; the step grows by one every 2^skip_log misses in a row.
  void StepPastMiss() {
    pos_ += 1 + (misses_++ >> (m_.fine_.empty() ? m_.params_.skip_log : m_.params_.fine_skip_log));
    if (pos_ + need_ <= gap_.size()) PrefetchSlots();
  }

  // The tables are larger than the caches: starts loading the slots of pos_'s windows.
  void PrefetchSlots() {
    pos_hash_ = m_.Hash(gap_.data() + pos_);
    hashed_pos_ = pos_;
    __builtin_prefetch(&m_.table_[m_.Slot(pos_hash_)]);
    if (!m_.skipped_.empty()) {
      __builtin_prefetch(&m_.skipped_[pos_hash_ >> (64 - m_.params_.skipped_bits)]);
    }
    fine_hashed_ = m_.fine_access_ == FineIndex::Access::kMapped && !m_.fine_.empty() &&
                   pos_ + kFineWindow <= gap_.size();
    if (fine_hashed_) {
      pos_fine_hash_ = FineHash(gap_.data() + pos_);
      m_.PrefetchFine(pos_fine_hash_);
    }
  }

  // Emits the undecided bytes before gap position `end` as a literal.
  void EmitLiteral(size_t end) {
    if (end > literal_start_) {
      out_->push_back({offset_ + literal_start_, end - literal_start_, false, 0});
    }
  }

  LocalMatcher& m_;
  const std::span<const uint8_t> gap_;
  const uint64_t offset_;  // Target offset of gap_[0].
  std::vector<Piece>* const out_;
  const size_t need_;  // Bytes a window reads.
  // Alignment of the next anchor: the bytes before it are often its corpus predecessors.
  const bool has_next_;
  const uint64_t next_alignment_;
  const uint64_t min_repeat_copy_;  // MatchParams::min_repeat_copy, or in code its own.
  size_t pos_ = 0;            // The gap position looked at.
  size_t literal_start_ = 0;  // Gap bytes [literal_start_, pos_) are literal so far.
  uint32_t widen_ = 1;        // How far the predictions' regions reach (MatchParams::widen).
  uint32_t misses_ = 0;       // Positions without a match since the last one.
  // The hashes of the windows at hashed_pos_ (the fine one only when fine_hashed_),
  // computed ahead to prefetch their slots.
  uint64_t pos_hash_ = 0, pos_fine_hash_ = 0;
  size_t hashed_pos_ = SIZE_MAX;
  bool fine_hashed_ = false;
  Covered region_covered_, next_covered_;
  // At pos_: its target offset, its first 8 bytes, the best match found so far and
  // where it came from.
  uint64_t target_ = 0;
  uint64_t here_ = 0;
  Match best_;
  Source source_ = Source::kRepeat;
};

const LocalMatcher::Interval* LocalMatcher::FindIndexed(uint64_t lo, uint64_t hi) const {
  for (const Interval& iv : indexed_) {
    if (iv.lo <= lo && hi <= iv.hi) return &iv;
  }
  return nullptr;
}

void LocalMatcher::FillGap(std::span<const uint8_t> gap, uint64_t offset,
                           std::optional<uint64_t> next_address, std::vector<Piece>* out) {
  if (fine_.empty() && !fine_all_.empty() && offset >= fine_resume_) fine_ = fine_all_;
  RetireSkippedIfPoor();
  GapScan(*this, gap, offset, next_address, out).Run();
}

}  // namespace reducto
