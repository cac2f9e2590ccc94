// The glue between RocksDB and the rest of Reducto, in one place: its errors as Status
// values, options that keep it quiet (no LOG files, no statistics), and what a
// database opened only to be read needs (no background threads).
//
// Thread safety: the functions are thread-safe; an Env from NewReadOnlyEnv is as
// thread-safe as the Env it wraps.
#ifndef REDUCTO_UTIL_ROCKS_H_
#define REDUCTO_UTIL_ROCKS_H_

#include <memory>
#include <string>

#include "reducto/status.h"

namespace rocksdb {
class Env;
class Status;
struct DBOptions;
}  // namespace rocksdb

namespace reducto {

// What a database's errors say after RocksDB's own message, by kind. Define one per
// database as a constant: FromRocks is called on every look-up.
struct RocksErrorAdvice {
  // The code of a failure that is neither refused access nor corruption: kIo for a
  // database being written, kCorrupt for one that must be readable as it is.
  StatusCode other = StatusCode::kIo;
  const char* permission = "";  // After a refused access or a read-only file system.
  const char* corrupt = "";     // After corruption, or any failure when `other` is kCorrupt.
  const char* io = "";          // After any other failure.
};

// OK for an OK `s`; otherwise "<what>: <RocksDB's message><advice>" with the code:
// Permission when the operating system refused access (or the file system is
// read-only), Corrupt when RocksDB found corruption, else advice.other.
Status FromRocks(const rocksdb::Status& s, const std::string& what, const RocksErrorAdvice& advice);

// Writes no informational LOG file into the database directory (a null logger: a
// read-only open would otherwise even rename an existing LOG) and dumps or persists no
// statistics.
void QuietRocksOptions(rocksdb::DBOptions* options);

// For a database opened with DB::OpenForReadOnly only to be read: table files are
// opened by the calling thread (not by 16 helper threads), and `env` (from
// NewReadOnlyEnv) starts no background threads.
void ReadOnlyRocksOptions(rocksdb::DBOptions* options, rocksdb::Env* env);

// An Env over `base` (nullptr: RocksDB's default Env; otherwise owned) that never
// starts background threads: a read-only database schedules no flush or compaction,
// but RocksDB sizes the default Env's thread pools on every open all the same.
// REQUIRES: only read-only databases use it.
std::unique_ptr<rocksdb::Env> NewReadOnlyEnv(std::unique_ptr<rocksdb::Env> base = nullptr);

}  // namespace reducto

#endif  // REDUCTO_UTIL_ROCKS_H_
