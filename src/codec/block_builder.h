// From decided target bytes to a container's blocks: BlockBuilder turns the encoder's
// pieces (literals, copies, DELTAs) into one block's instruction stream, and
// BlockPipeline fills blocks to the block size, hashes them on worker threads and
// compresses and writes them in order as the container's block stream
// (codec/block_stream.h), so that a container is byte-identical for any thread count.
//
// Thread safety: both are driven by one thread; BlockPipeline's workers only hash.
#ifndef REDUCTO_CODEC_BLOCK_BUILDER_H_
#define REDUCTO_CODEC_BLOCK_BUILDER_H_

#include <cstdint>
#include <deque>
#include <functional>
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
#include "util/ordered_pipeline.h"

namespace reducto {

// A finished block on its way through the pipeline: the instructions and output that
// the encoder decided, the digest (computed by a worker, unless the block was hashed as
// it was built), then the record of its compressed instructions.
struct BlockJob {
  std::vector<uint8_t> instructions;
  std::vector<uint8_t> output;  // Empty when hashed.
  uint64_t output_size = 0;
  bool hashed = false;  // `digest` is set and the bytes are in the whole target's digest.
  bool last = false;  // The container's last block: its payload ends the zstd frame.
  Digest digest{};
  BlockRecord record;
};

// Hashing a block's bytes in steps of this size keeps them in the cache between the
// copy into the block's buffer and the two digests.
inline constexpr size_t kHashStage = 64u << 10;

// One block being built. Merges adjacent literals and contiguous copies, and sends copies
// shorter than format::kMinCopyLength as literals. Invariant: a pending copy is at least
// kMinCopyLength bytes long.
//
// The bytes the block produces either stay with it, for a worker thread to hash (the
// pipeline has workers), or, given `whole` (one thread), are hashed as they come into
// the block's digest and into `whole`, the target's, every kHashStage bytes (copies of
// that size straight from the target): copying every target byte into fresh block
// buffers and hashing them from there afterwards cost the kernel pair 10% of its
// single-thread time. Either way the pending literal run is the tail of output_.
// The per-piece calls are defined here so that the encoder's loop can inline them.
class BlockBuilder {
 public:
  BlockBuilder(CompressStats* stats, CorpusUseObserver* observer, Blake3Hasher* whole)
      : stats_(stats), observer_(observer), whole_(whole) {
    if (whole_ != nullptr) block_hasher_.emplace();
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

  // Moves the complete instruction stream to job->instructions and the block's output
  // (or, when hashing as it comes, its digest) to the job, and starts the next block.
  void Finish(BlockJob* job);

 private:
  enum class Pending { kNone, kLiteral, kCopy };

  void Produce(std::span<const uint8_t> bytes) {
    output_size_ += bytes.size();
    if (whole_ != nullptr && output_.empty() && pending_ != Pending::kLiteral &&
        bytes.size() >= kHashStage) {
      return Hash(bytes);
    }
    output_.insert(output_.end(), bytes.begin(), bytes.end());
    if (whole_ != nullptr && output_.size() >= kHashStage) HashKept();
  }

  void Hash(std::span<const uint8_t> bytes) {
    PhaseTimer timer(metrics_, Phase::kHash);
    block_hasher_->Update(bytes);
    whole_->Update(bytes);
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
  Blake3Hasher* whole_;          // nullptr: the block's output is kept in output_.
  RunMetrics* metrics_ = nullptr;
  uint64_t output_size_ = 0;     // Bytes the block produces so far.
  std::vector<uint8_t> output_;  // They, or (hashing as they come) those not hashed yet.
  std::optional<Blake3Hasher> block_hasher_;  // The digest of those hashed, when hashing.
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

// The blocks of one container, in target order. Fills each block to `block_size` target
// bytes (a piece that does not fit is split), holds an ended block back until the next
// one ends or the input does (the last block's payload must end the zstd frame), and
// hands it to an OrderedPipeline: a worker hashes it (unless one thread hashed it as it
// was built), then the caller's thread compresses and writes it, in order.
// Counts stats->input_bytes, and the builder's fields of *stats; stats->blocks belongs
// to the pipeline until Finish returned.
class BlockPipeline {
 public:
  // Called on the caller's thread each time a block ends, with its target bytes (after
  // ended_bytes and ended_blocks count it).
  using BlockEnded = std::function<void(uint64_t block_bytes)>;

  // REQUIRES: `writer` and `stats` outlive the pipeline; the header is written.
  BlockPipeline(ContainerWriter& writer, int level, uint32_t block_size, int threads,
                CompressStats* stats, CorpusUseObserver* observer, BlockEnded block_ended);

  // Adds the next target bytes: a copy of the corpus bytes from `address` on, or
  // literals (nullopt).
  Status Append(std::span<const uint8_t> bytes, std::optional<uint64_t> address) {
    stats_->input_bytes += bytes.size();
    while (!bytes.empty()) {
      size_t n = std::min<uint64_t>(bytes.size(), room());
      if (address) {
        block_.AddCopy(*address, bytes.first(n));
        *address += n;
      } else {
        block_.AddLiteral(bytes.first(n));
      }
      bytes = bytes.subspan(n);
      if (room() == 0) RETURN_IF_ERROR(EndBlock());
    }
    return Status::Ok();
  }

  // Adds a DELTA (BlockBuilder::AddDelta). REQUIRES: bytes.size() <= room().
  Status AddDelta(uint64_t address, uint64_t reference_length, std::span<const uint8_t> bytes,
                  std::span<const uint8_t> payload);

  // Turns on ADD (BlockBuilder::EnableAdds).
  void EnableAdds(const CorpusView* corpus) { block_.EnableAdds(corpus); }

  // Whether the current block is known to be code (BlockBuilder::IsCode).
  bool BlockIsCode() { return block_.IsCode(); }
  // BlockBuilder::set_code_window.
  void set_code_window(uint64_t bytes) { block_.set_code_window(bytes); }

  // Target bytes the current block still takes.
  uint64_t room() const { return block_size_ - block_.output_size(); }

  // Ends the last block, if `encoded` (the encoder's result) is Ok, and waits until
  // every block is written. Returns the first error: the pipeline's, else `encoded`.
  Status Finish(Status encoded);

  // The BLAKE3 of all target bytes. REQUIRES: Finish returned Ok.
  Digest TargetDigest() const { return whole_.Final(); }

  // Times hashing and compression, and counts blocks, there (nullptr: not timed).
  void set_metrics(RunMetrics* metrics) {
    metrics_ = metrics;
    block_.set_metrics(metrics);
  }

  uint64_t ended_bytes() const { return ended_bytes_; }  // Target bytes in ended blocks.
  uint64_t ended_blocks() const { return ended_blocks_; }

 private:
  Status EndBlock();
  Status SubmitHeldBlock(bool last);
  // On a worker thread.
  Status HashBlock(BlockJob& job) const;
  // One call at a time, in block order: the blocks are one zstd stream.
  Status WriteBlock(BlockJob& job);

  ContainerWriter& writer_;
  const uint32_t block_size_;
  CompressStats* stats_;
  BlockEnded block_ended_;
  Blake3Hasher whole_;  // Over the whole target, for the trailer (fed by WriteBlock).
  BlockBuilder block_;
  std::optional<BlockJob> held_block_;  // Ended, not yet submitted (EndBlock).
  BlockStreamCompressor stream_;
  uint64_t ended_bytes_ = 0;
  uint64_t ended_blocks_ = 0;
  RunMetrics* metrics_ = nullptr;
  // Last: destroyed first, so that its workers stop before the state they use goes.
  OrderedPipeline<BlockJob> pipeline_;
};

}  // namespace reducto

#endif  // REDUCTO_CODEC_BLOCK_BUILDER_H_
