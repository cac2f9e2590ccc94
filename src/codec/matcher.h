// Byte-level matching of target bytes against the corpus, around the positions that
// exact chunk matches (anchors) point to: extension of a match past its chunk's edges,
// and a local search that re-synchronises after an edit. The encoder finds anchors in
// the chunk index; this file finds everything between them.
//
// Thread safety: a LocalMatcher is used by one thread; the corpus is only read.
#ifndef REDUCTO_CODEC_MATCHER_H_
#define REDUCTO_CODEC_MATCHER_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "corpus/corpus_reader.h"
#include "corpus/fine_index.h"
#include "reducto/status.h"
#include "util/large_buffer.h"

namespace reducto {

// How hard the local search works. The defaults are the default profile's; the other
// profiles (CompressOptions::profile) change some.
struct MatchParams {
  // Byte-wise extension of chunk matches forward and backward past their edges.
  bool extend = true;
  // The local search between anchors. Without it, everything between anchors (after
  // extension) is literal.
  bool resync = true;
  // Bytes hashed at each position of the local index (4..32). Shorter windows find
  // shorter matches and more false candidates.
  uint32_t window = 8;
  // Every stride-th corpus position of a region is indexed; every target position is
  // looked up. A match of window + stride - 1 bytes is always found.
  uint32_t stride = 4;
  // Shortest copy the local search emits when found through the index, and when found
  // at a repeated alignment (a previous copy's or the next anchor's). Both are at least
  // format::kMinCopyLength, but min_repeat_copy may be 8 with ADD (`add`).
  uint32_t min_copy = 20;
  uint32_t min_repeat_copy = 16;
  // min_repeat_copy in a block known to be code (LocalMatcher::set_code), when ADD is on.
  // With ADD a short copy still pays: the block builder joins it, and the edited bytes
  // around it, to the ADD region at its alignment (code, and the type numbers of its BTF
  // sections, have 10 unchanged bytes between two changed fields). At least 8 (a
  // candidate's first 8 bytes are compared). Measured, default profile, 10 in code
  // blocks: the kernel pair 2.0% smaller, libssl 5.7%, systemd 0.3% larger, the ext4
  // image and the dump unchanged. 10 in every block: the kernel 4% smaller, but systemd
  // 0.4% and the ext4 image 0.3% larger; 8 made libssl 3% larger than 10.
  uint32_t min_code_repeat_copy = 16;
  // Corpus bytes indexed before and after the position that the previous copy (or the
  // next anchor) predicts for the current target position.
  uint32_t behind = 16u << 10;
  uint32_t ahead = 16u << 10;
  // Corpus bytes that the target skipped between two consecutive copies (a deleted row,
  // replaced code) often come back later, edited (an updated row that the database
  // wrote elsewhere). Skips of up to skipped_max bytes are indexed into a second table
  // of 2^skipped_bits slots (8 bytes each) that lives for the whole target; 0 disables.
  int skipped_bits = 0;
  uint32_t skipped_max = 4096;
  // Look up, at every target position the other tables leave, the corpus's fine indexes
  // (docs/corpus.md, "Fine index"): runs of at least stride + 15 bytes anywhere in the
  // corpus, such as a row that the database rewrote far from its old place. Corpora
  // without fine indexes simply have none to look up.
  bool fine = false;
  // Shortest copy taken from a fine index: shorter ones in binaries are coincidences
  // that cost more than the literals they replace.
  uint32_t fine_min_copy = 48;
  // log2 of the local index's slots (8 bytes each); 0 sizes the table to hold about
  // twice the positions of one region, so that new entries seldom evict the ones near
  // the prediction.
  int table_bits = 0;
  // After 2^skip_log target positions without a match the search step grows by one, so
  // that new data is crossed quickly; after 2^fine_skip_log while the fine indexes are
  // looked up (they hold every 32nd corpus offset: a position stepped over is a row
  // missed). 31 disables it.
  int skip_log = 4;
  int fine_skip_log = 6;
  // Once widen_after bytes of a gap are literal in a row, the local search indexes
  // `widen` times behind and ahead around its predictions, until the next match:
  // functions that a rebuild moved far (profile-guided layouts) are found again. 1
  // disables it. The table keeps its size (table_bits): sized for the wide region, it
  // made the ext4 image 0.3% larger.
  uint32_t widen = 1;
  uint32_t widen_after = 8192;

  // DELTA instructions (format version 2): the pieces between two copies of at least
  // delta_keep_copy bytes form a run of at most delta_max_run bytes; a run with literal
  // bytes that is at least delta_min_run long is compressed with zstd against the corpus
  // region its neighbouring copies point to (delta_margin bytes around it, at most
  // delta_max_reference bytes), and sent as a DELTA when that encodes smaller.
  bool delta = false;
  uint32_t delta_keep_copy = 1024;
  uint32_t delta_min_run = 64;
  uint32_t delta_max_run = 32u << 10;
  uint32_t delta_margin = 2u << 10;
  uint32_t delta_max_reference = 64u << 10;
  // A DELTA that wins at the container's zstd level is compressed again at this level
  // when it is higher (0: never), and the smaller payload is sent. Only winners are:
  // trying every run at a high level took the ext4 image from 4.5 to 12 s.
  int delta_refine_level = 0;

  // ADD instructions (format version 4): copies at one alignment with edited bytes
  // between them, and near matches around copies, become the corpus bytes plus their
  // differences (codec/block_builder.h).
  bool add = false;
  // A block is known to be code once its ADDs predicted kCodeEvidence changed
  // displacements, or (when not 0) once the ADDs that ended in the last code_window bytes
  // of output did, so that a block that continues code is code from its first byte
  // (BlockBuilder::IsCode). Measured, default profile, a window of 4 MiB (one block):
  // the kernel pair 3.1% smaller, ci-build 2.1%, libpython3.11 10.8%, the ext4 image
  // 0.02% and git 0.03% larger; 2 MiB: ci-build unchanged; carrying the whole previous
  // block's verdict instead: git 1.5% larger. In `max` the window made ci-build 1% and
  // the image 0.3% larger.
  uint64_t code_window = 0;
};

// One decided piece of the target: a literal, or a copy of corpus bytes.
struct Piece {
  uint64_t offset = 0;  // Target offset.
  uint64_t length = 0;
  bool copy = false;
  uint64_t address = 0;  // Corpus address of a copy.
};

// Direct access to the corpus bytes, segment by segment, without copying.
class CorpusView {
 public:
  // Maps every segment through CorpusReader::Read, and takes the reader's fine indexes.
  // `reader` must outlive the view.
  static Result<CorpusView> Open(const CorpusReader& reader);

  uint64_t size() const { return size_; }
  std::span<const FineIndexView> fine() const { return fine_; }
  // The corpus bytes from `address` to the end of its segment (empty at or past the end).
  std::span<const uint8_t> From(uint64_t address) const;
  // The corpus bytes from the start of the segment holding `address - 1` up to `address`
  // (empty when address is 0 or past the end).
  std::span<const uint8_t> Before(uint64_t address) const;
  // CorpusReader::VerifyRange of the reader the view was opened on (Ok for a view
  // opened on none).
  Status Verify(uint64_t address, uint64_t length) const {
    return reader_ != nullptr ? reader_->VerifyRange(address, length) : Status::Ok();
  }
  // The first `n` corpus bytes at `address` when they lie in one segment, else nullptr.
  const uint8_t* At(uint64_t address, size_t n) const {
    const uint64_t offset = address - last_.base;
    if (offset < last_.bytes.size() && last_.bytes.size() - offset >= n) {
      return last_.bytes.data() + offset;
    }
    std::span<const uint8_t> bytes = From(address);
    return bytes.size() >= n ? bytes.data() : nullptr;
  }

 private:
  struct Segment {
    uint64_t base = 0;
    std::span<const uint8_t> bytes;
  };
  // The segment holding `address`, or nullptr. REQUIRES: address < size_.
  const Segment* Find(uint64_t address) const;

  std::vector<Segment> segments_;  // Non-empty segments, by base.
  std::span<const FineIndexView> fine_;
  uint64_t size_ = 0;
  const CorpusReader* reader_ = nullptr;
  mutable Segment last_;  // What the previous Find found (usually the next answer), or empty.
};

// Number of equal leading bytes of a and b, at most n.
size_t CommonPrefix(const uint8_t* a, const uint8_t* b, size_t n);
// Number of equal bytes that end at a_end and b_end (exclusive), at most n.
size_t CommonSuffix(const uint8_t* a_end, const uint8_t* b_end, size_t n);

// How many target bytes from `target` on equal the corpus bytes from `address` on.
uint64_t ExtendForward(const CorpusView& corpus, std::span<const uint8_t> target, uint64_t address);
// How many target bytes ending at the end of `target` equal the corpus bytes ending at
// `address` (exclusive).
uint64_t ExtendBackward(const CorpusView& corpus, std::span<const uint8_t> target, uint64_t address);

// The local search. Keeps a hash table over the corpus regions that recent copies point
// to (stale entries are harmless: every candidate is compared byte by byte) and the
// alignments (corpus address - target offset) of recent copies.
class LocalMatcher {
 public:
  // REQUIRES: params are in range (ValidateMatchParams).
  LocalMatcher(const CorpusView& corpus, const MatchParams& params);

  // Forgets everything the searches so far learnt (the tables, the alignments, the
  // trials, the stats), as if just constructed, but keeps the tables' memory: a segment
  // of the target is matched from this state whatever came before it.
  void Reset();

  // Whether the block that the next gaps go into is known to be code
  // (BlockSequence::BlockIsCode): copies at a repeated alignment may then be as short as
  // min_code_repeat_copy.
  void set_code(bool code) { code_ = code; }

  // Records that target [offset, offset + length) was copied from `address`.
  void NoteCopy(uint64_t offset, uint64_t address, uint64_t length);

  // Decides target bytes [offset, offset + gap.size()) (`gap` holds them): appends
  // literals and copies covering exactly that range to *out. `next_address`, when
  // known, is the corpus address that the byte right after the gap is copied from.
  void FillGap(std::span<const uint8_t> gap, uint64_t offset, std::optional<uint64_t> next_address,
               std::vector<Piece>* out);

  // Where the local search found its copies: at a previous copy's alignment, at the next
  // anchor's, in the local index, in the index of skipped ranges, in a fine index.
  enum class Source { kRepeat, kNext, kLocal, kSkipped, kFine };
  struct Stats {
    uint64_t copies[5] = {};  // By Source.
    uint64_t bytes[5] = {};
    uint64_t positions = 0;          // Target positions looked up (steps skip the rest).
    uint64_t indexed_positions = 0;  // Corpus positions put into the local index.
    uint64_t indexed_bytes = 0;      // Corpus bytes read to index them (both tables).
    uint64_t fine_lookups = 0;       // Look-ups in the fine indexes.
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Interval {
    uint64_t lo = 0, hi = 0;  // Corpus positions [lo, hi) are in the table.
  };
  struct Match {
    uint64_t start = 0;    // Target offset.
    uint64_t address = 0;  // Corpus address of the first byte.
    uint64_t length = 0;
  };
  // One FillGap call: the scan over the gap's positions, step by step (matcher.cc).
  class GapScan;

  // The 64-bit hash of the window at `p`; its top bits pick a table slot.
  // REQUIRES: max(8, window) readable bytes.
  uint64_t Hash(const uint8_t* p) const {
    if (params_.window > 8) return HashWide(p);
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return (v & window_mask_) * 0x9E3779B185EBCA87ULL;
  }
  uint64_t Slot(uint64_t hash) const { return hash >> (64 - table_bits_); }
  // Indexes corpus [lo, hi) into skipped_.
  void IndexSkipped(uint64_t lo, uint64_t hi);
  // The corpus address skipped_ holds for `hash` (sampled), if its fingerprint agrees;
  // counts the look-up. REQUIRES: !skipped_.empty().
  std::optional<uint64_t> LookUpSkipped(uint64_t hash);
  // Empties skipped_ for good once its trial found too little (kSkippedTrialLookups).
  void RetireSkippedIfPoor();
  // Counts a look-up in the fine indexes at target offset `target`; at the end of a
  // poor trial run, pauses them (empties fine_ until fine_resume_).
  void NoteFineLookup(uint64_t target);
  // Starts loading the fine index buckets of a window's FineHash. REQUIRES: !fine_.empty().
  void PrefetchFine(uint64_t fine_hash) const;
  uint64_t HashWide(const uint8_t* p) const;
  int TableBits() const;
  // A table slot: 32 bits of the window's hash (not those that chose the slot) above
  // the low 32 bits of the corpus address. A look-up whose hash bits differ skips the
  // candidate without reading the corpus (a cache miss: on the kernel pair these reads
  // were a third of the local search's time); equal windows always have equal bits.
  uint64_t SlotEntry(uint64_t hash, uint64_t address) const {
    return Fingerprint(hash) << 32 | static_cast<uint32_t>(address);
  }
  uint64_t Fingerprint(uint64_t hash) const { return (hash >> (32 - table_bits_)) & 0xffffffff; }
  // The corpus address whose low 32 bits a slot holds, taken nearest to `near`; a
  // wrong guess is only a candidate that fails verification.
  static uint64_t Unpack(uint32_t low, uint64_t near) {
    uint64_t a = (near & ~uint64_t{0xffffffff}) | low;
    if (a > near && a - near > 0x80000000u && a >= (uint64_t{1} << 32)) a -= uint64_t{1} << 32;
    else if (a < near && near - a > 0x80000000u) a += uint64_t{1} << 32;
    return a;
  }
  // Makes sure the corpus positions of [lo, hi) are in the table.
  void EnsureIndexed(uint64_t lo, uint64_t hi);
  // The indexed interval that holds all of [lo, hi), or nullptr.
  const Interval* FindIndexed(uint64_t lo, uint64_t hi) const;
  void IndexRange(uint64_t lo, uint64_t hi);
  // The match of target bytes at `pos` (gap-relative) with corpus `address`, extended
  // forward to the gap's end and backward to `floor`. Length 0 when the first 8 bytes
  // differ.
  Match TryAt(std::span<const uint8_t> gap, uint64_t offset, size_t pos, size_t floor,
              uint64_t address) const;

  const CorpusView& corpus_;
  MatchParams params_;
  std::vector<uint64_t> table_;  // SlotEntry per slot.
  std::optional<ZeroedWords> skipped_storage_;  // Zero pages until IndexSkipped writes.
  bool skipped_written_ = false;
  std::span<uint64_t> skipped_;    // Corpus address + 1 per slot; 0 is empty. Empty: retired.
  uint64_t skipped_lookups_ = 0;   // Look-ups in skipped_ so far,
  uint64_t skipped_yield_ = 0;     // and the bytes of the copies they found.
  std::span<const FineIndexView> fine_all_;  // The corpus's, when params_.fine.
  std::span<const FineIndexView> fine_;      // fine_all_, or empty while paused.
  uint64_t fine_resume_ = 0;   // Target offset where a pause ends.
  // Read until a trial run pays off, then mapped (FineIndex::Access).
  FineIndex::Access fine_access_ = FineIndex::Access::kRead;
  uint64_t fine_lookups_ = 0;  // Look-ups in the current trial run,
  uint64_t fine_yield_ = 0;    // and the bytes of the copies they found.
  int fine_poor_runs_ = 0;     // Poor trial runs in a row.
  uint64_t last_copy_end_ = 0;     // Corpus address after the last noted copy.
  uint64_t region_alignment_ = 0;  // The alignment the local index is built around.
  bool has_region_ = false;
  bool copied_ = false;
  bool code_ = false;  // set_code.
  int table_bits_ = 0;
  uint64_t window_mask_ = 0;
  std::vector<Interval> indexed_;  // Most recent first; at most kMaxIntervals.
  uint64_t index_generation_ = 1;  // Changes whenever indexed_ does.
  // Alignments (corpus address - target offset, two's complement) of the last copies.
  uint64_t repeat_[2] = {0, 0};
  int repeats_known_ = 0;
  Stats stats_;
};

// InvalidArgument unless every field is in its documented range.
Status ValidateMatchParams(const MatchParams& params);

}  // namespace reducto

#endif  // REDUCTO_CODEC_MATCHER_H_
