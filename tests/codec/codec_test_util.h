// Helpers for the codec tests: encode and decode in memory against an optional
// CorpusReader, and views between strings and bytes.
#ifndef REDUCTO_TESTS_CODEC_CODEC_TEST_UTIL_H_
#define REDUCTO_TESTS_CODEC_CODEC_TEST_UTIL_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/decoder.h"
#include "codec/encoder.h"
#include "reducto/io.h"

namespace reducto::testing {

inline std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string AsString(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Options with small blocks so that small inputs span several blocks.
inline CompressOptions SmallBlockOptions(uint32_t block_size = 4096) {
  CompressOptions options;
  options.block_size = block_size;
  options.standalone_chunking = ChunkerParams::ForAverage(1024);
  return options;
}

// The container for `input`, against `corpus` (nullptr: standalone), matched in
// segments of `segment_size` bytes.
inline Result<std::string> EncodeToString(const CorpusReader* corpus,
                                          std::span<const uint8_t> input,
                                          const CompressOptions& options,
                                          CompressStats* stats = nullptr,
                                          uint64_t segment_size = kSegmentSize) {
  std::string container;
  auto source = MemorySource(input, "input");
  auto sink = MemorySink(&container, "container");
  ASSIGN_OR_RETURN(CompressStats s,
                   EncodeContainer(corpus, *source, *sink, options, segment_size));
  if (stats != nullptr) *stats = s;
  return container;
}

// Decodes `container`, handing `corpus` to the decoder when the header asks for one.
// On success, *output holds the output; on failure, what the decoder wrote before it.
inline Result<DecompressStats> DecodeFromString(const std::string& container,
                                                const CorpusReader* corpus, std::string* output,
                                                int threads = 1, uint64_t max_output = 0) {
  output->clear();
  auto source = MemorySource(AsBytes(container), "test.rdc");
  auto sink = MemorySink(output, "output");
  return DecodeContainer(*source, *sink,
                         [&](const ContainerHeader&) -> Result<const CorpusReader*> {
                           if (corpus == nullptr)
                             return Status::NotFound("the test supplies no corpus");
                           return corpus;
                         },
                         threads, max_output);
}

}  // namespace reducto::testing

#endif  // REDUCTO_TESTS_CODEC_CODEC_TEST_UTIL_H_
