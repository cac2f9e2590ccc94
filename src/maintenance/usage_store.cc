// The usage store (docs/corpus.md, "Usage store"). Compressing writes one small run
// file (the ranges it used, its time) without any lock, so recording costs next to
// nothing; folding turns the runs into a RocksDB database of one record per stored chunk
// (length, use count, last use), updated with a merge operator that adds counts and
// keeps the latest time. Folds take an exclusive lock on a file beside the database and
// happen every so many runs, and before every read.
#include "reducto/usage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <sodium.h>

#include "corpus/chunk_index.h"
#include "corpus/corpus_format.h"
#include "maintenance/usage_format.h"
#include "reducto/corpus.h"
#include "reducto/digest.h"
#include "reducto/io.h"
#include "util/endian.h"
#include "util/file.h"
#include "util/rocks.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;

struct UsageValue {
  uint32_t length = 0;
  uint64_t count = 0;
  int64_t last_use = 0;
};

std::string ChunkKey(uint64_t address) {
  std::string key(kUsageChunkKeySize, '\0');
  key[0] = kUsageChunkTag;
  StoreBe(key.data() + 1, address);
  return key;
}

uint64_t ChunkAddress(const rocksdb::Slice& key) {
  return LoadBe<uint64_t>(key.data() + 1);
}

bool IsChunkKey(const rocksdb::Slice& key) {
  return key.size() == kUsageChunkKeySize && key[0] == kUsageChunkTag;
}

std::string EncodeValue(const UsageValue& v) {
  std::string out(kUsageValueSize, '\0');
  StoreLe(out.data(), v.length);
  StoreLe(out.data() + 4, v.count);
  StoreLe(out.data() + 12, v.last_use);
  return out;
}

bool DecodeValue(const rocksdb::Slice& in, UsageValue* v) {
  if (in.size() != kUsageValueSize) return false;
  v->length = LoadLe<uint32_t>(in.data());
  v->count = LoadLe<uint64_t>(in.data() + 4);
  v->last_use = LoadLe<int64_t>(in.data() + 12);
  return true;
}

// Counts add, the latest use wins, the length is the chunk's (every operand carries it).
// A malformed operand fails the merge, which RocksDB reports as corruption.
class UsageMergeOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger* /*logger*/) const override {
    UsageValue sum, add;
    if (existing != nullptr && !DecodeValue(*existing, &sum)) return false;
    if (!DecodeValue(value, &add)) return false;
    sum.length = std::max(sum.length, add.length);
    sum.count = sum.count > UINT64_MAX - add.count ? UINT64_MAX : sum.count + add.count;
    sum.last_use = std::max(sum.last_use, add.last_use);
    *new_value = EncodeValue(sum);
    return true;
  }
  const char* Name() const override { return kUsageMergeOperatorName; }
};

rocksdb::Options UsageDbOptions() {
  rocksdb::Options options;
  QuietRocksOptions(&options);
  options.merge_operator = std::make_shared<UsageMergeOperator>();
  options.compression = rocksdb::kNoCompression;
  // Each fold flushes one small table; the fold compacts when they pile up, so no
  // background compaction is left half-done when the process exits a moment later.
  options.disable_auto_compactions = true;
  options.keep_log_file_num = 1;
  return options;
}

// After this many tables at level 0, a fold compacts the database.
constexpr int kCompactAfterTables = 8;
// Folding steps over unused chunks up to this far, and seeks beyond.
constexpr uint64_t kSeekDistance = 1u << 20;
// Record() folds when it finds this many runs waiting.
constexpr size_t kFoldAfterRuns = 64;
// How long a fold before a read waits for another process's fold.
constexpr int kReadLockTimeoutMs = 30000;

std::string StoreDirFor(const std::string& corpus_dir, const std::string& corpus_id) {
  return UsageStoreDir(corpus_dir) + "/" + corpus_id;
}

std::string NoUsageMessage(const std::string& corpus_dir, const std::string& id) {
  return "no usage is recorded for corpus " + id + " at " + corpus_dir + " (looked in " +
         StoreDirFor(corpus_dir, id) +
         "): compress against it with usage recording on (the default; not --no-usage) first, "
         "or prune with --keep-for FILE";
}

constexpr RocksErrorAdvice kUsageAdvice{
    StatusCode::kIo, " (the usage store's directory is not writable)",
    ": the usage store is damaged; delete that directory (its recorded usage is lost) or prune "
    "with --keep-for",
    ""};

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  return reducto::FromRocks(s, what, kUsageAdvice);
}

// An exclusive lock on <store>/lock, released on destruction.
class StoreLock {
 public:
  static Result<StoreLock> Acquire(const std::string& path, bool create, int timeout_ms) {
    int fd = ::open(path.c_str(), (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("open the usage store lock", path, errno);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        int err = errno;
        ::close(fd);
        return ErrnoStatus("lock the usage store", path, err);
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        ::close(fd);
        return Status::Unavailable("the usage store " + path + " stayed locked for " +
                                   std::to_string(timeout_ms) +
                                   " ms by another reducto process: try again later");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return StoreLock(fd);
  }
  StoreLock(StoreLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  StoreLock& operator=(StoreLock&&) = delete;
  ~StoreLock() {
    if (fd_ >= 0) ::close(fd_);  // Closing releases the flock.
  }

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_;
};

Status MakeDirectories(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ErrnoStatus("create the usage store", dir, ec.value());
  return Status::Ok();
}

// Adds a zero record for every chunk of the corpus, and the record that says so.
Status Seed(rocksdb::DB* db, const std::string& corpus_dir, const std::string& corpus_id) {
  ASSIGN_OR_RETURN(CorpusInfo info, ReadCorpusInfo(corpus_dir));
  if (info.id != corpus_id) {
    return Status::Unavailable("corpus " + corpus_dir + " was replaced (it is now " + info.id +
                               ", the compression used " + corpus_id + "): its usage is not recorded");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ChunkIndexReader> index,
                   ChunkIndexReader::Open(corpus_dir + "/" + kIndexDirName));
  rocksdb::WriteBatch batch;
  Result<IndexSummary> scanned = index->Scan([&](uint64_t, const ChunkCandidate& chunk) -> Status {
    UsageValue zero;
    zero.length = chunk.length;
    return FromRocks(batch.Put(ChunkKey(chunk.address), EncodeValue(zero)), "cannot seed the usage store");
  });
  RETURN_IF_ERROR(scanned.status());
  std::string seeded(4, '\0');
  StoreLe(seeded.data(), kUsageFormatVersion);
  seeded += corpus_id;
  RETURN_IF_ERROR(FromRocks(batch.Put(kUsageSeededKey, seeded), "cannot seed the usage store"));
  rocksdb::WriteOptions write;
  write.disableWAL = true;  // Flushed before the database closes.
  return FromRocks(db->Write(write, &batch), "cannot seed the usage store");
}

// Checks the seeded record of an open store: NotFound when absent.
Status CheckSeeded(rocksdb::DB* db, const std::string& corpus_dir, const std::string& corpus_id) {
  std::string seeded;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), kUsageSeededKey, &seeded);
  if (s.IsNotFound()) return Status::NotFound(NoUsageMessage(corpus_dir, corpus_id));
  RETURN_IF_ERROR(FromRocks(s, "cannot read the usage store of " + corpus_dir));
  if (seeded.size() < 4 || LoadLe<uint32_t>(seeded.data()) != kUsageFormatVersion) {
    return Status::InvalidArgument("the usage store " + StoreDirFor(corpus_dir, corpus_id) +
                                   " has another format version: upgrade reducto, or delete it");
  }
  if (seeded.substr(4) != corpus_id) {
    return Status::Corrupt("the usage store " + StoreDirFor(corpus_dir, corpus_id) +
                           " belongs to corpus " + seeded.substr(4) + ": delete it");
  }
  return Status::Ok();
}

// Whether [a_start, a_end) and [b_start, b_end) overlap, touch, or are less than `gap`
// bytes apart.
bool Near(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end, uint64_t gap) {
  if (a_start <= b_end && b_start <= a_end) return true;
  return a_start > b_end ? a_start - b_end < gap : b_start - a_end < gap;
}

// `ranges` sorted, with those less than `gap` bytes apart (or overlapping) merged.
std::vector<std::pair<uint64_t, uint64_t>> MergeRanges(std::vector<std::pair<uint64_t, uint64_t>> ranges,
                                                       uint64_t gap) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& range : ranges) {
    if (!merged.empty() && Near(range.first, range.second, merged.back().first, merged.back().second, gap)) {
      merged.back().second = std::max(merged.back().second, range.second);
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

// ---- run files ----

std::string EncodeRun(int64_t now, const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  std::string out(kUsageRunHeaderSize + ranges.size() * kUsageRunRangeSize, '\0');
  std::memcpy(out.data(), kUsageRunMagic, 8);
  StoreLe(out.data() + 8, now);
  StoreLe(out.data() + 16, static_cast<uint64_t>(ranges.size()));
  char* p = out.data() + kUsageRunHeaderSize;
  for (const auto& [start, end] : ranges) {
    StoreLe(p, start);
    StoreLe(p + 8, end);
    p += kUsageRunRangeSize;
  }
  Digest digest = Blake3({reinterpret_cast<const uint8_t*>(out.data()), out.size()});
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return out;
}

struct Run {
  int64_t time = 0;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
};

// False when `bytes` is not a whole, intact run file (a crash can leave such a file).
bool ParseRun(const std::string& bytes, Run* run) {
  if (bytes.size() < kUsageRunHeaderSize + kUsageRunDigestSize) return false;
  if (std::memcmp(bytes.data(), kUsageRunMagic, 8) != 0) return false;
  uint64_t n = LoadLe<uint64_t>(bytes.data() + 16);
  size_t body = bytes.size() - kUsageRunHeaderSize - kUsageRunDigestSize;
  if (body % kUsageRunRangeSize != 0 || n != body / kUsageRunRangeSize) return false;
  Digest digest = Blake3({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size() - kUsageRunDigestSize});
  if (std::memcmp(digest.data(), bytes.data() + bytes.size() - kUsageRunDigestSize, kUsageRunDigestSize) != 0) {
    return false;
  }
  run->time = LoadLe<int64_t>(bytes.data() + 8);
  run->ranges.resize(n);
  const char* p = bytes.data() + kUsageRunHeaderSize;
  uint64_t previous_end = 0;
  for (auto& [start, end] : run->ranges) {
    start = LoadLe<uint64_t>(p);
    end = LoadLe<uint64_t>(p + 8);
    if (start >= end || (&start != &run->ranges.front().first && start <= previous_end)) return false;
    previous_end = end;
    p += kUsageRunRangeSize;
  }
  return true;
}

std::string RandomHex() {
  char text[24];
  std::snprintf(text, sizeof text, "%08x%08x", randombytes_random(), randombytes_random());
  return text;
}

// Writes the run under a hidden temporary name and renames it into place, so that a
// folder never sees half a run. Not fsynced: a crash may lose the last runs, and a run
// damaged by one is skipped when folded.
Status WriteRun(const std::string& runs_dir, int64_t now, const std::string& bytes) {
  std::string tmp = runs_dir + "/.tmp-" + RandomHex();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create a usage record in", runs_dir, errno);
  Status written = WriteAll(fd, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, tmp);
  if (::close(fd) != 0 && written.ok()) written = ErrnoStatus("write", tmp, errno);
  std::string name = runs_dir + "/" + std::to_string(now) + "-" + std::to_string(::getpid()) + "-" +
                     RandomHex() + kUsageRunSuffix;
  if (written.ok() && ::rename(tmp.c_str(), name.c_str()) != 0) written = ErrnoStatus("rename into", name, errno);
  if (!written.ok()) ::unlink(tmp.c_str());
  return written;
}

// The names of the finished runs in `runs_dir`, sorted; none when it does not exist.
std::vector<std::string> ListRuns(const std::string& runs_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(runs_dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name[0] != '.' && name.ends_with(kUsageRunSuffix)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// ---- folding ----

// Adds one use at `time` to every chunk that `ranges` touch. Ranges and chunks are both
// in address order: walk them together, seeking only over long stretches of unused
// chunks (a seek costs as much as dozens of steps).
Status MergeRun(rocksdb::DB* db, const Run& run, const std::string& db_dir, rocksdb::WriteBatch* batch) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  bool positioned = false;
  uint64_t last_merged = UINT64_MAX;
  UsageValue use, chunk;
  use.count = 1;
  use.last_use = run.time;
  auto load = [&]() -> Status {  // Decodes the chunk under the iterator into `chunk`.
    if (!DecodeValue(it->value(), &chunk)) {
      return Status::Corrupt("the usage store " + db_dir +
                             " holds a malformed record: delete its directory (its recorded usage is lost)");
    }
    return Status::Ok();
  };
  for (const auto& [start, end] : run.ranges) {
    bool valid = positioned && it->Valid() && IsChunkKey(it->key());
    if (!valid || ChunkAddress(it->key()) + kSeekDistance < start) {
      it->SeekForPrev(ChunkKey(start));  // The chunk that holds `start`, or one before it.
      if (!it->Valid() || !IsChunkKey(it->key())) it->Seek(ChunkKey(0));
      positioned = true;
    }
    for (; it->Valid() && IsChunkKey(it->key()); it->Next()) {
      RETURN_IF_ERROR(load());
      if (ChunkAddress(it->key()) + chunk.length > start) break;
    }
    for (; it->Valid() && IsChunkKey(it->key()); it->Next()) {
      uint64_t address = ChunkAddress(it->key());
      if (address >= end) break;
      RETURN_IF_ERROR(load());
      if (address != last_merged) {
        use.length = chunk.length;
        RETURN_IF_ERROR(FromRocks(batch->Merge(it->key(), EncodeValue(use)), "cannot fold usage into " + db_dir));
        last_merged = address;
      }
      if (address + chunk.length >= end) break;  // It may hold the next range's start too.
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the usage store " + db_dir));
  }
  return Status::Ok();
}

// REQUIRES: the store's lock is held. Folds every run in <store>/runs into the database
// and deletes the run files. A run is marked folded in the same write that counts it,
// so a crash before its file is deleted never counts it twice. NotFound when the store
// holds neither runs nor a database.
Status Fold(const std::string& corpus_dir, const std::string& corpus_id) {
  std::string store = StoreDirFor(corpus_dir, corpus_id);
  std::string db_dir = store + "/" + kUsageDbDirName;
  std::string runs_dir = store + "/" + kUsageRunsDirName;
  std::vector<std::string> runs = ListRuns(runs_dir);
  struct stat st;
  bool have_db = ::stat((db_dir + "/CURRENT").c_str(), &st) == 0;
  if (runs.empty() && !have_db) return Status::NotFound(NoUsageMessage(corpus_dir, corpus_id));
  if (runs.empty()) return Status::Ok();

  rocksdb::Options options = UsageDbOptions();
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, db_dir, &raw), "cannot open the usage store " + db_dir));
  std::unique_ptr<rocksdb::DB> db(raw);
  Status seeded = CheckSeeded(db.get(), corpus_dir, corpus_id);
  if (seeded.code() == StatusCode::kNotFound) {
    RETURN_IF_ERROR(Seed(db.get(), corpus_dir, corpus_id));
  } else {
    RETURN_IF_ERROR(seeded);
  }

  std::vector<std::string> folded_before;  // Marked folded by an earlier fold.
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(kUsageFoldedRunPrefix); it->Valid() && it->key().starts_with(kUsageFoldedRunPrefix);
         it->Next()) {
      folded_before.push_back(it->key().ToString().substr(std::strlen(kUsageFoldedRunPrefix)));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the usage store " + db_dir));
  }
  rocksdb::WriteBatch batch;
  for (const std::string& name : folded_before) {  // Files deleted since: forget them.
    if (!std::binary_search(runs.begin(), runs.end(), name)) {
      RETURN_IF_ERROR(FromRocks(batch.Delete(kUsageFoldedRunPrefix + name), "cannot fold usage into " + db_dir));
    }
  }
  for (const std::string& name : runs) {
    if (std::find(folded_before.begin(), folded_before.end(), name) != folded_before.end()) continue;
    Result<std::string> bytes = ReadSmallFile(runs_dir + "/" + name, size_t{1} << 32);
    Run run;
    if (bytes.ok() && ParseRun(*bytes, &run)) RETURN_IF_ERROR(MergeRun(db.get(), run, db_dir, &batch));
    // A damaged run is marked folded too, so that it is deleted below and not read again.
    RETURN_IF_ERROR(FromRocks(batch.Put(kUsageFoldedRunPrefix + name, ""), "cannot fold usage into " + db_dir));
  }
  rocksdb::WriteOptions write;
  write.disableWAL = true;  // The flush below makes it durable before any run is deleted.
  RETURN_IF_ERROR(FromRocks(db->Write(write, &batch), "cannot fold usage into " + db_dir));
  rocksdb::FlushOptions flush;
  flush.wait = true;
  RETURN_IF_ERROR(FromRocks(db->Flush(flush), "cannot fold usage into " + db_dir));
  for (const std::string& name : runs) ::unlink((runs_dir + "/" + name).c_str());
  std::string tables;
  if (db->GetProperty("rocksdb.num-files-at-level0", &tables) && std::atoi(tables.c_str()) >= kCompactAfterTables) {
    RETURN_IF_ERROR(FromRocks(db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr),
                              "cannot compact the usage store " + db_dir));
  }
  return FromRocks(db->Close(), "cannot close the usage store " + db_dir);
}

}  // namespace

std::string UsageStoreDir(const std::string& corpus_dir) {
  std::string dir = corpus_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + kUsageStoreSuffix;
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void CorpusUsageRecorder::OnUse(uint64_t address, uint64_t length) {
  if (length == 0) return;
  uint64_t end = address + length < address ? UINT64_MAX : address + length;
  if (!ranges_.empty()) {
    auto& [last_start, last_end] = ranges_.back();
    if (Near(address, end, last_start, last_end, merge_gap_)) {
      last_start = std::min(last_start, address);
      last_end = std::max(last_end, end);
      return;
    }
  }
  ranges_.emplace_back(address, end);
}

std::vector<std::pair<uint64_t, uint64_t>> CorpusUsageRecorder::Ranges() const {
  return MergeRanges(ranges_, merge_gap_);
}

Status CorpusUsageRecorder::Record(const std::string& corpus_dir, const std::string& corpus_id,
                                   int64_t now) const {
  if (ranges_.empty()) return Status::Ok();
  if (corpus_id.empty()) return Status::InvalidArgument("no corpus id to record usage for");
  ASSIGN_OR_RETURN(CorpusInfo info, ReadCorpusInfo(corpus_dir));
  if (info.id != corpus_id) return Status::Ok();
  std::string root = UsageStoreDir(corpus_dir);
  if (::access((root + "/" + kManifestFileName).c_str(), F_OK) == 0) {
    return Status::InvalidArgument(root + " is a corpus, not a usage store: usage of " + corpus_dir +
                                   " is not recorded there (rename that corpus)");
  }
  std::string store = StoreDirFor(corpus_dir, corpus_id);
  std::string runs_dir = store + "/" + kUsageRunsDirName;
  RETURN_IF_ERROR(MakeDirectories(runs_dir));
  uint64_t gap = std::max<uint64_t>(merge_gap_, info.chunking.min_size);
  RETURN_IF_ERROR(WriteRun(runs_dir, now, EncodeRun(now, MergeRanges(ranges_, gap))));
  // Folding is upkeep: whoever finds enough runs does it, unless another process is at
  // it already; a fold that fails here is retried, and reported, by the next read.
  if (ListRuns(runs_dir).size() >= kFoldAfterRuns) {
    Result<StoreLock> lock = StoreLock::Acquire(store + "/" + kUsageLockFileName, /*create=*/true, 0);
    if (lock.ok()) (void)Fold(corpus_dir, corpus_id);
  }
  return Status::Ok();
}

Result<std::vector<ChunkUse>> ReadCorpusUsage(const std::string& corpus_dir) {
  ASSIGN_OR_RETURN(CorpusInfo info, ReadCorpusInfo(corpus_dir));
  std::string store = StoreDirFor(corpus_dir, info.id);
  std::string db_dir = store + "/" + kUsageDbDirName;
  struct stat st;
  if (::stat(store.c_str(), &st) != 0) return Status::NotFound(NoUsageMessage(corpus_dir, info.id));
  ASSIGN_OR_RETURN(StoreLock lock,
                   StoreLock::Acquire(store + "/" + kUsageLockFileName, /*create=*/true, kReadLockTimeoutMs));
  RETURN_IF_ERROR(Fold(corpus_dir, info.id));
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::OpenForReadOnly(UsageDbOptions(), db_dir, &raw),
                            "cannot open the usage store " + db_dir));
  std::unique_ptr<rocksdb::DB> db(raw);
  RETURN_IF_ERROR(CheckSeeded(db.get(), corpus_dir, info.id));
  std::vector<ChunkUse> chunks;
  chunks.reserve(info.index_entries);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(ChunkKey(0)); it->Valid() && IsChunkKey(it->key()); it->Next()) {
    UsageValue v;
    if (!DecodeValue(it->value(), &v)) {
      return Status::Corrupt("the usage store " + db_dir + " holds a malformed record: delete " + store +
                             " (its recorded usage is lost)");
    }
    chunks.push_back({ChunkAddress(it->key()), v.length, v.count, v.last_use});
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the usage store " + db_dir));
  if (chunks.size() != info.index_entries) {
    return Status::Corrupt("the usage store " + db_dir + " has " + std::to_string(chunks.size()) +
                           " chunk records but corpus " + corpus_dir + " has " +
                           std::to_string(info.index_entries) + " chunks: delete " + store);
  }
  return chunks;
}

}  // namespace reducto
