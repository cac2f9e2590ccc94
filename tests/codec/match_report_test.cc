// What Compress and Decompress report besides the container: progress after each block
// (ProgressObserver), the kinds of the target and corpus streams, and whether the corpus
// matched the target poorly (IsPoorMatch).
#include <gtest/gtest.h>

#include <cstring>

#include "codec/encoder.h"
#include "codec_test_util.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/stream_kind.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::AsBytes;
using testing::RandomBytes;
using testing::ScratchDir;

class RecordingProgress : public ProgressObserver {
 public:
  void OnProgress(const Progress& progress) override { reports.push_back(progress); }
  std::vector<Progress> reports;
};

// Counts must only grow, and the last report must carry the final counts.
void ExpectMonotonic(const std::vector<Progress>& reports) {
  for (size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GE(reports[i].input_bytes, reports[i - 1].input_bytes);
    EXPECT_GE(reports[i].output_bytes, reports[i - 1].output_bytes);
    EXPECT_GE(reports[i].blocks, reports[i - 1].blocks);
  }
}

// A 512-byte ustar header for `name` (its checksum is not needed to be recognised).
std::vector<uint8_t> TarHeader(const std::string& name) {
  std::vector<uint8_t> header(512, 0);
  std::memcpy(header.data(), name.data(), std::min<size_t>(name.size(), 99));
  std::memcpy(header.data() + 257, "ustar", 5);
  return header;
}

class MatchReportTest : public ::testing::Test {
 protected:
  // Files of 3000 bytes each (shorter than a chunk), a corpus built from them.
  void SetUp() override {
    for (int i = 0; i < 100; ++i) {
      files_.push_back(RandomBytes(3000, 500 + static_cast<uint64_t>(i)));
      testing::WriteFile(dir_.Join("f" + std::to_string(1000 + i)), files_.back());
    }
    std::vector<std::string> inputs;
    for (int i = 0; i < 100; ++i) inputs.push_back(dir_.Join("f" + std::to_string(1000 + i)));
    CorpusBuildOptions options;
    options.chunking = ChunkerParams::ForAverage(4096);
    ASSERT_TRUE(BuildCorpus(inputs, dir_.Join("files-corpus"), options).ok());
  }

  // The files one after the other, each after a tar header when `tar`.
  std::vector<uint8_t> Concatenated(bool tar) const {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < files_.size(); ++i) {
      if (tar) {
        auto header = TarHeader("f" + std::to_string(1000 + i));
        out.insert(out.end(), header.begin(), header.end());
      }
      out.insert(out.end(), files_[i].begin(), files_[i].end());
    }
    return out;
  }

  Result<CompressStats> CompressTo(const std::string& corpus, const std::vector<uint8_t>& target,
                                   const CompressOptions& options, std::string* container) {
    auto source = MemorySource(target, "target");
    auto sink = MemorySink(container, "target.rdc");
    return Compress(corpus, *source, *sink, options);
  }

  ScratchDir dir_;
  std::vector<std::vector<uint8_t>> files_;
};

TEST(StreamKindTest, RecognisesMagicNumbers) {
  std::vector<uint8_t> tar = TarHeader("a");
  EXPECT_EQ(DetectStreamKind(tar), StreamKind::kTar);
  EXPECT_EQ(DetectStreamKind(std::vector<uint8_t>{0x1f, 0x8b, 8, 0}), StreamKind::kGzip);
  EXPECT_EQ(DetectStreamKind(std::vector<uint8_t>{0xfd, '7', 'z', 'X', 'Z', 0}), StreamKind::kXz);
  EXPECT_EQ(DetectStreamKind(std::vector<uint8_t>{0x28, 0xb5, 0x2f, 0xfd, 0}),
            StreamKind::kZstd);
  EXPECT_EQ(DetectStreamKind(std::vector<uint8_t>{'B', 'Z', 'h', '9'}), StreamKind::kBzip2);
  const char* ar = "!<arch>\ndebian-binary   ";
  EXPECT_EQ(DetectStreamKind(std::span(reinterpret_cast<const uint8_t*>(ar), 24)),
            StreamKind::kAr);
  // Too short for the tar magic, and plain data.
  EXPECT_EQ(DetectStreamKind(std::span(tar).first(260)), StreamKind::kOther);
  EXPECT_EQ(DetectStreamKind(RandomBytes(512, 1)), StreamKind::kOther);
  EXPECT_TRUE(IsCompressedKind(StreamKind::kXz));
  EXPECT_FALSE(IsCompressedKind(StreamKind::kTar));
}

TEST(StreamKindTest, TarHeadersAreFoundAnywhere) {
  std::vector<uint8_t> pack = RandomBytes(40000, 3);
  EXPECT_FALSE(HoldsTarHeader(pack));
  for (const std::string& magic : {std::string("ustar\0" "00", 8), std::string("ustar  \0", 8)}) {
    std::vector<uint8_t> reordered = pack;  // A header far from the start, unaligned.
    std::copy(magic.begin(), magic.end(), reordered.begin() + 30001);
    EXPECT_EQ(DetectStreamKind(reordered), StreamKind::kOther);
    EXPECT_TRUE(HoldsTarHeader(reordered));
  }
}

TEST_F(MatchReportTest, TarOfTheFilesAgainstACorpusOfTheFilesIsPoor) {
  std::string container;
  auto stats = CompressTo(dir_.Join("files-corpus"), Concatenated(/*tar=*/true),
                          CompressOptions(), &container);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->target_kind, StreamKind::kTar);
  EXPECT_EQ(stats->corpus_kind, StreamKind::kOther);
  EXPECT_TRUE(stats->poor_match);
}

TEST_F(MatchReportTest, TarAgainstACorpusBuiltFromTheTarIsGood) {
  std::vector<uint8_t> tar = Concatenated(/*tar=*/true);
  testing::WriteFile(dir_.Join("files.tar"), tar);
  CorpusBuildOptions build;
  build.chunking = ChunkerParams::ForAverage(4096);
  ASSERT_TRUE(BuildCorpus({dir_.Join("files.tar")}, dir_.Join("tar-corpus"), build).ok());
  std::string container;
  auto stats = CompressTo(dir_.Join("tar-corpus"), tar, CompressOptions(), &container);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->corpus_kind, StreamKind::kTar);
  EXPECT_FALSE(stats->poor_match);
}

// An edit every 2,000 bytes breaks every chunk: the fast profile sends nearly all of it
// as literals, which says how fast searches, not that the corpus is the wrong one; the
// default profile finds it between the edits.
TEST_F(MatchReportTest, ScatteredEditsAreNotAPoorMatchInAnyProfile) {
  std::vector<uint8_t> target = Concatenated(/*tar=*/false);
  for (size_t at = 1000; at < target.size(); at += 2000) target[at] ^= 0x55;
  for (Profile profile : {Profile::kFast, Profile::kDefault}) {
    CompressOptions options;
    options.profile = profile;
    std::string container;
    auto stats = CompressTo(dir_.Join("files-corpus"), target, options, &container);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_FALSE(stats->poor_match) << ProfileName(profile) << ": " << stats->literal_bytes
                                    << " of " << stats->input_bytes << " bytes literal";
  }
}

TEST_F(MatchReportTest, PlainTargetThatTheCorpusHoldsIsGood) {
  std::string container;
  auto stats = CompressTo(dir_.Join("files-corpus"), Concatenated(/*tar=*/false),
                          CompressOptions(), &container);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->target_kind, StreamKind::kOther);
  EXPECT_FALSE(stats->poor_match);
}

TEST_F(MatchReportTest, UnrelatedTargetIsPoorAndStandaloneIsNot) {
  std::string container;
  std::vector<uint8_t> unrelated = RandomBytes(200000, 9);
  auto stats = CompressTo(dir_.Join("files-corpus"), unrelated, CompressOptions(), &container);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(stats->poor_match);
  CompressOptions standalone;
  standalone.standalone = true;
  stats = CompressTo("", unrelated, standalone, &container);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_FALSE(stats->poor_match);
}

// Compression reports after each segment (kSegmentSize: one here), decompression after
// each block.
TEST_F(MatchReportTest, ProgressIsReportedPerSegmentAndPerBlock) {
  std::vector<uint8_t> target = Concatenated(/*tar=*/false);
  RecordingProgress compress_progress;
  CompressOptions options;
  options.block_size = 64u << 10;
  options.progress = &compress_progress;
  std::string container;
  auto stats = CompressTo(dir_.Join("files-corpus"), target, options, &container);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_LT(target.size(), kSegmentSize);
  ASSERT_GT(stats->blocks, 1u);
  ASSERT_GE(compress_progress.reports.size(), 1u);
  ExpectMonotonic(compress_progress.reports);
  EXPECT_EQ(compress_progress.reports.back().input_bytes, target.size());
  EXPECT_EQ(compress_progress.reports.back().output_bytes, target.size());
  EXPECT_EQ(compress_progress.reports.back().blocks, stats->blocks);

  RecordingProgress decompress_progress;
  DecompressOptions decompress;
  decompress.progress = &decompress_progress;
  std::string output;
  auto source = MemorySource(AsBytes(container), "target.rdc");
  auto sink = MemorySink(&output, "target");
  auto decoded = Decompress(dir_.Join("files-corpus"), *source, *sink, decompress);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_GE(decompress_progress.reports.size(), decoded->blocks);
  ExpectMonotonic(decompress_progress.reports);
  EXPECT_EQ(decompress_progress.reports.back().input_bytes, container.size());
  EXPECT_EQ(decompress_progress.reports.back().output_bytes, target.size());
}

TEST_F(MatchReportTest, CorpusBuildReportsProgress) {
  std::vector<uint8_t> input = RandomBytes(10u << 20, 11);
  testing::WriteFile(dir_.Join("big"), input);
  RecordingProgress progress;
  CorpusBuildOptions options;
  options.chunking = ChunkerParams::ForAverage(4096);
  options.progress = &progress;
  auto info = BuildCorpus({dir_.Join("big")}, dir_.Join("big-corpus"), options);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  // Every 4 MiB of input, and once at the end.
  ASSERT_GE(progress.reports.size(), 3u);
  ExpectMonotonic(progress.reports);
  EXPECT_EQ(progress.reports.back().input_bytes, input.size());
  EXPECT_EQ(progress.reports.back().output_bytes, info->pack_bytes());
}

}  // namespace
}  // namespace reducto
