#include "reducto/stream_kind.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

namespace reducto {
namespace {

// Magic numbers, from each format's specification.
constexpr size_t kTarMagicOffset = 257;
constexpr std::array<uint8_t, 5> kTarMagic = {'u', 's', 't', 'a', 'r'};
constexpr std::array<uint8_t, 2> kGzipMagic = {0x1f, 0x8b};
constexpr std::array<uint8_t, 6> kXzMagic = {0xfd, '7', 'z', 'X', 'Z', 0x00};
constexpr std::array<uint8_t, 4> kZstdMagic = {0x28, 0xb5, 0x2f, 0xfd};
constexpr std::array<uint8_t, 3> kBzip2Magic = {'B', 'Z', 'h'};
constexpr std::array<uint8_t, 8> kArMagic = {'!', '<', 'a', 'r', 'c', 'h', '>', '\n'};

template <size_t N>
bool HasAt(std::span<const uint8_t> head, size_t offset, const std::array<uint8_t, N>& magic) {
  return head.size() >= offset + N &&
         std::equal(magic.begin(), magic.end(), head.begin() + static_cast<ptrdiff_t>(offset));
}

}  // namespace

StreamKind DetectStreamKind(std::span<const uint8_t> head) {
  if (HasAt(head, kTarMagicOffset, kTarMagic)) return StreamKind::kTar;
  if (HasAt(head, 0, kGzipMagic)) return StreamKind::kGzip;
  if (HasAt(head, 0, kXzMagic)) return StreamKind::kXz;
  if (HasAt(head, 0, kZstdMagic)) return StreamKind::kZstd;
  if (HasAt(head, 0, kBzip2Magic)) return StreamKind::kBzip2;
  if (HasAt(head, 0, kArMagic)) return StreamKind::kAr;
  return StreamKind::kOther;
}

bool IsCompressedKind(StreamKind kind) {
  return kind == StreamKind::kGzip || kind == StreamKind::kXz || kind == StreamKind::kZstd ||
         kind == StreamKind::kBzip2;
}

bool HoldsTarHeader(std::span<const uint8_t> bytes) {
  static constexpr std::string_view kPosix("ustar\0" "00", 8), kGnu("ustar  \0", 8);
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return text.find(kPosix) != std::string_view::npos || text.find(kGnu) != std::string_view::npos;
}

const char* StreamKindName(StreamKind kind) {
  switch (kind) {
    case StreamKind::kTar:
      return "tar";
    case StreamKind::kGzip:
      return "gzip";
    case StreamKind::kXz:
      return "xz";
    case StreamKind::kZstd:
      return "zstd";
    case StreamKind::kBzip2:
      return "bzip2";
    case StreamKind::kAr:
      return "ar";
    case StreamKind::kOther:
      break;
  }
  return "other";
}

}  // namespace reducto
