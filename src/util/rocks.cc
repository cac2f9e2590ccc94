#include "util/rocks.h"

#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/status.h>

#include <cstdarg>

namespace reducto {
namespace {

class NullLogger final : public rocksdb::Logger {
 public:
  NullLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
  void Logv(const rocksdb::InfoLogLevel /*level*/, const char* /*format*/,
            va_list /*ap*/) override {}
};

class ReadOnlyEnv final : public rocksdb::EnvWrapper {
 public:
  explicit ReadOnlyEnv(rocksdb::Env* base) : rocksdb::EnvWrapper(base) {}
  explicit ReadOnlyEnv(std::unique_ptr<rocksdb::Env> base) : rocksdb::EnvWrapper(std::move(base)) {}
  const char* Name() const override { return "ReductoReadOnlyEnv"; }
  void IncBackgroundThreadsIfNeeded(int /*number*/, Priority /*pri*/) override {}
};

}  // namespace

Status FromRocks(const rocksdb::Status& s, const std::string& what, const RocksErrorAdvice& advice) {
  if (s.ok()) return Status::Ok();
  const std::string text = s.ToString();
  const std::string msg = what + ": " + text;
  if (text.find("Permission denied") != std::string::npos ||
      text.find("Read-only file system") != std::string::npos) {
    return Status::Permission(msg + advice.permission);
  }
  if (s.IsCorruption() || advice.other == StatusCode::kCorrupt) {
    return Status::Corrupt(msg + advice.corrupt);
  }
  switch (advice.other) {
    case StatusCode::kUnavailable: return Status::Unavailable(msg + advice.io);
    case StatusCode::kInvalidArgument: return Status::InvalidArgument(msg + advice.io);
    default: return Status::Io(msg + advice.io);
  }
}

void QuietRocksOptions(rocksdb::DBOptions* options) {
  options->info_log = std::make_shared<NullLogger>();
  options->stats_dump_period_sec = 0;
  options->stats_persist_period_sec = 0;
}

void ReadOnlyRocksOptions(rocksdb::DBOptions* options, rocksdb::Env* env) {
  options->env = env;
  options->max_file_opening_threads = 1;
  options->skip_stats_update_on_db_open = true;
}

std::unique_ptr<rocksdb::Env> NewReadOnlyEnv(std::unique_ptr<rocksdb::Env> base) {
  if (base) return std::make_unique<ReadOnlyEnv>(std::move(base));
  return std::make_unique<ReadOnlyEnv>(rocksdb::Env::Default());
}

}  // namespace reducto
