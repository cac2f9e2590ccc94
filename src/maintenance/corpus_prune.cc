// PruneCorpus: choose the chunks to keep (by compressing files with an observer, or
// from the usage store), then write them, in address order, into a new corpus through
// the builder and publisher that BuildCorpus uses. It sits above both the corpus and
// the codec because --keep-for runs the encoder.
#include "reducto/prune.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "corpus/chunk_index.h"
#include "corpus_build/corpus_builder.h"
#include "corpus/corpus_format.h"
#include "corpus_build/corpus_publisher.h"
#include "corpus/corpus_reader.h"
#include "corpus/signatures.h"
#include "reducto/digest.h"
#include "reducto/io.h"
#include "reducto/usage.h"

namespace reducto {
namespace {

// The container that --keep-for makes is only observed, never kept.
class DiscardSink final : public ByteSink {
 public:
  Status Write(std::span<const uint8_t>) override { return Status::Ok(); }
  Status Commit() override { return Status::Ok(); }
  const std::string& name() const override { return name_; }

 private:
  std::string name_ = "nothing (prune --keep-for)";
};

struct StoredChunk {
  uint64_t address = 0;
  uint32_t length = 0;
  Digest digest{};
  bool keep = false;
};

Status CheckModes(const CorpusPruneOptions& options) {
  bool keep_for = !options.keep_for.empty();
  bool unused_since = options.unused_since_seconds.has_value();
  if (keep_for == unused_since) {
    return Status::InvalidArgument(
        std::string(keep_for ? "both --keep-for and --unused-since are given"
                             : "nothing says which chunks to keep") +
        ": pass exactly one of --keep-for FILE... (keep what compressing those files uses) and "
        "--unused-since DURATION (drop what no compression used for that long, e.g. 30d)");
  }
  return Status::Ok();
}

// The stored chunks, in address order.
// Every chunk of the corpus's address space: its own index's and, for a version, its
// ancestors'.
Result<std::vector<StoredChunk>> ListChunks(const std::string& corpus_dir) {
  ASSIGN_OR_RETURN(std::vector<CorpusInfo> chain, ReadCorpusChain(corpus_dir));
  std::vector<StoredChunk> chunks;
  for (const CorpusInfo& member : chain) {
    ASSIGN_OR_RETURN(std::unique_ptr<ChunkIndexReader> index,
                     ChunkIndexReader::Open(member.path + "/" + kIndexDirName));
    Result<IndexSummary> scanned =
        index->Scan([&](uint64_t, const ChunkCandidate& chunk) -> Status {
          chunks.push_back({chunk.address, chunk.length, chunk.digest, false});
          return Status::Ok();
        });
    RETURN_IF_ERROR(scanned.status());
  }
  std::sort(chunks.begin(), chunks.end(),
            [](const StoredChunk& a, const StoredChunk& b) { return a.address < b.address; });
  return chunks;
}

// Marks every chunk that a range the encoder used while compressing the keep_for files
// touches.
Status KeepForFiles(const std::string& corpus_dir, const CorpusPruneOptions& options,
                    std::vector<StoredChunk>* chunks) {
  CorpusUsageRecorder used;
  CompressOptions compress;
  compress.profile = options.profile;
  compress.fallback_to_standalone = false;
  compress.use_observer = &used;
  for (const std::string& file : options.keep_for) {
    ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenSource(file));
    DiscardSink sink;
    Result<CompressStats> stats = Compress(corpus_dir, *source, sink, compress);
    if (!stats.ok()) return stats.status().WithContext("cannot find what " + file + " uses");
    if (stats->damaged_chunks > 0) {  // A damaged source must not be pruned into a copy.
      return Status::Integrity(std::to_string(stats->damaged_chunks) + " chunks of the pack of " +
                               corpus_dir + " do not match their BLAKE3 in the index: the corpus "
                               "is damaged; check it with `reducto corpus verify` and rebuild or "
                               "re-fetch it");
    }
  }
  // Both sorted: sweep the chunks and the ranges together.
  std::vector<std::pair<uint64_t, uint64_t>> ranges = used.Ranges();
  auto range = ranges.begin();
  for (StoredChunk& chunk : *chunks) {
    uint64_t end = chunk.address + chunk.length;
    while (range != ranges.end() && range->second <= chunk.address) ++range;
    chunk.keep = range != ranges.end() && range->first < end;
  }
  return Status::Ok();
}

// Marks every chunk whose last recorded use is within the window.
Status KeepUsedSince(const std::string& corpus_dir, const CorpusPruneOptions& options,
                     std::vector<StoredChunk>* chunks) {
  ASSIGN_OR_RETURN(std::vector<ChunkUse> usage, ReadCorpusUsage(corpus_dir));
  int64_t now = options.now != 0 ? options.now : UnixNow();
  uint64_t window = *options.unused_since_seconds;
  auto use = usage.begin();  // Both in address order.
  for (StoredChunk& chunk : *chunks) {
    while (use != usage.end() && use->address < chunk.address) ++use;
    if (use == usage.end() || use->address != chunk.address || use->count == 0) continue;
    chunk.keep = use->last_use >= now || static_cast<uint64_t>(now - use->last_use) <= window;
  }
  return Status::Ok();
}

}  // namespace

Result<CorpusPruneResult> PruneCorpus(const std::string& source_dir, const std::string& out_dir,
                                      const CorpusPruneOptions& options) {
  RETURN_IF_ERROR(CheckModes(options));
  ASSIGN_OR_RETURN(CorpusInfo source_info, ReadCorpusInfo(source_dir));
  RETURN_IF_ERROR(RefuseEncrypted(source_info, "prune"));
  ASSIGN_OR_RETURN(std::unique_ptr<CorpusReader> source, CorpusReader::Open(source_dir));
  ASSIGN_OR_RETURN(std::string out, CheckCorpusDestination(out_dir, options.overwrite));
  ASSIGN_OR_RETURN(std::vector<SecretKey> sign_keys, ReadSigningKeys(options.sign_keys));
  ASSIGN_OR_RETURN(std::vector<StoredChunk> chunks, ListChunks(source_dir));
  RETURN_IF_ERROR(options.keep_for.empty() ? KeepUsedSince(source_dir, options, &chunks)
                                           : KeepForFiles(source_dir, options, &chunks));
  CorpusPruneResult result;
  std::vector<uint8_t> scratch;
  ASSIGN_OR_RETURN(
      result.info,
      BuildAndPublishCorpus(out, options.overwrite, source->info().chunking, sign_keys,
                            [&](CorpusBuilder& builder) -> Status {
                              for (const StoredChunk& chunk : chunks) {
                                if (!chunk.keep) {
                                  ++result.dropped_chunks;
                                  result.dropped_bytes += chunk.length;
                                  continue;
                                }
                                ASSIGN_OR_RETURN(std::span<const uint8_t> bytes,
                                                 source->Read(chunk.address, chunk.length, &scratch));
                                // A damaged source must not become a valid-looking copy.
                                if (!DigestEqual(Blake3(bytes), chunk.digest)) {
                                  return Status::Integrity(
                                      "chunk at address " + std::to_string(chunk.address) + " of " +
                                      source_dir +
                                      " does not match its BLAKE3 in the index: the corpus is "
                                      "damaged; check it with `reducto corpus verify` and rebuild "
                                      "or re-fetch it");
                                }
                                RETURN_IF_ERROR(builder.AddChunk(bytes));
                                ++result.kept_chunks;
                                result.kept_bytes += chunk.length;
                              }
                              return Status::Ok();
                            },
                            // A fine index when the source had one.
                            nullptr, nullptr, source->info().fine_index_count() > 0));
  return result;
}

Result<uint64_t> ParseDuration(const std::string& text) {
  auto invalid = [&] {
    return Status::InvalidArgument("'" + text +
                                   "' is not a duration: use a whole number and a unit, s, m, h, d "
                                   "or w, e.g. 30d, 12h or 90m");
  };
  if (text.size() < 2 || !std::isdigit(static_cast<unsigned char>(text[0]))) return invalid();
  uint64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: return invalid();
  }
  uint64_t value = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return invalid();
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return invalid();
    value = value * 10 + digit;
  }
  if (value > UINT64_MAX / unit) {
    return Status::InvalidArgument("duration '" + text + "' is too long: give a shorter one, such as 30d or 12h");
  }
  return value * unit;
}

}  // namespace reducto
