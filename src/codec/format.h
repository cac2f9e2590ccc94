// The constants of the container format, versions 1 to 6 (docs/format.md). They are
// on disk in every container ever written.
//
// DO NOT CHANGE any value in this file. A change of layout or meaning is a new format
// version: add its constants beside these, keep these readable, add a golden file.
#ifndef REDUCTO_CODEC_FORMAT_H_
#define REDUCTO_CODEC_FORMAT_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace reducto::format {

// Version 1: LITERAL and COPY. Version 2 adds DELTA and changes nothing else. Version 3
// (DELTA allowed) makes the block payloads one zstd frame (see kStreamWindowLog). Version
// 4 adds ADD and changes nothing else. Version 5 changes only the trailer's output digest:
// BLAKE3 of the blocks' output digests instead of BLAKE3 of the output. Version 6 changes
// only ADD's displacement prediction: a destination the block has not learned is
// predicted through its region's agreed shift.
inline constexpr uint16_t kVersion = 1;
inline constexpr uint16_t kVersion2 = 2;
inline constexpr uint16_t kVersion3 = 3;
inline constexpr uint16_t kVersion4 = 4;
inline constexpr uint16_t kVersion5 = 5;
inline constexpr uint16_t kVersion6 = 6;
inline constexpr uint16_t kLatestVersion = kVersion6;

// Version 3: the largest window (log2 bytes) the frame of a container's block payloads
// may declare. Bounds a decoder's memory for it.
inline constexpr int kStreamWindowLog = 24;

// ---- Header ----
inline constexpr std::array<uint8_t, 8> kMagic = {0x89, 'R', 'D', 'C', 'T', 0x0D, 0x0A, 0x1A};

inline constexpr size_t kHeaderMagicOffset = 0;
inline constexpr size_t kHeaderVersionOffset = 8;          // u16
inline constexpr size_t kHeaderFlagsOffset = 10;           // u16
inline constexpr size_t kHeaderLevelOffset = 12;           // u8
inline constexpr size_t kHeaderNormalizationOffset = 13;   // u8
inline constexpr size_t kHeaderChunkMinOffset = 14;        // u32
inline constexpr size_t kHeaderChunkAvgOffset = 18;        // u32
inline constexpr size_t kHeaderChunkMaxOffset = 22;        // u32
inline constexpr size_t kHeaderBlockSizeOffset = 26;       // u32
inline constexpr size_t kHeaderCorpusIdOffset = 30;        // 16 bytes
inline constexpr size_t kHeaderManifestDigestOffset = 46;  // 32 bytes
inline constexpr size_t kHeaderChecksumOffset = 78;        // 8 bytes
inline constexpr size_t kHeaderSize = 86;

inline constexpr uint16_t kFlagStandalone = 1u << 0;
inline constexpr uint16_t kFlagsEncryptionMask = 0x7u << 1;  // Reserved; must be 0 in v1.
inline constexpr uint16_t kFlagsKnownMask = kFlagStandalone;

inline constexpr int kMinLevel = 1;
inline constexpr int kMaxLevel = 22;
inline constexpr uint32_t kMinBlockSize = 4u << 10;
inline constexpr uint32_t kMaxBlockSize = 64u << 20;

// Checksums of the header and of block headers: this many leading bytes of BLAKE3.
inline constexpr size_t kChecksumSize = 8;

// ---- Records ----
inline constexpr uint8_t kRecordBlock = 0x01;
inline constexpr uint8_t kRecordTrailer = 0x02;

inline constexpr size_t kBlockKindOffset = 0;             // u8
inline constexpr size_t kBlockPayloadSizeOffset = 1;      // u32
inline constexpr size_t kBlockInstructionSizeOffset = 5;  // u32
inline constexpr size_t kBlockOutputSizeOffset = 9;       // u32
inline constexpr size_t kBlockDigestOffset = 13;          // 32 bytes
inline constexpr size_t kBlockPayloadHashOffset = 45;     // u64, XXH3-64 of the payload
inline constexpr size_t kBlockChecksumOffset = 53;        // 8 bytes
inline constexpr size_t kBlockHeaderSize = 61;

// The largest instruction stream a block of `output_size` bytes may have. Encoders
// keep far below it by sending copies shorter than kMinCopyLength as literals.
inline constexpr uint64_t MaxInstructionSize(uint64_t output_size) { return 2 * output_size + 64; }

inline constexpr size_t kTrailerKindOffset = 0;        // u8
inline constexpr size_t kTrailerOutputSizeOffset = 1;  // u64
inline constexpr size_t kTrailerBlockCountOffset = 9;  // u64
inline constexpr size_t kTrailerDigestOffset = 17;     // 32 bytes
inline constexpr size_t kTrailerEndMagicOffset = 49;   // 8 bytes
inline constexpr size_t kTrailerSize = 57;
inline constexpr std::array<uint8_t, 8> kEndMagic = {0x89, 'R', 'D', 'C', 'T', 'E', 'N', 'D'};

// ---- Instructions ----
inline constexpr uint8_t kOpLiteral = 0x00;  // varint len, then len bytes.
inline constexpr uint8_t kOpCopy = 0x01;     // zigzag varint delta, varint len.
// Version 2 and later: zigzag varint delta, varint reference length, varint len, varint
// payload length, then the payload: one zstd frame that decodes to len bytes with the
// reference bytes as its prefix.
inline constexpr uint8_t kOpDelta = 0x02;
// Version 4 and later: zigzag varint delta, varint len, then len bytes that, added to
// the corpus bytes from the address on (with the displacement prediction of
// codec/displacements.h), give the output.
inline constexpr uint8_t kOpAdd = 0x03;
// 0x04..0xFF are reserved (and 0x02 in version 1, 0x03 before version 4): decoders
// reject them as Corrupt.

// The longest DELTA reference: bounds what a decoder copies when the reference spans
// pack segments.
inline constexpr uint64_t kMaxDeltaReference = 16u << 20;

inline constexpr size_t kMaxVarintSize = 10;

// Encoder policy that keeps instruction streams within MaxInstructionSize: a copy
// shorter than this is sent as a literal (a COPY costs at most 1 + 10 + 5 bytes).
inline constexpr uint64_t kMinCopyLength = 16;

}  // namespace reducto::format

#endif  // REDUCTO_CODEC_FORMAT_H_
