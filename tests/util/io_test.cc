#include "reducto/io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "reducto/digest.h"

#include "test_support.h"

namespace reducto {
namespace {

using testing::ReadFile;
using testing::ScratchDir;
using testing::WriteFile;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(AtomicFileSink, OutputAppearsOnlyOnCommit) {
  ScratchDir dir;
  std::string path = dir.Join("out");
  auto sink = OpenSink(path, false);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  ASSERT_TRUE((*sink)->Write(Bytes("hello")).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE((*sink)->Commit().ok());
  EXPECT_EQ(ReadFile(path), std::vector<uint8_t>({'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(AtomicFileSink, AbandonedSinkLeavesNothing) {
  ScratchDir dir;
  {
    auto sink = OpenSink(dir.Join("out"), false);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(Bytes("partial")).ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(AtomicFileSink, ExistingFileNeedsOverwrite) {
  ScratchDir dir;
  WriteFile(dir.Join("out"), {1, 2, 3});
  auto refused = OpenSink(dir.Join("out"), false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("already exists"), std::string::npos);
  auto sink = OpenSink(dir.Join("out"), true);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write(Bytes("x")).ok());
  ASSERT_TRUE((*sink)->Commit().ok());
  EXPECT_EQ(ReadFile(dir.Join("out")), std::vector<uint8_t>({'x'}));
}

TEST(AtomicFileSink, NeverReplacesANonRegularFile) {
  ScratchDir dir;
  std::filesystem::create_directory(dir.Join("d"));
  auto sink = OpenSink(dir.Join("d"), true);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.status().message().find("not a regular file"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_directory(dir.Join("d")));
}

TEST(FileSource, MissingFileAndDirectoryAreClearErrors) {
  ScratchDir dir;
  auto missing = OpenSource(dir.Join("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto directory = OpenSource(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), StatusCode::kInvalidArgument);
}

TEST(FileSource, ReadFullReadsEverything) {
  ScratchDir dir;
  auto data = testing::RandomBytes(300000, 7);
  WriteFile(dir.Join("f"), data);
  auto source = OpenSource(dir.Join("f"));
  ASSERT_TRUE(source.ok());
  std::vector<uint8_t> buf(400000);
  auto n = (*source)->ReadFull(buf);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, data.size());
  buf.resize(*n);
  EXPECT_EQ(buf, data);
}

TEST(Digest, HexRoundTripAndConstantTimeEquality) {
  Digest d = Blake3(Bytes("abc"));
  // BLAKE3("abc") from the official test vectors.
  EXPECT_EQ(ToHex(d), "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
  auto parsed = DigestFromHex(ToHex(d));
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(DigestEqual(*parsed, d));
  Digest other = d;
  other[31] ^= 1;
  EXPECT_FALSE(DigestEqual(other, d));
  EXPECT_FALSE(DigestFromHex("zz").ok());
  Blake3Hasher hasher;
  hasher.Update(Bytes("a"));
  hasher.Update(Bytes("bc"));
  EXPECT_TRUE(DigestEqual(hasher.Final(), d));
}

}  // namespace
}  // namespace reducto
