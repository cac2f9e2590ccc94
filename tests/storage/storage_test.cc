// Both storages against the contract of storage/storage.h: ranged reads at the edges,
// out-of-range reads, listing, and atomic publication.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "storage/local_directory_storage.h"
#include "storage/memory_storage.h"
#include "test_support.h"

namespace reducto {
namespace {

std::vector<uint8_t> Bytes(const std::string& text) { return {text.begin(), text.end()}; }

enum class Kind { kLocal, kMemory };

class StorageTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kLocal) {
      storage_ = std::make_unique<LocalDirectoryStorage>(scratch_.path());
    } else {
      storage_ = std::make_unique<MemoryStorage>("test");
    }
  }

  testing::ScratchDir scratch_;
  std::unique_ptr<Storage> storage_;
};

TEST_P(StorageTest, RangedReadsAtTheEdges) {
  ASSERT_TRUE(storage_->Publish("pack/000000.seg", Bytes("0123456789")).ok());
  auto file = storage_->Open("pack/000000.seg");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->size(), 10u);
  std::vector<uint8_t> out(3);
  ASSERT_TRUE((*file)->ReadAt(0, out).ok());
  EXPECT_EQ(out, Bytes("012"));
  ASSERT_TRUE((*file)->ReadAt(7, out).ok());  // Ends exactly at the end.
  EXPECT_EQ(out, Bytes("789"));
  std::vector<uint8_t> all(10);
  ASSERT_TRUE((*file)->ReadAt(0, all).ok());
  EXPECT_EQ(all, Bytes("0123456789"));
  EXPECT_TRUE((*file)->ReadAt(10, std::span<uint8_t>()).ok());  // Nothing, at the end.
  ASSERT_TRUE(storage_->Read("pack/000000.seg", 4, out).ok());
  EXPECT_EQ(out, Bytes("456"));
  EXPECT_EQ(*storage_->Size("pack/000000.seg"), 10u);
}

TEST_P(StorageTest, OutOfRangeReadsAreInvalidArgument) {
  ASSERT_TRUE(storage_->Publish("f", Bytes("0123456789")).ok());
  auto file = storage_->Open("f");
  ASSERT_TRUE(file.ok());
  std::vector<uint8_t> out(3);
  EXPECT_EQ((*file)->ReadAt(8, out).code(), StatusCode::kInvalidArgument);   // Past the end.
  EXPECT_EQ((*file)->ReadAt(11, std::span<uint8_t>()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*file)->ReadAt(UINT64_MAX - 1, out).code(), StatusCode::kInvalidArgument);  // Wraps.
  std::vector<uint8_t> big(11);
  EXPECT_EQ((*file)->ReadAt(0, big).code(), StatusCode::kInvalidArgument);
}

TEST_P(StorageTest, MissingFilesAndBadNames) {
  EXPECT_EQ(storage_->Open("missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_->Size("missing").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(storage_->Publish("dir/file", Bytes("x")).ok());
  EXPECT_EQ(storage_->Open("dir").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(storage_->Size("dir").status().code(), StatusCode::kInvalidArgument);
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a\\b", "a/"}) {
    EXPECT_EQ(storage_->Open(bad).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(storage_->Publish(bad, Bytes("x")).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_P(StorageTest, ListsTheFilesOfOneFolderSorted) {
  ASSERT_TRUE(storage_->Publish("manifest.json", Bytes("{}")).ok());
  ASSERT_TRUE(storage_->Publish("signatures/b.sig", Bytes("b")).ok());
  ASSERT_TRUE(storage_->Publish("signatures/a.sig", Bytes("a")).ok());
  ASSERT_TRUE(storage_->Publish("signatures/deeper/c.sig", Bytes("c")).ok());
  auto names = storage_->List("signatures");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"a.sig", "b.sig"}));
  auto top = storage_->List("");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(*top, std::vector<std::string>{"manifest.json"});
  auto none = storage_->List("nothing-here");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(StorageTest, PublishReplacesOrRefusesAtomically) {
  ASSERT_TRUE(storage_->Publish("m", Bytes("old")).ok());
  auto before = storage_->Open("m");
  ASSERT_TRUE(before.ok());
  Status refused = storage_->Publish("m", Bytes("new!"), PublishMode::kNoReplace);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("already exists"), std::string::npos);
  EXPECT_EQ(*storage_->ReadSmall("m", 100), "old");
  ASSERT_TRUE(storage_->Publish("m", Bytes("new!"), PublishMode::kReplace).ok());
  EXPECT_EQ(*storage_->ReadSmall("m", 100), "new!");
  // A file opened before the replacement keeps reading what it opened.
  std::vector<uint8_t> out(3);
  ASSERT_TRUE((*before)->ReadAt(0, out).ok());
  EXPECT_EQ(out, Bytes("old"));
  // No temporary file is left, or listed.
  EXPECT_EQ(*storage_->List(""), std::vector<std::string>{"m"});
  EXPECT_EQ(storage_->ReadSmall("m", 3).status().code(), StatusCode::kCorrupt);  // Too large.
}

TEST_P(StorageTest, ReadersSeeTheOldOrTheNewFileNeverAPart) {
  const std::vector<uint8_t> a(1 << 16, 'a'), b(1 << 16, 'b');
  ASSERT_TRUE(storage_->Publish("f", a).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!stop.load()) {
      auto text = storage_->ReadSmall("f", 1 << 20);
      if (!text.ok()) continue;  // Never NotFound: checked below by the final read.
      if (text->size() != a.size() || text->find_first_not_of(text->front()) != std::string::npos) {
        ++torn;
      }
    }
  });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(storage_->Publish("f", i % 2 ? a : b).ok());
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_TRUE(storage_->Open("f").ok());
}

TEST_P(StorageTest, ViewsWhereTheStorageCanGiveThem) {
  ASSERT_TRUE(storage_->Publish("f", Bytes("abc")).ok());
  auto ranged = storage_->Open("f", FileAccess::kRanges);
  ASSERT_TRUE(ranged.ok());
  EXPECT_FALSE((*ranged)->view().has_value());
  auto viewed = storage_->Open("f", FileAccess::kView);
  ASSERT_TRUE(viewed.ok());
  ASSERT_TRUE((*viewed)->view().has_value());
  EXPECT_EQ(std::vector<uint8_t>((*viewed)->view()->begin(), (*viewed)->view()->end()),
            Bytes("abc"));
  (*viewed)->DropResidentPages();  // The view stays valid.
  EXPECT_EQ((*(*viewed)->view())[2], 'c');
}

INSTANTIATE_TEST_SUITE_P(Both, StorageTest, ::testing::Values(Kind::kLocal, Kind::kMemory),
                         [](const auto& param_info) {
                           return param_info.param == Kind::kLocal ? "Local" : "Memory";
                         });

TEST(LocalDirectoryStorageTest, PublishesWhereAPathWould) {
  testing::ScratchDir scratch;
  LocalDirectoryStorage storage(scratch.path());
  ASSERT_TRUE(storage.Publish("fine/000000.fine", Bytes("x")).ok());
  EXPECT_EQ(testing::ReadFile(scratch.path() + "/fine/000000.fine"), Bytes("x"));
  struct stat st;
  ASSERT_EQ(::stat((scratch.path() + "/fine/000000.fine").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777 & ~0022u, 0644u & ~0022u);
  EXPECT_EQ(storage.PathOf("fine/000000.fine"), scratch.path() + "/fine/000000.fine");
}

TEST(MemoryStorageTest, WithheldViewsAndCountedReads) {
  MemoryStorage storage("remote", MemoryStorage::Views::kWithheld);
  ASSERT_TRUE(storage.Publish("f", Bytes("abcdef")).ok());
  auto file = storage.Open("f", FileAccess::kView);
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE((*file)->view().has_value());
  std::vector<uint8_t> out(4);
  ASSERT_TRUE((*file)->ReadAt(2, out).ok());
  EXPECT_EQ(storage.bytes_read(), 4u);
  EXPECT_EQ(storage.location(), "memory:remote");
}

}  // namespace
}  // namespace reducto
