#include "util/rocks.h"

#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/status.h>

namespace reducto {
namespace {

constexpr RocksErrorAdvice kAdvice{StatusCode::kIo, " [permission]", " [corrupt]", " [io]"};

TEST(RocksTest, ErrorsBecomeStatusesWithTheirAdvice) {
  EXPECT_TRUE(FromRocks(rocksdb::Status::OK(), "unused", kAdvice).ok());
  Status denied = FromRocks(rocksdb::Status::IOError("open", "Permission denied"), "cannot open x",
                            kAdvice);
  EXPECT_EQ(denied.code(), StatusCode::kPermission);
  EXPECT_EQ(denied.message().rfind("cannot open x: ", 0), 0u);
  EXPECT_NE(denied.message().find(" [permission]"), std::string::npos);
  Status read_only = FromRocks(rocksdb::Status::IOError("Read-only file system"), "w", kAdvice);
  EXPECT_EQ(read_only.code(), StatusCode::kPermission);
  Status corrupt = FromRocks(rocksdb::Status::Corruption("bad block"), "r", kAdvice);
  EXPECT_EQ(corrupt.code(), StatusCode::kCorrupt);
  EXPECT_NE(corrupt.message().find("bad block [corrupt]"), std::string::npos);
  Status io = FromRocks(rocksdb::Status::IOError("No space left"), "w", kAdvice);
  EXPECT_EQ(io.code(), StatusCode::kIo);
  EXPECT_NE(io.message().find(" [io]"), std::string::npos);
  // A database that must be readable as it is calls every other failure corruption.
  constexpr RocksErrorAdvice kReader{StatusCode::kCorrupt, "", " [damaged]", ""};
  EXPECT_EQ(FromRocks(rocksdb::Status::IOError("gone"), "r", kReader).code(), StatusCode::kCorrupt);
}

TEST(RocksTest, ReadOnlyEnvStartsNoBackgroundThreads) {
  std::unique_ptr<rocksdb::Env> env = NewReadOnlyEnv();
  const int before = env->GetBackgroundThreads(rocksdb::Env::Priority::BOTTOM);
  env->IncBackgroundThreadsIfNeeded(8, rocksdb::Env::Priority::BOTTOM);
  EXPECT_EQ(env->GetBackgroundThreads(rocksdb::Env::Priority::BOTTOM), before);
  rocksdb::DBOptions options;
  ReadOnlyRocksOptions(&options, env.get());
  QuietRocksOptions(&options);
  EXPECT_EQ(options.env, env.get());
  EXPECT_EQ(options.max_file_opening_threads, 1);
  EXPECT_EQ(options.stats_dump_period_sec, 0u);
  EXPECT_NE(options.info_log, nullptr);
}

}  // namespace
}  // namespace reducto
