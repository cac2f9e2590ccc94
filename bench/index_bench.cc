// Chunk index look-ups per second: CorpusReader::Lookup against a real corpus (RocksDB
// index on disk, as the encoder uses it), built once from random bytes. Hits look up
// the weak keys of the corpus's own chunks in a shuffled order; misses look up keys
// that are not there, which is what most chunks of a poorly matching target cost.
//
//   reducto_bench --benchmark_filter='Index'

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "corpus/corpus_reader.h"
#include "hashing/weak_key.h"
#include "reducto/chunker.h"
#include "reducto/corpus.h"
#include "random_bytes.h"

namespace reducto {
namespace {

constexpr size_t kCorpusBytes = 128u << 20;  // About 16,000 chunks of 8 KiB.

struct IndexFixture {
  std::filesystem::path dir;
  std::unique_ptr<CorpusReader> reader;
  std::vector<uint64_t> hits;    // Weak keys of stored chunks, shuffled.
  std::vector<uint64_t> misses;  // Random keys (a stored one only by a 2^-64 chance).

  ~IndexFixture() {
    reader.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

const IndexFixture& Fixture() {
  static const std::unique_ptr<IndexFixture> fixture = [] {
    auto f = std::make_unique<IndexFixture>();
    std::vector<uint8_t> bytes = testing::RandomBytes(kCorpusBytes, 0x1dec5);
    uint64_t state = 0x5eedf00d;  // For the shuffle and the miss keys.
    std::error_code ec;
    f->dir = std::filesystem::temp_directory_path(ec) /
             ("reducto-index-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(f->dir, ec);
    const std::string input = (f->dir / "ref").string();
    if (FILE* out = std::fopen(input.c_str(), "wb")) {
      std::fwrite(bytes.data(), 1, bytes.size(), out);
      std::fclose(out);
    }
    CorpusBuildOptions options;
    options.chunking = ChunkerParams::ForAverage(8 << 10);
    auto info = BuildCorpus({input}, (f->dir / "corpus").string(), options);
    if (!info.ok()) {
      std::fprintf(stderr, "index_bench: %s\n", info.status().ToString().c_str());
      std::abort();
    }
    auto reader = CorpusReader::Open((f->dir / "corpus").string());
    if (!reader.ok()) std::abort();
    f->reader = std::move(*reader);
    for (const Chunk& c : ChunkBuffer(options.chunking, bytes)) {
      f->hits.push_back(WeakKey(std::span(bytes).subspan(c.offset, c.length)));
    }
    for (size_t i = f->hits.size(); i > 1; --i) {
      std::swap(f->hits[i - 1], f->hits[testing::SplitMix64(&state) % i]);
    }
    for (size_t i = 0; i < f->hits.size(); ++i) f->misses.push_back(testing::SplitMix64(&state));
    return f;
  }();
  return *fixture;
}

void LookupAll(benchmark::State& state, const std::vector<uint64_t>& keys, bool expect_hit) {
  const IndexFixture& f = Fixture();
  std::vector<ChunkCandidate> out;
  size_t found = 0;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    Status s = f.reader->Lookup(keys[i], &out);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    found += out.size();
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["entries"] = static_cast<double>(keys.size());
  state.counters["hit_rate"] = static_cast<double>(found) / static_cast<double>(state.iterations());
  if (expect_hit != (found > 0)) state.SkipWithError("unexpected look-up result");
}

void BM_IndexLookupHit(benchmark::State& state) { LookupAll(state, Fixture().hits, true); }
BENCHMARK(BM_IndexLookupHit);

void BM_IndexLookupMiss(benchmark::State& state) { LookupAll(state, Fixture().misses, false); }
BENCHMARK(BM_IndexLookupMiss);

}  // namespace
}  // namespace reducto
