// DeleteCorpus (overwrite, then unlink; dependents; hard links) and CollectGarbage
// (expired corpora, kept parents, leftovers, dry runs).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "corpus/corpus_test_util.h"
#include "reducto/corpus.h"
#include "reducto/retention.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ScratchDir;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFile(dir_.Join("ref"), RandomBytes(300000, 1));
    testing::WriteFile(dir_.Join("new"), RandomBytes(200000, 2));
    std::filesystem::create_directory(dir_.Join("store"));
    CorpusBuildOptions options;
    options.chunking = testing::TestParams();
    ASSERT_TRUE(BuildCorpus({dir_.Join("ref")}, store("a"), options).ok());
  }
  std::string store(const std::string& name = "") const {
    return dir_.Join("store") + (name.empty() ? "" : "/" + name);
  }
  void Update(const std::string& parent, const std::string& out) {
    ASSERT_TRUE(UpdateCorpus(store(parent), {dir_.Join("new")}, store(out), {}).ok());
  }

  ScratchDir dir_;
};

TEST_F(RetentionTest, DeleteOverwritesThenRemovesEverything) {
  std::string pack = store("a") + "/pack/000000.seg";
  int fd = ::open(pack.c_str(), O_RDONLY);  // Still reads the inode after the unlink.
  ASSERT_GE(fd, 0);
  std::vector<uint8_t> before(4096), after(4096);
  ASSERT_EQ(::pread(fd, before.data(), before.size(), 0), 4096);
  std::filesystem::create_directory(store("a.usage"));
  testing::WriteFile(store("a.usage") + "/run", {1, 2, 3});
  auto report = DeleteCorpus(store("a"), {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GE(report->bytes, 300000u);
  EXPECT_FALSE(std::filesystem::exists(store("a")));
  EXPECT_FALSE(std::filesystem::exists(store("a.usage")));
  ASSERT_EQ(::pread(fd, after.data(), after.size(), 0), 4096);
  ::close(fd);
  EXPECT_NE(before, after) << "the pack was unlinked without being overwritten";
}

TEST_F(RetentionTest, ASymbolicLinkToACorpusIsRefusedBeforeAnythingIsTouched) {
  const std::string link = dir_.Join("clink");
  ASSERT_EQ(::symlink(store("a").c_str(), link.c_str()), 0);
  const std::string pack = store("a") + "/pack/000000.seg";
  const auto before = testing::ReadFile(pack);
  for (const std::string& name : {link, link + "/", link + "//"}) {
    auto report = DeleteCorpus(name, {});
    ASSERT_FALSE(report.ok()) << name;
    EXPECT_EQ(report.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(report.status().message().find("symbolic link"), std::string::npos)
        << report.status().ToString();
  }
  EXPECT_EQ(testing::ReadFile(pack), before);
  EXPECT_TRUE(ReadCorpusInfo(link).ok());
  ASSERT_TRUE(DeleteCorpus(store("a"), {}).ok());
}

TEST_F(RetentionTest, FilesWithOtherLinksAreOnlyUnlinked) {
  std::string pack = store("a") + "/pack/000000.seg";
  ASSERT_EQ(::link(pack.c_str(), dir_.Join("backup").c_str()), 0);
  std::vector<uint8_t> original = testing::ReadFile(dir_.Join("backup"));
  auto report = DeleteCorpus(store("a"), {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->linked_files, 1u);
  EXPECT_EQ(testing::ReadFile(dir_.Join("backup")), original);
}

TEST_F(RetentionTest, AParentIsDeletedOnlyWithForce) {
  Update("a", "b");
  auto refused = DeleteCorpus(store("a"), {});
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("is the parent of"), std::string::npos);
  EXPECT_TRUE(ReadCorpusInfo(store("a")).ok()) << "a refused delete touched the corpus";
  CorpusDeleteOptions force;
  force.force = true;
  auto report = DeleteCorpus(store("a"), force);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->dependents.size(), 1u);
  EXPECT_EQ(DeleteCorpus(dir_.Join("ref"), {}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RetentionTest, GcDeletesExpiredCorporaWithTheirVersions) {
  Update("a", "b");
  const int64_t now = std::time(nullptr);
  RetentionPolicy policy;
  policy.corpus_max_age_seconds = 3600;
  auto nothing = CollectGarbage(store(), policy, false, now);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());
  // A day later both expired: the version, then its parent, go.
  auto dry = CollectGarbage(store(), policy, true, now + 86400);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->size(), 2u);
  EXPECT_TRUE(ReadCorpusInfo(store("a")).ok()) << "a dry run deleted";
  auto done = CollectGarbage(store(), policy, false, now + 86400);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(store("a")));
  EXPECT_FALSE(std::filesystem::exists(store("b")));
}

TEST_F(RetentionTest, GcKeepsTheParentOfACorpusThatStays) {
  ::sleep(2);  // Manifests record whole seconds: `b` must be younger than `a`.
  Update("a", "b");
  RetentionPolicy policy;
  policy.corpus_max_age_seconds = 1;
  auto actions = CollectGarbage(store(), policy, false, std::time(nullptr) + 1);
  ASSERT_TRUE(actions.ok()) << actions.status().ToString();
  ASSERT_EQ(actions->size(), 1u);
  EXPECT_FALSE((*actions)[0].done);
  EXPECT_NE((*actions)[0].reason.find("kept: a corpus that stays builds on it"), std::string::npos);
  EXPECT_TRUE(ReadCorpusInfo(store("a")).ok());
  EXPECT_TRUE(ReadCorpusInfo(store("b")).ok());
}

TEST_F(RetentionTest, GcRemovesOldLeftoversOnly) {
  std::filesystem::create_directories(store("c.tmp-1234/pack"));
  std::filesystem::create_directories(store("d/index"));  // A corpus without manifest.
  std::filesystem::create_directories(store("gone.usage/x"));
  std::filesystem::create_directories(store("fresh.tmp-99"));
  const int64_t now = std::time(nullptr);
  for (const char* name : {"c.tmp-1234", "d", "gone.usage"}) {
    struct timespec times[2] = {{now - 7200, 0}, {now - 7200, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, store(name).c_str(), times, 0), 0);
  }
  RetentionPolicy policy;  // Leftovers after 1 h; corpora kept.
  auto actions = CollectGarbage(store(), policy, false, now);
  ASSERT_TRUE(actions.ok()) << actions.status().ToString();
  EXPECT_EQ(actions->size(), 3u);
  EXPECT_FALSE(std::filesystem::exists(store("c.tmp-1234")));
  EXPECT_FALSE(std::filesystem::exists(store("d")));
  EXPECT_FALSE(std::filesystem::exists(store("gone.usage")));
  EXPECT_TRUE(std::filesystem::exists(store("fresh.tmp-99"))) << "a build in progress was removed";
  EXPECT_TRUE(ReadCorpusInfo(store("a")).ok());
}

}  // namespace
}  // namespace reducto
