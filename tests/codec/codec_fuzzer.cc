// libFuzzer target for the decoder of untrusted bytes. The first input byte picks
// what to fuzz: the whole container decoder (standalone, or against a small corpus), or
// ExecuteInstructions directly (format version 1 or the latest, so DELTA and ADD too), which the
// container's checksums otherwise shield from random mutations. Every input must fail cleanly or decode; never crash, never read
// out of bounds (run with -fsanitize=address,undefined).
//
// Not built by default (it needs clang): a build with `-fsanitize=fuzzer` links this file
// with the core library, e.g.
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
//     -Itests/codec tests/codec/codec_fuzzer.cc <core library> -o codec_fuzzer
//   ./codec_fuzzer -max_len=70000 tests/codec/golden
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/decoder.h"
#include "codec/format.h"
#include "codec/instructions.h"
#include "fake_corpus.h"
#include "reducto/io.h"

namespace {

const reducto::testing::FakeCorpus& Corpus() {
  static const reducto::testing::FakeCorpus corpus = [] {
    std::vector<uint8_t> bytes(4096);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 131 + 7);
    return reducto::testing::FakeCorpus(std::move(bytes), reducto::ChunkerParams::ForAverage(256));
  }();
  return corpus;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::span<const uint8_t> rest(data + 1, size - 1);
  const reducto::CorpusReader* corpus = (mode & 1) ? &Corpus() : nullptr;
  if (mode & 2) {
    // Output sizes up to 64 KiB, taken from the next two bytes.
    if (rest.size() < 2) return 0;
    size_t output_size = rest[0] | rest[1] << 8;
    std::vector<uint8_t> output(output_size), scratch;
    reducto::ExecuteContext context;
    context.version = (mode & 4) ? reducto::format::kLatestVersion : reducto::format::kVersion;
    (void)reducto::ExecuteInstructions(rest.subspan(2), corpus, output, &scratch, context);
    return 0;
  }
  std::string out;
  auto source = reducto::MemorySource(rest);
  auto sink = reducto::MemorySink(&out);
  auto result = reducto::DecodeContainer(
      *source, *sink, [&](const reducto::ContainerHeader&) -> reducto::Result<const reducto::CorpusReader*> {
        if (corpus == nullptr) return reducto::Status::NotFound("no corpus");
        return corpus;
      });
  (void)result;
  return 0;
}
