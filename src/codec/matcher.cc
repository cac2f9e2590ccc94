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
  if (p.min_copy < format::kMinCopyLength || p.min_repeat_copy < format::kMinCopyLength ||
      p.fine_min_copy < format::kMinCopyLength) {
    return bad("min_copy, min_repeat_copy and fine_min_copy must be at least " +
               std::to_string(format::kMinCopyLength));
  }
  if (p.behind > (1u << 30) || p.ahead > (1u << 30)) return bad("behind/ahead must be <= 1 GiB");
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
  return Status::Ok();
}

LocalMatcher::LocalMatcher(const CorpusView& corpus, const MatchParams& params)
    : corpus_(corpus), params_(params) {
  table_bits_ = TableBits();
  window_mask_ = params_.window >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * params_.window)) - 1;
  if (params_.resync) table_.assign(size_t{1} << table_bits_, 0);
  if (params_.resync && params_.skipped_bits > 0) {
    skipped_.assign(size_t{1} << params_.skipped_bits, 0);
  }
  if (params_.resync && params_.fine) fine_ = fine_all_ = corpus_.fine();
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
    skipped_.clear();
    skipped_.shrink_to_fit();
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

void LocalMatcher::FillGap(std::span<const uint8_t> gap, uint64_t offset,
                           std::optional<uint64_t> next_address, std::vector<Piece>* out) {
  if (fine_.empty() && !fine_all_.empty() && offset >= fine_resume_) fine_ = fine_all_;
  RetireSkippedIfPoor();
  const size_t need = std::max<uint32_t>(8, params_.window);
  const uint64_t corpus_size = corpus_.size();
  // Alignment of the next anchor: the bytes before it are often its corpus predecessors.
  const bool has_next = next_address.has_value();
  const uint64_t next_alignment = has_next ? *next_address - (offset + gap.size()) : 0;
  size_t pos = 0;
  size_t literal_start = 0;
  uint32_t misses = 0;
  // The hashes of the windows at hashed_pos (the fine one only when fine_hashed),
  // computed ahead to prefetch their slots.
  uint64_t pos_hash = 0, pos_fine_hash = 0;
  size_t hashed_pos = SIZE_MAX;
  bool fine_hashed = false;
  auto emit_literal = [&](size_t end) {
    if (end > literal_start) out->push_back({offset + literal_start, end - literal_start, false, 0});
  };
  // Indexes the corpus around the address that `alignment` predicts for `target`.
  // `covered` remembers up to which target offset that needs nothing more (`covers`,
  // checked by the caller first: it is nearly always so).
  struct Covered {
    uint64_t alignment = 0, from = 0, until = 0, generation = 0;
  };
  Covered region_covered, next_covered;
  auto covers = [&](const Covered& covered, uint64_t alignment, uint64_t target) {
    return covered.generation == index_generation_ && covered.alignment == alignment &&
           target >= covered.from && target < covered.until;
  };
  auto ensure_around = [&](Covered& covered, uint64_t alignment, uint64_t target) {
    uint64_t center = target + alignment;
    if (center >= corpus_size) return;
    uint64_t lo = center > params_.behind ? center - params_.behind : 0;
    uint64_t hi = std::min<uint64_t>(corpus_size, center + params_.ahead);
    auto find = [&]() -> const Interval* {
      for (const Interval& iv : indexed_) {
        if (iv.lo <= lo && hi <= iv.hi) return &iv;
      }
      return nullptr;
    };
    const Interval* inside = find();
    if (inside == nullptr) {
      // Over-index ahead so that a scan moving forward does not come back every byte.
      EnsureIndexed(lo, std::min<uint64_t>(corpus_size, hi + params_.ahead / 4));
      inside = find();
      if (inside == nullptr) return;  // An empty region (no bytes before or after).
    }
    // The targets (the scan only moves forward) whose whole region lies in `inside`, as
    // long as no interval changes.
    covered = {alignment, target, target + (inside->hi - hi) + 1, index_generation_};
  };
  while (params_.resync && pos + need <= gap.size()) {
    ++stats_.positions;
    const uint64_t target = offset + pos;
    const uint64_t here = Load64(gap.data() + pos);
    // The first 8 bytes decide whether a candidate is worth extending.
    auto same8 = [&](uint64_t address) {
      const uint8_t* c = corpus_.At(address, 8);
      return c != nullptr && Load64(c) == here;
    };
    Match best;
    Source source = Source::kRepeat;
    auto consider = [&](Source from, uint64_t address, uint64_t min_length) {
      Match m = TryAt(gap, offset, pos, literal_start, address);
      if (m.length >= min_length && m.length > best.length) {
        best = m;
        source = from;
      }
    };
    for (int i = 0; i < repeats_known_; ++i) {
      uint64_t address = target + repeat_[i];
      if (same8(address)) consider(Source::kRepeat, address, params_.min_repeat_copy);
    }
    if (has_next && same8(target + next_alignment)) {
      consider(Source::kNext, target + next_alignment, params_.min_repeat_copy);
    }
    if (best.length == 0 && repeats_known_ > 0 && pos == literal_start) {
      // Right after a copy, a substitution: the previous alignment usually resumes a few
      // bytes on, which is cheaper to find, and to encode, than what the tables offer.
      size_t limit = std::min<size_t>(kRepeatLookahead, gap.size() - need - pos);
      for (size_t ahead = 1; ahead <= limit; ++ahead) {
        const uint8_t* c = corpus_.At(target + ahead + repeat_[0], 8);
        if (c != nullptr && Load64(c) == Load64(gap.data() + pos + ahead)) {
          Match m = TryAt(gap, offset, pos + ahead, literal_start, target + ahead + repeat_[0]);
          if (m.length >= params_.min_repeat_copy) best = m;
          break;
        }
      }
    }
    if (best.length == 0) {
      const uint64_t near = has_region_ ? region_alignment_ : next_alignment;
      if (has_region_ && !covers(region_covered, region_alignment_, target)) {
        ensure_around(region_covered, region_alignment_, target);
      }
      if (has_next && !covers(next_covered, next_alignment, target)) {
        ensure_around(next_covered, next_alignment, target);
      }
      const uint64_t hash = hashed_pos == pos ? pos_hash : Hash(gap.data() + pos);
      const uint64_t entry = table_[Slot(hash)];
      if (entry >> 32 == Fingerprint(hash)) {
        uint64_t candidate = Unpack(static_cast<uint32_t>(entry), target + near);
        if (same8(candidate)) consider(Source::kLocal, candidate, params_.min_copy);
      }
      if (!skipped_.empty() && ((hash >> 24) & kSkippedSampleMask) == 0) {
        std::optional<uint64_t> address = LookUpSkipped(hash);
        if (address && same8(*address)) consider(Source::kSkipped, *address, params_.min_copy);
      }
      if (!fine_.empty() && pos + kFineWindow <= gap.size()) {
        NoteFineLookup(target);
        const uint64_t fine_hash =
            hashed_pos == pos && fine_hashed ? pos_fine_hash : FineHash(gap.data() + pos);
        for (const FineIndexView& view : fine_) {
          view.index->ForEachCandidate(fine_hash, fine_access_, [&](uint64_t at) {
            if (same8(view.base + at)) consider(Source::kFine, view.base + at, params_.fine_min_copy);
          });
        }
      }
    }
    if (best.length == 0) {
      pos += 1 + (misses++ >> (fine_.empty() ? params_.skip_log : params_.fine_skip_log));
      // The tables are larger than the caches: start loading the next position's slots.
      if (pos + need <= gap.size()) {
        pos_hash = Hash(gap.data() + pos);
        hashed_pos = pos;
        __builtin_prefetch(&table_[Slot(pos_hash)]);
        if (!skipped_.empty()) {
          __builtin_prefetch(&skipped_[pos_hash >> (64 - params_.skipped_bits)]);
        }
        fine_hashed = fine_access_ == FineIndex::Access::kMapped && !fine_.empty() &&
                      pos + kFineWindow <= gap.size();
        if (fine_hashed) {
          pos_fine_hash = FineHash(gap.data() + pos);
          PrefetchFine(pos_fine_hash);
        }
      }
      continue;
    }
    stats_.copies[static_cast<int>(source)]++;
    stats_.bytes[static_cast<int>(source)] += best.length;
    if (source == Source::kSkipped) skipped_yield_ += best.length;
    if (source == Source::kFine) fine_yield_ += best.length;
    emit_literal(best.start - offset);
    out->push_back({best.start, best.length, true, best.address});
    NoteCopy(best.start, best.address, best.length);
    pos = best.start - offset + best.length;
    literal_start = pos;
    misses = 0;
  }
  emit_literal(gap.size());
}

}  // namespace reducto
