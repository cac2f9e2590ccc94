// OptimizeCorpus: count the samples' chunks, choose the ones that cover the most sample
// bytes per corpus byte within the budget, build and measure the corpus, trim until it
// fits, publish (docs/corpus.md, "Optimized corpora").
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chunking/chunk_reader.h"
#include "corpus_build/chunk_tally.h"
#include "corpus_build/corpus_builder.h"
#include "corpus_build/corpus_publisher.h"
#include "corpus/corpus_format.h"
#include "corpus/fine_index.h"
#include "corpus/manifest.h"
#include "corpus/signatures.h"
#include "reducto/corpus.h"
#include "reducto/io.h"
#include "reducto/progress.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;

constexpr size_t kSampleWindowBytes = 8u << 20;

// What a corpus directory holds besides its pack, estimated before it is built:
// `fixed_bytes`, an empty corpus with its signatures (measured by building one) plus
// kTableBytes, and `per_chunk_bytes` of index per stored chunk
// (OptimizeOptions::index_bytes_per_chunk; RocksDB 7.8 takes about 64: 52 bytes of key
// and value, plus block, restart-point and bloom-filter overhead), and `fine_per_byte`
// of fine index and piece table per pack byte (FineBytesPerSegmentByte, 32 bytes per
// 64 KiB piece; the empty corpus already holds the table's header). Only the selection before the
// first build relies on it: the built directory is measured.
struct SizeModel {
  uint64_t fixed_bytes = 0;
  uint64_t per_chunk_bytes = 0;
  double fine_per_byte = 0;
};

// What a non-empty index adds to an empty one besides its entries: the table file's
// footer, index block and properties (RocksDB 7.8: 2-3 KB), and a longer manifest.
constexpr uint64_t kTableBytes = 4u << 10;
// Builds before giving up on fitting the budget. One is the rule; each retry lowers the
// selection by at least the measured overshoot.
constexpr int kMaxBuilds = 5;

// One pass over the samples at one chunking.
struct SampleCount {
  std::unique_ptr<ChunkTally> tally;
  uint64_t bytes = 0;
  uint64_t chunk_count = 0;
};

// The scratch database of a count that outgrows memory goes beside the output, under a
// name that marks it as temporary (docs/corpus.md, "Building and publishing").
Result<SampleCount> CountChunks(const std::vector<CorpusInput>& samples,
                                const ChunkerParams& params, const std::string& out,
                                uint64_t memory_limit) {
  SampleCount result;
  result.tally = std::make_unique<ChunkTally>(memory_limit, out + ".tmp-count-");
  for (const CorpusInput& sample : samples) {
    ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenSource(sample.path));
    ChunkReader reader(params, *source, kSampleWindowBytes);
    ChunkView chunk;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader.Next(&chunk));
      if (!more) break;
      RETURN_IF_ERROR(result.tally->Add(Blake3(chunk.bytes), static_cast<uint32_t>(chunk.bytes.size())));
      ++result.chunk_count;
      result.bytes += chunk.bytes.size();
    }
  }
  RETURN_IF_ERROR(result.tally->Finish());
  return result;
}

Result<ChunkTally::Selection> SelectChunks(ChunkTally& tally, uint64_t budget,
                                           const SizeModel& model, bool mark) {
  uint64_t space = budget > model.fixed_bytes ? budget - model.fixed_bytes : 0;
  // A chunk of n bytes costs n * (1 + fine_per_byte) + per_chunk_bytes.
  const double scale = 1 + model.fine_per_byte;
  return tally.Select(static_cast<uint64_t>(static_cast<double>(space) / scale),
                      static_cast<uint64_t>(static_cast<double>(model.per_chunk_bytes) / scale + 0.5),
                      mark);
}

double Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// The sum of the sizes of every regular file under `dir`: what a copy transfers.
Result<uint64_t> DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    fs::file_status status = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_regular_file(status)) {
      uint64_t size = it->file_size(ec);
      if (ec) break;
      total += size;
    }
  }
  if (ec) {
    return Status::Io("cannot measure the corpus being built at " + dir + ": " + ec.message() +
                      " (check the output directory)");
  }
  return total;
}

Status CheckSamples(const std::vector<std::string>& samples) {
  if (samples.empty()) {
    return Status::InvalidArgument(
        "no samples to optimize a corpus for: pass sample files or directories");
  }
  for (const std::string& sample : samples) {
    if (sample == "-") {
      return Status::InvalidArgument(
          "optimize reads the samples several times, so stdin (-) cannot be a sample: save it to "
          "a file and pass that");
    }
  }
  return Status::Ok();
}

Status BudgetTooSmall(uint64_t budget, uint64_t empty_bytes, size_t signers) {
  return Status::InvalidArgument(
      "a budget of " + std::to_string(budget) + " bytes is too small even for an empty corpus" +
      (signers > 0 ? " with " + std::to_string(signers) + " signature(s)" : std::string()) +
      ", which takes " + std::to_string(empty_bytes) + " bytes: pass a larger --budget");
}

Result<ChunkSizeEstimate> Estimate(SampleCount& count, uint32_t avg, uint64_t budget,
                                   const SizeModel& model) {
  ChunkSizeEstimate row;
  row.avg_size = avg;
  row.chunks = count.chunk_count;
  row.distinct_chunks = count.tally->distinct_chunks();
  row.distinct_bytes = count.tally->distinct_bytes();
  ASSIGN_OR_RETURN(ChunkTally::Selection selection, SelectChunks(*count.tally, budget, model, false));
  row.selected_chunks = selection.chunks;
  row.covered_bytes = selection.covered_bytes;
  row.predicted_hit_rate = Share(selection.covered_bytes, count.bytes);
  return row;
}

uint32_t Recommend(const std::vector<ChunkSizeEstimate>& rows) {
  double best = -1;
  for (const ChunkSizeEstimate& row : rows) best = std::max(best, row.predicted_hit_rate);
  uint32_t avg = 0;
  for (const ChunkSizeEstimate& row : rows) {
    if (row.predicted_hit_rate >= best - 0.005) avg = std::max(avg, row.avg_size);
  }
  return avg;
}

// Builds the corpus of the selected chunks into a fresh staging directory, signs it
// there, and returns the staging with its measured size.
struct StagedCorpus {
  CorpusStaging staging;
  uint64_t bytes = 0;
  uint64_t pack_bytes = 0;
};

Result<StagedCorpus> BuildSelection(const std::vector<CorpusInput>& samples,
                                    const std::string& out, const OptimizeOptions& options,
                                    const ChunkTally* selected,
                                    const std::vector<SecretKey>& sign_keys) {
  ASSIGN_OR_RETURN(CorpusStaging staging, CorpusStaging::Create(out, options.overwrite));
  {
    CorpusBuilder builder(staging.dir(), options.chunking,
                          [selected](const Digest& digest, uint32_t) -> Result<bool> {
                            if (selected == nullptr) return false;
                            return selected->IsSelected(digest);
                          });
    builder.set_fine_index(options.fine_index);
    RETURN_IF_ERROR(builder.Start());
    for (const CorpusInput& sample : samples) RETURN_IF_ERROR(builder.AddInput(sample));
    RETURN_IF_ERROR(builder.Finish());
  }
  // Signed before measuring, so that the signatures count against the budget too;
  // Publish then has nothing left to sign.
  ASSIGN_OR_RETURN(CorpusInfo info, ReadCorpusInfo(staging.dir()));
  for (const SecretKey& key : sign_keys) {
    RETURN_IF_ERROR(WriteCorpusSignature(staging.dir(), info, key).status());
  }
  ASSIGN_OR_RETURN(uint64_t bytes, DirectoryBytes(staging.dir()));
  return StagedCorpus{std::move(staging), bytes, info.pack_bytes()};
}

std::string Percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", 100.0 * share);
  return text;
}

std::string SizeFlag(uint32_t bytes) {
  return bytes % 1024 == 0 ? std::to_string(bytes / 1024) + "K" : std::to_string(bytes);
}

}  // namespace

Result<OptimizeReport> OptimizeCorpus(const std::vector<std::string>& samples,
                                      const std::string& out_dir, const OptimizeOptions& options) {
  RETURN_IF_ERROR(ValidateCorpusChunking(options.chunking));
  for (uint32_t avg : options.candidate_averages) {
    RETURN_IF_ERROR(ValidateCorpusChunking(ChunkerParams::ForAverage(avg, options.chunking.normalization)));
  }
  if (options.budget == 0) {
    return Status::InvalidArgument(
        "the budget is 0: pass the most bytes the corpus directory may take, e.g. --budget 64M");
  }
  RETURN_IF_ERROR(CheckSamples(samples));
  ASSIGN_OR_RETURN(std::string out, CheckCorpusDestination(out_dir, options.overwrite));
  ASSIGN_OR_RETURN(std::vector<SecretKey> sign_keys, ReadSigningKeys(options.sign_keys));
  ASSIGN_OR_RETURN(std::vector<CorpusInput> files, ExpandCorpusInputs(samples, out));
  uint64_t empty_bytes = 0;
  {
    ASSIGN_OR_RETURN(StagedCorpus empty, BuildSelection({}, out, options, nullptr, sign_keys));
    empty_bytes = empty.bytes;
  }
  if (options.budget < empty_bytes) return BudgetTooSmall(options.budget, empty_bytes, sign_keys.size());
  const double pieces_per_byte = static_cast<double>(kPieceDigestSize) / kDefaultPieceSize;
  SizeModel model{empty_bytes + kTableBytes, options.index_bytes_per_chunk,
                  (options.fine_index ? FineBytesPerSegmentByte() : 0.0) + pieces_per_byte};

  OptimizeReport report;
  report.budget = options.budget;
  report.sample_files = files.size();
  ASSIGN_OR_RETURN(SampleCount count,
                   CountChunks(files, options.chunking, out, options.max_counted_chunks));
  report.sample_bytes = count.bytes;
  report.sample_chunks = count.chunk_count;
  report.distinct_chunks = count.tally->distinct_chunks();
  report.distinct_bytes = count.tally->distinct_bytes();
  report.counts_spilled = count.tally->spilled();
  report.dedup_potential = count.bytes == 0 ? 0 : 1.0 - Share(report.distinct_bytes, count.bytes);

  for (uint32_t avg : options.candidate_averages) {
    ChunkerParams params = ChunkerParams::ForAverage(avg, options.chunking.normalization);
    if (params == options.chunking) {
      ASSIGN_OR_RETURN(ChunkSizeEstimate row, Estimate(count, avg, options.budget, model));
      report.chunk_sizes.push_back(row);
      continue;
    }
    ASSIGN_OR_RETURN(SampleCount other, CountChunks(files, params, out, options.max_counted_chunks));
    ASSIGN_OR_RETURN(ChunkSizeEstimate row, Estimate(other, avg, options.budget, model));
    report.chunk_sizes.push_back(row);
  }
  report.recommended_avg = Recommend(report.chunk_sizes);

  // Select, build, measure; when over the budget, charge the measured excess to the
  // fixed part of the model (so that the next selection is smaller by at least that
  // much) and build again.
  for (int build = 1;; ++build) {
    ASSIGN_OR_RETURN(ChunkTally::Selection selection,
                     SelectChunks(*count.tally, options.budget, model, true));
    ASSIGN_OR_RETURN(StagedCorpus staged,
                     BuildSelection(files, out, options, count.tally.get(), sign_keys));
    if (staged.bytes <= options.budget) {
      ASSIGN_OR_RETURN(report.corpus, staged.staging.Publish({}));
      report.corpus_bytes = staged.bytes;
      report.builds = build;
      report.selected_chunks = selection.chunks;
      report.covered_bytes = selection.covered_bytes;
      report.predicted_hit_rate = Share(selection.covered_bytes, count.bytes);
      return report;
    }
    if (selection.chunks == 0) return BudgetTooSmall(options.budget, staged.bytes, sign_keys.size());
    if (build == kMaxBuilds) {
      return Status::Io("the corpus still takes " + std::to_string(staged.bytes) +
                        " bytes after " + std::to_string(build) + " builds, more than the budget of " +
                        std::to_string(options.budget) +
                        ": pass a somewhat larger --budget, and please report this");
    }
    uint64_t estimated_other = model.fixed_bytes + model.per_chunk_bytes * selection.chunks;
    uint64_t measured_other = staged.bytes - staged.pack_bytes;
    uint64_t excess = measured_other > estimated_other ? measured_other - estimated_other : 0;
    model.fixed_bytes += std::max<uint64_t>(excess, staged.bytes - options.budget) + 1024;
  }
}

std::string OptimizeReport::ToText() const {
  std::string text;
  char line[512];
  auto add = [&text](const std::string& label, const std::string& value) {
    text += label + std::string(label.size() < 19 ? 19 - label.size() : 0, ' ') + " " + value + "\n";
  };
  add("samples", std::to_string(sample_files) + " file(s), " + HumanBytes(sample_bytes) + " (" +
                     std::to_string(sample_bytes) + " bytes), " + std::to_string(sample_chunks) +
                     " chunks at --avg " + SizeFlag(corpus.chunking.avg_size));
  add("distinct chunks", std::to_string(distinct_chunks) + ", " + HumanBytes(distinct_bytes) +
                             " (" + std::to_string(distinct_bytes) + " bytes)" +
                             (counts_spilled ? ", counted in a scratch database beside the corpus"
                                             : ""));
  add("dedup potential", Percent(dedup_potential) +
                             " of the sample bytes repeat chunks seen before (1 - distinct / total)");
  add("corpus", corpus.path + " (" + corpus.id + ")");
  add("corpus bytes", std::to_string(corpus_bytes) + " of a budget of " + std::to_string(budget) +
                          " (" + HumanBytes(corpus_bytes) + " of " + HumanBytes(budget) +
                          "; pack " + HumanBytes(corpus.pack_bytes()) + ", measured over every file)");
  add("chunks stored", std::to_string(selected_chunks) + " of " + std::to_string(distinct_chunks) +
                           " distinct" + (builds > 1 ? ", after " + std::to_string(builds) +
                                                           " builds to fit the budget"
                                                     : std::string()));
  add("predicted hit rate", Percent(predicted_hit_rate) + " (" + std::to_string(covered_bytes) +
                                " sample bytes in chunks the corpus holds: what compress "
                                "--profile fast copies)");
  if (chunk_sizes.empty()) return text;
  text += "\nchunk sizes: each average counted exactly on the samples; the corpus size within\n"
          "the budget is estimated (pack exact, index and files estimated), not built\n";
  std::snprintf(line, sizeof line, "  %-6s %12s %12s %8s %12s %10s\n", "--avg", "chunks", "distinct",
                "dedup", "fit budget", "hit rate");
  text += line;
  for (const ChunkSizeEstimate& row : chunk_sizes) {
    std::snprintf(line, sizeof line, "  %-6s %12llu %12llu %8s %12llu %10s%s\n", SizeFlag(row.avg_size).c_str(),
                  static_cast<unsigned long long>(row.chunks),
                  static_cast<unsigned long long>(row.distinct_chunks),
                  Percent(sample_bytes == 0 ? 0 : 1.0 - Share(row.distinct_bytes, sample_bytes)).c_str(),
                  static_cast<unsigned long long>(row.selected_chunks), Percent(row.predicted_hit_rate).c_str(),
                  row.avg_size == recommended_avg ? "  <- recommended" : "");
    text += line;
  }
  if (recommended_avg != 0) {
    text += "recommended        --avg " + SizeFlag(recommended_avg) +
            " (highest predicted exact-chunk hit rate; the largest within 0.5 points of it)\n";
  }
  return text;
}

std::string OptimizeReport::ToJson() const {
  nlohmann::ordered_json j;
  j["corpus"] = corpus.path;
  j["id"] = corpus.id;
  j["budget"] = budget;
  j["corpus_bytes"] = corpus_bytes;
  j["pack_bytes"] = corpus.pack_bytes();
  j["builds"] = builds;
  j["avg"] = corpus.chunking.avg_size;
  j["sample_files"] = sample_files;
  j["sample_bytes"] = sample_bytes;
  j["sample_chunks"] = sample_chunks;
  j["distinct_chunks"] = distinct_chunks;
  j["distinct_bytes"] = distinct_bytes;
  j["counts_spilled"] = counts_spilled;
  j["dedup_potential"] = dedup_potential;
  j["selected_chunks"] = selected_chunks;
  j["covered_bytes"] = covered_bytes;
  j["predicted_hit_rate"] = predicted_hit_rate;
  j["chunk_sizes"] = nlohmann::ordered_json::array();
  for (const ChunkSizeEstimate& row : chunk_sizes) {
    nlohmann::ordered_json r;
    r["avg"] = row.avg_size;
    r["chunks"] = row.chunks;
    r["distinct_chunks"] = row.distinct_chunks;
    r["distinct_bytes"] = row.distinct_bytes;
    r["selected_chunks"] = row.selected_chunks;
    r["covered_bytes"] = row.covered_bytes;
    r["predicted_hit_rate"] = row.predicted_hit_rate;
    j["chunk_sizes"].push_back(std::move(r));
  }
  j["recommended_avg"] = recommended_avg;
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace reducto
