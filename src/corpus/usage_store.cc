// The usage store (docs/corpus.md, "Usage store"): per corpus id, a RocksDB database
// of one record per stored chunk (length, use count, last use), updated with a merge
// operator that adds counts and keeps the latest time. Writers and readers take an
// exclusive lock on a file beside the database, so processes queue for the few
// milliseconds a record or a read takes; RocksDB itself refuses a second writer.
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
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <thread>

#include "corpus/chunk_index.h"
#include "corpus/corpus_format.h"
#include "corpus/usage_format.h"
#include "reducto/corpus.h"
#include "util/file.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;

struct UsageValue {
  uint32_t length = 0;
  uint64_t count = 0;
  int64_t last_use = 0;
};

template <typename T>
void StoreLittleEndian(T v, char* out) {
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<char>((u >> (8 * i)) & 0xff);
}

template <typename T>
T LoadLittleEndian(const char* in) {
  std::make_unsigned_t<T> u = 0;
  for (size_t i = sizeof(T); i-- > 0;) u = (u << 8) | static_cast<uint8_t>(in[i]);
  return static_cast<T>(u);
}

std::string ChunkKey(uint64_t address) {
  std::string key(kUsageChunkKeySize, '\0');
  key[0] = kUsageChunkTag;
  for (int i = 0; i < 8; ++i) key[1 + i] = static_cast<char>((address >> (56 - 8 * i)) & 0xff);
  return key;
}

uint64_t ChunkAddress(const rocksdb::Slice& key) {
  uint64_t v = 0;
  for (size_t i = 1; i < kUsageChunkKeySize; ++i) v = (v << 8) | static_cast<uint8_t>(key[i]);
  return v;
}

bool IsChunkKey(const rocksdb::Slice& key) {
  return key.size() == kUsageChunkKeySize && key[0] == kUsageChunkTag;
}

std::string EncodeValue(const UsageValue& v) {
  std::string out(kUsageValueSize, '\0');
  StoreLittleEndian(v.length, out.data());
  StoreLittleEndian(v.count, out.data() + 4);
  StoreLittleEndian(v.last_use, out.data() + 12);
  return out;
}

bool DecodeValue(const rocksdb::Slice& in, UsageValue* v) {
  if (in.size() != kUsageValueSize) return false;
  v->length = LoadLittleEndian<uint32_t>(in.data());
  v->count = LoadLittleEndian<uint64_t>(in.data() + 4);
  v->last_use = LoadLittleEndian<int64_t>(in.data() + 12);
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

class NullLogger final : public rocksdb::Logger {
 public:
  NullLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
  void Logv(const rocksdb::InfoLogLevel /*level*/, const char* /*format*/, va_list /*ap*/) override {}
};

rocksdb::Options UsageDbOptions() {
  rocksdb::Options options;
  options.info_log = std::make_shared<NullLogger>();
  options.stats_dump_period_sec = 0;
  options.stats_persist_period_sec = 0;
  options.merge_operator = std::make_shared<UsageMergeOperator>();
  options.compression = rocksdb::kNoCompression;
  // Each record flushes one small table; Record() compacts when they pile up, so no
  // background compaction is left half-done when the process exits a moment later.
  options.disable_auto_compactions = true;
  options.keep_log_file_num = 1;
  return options;
}

// After this many tables at level 0, Record() compacts the database.
constexpr int kCompactAfterTables = 8;

std::string StoreDirFor(const std::string& corpus_dir, const std::string& corpus_id) {
  return UsageStoreDir(corpus_dir) + "/" + corpus_id;
}

std::string NoUsageMessage(const std::string& corpus_dir, const std::string& id) {
  return "no usage is recorded for corpus " + id + " at " + corpus_dir + " (looked in " +
         StoreDirFor(corpus_dir, id) +
         "): compress against it with usage recording on (the default; not --no-usage) first, "
         "or prune with --keep-for FILE";
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  std::string msg = what + ": " + s.ToString();
  if (s.ToString().find("Permission denied") != std::string::npos ||
      s.ToString().find("Read-only file system") != std::string::npos) {
    return Status::Permission(msg + " (the usage store's directory is not writable)");
  }
  if (s.IsCorruption()) {
    return Status::Corrupt(msg + ": the usage store is damaged; delete that directory (its "
                                 "recorded usage is lost) or prune with --keep-for");
  }
  return Status::Io(msg);
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
  rocksdb::Status put;
  ASSIGN_OR_RETURN(IndexSummary summary,
                   index->Scan([&](uint64_t, const ChunkCandidate& chunk) -> Status {
                     UsageValue zero;
                     zero.length = chunk.length;
                     put = batch.Put(ChunkKey(chunk.address), EncodeValue(zero));
                     return FromRocks(put, "cannot seed the usage store");
                   }));
  (void)summary;
  std::string seeded(4, '\0');
  StoreLittleEndian(kUsageFormatVersion, seeded.data());
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
  if (seeded.size() < 4 || LoadLittleEndian<uint32_t>(seeded.data()) != kUsageFormatVersion) {
    return Status::InvalidArgument("the usage store " + StoreDirFor(corpus_dir, corpus_id) +
                                   " has another format version: upgrade reducto, or delete it");
  }
  if (seeded.substr(4) != corpus_id) {
    return Status::Corrupt("the usage store " + StoreDirFor(corpus_dir, corpus_id) +
                           " belongs to corpus " + seeded.substr(4) + ": delete it");
  }
  return Status::Ok();
}

}  // namespace

std::string UsageStoreDir(const std::string& corpus_dir) {
  std::string dir = corpus_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + kUsageStoreSuffix;
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void CorpusUsageRecorder::OnUse(uint64_t address, uint64_t length) {
  if (length == 0) return;
  uint64_t end = address + length < address ? UINT64_MAX : address + length;
  // The first range that ends at or after `address` may merge; so may those after it.
  auto it = ranges_.upper_bound(address);
  if (it != ranges_.begin() && std::prev(it)->second >= address) --it;
  while (it != ranges_.end() && it->first <= end) {
    address = std::min(address, it->first);
    end = std::max(end, it->second);
    it = ranges_.erase(it);
  }
  ranges_.emplace_hint(it, address, end);
}

Status CorpusUsageRecorder::Record(const std::string& corpus_dir, const std::string& corpus_id,
                                   int64_t now, int lock_timeout_ms) const {
  if (ranges_.empty()) return Status::Ok();
  if (corpus_id.empty()) return Status::InvalidArgument("no corpus id to record usage for");
  std::string store = StoreDirFor(corpus_dir, corpus_id);
  RETURN_IF_ERROR(MakeDirectories(store));
  ASSIGN_OR_RETURN(StoreLock lock, StoreLock::Acquire(store + "/" + kUsageLockFileName,
                                                      /*create=*/true, lock_timeout_ms));
  rocksdb::Options options = UsageDbOptions();
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  std::string db_dir = store + "/" + kUsageDbDirName;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, db_dir, &raw),
                            "cannot open the usage store " + db_dir));
  std::unique_ptr<rocksdb::DB> db(raw);
  Status seeded = CheckSeeded(db.get(), corpus_dir, corpus_id);
  if (seeded.code() == StatusCode::kNotFound) {
    RETURN_IF_ERROR(Seed(db.get(), corpus_dir, corpus_id));
  } else {
    RETURN_IF_ERROR(seeded);
  }

  // One merge per chunk that any range touches: the chunk at or before the range's start
  // (it may reach into the range), then every chunk that starts inside the range.
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  uint64_t last_merged = UINT64_MAX;
  UsageValue use;
  use.count = 1;
  use.last_use = now;
  for (const auto& [start, end] : ranges_) {
    it->SeekForPrev(ChunkKey(start));
    if (!it->Valid() || !IsChunkKey(it->key())) it->Seek(ChunkKey(start));
    for (; it->Valid() && IsChunkKey(it->key()); it->Next()) {
      uint64_t address = ChunkAddress(it->key());
      if (address >= end) break;
      UsageValue stored;
      if (!DecodeValue(it->value(), &stored)) {
        return Status::Corrupt("the usage store " + db_dir + " holds a malformed record: delete " +
                               store + " (its recorded usage is lost)");
      }
      if (address + stored.length <= start || address == last_merged) continue;
      use.length = stored.length;
      RETURN_IF_ERROR(FromRocks(batch.Merge(ChunkKey(address), EncodeValue(use)),
                                "cannot record usage in " + db_dir));
      last_merged = address;
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the usage store " + db_dir));
  }
  it.reset();
  rocksdb::WriteOptions write;
  write.disableWAL = true;  // The flush below makes it durable; a crash loses only this run.
  RETURN_IF_ERROR(FromRocks(db->Write(write, &batch), "cannot record usage in " + db_dir));
  rocksdb::FlushOptions flush;
  flush.wait = true;
  RETURN_IF_ERROR(FromRocks(db->Flush(flush), "cannot record usage in " + db_dir));
  std::string tables;
  if (db->GetProperty("rocksdb.num-files-at-level0", &tables) &&
      std::atoi(tables.c_str()) >= kCompactAfterTables) {
    RETURN_IF_ERROR(FromRocks(db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr),
                              "cannot compact the usage store " + db_dir));
  }
  return FromRocks(db->Close(), "cannot close the usage store " + db_dir);
}

Result<std::vector<ChunkUse>> ReadCorpusUsage(const std::string& corpus_dir) {
  ASSIGN_OR_RETURN(CorpusInfo info, ReadCorpusInfo(corpus_dir));
  std::string store = StoreDirFor(corpus_dir, info.id);
  std::string db_dir = store + "/" + kUsageDbDirName;
  struct stat st;
  if (::stat((db_dir + "/CURRENT").c_str(), &st) != 0) {
    return Status::NotFound(NoUsageMessage(corpus_dir, info.id));
  }
  // Read-only opens write nothing; the lock keeps a writer's compaction from deleting
  // tables under the reader. Without write access to the lock, read unlocked.
  Result<StoreLock> lock =
      StoreLock::Acquire(store + "/" + kUsageLockFileName, /*create=*/false, 10000);
  if (!lock.ok() && lock.status().code() == StatusCode::kUnavailable) return lock.status();
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
      return Status::Corrupt("the usage store " + db_dir + " holds a malformed record: delete " +
                             store + " (its recorded usage is lost)");
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
