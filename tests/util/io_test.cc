#include "reducto/io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "reducto/digest.h"
#include "util/file_sink.h"

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

size_t EntryCount(const std::string& dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

constexpr TemporaryFile kBothTemporaries[] = {TemporaryFile::kUnnamedWhereSupported,
                                              TemporaryFile::kNamed};

TEST(AtomicFileSink, UnnamedTemporaryHasNoNameWhileWriting) {
  ScratchDir dir;
  auto sink = OpenSink(dir.Join("out"), false);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  ASSERT_TRUE((*sink)->Write(Bytes("partial")).ok());
  // A process killed now would leave nothing: the test's file system has O_TMPFILE.
  EXPECT_EQ(EntryCount(dir.path()), 0u);
}

TEST(AtomicFileSink, FileThatAppearedMeanwhileIsKept) {
  for (TemporaryFile temporary : kBothTemporaries) {
    ScratchDir dir;
    auto sink = OpenFileSink(dir.Join("out"), SinkOptions{}, temporary);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    ASSERT_TRUE((*sink)->Write(Bytes("mine")).ok());
    WriteFile(dir.Join("out"), {'t', 'h', 'e', 'i', 'r', 's'});
    Status committed = (*sink)->Commit();
    EXPECT_EQ(committed.code(), StatusCode::kUnavailable) << committed.ToString();
    EXPECT_NE(committed.message().find("appeared while this command ran"), std::string::npos);
    EXPECT_EQ(ReadFile(dir.Join("out")), std::vector<uint8_t>({'t', 'h', 'e', 'i', 'r', 's'}));
    sink->reset();
    EXPECT_EQ(EntryCount(dir.path()), 1u);
  }
}

TEST(AtomicFileSink, OverwriteReplacesAFileThatAppearedMeanwhile) {
  for (TemporaryFile temporary : kBothTemporaries) {
    ScratchDir dir;
    SinkOptions options;
    options.overwrite = true;
    auto sink = OpenFileSink(dir.Join("out"), options, temporary);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    ASSERT_TRUE((*sink)->Write(Bytes("mine")).ok());
    WriteFile(dir.Join("out"), {'t'});
    ASSERT_TRUE((*sink)->Commit().ok());
    EXPECT_EQ(ReadFile(dir.Join("out")), std::vector<uint8_t>({'m', 'i', 'n', 'e'}));
    EXPECT_EQ(EntryCount(dir.path()), 1u);
  }
}

FileInfo InfoOf(const std::string& path) {
  auto source = OpenSource(path);
  EXPECT_TRUE(source.ok());
  auto info = (*source)->file_info();
  EXPECT_TRUE(info.has_value());
  return info.value_or(FileInfo{});
}

TEST(AtomicFileSink, NeverWritesOverTheInput) {
  ScratchDir dir;
  WriteFile(dir.Join("in"), {1, 2, 3});
  SinkOptions options;
  options.overwrite = true;
  options.input = InfoOf(dir.Join("in"));
  std::filesystem::create_hard_link(dir.Join("in"), dir.Join("link"));
  for (const char* name : {"in", "link"}) {
    auto sink = OpenSink(dir.Join(name), options);
    ASSERT_FALSE(sink.ok());
    EXPECT_NE(sink.status().message().find("is the input file itself"), std::string::npos);
  }
  EXPECT_EQ(ReadFile(dir.Join("in")), std::vector<uint8_t>({1, 2, 3}));
}

TEST(AtomicFileSink, KeepsTheInputsPermissionsAndModificationTime) {
  for (TemporaryFile temporary : kBothTemporaries) {
    ScratchDir dir;
    WriteFile(dir.Join("in"), {1});
    ASSERT_EQ(::chmod(dir.Join("in").c_str(), 0640), 0);
    timespec times[2] = {{0, UTIME_OMIT}, {981173106, 500000000}};
    ASSERT_EQ(::utimensat(AT_FDCWD, dir.Join("in").c_str(), times, 0), 0);
    SinkOptions options;
    options.input = InfoOf(dir.Join("in"));
    options.keep_input_attributes = true;
    auto sink = OpenFileSink(dir.Join("out"), options, temporary);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    ASSERT_TRUE((*sink)->Write(Bytes("x")).ok());
    ASSERT_TRUE((*sink)->Commit().ok());
    struct stat st;
    ASSERT_EQ(::stat(dir.Join("out").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_mtim.tv_sec, 981173106);
    EXPECT_EQ(st.st_mtim.tv_nsec, 500000000);
  }
}

// The named fallback's temporary file is removed by the interrupt handler.
TEST(AtomicFileSink, InterruptRemovesTheNamedTemporary) {
  ScratchDir dir;
  EXPECT_EXIT(
      {
        InstallInterruptCleanup();
        auto sink = OpenFileSink(dir.Join("out"), SinkOptions{}, TemporaryFile::kNamed);
        if (!sink.ok() || !(*sink)->Write(Bytes("partial")).ok()) ::_exit(1);
        if (EntryCount(dir.path()) != 1) ::_exit(2);  // The named temporary is there.
        ::raise(SIGTERM);
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "terminated");
  EXPECT_EQ(EntryCount(dir.path()), 0u);
}

TEST(NamesStandardInput, DashAndPathsToDescriptorZero) {
  ScratchDir dir;
  WriteFile(dir.Join("f"), {1});
  EXPECT_TRUE(NamesStandardInput("-"));
  EXPECT_FALSE(NamesStandardInput(dir.Join("f")));
  EXPECT_FALSE(NamesStandardInput(dir.Join("missing")));
  struct stat st;
  if (::fstat(STDIN_FILENO, &st) == 0) {
    EXPECT_TRUE(NamesStandardInput("/dev/stdin"));
  }
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
