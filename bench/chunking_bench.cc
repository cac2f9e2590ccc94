// Chunking throughput against memcpy of the same bytes (the ceiling), and BLAKE3 on a
// chunk-sized input, the other per-byte cost of building a corpus.
//
//   reducto_bench --benchmark_filter='Chunk|Memcpy|Blake3'

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "reducto/chunker.h"
#include "reducto/digest.h"
#include "random_bytes.h"

namespace reducto {
namespace {

constexpr size_t kInputBytes = 64u << 20;

// Incompressible bytes (SplitMix64), generated once: random data is the worst case for
// the cut-point search, which then has no early cuts to skip ahead with.
const std::vector<uint8_t>& RandomInput() {
  static const std::vector<uint8_t> input = testing::RandomBytes(kInputBytes, 0x5eed);
  return input;
}

// Chunks all of `input` in one call per iteration.
void ChunkWhole(benchmark::State& state, const ChunkerParams& params,
                const std::vector<uint8_t>& input) {
  size_t chunks = 0;
  for (auto _ : state) {
    std::vector<Chunk> out = ChunkBuffer(params, input);
    chunks = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.counters["chunks"] = static_cast<double>(chunks);
}

// Arg: the average chunk size; min = avg / 2 and max = avg * 2.
void BM_ChunkBuffer(benchmark::State& state) {
  ChunkWhole(state, ChunkerParams::ForAverage(static_cast<uint32_t>(state.range(0))),
             RandomInput());
}
BENCHMARK(BM_ChunkBuffer)->Arg(8 << 10)->Arg(64 << 10)->Unit(benchmark::kMillisecond);

// A pathological input: 64 MiB of zeros, which never matches a cut mask, so every
// chunk ends at the maximum size. Must not be slower than random data.
void BM_ChunkZeros(benchmark::State& state) {
  static const std::vector<uint8_t> zeros(kInputBytes, 0);
  ChunkWhole(state, ChunkerParams::ForAverage(8 << 10), zeros);
}
BENCHMARK(BM_ChunkZeros)->Unit(benchmark::kMillisecond);

// The streaming path as a file reader drives it: 1 MiB feeds, average 8 KiB.
void BM_ChunkerFeed1MiB(benchmark::State& state) {
  const std::vector<uint8_t>& input = RandomInput();
  const ChunkerParams params = ChunkerParams::ForAverage(8 << 10);
  constexpr size_t kFeed = 1u << 20;
  std::vector<Chunk> out;
  out.reserve(input.size() / params.min_size + 1);
  for (auto _ : state) {
    out.clear();
    Chunker chunker(params);
    for (size_t pos = 0; pos < input.size(); pos += kFeed) {
      chunker.Feed(std::span(input).subspan(pos, std::min(kFeed, input.size() - pos)), &out);
    }
    chunker.Finish(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.counters["chunks"] = static_cast<double>(out.size());
}
BENCHMARK(BM_ChunkerFeed1MiB)->Unit(benchmark::kMillisecond);

// The ceiling: copying the same 64 MiB once (read and write, so a generous one).
void BM_Memcpy64MiB(benchmark::State& state) {
  const std::vector<uint8_t>& input = RandomInput();
  std::vector<uint8_t> copy(input.size(), 1);
  for (auto _ : state) {
    std::memcpy(copy.data(), input.data(), input.size());
    benchmark::DoNotOptimize(copy.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_Memcpy64MiB)->Unit(benchmark::kMillisecond);

void BM_Blake3_16KiB(benchmark::State& state) {
  const std::span<const uint8_t> input = std::span(RandomInput()).first(16u << 10);
  for (auto _ : state) {
    Digest digest = Blake3(input);
    benchmark::DoNotOptimize(digest);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_Blake3_16KiB);

}  // namespace
}  // namespace reducto
