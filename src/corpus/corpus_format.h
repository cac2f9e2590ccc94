// Every constant of the corpus directory that reaches the disk (docs/corpus.md).
// FROZEN: changing any of them breaks existing corpora; a new layout needs a new
// kManifestFormatVersion and code that still reads the old one.
#ifndef REDUCTO_CORPUS_CORPUS_FORMAT_H_
#define REDUCTO_CORPUS_CORPUS_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace reducto {

// ---- manifest.json ----
inline constexpr char kManifestFileName[] = "manifest.json";
inline constexpr char kManifestFormat[] = "reducto-corpus";
inline constexpr int kManifestFormatVersion = 1;
// A new version of a corpus (a "parent" it depends on, "parent_manifest_blake3",
// segments[].corpus naming the ancestor that holds a segment). Written only for
// versions, so that roots stay readable by readers of version 1, and readers of
// version 1 refuse a version ("upgrade") instead of calling its segments missing.
inline constexpr int kManifestFormatVersionWithParent = 2;
// An encrypted corpus (a root): "encryption" names the pack cipher; the pack is sealed
// in chunks and the index encrypted under the key in data-key (docs/encryption.md).
// Readers of versions 1 and 2 refuse it ("upgrade") instead of reading ciphertext.
inline constexpr int kManifestFormatVersionEncrypted = 3;
inline constexpr char kIndexCipher[] = "xchacha20";
// A reader follows at most this many parents (a chain is pinned by digests and cannot
// loop; the bound keeps a hostile store from making a reader open files forever).
inline constexpr size_t kMaxCorpusChain = 1024;
inline constexpr char kChunkingAlgorithm[] = "fastcdc-2020";
inline constexpr char kWeakKeyAlgorithm[] = "xxh3-64";
// A reader refuses larger manifests (they would be hostile or broken).
inline constexpr size_t kMaxManifestBytes = 16u << 20;

// ---- pack segments: pack/000000.seg, pack/000001.seg, ... ----
inline constexpr char kPackDirName[] = "pack";
inline constexpr char kSegmentSuffix[] = ".seg";

// ---- piece tables: pieces/000000.b3, ... (docs/corpus.md, "Piece tables") ----
// A segment file cut into pieces of piece_size bytes (the last may be shorter), with the
// BLAKE3-256 of each, so that a receiver can verify any byte range it fetched.
inline constexpr char kPiecesDirName[] = "pieces";
inline constexpr char kPieceTableSuffix[] = ".b3";
inline constexpr char kPieceTableMagic[8] = {'R', 'D', 'C', 'P', 'I', 'E', 'C', '1'};
inline constexpr uint32_t kPieceTableFormatVersion = 1;
inline constexpr size_t kPieceTableHeaderSize = 64;
// Header fields, little-endian: version (u32), piece size (u32), segment size (u64),
// piece count (u64); bytes 32..63 are zero. Then one 32-byte digest per piece.
inline constexpr size_t kPieceTableVersionOffset = 8;
inline constexpr size_t kPieceTablePieceSizeOffset = 12;
inline constexpr size_t kPieceTableSegmentSizeOffset = 16;
inline constexpr size_t kPieceTableCountOffset = 24;
inline constexpr size_t kPieceDigestSize = 32;
// Readers accept powers of two in this range; the builder writes kDefaultPieceSize.
inline constexpr uint32_t kMinPieceSize = 4u << 10;
inline constexpr uint32_t kMaxPieceSize = 16u << 20;
inline constexpr uint32_t kDefaultPieceSize = 64u << 10;

// ---- chunk index (RocksDB) ----
inline constexpr char kIndexDirName[] = "index";
inline constexpr size_t kIndexPrefixSize = 8;  // Weak key, big-endian.
inline constexpr size_t kIndexKeySize = 16;    // Weak key || corpus address, big-endian.
inline constexpr size_t kIndexValueSize = 36;  // BLAKE3 (32) || length (uint32 LE).

// ---- detached signatures: signatures/<key id>.sig (docs/corpus.md, "Signatures") ----
inline constexpr char kSignaturesDirName[] = "signatures";
inline constexpr char kSignatureSuffix[] = ".sig";
inline constexpr char kSignatureFileHeader[] = "reducto-corpus-signature v1";
// Fields after the first line, one "<name> <value>" line each, in this order.
inline constexpr char kSignatureKeyIdField[] = "key-id";            // 16 hex digits
inline constexpr char kSignaturePublicKeyField[] = "public-key";    // base64, 32 bytes
inline constexpr char kSignatureCorpusIdField[] = "corpus-id";      // the manifest's id
inline constexpr char kSignatureManifestField[] = "manifest-blake3";  // 64 hex digits
inline constexpr char kSignatureValueField[] = "signature";         // base64, 64 bytes
// The signed message: this domain string with its terminating NUL (28 bytes), the
// corpus id as its 36 ASCII characters, then the 32-byte manifest digest.
inline constexpr char kSignatureDomain[] = "reducto-corpus-signature-v1";

// Corpora are built with average chunk sizes in this range (the chunker allows more).
inline constexpr uint32_t kCorpusMinAvgChunk = 4u << 10;
inline constexpr uint32_t kCorpusMaxAvgChunk = 64u << 10;

}  // namespace reducto

#endif  // REDUCTO_CORPUS_CORPUS_FORMAT_H_
