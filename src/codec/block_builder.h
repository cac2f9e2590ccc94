// From decided target bytes to a container's blocks: BlockBuilder turns the encoder's
// pieces (literals, copies, DELTAs) into one block's instruction stream, BlockSequence
// fills the blocks of one segment of the target to the block size (on the thread that
// matches the segment), and BlockStreamWriter compresses and writes the blocks in order
// as the container's block stream (codec/block_stream.h).
//
// Thread safety: each object is used by one thread at a time.
#ifndef REDUCTO_CODEC_BLOCK_BUILDER_H_
#define REDUCTO_CODEC_BLOCK_BUILDER_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "codec/add_policy.h"
#include "codec/block_stream.h"
#include "codec/container.h"
#include "codec/displacements.h"
#include "codec/format.h"
#include "codec/instructions.h"
#include "codec/matcher.h"
#include "reducto/codec.h"
#include "metrics/phase_timer.h"
#include "reducto/digest.h"

namespace reducto {

// A finished block: the instructions the encoder decided, and the size and BLAKE3 of
// the output they produce.
struct BlockJob {
  std::vector<uint8_t> instructions;
  uint64_t output_size = 0;
  Digest digest{};
};

// Hashing a block's bytes in steps of this size keeps them in the cache between the
// copy into the block's buffer and the two digests.
inline constexpr size_t kHashStage = 64u << 10;

// One block being built. Merges adjacent literals and contiguous copies, and sends copies
// shorter than format::kMinCopyLength as literals. Invariant: a pending copy is at least
// kMinCopyLength bytes long.
//
// The bytes the block produces are hashed as they come into the block's digest, every
// kHashStage bytes (copies of that size straight from
// the target): copying every target byte into fresh block buffers and hashing them from
// there afterwards cost the kernel pair 10% of its single-thread time. The pending
// literal run is the tail of output_.
// The per-piece calls are defined here so that the encoder's loop can inline them.
class BlockBuilder {
 public:
  BlockBuilder(CompressStats* stats, CorpusUseObserver* observer)
      : stats_(stats), observer_(observer) {
    block_hasher_.emplace();
  }

  void AddLiteral(std::span<const uint8_t> bytes) {
    if (pending_ != Pending::kLiteral) {
      EmitPending();
      pending_ = Pending::kLiteral;
      literal_start_ = output_.size();
    }
    Produce(bytes);
    stats_->literal_bytes += bytes.size();
  }

  // `bytes` are the target bytes the copy stands for: equal to the corpus bytes at
  // `address` (the caller verified their BLAKE3).
  void AddCopy(uint64_t address, std::span<const uint8_t> bytes) {
    if (corpus_ != nullptr) return AddCopyToRegion(address, bytes);
    bool continues = pending_ == Pending::kCopy && copy_address_ + copy_length_ == address;
    if (!continues && bytes.size() < format::kMinCopyLength) return AddLiteral(bytes);
    if (continues) {
      copy_length_ += bytes.size();
    } else {
      EmitPending();
      pending_ = Pending::kCopy;
      copy_address_ = address;
      copy_length_ = bytes.size();
    }
    Produce(bytes);
    stats_->copy_bytes += bytes.size();
  }

  // `bytes` are the target bytes that `payload` decodes to with corpus
  // [address, address + reference_length) as its prefix.
  void AddDelta(uint64_t address, uint64_t reference_length, std::span<const uint8_t> bytes,
                std::span<const uint8_t> payload);

  uint64_t output_size() const { return output_size_; }
  // Makes room for an instruction stream of `size` bytes (InstructionWriter::Reserve).
  void ReserveInstructions(size_t size) { writer_.Reserve(size); }
  // Whether the block is known to be code: its ADDs so far, or those that ended in the
  // last set_code_window bytes of output (across the block's start), predicted
  // kCodeEvidence changed displacements exactly.
  bool IsCode();
  // How far back before the block's start IsCode looks (0: the block's own ADDs only).
  void set_code_window(uint64_t bytes) { code_window_ = bytes; }

  // Turns on ADD (format version 4): copies at one alignment with edited bytes between
  // them, and the near matches on either side of a copy, become ADDs (docs/encoder.md,
  // "ADD"). `corpus` must outlive the builder or the next call, which may pass nullptr
  // to emit what is pending and turn ADD off.
  void EnableAdds(const CorpusView* corpus) {
    if (corpus_ != nullptr) EmitAll();
    corpus_ = corpus;
  }

  // Times the hashing as it comes there (nullptr: not timed).
  void set_metrics(RunMetrics* metrics) { metrics_ = metrics; }

  // Moves the complete instruction stream, the output size and digest to the job, and
  // starts the next block.
  void Finish(BlockJob* job);

 private:
  enum class Pending { kNone, kLiteral, kCopy };

  void Produce(std::span<const uint8_t> bytes) {
    output_size_ += bytes.size();
    if (output_.empty() && pending_ != Pending::kLiteral && bytes.size() >= kHashStage) {
      return Hash(bytes);
    }
    output_.insert(output_.end(), bytes.begin(), bytes.end());
    if (output_.size() >= kHashStage) HashKept();
  }

  void Hash(std::span<const uint8_t> bytes) {
    PhaseTimer timer(metrics_, Phase::kHash);
    block_hasher_->Update(bytes);
  }

  // Hashes the bytes output_ keeps and drops them, all but a pending literal run.
  void HashKept();

  // A run of target bytes at one alignment: copies, and the edited bytes between and
  // around them, held as their differences from the corpus bytes.
  struct Region {
    // Region bytes [offset, offset + length) differ from the corpus bytes by
    // diff[diff_start, diff_start + length); the bytes outside every edit equal them.
    struct Edit {
      uint64_t offset = 0;
      uint64_t length = 0;
      size_t diff_start = 0;
    };
    bool open = false;
    uint64_t address = 0;       // Corpus address of the first byte.
    uint64_t length = 0;
    uint64_t block_offset = 0;  // Where it starts in the block's output.
    std::vector<Edit> edits;    // In order, not touching each other.
    std::vector<uint8_t> diff;  // Target minus corpus, byte by byte, of the edits.
  };

  // Add mode's AddCopy: extends the open region, absorbs the literal tail between it and
  // a copy at the same alignment, or closes it and opens a new one.
  void AddCopyToRegion(uint64_t address, std::span<const uint8_t> bytes);
  // The pending literal tail's length (0 when none is pending).
  uint64_t TailLength() const {
    return pending_ == Pending::kLiteral ? output_.size() - literal_start_ : 0;
  }
  // Whether the near match of `target` against the corpus bytes at `address` joins an
  // ADD (add_policy.h). Near-match extensions need the check: on a text dump and an ext4
  // image they made containers 0.7-1.8% larger without it.
  bool NearMatchJoins(uint64_t address, std::span<const uint8_t> target);
  // Whether the tail, compared with the corpus bytes after the region, goes into it.
  bool AbsorbTail();
  // Moves the tail's first `n` bytes into the region as differences.
  void TakeTailHead(uint64_t n);
  // Appends `target` (compared with as many `corpus` bytes) to the region as an edit.
  void NoteEdit(std::span<const uint8_t> target, const uint8_t* corpus);
  // Emits the region, extended forward into the literal tail where that pays, and
  // leaves the rest of the tail pending.
  void CloseRegion();
  // The region's instructions: COPYs for long unedited runs, ADDs for the rest.
  void EmitRegion();
  // Region bytes [from, to) as a COPY.
  void EmitRegionCopy(uint64_t from, uint64_t to);
  // Region bytes [from, to), which hold edits [first, last), as an ADD (or, when the
  // corpus bytes under an edit fail VerifyRange, as a literal).
  void EmitAdd(uint64_t from, uint64_t to, size_t first, size_t last);
  // Emits the region, then the pending literal.
  void EmitAll() {
    if (region_.open) CloseRegion();
    EmitPending();
  }

  void EmitPending() {
    if (pending_ == Pending::kLiteral) {
      writer_.Literal(std::span<const uint8_t>(output_).subspan(literal_start_));
    } else if (pending_ == Pending::kCopy) {
      writer_.Copy(copy_address_, copy_length_);
      if (observer_ != nullptr) observer_->OnUse(copy_address_, copy_length_);
      ++stats_->copies;
    }
    pending_ = Pending::kNone;
  }

  CompressStats* stats_;
  CorpusUseObserver* observer_;  // May be nullptr.
  RunMetrics* metrics_ = nullptr;
  uint64_t output_size_ = 0;     // Bytes the block produces so far.
  std::vector<uint8_t> output_;  // Those not hashed yet.
  std::optional<Blake3Hasher> block_hasher_;  // Those hashed (reset per block).
  Pending pending_ = Pending::kNone;
  size_t literal_start_ = 0;  // The pending literal run is output_[literal_start_, end).
  uint64_t copy_address_ = 0;  // The pending copy.
  uint64_t copy_length_ = 0;
  InstructionWriter writer_;
  const CorpusView* corpus_ = nullptr;  // Add mode when set.
  Region region_;
  DisplacementTable displacements_;  // The block's, as the decoder will have it.
  uint64_t predicted_ = 0;  // Changed displacements the block's ADDs predicted exactly.
  // The same per ADD, by where the ADD ended in the output of all blocks, while that is
  // within code_window_ of the output's end; and their sum.
  struct Evidence {
    uint64_t end = 0;
    uint64_t predicted = 0;
  };
  std::deque<Evidence> evidence_;
  uint64_t evidence_predicted_ = 0;
  uint64_t code_window_ = 0;
  uint64_t earlier_output_ = 0;  // Bytes the earlier blocks produced.
  std::vector<uint8_t> add_reference_;  // Scratch for EmitAdd.
  std::vector<uint8_t> add_target_;
  std::vector<uint8_t> add_stored_;
};

// The blocks of one segment of the target, in order: fills each block to `block_size`
// target bytes (a piece that does not fit is split) and appends it to a vector of
// jobs, reusing their buffers. Counts stats->input_bytes and the builder's fields.
class BlockSequence {
 public:
  // REQUIRES: `stats` outlives the sequence.
  BlockSequence(uint32_t block_size, CompressStats* stats)
      : block_size_(block_size), stats_(stats) {}

  // Starts a segment whose blocks go to (*blocks)[0 .. *count), with a fresh builder
  // (no code verdict, no open region) that tells `observer` (may be nullptr) the uses.
  void Start(std::vector<BlockJob>* blocks, size_t* count, CorpusUseObserver* observer);

  // Adds the next target bytes: a copy of the corpus bytes from `address` on, or
  // literals (nullopt).
  void Append(std::span<const uint8_t> bytes, std::optional<uint64_t> address) {
    stats_->input_bytes += bytes.size();
    while (!bytes.empty()) {
      size_t n = std::min<uint64_t>(bytes.size(), room());
      if (address) {
        block_->AddCopy(*address, bytes.first(n));
        *address += n;
      } else {
        block_->AddLiteral(bytes.first(n));
      }
      bytes = bytes.subspan(n);
      if (room() == 0) EndBlock();
    }
  }

  // Adds a DELTA (BlockBuilder::AddDelta). REQUIRES: bytes.size() <= room().
  void AddDelta(uint64_t address, uint64_t reference_length, std::span<const uint8_t> bytes,
                std::span<const uint8_t> payload);

  // Whether the current block is known to be code (BlockBuilder::IsCode).
  bool BlockIsCode() { return block_->IsCode(); }

  // Target bytes the current block still takes.
  uint64_t room() const { return block_size_ - block_->output_size(); }

  // Ends the segment's last block, if it has bytes.
  void Finish() {
    if (block_->output_size() > 0) EndBlock();
  }

  // For the builders of the segments started after the call: ADD against `corpus`
  // (BlockBuilder::EnableAdds; nullptr: off), the code window, the metrics.
  void set_adds(const CorpusView* corpus) { adds_ = corpus; }
  void set_code_window(uint64_t bytes) { code_window_ = bytes; }
  void set_metrics(RunMetrics* metrics) { metrics_ = metrics; }

 private:
  void EndBlock();
  // Room for the next block's instructions, in huge pages when large (a segment's
  // blocks are in flight at once, so their buffers are seldom reused soon).
  void ReserveInstructions();

  const uint32_t block_size_;
  CompressStats* stats_;
  const CorpusView* adds_ = nullptr;
  uint64_t code_window_ = 0;
  RunMetrics* metrics_ = nullptr;
  std::optional<BlockBuilder> block_;  // The current segment's.
  std::vector<BlockJob>* blocks_ = nullptr;
  size_t* count_ = nullptr;
};

// Compresses and writes a container's blocks, in target order, as its block stream. A
// block is held back until the next one comes or Finish: the last block's payload must
// end the zstd frame.
class BlockStreamWriter {
 public:
  // REQUIRES: `writer` and `stats` outlive it; the header is written.
  BlockStreamWriter(ContainerWriter& writer, int level, CompressStats* stats)
      : writer_(writer), stream_(level), stats_(stats) {}

  // Takes the next block (swapping its buffers with the one held back) and writes the
  // one held back before it.
  Status Write(BlockJob& block);
  // Writes the block held back, ending the frame.
  Status Finish();

  // Times compression and counts blocks there (nullptr: not timed).
  void set_metrics(RunMetrics* metrics) { metrics_ = metrics; }

 private:
  Status WriteHeld(bool last);

  ContainerWriter& writer_;
  BlockStreamCompressor stream_;
  CompressStats* stats_;
  RunMetrics* metrics_ = nullptr;
  BlockJob held_;
  bool holding_ = false;
  BlockRecord record_;  // Reused, so that its payload buffer is allocated once.
};

}  // namespace reducto

#endif  // REDUCTO_CODEC_BLOCK_BUILDER_H_
