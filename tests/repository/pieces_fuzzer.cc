// libFuzzer target for the decoders of what a repository serves (pieces/*.b3,
// pack/*.pzi, one piece of pack/*.pz), all untrusted until checked. The first byte
// picks the decoder; the next 8 are the segment size (or piece length) it expects.
// Every input must be refused cleanly or decode; a table or index that parses must
// serialize back to exactly its bytes, and an unpacked piece must have the length asked.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "repository/packed_pieces.h"
#include "repository/piece_table.h"
#include "util/endian.h"

namespace {

bool Same(const std::string& serialized, std::span<const uint8_t> input) {
  return serialized.size() == input.size() &&
         std::equal(input.begin(), input.end(), reinterpret_cast<const uint8_t*>(serialized.data()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  const uint64_t expected = reducto::LoadLe64(data + 1);
  std::span<const uint8_t> input(data + 9, size - 9);
  switch (data[0] % 3) {
    case 0: {
      auto table = reducto::ParsePieceTable(input, expected, "fuzz");
      if (table.ok() && !Same(reducto::SerializePieceTable(*table), input)) std::abort();
      break;
    }
    case 1: {
      auto index = reducto::ParsePackedPieceIndex(input, expected, "fuzz");
      if (index.ok() && !Same(reducto::SerializePackedPieceIndex(*index), input)) std::abort();
      break;
    }
    default: {
      // A piece is at most 16 MiB; larger expectations are refused before allocating.
      if (expected > (16u << 20)) return 0;
      auto piece = reducto::UnpackPiece(input, expected, "fuzz");
      if (piece.ok() && piece->size() != expected) std::abort();
      break;
    }
  }
  return 0;
}
