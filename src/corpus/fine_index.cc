#include "corpus/fine_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

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

// About seven positions per bucket of eight: few overflow (those are dropped), and
// repeated content (which keeps one entry per distinct window) leaves room.
uint64_t BucketCount(uint64_t positions) {
  return std::max<uint64_t>(1, (positions + kFineBucketEntries - 2) / (kFineBucketEntries - 1));
}

uint64_t FileSize(uint64_t buckets) { return kFineHeaderSize + buckets * kFineBucketSize; }

// Puts (fingerprint, offset) into its bucket, or the next one when that is full, unless
// one of them already holds the fingerprint (the first occurrence of a window wins);
// dropped when both are full.
void Insert(uint8_t* table, uint64_t buckets, uint64_t hash, uint64_t offset) {
  const uint64_t fingerprint = hash & kFineFingerprintMask;
  uint64_t b = ((hash >> 32) * buckets) >> 32;
  for (int probe = 0; probe < kFineProbeBuckets; ++probe) {
    uint8_t* bucket = table + b * kFineBucketSize;
    for (int i = 0; i < kFineBucketEntries; ++i) {
      uint64_t entry = LoadLe64(bucket + 8 * i);
      if (entry == 0) {
        StoreLe64(bucket + 8 * i, (fingerprint << kFineOffsetBits) | (offset + 1));
        return;
      }
      if ((entry >> kFineOffsetBits) == fingerprint) return;
    }
    b = b + 1 == buckets ? 0 : b + 1;
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
  StoreLe32(file.data() + 8, kFineFormatVersion);
  StoreLe32(file.data() + 12, stride);
  StoreLe64(file.data() + 16, segment.size());
  StoreLe64(file.data() + 24, buckets);
  StoreLe64(file.data() + 32, positions);
  uint8_t* table = file.data() + kFineHeaderSize;
  const uint64_t positions_per_step = std::max<uint64_t>(1, kFineStepBytes / stride);
  for (uint64_t i = 0; i < positions; ++i) {
    const uint64_t offset = i * stride;
    Insert(table, buckets, FineHash(segment.data() + offset), offset);
    if (step_done && (i + 1) % positions_per_step == 0) step_done();
  }
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + relative_file, file));
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
  if (LoadLe32(bytes.data() + 8) != kFineFormatVersion) {
    return bad("has format version " + std::to_string(LoadLe32(bytes.data() + 8)) +
               " (this reducto reads " + std::to_string(kFineFormatVersion) + ")");
  }
  const uint32_t stride = LoadLe32(bytes.data() + 12);
  const uint64_t buckets = LoadLe64(bytes.data() + 24);
  if (stride != expected.stride) {
    return bad("has stride " + std::to_string(stride) + ", the manifest says " +
               std::to_string(expected.stride));
  }
  if (LoadLe64(bytes.data() + 16) != segment_size) {
    return bad("describes a segment of " + std::to_string(LoadLe64(bytes.data() + 16)) +
               " bytes, not " + std::to_string(segment_size));
  }
  if (buckets == 0 || buckets > std::numeric_limits<uint32_t>::max() ||
      FileSize(buckets) != bytes.size()) {
    return bad("has " + std::to_string(buckets) + " buckets, which does not match its size");
  }
  return Status::Ok();
}

Result<FineIndex> FineIndex::Open(const std::string& path, const FineIndexFile& expected,
                                  uint64_t segment_size) {
  ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  RETURN_IF_ERROR(CheckFineHeader(file.bytes(), expected, segment_size, path));
  FineIndex index;
  index.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (index.fd_ < 0) return ErrnoStatus("open fine index", path, errno);
  index.bucket_count_ = LoadLe64(file.bytes().data() + 24);
  index.table_ = file.bytes().data() + kFineHeaderSize;
  index.file_ = std::move(file);
  return index;
}

FineIndex::FineIndex(FineIndex&& other) noexcept
    : file_(std::move(other.file_)),
      fd_(std::exchange(other.fd_, -1)),
      table_(std::exchange(other.table_, nullptr)),
      bucket_count_(std::exchange(other.bucket_count_, 0)) {}

FineIndex& FineIndex::operator=(FineIndex&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    file_ = std::move(other.file_);
    fd_ = std::exchange(other.fd_, -1);
    table_ = std::exchange(other.table_, nullptr);
    bucket_count_ = std::exchange(other.bucket_count_, 0);
  }
  return *this;
}

FineIndex::~FineIndex() {
  if (fd_ >= 0) ::close(fd_);
}

bool FineIndex::ReadBucket(uint64_t b, uint8_t* out) const {
  const off_t at = static_cast<off_t>(kFineHeaderSize + b * kFineBucketSize);
  size_t done = 0;
  while (done < kFineBucketSize) {
    ssize_t n = ::pread(fd_, out + done, kFineBucketSize - done, at + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace reducto
