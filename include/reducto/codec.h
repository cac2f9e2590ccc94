// Compress a target against a corpus into a container, and back. The container
// format is specified in docs/format.md.
//
// Thread safety: each call is independent; concurrent calls may share a corpus.
#ifndef REDUCTO_CODEC_H_
#define REDUCTO_CODEC_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reducto/chunker.h"
#include "reducto/corpus.h"
#include "reducto/corpus_handle.h"
#include "reducto/io.h"
#include "reducto/metrics.h"
#include "reducto/progress.h"
#include "reducto/signing.h"
#include "reducto/status.h"
#include "reducto/stream_kind.h"

namespace reducto {

// How hard Compress searches the corpus for the target's bytes.
enum class Profile {
  kFast,     // Whole content-defined chunks that the corpus holds exactly.
  kDefault,  // Also: matches extended byte-wise past chunk edges, and a local search
             // that re-synchronises after each edit.
  kMax,      // Also: the bytes between copies delta-encoded against the corpus bytes
             // around them where that is smaller (DELTA, container format version 2
             // and later).
};

// "fast", "default", "max".
const char* ProfileName(Profile profile);
// The zstd level a profile compresses at unless one is given: 3, and 9 for kMax, whose
// DELTA payloads gain most from a higher level (docs/encoder.md, "Levels").
int DefaultLevel(Profile profile);
// InvalidArgument unless `name` is one of ProfileName's.
Result<Profile> ParseProfile(const std::string& name);

// Told which corpus bytes a container uses: each COPY's range and each DELTA's reference
// range, in target order, as the encoder emits them (ranges may repeat and overlap).
// Called only from the thread that called Compress. The usage store that `corpus prune
// --unused-since` reads is fed through this.
class CorpusUseObserver {
 public:
  virtual ~CorpusUseObserver() = default;
  virtual void OnUse(uint64_t address, uint64_t length) = 0;
};

struct CompressOptions {
  Profile profile = Profile::kDefault;
  std::optional<int> level;          // zstd level, 1..22; unset: DefaultLevel(profile).
  bool standalone = false;           // Literals only; no corpus is read.
  // When the corpus directory does not exist: fail with NotFound, naming the path
  // looked for (false, the default: a mistyped path must not pass for a compression), or
  // write a standalone container and set CompressStats::fell_back (true). A corpus that
  // exists but does not open always fails.
  bool fallback_to_standalone = false;
  uint32_t block_size = 4u << 20;    // Target output bytes per block (64 KiB..64 MiB).
  // Chunking for standalone containers (a corpus brings its own parameters).
  ChunkerParams standalone_chunking = ChunkerParams::ForAverage(8192);
  // When not empty, a corpus is used only if it has a valid signature by one of these
  // keys (CheckCorpusTrust: signatures and manifest are checked, not the pack);
  // otherwise Compress fails with Permission.
  std::vector<PublicKey> trusted_keys;
  // When set, called with the corpus's manifest after the trust check and before the
  // corpus is used; a non-OK status stops the run with it (the command line's origin
  // policy).
  CorpusPolicy corpus_policy;
  // Threads for the whole run, the caller's included; 0: one per core. The container
  // is byte-identical whatever the count.
  int threads = 0;
  // Memory for the corpus's index block cache and mapped pack pages; 0:
  // kDefaultCorpusCacheSize (reducto/corpus.h).
  // Capped to a quarter of the available memory (the run goes on, slower).
  uint64_t cache_size = 0;
  // When set, told every corpus range the container uses. Not owned.
  CorpusUseObserver* use_observer = nullptr;
  // Unlocks an encrypted corpus (docs/encryption.md, "Encrypted corpora"). Not owned.
  const EnvelopeKey* corpus_key = nullptr;
  // When set, told how far the run is after each segment (reducto/progress.h). Not owned.
  ProgressObserver* progress = nullptr;
  // When set, the run adds its counts and phase times as it goes (reducto/metrics.h):
  // the counters after each segment, so that they can be read while it runs. Not owned.
  RunMetrics* metrics = nullptr;
};

struct CompressStats {
  uint64_t input_bytes = 0;
  uint64_t output_bytes = 0;
  uint64_t copy_bytes = 0;      // Target bytes sent as copies from the corpus.
  uint64_t literal_bytes = 0;   // Target bytes sent as literals.
  uint64_t delta_bytes = 0;     // Target bytes sent as deltas against corpus bytes (DELTA, ADD).
  uint64_t deltas = 0;          // DELTA and ADD instructions.
  uint64_t copies = 0;          // Copy instructions after merging.
  uint64_t blocks = 0;
  uint64_t chunks = 0;          // Target chunks looked up in the corpus's index.
  uint64_t chunks_found = 0;    // Of those, found in the corpus.
  bool standalone = false;
  bool fell_back = false;       // The corpus was missing; a standalone container was written.
  std::string corpus_id;        // Empty when standalone.
  // EXPERIMENTAL (docs/api.md): cache statistics may change between minor versions.
  uint64_t cache_size = 0;      // The corpus cache in effect (0 when standalone).
  uint64_t cache_drops = 0;     // Times the mapped pack pages were dropped to stay in it.
  // Chunks whose pack bytes differ from the digest the corpus's index holds for them:
  // the corpus is damaged (`reducto corpus verify` says where). They were not copied,
  // so the container is still right; a corpus fetched again would serve it better.
  uint64_t damaged_chunks = 0;
  // ADD and DELTA references that fell on pack bytes whose piece (or segment) differs
  // from the BLAKE3 the corpus's manifest signs for it: those target bytes were sent as
  // literals instead, so the container is still right.
  uint64_t damaged_ranges = 0;
  // What the first bytes of the target and of the corpus's pack (its first input) look
  // like; kOther when standalone.
  StreamKind target_kind = StreamKind::kOther;
  StreamKind corpus_kind = StreamKind::kOther;
  // The corpus matched the target poorly (IsPoorMatch): the container is much larger
  // than a corpus built from the same kind of stream as the target would give.
  bool poor_match = false;
};

// The share of the target's bytes sent as literals above which a match is poor: less
// than half of the target was found in the corpus. Not applied to Profile::kFast, which
// sends as literals all that is not in whole chunks (55% of a rebuilt package, 73% of
// a kernel update, against a corpus of the same kind of stream).
inline constexpr double kPoorMatchLiteralShare = 0.5;
// The same for a tar target against a corpus that holds no tar header (built from the
// files themselves): the tar headers between the files and every file shorter than a
// chunk can never be copied, so more than 1% of literals means the corpus should be
// built from the tar stream. Applied to every profile.
inline constexpr double kPoorTarMatchLiteralShare = 0.01;

// Whether `stats` (of a run of `profile` against a corpus) describe a poor match, by
// the shares above: false for a standalone container or an empty target.
bool IsPoorMatch(const CompressStats& stats, Profile profile);

// Writes a container for `in` to `out` against the open `corpus` (Corpus::Open, a
// CorpusResolver); options.standalone writes a container that needs no corpus instead.
// options.trusted_keys and corpus_policy are checked against the corpus's manifest
// again; options.cache_size, corpus_key and fallback_to_standalone are for opening,
// which the handle already did. Does not Commit() `out`.
Result<CompressStats> Compress(const Corpus& corpus, ByteSource& in, ByteSink& out,
                               const CompressOptions& options);
// The same for a container that needs no corpus (options.standalone is implied).
Result<CompressStats> CompressStandalone(ByteSource& in, ByteSink& out,
                                         const CompressOptions& options);
// Opens the corpus at `corpus_dir` (Corpus::Open with the options' cache size, key and
// trust rules; or falls back as options.fallback_to_standalone says) and compresses
// against it. `corpus_dir` may be empty only when options.standalone is set. For many
// targets against one corpus, open it once and use the call above.
Result<CompressStats> Compress(const std::string& corpus_dir, ByteSource& in, ByteSink& out,
                               const CompressOptions& options);

struct DecompressStats {
  uint64_t input_bytes = 0;     // Container bytes read.
  uint64_t output_bytes = 0;
  uint64_t blocks = 0;
  bool standalone = false;
  std::string corpus_id;
  uint64_t cache_size = 0;      // As CompressStats (EXPERIMENTAL).
  uint64_t cache_drops = 0;
};

struct DecompressOptions {
  // As CompressOptions::trusted_keys: when not empty, the container's corpus must have
  // a valid signature by one of these keys, else Permission before any output.
  std::vector<PublicKey> trusted_keys;
  // As CompressOptions::corpus_policy; only called for a container that needs a corpus.
  CorpusPolicy corpus_policy;
  // Threads for the whole run, the caller's included; 0: one per core.
  int threads = 0;
  // As CompressOptions::cache_size.
  uint64_t cache_size = 0;
  // As CompressOptions::corpus_key.
  const EnvelopeKey* corpus_key = nullptr;
  // The most output bytes to accept; 0: no limit. A container whose blocks declare more
  // is refused (Permission) before the block that would cross the limit is decoded, so
  // a small hostile container cannot fill the disk. The limit counts every block's
  // declared output, which the decoder checks before it decompresses anything.
  uint64_t max_output = 0;
  // As CompressOptions::progress: after each block read from the container.
  ProgressObserver* progress = nullptr;
  // As CompressOptions::metrics. Fetch counts and time come from the corpus's
  // repositories, through RemoteSettings::metrics.
  RunMetrics* metrics = nullptr;
};

// Decodes the container in `in` to `out`, writing each block only after its digest
// verified, and returns OK only after the trailer verified. The corpus the container
// names (its id and manifest digest) is asked of `corpora` only when the container
// needs one; options.trusted_keys and corpus_policy are checked against it, its cache
// size and key are the resolver's. Does not Commit() `out`.
Result<DecompressStats> Decompress(CorpusResolver& corpora, ByteSource& in, ByteSink& out,
                                   const DecompressOptions& options);
// The same against one open corpus: the container must name it (Integrity otherwise).
Result<DecompressStats> Decompress(const Corpus& corpus, ByteSource& in, ByteSink& out,
                                   const DecompressOptions& options);
// The same, looking for the corpus at `corpus_dir`: that corpus, or a store that holds
// it (LocalCorpusResolver, with the options' cache size, key and trust rules).
// `corpus_dir` may be empty for a standalone container.
Result<DecompressStats> Decompress(const std::string& corpus_dir, ByteSource& in, ByteSink& out,
                                   const DecompressOptions& options);
// The same with default options (no trust policy).
Result<DecompressStats> Decompress(const std::string& corpus_dir, ByteSource& in, ByteSink& out);

// What a container says about itself, read without its corpus (`reducto list`).
struct ContainerDescription {
  uint64_t container_bytes = 0;  // The bytes read: the whole file, envelope included.
  // Encrypted (docs/encryption.md). Without the key only `container_bytes` and `lock`
  // are known, and `readable` is false.
  bool encrypted = false;
  bool readable = true;
  std::string lock;              // When !readable: what the container is locked with.
  uint16_t format_version = 0;
  bool standalone = false;
  std::string corpus_id;         // Empty when standalone.
  Digest corpus_manifest_digest{};
  int level = 0;                 // The zstd level it was written at.
  ChunkerParams chunking;
  uint32_t block_size = 0;
  uint64_t blocks = 0;
  uint64_t original_bytes = 0;   // What it decompresses to (the trailer's count).
  uint64_t literal_bytes = 0;    // Original bytes sent as literals.
  uint64_t copy_bytes = 0;       // Original bytes copied from the corpus.
  uint64_t delta_bytes = 0;      // Original bytes delta-encoded against the corpus.
  // Distinct corpus bytes that copies and delta references read: what a receiver must
  // hold of the corpus to decompress it.
  uint64_t corpus_bytes_referenced = 0;
  // Those bytes as [address, length) pairs, sorted, overlapping and touching ranges
  // merged: what a receiver without the corpus fetches (docs/repositories.md).
  std::vector<std::pair<uint64_t, uint64_t>> corpus_ranges;
};

// Reads the container in `in` (decrypting it with `key` when it is encrypted and a key
// is given) and describes it. Checks every record's checksum, decompresses the
// instructions and checks the trailer's counts; does not rebuild the output, so the
// output digests are not checked (Decompress does that). A container encrypted with a
// key other than `key` (or with none given) is described as unreadable, not an error;
// other errors are those of Decompress.
Result<ContainerDescription> DescribeContainer(ByteSource& in, const EnvelopeKey* key = nullptr);

}  // namespace reducto

#endif  // REDUCTO_CODEC_H_
