#include "remote/remote_corpus.h"

#include <sys/stat.h>
#include <utime.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "corpus/manifest.h"
#include "metrics/phase_timer.h"
#include "reducto/signing.h"
#include "remote/corpus_cache.h"
#include "repository/packed_pieces.h"
#include "repository/piece_table.h"
#include "util/file.h"

namespace reducto {

namespace {

constexpr uint64_t kMaxManifestBytes = 16u << 20;
constexpr uint64_t kMaxSignatureBytes = 64u << 10;
constexpr uint32_t kLegacyPieceSize = 65536;  // What `corpus publish` cuts a segment into.
// Pieces whose compressed bytes are at most this far apart are fetched in one request:
// a request costs about a round trip, which at 10-100 Mbit/s is worth a few KiB.
constexpr uint64_t kMergeGapBytes = 16u << 10;
// A request asks for at most this much, so that a batch spreads over the transfers.
constexpr uint64_t kMaxRequestBytes = 2u << 20;

std::span<const uint8_t> Bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// "corpora/<id>/<file>": where a corpus's file is in a repository.
std::string RepositoryPath(const std::string& id, const std::string& file) {
  return "corpora/" + id + "/" + file;
}

// Sets the modification time of <dir>/used to now: the cache evicts by it.
void TouchUsed(const std::string& dir) {
  std::string path = dir + "/used";
  if (WriteFileAtomic(path, {}).ok()) return;
  ::utime(path.c_str(), nullptr);
}

}  // namespace

// ---- FetchContext ----

FetchContext::FetchContext(RemoteSettings settings)
    : settings_(std::move(settings)),
      cache_dir_(settings_.cache_dir.empty() ? DefaultCacheDir() : settings_.cache_dir),
      fetcher_(std::max(1, settings_.parallel)) {}

std::vector<Remote> FetchContext::remotes() const {
  std::vector<Remote> remotes;
  for (const RepositoryConfig& config : settings_.repositories) {
    Remote remote;
    remote.base_url = config.url;
    while (!remote.base_url.empty() && remote.base_url.back() == '/') remote.base_url.pop_back();
    remote.bearer_token = config.token;
    remote.ca_file = config.ca_file;
    remote.timeouts.connect_seconds = config.connect_timeout_seconds;
    remote.timeouts.low_speed_seconds = config.stall_seconds;
    remote.attempts = config.attempts;
    remote.backoff_ms = config.backoff_ms;
    remotes.push_back(std::move(remote));
  }
  return remotes;
}

Result<std::string> FetchContext::FetchWhole(const std::string& path, uint64_t max_bytes,
                                             const BodyCheck& check,
                                             std::vector<std::string>* tried) {
  for (const Remote& remote : remotes()) {
    FetchRequest whole;
    whole.path = path;
    whole.max_bytes = max_bytes;
    std::string text;
    Status s = Fetch(remote, std::span(&whole, 1), [&](size_t, std::string&& body) {
      if (check) RETURN_IF_ERROR(check(body));
      text = std::move(body);
      return Status::Ok();
    });
    if (s.ok()) return text;
    tried->push_back(remote.base_url + ": " + s.message());
  }
  return Status::NotFound(path + " is in none of the repositories");
}

Status FetchContext::Fetch(const Remote& remote, std::span<const FetchRequest> requests,
                           const FetchConsumer& consume) {
  RunMetrics* metrics = settings_.metrics;
  PhaseTimer timer(metrics, Phase::kFetch, CpuTime::kMeasured);  // The wait for the lock too.
  std::lock_guard<std::mutex> lock(mutex_);
  FetchStats stats;
  Status s = fetcher_.Fetch(remote, requests, consume, &stats);
  totals_.requests += stats.requests;
  totals_.retries += stats.retries;
  totals_.bytes_fetched += stats.bytes_received;
  if (metrics != nullptr) {
    metrics->Add(Counter::kFetchRequests, stats.requests);
    metrics->Add(Counter::kFetchRetries, stats.retries);
    metrics->Add(Counter::kFetchBytes, stats.bytes_received);
  }
  return s;
}

void FetchContext::CountCached(uint64_t pieces, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  totals_.pieces_cached += pieces;
  if (settings_.metrics != nullptr) {
    settings_.metrics->Add(Counter::kPiecesCached, pieces);
    settings_.metrics->Add(Counter::kCacheBytes, bytes);
  }
}

void FetchContext::CountFetched(uint64_t pieces) {
  std::lock_guard<std::mutex> lock(mutex_);
  totals_.pieces_fetched += pieces;
  if (settings_.metrics != nullptr) settings_.metrics->Add(Counter::kPiecesFetched, pieces);
}

FetchTotals FetchContext::totals() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return totals_;
}

namespace {

// ---- one segment of a remote corpus ----

// A pack segment in the cache and what verifies its pieces: the piece table, or for a
// segment without one (a corpus built before piece tables), the whole segment's digest.
struct RemoteSegment {
  std::string owner;   // Id of the corpus whose directory holds the file.
  CorpusSegment info;
  std::optional<PieceTable> table;
  uint32_t piece_size = 0;
  uint64_t pieces = 0;
  std::unique_ptr<CachedSegment> cached;
  // Per piece: verified in this process (1) or not yet (0).
  std::unique_ptr<std::atomic<uint8_t>[]> verified;

  uint64_t PieceLength(uint64_t i) const {
    return std::min<uint64_t>(piece_size, info.size - i * piece_size);
  }
  std::span<const uint8_t> Piece(uint64_t i) const {
    return cached->bytes().subspan(i * piece_size, PieceLength(i));
  }
};

class RemoteCorpusReader : public CorpusReader {
 public:
  RemoteCorpusReader(std::shared_ptr<FetchContext> context, CorpusInfo info,
                     std::vector<RemoteSegment> segments, std::vector<FileLock> in_use)
      : context_(std::move(context)),
        info_(std::move(info)),
        segments_(std::move(segments)),
        in_use_(std::move(in_use)) {}

  const CorpusInfo& info() const override { return info_; }
  uint64_t size() const override { return info_.pack_bytes(); }
  bool fetches() const override { return true; }

  // Decoding only: a corpus from a repository has no chunk index here.
  Status Lookup(uint64_t, std::vector<ChunkCandidate>*) const override { return Status::Ok(); }

  Result<std::span<const uint8_t>> Read(uint64_t address, uint64_t length,
                                        std::vector<uint8_t>* scratch) const override {
    if (address > size() || length > size() - address) {
      return Status::InvalidArgument("corpus range " + std::to_string(address) + "+" +
                                     std::to_string(length) + " is outside corpus " + info_.id);
    }
    const std::pair<uint64_t, uint64_t> range{address, length};
    RETURN_IF_ERROR(Prefetch(std::span(&range, 1)));
    size_t s = SegmentAt(address);
    const RemoteSegment& segment = segments_[s];
    if (address - segment.info.base + length <= segment.info.size) {
      return segment.cached->bytes().subspan(address - segment.info.base, length);
    }
    scratch->resize(length);
    for (uint64_t done = 0; done < length;) {
      const RemoteSegment& part = segments_[SegmentAt(address + done)];
      uint64_t offset = address + done - part.info.base;
      uint64_t n = std::min(length - done, part.info.size - offset);
      std::copy_n(part.cached->bytes().data() + offset, n, scratch->data() + done);
      done += n;
    }
    return std::span<const uint8_t>(*scratch);
  }

  Status Prefetch(std::span<const std::pair<uint64_t, uint64_t>> ranges) const override {
    std::vector<std::vector<uint64_t>> wanted(segments_.size());
    for (const auto& [address, length] : ranges) {
      // A range outside the corpus fetches nothing: the decoder refuses its instruction.
      if (address >= size() || length > size() - address) continue;
      AddPieces(address, length, &wanted);
    }
    for (size_t s = 0; s < segments_.size(); ++s) {
      if (!wanted[s].empty()) RETURN_IF_ERROR(Ensure(s, wanted[s]));
    }
    return Status::Ok();
  }

 private:
  size_t SegmentAt(uint64_t address) const {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), address,
                               [](uint64_t a, const RemoteSegment& s) { return a < s.info.base; });
    size_t s = static_cast<size_t>(it - segments_.begin()) - 1;
    while (s + 1 < segments_.size() && segments_[s].info.size == 0) ++s;
    return s;
  }

  // The pieces, not yet verified here, that [address, address + length) touches.
  // REQUIRES: the range lies in the corpus.
  void AddPieces(uint64_t address, uint64_t length,
                 std::vector<std::vector<uint64_t>>* wanted) const {
    uint64_t end = address + length;
    while (address < end) {
      size_t s = SegmentAt(address);
      const RemoteSegment& segment = segments_[s];
      uint64_t offset = address - segment.info.base;
      uint64_t stop = std::min(end - segment.info.base, segment.info.size);
      for (uint64_t i = offset / segment.piece_size; i * segment.piece_size < stop; ++i) {
        if (segment.verified[i].load(std::memory_order_acquire) == 0) (*wanted)[s].push_back(i);
      }
      if (stop <= offset) break;  // Cannot happen inside the corpus; never loop on it.
      address = segment.info.base + stop;
    }
  }

  // Makes pieces `wanted` of segment `s` verified: from the cache when it holds them
  // intact, else fetched.
  Status Ensure(size_t s, std::vector<uint64_t> wanted) const {
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    std::lock_guard<std::mutex> lock(mutex_);
    const RemoteSegment& segment = segments_[s];
    if (!segment.table) return EnsureLegacy(segment);
    ASSIGN_OR_RETURN(std::vector<uint64_t> missing, CheckCached(segment, wanted));
    if (missing.empty()) return Status::Ok();
    std::string dir = CachedCorpusDir(context_->cache_dir(), segment.owner);
    ASSIGN_OR_RETURN(FileLock fetching,
                     FileLock::Acquire(dir + "/fetch.lock", FileLock::Mode::kExclusive, true));
    // Another process may have fetched them while this one waited for the lock.
    ASSIGN_OR_RETURN(missing, CheckCached(segment, missing));
    if (missing.empty()) return Status::Ok();
    return FetchPieces(segment, missing);
  }

  // The pieces of `wanted` that the cache does not hold verified. Marked pieces are
  // checked against the piece table once per process; a damaged one loses its mark.
  Result<std::vector<uint64_t>> CheckCached(const RemoteSegment& segment,
                                            const std::vector<uint64_t>& wanted) const {
    std::vector<uint64_t> missing;
    uint64_t held = 0;
    uint64_t held_bytes = 0;
    for (uint64_t i : wanted) {
      if (segment.verified[i].load(std::memory_order_acquire) != 0) continue;
      ASSIGN_OR_RETURN(bool marked, segment.cached->Marked(i));
      if (marked && DigestEqual(Blake3(segment.Piece(i)), segment.table->digests[i])) {
        segment.verified[i].store(1, std::memory_order_release);
        ++held;
        held_bytes += segment.Piece(i).size();
        continue;
      }
      if (marked) RETURN_IF_ERROR(segment.cached->Unmark(i));
      missing.push_back(i);
    }
    context_->CountCached(held, held_bytes);
    return missing;
  }

  // A segment without a piece table is verified whole: all of it is fetched, then
  // checked against the manifest's digest of the segment.
  Status EnsureLegacy(const RemoteSegment& segment) const {
    if (segment.verified[0].load() != 0) return Status::Ok();
    auto all_marked = [&]() -> Result<bool> {
      for (uint64_t i = 0; i < segment.pieces; ++i) {
        ASSIGN_OR_RETURN(bool marked, segment.cached->Marked(i));
        if (!marked) return false;
      }
      return true;
    };
    std::string dir = CachedCorpusDir(context_->cache_dir(), segment.owner);
    ASSIGN_OR_RETURN(FileLock fetching,
                     FileLock::Acquire(dir + "/fetch.lock", FileLock::Mode::kExclusive, true));
    ASSIGN_OR_RETURN(bool held, all_marked());
    if (!held || !DigestEqual(Blake3(segment.cached->bytes()), segment.info.blake3)) {
      std::vector<uint64_t> all(segment.pieces);
      for (uint64_t i = 0; i < segment.pieces; ++i) all[i] = i;
      for (uint64_t i = 0; i < segment.pieces; ++i) RETURN_IF_ERROR(segment.cached->Unmark(i));
      RETURN_IF_ERROR(FetchPieces(segment, all));
      if (!DigestEqual(Blake3(segment.cached->bytes()), segment.info.blake3)) {
        return Status::Integrity("pack segment " + segment.info.file + " of corpus " +
                                 segment.owner + " fetched from the repositories does not match "
                                 "its BLAKE3 in the manifest: a repository serves damaged data");
      }
      RETURN_IF_ERROR(segment.cached->Mark(all));
    } else {
      context_->CountCached(segment.pieces, segment.cached->bytes().size());
    }
    for (uint64_t i = 0; i < segment.pieces; ++i) segment.verified[i].store(1);
    return Status::Ok();
  }

  // Fetches `missing` (sorted) from the repositories in order, each one asked only for
  // what the ones before could not give.
  Status FetchPieces(const RemoteSegment& segment, std::vector<uint64_t> missing) const {
    std::vector<std::string> tried;
    for (const Remote& remote : context_->remotes()) {
      Status s = FetchFrom(remote, segment, &missing);
      if (missing.empty()) return Status::Ok();
      tried.push_back(remote.base_url + ": " + (s.ok() ? "incomplete" : s.message()));
    }
    std::string message = std::to_string(missing.size()) + " pieces of pack segment " +
                          segment.info.file + " of corpus " + segment.owner +
                          " could not be fetched";
    if (tried.empty()) {
      return Status::NotFound(message + ": no repository is configured: pass --repo URL");
    }
    for (const std::string& line : tried) message += "\n  " + line;
    return Status::Unavailable(message +
                               "\ncheck the repositories (docs/troubleshooting.md), or pass "
                               "-c DIR with a local copy of the corpus");
  }

  // One repository's turn: its packed-piece index, then ranges of its .pz file.
  // Pieces fetched and verified leave `missing`.
  Status FetchFrom(const Remote& remote, const RemoteSegment& segment,
                   std::vector<uint64_t>* missing) const {
    const std::string pz = RepositoryPath(segment.owner, PackedPiecesName(segment.info.file));
    const std::string pzi =
        RepositoryPath(segment.owner, PackedPiecesIndexName(segment.info.file));
    ASSIGN_OR_RETURN(PackedPieceIndex index, PieceIndexOf(remote, pzi, segment));
    std::vector<FetchRequest> requests;
    std::vector<std::pair<size_t, size_t>> spans;  // Indexes into *missing per request.
    PlanRequests(index, *missing, pz, &requests, &spans);
    std::vector<uint8_t> done(missing->size(), 0);
    Status s = context_->Fetch(remote, requests, [&](size_t r, std::string&& body) {
      return StorePieces(segment, index, *missing, spans[r], requests[r].offset, body, &done);
    });
    std::vector<uint64_t> still;
    for (size_t k = 0; k < missing->size(); ++k) {
      if (!done[k]) still.push_back((*missing)[k]);
    }
    context_->CountFetched(missing->size() - still.size());
    *missing = std::move(still);
    return s;
  }

  Result<PackedPieceIndex> PieceIndexOf(const Remote& remote, const std::string& path,
                                        const RemoteSegment& segment) const {
    FetchRequest whole;
    whole.path = path;
    whole.max_bytes = 64 + 8 * (segment.pieces + 1);
    PackedPieceIndex index;
    // A damaged index is fetched again, as any damaged body.
    RETURN_IF_ERROR(context_->Fetch(remote, std::span(&whole, 1), [&](size_t, std::string&& body) {
      ASSIGN_OR_RETURN(index, ParsePackedPieceIndex(Bytes(body), segment.info.size,
                                                    remote.base_url + "/" + path));
      return Status::Ok();
    }));
    if (index.piece_size != segment.piece_size) {
      return Status::Corrupt(remote.base_url + "/" + path + " cuts the segment into pieces of " +
                             std::to_string(index.piece_size) + " bytes, its piece table into " +
                             std::to_string(segment.piece_size) + ": republish the corpus");
    }
    return index;
  }

  // Requests for the compressed pieces `missing` (sorted): neighbours whose gap is at
  // most kMergeGapBytes share a request, up to kMaxRequestBytes.
  static void PlanRequests(const PackedPieceIndex& index, const std::vector<uint64_t>& missing,
                           const std::string& pz, std::vector<FetchRequest>* requests,
                           std::vector<std::pair<size_t, size_t>>* spans) {
    for (size_t k = 0; k < missing.size();) {
      size_t first = k;
      uint64_t begin = index.offsets[missing[k]];
      uint64_t end = index.offsets[missing[k] + 1];
      while (k + 1 < missing.size()) {
        uint64_t next_begin = index.offsets[missing[k + 1]];
        uint64_t next_end = index.offsets[missing[k + 1] + 1];
        if (next_begin - end > kMergeGapBytes || next_end - begin > kMaxRequestBytes) break;
        end = next_end;
        ++k;
      }
      ++k;
      if (end == begin) {  // Only empty pieces: nothing to ask for (a valid index has none).
        continue;
      }
      FetchRequest request;
      request.path = pz;
      request.offset = begin;
      request.length = end - begin;
      requests->push_back(std::move(request));
      spans->emplace_back(first, k);
    }
  }

  // Unpacks, verifies and stores the pieces missing[span.first, span.second) from
  // `body`, the bytes of the .pz file from `body_offset`, then marks them all with one
  // sync (not one per piece). Integrity (the fetcher tries again) when one does not
  // verify; nothing of the request is marked then.
  Status StorePieces(const RemoteSegment& segment, const PackedPieceIndex& index,
                     const std::vector<uint64_t>& missing, std::pair<size_t, size_t> span,
                     uint64_t body_offset, const std::string& body,
                     std::vector<uint8_t>* done) const {
    const auto* bytes = reinterpret_cast<const uint8_t*>(body.data());
    for (size_t k = span.first; k < span.second; ++k) {
      uint64_t i = missing[k];
      uint64_t begin = index.offsets[i] - body_offset;
      uint64_t length = index.offsets[i + 1] - index.offsets[i];
      std::string where = "piece " + std::to_string(i) + " of pack segment " +
                          segment.info.file + " of corpus " + segment.owner;
      ASSIGN_OR_RETURN(std::string piece, UnpackPiece(std::span(bytes + begin, length),
                                                      segment.PieceLength(i), where));
      std::span<const uint8_t> plain(reinterpret_cast<const uint8_t*>(piece.data()), piece.size());
      if (segment.table && !DigestEqual(Blake3(plain), segment.table->digests[i])) {
        return Status::Integrity(where + " does not match its digest in the piece table");
      }
      RETURN_IF_ERROR(segment.cached->Write(i * segment.piece_size, plain));
    }
    if (segment.table) {
      const std::span<const uint64_t> stored(missing.data() + span.first,
                                             span.second - span.first);
      RETURN_IF_ERROR(segment.cached->Mark(stored));
      for (uint64_t i : stored) segment.verified[i].store(1, std::memory_order_release);
    }
    for (size_t k = span.first; k < span.second; ++k) (*done)[k] = 1;
    return Status::Ok();
  }

  std::shared_ptr<FetchContext> context_;
  CorpusInfo info_;
  std::vector<RemoteSegment> segments_;
  std::vector<FileLock> in_use_;
  mutable std::mutex mutex_;
};

// ---- opening ----

// The manifest of `id` from the cache, when it is there with the pinned digest.
std::optional<std::string> CachedManifest(const std::string& dir,
                                          const std::optional<Digest>& pinned) {
  Result<std::string> text = ReadSmallFile(dir + "/manifest.json", kMaxManifestBytes);
  if (!text.ok()) return std::nullopt;
  if (pinned && !DigestEqual(Blake3(Bytes(*text)), *pinned)) return std::nullopt;
  return *text;
}

// The manifest of `id` from the first repository that has it with the pinned digest
// (a body with another digest is retried, then the next repository is asked).
Result<std::string> FetchManifest(FetchContext& context, const std::string& id,
                                  const std::optional<Digest>& pinned) {
  std::vector<std::string> tried;
  auto check = [&](const std::string& body) {
    if (!pinned || DigestEqual(Blake3(Bytes(body)), *pinned)) return Status::Ok();
    return Status::Integrity("serves a manifest with BLAKE3 " + ToHex(Blake3(Bytes(body))) +
                             ", not the pinned " + ToHex(*pinned));
  };
  Result<std::string> text =
      context.FetchWhole(RepositoryPath(id, "manifest.json"), kMaxManifestBytes, check, &tried);
  if (text.ok()) return text;
  std::string message = "corpus " + id + " is not in the cache";
  if (tried.empty()) {
    return Status::NotFound(message + " and no repository is configured: pass -c DIR with the "
                            "corpus, or --repo URL with a repository that holds it");
  }
  message += ", and no repository gave it:";
  for (const std::string& line : tried) message += "\n  " + line;
  return Status::NotFound(message + "\npass -c DIR with the corpus, or --repo URL with a "
                          "repository that holds it (docs/troubleshooting.md)");
}

// The signatures of the trusted keys, fetched into <dir>/signatures when missing there.
void FetchSignatures(FetchContext& context, const std::string& id, const std::string& dir,
                     const std::vector<PublicKey>& trusted) {
  for (const PublicKey& key : trusted) {
    std::string name = "signatures/" + key.id() + ".sig";
    if (std::filesystem::exists(dir + "/" + name)) continue;
    std::vector<std::string> tried;
    Result<std::string> sig =
        context.FetchWhole(RepositoryPath(id, name), kMaxSignatureBytes, nullptr, &tried);
    if (!sig.ok()) continue;  // Not signed by this key there; the trust check says so.
    if (MakeDirectories(dir + "/signatures").ok()) {
      (void)WriteFileAtomic(dir + "/" + name, Bytes(*sig));
    }
  }
}

// The piece table of `segment` (owned by `owner`), from the cache or fetched, checked
// against the manifest's digest of it.
Result<PieceTable> LoadPieceTable(FetchContext& context, const std::string& owner,
                                  const CorpusSegment& segment) {
  const PieceTableFile& file = *segment.pieces;
  std::string path = CachedCorpusDir(context.cache_dir(), owner) + "/" + file.file;
  Result<std::string> text = ReadSmallFile(path, file.size + 1);
  if (!text.ok() || !DigestEqual(Blake3(Bytes(*text)), file.blake3)) {
    std::vector<std::string> tried;
    auto check = [&](const std::string& body) {
      if (DigestEqual(Blake3(Bytes(body)), file.blake3)) return Status::Ok();
      return Status::Integrity("serves a piece table that does not match its BLAKE3 in the "
                               "manifest");
    };
    text = context.FetchWhole(RepositoryPath(owner, file.file), file.size, check, &tried);
    if (!text.ok()) {
      std::string message = "piece table " + file.file + " of corpus " + owner +
                            " could not be fetched:";
      for (const std::string& line : tried) message += "\n  " + line;
      return Status::Unavailable(message);
    }
    RETURN_IF_ERROR(MakeDirectories(std::filesystem::path(path).parent_path().string()));
    RETURN_IF_ERROR(WriteFileAtomic(path, Bytes(*text)));
  }
  return ParsePieceTable(Bytes(*text), segment.size, path);
}

Result<RemoteSegment> OpenSegment(FetchContext& context, const std::string& owner,
                                  const CorpusSegment& info) {
  RemoteSegment segment;
  segment.owner = owner;
  segment.info = info;
  if (info.pieces) {
    ASSIGN_OR_RETURN(segment.table, LoadPieceTable(context, owner, info));
    segment.piece_size = segment.table->piece_size;
  } else {
    segment.piece_size = kLegacyPieceSize;
  }
  segment.pieces = PieceCount(info.size, segment.piece_size);
  std::string path = CachedCorpusDir(context.cache_dir(), owner) + "/" + info.file;
  ASSIGN_OR_RETURN(segment.cached, CachedSegment::Open(path, info.size, segment.pieces));
  segment.verified = std::make_unique<std::atomic<uint8_t>[]>(std::max<uint64_t>(1, segment.pieces));
  // An empty segment has nothing to fetch.
  if (segment.pieces == 0) segment.verified[0].store(1);
  return segment;
}

// The in-use locks (shared) of the corpus and the owners of its segments.
Result<std::vector<FileLock>> LockInUse(const std::string& cache_dir, const CorpusInfo& info) {
  std::vector<std::string> ids{info.id};
  for (const std::string& owner : info.segment_owners) {
    if (std::find(ids.begin(), ids.end(), owner) == ids.end()) ids.push_back(owner);
  }
  std::vector<FileLock> locks;
  for (const std::string& id : ids) {
    std::string dir = CachedCorpusDir(cache_dir, id);
    RETURN_IF_ERROR(MakeDirectories(dir));
    ASSIGN_OR_RETURN(FileLock lock,
                     FileLock::Acquire(dir + "/inuse.lock", FileLock::Mode::kShared, true));
    TouchUsed(dir);
    locks.push_back(std::move(lock));
  }
  return locks;
}

}  // namespace

Result<std::unique_ptr<CorpusReader>> OpenRemoteCorpus(std::shared_ptr<FetchContext> context,
                                                       const std::string& id,
                                                       const std::optional<Digest>& pinned,
                                                       const CorpusOpenOptions& options) {
  if (context->cache_dir().empty()) {
    return Status::InvalidArgument("corpus " + id + " must be fetched, and there is no cache "
                                   "directory: pass --cache-dir DIR or set XDG_CACHE_HOME or HOME");
  }
  const std::string dir = CachedCorpusDir(context->cache_dir(), id);
  std::optional<std::string> text = CachedManifest(dir, pinned);
  if (!text) {
    ASSIGN_OR_RETURN(std::string fetched, FetchManifest(*context, id, pinned));
    RETURN_IF_ERROR(MakeDirectories(dir));
    RETURN_IF_ERROR(WriteFileAtomic(dir + "/manifest.json", Bytes(fetched)));
    text = std::move(fetched);
  }
  ASSIGN_OR_RETURN(CorpusInfo info, ParseManifest(*text, dir + "/manifest.json"));
  info.path = dir;
  info.manifest_digest = Blake3(Bytes(*text));
  if (info.id != id) {
    return Status::Integrity("the manifest of corpus " + id + " in " + dir + " names corpus " +
                             info.id + ": remove " + dir + " and fetch it again");
  }
  if (info.is_encrypted()) {
    return Status::Unavailable("corpus " + id + " is encrypted, and this reducto does not fetch "
                               "encrypted corpora: copy it to a local directory and pass -c DIR");
  }
  // The trust rules decide before any byte of the pack is fetched or used.
  std::vector<PublicKey> signers = options.trusted_keys;
  for (const PublicKey& key : context->settings().signature_keys) signers.push_back(key);
  FetchSignatures(*context, id, dir, signers);
  RETURN_IF_ERROR(CheckCorpusTrust(info, options.trusted_keys));
  if (options.policy) RETURN_IF_ERROR(options.policy(info));
  ASSIGN_OR_RETURN(std::vector<FileLock> in_use, LockInUse(context->cache_dir(), info));
  std::vector<RemoteSegment> segments;
  for (size_t i = 0; i < info.segments.size(); ++i) {
    const std::string& owner = i < info.segment_owners.size() ? info.segment_owners[i] : id;
    ASSIGN_OR_RETURN(RemoteSegment segment, OpenSegment(*context, owner, info.segments[i]));
    segments.push_back(std::move(segment));
  }
  return std::unique_ptr<CorpusReader>(new RemoteCorpusReader(
      std::move(context), std::move(info), std::move(segments), std::move(in_use)));
}

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/reducto";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.cache/reducto";
  }
  return "";
}

}  // namespace reducto
