// EXPERIMENTAL (docs/api.md): the kinds and their detection may change between minor
// versions.
//
// What the first bytes of a stream say it is: the formats that decide how well it can
// match a corpus (a tar stream interleaves headers with its files' bytes; a compressed
// stream hides its content).
//
// Thread safety: pure functions.
#ifndef REDUCTO_STREAM_KIND_H_
#define REDUCTO_STREAM_KIND_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace reducto {

enum class StreamKind {
  kOther,  // None of the below (or too short to tell).
  kTar,    // POSIX ustar or GNU tar: "ustar" at offset 257.
  kGzip,   // 1f 8b
  kXz,     // fd 37 7a 58 5a 00
  kZstd,   // 28 b5 2f fd
  kBzip2,  // "BZh"
  kAr,     // "!<arch>\n": an ar archive, such as a Debian package (.deb), whose members
           // are compressed.
};

// The bytes DetectStreamKind needs to tell every kind apart: a tar header's magic ends
// at offset 262.
inline constexpr size_t kStreamKindProbeBytes = 512;

// The kind of a stream that begins with `head` (its first bytes, ideally
// kStreamKindProbeBytes of them; fewer when the stream is shorter).
StreamKind DetectStreamKind(std::span<const uint8_t> head);

// Whether `bytes` hold a tar header's magic ("ustar\0" "00" or "ustar  \0") anywhere.
// A corpus made by `corpus optimize` or `prune` need not start where its tar input did,
// but it keeps tar headers; the encoder looks for them in kCorpusKindSamples windows
// of kCorpusKindSampleBytes spread over the pack (1 MiB in all, whatever its size).
bool HoldsTarHeader(std::span<const uint8_t> bytes);
inline constexpr int kCorpusKindSamples = 16;
inline constexpr size_t kCorpusKindSampleBytes = 64u << 10;

// True for gzip, xz, zstd and bzip2.
bool IsCompressedKind(StreamKind kind);

// "tar", "gzip", "xz", "zstd", "bzip2", "ar", "other".
const char* StreamKindName(StreamKind kind);

}  // namespace reducto

#endif  // REDUCTO_STREAM_KIND_H_
