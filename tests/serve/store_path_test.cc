#include "serve/store_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "test_support.h"

namespace reducto::serve {
namespace {

using Segments = std::vector<std::string>;

TEST(SplitTargetTest, DecodesEachSegmentAndDropsTheQuery) {
  Result<Segments> s = SplitTarget("/corpora/7f%20x/pack/000001.pz?x=1");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, (Segments{"corpora", "7f x", "pack", "000001.pz"}));
}

TEST(SplitTargetTest, RefusesEveryWayOut) {
  for (const char* target :
       {"", "corpora/x", "/", "//etc/passwd", "/a//b", "/a/", "/..", "/a/../b", "/./a", "/%2e%2e/a",
        "/%2E%2e/a", "/%2e/a", "/a%2Fb", "/a%2fb", "/a%5cb", "/a\\b", "/a%00b", "/a%0ab", "/a%",
        "/a%2", "/a%zz"}) {
    EXPECT_FALSE(SplitTarget(target).ok()) << target;
  }
}

class OpenStoreFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(dir_.Join("store").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(dir_.Join("store/pack").c_str(), 0755), 0);
    testing::WriteFile(dir_.Join("store/pack/1.pz"), {1, 2, 3});
    testing::WriteFile(dir_.Join("outside"), {9});
    ASSERT_EQ(::symlink(dir_.Join("outside").c_str(), dir_.Join("store/out").c_str()), 0);
    ASSERT_EQ(::symlink("pack/1.pz", dir_.Join("store/in").c_str()), 0);
    ASSERT_EQ(::symlink(dir_.path().c_str(), dir_.Join("store/up").c_str()), 0);
    store_fd_ = ::open(dir_.Join("store").c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(store_fd_, 0);
  }
  void TearDown() override { ::close(store_fd_); }

  testing::ScratchDir dir_;
  int store_fd_ = -1;
};

TEST_F(OpenStoreFileTest, OpensARegularFile) {
  Result<int> fd = OpenStoreFile(store_fd_, {"pack", "1.pz"});
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  char buf[8];
  EXPECT_EQ(::read(*fd, buf, sizeof buf), 3);
  ::close(*fd);
}

TEST_F(OpenStoreFileTest, SymlinksDirectoriesAndMissingNamesAreNotFound) {
  for (const Segments& path : {Segments{"out"}, Segments{"in"}, Segments{"up", "outside"},
                               Segments{"pack"}, Segments{"pack", "2.pz"}, Segments{"pack", "1.pz", "x"},
                               Segments{}}) {
    Result<int> fd = OpenStoreFile(store_fd_, path);
    ASSERT_FALSE(fd.ok());
    EXPECT_EQ(fd.status().code(), StatusCode::kNotFound);
  }
}

}  // namespace
}  // namespace reducto::serve
