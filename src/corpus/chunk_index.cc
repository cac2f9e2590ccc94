#include "corpus/chunk_index.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <cstring>
#include <filesystem>

#include "corpus/index_encryption.h"
#include "util/endian.h"
#include "util/rocks.h"

namespace reducto {
namespace {

// What the index's errors say: a reader's index must be readable as it is.
constexpr RocksErrorAdvice kReadAdvice{StatusCode::kCorrupt,
                                       " (check the directory's permissions)",
                                       ": the corpus is damaged; rebuild or re-fetch it", ""};
constexpr RocksErrorAdvice kWriteAdvice{
    StatusCode::kIo, " (check the directory's permissions)",
    " (check free space and permissions of the output directory)",
    " (check free space and permissions of the output directory)"};

// Options shared by the writer and the readers. The prefix extractor and the filter
// must agree between them, or RocksDB silently stops using the bloom filters.
rocksdb::Options CommonOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::Options options;
  QuietRocksOptions(&options);
  options.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(kIndexPrefixSize));
  rocksdb::BlockBasedTableOptions table;
  // Look-ups are always by prefix, so filter on prefixes only.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = false;
  table.block_cache = cache;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Keys and digests are random bytes: compression would cost CPU for nothing, and an
  // uncompressed index opens with any RocksDB build, whatever codecs it was built with.
  options.compression = rocksdb::kNoCompression;
  options.bottommost_compression = rocksdb::kDisableCompressionOption;
  options.max_open_files = -1;
  return options;
}

Status ParseEntry(const rocksdb::Slice& key, const rocksdb::Slice& value, const std::string& dir,
                  uint64_t* weak_key, ChunkCandidate* chunk) {
  if (key.size() != kIndexKeySize || value.size() != kIndexValueSize) {
    return Status::Corrupt(
        "chunk index " + dir + " holds an entry of " + std::to_string(key.size()) + "+" +
        std::to_string(value.size()) + " bytes, expected " + std::to_string(kIndexKeySize) + "+" +
        std::to_string(kIndexValueSize) + ": the corpus is damaged; rebuild or re-fetch it");
  }
  *weak_key = LoadBe<uint64_t>(key.data());
  chunk->address = LoadBe<uint64_t>(key.data() + kIndexPrefixSize);
  std::memcpy(chunk->digest.data(), value.data(), chunk->digest.size());
  chunk->length = LoadLe<uint32_t>(value.data() + chunk->digest.size());
  return Status::Ok();
}

Status LookupIn(rocksdb::DB* db, const std::string& dir, uint64_t weak_key,
                std::vector<ChunkCandidate>* out) {
  char prefix[kIndexPrefixSize];
  StoreBe(prefix, weak_key);
  rocksdb::ReadOptions read;
  read.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read));
  for (it->Seek(rocksdb::Slice(prefix, sizeof prefix)); it->Valid(); it->Next()) {
    if (!it->key().starts_with(rocksdb::Slice(prefix, sizeof prefix))) break;
    uint64_t key = 0;
    ChunkCandidate chunk;
    RETURN_IF_ERROR(ParseEntry(it->key(), it->value(), dir, &key, &chunk));
    out->push_back(chunk);
  }
  if (it->status().ok()) return Status::Ok();  // No message built on every look-up.
  return FromRocks(it->status(), "cannot read chunk index " + dir, kReadAdvice);
}

// The digest input per entry: len(key) u32 LE || key || len(value) u32 LE || value.
void HashEntry(const rocksdb::Slice& key, const rocksdb::Slice& value, Blake3Hasher* hasher) {
  char len[4];
  for (const rocksdb::Slice* part : {&key, &value}) {
    StoreLe(len, static_cast<uint32_t>(part->size()));
    hasher->Update({reinterpret_cast<const uint8_t*>(len), sizeof len});
    hasher->Update({reinterpret_cast<const uint8_t*>(part->data()), part->size()});
  }
}

Result<IndexSummary> ScanDb(rocksdb::DB* db, const std::string& dir,
                            const ChunkIndexReader::EntryVisitor& visit) {
  rocksdb::ReadOptions read;
  read.total_order_seek = true;  // Ignore the prefix extractor: visit every key in order.
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read));
  Blake3Hasher hasher;
  IndexSummary summary;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint64_t weak_key = 0;
    ChunkCandidate chunk;
    RETURN_IF_ERROR(ParseEntry(it->key(), it->value(), dir, &weak_key, &chunk));
    if (visit) RETURN_IF_ERROR(visit(weak_key, chunk));
    HashEntry(it->key(), it->value(), &hasher);
    ++summary.entries;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "cannot read chunk index " + dir, kReadAdvice));
  summary.digest = hasher.Final();
  return summary;
}

}  // namespace

std::string EncodeIndexKey(uint64_t weak_key, uint64_t address) {
  std::string key(kIndexKeySize, '\0');
  StoreBe(key.data(), weak_key);
  StoreBe(key.data() + kIndexPrefixSize, address);
  return key;
}

std::string EncodeIndexValue(const Digest& digest, uint32_t length) {
  std::string value(kIndexValueSize, '\0');
  std::memcpy(value.data(), digest.data(), digest.size());
  StoreLe(value.data() + digest.size(), length);
  return value;
}

// ---- ChunkIndexWriter ----

ChunkIndexWriter::ChunkIndexWriter(std::string dir, std::shared_ptr<rocksdb::Cache> cache,
                                   std::unique_ptr<rocksdb::Env> env, rocksdb::DB* db)
    : dir_(std::move(dir)), cache_(std::move(cache)), env_(std::move(env)), db_(db) {}

ChunkIndexWriter::~ChunkIndexWriter() {
  if (db_ != nullptr) (void)db_->Close();
}

Result<std::unique_ptr<ChunkIndexWriter>> ChunkIndexWriter::Create(const std::string& dir,
                                                                   const IndexKey* index_key) {
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(kIndexBlockCacheBytes);
  rocksdb::Options options = CommonOptions(cache);
  std::unique_ptr<rocksdb::Env> env = index_key ? NewEncryptedIndexEnv(*index_key) : nullptr;
  if (env) options.env = env.get();
  options.create_if_missing = true;
  options.error_if_exists = true;
  // The build looks every chunk up before adding it; most of those hit the memtable.
  options.memtable_prefix_bloom_size_ratio = 0.1;
  options.write_buffer_size = 64u << 20;
  options.target_file_size_base = 256u << 20;
  rocksdb::DB* db = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, dir, &db),
                            "cannot create chunk index " + dir, kWriteAdvice));
  return std::unique_ptr<ChunkIndexWriter>(
      new ChunkIndexWriter(dir, std::move(cache), std::move(env), db));
}

Status ChunkIndexWriter::Lookup(uint64_t weak_key, std::vector<ChunkCandidate>* out) const {
  return LookupIn(db_.get(), dir_, weak_key, out);
}

Status ChunkIndexWriter::Add(uint64_t weak_key, const ChunkCandidate& chunk) {
  // No WAL: a build that fails is thrown away, and Finish() flushes the memtable.
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  return FromRocks(db_->Put(write, EncodeIndexKey(weak_key, chunk.address),
                            EncodeIndexValue(chunk.digest, chunk.length)),
                   "cannot write chunk index " + dir_, kWriteAdvice);
}

Result<IndexSummary> ChunkIndexWriter::Finish() {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  RETURN_IF_ERROR(
      FromRocks(db_->Flush(flush), "cannot flush chunk index " + dir_, kWriteAdvice));
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  RETURN_IF_ERROR(FromRocks(db_->CompactRange(compact, nullptr, nullptr),
                            "cannot compact chunk index " + dir_, kWriteAdvice));
  ASSIGN_OR_RETURN(IndexSummary summary, ScanDb(db_.get(), dir_, nullptr));
  rocksdb::Status closed = db_->Close();
  db_.reset();
  RETURN_IF_ERROR(FromRocks(closed, "cannot close chunk index " + dir_, kWriteAdvice));
  return summary;
}

// ---- ChunkIndexReader ----

ChunkIndexReader::ChunkIndexReader(std::string dir, std::shared_ptr<rocksdb::Cache> cache,
                                   std::unique_ptr<rocksdb::Env> env, rocksdb::DB* db)
    : dir_(std::move(dir)), cache_(std::move(cache)), env_(std::move(env)), db_(db) {}

ChunkIndexReader::~ChunkIndexReader() {
  if (db_ != nullptr) (void)db_->Close();
}

Result<std::unique_ptr<ChunkIndexReader>> ChunkIndexReader::Open(const std::string& dir,
                                                                 size_t cache_bytes,
                                                                 const IndexKey* index_key) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::Corrupt("chunk index " + dir +
                           " is missing: the corpus is incomplete; rebuild or re-fetch it");
  }
  std::shared_ptr<rocksdb::Cache> cache =
      rocksdb::NewLRUCache(std::max<size_t>(cache_bytes, size_t{1} << 20));
  rocksdb::Options options = CommonOptions(cache);
  options.create_if_missing = false;
  // Read-only and with no background work: no lock, no new files, no threads, so
  // readers never conflict with one another and opening costs little.
  std::unique_ptr<rocksdb::Env> env =
      NewReadOnlyEnv(index_key ? NewEncryptedIndexEnv(*index_key) : nullptr);
  ReadOnlyRocksOptions(&options, env.get());
  rocksdb::DB* db = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::OpenForReadOnly(options, dir, &db),
                            "cannot open chunk index " + dir, kReadAdvice));
  return std::unique_ptr<ChunkIndexReader>(
      new ChunkIndexReader(dir, std::move(cache), std::move(env), db));
}

Status ChunkIndexReader::Lookup(uint64_t weak_key, std::vector<ChunkCandidate>* out) const {
  return LookupIn(db_.get(), dir_, weak_key, out);
}

Result<IndexSummary> ChunkIndexReader::Scan(const EntryVisitor& visit) const {
  return ScanDb(db_.get(), dir_, visit);
}

}  // namespace reducto
