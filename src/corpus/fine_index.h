// The fine index of a pack segment (docs/corpus.md, "Fine index"): the hashes of the
// 16-byte windows at every stride-th position of the segment, in a table of 64-byte
// buckets, written when the corpus is built. The chunk index finds whole chunks; this
// finds any run of at least stride + 15 bytes wherever it lies in the corpus (a row that
// a database rewrote elsewhere, code that moved), which a search around the previous
// copies cannot see.
//
// A reader trusts nothing in it: every candidate it gives is compared byte by byte with
// the target before use, so a damaged fine index costs matches, never correctness.
//
// Thread safety: a FineIndex is immutable after Open(); its const methods may be called
// from many threads.
#ifndef REDUCTO_CORPUS_FINE_INDEX_H_
#define REDUCTO_CORPUS_FINE_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "reducto/corpus.h"
#include "reducto/status.h"
#include "storage/storage.h"
#include "util/endian.h"

namespace reducto {

// ---- FROZEN (docs/corpus.md, "Fine index") ----
inline constexpr char kFineDirName[] = "fine";
inline constexpr char kFineSuffix[] = ".fine";
inline constexpr char kFineMagic[8] = {'R', 'D', 'C', 'F', 'I', 'N', 'E', '1'};
inline constexpr uint32_t kFineFormatVersion = 1;
inline constexpr size_t kFineHeaderSize = 64;
// Header fields, little-endian: version (u32), stride (u32), segment size (u64), bucket
// count (u64), sampled positions (u64); the rest of the header is zero.
inline constexpr size_t kFineVersionOffset = 8;
inline constexpr size_t kFineStrideOffset = 12;
inline constexpr size_t kFineSegmentSizeOffset = 16;
inline constexpr size_t kFineBucketCountOffset = 24;
inline constexpr size_t kFinePositionsOffset = 32;
inline constexpr size_t kFineBucketSize = 64;  // 8 entries of 8 bytes.
inline constexpr int kFineBucketEntries = 8;
// Bucket count = ceil(positions / kFinePositionsPerBucket), at least 1: few buckets
// overflow, and repeated content (one entry per distinct window) leaves room.
inline constexpr uint64_t kFinePositionsPerBucket = 7;
// A window whose bucket is full goes into the next bucket (the first after the last is
// bucket 0); a look-up reads the next bucket only when the first is full.
inline constexpr int kFineProbeBuckets = 2;
inline constexpr uint32_t kFineWindow = 16;    // Bytes hashed at each indexed position.
inline constexpr int kFineOffsetBits = 40;     // Entry: fingerprint << 40 | (offset + 1).
inline constexpr uint64_t kFineFingerprintMask = 0xffffff;
inline constexpr uint32_t kFineMaxStride = 1u << 20;

// Build choices, not format: the stride starts here and doubles until the file fits.
inline constexpr uint32_t kFineDefaultStride = 32;
inline constexpr uint64_t kFineDefaultMaxBytes = 256u << 20;

// The hash of the kFineWindow bytes at `p` (two little-endian 64-bit words, mixed).
// The bucket is chosen by its high 32 bits, the fingerprint is its low 24.
inline uint64_t FineHash(const uint8_t* p) {
  uint64_t v = (LoadLe64(p) * 0x9E3779B185EBCA87ULL) ^ (LoadLe64(p + 8) * 0xC2B2AE3D27D4EB4FULL);
  v ^= v >> 29;
  v *= 0xBF58476D1CE4E5B9ULL;
  return v ^ (v >> 32);
}

// The bucket of `hash` among `bucket_count`, the bucket after `b`, and the parts of an
// entry: the format's rules, shared by the writer and the reader.
inline uint64_t FineBucket(uint64_t hash, uint64_t bucket_count) {
  return ((hash >> 32) * bucket_count) >> 32;
}
inline uint64_t NextFineBucket(uint64_t b, uint64_t bucket_count) {
  return b + 1 == bucket_count ? 0 : b + 1;
}
inline uint64_t FineFingerprint(uint64_t hash) { return hash & kFineFingerprintMask; }
inline uint64_t FineEntry(uint64_t fingerprint, uint64_t offset) {
  return (fingerprint << kFineOffsetBits) | (offset + 1);
}
inline uint64_t FineEntryFingerprint(uint64_t entry) { return entry >> kFineOffsetBits; }
inline uint64_t FineEntryOffset(uint64_t entry) {
  return (entry & ((uint64_t{1} << kFineOffsetBits) - 1)) - 1;
}

// Fine index bytes per segment byte at the default stride (about 0.29), for estimates.
inline double FineBytesPerSegmentByte() {
  return static_cast<double>(kFineBucketSize) /
         static_cast<double>(kFinePositionsPerBucket * kFineDefaultStride);
}

// pack/000000.seg -> fine/000000.fine.
std::string FineFileName(uint32_t segment_number);

// Builds the fine index of `segment` (a segment's plaintext bytes) and publishes it as
// `relative_file` in `storage` (atomically, synced; replacing a file of that name). The stride is the smallest power of two
// from `min_stride` whose file fits `max_bytes`; a segment too large for that gets
// none (returns a FineIndexFile with stride 0 and writes nothing). `step_done`, when
// given, is called after every kFineStepBytes of the segment were indexed (a mapped
// segment's reader drops the pages read so far).
inline constexpr uint64_t kFineStepBytes = 64u << 20;
Result<FineIndexFile> WriteFineIndex(std::span<const uint8_t> segment, Storage& storage,
                                     const std::string& relative_file,
                                     uint32_t min_stride = kFineDefaultStride,
                                     uint64_t max_bytes = kFineDefaultMaxBytes,
                                     const std::function<void()>& step_done = {});
// The same into the local directory `dir`.
Result<FineIndexFile> WriteFineIndex(std::span<const uint8_t> segment, const std::string& dir,
                                     const std::string& relative_file,
                                     uint32_t min_stride = kFineDefaultStride,
                                     uint64_t max_bytes = kFineDefaultMaxBytes,
                                     const std::function<void()>& step_done = {});

// Checks the header of a fine index file against what the manifest says of it and of
// its segment (Corrupt naming `where` otherwise). `bytes` is at least the header.
Status CheckFineHeader(std::span<const uint8_t> bytes, const FineIndexFile& expected,
                       uint64_t segment_size, const std::string& where);

class FineIndex {
 public:
  // Opens `name` of `storage` for a view (mapped, for a local directory; read whole
  // into memory where the storage gives no view) and checks its size and header
  // (CheckFineHeader).
  static Result<FineIndex> Open(const Storage& storage, const std::string& name,
                                const FineIndexFile& expected, uint64_t segment_size);
  // The same for the local file `path`.
  static Result<FineIndex> Open(const std::string& path, const FineIndexFile& expected,
                                uint64_t segment_size);
  FineIndex() = default;
  FineIndex(FineIndex&& other) noexcept = default;
  FineIndex& operator=(FineIndex&& other) noexcept = default;
  ~FineIndex() = default;

  // How a look-up reads the buckets: through the mapping (fast once its pages are
  // mapped), or with ranged reads (StorageFile::ReadAt, pread for a local file: a
  // system call each, but nothing mapped: this kernel maps whole large folios on a
  // fault, so a few hundred scattered look-ups through the mapping map nearly the
  // whole file).
  enum class Access { kMapped, kRead };

  // Calls f(offset) for each indexed segment offset whose window hash had `hash`'s
  // fingerprint in `hash`'s bucket (usually none or one; a candidate, not a match).
  // With kRead, a file that cannot be read gives no candidates.
  template <typename F>
  void ForEachCandidate(uint64_t hash, Access access, F&& f) const {
    const uint64_t fingerprint = FineFingerprint(hash);
    uint64_t b = FineBucket(hash, bucket_count_);
    uint8_t read[kFineBucketSize];
    for (int probe = 0; probe < kFineProbeBuckets; ++probe) {
      const uint8_t* bucket = table_ + b * kFineBucketSize;
      if (access == Access::kRead) {
        if (!ReadBucket(b, read)) return;
        bucket = read;
      }
      for (int i = 0; i < kFineBucketEntries; ++i) {
        const uint64_t entry = LoadLe64(bucket + 8 * i);
        if (entry == 0) return;  // Buckets fill from the front.
        if (FineEntryFingerprint(entry) == fingerprint) f(FineEntryOffset(entry));
      }
      b = NextFineBucket(b, bucket_count_);
    }
  }
  void Prefetch(uint64_t hash) const {
    __builtin_prefetch(table_ + FineBucket(hash, bucket_count_) * kFineBucketSize);
  }
  // The whole file, as mapped (for verification).
  std::span<const uint8_t> bytes() const { return bytes_; }
  // As StorageFile::DropResidentPages.
  void DropResidentPages() const { file_->DropResidentPages(); }

 private:
  // A ranged read of bucket `b` into `out` (kFineBucketSize bytes); false when it fails.
  bool ReadBucket(uint64_t b, uint8_t* out) const;

  // One open file for both ways of reading, so that they read the same file even when
  // the corpus is replaced meanwhile.
  std::unique_ptr<StorageFile> file_;
  std::vector<uint8_t> copy_;  // The file, where the storage gives no view.
  std::span<const uint8_t> bytes_;
  const uint8_t* table_ = nullptr;
  uint64_t bucket_count_ = 0;
};

}  // namespace reducto

#endif  // REDUCTO_CORPUS_FINE_INDEX_H_
