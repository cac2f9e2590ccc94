// The audit log: the chain and the head find every edited, removed, reordered or cut
// entry (exhaustively on a small log, and as a property on random ones); concurrent
// appenders keep one chain; a signed head is checked against trusted keys.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "reducto/audit.h"
#include "reducto/digest.h"
#include "reducto/signing.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::ScratchDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

AuditEntry Entry(const std::string& operation, int n) {
  AuditEntry e;
  e.operation = operation;
  e.corpus = "11111111-2222-4333-8444-55555555555" + std::to_string(n % 10);
  e.args = {"--corpus=c", "file" + std::to_string(n)};
  e.outcome = n % 3 == 0 ? "failed: not found: x" : "ok";
  return e;
}

AuditLogOptions SignedBy(const SecretKey& key) {
  AuditLogOptions options;
  options.sign_key = &key;
  return options;
}

std::string MakeLog(const ScratchDir& dir, int entries) {
  std::string log = dir.Join("state/audit.log");
  for (int i = 0; i < entries; ++i) EXPECT_TRUE(AppendAuditEntry(log, Entry("compress", i)).ok());
  return log;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(AuditLogTest, AnIntactLogVerifies) {
  ScratchDir dir;
  std::string log = MakeLog(dir, 6);
  auto result = VerifyAuditLog(log);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->entries, 6u);
  EXPECT_FALSE(result->signed_head);
  auto entries = ReadAuditLog(log);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 6u);
  EXPECT_EQ((*entries)[5].seq, 6u);
  EXPECT_EQ((*entries)[3].outcome, "failed: not found: x");
  EXPECT_FALSE((*entries)[0].user.empty());
}

TEST(AuditLogTest, EveryEditedRemovedOrSwappedLineIsFound) {
  ScratchDir dir;
  std::string log = MakeLog(dir, 5);
  const std::string original = Slurp(log);
  const std::vector<std::string> lines = Lines(original);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> edited = lines;
    edited[i].replace(edited[i].find("file"), 4, "fi1e");
    Spit(log, Join(edited));
    Status s = VerifyAuditLog(log).status();
    EXPECT_EQ(s.code(), StatusCode::kIntegrity) << "edit of line " << i + 1;
    std::string where = i + 1 < lines.size() ? "line " + std::to_string(i + 2) + " does not chain to line " + std::to_string(i + 1)
                                              : "line " + std::to_string(i + 1) + " (the last entry)";
    EXPECT_NE(s.message().find(where), std::string::npos) << s.ToString();

    std::vector<std::string> removed = lines;
    removed.erase(removed.begin() + static_cast<ptrdiff_t>(i));
    Spit(log, Join(removed));
    EXPECT_EQ(VerifyAuditLog(log).status().code(), StatusCode::kIntegrity) << "removal of " << i + 1;

    if (i + 1 < lines.size()) {
      std::vector<std::string> swapped = lines;
      std::swap(swapped[i], swapped[i + 1]);
      Spit(log, Join(swapped));
      EXPECT_EQ(VerifyAuditLog(log).status().code(), StatusCode::kIntegrity) << "swap at " << i + 1;
    }
  }
  for (size_t n = 0; n < original.size(); ++n) {
    Spit(log, original.substr(0, n));
    EXPECT_FALSE(VerifyAuditLog(log).ok()) << "cut at " << n;
  }
  Spit(log, original);
  EXPECT_TRUE(VerifyAuditLog(log).ok());
}

TEST(AuditLogTest, AppendsRefuseToExtendATamperedLog) {
  ScratchDir dir;
  std::string log = MakeLog(dir, 3);
  std::vector<std::string> lines = Lines(Slurp(log));
  lines[0].replace(lines[0].find("file"), 4, "fi1e");
  Spit(log, Join(lines));
  EXPECT_EQ(AppendAuditEntry(log, Entry("decompress", 9)).code(), StatusCode::kIntegrity);
  EXPECT_EQ(Lines(Slurp(log)).size(), 3u);
}

TEST(AuditLogTest, ConcurrentAppendersKeepOneChain) {
  ScratchDir dir;
  std::string log = dir.Join("state/audit.log");
  constexpr int kProcesses = 4, kEach = 25;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    if (pid == 0) {
      for (int i = 0; i < kEach; ++i) {
        if (!AppendAuditEntry(log, Entry("compress", p * 100 + i)).ok()) ::_exit(1);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto result = VerifyAuditLog(log);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->entries, static_cast<uint64_t>(kProcesses * kEach));
}

TEST(AuditLogTest, ASignedHeadIsCheckedAgainstTrustedKeys) {
  ScratchDir dir;
  auto key = SecretKey::Generate();
  auto other = SecretKey::Generate();
  ASSERT_TRUE(key.ok() && other.ok());
  std::string log = dir.Join("audit.log");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(AppendAuditEntry(log, Entry("gc", i), SignedBy(*key)).ok());
  auto result = VerifyAuditLog(log, {key->public_key()});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->signed_head);
  EXPECT_EQ(result->signer, key->id());
  EXPECT_EQ(VerifyAuditLog(log, {other->public_key()}).status().code(), StatusCode::kPermission);
  // Any changed byte of the head is refused.
  const std::string head = Slurp(AuditHeadPath(log));
  for (size_t i = 0; i < head.size(); ++i) {
    std::string damaged = head;
    damaged[i] = static_cast<char>(damaged[i] ^ 1);
    Spit(AuditHeadPath(log), damaged);
    EXPECT_FALSE(VerifyAuditLog(log, {key->public_key()}).ok()) << "head byte " << i;
  }
}

// The head the attacker writes: entry count and last digest of the cut log,
// unsigned.
std::string UnsignedHead(const std::vector<std::string>& lines) {
  const std::string& last = lines.back();
  return "reducto-audit-head v1\nentries " + std::to_string(lines.size()) + "\nlast-blake3 " +
         ToHex(Blake3({reinterpret_cast<const uint8_t*>(last.data()), last.size()})) + "\n";
}

TEST(AuditLogTest, AnEmptiedOrRemovedLogIsNotStartedAgain) {
  ScratchDir dir;
  std::string log = MakeLog(dir, 3);
  Spit(log, "");
  Status s = AppendAuditEntry(log, Entry("compress", 7));
  EXPECT_EQ(s.code(), StatusCode::kIntegrity) << s.ToString();
  EXPECT_NE(s.message().find("holds 0 entries but"), std::string::npos) << s.ToString();
  EXPECT_EQ(Slurp(log), "");
  ASSERT_EQ(::unlink(log.c_str()), 0);
  EXPECT_EQ(AppendAuditEntry(log, Entry("compress", 8)).code(), StatusCode::kIntegrity);
  EXPECT_FALSE(VerifyAuditLog(log).ok());
}

TEST(AuditLogTest, TheAnchorFindsALogRemovedWithItsHead) {
  ScratchDir dir;
  std::string log = dir.Join("log/audit.log");
  AuditLogOptions options;
  options.anchor = dir.Join("state/anchors/" + AuditAnchorName(log));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(AppendAuditEntry(log, Entry("gc", i), options).ok());
  ASSERT_TRUE(VerifyAuditLog(log, {}, options.anchor).ok());
  ASSERT_EQ(::unlink(log.c_str()), 0);
  ASSERT_EQ(::unlink(AuditHeadPath(log).c_str()), 0);
  Status missing = VerifyAuditLog(log, {}, options.anchor).status();
  EXPECT_EQ(missing.code(), StatusCode::kIntegrity) << missing.ToString();
  EXPECT_NE(missing.message().find("the log was removed"), std::string::npos);
  EXPECT_EQ(AppendAuditEntry(log, Entry("gc", 4), options).code(), StatusCode::kIntegrity);
  // Restarted by something that does not know the anchor, shorter and then longer.
  for (int n : {2, 5}) {
    ::unlink(log.c_str());
    ::unlink(AuditHeadPath(log).c_str());
    for (int i = 0; i < n; ++i) ASSERT_TRUE(AppendAuditEntry(log, Entry("compress", 10 + i)).ok());
    ASSERT_TRUE(VerifyAuditLog(log).ok());
    Status restarted = VerifyAuditLog(log, {}, options.anchor).status();
    EXPECT_EQ(restarted.code(), StatusCode::kIntegrity) << n << ": " << restarted.ToString();
    EXPECT_EQ(AppendAuditEntry(log, Entry("gc", 4), options).code(), StatusCode::kIntegrity);
  }
}

TEST(AuditLogTest, ASigningAppenderRefusesAHeadItDidNotSign) {
  ScratchDir dir;
  auto key = SecretKey::Generate();
  auto other = SecretKey::Generate();
  ASSERT_TRUE(key.ok() && other.ok());
  std::string log = dir.Join("audit.log");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(AppendAuditEntry(log, Entry("gc", i), SignedBy(*key)).ok());
  std::vector<std::string> lines = Lines(Slurp(log));
  lines.pop_back();
  Spit(log, Join(lines));
  Spit(AuditHeadPath(log), UnsignedHead(lines));
  ASSERT_TRUE(VerifyAuditLog(log).ok());  // Consistent, but no longer signed.
  Status s = AppendAuditEntry(log, Entry("gc", 5), SignedBy(*key));
  EXPECT_EQ(s.code(), StatusCode::kIntegrity) << s.ToString();
  EXPECT_NE(s.message().find("is not signed, but audit_sign_key is set"), std::string::npos);
  EXPECT_EQ(Lines(Slurp(log)).size(), 2u);
  EXPECT_FALSE(VerifyAuditLog(log, {key->public_key()}).ok());
  // Signed, but by a key that is not the configured one.
  const std::string log2 = dir.Join("audit2.log");
  ASSERT_TRUE(AppendAuditEntry(log2, Entry("gc", 6), SignedBy(*other)).ok());
  Status wrong = AppendAuditEntry(log2, Entry("gc", 7), SignedBy(*key));
  EXPECT_EQ(wrong.code(), StatusCode::kIntegrity);
  EXPECT_NE(wrong.message().find("is signed by " + other->id() + ", not by audit_sign_key"),
            std::string::npos) << wrong.ToString();
}

RC_GTEST_PROP(AuditLogProperty, AnySingleByteChangeIsFound, ()) {
  ScratchDir dir;
  const int entries = *rc::gen::inRange(1, 8);
  std::string log = dir.Join("audit.log");
  for (int i = 0; i < entries; ++i) {
    AuditEntry e = Entry(*rc::gen::element<std::string>("compress", "corpus build", "gc"), i);
    e.args.push_back(*rc::gen::container<std::string>(rc::gen::inRange('a', 'z')));
    RC_ASSERT(AppendAuditEntry(log, e).ok());
  }
  const bool in_head = *rc::gen::arbitrary<bool>();
  const std::string path = in_head ? AuditHeadPath(log) : log;
  std::string text = Slurp(path);
  size_t at = *rc::gen::inRange<size_t>(0, text.size());
  char flip = static_cast<char>(*rc::gen::inRange(1, 256));
  text[at] = static_cast<char>(text[at] ^ flip);
  Spit(path, text);
  RC_ASSERT(!VerifyAuditLog(log).ok());
}

}  // namespace
}  // namespace reducto
