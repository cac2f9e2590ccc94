#include "corpus/corpus_reader.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <new>
#include <optional>
#include <thread>

#include "corpus/chunk_index.h"
#include "corpus/corpus_chain.h"
#include "corpus/corpus_format.h"
#include "corpus/fine_index.h"
#include "crypto/corpus_keys.h"
#include "hashing/weak_key.h"
#include "repository/piece_table.h"
#include "storage/local_directory_storage.h"
#include "util/file.h"
#include "util/memory.h"

namespace reducto {
namespace {

constexpr char kDamaged[] = ": the corpus is damaged; rebuild or re-fetch it";

std::string OutOfRange(uint64_t address, uint64_t length, uint64_t size) {
  std::string range =
      address <= UINT64_MAX - length
          ? "copy [" + std::to_string(address) + "," + std::to_string(address + length) + ")"
          : "copy of " + std::to_string(length) + " bytes at " + std::to_string(address);
  return range + " is outside the corpus (" + std::to_string(size) +
         " bytes): the data was made with another corpus or is damaged";
}

// A pack segment's bytes: a view of the storage's file (mapped, for a local directory);
// where the storage gives no view, a copy read whole through ranged reads; for an
// encrypted corpus, the decrypted plaintext.
struct Segment {
  std::unique_ptr<StorageFile> file;  // Null for a copy.
  MappedFile copy;                    // Anonymous memory; empty for a view.
  std::span<const uint8_t> bytes;

  void DropResidentPages() const {
    if (file) file->DropResidentPages();
  }
};

// A corpus and its ancestors (one element in `chain` for a root corpus): the segments
// of the whole address space mapped, one index per member.
class MappedCorpusReader final : public CorpusReader {
 public:
  MappedCorpusReader(std::vector<CorpusInfo> chain, std::vector<Segment> segments,
                     std::vector<std::unique_ptr<ChunkIndexReader>> indexes,
                     std::vector<std::optional<FineIndex>> fine, uint64_t cache_bytes)
      : chain_(std::move(chain)),
        segments_(std::move(segments)),
        indexes_(std::move(indexes)),
        fine_(std::move(fine)),
        size_(chain_.front().pack_bytes()),
        cache_bytes_(cache_bytes),
        pack_budget_(cache_bytes - cache_bytes / 4),
        baseline_(ResidentFileBytes().value_or(0)) {
    for (size_t i = 0; i < fine_.size(); ++i) {
      if (fine_[i]) fine_views_.push_back({&*fine_[i], info().segments[i].base});
    }
  }

  const CorpusInfo& info() const override { return chain_.front(); }
  uint64_t size() const override { return size_; }
  uint64_t cache_bytes() const override { return cache_bytes_; }

  // Counting the bytes read is not enough: a page fault maps the neighbouring pages
  // that are in the page cache too (fault-around), so scattered small copies map much
  // more than they read. So every kCheckBytes read, the mapped file pages are measured.
  bool NoteRead(uint64_t bytes) const override {
    if (read_since_check_.fetch_add(bytes) + bytes < kCheckBytes) return false;
    std::lock_guard lock(check_mutex_);
    read_since_check_.store(0);
    std::optional<uint64_t> mapped = MappedBytes();
    if (mapped && *mapped <= pack_budget_) return false;
    // The pack's pages go first: the target reads the pack about in order, so few of
    // them are read again, while the fine indexes are read at random and nearly every
    // look-up would fault a page back in (the dump pair, one thread, on a corpus whose
    // pages the cache held as small folios: 48,074 -> 24,836 page faults, 0.81 -> 0.65 s).
    // They go too when they alone hold 3/4 of the share.
    for (const Segment& segment : segments_) segment.DropResidentPages();
    mapped = MappedBytes();
    if (!mapped || *mapped > pack_budget_ / 4 * 3) {
      for (const FineIndexView& fine : fine_views_) fine.index->DropResidentPages();
    }
    return true;
  }

  std::span<const FineIndexView> fine_indexes() const override { return fine_views_; }

  // The file pages this process maps beyond those it mapped when the reader opened (the
  // program and its libraries): about the pack's and the fine indexes'.
  std::optional<uint64_t> MappedBytes() const {
    std::optional<uint64_t> mapped = ResidentFileBytes();
    if (!mapped) return std::nullopt;
    return *mapped > baseline_ ? *mapped - baseline_ : 0;
  }

  // The version's own index first, then its ancestors': each holds the chunks that were
  // new in it, so a chunk is in exactly one of them.
  Status Lookup(uint64_t weak_key, std::vector<ChunkCandidate>* out) const override {
    for (const auto& index : indexes_) RETURN_IF_ERROR(index->Lookup(weak_key, out));
    return Status::Ok();
  }

  Result<std::span<const uint8_t>> Read(uint64_t address, uint64_t length,
                                        std::vector<uint8_t>* scratch) const override {
    if (length > size_ || address > size_ - length) {
      return Status::Integrity(OutOfRange(address, length, size_));
    }
    if (length == 0) return std::span<const uint8_t>();
    size_t i = SegmentAt(address);
    uint64_t offset = address - info().segments[i].base;
    if (length <= info().segments[i].size - offset) {
      return segments_[i].bytes.subspan(offset, length);
    }
    return Gather(i, offset, length, scratch);
  }

  Status ReadInto(uint64_t address, std::span<uint8_t> out,
                  std::vector<uint8_t>* scratch) const override {
    if (out.size() < kReadAtMin) return CorpusReader::ReadInto(address, out, scratch);
    if (out.size() > size_ || address > size_ - out.size()) {
      return Status::Integrity(OutOfRange(address, out.size(), size_));
    }
    const size_t i = SegmentAt(address);
    return CopyOut(i, address - info().segments[i].base, out, Through::kReadAt);
  }

  // Through the piece tables, each piece once; a segment without one (or whose table
  // cannot be read) whole, once; an encrypted member's segments need nothing (every
  // chunk was authenticated when it was decrypted).
  Status VerifyRange(uint64_t address, uint64_t length) const override;

  // Element 0 is info(); then the parent, and so on.
  const std::vector<CorpusInfo>& chain() const { return chain_; }
  const ChunkIndexReader& index(size_t member) const { return *indexes_[member]; }
  std::span<const uint8_t> segment_bytes(size_t i) const { return segments_[i].bytes; }
  // The fine index of segment i, or nullptr.
  const FineIndex* segment_fine_index(size_t i) const {
    return fine_[i] ? &*fine_[i] : nullptr;
  }

 private:
  // The segment holding `address`. REQUIRES: address < size_. The last segment whose
  // base is <= address is never empty: an empty one shares its base with the next.
  size_t SegmentAt(uint64_t address) const {
    auto it = std::upper_bound(info().segments.begin(), info().segments.end(), address,
                               [](uint64_t a, const CorpusSegment& s) { return a < s.base; });
    return static_cast<size_t>(it - info().segments.begin()) - 1;
  }

  // Copies a range that spans segments into *scratch. REQUIRES: the range is in bounds.
  Result<std::span<const uint8_t>> Gather(size_t i, uint64_t offset, uint64_t length,
                                          std::vector<uint8_t>* scratch) const {
    try {
      scratch->resize(length);
    } catch (const std::bad_alloc&) {
      return Status::Unavailable(
          "cannot allocate " + std::to_string(length) +
          " bytes to read a corpus range: free memory or use smaller blocks");
    }
    RETURN_IF_ERROR(CopyOut(i, offset, *scratch, Through::kView));
    return std::span<const uint8_t>(scratch->data(), length);
  }

  // How CopyOut reads a segment that is a mapped file: through the mapping, or with the
  // file's ReadAt (from the page cache, mapping nothing).
  enum class Through { kView, kReadAt };

  // Copies the bytes from `offset` in segment i on, into the following segments as far
  // as `out` reaches. REQUIRES: the range is in bounds.
  Status CopyOut(size_t i, uint64_t offset, std::span<uint8_t> out, Through through) const {
    for (; !out.empty(); ++i, offset = 0) {
      const Segment& segment = segments_[i];
      const size_t n = static_cast<size_t>(
          std::min<uint64_t>(out.size(), segment.bytes.size() - offset));
      if (through == Through::kReadAt && segment.file) {
        if (Status s = segment.file->ReadAt(offset, out.first(n)); !s.ok()) {
          return s.WithContext("reading pack segment " + std::to_string(i) + " of corpus " +
                               info().id);
        }
      } else {
        std::copy_n(segment.bytes.data() + offset, n, out.data());
      }
      out = out.subspan(n);
    }
    return Status::Ok();
  }

  // What VerifyRange checked of one segment.
  struct RangeChecks {
    bool whole = false;               // All of it.
    std::optional<PieceTable> table;  // Loaded on first use.
    std::vector<bool> pieces;         // Pieces checked.
  };
  // VerifyRange within segment i: bytes [offset, end) of it.
  Status VerifySegmentRange(size_t i, uint64_t offset, uint64_t end) const;

  std::vector<CorpusInfo> chain_;
  std::vector<Segment> segments_;
  std::vector<std::unique_ptr<ChunkIndexReader>> indexes_;
  std::vector<std::optional<FineIndex>> fine_;  // Per segment; empty without one.
  std::vector<FineIndexView> fine_views_;       // Of those that have one.
  uint64_t size_;
  uint64_t cache_bytes_;
  uint64_t pack_budget_;  // The mapped file pages above which they are dropped.
  uint64_t baseline_;     // ResidentFileBytes() when the reader opened.
  mutable std::mutex checks_mutex_;
  mutable std::vector<RangeChecks> checks_;  // Per segment, once VerifyRange ran.
  static constexpr uint64_t kCheckBytes = 4u << 20;
  // ReadInto reads ranges from this size on with ReadAt: a read costs a system call,
  // a fault maps 16 pages.
  static constexpr size_t kReadAtMin = 64u << 10;
  mutable std::atomic<uint64_t> read_since_check_{0};
  mutable std::mutex check_mutex_;
};

}  // namespace

Status CorpusReader::ReadInto(uint64_t address, std::span<uint8_t> out,
                              std::vector<uint8_t>* scratch) const {
  ASSIGN_OR_RETURN(std::span<const uint8_t> bytes, Read(address, out.size(), scratch));
  if (bytes.size() != out.size()) {
    return Status::Integrity("the corpus returned " + std::to_string(bytes.size()) +
                             " bytes for a read of " + std::to_string(out.size()) +
                             ": the corpus is damaged");
  }
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return Status::Ok();
}

namespace {

// The cache size to use for `requested` bytes: see CorpusReaderOptions.
uint64_t EffectiveCacheBytes(uint64_t requested) {
  uint64_t cache = requested == 0 ? kDefaultCorpusCacheSize : requested;
  if (std::optional<uint64_t> available = AvailableMemoryBytes()) {
    cache = std::min(cache, *available / 4);
  }
  return std::max(cache, kMinCorpusCacheBytes);
}

// The whole of `file` (`path` in messages) in anonymous memory, read through ranged
// reads: for a storage that gives no view.
Result<MappedFile> ReadWhole(const StorageFile& file, const std::string& path) {
  constexpr uint64_t kStep = 16u << 20;
  ASSIGN_OR_RETURN(MappedFile copy, MappedFile::Anonymous(file.size(), "reading " + path));
  std::span<uint8_t> out = copy.fill();
  for (uint64_t at = 0; at < out.size(); at += kStep) {
    RETURN_IF_ERROR(file.ReadAt(at, out.subspan(at, std::min<uint64_t>(kStep, out.size() - at))));
  }
  return copy;
}

// Segment `number` of an encrypted corpus, `name` in `storage`, decrypted into anonymous
// memory: every sealed chunk authenticates before any of it is used.
Result<MappedFile> DecryptSegment(const Storage& storage, const std::string& name,
                                  uint32_t number, uint64_t size, const CorpusKeys& keys) {
  const std::string path = storage.PathOf(name);
  ASSIGN_OR_RETURN(std::unique_ptr<StorageFile> file, storage.Open(name, FileAccess::kView));
  if (file->size() != CorpusKeys::SealedSize(size)) {
    return Status::Corrupt("encrypted pack segment " + path + " is " +
                           std::to_string(file->size()) + " bytes, expected " +
                           std::to_string(CorpusKeys::SealedSize(size)) + " for the " +
                           std::to_string(size) + " bytes the manifest says" + kDamaged);
  }
  MappedFile read;  // The sealed bytes, where the storage gives no view.
  std::optional<std::span<const uint8_t>> view = file->view();
  if (!view) {
    ASSIGN_OR_RETURN(read, ReadWhole(*file, path));
    view = read.bytes();
  }
  ASSIGN_OR_RETURN(MappedFile plain, MappedFile::Anonymous(size, "decrypting " + path));
  std::span<const uint8_t> in = *view;
  std::span<uint8_t> out = plain.fill();
  const uint64_t chunks = (size + kPackChunkSize - 1) / kPackChunkSize;
  if (chunks == 0) return plain;
  // Every core opens a share of the chunks; the first bad chunk is reported.
  std::atomic<uint64_t> first_bad{chunks};
  auto open_share = [&](uint64_t first, uint64_t stride) {
    for (uint64_t chunk = first; chunk < chunks; chunk += stride) {
      const uint64_t at = chunk * kPackChunkSize;
      const uint64_t n = std::min<uint64_t>(kPackChunkSize, size - at);
      std::span<const uint8_t> sealed_chunk =
          in.subspan(chunk * (kPackChunkSize + kPackTagBytes), n + kPackTagBytes);
      if (!keys.OpenPackChunk(number, chunk, sealed_chunk, out.data() + at)) {
        for (uint64_t seen = first_bad.load(); chunk < seen;) {
          if (first_bad.compare_exchange_weak(seen, chunk)) break;
        }
      }
    }
  };
  const uint64_t threads = std::clamp<uint64_t>(std::thread::hardware_concurrency(), 1, chunks);
  std::vector<std::thread> helpers;
  for (uint64_t t = 1; t < threads; ++t) helpers.emplace_back(open_share, t, threads);
  open_share(0, threads);
  for (std::thread& helper : helpers) helper.join();
  if (first_bad.load() < chunks) {
    return Status::Integrity("encrypted chunk " + std::to_string(first_bad.load()) +
                             " of pack segment " + path + " does not authenticate" + kDamaged);
  }
  return plain;
}

// The pack segments of `chain`'s address space, each from the storage of the member
// that holds it: viewed (mapped), read whole where the storage gives no view, or
// decrypted for an encrypted corpus (a root, so `chain` holds only it).
Result<std::vector<Segment>> OpenSegments(const std::vector<ChainMember>& chain,
                                          const CorpusKeys* keys) {
  const CorpusInfo& info = chain.front().info;
  std::vector<const Storage*> storages = SegmentStorages(chain);
  std::vector<Segment> segments;
  for (size_t i = 0; i < info.segments.size(); ++i) {
    const Storage& storage = *storages[i];
    const std::string& name = info.segments[i].file;
    const uint64_t size = info.segments[i].size;
    Segment segment;
    if (keys != nullptr) {
      ASSIGN_OR_RETURN(segment.copy,
                       DecryptSegment(storage, name, static_cast<uint32_t>(i), size, *keys));
      segment.bytes = segment.copy.bytes();
      segments.push_back(std::move(segment));
      continue;
    }
    ASSIGN_OR_RETURN(std::unique_ptr<StorageFile> file, storage.Open(name, FileAccess::kView));
    if (file->size() != size) {
      return Status::Corrupt("pack segment " + storage.PathOf(name) + " is " +
                             std::to_string(file->size()) + " bytes, manifest says " +
                             std::to_string(size) + kDamaged);
    }
    if (std::optional<std::span<const uint8_t>> view = file->view()) {
      segment.bytes = *view;
      segment.file = std::move(file);
    } else {
      ASSIGN_OR_RETURN(segment.copy, ReadWhole(*file, storage.PathOf(name)));
      segment.bytes = segment.copy.bytes();
    }
    segments.push_back(std::move(segment));
  }
  return segments;
}

// The fine index of each segment of `chain`'s address space (empty for one without).
Result<std::vector<std::optional<FineIndex>>> OpenFineIndexes(
    const std::vector<ChainMember>& chain) {
  const CorpusInfo& info = chain.front().info;
  std::vector<const Storage*> storages = SegmentStorages(chain);
  std::vector<std::optional<FineIndex>> result(info.segments.size());
  for (size_t i = 0; i < info.segments.size(); ++i) {
    const CorpusSegment& segment = info.segments[i];
    if (!segment.fine) continue;
    ASSIGN_OR_RETURN(result[i],
                     FineIndex::Open(*storages[i], segment.fine->file, *segment.fine, segment.size));
  }
  return result;
}

// The corpus keys of an encrypted corpus (nullopt for a plain one). The wrapped key is
// read from a local directory only (CorpusKeys::Open reads a path).
Result<std::optional<CorpusKeys>> OpenKeys(const ChainMember& member, const EnvelopeKey* key) {
  const CorpusInfo& info = member.info;
  if (!info.is_encrypted()) return std::optional<CorpusKeys>();
  if (dynamic_cast<const LocalDirectoryStorage*>(member.source.storage.get()) == nullptr) {
    return Status::Unavailable("corpus " + info.id + " at " + info.path +
                               " is encrypted, and this reducto reads encrypted corpora only "
                               "from a local directory: copy it to one");
  }
  EnvelopeKey none;
  auto keys = CorpusKeys::Open(member.source.storage->PathOf(kDataKeyFileName), key ? *key : none,
                               info.encryption);
  if (!keys.ok()) return keys.status().WithContext("corpus " + info.id + " at " + info.path);
  return std::optional<CorpusKeys>(std::move(keys).value());
}

Result<std::unique_ptr<MappedCorpusReader>> OpenMapped(
    const std::vector<ChainMember>& members, const CorpusReaderOptions& options) {
  const std::string& dir = members.front().info.path;
  for (size_t m = 1; m < members.size(); ++m) {
    if (members[m].info.is_encrypted()) {
      return Status::Corrupt("corpus " + members[m].info.id + " at " + members[m].info.path +
                             " is encrypted and cannot be the parent of " + dir + kDamaged);
    }
  }
  ASSIGN_OR_RETURN(std::optional<CorpusKeys> keys, OpenKeys(members.front(), options.key));
  const CorpusKeys* corpus_keys = keys ? &*keys : nullptr;
  ASSIGN_OR_RETURN(std::vector<Segment> segments, OpenSegments(members, corpus_keys));
  // The members' indexes share the index's quarter of the cache.
  const uint64_t cache_bytes = EffectiveCacheBytes(options.cache_bytes);
  std::vector<std::unique_ptr<ChunkIndexReader>> indexes;
  for (const ChainMember& member : members) {
    ASSIGN_OR_RETURN(std::unique_ptr<ChunkIndexReader> index,
                     ChunkIndexReader::Open(member.source.index_dir,
                                            cache_bytes / 4 / members.size(),
                                            corpus_keys ? &corpus_keys->index_key() : nullptr));
    indexes.push_back(std::move(index));
  }
  ASSIGN_OR_RETURN(std::vector<std::optional<FineIndex>> fine, OpenFineIndexes(members));
  std::vector<CorpusInfo> chain;
  for (const ChainMember& member : members) chain.push_back(member.info);
  return std::make_unique<MappedCorpusReader>(std::move(chain), std::move(segments),
                                              std::move(indexes), std::move(fine), cache_bytes);
}

Result<std::unique_ptr<MappedCorpusReader>> OpenMapped(const std::string& dir,
                                                       const CorpusReaderOptions& options) {
  ASSIGN_OR_RETURN(std::vector<ChainMember> chain, ReadLocalCorpusChain(dir));
  return OpenMapped(chain, options);
}

// BLAKE3 of bytes the reader maps, hashed in steps, each noted to the reader so that
// the mapped pages stay within the cache.
Digest HashMapped(const MappedCorpusReader& reader, std::span<const uint8_t> bytes) {
  constexpr size_t kStep = 16u << 20;
  Blake3Hasher hasher;
  for (size_t at = 0; at < bytes.size(); at += kStep) {
    std::span<const uint8_t> step = bytes.subspan(at, std::min(kStep, bytes.size() - at));
    hasher.Update(step);
    reader.NoteRead(step.size());
  }
  return hasher.Final();
}

// The piece table of segment `i` of `member` (a local corpus), checked against its
// BLAKE3 in the manifest, for a segment of `stored_size` bytes as stored.
Result<PieceTable> LoadPieceTable(const CorpusInfo& member, size_t i, uint64_t stored_size) {
  const CorpusSegment& segment = member.segments[i];
  const LocalDirectoryStorage storage(member.path);
  const std::string table_path = storage.PathOf(segment.pieces->file);
  ASSIGN_OR_RETURN(std::unique_ptr<StorageFile> table_file,
                   storage.Open(segment.pieces->file, FileAccess::kRanges));
  ASSIGN_OR_RETURN(MappedFile table_bytes, ReadWhole(*table_file, table_path));
  if (!DigestEqual(Blake3(table_bytes.bytes()), segment.pieces->blake3)) {
    return Status::Integrity("piece table " + table_path +
                             " does not match its BLAKE3 in the manifest" + kDamaged);
  }
  Result<PieceTable> table = ParsePieceTable(table_bytes.bytes(), stored_size, table_path);
  if (!table.ok()) return Status::Integrity(table.status().message());
  return table;
}

std::string BadPiece(const CorpusInfo& member, size_t i, const PieceTable& table, uint64_t bad) {
  const CorpusSegment& segment = member.segments[i];
  return "pack segment " + member.path + "/" + segment.file + ": piece " + std::to_string(bad) +
         " (bytes " + std::to_string(table.PieceOffset(bad)) + ".." +
         std::to_string(table.PieceOffset(bad) + table.PieceLength(bad)) +
         ") does not match its BLAKE3 in " + member.path + "/" + segment.pieces->file + kDamaged;
}

// Segment `i` of `member` (a local corpus) against its piece table: the table against
// its BLAKE3 in the manifest, then every piece of the segment file as stored (the
// ciphertext of an encrypted corpus) against the table.
Status VerifyPieceTable(const MappedCorpusReader& reader, const CorpusInfo& member, size_t i) {
  const CorpusSegment& segment = member.segments[i];
  const LocalDirectoryStorage storage(member.path);
  std::optional<MappedFile> sealed;
  std::unique_ptr<StorageFile> sealed_file;
  std::span<const uint8_t> stored = reader.segment_bytes(i);
  if (member.is_encrypted()) {
    ASSIGN_OR_RETURN(sealed_file, storage.Open(segment.file, FileAccess::kView));
    if (std::optional<std::span<const uint8_t>> view = sealed_file->view()) {
      stored = *view;
    } else {
      ASSIGN_OR_RETURN(sealed, ReadWhole(*sealed_file, storage.PathOf(segment.file)));
      stored = sealed->bytes();
    }
  }
  ASSIGN_OR_RETURN(PieceTable table, LoadPieceTable(member, i, stored.size()));
  const uint64_t bad = FirstBadPiece(table, stored);
  reader.NoteRead(stored.size());
  if (bad < table.count()) return Status::Integrity(BadPiece(member, i, table, bad));
  return Status::Ok();
}

// The member of `chain` whose directory holds segment i (a version lists its
// ancestors' segments first).
size_t OwnerOf(const std::vector<CorpusInfo>& chain, size_t i) {
  for (size_t m = 0; m < chain.size(); ++m) {
    if (chain[m].segment_owners.size() <= i && i < chain[m].segments.size()) return m;
  }
  return 0;
}

}  // namespace

Status MappedCorpusReader::VerifyRange(uint64_t address, uint64_t length) const {
  if (length == 0) return Status::Ok();
  if (length > size_ || address > size_ - length) {
    return Status::Integrity(OutOfRange(address, length, size_));
  }
  std::lock_guard<std::mutex> lock(checks_mutex_);
  if (checks_.empty()) checks_.resize(segments_.size());
  const uint64_t end = address + length;
  for (size_t i = SegmentAt(address); i < segments_.size(); ++i) {
    const uint64_t base = info().segments[i].base;
    if (base >= end) break;
    const uint64_t size = info().segments[i].size;
    RETURN_IF_ERROR(VerifySegmentRange(i, address > base ? address - base : 0,
                                       std::min(end - base, size)));
  }
  return Status::Ok();
}

Status MappedCorpusReader::VerifySegmentRange(size_t i, uint64_t offset, uint64_t end) const {
  RangeChecks& checks = checks_[i];
  if (checks.whole || offset >= end) return Status::Ok();
  const CorpusInfo& member = chain_[OwnerOf(chain_, i)];
  if (member.is_encrypted()) {
    checks.whole = true;
    return Status::Ok();
  }
  std::span<const uint8_t> bytes = segments_[i].bytes;
  if (!checks.table && member.segments[i].pieces) {
    Result<PieceTable> table = LoadPieceTable(member, i, bytes.size());
    if (table.ok()) {
      checks.pieces.assign(table->count(), false);
      checks.table = std::move(*table);
    }
  }
  if (!checks.table) {  // The whole segment against the manifest.
    if (!DigestEqual(HashMapped(*this, bytes), info().segments[i].blake3)) {
      return Status::Integrity("pack segment " + member.path + "/" + info().segments[i].file +
                               " does not match its BLAKE3 in the manifest" + kDamaged);
    }
    checks.whole = true;
    return Status::Ok();
  }
  const PieceTable& table = *checks.table;
  for (uint64_t p = offset / table.piece_size; p <= (end - 1) / table.piece_size; ++p) {
    if (checks.pieces[p]) continue;
    if (!DigestEqual(Blake3(bytes.subspan(table.PieceOffset(p), table.PieceLength(p))),
                     table.digests[p])) {
      return Status::Integrity(BadPiece(member, i, table, p));
    }
    checks.pieces[p] = true;
  }
  return Status::Ok();
}

namespace {

// The segments that `member` (an element of the reader's chain) holds itself, and
// their fine indexes (whose headers were checked when the reader opened them) and
// piece tables.
// Tells an observer (may be nullptr) the bytes VerifyCorpus checked, every few MiB.
class VerifyProgress {
 public:
  explicit VerifyProgress(ProgressObserver* observer) : observer_(observer) {}
  void Add(uint64_t bytes) {
    progress_.input_bytes += bytes;
    if (observer_ != nullptr && progress_.input_bytes >= next_) Report();
  }
  void Report() {
    if (observer_ == nullptr) return;
    next_ = progress_.input_bytes + kEvery;
    observer_->OnProgress(progress_);
  }

 private:
  static constexpr uint64_t kEvery = 4u << 20;
  ProgressObserver* observer_;
  Progress progress_;
  uint64_t next_ = 0;
};

Status VerifySegments(const MappedCorpusReader& reader, const CorpusInfo& member,
                      VerifyProgress& progress) {
  const std::vector<CorpusSegment>& segments = member.segments;
  for (size_t i = member.segment_owners.size(); i < segments.size(); ++i) {
    // Pieces first, so that damage is located to the piece.
    if (segments[i].pieces) RETURN_IF_ERROR(VerifyPieceTable(reader, member, i));
    if (!DigestEqual(HashMapped(reader, reader.segment_bytes(i)), segments[i].blake3)) {
      return Status::Integrity("pack segment " + member.path + "/" + segments[i].file +
                               " does not match its BLAKE3 in the manifest" + kDamaged);
    }
    const FineIndex* fine = reader.segment_fine_index(i);
    if (fine != nullptr &&
        !DigestEqual(HashMapped(reader, fine->bytes()), segments[i].fine->blake3)) {
      return Status::Integrity("fine index " + member.path + "/" + segments[i].fine->file +
                               " does not match its BLAKE3 in the manifest" + kDamaged);
    }
    progress.Add(segments[i].size);
  }
  return Status::Ok();
}

// Every entry must point at bytes of `own` (the member's own segments) whose BLAKE3
// and weak key it names.
struct AddressRange {
  uint64_t begin = 0, end = 0;
};

Status VerifyEntry(const MappedCorpusReader& reader, const AddressRange& own, uint64_t weak_key,
                   const ChunkCandidate& chunk, std::vector<uint8_t>* scratch) {
  std::string where = "chunk index entry at address " + std::to_string(chunk.address);
  if (chunk.address < own.begin || chunk.address > own.end ||
      chunk.length > own.end - chunk.address) {
    return Status::Integrity(where + " is outside the corpus's own segments [" +
                             std::to_string(own.begin) + "," + std::to_string(own.end) + ")" +
                             kDamaged);
  }
  auto bytes = reader.Read(chunk.address, chunk.length, scratch);
  if (!bytes.ok()) return Status::Integrity(where + ": " + bytes.status().message());
  if (!DigestEqual(Blake3(*bytes), chunk.digest) || WeakKey(*bytes) != weak_key) {
    return Status::Integrity(where + " does not match the pack's bytes" + kDamaged);
  }
  return Status::Ok();
}

// One member of the chain: its own segments, and its index against its manifest.
Status VerifyMember(const MappedCorpusReader& reader, size_t m, VerifyProgress& progress) {
  const CorpusInfo& info = reader.chain()[m];
  RETURN_IF_ERROR(VerifySegments(reader, info, progress));
  size_t first = info.segment_owners.size();
  AddressRange own{first < info.segments.size() ? info.segments[first].base : info.pack_bytes(),
                   info.pack_bytes()};
  std::vector<uint8_t> scratch;
  ASSIGN_OR_RETURN(IndexSummary summary,
                   reader.index(m).Scan([&](uint64_t weak_key, const ChunkCandidate& chunk) {
                     progress.Add(chunk.length);
                     return VerifyEntry(reader, own, weak_key, chunk, &scratch);
                   }));
  if (summary.entries != info.index_entries || !DigestEqual(summary.digest, info.index_digest)) {
    return Status::Integrity(
        "chunk index " + info.path + "/" + kIndexDirName + " holds " +
        std::to_string(summary.entries) + " entries with BLAKE3 " + ToHex(summary.digest) +
        ", manifest says " + std::to_string(info.index_entries) + " with " +
        ToHex(info.index_digest) + kDamaged);
  }
  return Status::Ok();
}


// Opens the corpus that `read_chain` finds. A corpus replaced (--force) while this
// opened it looks incomplete for a moment: its manifest read from the old directory,
// its files from the new one. Replacement is one rename, so a second attempt sees one
// complete corpus; only a corpus that is damaged fails twice.
Result<std::unique_ptr<CorpusReader>> OpenOnceMore(
    const std::function<Result<std::vector<ChainMember>>()>& read_chain,
    const CorpusReaderOptions& options) {
  auto open = [&]() -> Result<std::unique_ptr<MappedCorpusReader>> {
    ASSIGN_OR_RETURN(std::vector<ChainMember> chain, read_chain());
    return OpenMapped(chain, options);
  };
  Result<std::unique_ptr<MappedCorpusReader>> reader = open();
  if (!reader.ok() && reader.status().code() == StatusCode::kCorrupt) reader = open();
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<CorpusReader>(std::move(reader).value());
}

}  // namespace

Result<std::unique_ptr<CorpusReader>> CorpusReader::Open(const std::string& dir,
                                                         const CorpusReaderOptions& options) {
  return OpenOnceMore([&] { return ReadLocalCorpusChain(dir); }, options);
}

Result<std::unique_ptr<CorpusReader>> CorpusReader::Open(std::shared_ptr<const Storage> storage,
                                                         const std::string& index_dir,
                                                         const CorpusReaderOptions& options,
                                                         const ParentFinder& find_parent) {
  CorpusSource root{std::move(storage), index_dir};
  return OpenOnceMore([&] { return ReadCorpusChain(root, find_parent); }, options);
}

Status RefuseEncrypted(const CorpusInfo& info, const std::string& action) {
  if (!info.is_encrypted()) return Status::Ok();
  return Status::Unavailable("corpus " + info.id + " at " + info.path +
                             " is encrypted, and this reducto cannot " + action +
                             " an encrypted corpus yet: build a new one with `reducto corpus "
                             "build --encrypt-key`");
}

Status VerifyCorpus(const std::string& dir, const EnvelopeKey* key, ProgressObserver* progress) {
  CorpusReaderOptions options;
  options.key = key;
  ASSIGN_OR_RETURN(std::unique_ptr<MappedCorpusReader> reader, OpenMapped(dir, options));
  VerifyProgress verified(progress);
  for (size_t m = 0; m < reader->chain().size(); ++m) {
    Status s = VerifyMember(*reader, m, verified);
    if (m > 0 && !s.ok()) {
      const CorpusInfo& ancestor = reader->chain()[m];
      return s.WithContext("ancestor corpus " + ancestor.id + " at " + ancestor.path + " of " +
                           dir);
    }
    RETURN_IF_ERROR(s);
  }
  verified.Report();
  return Status::Ok();
}

}  // namespace reducto
