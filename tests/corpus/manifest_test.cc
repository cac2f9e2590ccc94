#include "corpus/manifest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "corpus/corpus_test_util.h"
#include "reducto/corpus.h"
#include "test_support.h"
#include "reducto/progress.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ReadFile;
using testing::ScratchDir;
using testing::WriteFile;

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Join("f"), RandomBytes(80000, 21));
    CorpusBuildOptions options;
    options.chunking = testing::TestParams();
    auto info = BuildCorpus({dir_.Join("f")}, corpus(), options);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    info_ = *info;
    original_ = ReadFile(manifest_path());
  }

  void RestoreManifest() { WriteFile(manifest_path(), original_); }

  std::string corpus() const { return dir_.Join("corpus"); }
  std::string manifest_path() const { return corpus() + "/manifest.json"; }

  void WriteManifest(const std::string& text) {
    WriteFile(manifest_path(), std::vector<uint8_t>(text.begin(), text.end()));
  }

  // Rewrites manifest.json after `edit` changed its JSON.
  void EditManifest(const std::function<void(nlohmann::json&)>& edit) {
    auto bytes = ReadFile(manifest_path());
    auto json = nlohmann::json::parse(bytes.begin(), bytes.end());
    edit(json);
    WriteManifest(json.dump(2));
  }

  // ReadCorpusInfo must fail with `code` and a message containing `text`.
  void ExpectError(StatusCode code, const std::string& text) {
    auto info = ReadCorpusInfo(corpus());
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.status().code(), code) << info.status().ToString();
    EXPECT_NE(info.status().message().find(text), std::string::npos) << info.status().message();
  }

  ScratchDir dir_;
  CorpusInfo info_;
  std::vector<uint8_t> original_;
};

TEST_F(ManifestTest, RoundTripsThroughSerializeAndParse) {
  std::string text = SerializeManifest(info_);
  auto parsed = ParseManifest(text, "test");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(SerializeManifest(*parsed), text);
  auto bytes = ReadFile(manifest_path());
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), text);
}

TEST_F(ManifestTest, ReadFillsPathAndDigest) {
  auto info = ReadCorpusInfo(corpus());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->path, corpus());
  EXPECT_TRUE(DigestEqual(info->manifest_digest, Blake3(ReadFile(manifest_path()))));
  EXPECT_EQ(info->segments.size(), 1u);
  EXPECT_EQ(info->index_entries, info->unique_chunks);
}

TEST_F(ManifestTest, MissingDirectory) {
  auto info = ReadCorpusInfo(dir_.Join("nothing"));
  EXPECT_EQ(info.status().code(), StatusCode::kNotFound);
  EXPECT_NE(info.status().message().find("not found: build one with `reducto corpus build -o"),
            std::string::npos);
}

TEST_F(ManifestTest, DirectoryWithoutManifest) {
  std::filesystem::create_directory(dir_.Join("plain"));
  auto info = ReadCorpusInfo(dir_.Join("plain"));
  EXPECT_EQ(info.status().code(), StatusCode::kNotFound);
  EXPECT_NE(info.status().message().find("is not a Reducto corpus (no manifest.json)"),
            std::string::npos);
  auto file = ReadCorpusInfo(dir_.Join("f"));
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
}

TEST_F(ManifestTest, GarbageManifest) {
  WriteManifest("{\"format\": \"reducto-corpus\", ");
  ExpectError(StatusCode::kCorrupt, "is not valid JSON");
  WriteManifest("[1, 2]");
  ExpectError(StatusCode::kCorrupt, "not a JSON object");
  WriteManifest(std::string("\x00\xff\xfe", 3));
  ExpectError(StatusCode::kCorrupt, "rebuild or re-fetch");
}

TEST_F(ManifestTest, OversizedManifest) {
  WriteManifest(std::string((16u << 20) + 1, ' '));
  ExpectError(StatusCode::kCorrupt, "larger than");
}

TEST_F(ManifestTest, WrongFormatOrVersion) {
  EditManifest([](nlohmann::json& j) { j["format"] = "zip"; });
  ExpectError(StatusCode::kCorrupt, "not a Reducto corpus manifest");
  EditManifest([](nlohmann::json& j) {
    j["format"] = "reducto-corpus";
    j["format_version"] = 4;
  });
  ExpectError(StatusCode::kCorrupt, "format version 4 is not supported");
  EditManifest([](nlohmann::json& j) { j["format_version"] = 3; });  // Encrypted, no "encryption".
  ExpectError(StatusCode::kCorrupt, "field 'encryption' is missing");
  EditManifest([](nlohmann::json& j) {
    j["encryption"] = {{"pack_cipher", "rot13"}, {"pack_chunk_size", 65536},
                       {"index_cipher", "xchacha20"}, {"data_key", "data-key"}};
  });
  ExpectError(StatusCode::kCorrupt, "field 'encryption.pack_cipher' must be");
  EditManifest([](nlohmann::json& j) {
    j["encryption"]["pack_cipher"] = "aes-256-gcm";
    j["encryption"]["data_key"] = "../../etc/key";
  });
  ExpectError(StatusCode::kCorrupt, "field 'encryption.data_key' must be \"data-key\"");
  EditManifest([](nlohmann::json& j) { j.erase("encryption"); });
  EditManifest([](nlohmann::json& j) { j["format_version"] = 2; });  // A version, no parent.
  ExpectError(StatusCode::kCorrupt, "field 'parent' must be a lowercase UUID in version 2");
  EditManifest([](nlohmann::json& j) {
    j["format_version"] = 1;
    j["chunking"]["algorithm"] = "rabin";
  });
  ExpectError(StatusCode::kCorrupt, "'rabin' is not supported");
}

TEST_F(ManifestTest, MissingOrMistypedFields) {
  EditManifest([](nlohmann::json& j) { j.erase("chunking"); });
  ExpectError(StatusCode::kCorrupt, "field 'chunking' is missing");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["input_bytes"] = "many"; });
  ExpectError(StatusCode::kCorrupt, "field 'input_bytes' must be an unsigned integer");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["chunk_count"] = -1; });
  ExpectError(StatusCode::kCorrupt, "field 'chunk_count' must be an unsigned integer");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["id"] = "not-a-uuid"; });
  ExpectError(StatusCode::kCorrupt, "field 'id' must be a lowercase UUID");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["blake3"] = "abc"; });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].blake3'");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["chunking"]["max"] = 5000000000ULL; });
  ExpectError(StatusCode::kCorrupt, "field 'chunking.max' must be at most");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["chunking"]["min"] = 8192; });
  ExpectError(StatusCode::kCorrupt, "rebuild or re-fetch");
}

TEST_F(ManifestTest, SegmentsMustBeContiguousAndInside) {
  EditManifest([](nlohmann::json& j) { j["segments"][0]["base"] = 5; });
  ExpectError(StatusCode::kCorrupt, "segments before it end at 0");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["file"] = "../f"; });
  ExpectError(StatusCode::kCorrupt, "must be a relative path inside the corpus");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["file"] = "/etc/passwd"; });
  ExpectError(StatusCode::kCorrupt, "must be a relative path inside the corpus");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"] = nlohmann::json::array(); });
  ExpectError(StatusCode::kCorrupt, "non-empty array");
}

TEST_F(ManifestTest, SegmentFileMustHaveTheStatedSize) {
  std::string segment = corpus() + "/pack/000000.seg";
  uint64_t size = info_.pack_bytes();
  ASSERT_EQ(::truncate(segment.c_str(), static_cast<off_t>(size - 1)), 0);
  ExpectError(StatusCode::kCorrupt, "pack segment " + segment + " is " + std::to_string(size - 1) +
                                        " bytes, expected " + std::to_string(size) + " for the " +
                                        std::to_string(size) +
                                        " bytes the manifest says: the corpus is damaged; "
                                        "rebuild or re-fetch it");
  std::filesystem::remove(segment);
  ExpectError(StatusCode::kCorrupt, "is missing");
}

TEST_F(ManifestTest, FineIndexFieldIsOptionalAndChecked) {
  ASSERT_TRUE(info_.segments[0].fine.has_value());
  EXPECT_NE(std::string(original_.begin(), original_.end()).find("\"fine\": {"), std::string::npos);
  // Without it (a corpus from an earlier builder) the corpus reads, without a fine index.
  EditManifest([](nlohmann::json& j) { j["segments"][0].erase("fine"); });
  auto without = ReadCorpusInfo(corpus());
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_FALSE(without->segments[0].fine.has_value());
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["fine"]["stride"] = 48; });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].fine.stride' must be a power of two");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["fine"]["file"] = "../x.fine"; });
  ExpectError(StatusCode::kCorrupt, "must be a relative path inside the corpus");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["fine"].erase("blake3"); });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].fine.blake3' is missing");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["fine"] = 7; });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].fine' must be an object");
}

TEST_F(ManifestTest, PieceTableFieldIsOptionalAndChecked) {
  ASSERT_TRUE(info_.segments[0].pieces.has_value());
  EXPECT_EQ(info_.segments[0].pieces->file, "pieces/000000.b3");
  EXPECT_EQ(info_.segments[0].pieces->piece_size, 65536u);
  // Without it (a corpus from an earlier builder) the corpus reads, without a piece table.
  EditManifest([](nlohmann::json& j) { j["segments"][0].erase("pieces"); });
  auto without = ReadCorpusInfo(corpus());
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_FALSE(without->segments[0].pieces.has_value());
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["pieces"]["piece_size"] = 6000; });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].pieces.piece_size' must be a power of two");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["pieces"]["piece_size"] = 2048; });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].pieces.piece_size' must be a power of two");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["pieces"]["piece_size"] = 32 << 20; });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].pieces.piece_size' must be a power of two");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["pieces"]["size"] = 65; });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].pieces.size' is 65, but the table");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["pieces"]["file"] = "../x.b3"; });
  ExpectError(StatusCode::kCorrupt, "must be a relative path inside the corpus");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["pieces"].erase("blake3"); });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].pieces.blake3' is missing");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["pieces"]["size"] = "96"; });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].pieces.size' must be an unsigned integer");
  RestoreManifest();
  EditManifest([](nlohmann::json& j) { j["segments"][0]["pieces"] = 7; });
  ExpectError(StatusCode::kCorrupt, "field 'segments[0].pieces' must be an object");
  RestoreManifest();
  std::filesystem::remove(corpus() + "/pieces/000000.b3");
  ExpectError(StatusCode::kCorrupt, "piece table " + corpus() + "/pieces/000000.b3 is missing");
}

TEST_F(ManifestTest, UnknownFieldsAreIgnored) {
  EditManifest([](nlohmann::json& j) { j["comment"] = "added by a later 1.x writer"; });
  EXPECT_TRUE(ReadCorpusInfo(corpus()).ok());
}

TEST_F(ManifestTest, JsonAndTextForms) {
  auto info = ReadCorpusInfo(corpus());
  ASSERT_TRUE(info.ok());
  auto json = nlohmann::json::parse(info->ToJson());
  EXPECT_EQ(json["path"], corpus());
  EXPECT_EQ(json["manifest_digest"], ToHex(info->manifest_digest));
  EXPECT_EQ(json["id"], info->id);
  EXPECT_EQ(json["pack_bytes"], info->pack_bytes());
  EXPECT_EQ(json["chunking"]["avg"], 4096);
  std::string text = info->ToText();
  EXPECT_NE(text.find(info->id), std::string::npos);
  EXPECT_NE(text.find("pack/000000.seg"), std::string::npos);
  EXPECT_NE(text.find("KiB"), std::string::npos);
  EXPECT_NE(text.find("dedup"), std::string::npos);
}

TEST(ManifestHelpersTest, Formats) {
  EXPECT_EQ(SegmentFileName(0), "pack/000000.seg");
  EXPECT_EQ(SegmentFileName(12), "pack/000012.seg");
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(3u << 30), "3.0 GiB");
  EXPECT_NE(NewCorpusId(), NewCorpusId());
  EXPECT_EQ(NewCorpusId()[14], '4');
}

}  // namespace
}  // namespace reducto
