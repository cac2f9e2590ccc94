// The session: the origin rule, usage recording and the audit log, applied by the
// library itself to every operation called through it (the command line's policies).
#include <gtest/gtest.h>

#include <filesystem>

#include "codec/codec_test_util.h"
#include "reducto/audit.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/session.h"
#include "reducto/usage.h"
#include "test_support.h"
#include "random_bytes.h"

namespace reducto {
namespace {

using testing::RandomBytes;
using testing::ScratchDir;

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reference_ = RandomBytes(300000, 5);
    testing::WriteFile(dir_.Join("reference"), reference_);
    build_.chunking = ChunkerParams::ForAverage(4096);
  }

  SessionSettings Settings() const {
    SessionSettings settings;
    settings.state_dir = dir_.Join("state");
    settings.audit_log = dir_.Join("audit.log");
    settings.audit_args = {"--from-test"};
    settings.warn = [this](const std::string& line) { warnings_.push_back(line); };
    return settings;
  }

  Result<CompressStats> CompressThrough(const Session& session, const std::string& corpus_dir) {
    container_.clear();
    auto source = MemorySource(reference_, "target");
    auto sink = MemorySink(&container_, "target.rdc");
    CompressOptions options;
    options.threads = 1;
    return session.Compress(corpus_dir, *source, *sink, options);
  }

  std::vector<AuditEntry> Entries() const {
    auto entries = ReadAuditLog(dir_.Join("audit.log"));
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    return entries.ok() ? *entries : std::vector<AuditEntry>{};
  }

  ScratchDir dir_;
  std::vector<uint8_t> reference_;
  CorpusBuildOptions build_;
  std::string container_;
  mutable std::vector<std::string> warnings_;
};

TEST_F(SessionTest, ACorpusBuiltThroughTheSessionIsMadeHereAndUsable) {
  Session session(Settings());
  auto info = session.BuildCorpus({dir_.Join("reference")}, dir_.Join("corpus"), build_);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  auto stats = CompressThrough(session, dir_.Join("corpus"));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->corpus_id, info->id);

  std::vector<AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].operation, "corpus build");
  EXPECT_EQ(entries[1].operation, "compress");
  EXPECT_EQ(entries[1].corpus, info->id);
  EXPECT_EQ(entries[1].outcome, "ok");
  EXPECT_EQ(entries[1].args, std::vector<std::string>{"--from-test"});
  auto verified = VerifyAuditLog(dir_.Join("audit.log"), {},
                                 dir_.Join("state") + "/audit-anchors/" +
                                     AuditAnchorName(dir_.Join("audit.log")));
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->entries, 2u);
}

TEST_F(SessionTest, ACorpusMadeElsewhereIsRefusedAndTheRefusalAudited) {
  // Built by the library directly: nothing records it as made here.
  ASSERT_TRUE(BuildCorpus({dir_.Join("reference")}, dir_.Join("corpus"), build_).ok());
  Session session(Settings());
  auto stats = CompressThrough(session, dir_.Join("corpus"));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kPermission);
  EXPECT_NE(stats.status().message().find("not in the record of corpora made here"),
            std::string::npos)
      << stats.status().ToString();
  EXPECT_NE(stats.status().message().find(session.MadeHereRecordPath()), std::string::npos);
  auto opened = session.OpenCorpus(dir_.Join("corpus"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kPermission);
  auto updated = session.UpdateCorpus(dir_.Join("corpus"), {dir_.Join("reference")},
                                      dir_.Join("v2"), CorpusUpdateOptions());
  EXPECT_EQ(updated.status().code(), StatusCode::kPermission);

  std::vector<AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].operation, "compress");
  EXPECT_TRUE(entries[0].outcome.starts_with("failed: ")) << entries[0].outcome;
  EXPECT_EQ(entries[1].operation, "corpus update");
}

TEST_F(SessionTest, SkippingTheOriginCheckOrATrustedSignatureLetsItThrough) {
  ASSERT_TRUE(BuildCorpus({dir_.Join("reference")}, dir_.Join("corpus"), build_).ok());
  SessionSettings skip = Settings();
  skip.skip_origin_check = true;
  EXPECT_TRUE(CompressThrough(Session(skip), dir_.Join("corpus")).ok());

  auto key = GenerateKeyFiles(dir_.Join("signer"), false);
  ASSERT_TRUE(key.ok());
  auto secret = ReadSecretKeyFile(key->secret_path);
  auto pub = ReadPublicKeyFile(key->public_path);
  ASSERT_TRUE(secret.ok() && pub.ok());
  SessionSettings keyed = Settings();
  keyed.trusted_keys = {*pub};
  auto unsigned_use = CompressThrough(Session(keyed), dir_.Join("corpus"));
  EXPECT_EQ(unsigned_use.status().code(), StatusCode::kPermission);
  ASSERT_TRUE(SignCorpus(dir_.Join("corpus"), *secret).ok());
  EXPECT_TRUE(CompressThrough(Session(keyed), dir_.Join("corpus")).ok());
}

TEST_F(SessionTest, CompressionsRecordTheirCorpusUsageUnlessTurnedOff) {
  SessionSettings off = Settings();
  off.record_usage = false;
  Session quiet(off);
  ASSERT_TRUE(quiet.BuildCorpus({dir_.Join("reference")}, dir_.Join("corpus"), build_).ok());
  ASSERT_TRUE(CompressThrough(quiet, dir_.Join("corpus")).ok());
  EXPECT_EQ(ReadCorpusUsage(dir_.Join("corpus")).status().code(), StatusCode::kNotFound);

  Session session(Settings());
  ASSERT_TRUE(CompressThrough(session, dir_.Join("corpus")).ok());
  auto usage = ReadCorpusUsage(dir_.Join("corpus"));
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  uint64_t used = 0;
  for (const ChunkUse& chunk : *usage) used += chunk.count > 0 ? chunk.length : 0;
  EXPECT_EQ(used, reference_.size()) << "the target is the reference: every chunk is used";
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(SessionTest, DecompressThroughTheSessionChecksOriginAndAudits) {
  Session session(Settings());
  ASSERT_TRUE(session.BuildCorpus({dir_.Join("reference")}, dir_.Join("corpus"), build_).ok());
  ASSERT_TRUE(CompressThrough(session, dir_.Join("corpus")).ok());
  std::string output;
  auto source = MemorySource(testing::AsBytes(container_), "target.rdc");
  auto sink = MemorySink(&output, "target");
  auto stats = session.Decompress(dir_.path(), *source, *sink, DecompressOptions());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(output.size(), reference_.size());

  SessionSettings elsewhere = Settings();
  elsewhere.state_dir = dir_.Join("other-state");  // Another user: nothing made here.
  auto again = MemorySource(testing::AsBytes(container_), "target.rdc");
  std::string refused_output;
  auto refused_sink = MemorySink(&refused_output, "target");
  auto refused =
      Session(elsewhere).Decompress(dir_.path(), *again, *refused_sink, DecompressOptions());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermission);
  EXPECT_TRUE(refused_output.empty());
  EXPECT_EQ(Entries().back().operation, "decompress");
}

TEST_F(SessionTest, AMissingCorpusFallsBackOnlyWhenAskedAndTheEntrySaysSo) {
  Session session(Settings());
  auto source = MemorySource(reference_, "target");
  auto sink = MemorySink(&container_, "target.rdc");
  CompressOptions options;
  auto refused = session.Compress(dir_.Join("missing"), *source, *sink, options);
  EXPECT_EQ(refused.status().code(), StatusCode::kNotFound);
  options.fallback_to_standalone = true;
  auto again = MemorySource(reference_, "target");
  auto stats = session.Compress(dir_.Join("missing"), *again, *sink, options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(stats->fell_back);
  EXPECT_TRUE(stats->standalone);
  std::vector<AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(entries[0].outcome.starts_with("failed: ")) << entries[0].outcome;
  EXPECT_EQ(entries[1].outcome, "ok: fell back to a standalone container");
}

TEST_F(SessionTest, NoAuditLogWhenTurnedOff) {
  SessionSettings off = Settings();
  off.audit_log = "off";
  Session session(off);
  EXPECT_EQ(session.audit_log(), "");
  ASSERT_TRUE(session.BuildCorpus({dir_.Join("reference")}, dir_.Join("corpus"), build_).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("audit.log")));
}

}  // namespace
}  // namespace reducto
