#include "corpus/fine_index.h"

#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "storage/local_directory_storage.h"
#include "util/endian.h"

namespace reducto {
namespace {

constexpr char kDamaged[] = ": the corpus is damaged; rebuild or re-fetch it";

// The indexed positions of a segment of `size` bytes at `stride`: 0, stride, ... while
// a whole window fits and the offset fits an entry.
uint64_t PositionCount(uint64_t size, uint32_t stride) {
  constexpr uint64_t kMaxOffset = (uint64_t{1} << kFineOffsetBits) - 2;
  if (size < kFineWindow) return 0;
  uint64_t last = std::min(size - kFineWindow, kMaxOffset);
  return last / stride + 1;
}

uint64_t BucketCount(uint64_t positions) {
  return std::max<uint64_t>(1, (positions + kFinePositionsPerBucket - 1) / kFinePositionsPerBucket);
}

uint64_t FileSize(uint64_t buckets) { return kFineHeaderSize + buckets * kFineBucketSize; }

// Puts (fingerprint, offset) into its bucket, or the next one when that is full, unless
// one of them already holds the fingerprint (the first occurrence of a window wins);
// dropped when both are full.
void Insert(uint8_t* table, uint64_t buckets, uint64_t hash, uint64_t offset) {
  const uint64_t fingerprint = FineFingerprint(hash);
  uint64_t b = FineBucket(hash, buckets);
  for (int probe = 0; probe < kFineProbeBuckets; ++probe) {
    uint8_t* bucket = table + b * kFineBucketSize;
    for (int i = 0; i < kFineBucketEntries; ++i) {
      const uint64_t entry = LoadLe64(bucket + 8 * i);
      if (entry == 0) {
        StoreLe64(bucket + 8 * i, FineEntry(fingerprint, offset));
        return;
      }
      if (FineEntryFingerprint(entry) == fingerprint) return;
    }
    b = NextFineBucket(b, buckets);
  }
}

}  // namespace

std::string FineFileName(uint32_t segment_number) {
  char name[32];
  std::snprintf(name, sizeof name, "%s/%06u%s", kFineDirName, segment_number, kFineSuffix);
  return name;
}

Result<FineIndexFile> WriteFineIndex(std::span<const uint8_t> segment, const std::string& dir,
                                     const std::string& relative_file, uint32_t min_stride,
                                     uint64_t max_bytes, const std::function<void()>& step_done) {
  LocalDirectoryStorage storage(dir);
  return WriteFineIndex(segment, storage, relative_file, min_stride, max_bytes, step_done);
}

Result<FineIndexFile> WriteFineIndex(std::span<const uint8_t> segment, Storage& storage,
                                     const std::string& relative_file, uint32_t min_stride,
                                     uint64_t max_bytes, const std::function<void()>& step_done) {
  uint32_t stride = std::max<uint32_t>(1, min_stride);
  while (stride <= kFineMaxStride &&
         FileSize(BucketCount(PositionCount(segment.size(), stride))) > max_bytes) {
    stride *= 2;
  }
  if (stride > kFineMaxStride) return FineIndexFile{};
  const uint64_t positions = PositionCount(segment.size(), stride);
  const uint64_t buckets = BucketCount(positions);
  std::vector<uint8_t> file(FileSize(buckets), 0);
  std::memcpy(file.data(), kFineMagic, sizeof kFineMagic);
  StoreLe32(file.data() + kFineVersionOffset, kFineFormatVersion);
  StoreLe32(file.data() + kFineStrideOffset, stride);
  StoreLe64(file.data() + kFineSegmentSizeOffset, segment.size());
  StoreLe64(file.data() + kFineBucketCountOffset, buckets);
  StoreLe64(file.data() + kFinePositionsOffset, positions);
  uint8_t* table = file.data() + kFineHeaderSize;
  const uint64_t positions_per_step = std::max<uint64_t>(1, kFineStepBytes / stride);
  for (uint64_t i = 0; i < positions; ++i) {
    const uint64_t offset = i * stride;
    Insert(table, buckets, FineHash(segment.data() + offset), offset);
    if (step_done && (i + 1) % positions_per_step == 0) step_done();
  }
  RETURN_IF_ERROR(storage.Publish(relative_file, file));
  return FineIndexFile{relative_file, file.size(), Blake3(file), stride};
}

Status CheckFineHeader(std::span<const uint8_t> bytes, const FineIndexFile& expected,
                       uint64_t segment_size, const std::string& where) {
  auto bad = [&](const std::string& why) {
    return Status::Corrupt("fine index " + where + " " + why + kDamaged);
  };
  if (bytes.size() != expected.size) {
    return bad("is " + std::to_string(bytes.size()) + " bytes, the manifest says " +
               std::to_string(expected.size));
  }
  if (bytes.size() < kFineHeaderSize || std::memcmp(bytes.data(), kFineMagic, 8) != 0) {
    return bad("does not start with the fine index magic");
  }
  const uint32_t version = LoadLe32(bytes.data() + kFineVersionOffset);
  if (version != kFineFormatVersion) {
    return bad("has format version " + std::to_string(version) + " (this reducto reads " +
               std::to_string(kFineFormatVersion) + ")");
  }
  const uint32_t stride = LoadLe32(bytes.data() + kFineStrideOffset);
  const uint64_t described = LoadLe64(bytes.data() + kFineSegmentSizeOffset);
  const uint64_t buckets = LoadLe64(bytes.data() + kFineBucketCountOffset);
  if (stride != expected.stride) {
    return bad("has stride " + std::to_string(stride) + ", the manifest says " +
               std::to_string(expected.stride));
  }
  if (described != segment_size) {
    return bad("describes a segment of " + std::to_string(described) + " bytes, not " +
               std::to_string(segment_size));
  }
  if (buckets == 0 || buckets > std::numeric_limits<uint32_t>::max() ||
      FileSize(buckets) != bytes.size()) {
    return bad("has " + std::to_string(buckets) + " buckets, which does not match its size");
  }
  return Status::Ok();
}

Result<FineIndex> FineIndex::Open(const Storage& storage, const std::string& name,
                                  const FineIndexFile& expected, uint64_t segment_size) {
  const std::string path = storage.PathOf(name);
  FineIndex index;
  Result<std::unique_ptr<StorageFile>> file = storage.Open(name, FileAccess::kView);
  if (!file.ok()) return file.status().WithContext("cannot open fine index");
  index.file_ = std::move(file).value();
  if (std::optional<std::span<const uint8_t>> view = index.file_->view()) {
    index.bytes_ = *view;
  } else {
    // The size is checked before the file is read whole.
    if (index.file_->size() != expected.size) {
      return Status::Corrupt("fine index " + path + " is " + std::to_string(index.file_->size()) +
                             " bytes, the manifest says " + std::to_string(expected.size) +
                             kDamaged);
    }
    index.copy_.resize(index.file_->size());
    RETURN_IF_ERROR(index.file_->ReadAt(0, index.copy_));
    index.bytes_ = index.copy_;
  }
  RETURN_IF_ERROR(CheckFineHeader(index.bytes_, expected, segment_size, path));
  index.bucket_count_ = LoadLe64(index.bytes_.data() + kFineBucketCountOffset);
  index.table_ = index.bytes_.data() + kFineHeaderSize;
  return index;
}

Result<FineIndex> FineIndex::Open(const std::string& path, const FineIndexFile& expected,
                                  uint64_t segment_size) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return Open(LocalDirectoryStorage("."), path, expected, segment_size);
  return Open(LocalDirectoryStorage(path.substr(0, slash)), path.substr(slash + 1), expected,
              segment_size);
}

bool FineIndex::ReadBucket(uint64_t b, uint8_t* out) const {
  return file_->ReadAt(kFineHeaderSize + b * kFineBucketSize, {out, kFineBucketSize}).ok();
}

}  // namespace reducto
