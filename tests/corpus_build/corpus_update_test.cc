// UpdateCorpus: versions of a corpus that store only what their ancestors lack, and the
// readers that open them with their ancestors (docs/corpus.md, "Versions").
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "corpus/corpus_reader.h"
#include "corpus/corpus_test_util.h"
#include "corpus/manifest.h"
#include "hashing/weak_key.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/signing.h"
#include "test_support.h"
#include "reducto/progress.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;
using testing::RandomBytes;
using testing::ScratchDir;
using testing::WriteFile;

using Bytes = std::vector<uint8_t>;

Bytes Concat(std::initializer_list<std::span<const uint8_t>> parts) {
  Bytes out;
  for (auto part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// Bytes of the distinct chunks of `input` that no chunk of `known` has: what a version
// built from `input` on top of a corpus of `known` must store.
uint64_t NewChunkBytes(const std::vector<Bytes>& known, const Bytes& input) {
  std::set<Digest> seen;
  for (const Bytes& k : known) {
    for (const auto& chunk : testing::ChunkAll(testing::TestParams(), k)) seen.insert(Blake3(chunk));
  }
  uint64_t total = 0;
  for (const auto& chunk : testing::ChunkAll(testing::TestParams(), input)) {
    if (seen.insert(Blake3(chunk)).second) total += chunk.size();
  }
  return total;
}

// Records the corpus ranges a container uses.
class RangeRecorder final : public CorpusUseObserver {
 public:
  void OnUse(uint64_t address, uint64_t length) override { ranges.push_back({address, length}); }
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
};

std::string Compress(const std::string& corpus, const Bytes& input,
                     CorpusUseObserver* observer = nullptr) {
  std::string container;
  auto source = MemorySource(input, "input");
  auto sink = MemorySink(&container, "container");
  CompressOptions options;
  options.fallback_to_standalone = false;
  options.use_observer = observer;
  auto stats = Compress(corpus, *source, *sink, options);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(sink->Commit().ok());
  return container;
}

Result<Bytes> Decompress(const std::string& corpus, const std::string& container) {
  std::string output;
  auto source = MemorySource(
      {reinterpret_cast<const uint8_t*>(container.data()), container.size()}, "test.rdc");
  auto sink = MemorySink(&output, "output");
  ASSIGN_OR_RETURN(DecompressStats stats, Decompress(corpus, *source, *sink));
  (void)stats;
  RETURN_IF_ERROR(sink->Commit());
  return Bytes(output.begin(), output.end());
}

void EditJson(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in);
  edit(j);
  std::ofstream(path, std::ios::trunc) << j.dump(2) << "\n";
}

// A store with a root corpus "v1" built from `a_` (512 KiB of random bytes).
class CorpusUpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = RandomBytes(512 << 10, 1);
    b_ = RandomBytes(96 << 10, 2);
    c_ = RandomBytes(64 << 10, 3);
    // a_ with b_ inserted in the middle: the same chunks as a_ but around the insertion.
    t1_ = Concat({std::span(a_).first(256 << 10), b_, std::span(a_).subspan(256 << 10)});
    t2_ = Concat({c_, t1_});
    WriteFile(dir_.Join("a"), a_);
    WriteFile(dir_.Join("t1"), t1_);
    WriteFile(dir_.Join("t2"), t2_);
    fs::create_directory(dir_.Join("store"));
    CorpusBuildOptions options;
    options.chunking = testing::TestParams();
    auto v1 = BuildCorpus({dir_.Join("a")}, store("v1"), options);
    ASSERT_TRUE(v1.ok()) << v1.status().ToString();
    v1_ = *v1;
  }

  std::string store(const std::string& name) const { return dir_.Join("store/" + name); }

  Result<CorpusInfo> Update(const std::string& parent, const std::string& input,
                            const std::string& out, CorpusUpdateOptions options = {}) {
    return UpdateCorpus(store(parent), {dir_.Join(input)}, store(out), options);
  }

  CorpusInfo MustUpdate(const std::string& parent, const std::string& input,
                        const std::string& out) {
    auto info = Update(parent, input, out);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : CorpusInfo{};
  }

  // Every chunk of `data` is found exactly once through `reader` and reads back whole.
  void ExpectEveryChunkFound(const CorpusReader& reader, const Bytes& data) {
    std::vector<uint8_t> scratch;
    for (const auto& chunk : testing::ChunkAll(testing::TestParams(), data)) {
      std::vector<ChunkCandidate> candidates;
      ASSERT_TRUE(reader.Lookup(WeakKey(chunk), &candidates).ok());
      ASSERT_EQ(candidates.size(), 1u);
      EXPECT_TRUE(DigestEqual(candidates[0].digest, Blake3(chunk)));
      auto bytes = reader.Read(candidates[0].address, candidates[0].length, &scratch);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      EXPECT_TRUE(std::equal(bytes->begin(), bytes->end(), chunk.begin(), chunk.end()));
    }
  }

  ScratchDir dir_;
  Bytes a_, b_, c_, t1_, t2_;
  CorpusInfo v1_;
};

TEST_F(CorpusUpdateTest, StoresOnlyTheNewChunksAndListsTheParentsSegmentsFirst) {
  CorpusInfo v2 = MustUpdate("v1", "t1", "v2");
  EXPECT_EQ(v2.path, store("v2"));
  EXPECT_EQ(v2.parent_id, v1_.id);
  ASSERT_TRUE(v2.parent_manifest_digest.has_value());
  EXPECT_TRUE(DigestEqual(*v2.parent_manifest_digest, v1_.manifest_digest));
  EXPECT_EQ(v2.chunking, v1_.chunking);

  ASSERT_EQ(v2.segments.size(), 2u);
  ASSERT_EQ(v2.segment_owners, std::vector<std::string>{v1_.id});
  EXPECT_EQ(v2.segments[0].file, v1_.segments[0].file);
  EXPECT_EQ(v2.segments[0].size, v1_.segments[0].size);
  EXPECT_TRUE(DigestEqual(v2.segments[0].blake3, v1_.segments[0].blake3));
  EXPECT_EQ(v2.segments[1].file, "pack/000001.seg");
  EXPECT_EQ(v2.segments[1].base, v1_.pack_bytes());

  // Exactly the chunks around the insertion are new: b_ and its two neighbours.
  uint64_t expected = NewChunkBytes({a_}, t1_);
  EXPECT_EQ(v2.own_pack_bytes(), expected);
  EXPECT_GE(expected, b_.size());
  EXPECT_LT(expected, b_.size() + 4 * testing::TestParams().max_size);
  EXPECT_EQ(v2.pack_bytes(), v1_.pack_bytes() + expected);
  EXPECT_EQ(v2.input_bytes, t1_.size());
  EXPECT_EQ(v2.index_entries, v2.unique_chunks);

  // The parent's segment is not copied: the version holds only its own.
  EXPECT_EQ(testing::ListNames(store("v2/pack")), std::set<std::string>{"000001.seg"});
  EXPECT_EQ(fs::file_size(store("v2/pack/000001.seg")), expected);
  EXPECT_TRUE(VerifyCorpus(store("v2")).ok());
}

TEST_F(CorpusUpdateTest, ManifestIsVersion2AndRootsStayVersion1) {
  CorpusInfo v2 = MustUpdate("v1", "t1", "v2");
  auto root = nlohmann::json::parse(testing::ReadFile(store("v1/manifest.json")));
  EXPECT_EQ(root["format_version"], 1);
  EXPECT_FALSE(root.contains("parent_manifest_blake3"));
  EXPECT_FALSE(root["segments"][0].contains("corpus"));

  auto version = nlohmann::json::parse(testing::ReadFile(store("v2/manifest.json")));
  EXPECT_EQ(version["format_version"], 2);
  EXPECT_EQ(version["parent"], v1_.id);
  EXPECT_EQ(version["parent_manifest_blake3"], ToHex(v1_.manifest_digest));
  EXPECT_EQ(version["segments"][0]["corpus"], v1_.id);
  EXPECT_FALSE(version["segments"][1].contains("corpus"));

  // Serialization round-trips the new fields.
  auto parsed = ParseManifest(SerializeManifest(v2), "test");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->segment_owners, v2.segment_owners);
  EXPECT_TRUE(DigestEqual(*parsed->parent_manifest_digest, *v2.parent_manifest_digest));
  EXPECT_EQ(SerializeManifest(*parsed), SerializeManifest(v2));

  auto json = nlohmann::json::parse(v2.ToJson());
  EXPECT_EQ(json["pack_bytes"], v2.pack_bytes());
  EXPECT_EQ(json["new_bytes"], v2.own_pack_bytes());
  std::string text = v2.ToText();
  EXPECT_NE(text.find("new bytes  " + HumanBytes(v2.own_pack_bytes()) + " (" +
                      std::to_string(v2.own_pack_bytes()) + " bytes): what a receiver that has "
                      "the parent must fetch"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("of corpus " + v1_.id), std::string::npos) << text;
}

TEST_F(CorpusUpdateTest, MalformedVersionManifestsAreRefused) {
  MustUpdate("v1", "t1", "v2");
  Bytes raw = testing::ReadFile(store("v2/manifest.json"));
  std::string text(raw.begin(), raw.end());
  auto expect = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& needle) {
    nlohmann::json j = nlohmann::json::parse(text);
    edit(j);
    auto parsed = ParseManifest(j.dump(), "m.json");
    ASSERT_FALSE(parsed.ok()) << needle;
    EXPECT_EQ(parsed.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(parsed.status().message().find(needle), std::string::npos)
        << parsed.status().ToString();
  };
  expect([](auto& j) { j["parent"] = nullptr; }, "field 'parent' must be a lowercase UUID");
  expect([](auto& j) { j.erase("parent_manifest_blake3"); }, "'parent_manifest_blake3' is missing");
  expect([](auto& j) { j["parent"] = j["id"]; }, "must differ from 'id'");
  expect([](auto& j) { j["segments"][0].erase("corpus"); }, "a version lists its parent's");
  expect([](auto& j) { j["segments"][1]["corpus"] = j["segments"][0]["corpus"]; },
         "has no segment of the corpus's own");
  expect([](auto& j) { j["segments"][0]["corpus"] = j["id"]; }, "UUID of an ancestor corpus");
  expect([](auto& j) { j["segments"][0]["corpus"] = "../x"; }, "UUID of an ancestor corpus");
  expect(
      [](nlohmann::json& j) {
        nlohmann::json own = j["segments"][1];
        own["base"] = j["segments"][1]["base"].get<uint64_t>() +
                      j["segments"][1]["size"].get<uint64_t>();
        own["corpus"] = j["segments"][0]["corpus"];
        j["segments"].push_back(own);
      },
      "the ancestors' come first");
}

TEST_F(CorpusUpdateTest, LookupsFindTheChunksOfTheVersionAndOfItsParent) {
  MustUpdate("v1", "t1", "v2");
  auto reader = CorpusReader::Open(store("v2"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), (*reader)->info().pack_bytes());
  ExpectEveryChunkFound(**reader, a_);
  ExpectEveryChunkFound(**reader, t1_);
  // A range spanning the parent's segment and the version's reads back in one piece.
  std::vector<uint8_t> scratch;
  auto across = (*reader)->Read(v1_.pack_bytes() - 10, 20, &scratch);
  ASSERT_TRUE(across.ok()) << across.status().ToString();
  EXPECT_TRUE(std::equal(across->begin(), across->begin() + 10, a_.end() - 10));
}

TEST_F(CorpusUpdateTest, RoundTripAgainstTheVersionCopiesFromBothSegments) {
  CorpusInfo v2 = MustUpdate("v1", "t1", "v2");
  std::string against_v1 = Compress(store("v1"), t1_);
  RangeRecorder used;
  std::string against_v2 = Compress(store("v2"), t1_, &used);
  auto out = Decompress(store("v2"), against_v2);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, t1_);
  bool from_parent = false, from_version = false;
  for (auto [address, length] : used.ranges) {
    from_parent |= address < v1_.pack_bytes();
    from_version |= address + length > v1_.pack_bytes();
  }
  EXPECT_TRUE(from_parent);
  EXPECT_TRUE(from_version);
  // b_ is random: against v1 it travels as literals, against v2 as a copy.
  EXPECT_GT(against_v1.size(), b_.size() / 2);
  EXPECT_LT(against_v2.size(), against_v1.size() / 10);
  EXPECT_EQ(v2.own_pack_bytes() > 0, true);
}

TEST_F(CorpusUpdateTest, AContainerMadeAgainstTheParentStillDecodesWithTheParent) {
  std::string container = Compress(store("v1"), t1_);
  MustUpdate("v1", "t1", "v2");
  auto out = Decompress(store("v1"), container);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, t1_);
  // It names v1, so the version is not taken in its place.
  auto wrong = Decompress(store("v2"), container);
  EXPECT_FALSE(wrong.ok());
}

TEST_F(CorpusUpdateTest, AChainOfThreeVersions) {
  CorpusInfo v2 = MustUpdate("v1", "t1", "v2");
  CorpusInfo v3 = MustUpdate("v2", "t2", "v3");
  EXPECT_EQ(v3.parent_id, v2.id);
  ASSERT_EQ(v3.segments.size(), 3u);
  EXPECT_EQ(v3.segment_owners, (std::vector<std::string>{v1_.id, v2.id}));
  EXPECT_EQ(v3.own_pack_bytes(), NewChunkBytes({a_, t1_}, t2_));
  EXPECT_EQ(testing::ListNames(store("v3/pack")), std::set<std::string>{"000002.seg"});

  auto chain = ReadCorpusChain(store("v3"));
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ((*chain)[0].id, v3.id);
  EXPECT_EQ((*chain)[1].id, v2.id);
  EXPECT_EQ((*chain)[2].id, v1_.id);

  auto reader = CorpusReader::Open(store("v3"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ExpectEveryChunkFound(**reader, t2_);
  EXPECT_TRUE(VerifyCorpus(store("v3")).ok());
  auto out = Decompress(store("v3"), Compress(store("v3"), t2_));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, t2_);
}

TEST_F(CorpusUpdateTest, NothingNewGivesAnEmptyOwnSegment) {
  CorpusInfo v2 = MustUpdate("v1", "a", "v2");
  EXPECT_EQ(v2.own_pack_bytes(), 0u);
  EXPECT_EQ(v2.index_entries, 0u);
  EXPECT_EQ(v2.pack_bytes(), v1_.pack_bytes());
  EXPECT_TRUE(VerifyCorpus(store("v2")).ok());
  auto out = Decompress(store("v2"), Compress(store("v2"), a_));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, a_);
}

TEST_F(CorpusUpdateTest, AMissingParentIsNotFoundAndSaysWhatAndWhere) {
  MustUpdate("v1", "t1", "v2");
  fs::rename(store("v1"), dir_.Join("v1-elsewhere"));
  for (const Status& s : {CorpusReader::Open(store("v2")).status(), VerifyCorpus(store("v2"))}) {
    EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
    EXPECT_NE(s.message().find("new version of corpus " + v1_.id), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(ToHex(v1_.manifest_digest)), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("not in " + dir_.Join("store") + ":"), std::string::npos) << s.message();
  }
  // The version's own manifest still reads: info works without the parent.
  EXPECT_TRUE(ReadCorpusInfo(store("v2")).ok());
  // Put back, it opens again.
  fs::rename(dir_.Join("v1-elsewhere"), store("v1"));
  EXPECT_TRUE(CorpusReader::Open(store("v2")).ok());
}

TEST_F(CorpusUpdateTest, AParentReplacedUnderTheSameNameIsRefused) {
  MustUpdate("v1", "t1", "v2");
  // Another corpus (another id) at the parent's path: the parent is simply not there.
  fs::rename(store("v1"), dir_.Join("v1-original"));
  CorpusBuildOptions options;
  options.chunking = testing::TestParams();
  ASSERT_TRUE(BuildCorpus({dir_.Join("a")}, store("v1"), options).ok());
  auto opened = CorpusReader::Open(store("v2"));
  EXPECT_EQ(opened.status().code(), StatusCode::kNotFound) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find(v1_.id), std::string::npos);

  // The parent with its manifest edited (same id): the pinned digest no longer matches.
  fs::remove_all(store("v1"));
  fs::rename(dir_.Join("v1-original"), store("v1"));
  EditJson(store("v1/manifest.json"), [](nlohmann::json& j) { j["created"] = "2000-01-01T00:00:00Z"; });
  ASSERT_TRUE(ReadCorpusInfo(store("v1")).ok());  // Still a valid corpus on its own.
  opened = CorpusReader::Open(store("v2"));
  EXPECT_EQ(opened.status().code(), StatusCode::kIntegrity) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("replaced or edited"), std::string::npos)
      << opened.status().message();
  EXPECT_NE(opened.status().message().find(store("v1")), std::string::npos);
  EXPECT_EQ(VerifyCorpus(store("v2")).code(), StatusCode::kIntegrity);
}

TEST_F(CorpusUpdateTest, AFlippedByteInTheParentsSegmentFailsVerifyOfTheVersion) {
  MustUpdate("v1", "t1", "v2");
  MustUpdate("v2", "t2", "v3");
  ASSERT_TRUE(VerifyCorpus(store("v3")).ok());
  {
    std::fstream f(store("v1/pack/000000.seg"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(1000);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(1000);
    f.write(&c, 1);
  }
  for (std::string version : {"v2", "v3"}) {
    Status s = VerifyCorpus(store(version));
    EXPECT_EQ(s.code(), StatusCode::kIntegrity) << s.ToString();
    EXPECT_NE(s.message().find("ancestor corpus " + v1_.id + " at " + store("v1")),
              std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("pack/000000.seg"), std::string::npos) << s.message();
  }
  // The version's own files are intact: only the ancestor is named.
  EXPECT_TRUE(CorpusReader::Open(store("v3")).ok());
}

TEST_F(CorpusUpdateTest, AVersionManifestThatDisagreesWithItsParentIsCorrupt) {
  CorpusInfo v2 = MustUpdate("v1", "t1", "v2");
  EditJson(store("v2/manifest.json"), [](nlohmann::json& j) {
    j["segments"][0]["blake3"] = std::string(64, '0');
  });
  auto opened = CorpusReader::Open(store("v2"));
  EXPECT_EQ(opened.status().code(), StatusCode::kCorrupt) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("disagrees with its parent"), std::string::npos)
      << opened.status().message();
}

TEST_F(CorpusUpdateTest, ChunkingIsInheritedAndConflictsAreInvalidArguments) {
  CorpusUpdateOptions same;
  same.avg_size = v1_.chunking.avg_size;
  same.min_size = v1_.chunking.min_size;
  same.normalization = v1_.chunking.normalization;
  auto ok = Update("v1", "t1", "v2", same);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->chunking, v1_.chunking);

  CorpusUpdateOptions other;
  other.avg_size = 2 * v1_.chunking.avg_size;
  auto refused = Update("v1", "t1", "v3", other);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("--avg " + std::to_string(2 * v1_.chunking.avg_size) +
                                            " conflicts with the chunking of"),
            std::string::npos)
      << refused.status().message();
  CorpusUpdateOptions normalization;
  normalization.normalization = 3;
  EXPECT_EQ(Update("v1", "t1", "v3", normalization).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(store("v3")));
}

TEST_F(CorpusUpdateTest, WhereAVersionMayBePublished) {
  // Not beside the parent: readers would not find it.
  fs::create_directory(dir_.Join("other"));
  auto away = UpdateCorpus(store("v1"), {dir_.Join("t1")}, dir_.Join("other/v2"), {});
  EXPECT_EQ(away.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(away.status().message().find("same directory as its parent"), std::string::npos);
  EXPECT_TRUE(testing::ListNames(dir_.Join("other")).empty());

  // Never over the parent or an ancestor, even with overwrite.
  MustUpdate("v1", "t1", "v2");
  CorpusUpdateOptions force;
  force.overwrite = true;
  for (std::string ancestor : {"v1", "v2"}) {
    auto over = Update("v2", "t2", ancestor, force);
    EXPECT_EQ(over.status().code(), StatusCode::kInvalidArgument) << ancestor;
    EXPECT_NE(over.status().message().find("which the new version builds on"), std::string::npos);
  }
  EXPECT_TRUE(VerifyCorpus(store("v2")).ok());
  // An existing unrelated path is refused as for build.
  EXPECT_EQ(Update("v1", "t2", "v2").status().code(), StatusCode::kInvalidArgument);
  // A missing parent.
  auto missing = Update("nope", "t1", "v9");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  // Nothing left behind by the failures.
  EXPECT_EQ(testing::ListNames(store(".")), (std::set<std::string>{"v1", "v2"}));
}

TEST_F(CorpusUpdateTest, SignKeysSignTheVersion) {
  ASSERT_TRUE(GenerateKeyFiles(dir_.Join("alice"), false).ok());
  CorpusUpdateOptions options;
  options.sign_keys = {dir_.Join("alice")};
  auto v2 = Update("v1", "t1", "v2", options);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  auto trusted = ReadPublicKeyFile(dir_.Join("alice.pub"));
  ASSERT_TRUE(trusted.ok());
  auto checks = CheckCorpusSignatures(*v2, {*trusted});
  ASSERT_TRUE(checks.ok());
  ASSERT_EQ(checks->size(), 1u);
  EXPECT_TRUE((*checks)[0].valid);
  EXPECT_TRUE((*checks)[0].trusted);

  // A damaged parent is not signed over.
  {
    std::fstream f(store("v1/pack/000000.seg"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('\x55');
    f.seekp(11);
    f.put('\xaa');
  }
  auto refused = Update("v1", "t2", "v3", options);
  EXPECT_EQ(refused.status().code(), StatusCode::kIntegrity) << refused.status().ToString();
  EXPECT_FALSE(fs::exists(store("v3")));
}

// For random edits of random data: the version stores exactly the chunks its parent
// lacks, finds every chunk of both, and a round trip through it is exact.
RC_GTEST_PROP(CorpusUpdateProperty, StoresExactlyWhatTheParentLacks, ()) {
  const auto seed = *rc::gen::inRange<uint64_t>(0, 1u << 30);
  const auto size = *rc::gen::inRange<size_t>(1, 200 << 10);
  Bytes base = RandomBytes(size, seed);
  Bytes edited = base;
  const int edits = *rc::gen::inRange(0, 4);
  for (int e = 0; e < edits; ++e) {
    size_t at = *rc::gen::inRange<size_t>(0, edited.size() + 1);
    Bytes insert = RandomBytes(*rc::gen::inRange<size_t>(1, 20000), seed + 1 + e);
    edited.insert(edited.begin() + static_cast<ptrdiff_t>(at), insert.begin(), insert.end());
  }
  ScratchDir dir;
  fs::create_directory(dir.Join("store"));
  WriteFile(dir.Join("base"), base);
  WriteFile(dir.Join("edited"), edited);
  CorpusBuildOptions options;
  options.chunking = testing::TestParams();
  RC_ASSERT(BuildCorpus({dir.Join("base")}, dir.Join("store/v1"), options).ok());
  auto v2 = UpdateCorpus(dir.Join("store/v1"), {dir.Join("edited")}, dir.Join("store/v2"), {});
  RC_ASSERT(v2.ok());
  RC_ASSERT(v2->own_pack_bytes() == NewChunkBytes({base}, edited));
  auto reader = CorpusReader::Open(dir.Join("store/v2"));
  RC_ASSERT(reader.ok());
  for (const Bytes* data : {&base, &edited}) {
    for (const auto& chunk : testing::ChunkAll(testing::TestParams(), *data)) {
      std::vector<ChunkCandidate> found;
      RC_ASSERT((*reader)->Lookup(WeakKey(chunk), &found).ok());
      RC_ASSERT(found.size() == 1u);
      RC_ASSERT(DigestEqual(found[0].digest, Blake3(chunk)));
    }
  }
  auto out = Decompress(dir.Join("store/v2"), Compress(dir.Join("store/v2"), edited));
  RC_ASSERT(out.ok());
  RC_ASSERT(*out == edited);
}

}  // namespace
}  // namespace reducto

namespace reducto {
namespace {

// Version 2 as docs/corpus.md specifies it, written out by hand: the format is frozen.
TEST(CorpusVersionManifest, ParsesTheDocumentedForm) {
  const std::string text = R"({
  "format": "reducto-corpus",
  "format_version": 2,
  "id": "6b32f437-ac4a-4d84-80da-7e255a9b0ecc",
  "parent": "1280d6d6-5a96-4545-9d3e-0c7450aa83a0",
  "parent_manifest_blake3": "c6f516fec659dec5660b6f9ce89c7e8e9e94fe359690593b5ebc5f9e2d4214a2",
  "created": "2026-11-24T18:10:25Z",
  "builder": "reducto 0.1.0",
  "chunking": {"algorithm": "fastcdc-2020", "min": 4096, "avg": 8192, "max": 16384, "normalization": 1},
  "weak_key": "xxh3-64",
  "segments": [
    {"file": "pack/000000.seg", "base": 0, "size": 16845321,
     "blake3": "6fdf0b855525b75b0fc81b14c8169993504910327c32f257078e1522a745238f",
     "corpus": "1280d6d6-5a96-4545-9d3e-0c7450aa83a0"},
    {"file": "pack/000001.seg", "base": 16845321, "size": 1614213,
     "blake3": "53e04998dae92d2e875e5a5681a2ad86005397d251300e8f5d5a7af0b30de469"}
  ],
  "index": {"dir": "index", "entries": 149,
            "blake3": "b7bf108cc37a1faf1810f85b5ae7024c9fff2bd2cc70c1be5a9e380afc362882"},
  "input_bytes": 14827224,
  "chunk_count": 1393,
  "unique_chunks": 149
})";
  auto info = ParseManifest(text, "manifest.json");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->parent_id, "1280d6d6-5a96-4545-9d3e-0c7450aa83a0");
  ASSERT_TRUE(info->is_version());
  EXPECT_EQ(ToHex(*info->parent_manifest_digest),
            "c6f516fec659dec5660b6f9ce89c7e8e9e94fe359690593b5ebc5f9e2d4214a2");
  EXPECT_EQ(info->segment_owners, std::vector<std::string>{"1280d6d6-5a96-4545-9d3e-0c7450aa83a0"});
  EXPECT_EQ(info->pack_bytes(), 16845321u + 1614213u);
  EXPECT_EQ(info->own_pack_bytes(), 1614213u);
  // Written back, it is version 2 with the same fields in the documented order.
  auto again = nlohmann::ordered_json::parse(SerializeManifest(*info));
  EXPECT_EQ(again["format_version"], 2);
  std::vector<std::string> keys;
  for (auto& [key, value] : again.items()) keys.push_back(key);
  EXPECT_EQ(keys[3], "parent");
  EXPECT_EQ(keys[4], "parent_manifest_blake3");
  EXPECT_EQ(again["segments"][0]["corpus"], "1280d6d6-5a96-4545-9d3e-0c7450aa83a0");
  EXPECT_FALSE(again["segments"][1].contains("corpus"));

  // A version-1 manifest that names a parent (allowed, never written) is not a version.
  auto v1 = nlohmann::json::parse(text);
  v1["format_version"] = 1;
  v1["segments"].erase(0);
  v1["segments"][0]["base"] = 0;
  auto root = ParseManifest(v1.dump(), "manifest.json");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_FALSE(root->is_version());
  EXPECT_TRUE(root->segment_owners.empty());
}

}  // namespace
}  // namespace reducto
