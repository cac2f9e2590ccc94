// A corpus: reference bytes that senders and receivers share. On disk a corpus is a
// directory of plain files (docs/corpus.md): manifest.json, the pack segments and the
// RocksDB chunk index. A published corpus never changes.
//
// Thread safety: all functions may be called concurrently; many processes may read
// one corpus at once.
#ifndef REDUCTO_CORPUS_H_
#define REDUCTO_CORPUS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reducto/chunker.h"
#include "reducto/digest.h"
#include "reducto/progress.h"
#include "reducto/status.h"

namespace reducto {

struct EnvelopeKey;  // reducto/encryption.h

// The memory a corpus reader may use for its index cache and mapped pack pages, unless
// told otherwise (CompressOptions::cache_size, `--cache-size`).
inline constexpr uint64_t kDefaultCorpusCacheSize = 128u << 20;
// The least a reader works with: smaller sizes (other than 0, the default) are raised
// to it.
inline constexpr uint64_t kMinCorpusCacheSize = 16u << 20;

// EXPERIMENTAL (docs/api.md): fine-index internals may change between minor versions.
// The fine index of a pack segment (docs/corpus.md, "Fine index"): a sample of its
// positions, so that the encoder finds content that moved anywhere in the corpus at the
// granularity of a few dozen bytes.
struct FineIndexFile {
  std::string file;      // Relative to the directory of the corpus that holds it.
  uint64_t size = 0;     // Bytes of the file.
  Digest blake3{};       // Of the whole file.
  uint32_t stride = 0;   // One segment position in `stride` is indexed.
};

// EXPERIMENTAL (docs/api.md), as FineIndexFile.
// The piece table of a pack segment (docs/corpus.md, "Piece tables"): the BLAKE3 of each
// `piece_size` bytes of the segment file as stored, so that byte ranges fetched from a
// repository are verified before use.
struct PieceTableFile {
  std::string file;         // Relative to the directory of the corpus that holds it.
  uint64_t size = 0;        // Bytes of the file: 64 + 32 * ceil(stored size / piece_size).
  Digest blake3{};          // Of the whole file.
  uint32_t piece_size = 0;  // A power of two, 4 KiB .. 16 MiB.
};

struct CorpusSegment {
  std::string file;      // Relative to the directory of the corpus that holds it.
  uint64_t base = 0;     // First corpus address of this segment.
  uint64_t size = 0;
  Digest blake3{};
  // Absent for a segment built without one (encrypted corpora, earlier builders).
  // EXPERIMENTAL, as FineIndexFile.
  std::optional<FineIndexFile> fine;
  // Absent for a segment built before piece tables existed. EXPERIMENTAL, as above.
  std::optional<PieceTableFile> pieces;
};

// What manifest.json says, plus where it was read from.
struct CorpusInfo {
  std::string path;             // The corpus directory.
  std::string id;               // UUID, lowercase, 8-4-4-4-12.
  std::optional<std::string> parent_id;
  // A new version (UpdateCorpus) pins its parent's manifest digest; a reader uses the
  // parent only when its manifest has exactly this digest. Unset for a root corpus.
  std::optional<Digest> parent_manifest_digest;
  std::string created;          // RFC 3339, UTC.
  std::string builder;          // "reducto 0.1.0".
  ChunkerParams chunking;
  std::vector<CorpusSegment> segments;
  // A version lists its ancestors' segments first: segment_owners[i] is the id of the
  // ancestor whose directory holds the file of segments[i], for i < segment_owners.size();
  // the segments after those are the corpus's own. Empty for a root corpus.
  std::vector<std::string> segment_owners;
  uint64_t input_bytes = 0;     // Bytes of the inputs the corpus was built from.
  uint64_t chunk_count = 0;     // Chunks in those inputs.
  uint64_t unique_chunks = 0;   // Chunks stored (each distinct chunk once).
  uint64_t index_entries = 0;
  Digest index_digest{};        // BLAKE3 over the index's sorted entries.
  Digest manifest_digest{};     // BLAKE3 of manifest.json's bytes; containers pin it.
  // The pack cipher of an encrypted corpus ("aes-256-gcm" or "xchacha20-poly1305");
  // empty for a plain one. Segment sizes and digests are the plaintext's.
  std::string encryption;
  bool is_encrypted() const { return !encryption.empty(); }

  uint64_t pack_bytes() const;  // Sum of segment sizes = the corpus address space.
  size_t fine_index_count() const;  // Segments that have a fine index.
  // Sum of the sizes of the corpus's own segments (those after segment_owners): for a
  // version, the new bytes that a receiver that has the parent must fetch (besides the
  // index and the manifest); for a root corpus, pack_bytes().
  uint64_t own_pack_bytes() const;
  bool is_version() const { return parent_manifest_digest.has_value(); }
  // Pretty JSON for `corpus info --json`: "path", "manifest_digest", the manifest's
  // fields, then "pack_bytes" and "new_bytes" (own_pack_bytes()).
  std::string ToJson() const;
  std::string ToText() const;   // Human form for `corpus info`.
};

struct CorpusBuildOptions {
  ChunkerParams chunking;       // Must Validate() with avg in 4 KiB..64 KiB.
  // Replace an existing corpus at the output path. Only a directory holding a
  // manifest.json (even a damaged one) or an empty directory is ever replaced.
  bool overwrite = false;
  // Secret key files (reducto/signing.h). The corpus is published with a signature by
  // each: it appears at the output path already signed. Read before anything is built.
  std::vector<std::string> sign_keys;
  // When set, the corpus is encrypted (docs/encryption.md, "Encrypted corpora"): its
  // random corpus key is wrapped by this key file or passphrase. Not owned.
  const EnvelopeKey* encrypt_key = nullptr;
  // Write a fine index of the pack (docs/corpus.md, "Fine index": about 29% of the pack
  // at most 256 MiB per segment), which lets the encoder find content that moved
  // anywhere in the corpus. Ignored for an encrypted corpus, which never has one.
  bool fine_index = true;
  // When set, told how far the build is every few MiB of input (reducto/progress.h:
  // input bytes chunked, pack bytes stored, no blocks). Not owned.
  ProgressObserver* progress = nullptr;
};

// Chunks `inputs` (files, directories walked recursively in byte-wise sorted order,
// or "-" for stdin) and publishes a corpus at `out_dir`. The corpus is built beside
// `out_dir` under a temporary name and renamed into place only when complete, so a
// crash never leaves something that passes as a corpus; on error nothing is left.
// Errors: InvalidArgument (chunking outside the corpus range, no inputs, "-" twice,
// `out_dir` exists and !overwrite, or is not a corpus); NotFound / Permission naming
// an input; Io when writing fails; the errors of ReadSecretKeyFile for sign_keys.
Result<CorpusInfo> BuildCorpus(const std::vector<std::string>& inputs, const std::string& out_dir,
                               const CorpusBuildOptions& options);

// What UpdateCorpus needs besides the parent and the inputs.
struct CorpusUpdateOptions {
  // A new version chunks exactly like its parent (otherwise the parent's chunks would
  // not be found again), so the chunking is inherited. Each field set here states what
  // the caller expects: InvalidArgument when it differs from the parent's.
  std::optional<uint32_t> min_size, avg_size, max_size;
  std::optional<int> normalization;
  // As in CorpusBuildOptions. An overwrite never replaces the parent or an ancestor.
  bool overwrite = false;
  // As in CorpusBuildOptions; with keys, the parent's chain is verified (VerifyCorpus)
  // first, because the signature vouches for the ancestors' bytes too.
  std::vector<std::string> sign_keys;
  // As in CorpusBuildOptions, for the new segment.
  bool fine_index = true;
  // As in CorpusBuildOptions.
  ProgressObserver* progress = nullptr;
};

// Publishes at `out_dir` a new version of the corpus at `parent_dir`: chunks of
// `inputs` (as in BuildCorpus) that the parent or its ancestors already hold are not
// stored again; the new corpus holds one new pack segment and an index of the new
// chunks only, and its manifest lists the parent's segments first (they stay in the
// parent's directory) and pins the parent's id and manifest digest. `out_dir` must be
// in the same directory as `parent_dir` (that is where readers look for the parent).
// Errors: those of BuildCorpus and of CorpusReader::Open(parent_dir); InvalidArgument
// when a chunking field conflicts with the parent's, when `out_dir` is not beside
// `parent_dir`, or would replace the parent or an ancestor.
Result<CorpusInfo> UpdateCorpus(const std::string& parent_dir,
                                const std::vector<std::string>& inputs, const std::string& out_dir,
                                const CorpusUpdateOptions& options);

// Reads and checks manifest.json of the corpus at `dir` (NotFound when `dir` is
// missing or is not a corpus; Corrupt when the manifest does not parse or its
// segments do not match the files).
Result<CorpusInfo> ReadCorpusInfo(const std::string& dir);

// The corpus at `dir` and its ancestors, nearest first: element 0 is
// ReadCorpusInfo(dir), element i+1 the parent of element i. A parent is looked for
// among the corpora beside the corpus that names it (ListCorpora of its directory)
// and is used only when both its id and its manifest digest are the pinned ones; its
// segment list must begin the child's. NotFound, naming the parent and the directory
// searched, when it is not there; Integrity when a corpus with the parent's id is there
// but its manifest differs (replaced or edited); Corrupt when the manifests disagree.
Result<std::vector<CorpusInfo>> ReadCorpusChain(const std::string& dir);

// The corpora directly inside the directory `store`: each subdirectory that holds a
// manifest.json, as "<store>/<name>", sorted byte-wise. Directories that a build or a
// replacement leaves behind while publishing (<name>.tmp-*, <name>.old-*) are not
// corpora. The manifests are not read. NotFound when `store` is not a directory.
Result<std::vector<std::string>> ListCorpora(const std::string& store);

// Where the corpus `id` is for a command given `dir`: `dir` itself when it is a corpus
// (holds a manifest.json; whether its id matches is the caller's check), else the
// corpus of the store `dir` (ListCorpora) whose manifest names `id`. NotFound, naming
// the id and what was looked in and saying how to get that corpus, when `dir` does not
// exist or is a store without it.
Result<std::string> LocateCorpus(const std::string& dir, const std::string& id);

// Reads the whole corpus and checks it against its manifest: each pack segment's
// BLAKE3, the index's entry count and digest, and every index entry against the bytes
// it points at. Integrity on a mismatch. Costs a full read; ReadCorpusInfo and
// CorpusReader::Open check only the sizes. For a version, the same for each ancestor
// (ReadCorpusChain); a failure names the ancestor.
// `key` unlocks an encrypted corpus (Permission without it, naming the key it needs).
// `progress`, when set, is told the bytes checked so far (segments hashed, then the
// chunks the index points at read again) every few MiB.
Status VerifyCorpus(const std::string& dir, const EnvelopeKey* key = nullptr,
                    ProgressObserver* progress = nullptr);

// ---- the golden corpus: `reducto corpus optimize` (docs/corpus.md, "Optimized corpora") ----

struct OptimizeOptions {
  // The most bytes the published corpus directory may hold: the sum of the sizes of all
  // its files (manifest, pack, index, signatures). Must be > 0.
  uint64_t budget = 0;
  ChunkerParams chunking;       // Of the corpus built; avg in 4 KiB..64 KiB.
  bool overwrite = false;       // As CorpusBuildOptions::overwrite.
  bool fine_index = true;       // As CorpusBuildOptions::fine_index; counts against the budget.
  std::vector<std::string> sign_keys;  // As CorpusBuildOptions::sign_keys.
  // Averages measured for the chunk-size table (each with min = avg/2, max = avg*2
  // and chunking.normalization); each in 4 KiB..64 KiB. Empty: no table.
  std::vector<uint32_t> candidate_averages = {4u << 10, 8u << 10, 16u << 10, 32u << 10,
                                              64u << 10};
  // EXPERIMENTAL (docs/api.md), a tuning knob that may go away.
  // Distinct chunks counted in memory per pass (about 100 bytes each). Beyond it the
  // counts spill into a RocksDB scratch database in <out_dir>.tmp-count-*, removed
  // afterwards; the result is the same.
  uint64_t max_counted_chunks = uint64_t{1} << 22;
  // Index bytes per stored chunk assumed when choosing chunks before a build (RocksDB
  // takes about 64). The built directory is measured and trimmed until it fits, so a
  // wrong estimate costs builds, never the budget.
  uint32_t index_bytes_per_chunk = 64;
};

// One row of the chunk-size table: the samples chunked at one average, and what a
// corpus of that chunking would cover within the budget. Counted exactly; the corpus
// is not built, its size is estimated (pack bytes exact, index and files estimated).
struct ChunkSizeEstimate {
  uint32_t avg_size = 0;
  uint64_t chunks = 0;          // Chunks in the samples.
  uint64_t distinct_chunks = 0;
  uint64_t distinct_bytes = 0;
  uint64_t selected_chunks = 0; // Distinct chunks that fit the budget.
  uint64_t covered_bytes = 0;   // Sample bytes in those chunks (every occurrence).
  double predicted_hit_rate = 0;  // covered_bytes / sample bytes.
};

struct OptimizeReport {
  CorpusInfo corpus;            // The published corpus.
  uint64_t budget = 0;
  uint64_t corpus_bytes = 0;    // Measured: all files of the published directory.
  int builds = 0;               // Builds needed to fit the budget (the size is measured).
  uint64_t sample_files = 0;
  uint64_t sample_bytes = 0;
  uint64_t sample_chunks = 0;   // At the corpus's chunking.
  uint64_t distinct_chunks = 0;
  uint64_t distinct_bytes = 0;
  bool counts_spilled = false;  // EXPERIMENTAL: the count outgrew max_counted_chunks.
  double dedup_potential = 0;   // 1 - distinct_bytes / sample_bytes (0 when no bytes).
  uint64_t selected_chunks = 0; // Chunks stored in the corpus.
  uint64_t covered_bytes = 0;   // Sample bytes in chunks the corpus holds.
  // covered_bytes / sample_bytes: the share of the samples that `compress --profile
  // fast` copies from the corpus (it copies exactly the whole chunks the corpus holds).
  double predicted_hit_rate = 0;
  std::vector<ChunkSizeEstimate> chunk_sizes;
  // The average with the highest predicted hit rate; among averages within
  // 0.5 percentage points of it, the largest (fewer chunks, smaller index). 0 when the
  // table is empty.
  uint32_t recommended_avg = 0;

  std::string ToText() const;   // Human report for `corpus optimize`.
  std::string ToJson() const;   // Pretty JSON for `corpus optimize --json`.
};

// Counts the chunks of `samples` (files, or directories walked as BuildCorpus does; not
// stdin, which cannot be read twice) and publishes at `out_dir` the corpus of the
// distinct chunks that cover the most sample bytes within options.budget, chosen
// greedily by sample bytes covered per corpus byte, stored in first-seen order. The
// directory's size is measured before publishing and the selection trimmed until it
// fits: the published directory never exceeds the budget. Publishing is atomic and
// signed as in BuildCorpus; on error nothing is left. Memory: the count table
// (options.max_counted_chunks, then RocksDB's buffers) plus the builder's.
// Errors: InvalidArgument (budget 0 or too small for an empty corpus, chunking, no
// samples, "-", `out_dir` exists and !overwrite); NotFound /
// Permission naming a sample; Io when writing fails; ReadSecretKeyFile's for sign_keys.
Result<OptimizeReport> OptimizeCorpus(const std::vector<std::string>& samples,
                                      const std::string& out_dir, const OptimizeOptions& options);

}  // namespace reducto

#endif  // REDUCTO_CORPUS_H_
