// Container throughput: Decompress (the path every receiver runs) and Compress, for a
// standalone container of literals, for a container against an in-memory corpus that
// is mostly copies, and for a target edited like a recompiled binary (a few bytes
// changed every 75 in half of it: the matcher's hot loop), per profile. Bytes per
// second are target bytes.
//
//   reducto_bench --benchmark_filter='Codec'

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "../tests/codec/fake_corpus.h"
#include "codec/decoder.h"
#include "codec/encoder.h"
#include "reducto/io.h"
#include "random_bytes.h"

namespace reducto {
namespace {

constexpr size_t kTargetBytes = 32u << 20;

// Half text-like, half random: literals that zstd both compresses and cannot.
std::vector<uint8_t> MixedBytes(size_t size) {
  std::vector<uint8_t> bytes = testing::RandomBytes(size, 1);
  for (size_t i = 0; i < size; i += 8192) {
    if ((i / 8192) % 2 == 0) continue;
    for (size_t j = i; j < std::min(size, i + 8192); ++j) bytes[j] = "reducto \n"[bytes[j] % 9];
  }
  return bytes;
}

// Counts and drops what it is given: the benchmark measures the codec, not a disk.
class NullSink final : public ByteSink {
 public:
  Status Write(std::span<const uint8_t> data) override {
    written_ += data.size();
    return Status::Ok();
  }
  Status Commit() override { return Status::Ok(); }
  const std::string& name() const override { return name_; }

 private:
  uint64_t written_ = 0;
  std::string name_ = "null";
};

// One thread unless a benchmark says otherwise, so that rows compare per-core costs.
CompressOptions WithProfile(Profile profile, int threads = 1) {
  CompressOptions options;
  options.profile = profile;
  options.threads = threads;
  return options;
}

std::string Encode(const CorpusReader* corpus, const std::vector<uint8_t>& target,
                   Profile profile = Profile::kDefault) {
  std::string container;
  auto source = MemorySource(target);
  auto sink = MemorySink(&container);
  auto stats = EncodeContainer(corpus, *source, *sink, WithProfile(profile));
  if (!stats.ok()) std::abort();
  return container;
}

// A 32 MiB corpus and a target that is the corpus with an edit every MiB: about 99%
// of the target's bytes are copies.
struct CopyPair {
  std::unique_ptr<testing::FakeCorpus> corpus;
  std::vector<uint8_t> target;
};

const CopyPair& Copies() {
  static const CopyPair pair = [] {
    CopyPair p;
    std::vector<uint8_t> reference = testing::RandomBytes(kTargetBytes, 2);
    p.target = reference;
    for (size_t i = 0; i + 100 < p.target.size(); i += 1u << 20) {
      for (size_t j = 0; j < 100; ++j) p.target[i + j] ^= 0x5a;
    }
    p.corpus = std::make_unique<testing::FakeCorpus>(std::move(reference),
                                                     ChunkerParams::ForAverage(8192));
    return p;
  }();
  return pair;
}

// A 32 MiB text-and-random corpus, and a target that changes `width` bytes every
// `step` in every other 64 KiB of it. 4 every 75: what relocated addresses do to a
// recompiled binary (copies at a repeated alignment); 1 every 12: too dense for copies
// (DELTA, in the max profile).
CopyPair MakeEdited(size_t width, size_t step) {
  CopyPair p;
  std::vector<uint8_t> reference = MixedBytes(kTargetBytes);
  p.target = reference;
  for (size_t i = 0; i + width < p.target.size(); i += step) {
    if ((i >> 16) % 2 == 0) continue;
    for (size_t j = 0; j < width; ++j) p.target[i + j] += 1;
  }
  p.corpus = std::make_unique<testing::FakeCorpus>(std::move(reference),
                                                   ChunkerParams::ForAverage(8192));
  return p;
}

const CopyPair& Edited() {
  static const CopyPair pair = MakeEdited(4, 75);
  return pair;
}

const CopyPair& DenselyEdited() {
  static const CopyPair pair = MakeEdited(1, 12);
  return pair;
}

void Decode(benchmark::State& state, const CorpusReader* corpus, const std::string& container,
            size_t target_size, int threads = 1) {
  for (auto _ : state) {
    auto source = MemorySource(
        std::span(reinterpret_cast<const uint8_t*>(container.data()), container.size()));
    NullSink sink;
    auto stats = DecodeContainer(
        *source, sink, [&](const ContainerHeader&) { return Result<const CorpusReader*>(corpus); },
        threads);
    if (!stats.ok()) state.SkipWithError(stats.status().ToString().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * target_size));
  state.counters["container_bytes"] = static_cast<double>(container.size());
}

void BM_CodecDecompressStandalone(benchmark::State& state) {
  static const std::vector<uint8_t> target = MixedBytes(kTargetBytes);
  static const std::string container = Encode(nullptr, target);
  Decode(state, nullptr, container, target.size());
}
BENCHMARK(BM_CodecDecompressStandalone)->Unit(benchmark::kMillisecond)->UseRealTime();

// Arg: threads.
void BM_CodecDecompressCopies(benchmark::State& state) {
  const CopyPair& pair = Copies();
  static const std::string container = Encode(pair.corpus.get(), pair.target);
  Decode(state, pair.corpus.get(), container, pair.target.size(),
         static_cast<int>(state.range(0)));
}
BENCHMARK(BM_CodecDecompressCopies)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CodecDecompressDeltas(benchmark::State& state) {
  const CopyPair& pair = DenselyEdited();
  static const std::string container = Encode(pair.corpus.get(), pair.target, Profile::kMax);
  Decode(state, pair.corpus.get(), container, pair.target.size());
}
BENCHMARK(BM_CodecDecompressDeltas)->Unit(benchmark::kMillisecond)->UseRealTime();

void Compress(benchmark::State& state, const CorpusReader* corpus,
              const std::vector<uint8_t>& target, Profile profile = Profile::kDefault,
              int threads = 1) {
  uint64_t container_bytes = 0;
  for (auto _ : state) {
    auto source = MemorySource(target);
    NullSink sink;
    auto stats = EncodeContainer(corpus, *source, sink, WithProfile(profile, threads));
    if (!stats.ok()) state.SkipWithError(stats.status().ToString().c_str());
    if (stats.ok()) container_bytes = stats->output_bytes;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * target.size()));
  state.counters["container_bytes"] = static_cast<double>(container_bytes);
}

// Arg: 0 fast, 1 default, 2 max.
void BM_CodecCompressEdited(benchmark::State& state) {
  const CopyPair& pair = Edited();
  Compress(state, pair.corpus.get(), pair.target, static_cast<Profile>(state.range(0)));
}
BENCHMARK(BM_CodecCompressEdited)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CodecCompressStandalone(benchmark::State& state) {
  static const std::vector<uint8_t> target = MixedBytes(kTargetBytes);
  Compress(state, nullptr, target);
}
BENCHMARK(BM_CodecCompressStandalone)->Unit(benchmark::kMillisecond)->UseRealTime();

// Arg: threads.
void BM_CodecCompressCopies(benchmark::State& state) {
  const CopyPair& pair = Copies();
  Compress(state, pair.corpus.get(), pair.target, Profile::kDefault,
           static_cast<int>(state.range(0)));
}
BENCHMARK(BM_CodecCompressCopies)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace reducto
