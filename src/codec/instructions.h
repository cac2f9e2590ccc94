// A block's instruction stream (docs/format.md, "Instruction stream"): LEB128 varints,
// InstructionWriter, which lays instructions out exactly as asked, and
// ExecuteInstructions, which runs a stream from an untrusted container.
//
// Thread safety: the free functions are; an InstructionWriter is used by one thread.
#ifndef REDUCTO_CODEC_INSTRUCTIONS_H_
#define REDUCTO_CODEC_INSTRUCTIONS_H_

#include <zstd.h>

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "codec/format.h"
#include "corpus/corpus_reader.h"
#include "reducto/status.h"

namespace reducto {

// Appends `value` as an unsigned LEB128 varint (1..10 bytes).
void AppendVarint(uint64_t value, std::vector<uint8_t>* out);
uint64_t ZigZagEncode(int64_t value);
int64_t ZigZagDecode(uint64_t value);

// Writes instructions in the order given. It does no merging and enforces no encoder
// policy (the Encoder does both), so tests can build any stream, valid or not.
class InstructionWriter {
 public:
  // LITERAL: `bytes` verbatim.
  void Literal(std::span<const uint8_t> bytes);
  // COPY: `length` corpus bytes from `address`, as a delta from the previous copy's end.
  void Copy(uint64_t address, uint64_t length);
  // DELTA (format version 2): `length` bytes that `payload`, one zstd frame, decodes to
  // with corpus [address, address + reference_length) as its prefix. The address is a
  // delta from the previous copy's end too, and the reference's end becomes it.
  void Delta(uint64_t address, uint64_t reference_length, uint64_t length,
             std::span<const uint8_t> payload);
  // ADD (format version 4): `stored.size()` bytes that `stored` (EncodeAdd's output)
  // gives against the corpus bytes from `address` on. The address is a delta from the
  // previous copy's end, and the ADD's end becomes it.
  void Add(uint64_t address, std::span<const uint8_t> stored);
  // The bytes Delta() would append, operands and payload.
  static size_t DeltaSize(uint64_t address_delta_bound, uint64_t reference_length, uint64_t length,
                          size_t payload_size);
  // Starts a new block: empties the stream and resets the delta base to 0.
  void Clear();

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  // Makes room for a stream of `size` bytes (ReserveLarge).
  void Reserve(size_t size);
  // Swaps the stream into *into (whose old bytes go, their capacity kept for the next
  // block) and starts a new block, as Clear().
  void TakeBytesInto(std::vector<uint8_t>* into) {
    into->swap(bytes_);
    Clear();
  }

 private:
  std::vector<uint8_t> bytes_;
  uint64_t previous_end_ = 0;
};

// What a stream may use beyond version 1: DELTA needs a container of version 2 or later,
// and a zstd context to decode its payloads (nullptr: one is made when needed).
struct InstructionTally;
class DisplacementTable;

struct ExecuteContext {
  uint16_t version = format::kVersion;
  ZSTD_DCtx* dctx = nullptr;
  // The block's displacement table for ADD (nullptr: one is made when needed). Emptied
  // at the stream's first ADD.
  DisplacementTable* displacements = nullptr;
  // When set, gets the bytes and counts of the instructions run (not their ranges).
  InstructionTally* counts = nullptr;
};

// Runs `instructions` and fills `output` with exactly output.size() bytes. Copies and
// delta references read from `corpus` (nullptr for a standalone container: every copy
// is then out of bounds); `scratch` is passed to CorpusReader::Read. Corrupt when the
// stream is malformed, an opcode is unknown to `context.version`, a length runs past the
// output, a copy or reference runs past the corpus, a DELTA payload is not one zstd
// frame that decodes to exactly its length, or the stream ends early or late. Bytes of
// `output` are unspecified after an error.
Status ExecuteInstructions(std::span<const uint8_t> instructions, const CorpusReader* corpus,
                           std::span<uint8_t> output, std::vector<uint8_t>* scratch,
                           const ExecuteContext& context = {});

// What an instruction stream holds, by kind, and the corpus ranges it reads.
struct InstructionTally {
  uint64_t literal_bytes = 0;
  uint64_t copy_bytes = 0;
  uint64_t delta_bytes = 0;
  uint64_t add_bytes = 0;
  uint64_t copies = 0;  // COPY instructions.
  uint64_t deltas = 0;  // DELTA instructions.
  uint64_t adds = 0;    // ADD instructions.
  // [address, address + length) of each copy, delta reference and ADD, in stream order.
  std::vector<std::pair<uint64_t, uint64_t>> corpus_ranges;
};

// Parses `instructions` without executing them (no corpus, no delta payload decoded)
// and adds what it holds to *tally. Corrupt when the stream is malformed or an opcode is
// unknown to `version`.
Status TallyInstructions(std::span<const uint8_t> instructions, uint16_t version,
                         InstructionTally* tally);

}  // namespace reducto

#endif  // REDUCTO_CODEC_INSTRUCTIONS_H_
