// A block's instruction stream (docs/format.md, "Instruction stream"): LEB128 varints,
// InstructionWriter, which lays instructions out exactly as asked, and
// ExecuteInstructions, which runs a stream from an untrusted container.
//
// Thread safety: the free functions are; an InstructionWriter is used by one thread.
#ifndef REDUCTO_CODEC_INSTRUCTIONS_H_
#define REDUCTO_CODEC_INSTRUCTIONS_H_

#include <cstdint>
#include <span>
#include <vector>

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
  // Starts a new block: empties the stream and resets the delta base to 0.
  void Clear();

  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  uint64_t previous_end_ = 0;
};

// Runs `instructions` and fills `output` with exactly output.size() bytes. Copies read
// from `corpus` (nullptr for a standalone container: every copy is then out of bounds);
// `scratch` is passed to CorpusReader::Read. Corrupt when the stream is malformed, an
// opcode is unknown, a length runs past the output, a copy runs past the corpus, or the
// stream ends early or late. Bytes of `output` are unspecified after an error.
Status ExecuteInstructions(std::span<const uint8_t> instructions, const CorpusReader* corpus,
                           std::span<uint8_t> output, std::vector<uint8_t>* scratch);

}  // namespace reducto

#endif  // REDUCTO_CODEC_INSTRUCTIONS_H_
