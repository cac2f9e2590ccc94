#include "corpus/manifest.h"

#include <sys/stat.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "corpus/corpus_format.h"
#include "corpus/fine_index.h"
#include "crypto/corpus_keys.h"
#include "repository/piece_table.h"
#include "storage/local_directory_storage.h"
#include "util/file.h"
#include "reducto/progress.h"

namespace reducto {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr char kDamaged[] = ": the corpus is damaged; rebuild or re-fetch it";

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsLowerHex(s[i])) return false;
  }
  return true;
}

// A path that stays inside the corpus directory: relative, no "." or ".." component,
// no empty component, no NUL or backslash. The manifest may come from an untrusted
// repository; it must not be able to point at /etc/passwd.
bool IsSafeRelativePath(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  for (;;) {
    size_t end = path.find('/', start);
    std::string part = path.substr(start, end == std::string::npos ? end : end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (part.find('\0') != std::string::npos || part.find('\\') != std::string::npos) return false;
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

// Reads typed fields of manifest objects; every error names the field and the file.
class FieldReader {
 public:
  explicit FieldReader(std::string where) : where_(std::move(where)) {}

  Status Error(const std::string& field, const std::string& problem) const {
    return Status::Corrupt(where_ + ": field '" + field + "' " + problem + kDamaged);
  }

  Status Member(const Json& object, const std::string& field, const Json** out) const {
    std::string key = field.substr(field.rfind('.') + 1);
    auto it = object.find(key);
    if (it == object.end()) return Error(field, "is missing");
    *out = &*it;
    return Status::Ok();
  }

  Status Object(const Json& object, const std::string& field, const Json** out) const {
    RETURN_IF_ERROR(Member(object, field, out));
    if (!(*out)->is_object()) return Error(field, "must be an object");
    return Status::Ok();
  }

  Status String(const Json& object, const std::string& field, std::string* out) const {
    const Json* value = nullptr;
    RETURN_IF_ERROR(Member(object, field, &value));
    if (!value->is_string()) return Error(field, "must be a string");
    *out = value->get<std::string>();
    return Status::Ok();
  }

  Status Unsigned(const Json& object, const std::string& field, uint64_t max, uint64_t* out) const {
    const Json* value = nullptr;
    RETURN_IF_ERROR(Member(object, field, &value));
    if (!value->is_number_unsigned()) return Error(field, "must be an unsigned integer");
    *out = value->get<uint64_t>();
    if (*out > max) return Error(field, "must be at most " + std::to_string(max));
    return Status::Ok();
  }

  Status U64(const Json& object, const std::string& field, uint64_t* out) const {
    return Unsigned(object, field, std::numeric_limits<uint64_t>::max(), out);
  }

  Status U32(const Json& object, const std::string& field, uint32_t* out) const {
    uint64_t v = 0;
    RETURN_IF_ERROR(Unsigned(object, field, std::numeric_limits<uint32_t>::max(), &v));
    *out = static_cast<uint32_t>(v);
    return Status::Ok();
  }

  Status Blake3Hex(const Json& object, const std::string& field, Digest* out) const {
    std::string hex;
    RETURN_IF_ERROR(String(object, field, &hex));
    auto digest = DigestFromHex(hex);
    if (!digest.ok()) return Error(field, "must be 64 hex digits (a BLAKE3 digest)");
    *out = *digest;
    return Status::Ok();
  }

  Status RelativePath(const Json& object, const std::string& field, std::string* out) const {
    RETURN_IF_ERROR(String(object, field, out));
    if (!IsSafeRelativePath(*out)) {
      return Error(field, "must be a relative path inside the corpus, not '" + *out + "'");
    }
    return Status::Ok();
  }

  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// "encryption" of version 3: the pack cipher, the pack's chunk size, the index cipher
// and the file that holds the wrapped corpus key.
Status ParseEncryption(const Json& root, const FieldReader& fields, CorpusInfo* info) {
  const Json* encryption = nullptr;
  RETURN_IF_ERROR(fields.Object(root, "encryption", &encryption));
  RETURN_IF_ERROR(fields.String(*encryption, "encryption.pack_cipher", &info->encryption));
  if (info->encryption != kPackCipherAes256Gcm && info->encryption != kPackCipherXChaCha20Poly1305) {
    return fields.Error("encryption.pack_cipher", "must be \"" + std::string(kPackCipherAes256Gcm) +
                        "\" or \"" + kPackCipherXChaCha20Poly1305 + "\"");
  }
  uint32_t chunk = 0;
  RETURN_IF_ERROR(fields.U32(*encryption, "encryption.pack_chunk_size", &chunk));
  if (chunk != kPackChunkSize) {
    return fields.Error("encryption.pack_chunk_size", "must be " + std::to_string(kPackChunkSize));
  }
  std::string index_cipher, data_key;
  RETURN_IF_ERROR(fields.String(*encryption, "encryption.index_cipher", &index_cipher));
  if (index_cipher != kIndexCipher) {
    return fields.Error("encryption.index_cipher", "must be \"" + std::string(kIndexCipher) + "\"");
  }
  RETURN_IF_ERROR(fields.String(*encryption, "encryption.data_key", &data_key));
  if (data_key != kDataKeyFileName) {
    return fields.Error("encryption.data_key", "must be \"" + std::string(kDataKeyFileName) + "\"");
  }
  return Status::Ok();
}

Status ParseHeader(const Json& root, const FieldReader& fields, CorpusInfo* info) {
  std::string format;
  RETURN_IF_ERROR(fields.String(root, "format", &format));
  if (format != kManifestFormat) {
    return Status::Corrupt(fields.where() + " is not a Reducto corpus manifest (format is '" +
                           format + "', expected '" + kManifestFormat + "')");
  }
  const Json* version = nullptr;
  RETURN_IF_ERROR(fields.Member(root, "format_version", &version));
  const int64_t number = version->is_number_integer() ? version->get<int64_t>() : 0;
  bool versioned = number == kManifestFormatVersionWithParent;
  bool encrypted = number == kManifestFormatVersionEncrypted;
  if (!versioned && !encrypted && number != kManifestFormatVersion) {
    return Status::Corrupt(fields.where() + ": corpus format version " + version->dump() +
                           " is not supported (this reducto reads versions " +
                           std::to_string(kManifestFormatVersion) + " to " +
                           std::to_string(kManifestFormatVersionEncrypted) +
                           "): upgrade reducto or rebuild the corpus with this one");
  }
  RETURN_IF_ERROR(fields.String(root, "id", &info->id));
  if (!IsUuid(info->id)) return fields.Error("id", "must be a lowercase UUID");
  const Json* parent = nullptr;
  RETURN_IF_ERROR(fields.Member(root, "parent", &parent));
  if (!parent->is_null()) {
    if (!parent->is_string() || !IsUuid(parent->get<std::string>())) {
      return fields.Error("parent", "must be null or a lowercase UUID");
    }
    info->parent_id = parent->get<std::string>();
  }
  if (versioned) {
    // Version 2 is a new version of a corpus: the parent and its digest are required.
    if (!info->parent_id) return fields.Error("parent", "must be a lowercase UUID in version 2");
    if (*info->parent_id == info->id) return fields.Error("parent", "must differ from 'id'");
    Digest pinned{};
    RETURN_IF_ERROR(fields.Blake3Hex(root, "parent_manifest_blake3", &pinned));
    info->parent_manifest_digest = pinned;
  }
  if (encrypted) {
    // Version 3 is an encrypted root corpus.
    if (info->parent_id) return fields.Error("parent", "must be null in version 3");
    RETURN_IF_ERROR(ParseEncryption(root, fields, info));
  }
  RETURN_IF_ERROR(fields.String(root, "created", &info->created));
  if (info->created.empty()) return fields.Error("created", "must not be empty");
  return fields.String(root, "builder", &info->builder);
}

Status ParseChunking(const Json& root, const FieldReader& fields, CorpusInfo* info) {
  const Json* chunking = nullptr;
  RETURN_IF_ERROR(fields.Object(root, "chunking", &chunking));
  std::string algorithm;
  RETURN_IF_ERROR(fields.String(*chunking, "chunking.algorithm", &algorithm));
  if (algorithm != kChunkingAlgorithm) {
    return Status::Corrupt(fields.where() + ": chunking algorithm '" + algorithm +
                           "' is not supported (this reducto knows " + kChunkingAlgorithm +
                           "): upgrade reducto");
  }
  ChunkerParams& p = info->chunking;
  RETURN_IF_ERROR(fields.U32(*chunking, "chunking.min", &p.min_size));
  RETURN_IF_ERROR(fields.U32(*chunking, "chunking.avg", &p.avg_size));
  RETURN_IF_ERROR(fields.U32(*chunking, "chunking.max", &p.max_size));
  uint64_t normalization = 0;
  RETURN_IF_ERROR(fields.Unsigned(*chunking, "chunking.normalization", 3, &normalization));
  p.normalization = static_cast<int>(normalization);
  Status valid = p.Validate();
  if (!valid.ok()) return Status::Corrupt(fields.where() + ": " + valid.message() + kDamaged);
  std::string weak_key;
  RETURN_IF_ERROR(fields.String(root, "weak_key", &weak_key));
  if (weak_key != kWeakKeyAlgorithm) {
    return Status::Corrupt(fields.where() + ": weak key '" + weak_key +
                           "' is not supported (this reducto knows " + kWeakKeyAlgorithm +
                           "): upgrade reducto");
  }
  return Status::Ok();
}

// segments[].corpus of a version: the id of the ancestor holding the segment, present
// on a prefix of the segments (the ancestors'), absent on the rest (at least one: the
// version's own). Appends to info->segment_owners.
Status ParseSegmentOwner(const Json& entry, const FieldReader& fields, const std::string& name,
                         CorpusInfo* info) {
  bool after_own = info->segments.size() > info->segment_owners.size();
  if (!entry.contains("corpus")) {
    if (info->segments.empty()) {
      return fields.Error(name + ".corpus",
                          "is missing: a version lists its parent's segments first");
    }
    return Status::Ok();
  }
  std::string owner;
  RETURN_IF_ERROR(fields.String(entry, name + ".corpus", &owner));
  if (!IsUuid(owner) || owner == info->id) {
    return fields.Error(name + ".corpus", "must be the lowercase UUID of an ancestor corpus");
  }
  if (after_own) {
    return fields.Error(name + ".corpus",
                        "follows the corpus's own segments: the ancestors' come first");
  }
  info->segment_owners.push_back(std::move(owner));
  return Status::Ok();
}

// segments[].fine: optional (docs/corpus.md, "Fine index"); readers before it ignore it.
Status ParseFineIndex(const Json& entry, const FieldReader& fields, const std::string& name,
                      CorpusSegment* segment) {
  if (!entry.contains("fine")) return Status::Ok();
  const Json* fine = nullptr;
  RETURN_IF_ERROR(fields.Object(entry, name + ".fine", &fine));
  FineIndexFile file;
  RETURN_IF_ERROR(fields.RelativePath(*fine, name + ".fine.file", &file.file));
  RETURN_IF_ERROR(fields.U64(*fine, name + ".fine.size", &file.size));
  RETURN_IF_ERROR(fields.Blake3Hex(*fine, name + ".fine.blake3", &file.blake3));
  RETURN_IF_ERROR(fields.U32(*fine, name + ".fine.stride", &file.stride));
  if (!std::has_single_bit(file.stride) || file.stride > kFineMaxStride) {
    return fields.Error(name + ".fine.stride",
                        "must be a power of two up to " + std::to_string(kFineMaxStride));
  }
  segment->fine = std::move(file);
  return Status::Ok();
}

// The bytes of a segment file as stored: an encrypted segment holds each chunk sealed.
uint64_t StoredSegmentSize(const CorpusInfo& info, uint64_t size) {
  return info.is_encrypted() ? CorpusKeys::SealedSize(size) : size;
}

// segments[].pieces: optional (docs/corpus.md, "Piece tables"); readers before it ignore
// it. Its size must be that of the table of a segment of `stored_size` bytes.
Status ParsePieceTable(const Json& entry, const FieldReader& fields, const std::string& name,
                       uint64_t stored_size, CorpusSegment* segment) {
  if (!entry.contains("pieces")) return Status::Ok();
  const Json* pieces = nullptr;
  RETURN_IF_ERROR(fields.Object(entry, name + ".pieces", &pieces));
  PieceTableFile file;
  RETURN_IF_ERROR(fields.RelativePath(*pieces, name + ".pieces.file", &file.file));
  RETURN_IF_ERROR(fields.U64(*pieces, name + ".pieces.size", &file.size));
  RETURN_IF_ERROR(fields.Blake3Hex(*pieces, name + ".pieces.blake3", &file.blake3));
  RETURN_IF_ERROR(fields.U32(*pieces, name + ".pieces.piece_size", &file.piece_size));
  if (!ValidPieceSize(file.piece_size)) {
    return fields.Error(name + ".pieces.piece_size",
                        "must be a power of two from " + std::to_string(kMinPieceSize) + " to " +
                            std::to_string(kMaxPieceSize));
  }
  const uint64_t expected = PieceTableFileSize(stored_size, file.piece_size);
  if (file.size != expected) {
    return fields.Error(name + ".pieces.size",
                        "is " + std::to_string(file.size) + ", but the table of a " +
                            std::to_string(stored_size) + "-byte segment file has " +
                            std::to_string(expected) + " bytes");
  }
  segment->pieces = std::move(file);
  return Status::Ok();
}

Status ParseSegments(const Json& root, const FieldReader& fields, CorpusInfo* info) {
  const Json* segments = nullptr;
  RETURN_IF_ERROR(fields.Member(root, "segments", &segments));
  if (!segments->is_array() || segments->empty()) {
    return fields.Error("segments", "must be a non-empty array");
  }
  uint64_t next_base = 0;
  for (size_t i = 0; i < segments->size(); ++i) {
    std::string name = "segments[" + std::to_string(i) + "]";
    const Json& entry = (*segments)[i];
    if (!entry.is_object()) return fields.Error(name, "must be an object");
    CorpusSegment segment;
    RETURN_IF_ERROR(fields.RelativePath(entry, name + ".file", &segment.file));
    RETURN_IF_ERROR(fields.U64(entry, name + ".base", &segment.base));
    RETURN_IF_ERROR(fields.U64(entry, name + ".size", &segment.size));
    RETURN_IF_ERROR(fields.Blake3Hex(entry, name + ".blake3", &segment.blake3));
    RETURN_IF_ERROR(ParseFineIndex(entry, fields, name, &segment));
    RETURN_IF_ERROR(ParsePieceTable(entry, fields, name, StoredSegmentSize(*info, segment.size),
                                    &segment));
    if (info->is_version()) RETURN_IF_ERROR(ParseSegmentOwner(entry, fields, name, info));
    if (segment.base != next_base) {
      return fields.Error(name + ".base", "is " + std::to_string(segment.base) +
                                              ", but the segments before it end at " +
                                              std::to_string(next_base));
    }
    if (segment.size > std::numeric_limits<uint64_t>::max() - next_base) {
      return fields.Error(name + ".size", "overflows the 64-bit corpus address space");
    }
    next_base += segment.size;
    info->segments.push_back(std::move(segment));
  }
  if (info->is_version() && info->segment_owners.size() == info->segments.size()) {
    return fields.Error("segments", "has no segment of the corpus's own (the last has no 'corpus')");
  }
  return Status::Ok();
}

Status ParseIndexAndCounts(const Json& root, const FieldReader& fields, CorpusInfo* info) {
  const Json* index = nullptr;
  RETURN_IF_ERROR(fields.Object(root, "index", &index));
  std::string dir;
  RETURN_IF_ERROR(fields.String(*index, "index.dir", &dir));
  if (dir != kIndexDirName) return fields.Error("index.dir", "must be \"index\"");
  RETURN_IF_ERROR(fields.U64(*index, "index.entries", &info->index_entries));
  RETURN_IF_ERROR(fields.Blake3Hex(*index, "index.blake3", &info->index_digest));
  RETURN_IF_ERROR(fields.U64(root, "input_bytes", &info->input_bytes));
  RETURN_IF_ERROR(fields.U64(root, "chunk_count", &info->chunk_count));
  return fields.U64(root, "unique_chunks", &info->unique_chunks);
}

Result<CorpusInfo> ParseRoot(const Json& root, const std::string& where) {
  FieldReader fields(where);
  if (!root.is_object()) {
    return Status::Corrupt(where + " is not a JSON object" + kDamaged);
  }
  CorpusInfo info;
  RETURN_IF_ERROR(ParseHeader(root, fields, &info));
  RETURN_IF_ERROR(ParseChunking(root, fields, &info));
  RETURN_IF_ERROR(ParseSegments(root, fields, &info));
  RETURN_IF_ERROR(ParseIndexAndCounts(root, fields, &info));
  return info;
}

OrderedJson ManifestJson(const CorpusInfo& info) {
  OrderedJson j;
  j["format"] = kManifestFormat;
  j["format_version"] = info.is_version()     ? kManifestFormatVersionWithParent
                        : info.is_encrypted() ? kManifestFormatVersionEncrypted
                                              : kManifestFormatVersion;
  j["id"] = info.id;
  j["parent"] = info.parent_id ? OrderedJson(*info.parent_id) : OrderedJson(nullptr);
  if (info.is_version()) j["parent_manifest_blake3"] = ToHex(*info.parent_manifest_digest);
  j["created"] = info.created;
  j["builder"] = info.builder;
  OrderedJson& chunking = j["chunking"];
  chunking["algorithm"] = kChunkingAlgorithm;
  chunking["min"] = info.chunking.min_size;
  chunking["avg"] = info.chunking.avg_size;
  chunking["max"] = info.chunking.max_size;
  chunking["normalization"] = info.chunking.normalization;
  j["weak_key"] = kWeakKeyAlgorithm;
  if (info.is_encrypted()) {
    OrderedJson& encryption = j["encryption"];
    encryption["pack_cipher"] = info.encryption;
    encryption["pack_chunk_size"] = kPackChunkSize;
    encryption["index_cipher"] = kIndexCipher;
    encryption["data_key"] = kDataKeyFileName;
  }
  OrderedJson segments = OrderedJson::array();
  for (size_t i = 0; i < info.segments.size(); ++i) {
    const CorpusSegment& s = info.segments[i];
    OrderedJson entry;
    entry["file"] = s.file;
    entry["base"] = s.base;
    entry["size"] = s.size;
    entry["blake3"] = ToHex(s.blake3);
    if (s.fine) {
      OrderedJson& fine = entry["fine"];
      fine["file"] = s.fine->file;
      fine["size"] = s.fine->size;
      fine["blake3"] = ToHex(s.fine->blake3);
      fine["stride"] = s.fine->stride;
    }
    if (s.pieces) {
      OrderedJson& pieces = entry["pieces"];
      pieces["file"] = s.pieces->file;
      pieces["size"] = s.pieces->size;
      pieces["blake3"] = ToHex(s.pieces->blake3);
      pieces["piece_size"] = s.pieces->piece_size;
    }
    if (i < info.segment_owners.size()) entry["corpus"] = info.segment_owners[i];
    segments.push_back(std::move(entry));
  }
  j["segments"] = std::move(segments);
  OrderedJson& index = j["index"];
  index["dir"] = kIndexDirName;
  index["entries"] = info.index_entries;
  index["blake3"] = ToHex(info.index_digest);
  j["input_bytes"] = info.input_bytes;
  j["chunk_count"] = info.chunk_count;
  j["unique_chunks"] = info.unique_chunks;
  return j;
}

// Never throws: bytes that are not UTF-8 (a path can be anything) are replaced.
std::string Dump(const OrderedJson& j) {
  return j.dump(2, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
}

// The size of the regular file `name` of the corpus in `storage`, which the manifest
// names as a `what` ("pack segment", "fine index"): Corrupt when it is missing or not a
// file.
Result<uint64_t> CorpusFileSize(const Storage& storage, const std::string& name,
                                const std::string& what) {
  Result<uint64_t> size = storage.Size(name);
  if (size.ok()) return size;
  const std::string path = storage.PathOf(name);
  switch (size.status().code()) {
    case StatusCode::kNotFound:
      return Status::Corrupt(what + " " + path + " is missing" + kDamaged);
    case StatusCode::kInvalidArgument:
      return Status::Corrupt(what + " " + path + " is not a regular file" + kDamaged);
    default:
      return size.status().WithContext(what + " " + path);
  }
}

Status CheckPieceTableFile(const Storage& storage, const CorpusSegment& segment) {
  if (!segment.pieces) return Status::Ok();
  ASSIGN_OR_RETURN(uint64_t size, CorpusFileSize(storage, segment.pieces->file, "piece table"));
  if (size != segment.pieces->size) {
    return Status::Corrupt("piece table " + storage.PathOf(segment.pieces->file) + " is " +
                           std::to_string(size) + " bytes, the manifest says " +
                           std::to_string(segment.pieces->size) + kDamaged);
  }
  return Status::Ok();
}

// The corpus's own segment files, fine indexes and piece tables; an ancestor's are checked by
// ReadCorpusChain.
Status CheckSegmentFiles(const Storage& storage, const CorpusInfo& info) {
  for (size_t i = info.segment_owners.size(); i < info.segments.size(); ++i) {
    const CorpusSegment& segment = info.segments[i];
    std::string path = storage.PathOf(segment.file);
    ASSIGN_OR_RETURN(uint64_t size, CorpusFileSize(storage, segment.file, "pack segment"));
    // An encrypted segment holds each chunk sealed, a tag longer.
    uint64_t expected =
        info.is_encrypted() ? CorpusKeys::SealedSize(segment.size) : segment.size;
    if (size != expected) {
      return Status::Corrupt("pack segment " + path + " is " + std::to_string(size) +
                             " bytes, expected " + std::to_string(expected) + " for the " +
                             std::to_string(segment.size) + " bytes the manifest says" + kDamaged);
    }
    RETURN_IF_ERROR(CheckPieceTableFile(storage, segment));
    if (!segment.fine) continue;
    path = storage.PathOf(segment.fine->file);
    ASSIGN_OR_RETURN(size, CorpusFileSize(storage, segment.fine->file, "fine index"));
    if (size != segment.fine->size) {
      return Status::Corrupt("fine index " + path + " is " + std::to_string(size) +
                             " bytes, the manifest says " + std::to_string(segment.fine->size) +
                             kDamaged);
    }
  }
  return Status::Ok();
}

std::string NotACorpus(const std::string& dir, const std::string& why) {
  return dir + " is not a Reducto corpus (" + why + ")";
}

}  // namespace

std::string SegmentFileName(uint32_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "%s/%06u%s", kPackDirName, index, kSegmentSuffix);
  return name;
}

std::string SerializeManifest(const CorpusInfo& info) { return Dump(ManifestJson(info)); }

Result<CorpusInfo> ParseManifest(const std::string& text, const std::string& where) {
  try {
    Json root = Json::parse(text);
    return ParseRoot(root, where);
  } catch (const Json::exception& e) {
    return Status::Corrupt(where + " is not valid JSON (" + e.what() + ")" + kDamaged);
  }
}

std::string NewCorpusId() {
  uint8_t b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // Version 4.
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // Variant 10xx (RFC 4122).
  std::string hex = ToHex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

Result<CorpusInfo> ReadManifest(const Storage& storage) {
  Result<std::string> text = storage.ReadSmall(kManifestFileName, kMaxManifestBytes);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) {
    return Status::NotFound(NotACorpus(storage.location(), "no manifest.json"));
  }
  if (!text.ok()) return text.status();
  ASSIGN_OR_RETURN(CorpusInfo info, ParseManifest(*text, storage.PathOf(kManifestFileName)));
  info.path = storage.location();
  info.manifest_digest = Blake3({reinterpret_cast<const uint8_t*>(text->data()), text->size()});
  return info;
}

Result<CorpusInfo> ReadCorpusInfo(const Storage& storage) {
  ASSIGN_OR_RETURN(CorpusInfo info, ReadManifest(storage));
  RETURN_IF_ERROR(CheckSegmentFiles(storage, info));
  return info;
}

Result<CorpusInfo> ReadManifestFile(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return Status::NotFound("corpus " + dir +
                              " not found: build one with `reducto corpus build -o " + dir +
                              " FILES...`");
    }
    return ErrnoStatus("open corpus", dir, errno);
  }
  if (!S_ISDIR(st.st_mode)) return Status::NotFound(NotACorpus(dir, "not a directory"));
  return ReadManifest(LocalDirectoryStorage(dir));
}

Result<CorpusInfo> ReadCorpusInfo(const std::string& dir) {
  ASSIGN_OR_RETURN(CorpusInfo info, ReadManifestFile(dir));
  RETURN_IF_ERROR(CheckSegmentFiles(LocalDirectoryStorage(dir), info));
  return info;
}

// ---- CorpusInfo ----

size_t CorpusInfo::fine_index_count() const {
  size_t count = 0;
  for (const CorpusSegment& s : segments) count += s.fine.has_value();
  return count;
}

uint64_t CorpusInfo::pack_bytes() const {
  uint64_t total = 0;
  for (const CorpusSegment& s : segments) total += s.size;
  return total;
}

uint64_t CorpusInfo::own_pack_bytes() const {
  uint64_t total = 0;
  for (size_t i = segment_owners.size(); i < segments.size(); ++i) total += segments[i].size;
  return total;
}

std::string CorpusInfo::ToJson() const {
  OrderedJson j;
  j["path"] = path;
  j["manifest_digest"] = ToHex(manifest_digest);
  OrderedJson manifest = ManifestJson(*this);
  for (auto& [key, value] : manifest.items()) j[key] = std::move(value);
  j["pack_bytes"] = pack_bytes();
  j["new_bytes"] = own_pack_bytes();
  return Dump(j);
}

std::string CorpusInfo::ToText() const {
  auto line = [](const char* label, const std::string& value) {
    char head[16];
    std::snprintf(head, sizeof head, "%-10s ", label);
    return head + value + "\n";
  };
  auto bytes = [](uint64_t n) { return HumanBytes(n) + " (" + std::to_string(n) + " bytes)"; };
  // What this corpus stores itself: for a root, the whole pack.
  const uint64_t own = own_pack_bytes();
  std::string ratio = "n/a";
  if (own > 0) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2fx",
                  static_cast<double>(input_bytes) / static_cast<double>(own));
    ratio = text;
  }
  std::string parent = parent_id.value_or("(none)");
  if (parent_manifest_digest) parent += " (manifest blake3 " + ToHex(*parent_manifest_digest) + ")";
  std::string out;
  out += line("corpus", id);
  out += line("path", path);
  out += line("parent", parent);
  out += line("created", created);
  out += line("builder", builder);
  out +=
      line("chunking", std::string(kChunkingAlgorithm) + ", avg " + HumanBytes(chunking.avg_size) +
                           " (min " + HumanBytes(chunking.min_size) + ", max " +
                           HumanBytes(chunking.max_size) + "), normalization " +
                           std::to_string(chunking.normalization));
  out += line("input", HumanBytes(input_bytes) + " (" + std::to_string(input_bytes) +
                           " bytes) in " + std::to_string(chunk_count) + " chunks");
  out += line("pack", bytes(own) + " in " + std::to_string(unique_chunks) + " unique chunks");
  if (is_version()) {
    out += line("new bytes", bytes(own) +
                                 ": what a receiver that has the parent must fetch, with the "
                                 "index and manifest");
    out += line("space", bytes(pack_bytes()) + ": the address space, the ancestors' " +
                             std::to_string(segment_owners.size()) + " segment(s) first");
  }
  out += line("dedup", ratio + " (input / pack)");
  if (is_encrypted()) {
    out += line("encrypted", "pack " + encryption + " in " + HumanBytes(kPackChunkSize) +
                                 " chunks, index " + kIndexCipher + ", key in " +
                                 kDataKeyFileName + " (sizes and digests are of the plaintext)");
  }
  out += line("index", std::to_string(index_entries) + " entries, blake3 " + ToHex(index_digest));
  out += line("manifest", "blake3 " + ToHex(manifest_digest));
  out += line("segments", std::to_string(segments.size()));
  for (size_t i = 0; i < segments.size(); ++i) {
    const CorpusSegment& s = segments[i];
    out += "  " + s.file + "  base " + std::to_string(s.base) + "  " + HumanBytes(s.size) +
           "  blake3 " + ToHex(s.blake3) +
           (i < segment_owners.size() ? "  of corpus " + segment_owners[i] : "") + "\n";
    if (s.fine) {
      out += "    " + s.fine->file + "  " + HumanBytes(s.fine->size) + "  one position in " +
             std::to_string(s.fine->stride) + "  blake3 " + ToHex(s.fine->blake3) + "\n";
    }
    if (s.pieces) {
      out += "    " + s.pieces->file + "  " + HumanBytes(s.pieces->size) + "  pieces of " +
             HumanBytes(s.pieces->piece_size) + "  blake3 " + ToHex(s.pieces->blake3) + "\n";
    }
  }
  return out;
}

}  // namespace reducto
