#include "corpus_build/chunk_tally.h"

#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "util/endian.h"
#include "util/file.h"
#include "util/rocks.h"

namespace reducto {
namespace {

// Scratch database layout (private to one run, never published). One key space,
// three prefixes:
//   'c' digest                      -> count (u64 LE) || length (u32 LE), merged by addition
//   'r' ~score (u64 BE) digest      -> count || length: the ranking, best first
//   's' digest                      -> "": chosen by the last marking selection
constexpr char kCountPrefix = 'c';
constexpr char kRankPrefix = 'r';
constexpr char kSelectedPrefix = 's';
constexpr size_t kTallyValueSize = 12;
constexpr size_t kBatchEntries = 1u << 16;

std::string TallyValue(uint64_t count, uint32_t length) {
  std::string value(kTallyValueSize, '\0');
  StoreLe(value.data(), count);
  StoreLe(value.data() + 8, length);
  return value;
}

bool ParseTallyValue(const rocksdb::Slice& value, uint64_t* count, uint32_t* length) {
  if (value.size() != kTallyValueSize) return false;
  *count = LoadLe<uint64_t>(value.data());
  *length = LoadLe<uint32_t>(value.data() + 8);
  return true;
}

std::string DigestKey(char prefix, const Digest& digest) {
  std::string key(1, prefix);
  key.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return key;
}

// Sample bytes covered per corpus byte. One function for both back ends, so that they
// rank identically.
double Score(uint64_t count, uint32_t length, uint64_t per_chunk_bytes) {
  double l = static_cast<double>(length);
  return static_cast<double>(count) * l / (l + static_cast<double>(per_chunk_bytes));
}

// Positive doubles order as their bit patterns do; inverted, big-endian, the best
// score sorts first.
std::string RankKey(double score, const rocksdb::Slice& digest) {
  uint64_t inverted = ~std::bit_cast<uint64_t>(score);
  std::string key(9, kRankPrefix);
  StoreBe(key.data() + 1, inverted);
  key.append(digest.data(), digest.size());
  return key;
}

class CountMerge final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* merged,
             rocksdb::Logger* /*logger*/) const override {
    uint64_t count = 0, more = 0;
    uint32_t length = 0;
    if (!ParseTallyValue(value, &more, &length)) return false;
    if (existing != nullptr && !ParseTallyValue(*existing, &count, &length)) return false;
    *merged = TallyValue(count + more, length);
    return true;
  }
  const char* Name() const override { return "reducto.ChunkTallyCount"; }
};

constexpr char kTallyRemedy[] = " (check free space beside the output directory)";
constexpr RocksErrorAdvice kTallyAdvice{StatusCode::kIo, kTallyRemedy, kTallyRemedy, kTallyRemedy};

Status FromRocks(const rocksdb::Status& s, const std::string& dir) {
  if (s.ok()) return Status::Ok();
  return reducto::FromRocks(s, "the chunk count database " + dir + " failed", kTallyAdvice);
}

Status Corrupted(const std::string& dir) {
  return Status::Io("the chunk count database " + dir +
                    " holds a malformed entry: run optimize again, and please report this");
}

// Visits the entries under `prefix`, in key order, until `visit` fails.
template <typename Visit>
Status ScanPrefix(rocksdb::DB* db, char prefix, const std::string& dir, Visit visit) {
  rocksdb::ReadOptions read;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read));
  for (it->Seek(rocksdb::Slice(&prefix, 1)); it->Valid() && it->key()[0] == prefix; it->Next()) {
    RETURN_IF_ERROR(visit(it->key(), it->value()));
  }
  return FromRocks(it->status(), dir);
}

Status DeletePrefix(rocksdb::DB* db, char prefix, const std::string& dir) {
  char end = static_cast<char>(prefix + 1);
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  return FromRocks(db->DeleteRange(write, db->DefaultColumnFamily(), rocksdb::Slice(&prefix, 1),
                                   rocksdb::Slice(&end, 1)),
                   dir);
}

// Collects writes and applies them in batches.
class BatchWriter {
 public:
  BatchWriter(rocksdb::DB* db, const std::string& dir) : db_(db), dir_(dir) {}
  Status Put(const std::string& key, const std::string& value) {
    batch_.Put(key, value);
    return MaybeFlush();
  }
  Status Merge(const std::string& key, const std::string& value) {
    batch_.Merge(key, value);
    return MaybeFlush();
  }
  Status Flush() {
    rocksdb::WriteOptions write;
    write.disableWAL = true;  // A scratch database: a crash throws it away.
    Status s = FromRocks(db_->Write(write, &batch_), dir_);
    batch_.Clear();
    return s;
  }

 private:
  Status MaybeFlush() { return batch_.Count() >= kBatchEntries ? Flush() : Status::Ok(); }
  rocksdb::DB* db_;
  const std::string& dir_;
  rocksdb::WriteBatch batch_;
};

}  // namespace

size_t ChunkTally::DigestHash::operator()(const Digest& digest) const {
  size_t h;
  std::memcpy(&h, digest.data(), sizeof h);  // BLAKE3 bytes are uniform already.
  return h;
}

ChunkTally::ChunkTally(uint64_t memory_limit, std::string scratch_prefix)
    : memory_limit_(std::max<uint64_t>(memory_limit, 1)),
      scratch_prefix_(std::move(scratch_prefix)) {}

ChunkTally::~ChunkTally() {
  if (db_ != nullptr) (void)db_->Close();
  db_.reset();
  std::error_code ec;
  if (!scratch_dir_.empty()) std::filesystem::remove_all(scratch_dir_, ec);
}

Status ChunkTally::Add(const Digest& digest, uint32_t length) {
  auto [it, inserted] = memory_.try_emplace(digest);
  it->second.length = length;
  ++it->second.count;
  return memory_.size() > memory_limit_ ? Spill() : Status::Ok();
}

// Moves the counts in memory into the scratch database, creating it the first time.
Status ChunkTally::Spill() {
  if (db_ == nullptr) {
    std::string pattern = scratch_prefix_ + "XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      return ErrnoStatus("create scratch directory", pattern, errno);
    }
    scratch_dir_ = pattern;
    rocksdb::Options options;
    QuietRocksOptions(&options);  // No LOG beside the output.
    options.create_if_missing = true;
    options.merge_operator = std::make_shared<CountMerge>();
    options.compression = rocksdb::kNoCompression;
    options.write_buffer_size = 64u << 20;
    rocksdb::DB* db = nullptr;
    RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, scratch_dir_ + "/db", &db), scratch_dir_));
    db_.reset(db);
  }
  BatchWriter writer(db_.get(), scratch_dir_);
  for (const auto& [digest, entry] : memory_) {
    RETURN_IF_ERROR(writer.Merge(DigestKey(kCountPrefix, digest), TallyValue(entry.count, entry.length)));
  }
  RETURN_IF_ERROR(writer.Flush());
  memory_.clear();
  return Status::Ok();
}

Status ChunkTally::Finish() {
  distinct_chunks_ = 0;
  distinct_bytes_ = 0;
  if (db_ == nullptr) {
    for (const auto& [digest, entry] : memory_) {
      ++distinct_chunks_;
      distinct_bytes_ += entry.length;
    }
    return Status::Ok();
  }
  RETURN_IF_ERROR(Spill());
  return ScanPrefix(db_.get(), kCountPrefix, scratch_dir_,
                    [this](const rocksdb::Slice&, const rocksdb::Slice& value) {
                      uint64_t count = 0;
                      uint32_t length = 0;
                      if (!ParseTallyValue(value, &count, &length)) return Corrupted(scratch_dir_);
                      ++distinct_chunks_;
                      distinct_bytes_ += length;
                      return Status::Ok();
                    });
}

Result<ChunkTally::Selection> ChunkTally::Select(uint64_t space, uint64_t per_chunk_bytes,
                                                 bool mark) {
  if (db_ == nullptr) return SelectInMemory(space, per_chunk_bytes, mark);
  return SelectSpilled(space, per_chunk_bytes, mark);
}

ChunkTally::Selection ChunkTally::SelectInMemory(uint64_t space, uint64_t per_chunk_bytes,
                                                 bool mark) {
  struct Ranked {
    double score;
    const Digest* digest;
    Entry* entry;
  };
  std::vector<Ranked> order;
  order.reserve(memory_.size());
  for (auto& [digest, entry] : memory_) {
    order.push_back({Score(entry.count, entry.length, per_chunk_bytes), &digest, &entry});
  }
  std::sort(order.begin(), order.end(), [](const Ranked& a, const Ranked& b) {
    if (a.score != b.score) return a.score > b.score;
    return *a.digest < *b.digest;
  });
  Selection selection;
  for (Ranked& r : order) {
    if (mark) r.entry->selected = false;
    uint64_t cost = r.entry->length + per_chunk_bytes;
    if (cost > space) continue;
    space -= cost;
    if (mark) r.entry->selected = true;
    ++selection.chunks;
    selection.stored_bytes += r.entry->length;
    selection.covered_bytes += r.entry->count * r.entry->length;
  }
  return selection;
}

// The same greedy walk over a ranking that RocksDB sorts: keys 'r' ~score digest.
Result<ChunkTally::Selection> ChunkTally::SelectSpilled(uint64_t space, uint64_t per_chunk_bytes,
                                                        bool mark) {
  rocksdb::DB* db = db_.get();
  if (ranked_for_ != per_chunk_bytes) {
    RETURN_IF_ERROR(DeletePrefix(db, kRankPrefix, scratch_dir_));
    BatchWriter writer(db, scratch_dir_);
    RETURN_IF_ERROR(ScanPrefix(db, kCountPrefix, scratch_dir_,
                               [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
                                 uint64_t count = 0;
                                 uint32_t length = 0;
                                 if (!ParseTallyValue(value, &count, &length)) return Corrupted(scratch_dir_);
                                 rocksdb::Slice digest(key.data() + 1, key.size() - 1);
                                 return writer.Put(RankKey(Score(count, length, per_chunk_bytes), digest),
                                                   value.ToString());
                               }));
    RETURN_IF_ERROR(writer.Flush());
    ranked_for_ = per_chunk_bytes;
  }
  if (mark) RETURN_IF_ERROR(DeletePrefix(db, kSelectedPrefix, scratch_dir_));
  BatchWriter selected(db, scratch_dir_);
  Selection selection;
  RETURN_IF_ERROR(ScanPrefix(db, kRankPrefix, scratch_dir_,
                             [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
                               uint64_t count = 0;
                               uint32_t length = 0;
                               if (!ParseTallyValue(value, &count, &length)) return Corrupted(scratch_dir_);
                               uint64_t cost = length + per_chunk_bytes;
                               if (cost > space) return Status::Ok();
                               space -= cost;
                               ++selection.chunks;
                               selection.stored_bytes += length;
                               selection.covered_bytes += count * length;
                               if (!mark) return Status::Ok();
                               std::string digest_key(1, kSelectedPrefix);
                               digest_key.append(key.data() + 9, key.size() - 9);
                               return selected.Put(digest_key, std::string());
                             }));
  RETURN_IF_ERROR(selected.Flush());
  return selection;
}

Result<bool> ChunkTally::IsSelected(const Digest& digest) const {
  if (db_ == nullptr) {
    auto it = memory_.find(digest);
    return it != memory_.end() && it->second.selected;
  }
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), DigestKey(kSelectedPrefix, digest), &value);
  if (s.IsNotFound()) return false;
  RETURN_IF_ERROR(FromRocks(s, scratch_dir_));
  return true;
}

}  // namespace reducto
