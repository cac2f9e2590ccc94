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
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(AppendAuditEntry(log, Entry("gc", i), &*key).ok());
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
