#include "codec/block_builder.h"

#include <algorithm>
#include <utility>

#include "codec/add_policy.h"
#include "codec/format.h"

namespace reducto {

void BlockBuilder::AddDelta(uint64_t address, uint64_t reference_length,
                            std::span<const uint8_t> bytes, std::span<const uint8_t> payload) {
  EmitAll();
  writer_.Delta(address, reference_length, bytes.size(), payload);
  if (observer_ != nullptr) observer_->OnUse(address, reference_length);
  Produce(bytes);
  stats_->delta_bytes += bytes.size();
  ++stats_->deltas;
}

void BlockBuilder::Finish(BlockJob* job) {
  EmitAll();
  if (corpus_ != nullptr) displacements_.Clear(format::kLatestVersion);
  predicted_ = 0;
  earlier_output_ += output_size_;
  writer_.TakeBytesInto(&job->instructions);
  job->output_size = output_size_;
  output_size_ = 0;
  HashKept();
  job->digest = block_hasher_->Final();
  block_hasher_.emplace();
}

namespace {

// An unedited run of at least this many bytes inside a region is sent as a COPY; shorter
// ones stay zero differences inside the ADD, which zstd takes as a repeat. Measured
// (default profile): 256 -> 1024 made ci-build 2.37 -> 2.31 MB, systemd and libc -2-3%,
// the rest within 0.1%; 4096 made the ext4 image 0.28% larger; 128, code 3-8% larger.
constexpr uint64_t kCopyRun = 1024;
// A near-match extension stops once its score (matching bytes minus the others) falls
// this far below the best it had.
constexpr int64_t kExtensionGiveUp = 128;

// How many bytes from the front of `target` (compared with `corpus`) to take as
// differences: the prefix with the most matching bytes over the others, when that is
// positive (bsdiff's forward extension).
uint64_t NearForward(std::span<const uint8_t> target, std::span<const uint8_t> corpus) {
  const size_t n = std::min(target.size(), corpus.size());
  int64_t score = 0, best = 0;
  uint64_t best_length = 0;
  for (size_t i = 0; i < n; ++i) {
    score += target[i] == corpus[i] ? 1 : -1;
    if (score > best) {
      best = score;
      best_length = i + 1;
    } else if (score < best - kExtensionGiveUp) {
      break;
    }
  }
  return best_length;
}

// The same from the back: `target` and `corpus` end at the same point.
uint64_t NearBackward(std::span<const uint8_t> target, std::span<const uint8_t> corpus) {
  const size_t n = std::min(target.size(), corpus.size());
  int64_t score = 0, best = 0;
  uint64_t best_length = 0;
  for (size_t i = 1; i <= n; ++i) {
    score += target[target.size() - i] == corpus[corpus.size() - i] ? 1 : -1;
    if (score > best) {
      best = score;
      best_length = i;
    } else if (score < best - kExtensionGiveUp) {
      break;
    }
  }
  return best_length;
}

}  // namespace

bool BlockBuilder::IsCode() {
  if (predicted_ >= kCodeEvidence) return true;
  const uint64_t end = earlier_output_ + output_size_;
  while (!evidence_.empty() && evidence_.front().end + code_window_ < end) {
    evidence_predicted_ -= evidence_.front().predicted;
    evidence_.pop_front();
  }
  return evidence_predicted_ >= kCodeEvidence;
}

bool BlockBuilder::NearMatchJoins(uint64_t address, std::span<const uint8_t> target) {
  if (IsCode()) return true;
  const uint8_t* reference = corpus_->At(address, target.size());
  if (reference == nullptr) return false;
  // Bytes before the reference in the same mapping (none at a segment's start, where
  // Before gives the previous segment's end).
  std::span<const uint8_t> before = corpus_->Before(address);
  const size_t lead = before.data() + before.size() == reference
                          ? std::min<size_t>(kDisplacementLead, before.size())
                          : 0;
  return reducto::NearMatchJoins(std::span<const uint8_t>(reference, target.size()), target, lead,
                                 false);
}

void BlockBuilder::AddCopyToRegion(uint64_t address, std::span<const uint8_t> bytes) {
  if (region_.open) {
    const uint64_t region_end = region_.address + region_.length;
    const uint64_t tail = TailLength();
    if (address == region_end + tail && (tail == 0 || AbsorbTail())) {
      region_.length += bytes.size();
      Produce(bytes);
      return;
    }
  }
  // A copy too short to send is a literal, which leaves an open region open: it may
  // still join it when a later copy continues the region's alignment.
  if (bytes.size() < format::kMinCopyLength) return AddLiteral(bytes);
  if (region_.open) CloseRegion();
  // Near-match backward extension into what is left of the literal tail.
  uint64_t back = 0;
  const uint64_t tail = TailLength();
  if (tail > 0) {
    std::span<const uint8_t> before = corpus_->Before(address);
    back = NearBackward(std::span<const uint8_t>(output_).subspan(literal_start_), before);
    if (back > 0 && !NearMatchJoins(address - back, std::span<const uint8_t>(output_).last(back))) {
      back = 0;
    }
  }
  region_.open = true;
  region_.address = address - back;
  region_.length = 0;
  region_.block_offset = output_size_ - back;
  region_.edits.clear();
  region_.diff.clear();
  if (back > 0) {
    NoteEdit(std::span<const uint8_t>(output_).last(back), corpus_->At(address - back, back));
    stats_->literal_bytes -= back;
    if (back < tail) {
      writer_.Literal(std::span<const uint8_t>(output_).subspan(literal_start_, tail - back));
    }
    pending_ = Pending::kNone;
  } else {
    EmitPending();
  }
  region_.length += bytes.size();
  Produce(bytes);
}

void BlockBuilder::NoteEdit(std::span<const uint8_t> target, const uint8_t* corpus) {
  const size_t start = region_.diff.size();
  region_.diff.resize(start + target.size());
  for (size_t i = 0; i < target.size(); ++i) {
    region_.diff[start + i] = static_cast<uint8_t>(target[i] - corpus[i]);
  }
  if (!region_.edits.empty()) {
    Region::Edit& last = region_.edits.back();
    if (last.offset + last.length == region_.length) {
      last.length += target.size();
      region_.length += target.size();
      return;
    }
  }
  region_.edits.push_back({region_.length, target.size(), start});
  region_.length += target.size();
}

bool BlockBuilder::AbsorbTail() {
  const uint64_t tail = TailLength();
  const uint64_t region_end = region_.address + region_.length;
  const uint8_t* corpus = corpus_->At(region_end, tail);
  if (corpus == nullptr) return false;
  std::span<const uint8_t> bytes = std::span<const uint8_t>(output_).subspan(literal_start_);
  if (!JoinsRegion(bytes, corpus)) return false;
  TakeTailHead(tail);
  return true;
}

void BlockBuilder::TakeTailHead(uint64_t n) {
  const uint64_t region_end = region_.address + region_.length;
  NoteEdit(std::span<const uint8_t>(output_).subspan(literal_start_, n),
           corpus_->At(region_end, n));
  stats_->literal_bytes -= n;
  literal_start_ += n;
  if (literal_start_ == output_.size()) pending_ = Pending::kNone;
}

void BlockBuilder::CloseRegion() {
  const uint64_t tail = TailLength();
  if (tail > 0) {
    std::span<const uint8_t> after = corpus_->From(region_.address + region_.length);
    uint64_t forward =
        NearForward(std::span<const uint8_t>(output_).subspan(literal_start_), after);
    if (forward > 0 &&
        NearMatchJoins(region_.address + region_.length,
                       std::span<const uint8_t>(output_).subspan(literal_start_, forward))) {
      TakeTailHead(forward);
    }
  }
  EmitRegion();
  region_.open = false;
}

void BlockBuilder::EmitRegion() {
  if (region_.edits.empty()) {
    EmitRegionCopy(0, region_.length);
    return;
  }
  // ADDs around the edits, COPYs for the unedited runs of at least kCopyRun bytes.
  uint64_t add_start = 0;  // The pending ADD starts here, at edit `first`,
  size_t first = 0;
  uint64_t covered = 0;    // and reaches the end of the edits so far.
  for (size_t e = 0; e < region_.edits.size(); ++e) {
    const Region::Edit& edit = region_.edits[e];
    if (edit.offset - covered >= kCopyRun) {
      if (covered > add_start) EmitAdd(add_start, covered, first, e);
      EmitRegionCopy(covered, edit.offset);
      add_start = edit.offset;
      first = e;
    }
    covered = edit.offset + edit.length;
  }
  if (region_.length - covered >= kCopyRun) {
    EmitAdd(add_start, covered, first, region_.edits.size());
    EmitRegionCopy(covered, region_.length);
  } else {
    EmitAdd(add_start, region_.length, first, region_.edits.size());
  }
}

void BlockBuilder::EmitRegionCopy(uint64_t from, uint64_t to) {
  writer_.Copy(region_.address + from, to - from);
  if (observer_ != nullptr) observer_->OnUse(region_.address + from, to - from);
  ++stats_->copies;
  stats_->copy_bytes += to - from;
}

void BlockBuilder::EmitAdd(uint64_t from, uint64_t to, size_t first, size_t last) {
  const uint64_t n = to - from;
  const uint64_t address = region_.address + from;
  // The output depends on the corpus bytes where the target differs from them: they
  // must be the ones the corpus signs, or the container would not decode against an
  // intact copy. (Elsewhere they equal the target, as a COPY's do.) One check covers
  // the first edit to the end of the last: each corpus piece is hashed once however
  // many checks reach it, but a check per edit cost ci-build's default compression 5%
  // of its instructions in the checks' own bookkeeping.
  bool verified = true;
  if (first < last) {
    const Region::Edit& head = region_.edits[first];
    const Region::Edit& tail = region_.edits[last - 1];
    verified = corpus_->Verify(region_.address + head.offset,
                               tail.offset + tail.length - head.offset).ok();
  }
  const uint8_t* reference = corpus_->At(address, n);
  if (reference == nullptr) {  // Across pack segments.
    add_reference_.resize(n);
    for (uint64_t done = 0; done < n;) {
      std::span<const uint8_t> part = corpus_->From(address + done);
      const uint64_t take = std::min<uint64_t>(part.size(), n - done);
      std::copy_n(part.data(), take, add_reference_.data() + done);
      done += take;
    }
    reference = add_reference_.data();
  }
  add_target_.assign(reference, reference + n);
  for (size_t e = first; e < last; ++e) {
    const Region::Edit& edit = region_.edits[e];
    uint8_t* at = add_target_.data() + (edit.offset - from);
    const uint8_t* diff = region_.diff.data() + edit.diff_start;
    for (uint64_t i = 0; i < edit.length; ++i) at[i] = static_cast<uint8_t>(at[i] + diff[i]);
  }
  if (observer_ != nullptr) observer_->OnUse(address, n);
  if (!verified) {  // Damaged: the target bytes go as a literal.
    ++stats_->damaged_ranges;
    stats_->literal_bytes += n;
    writer_.Literal(add_target_);
    return;
  }
  add_stored_.resize(n);
  const size_t predicted = EncodeAdd(std::span<const uint8_t>(reference, n), add_target_,
                                     address, region_.block_offset + from, &displacements_,
                                     add_stored_.data());
  predicted_ += predicted;
  if (code_window_ > 0 && predicted > 0) {
    evidence_.push_back({earlier_output_ + region_.block_offset + to, predicted});
    evidence_predicted_ += predicted;
  }
  writer_.Add(address, add_stored_);
  ++stats_->deltas;
  stats_->delta_bytes += n;
}

void BlockBuilder::HashKept() {
  const size_t end = pending_ == Pending::kLiteral ? literal_start_ : output_.size();
  if (end == 0) return;
  Hash(std::span<const uint8_t>(output_).first(end));
  output_.erase(output_.begin(), output_.begin() + static_cast<ptrdiff_t>(end));
  literal_start_ = 0;
}

void BlockSequence::Start(std::vector<BlockJob>* blocks, size_t* count,
                          CorpusUseObserver* observer) {
  blocks_ = blocks;
  count_ = count;
  *count_ = 0;
  block_.emplace(stats_, observer);
  block_->set_metrics(metrics_);
  block_->set_code_window(code_window_);
  block_->EnableAdds(adds_);
  ReserveInstructions();
}

void BlockSequence::AddDelta(uint64_t address, uint64_t reference_length,
                             std::span<const uint8_t> bytes, std::span<const uint8_t> payload) {
  stats_->input_bytes += bytes.size();
  block_->AddDelta(address, reference_length, bytes, payload);
  if (room() == 0) EndBlock();
}

void BlockSequence::EndBlock() {
  if (*count_ == blocks_->size()) blocks_->emplace_back();
  block_->Finish(&(*blocks_)[(*count_)++]);
  ReserveInstructions();
}

void BlockSequence::ReserveInstructions() {
  // A block of literals takes its bytes and a few bytes of opcodes and lengths.
  block_->ReserveInstructions(block_size_ + block_size_ / 16);
}

Status BlockStreamWriter::Write(BlockJob& block) {
  if (holding_) RETURN_IF_ERROR(WriteHeld(/*last=*/false));
  std::swap(held_, block);
  holding_ = true;
  return Status::Ok();
}

Status BlockStreamWriter::Finish() {
  if (!holding_) return Status::Ok();
  return WriteHeld(/*last=*/true);
}

Status BlockStreamWriter::WriteHeld(bool last) {
  {
    PhaseTimer timer(metrics_, Phase::kCompress, CpuTime::kMeasured);
    RETURN_IF_ERROR(stream_.Compress(held_.instructions, static_cast<uint32_t>(held_.output_size),
                                     held_.digest, last, &record_));
  }
  RETURN_IF_ERROR(writer_.WriteBlockRecord(record_));
  holding_ = false;
  ++stats_->blocks;
  if (metrics_ != nullptr) metrics_->Add(Counter::kBlocks, 1);
  return Status::Ok();
}

}  // namespace reducto
