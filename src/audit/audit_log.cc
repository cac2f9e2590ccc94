// The audit log (docs/audit.md).
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>

#include "corpus/manifest.h"
#include "crypto/ed25519.h"
#include "crypto/text_record.h"
#include "reducto/audit.h"
#include "reducto/digest.h"
#include "util/file.h"
#include "util/clock.h"

namespace reducto {
namespace {

constexpr char kHeadKind[] = "reducto-audit-head v1";
const std::string kZeroDigest(64, '0');
constexpr size_t kMaxLogBytes = size_t{1} << 30;
constexpr size_t kMaxHeadBytes = 4096;

std::string LineDigest(const std::string& line) {
  return ToHex(Blake3({reinterpret_cast<const uint8_t*>(line.data()), line.size()}));
}

std::string UserName() {
  struct passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr ? pw->pw_name : std::to_string(::geteuid());
}

std::string HostName() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof buf - 1) == 0 ? buf : "unknown";
}

// The line for `entry` chained to `prev`, without its newline. Field order is frozen.
std::string FormatLine(const AuditEntry& entry, const std::string& prev) {
  nlohmann::ordered_json j;
  j["seq"] = entry.seq;
  j["time"] = entry.time;
  j["user"] = entry.user;
  j["host"] = entry.host;
  j["operation"] = entry.operation;
  j["corpus"] = entry.corpus.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(entry.corpus);
  j["args"] = entry.args;
  j["outcome"] = entry.outcome;
  j["prev"] = prev;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct Head {
  uint64_t entries = 0;
  std::string last = kZeroDigest;
  std::string key_id;      // Empty when unsigned.
  std::string public_key;  // Base64.
  std::string signature;   // Base64.
};

std::string SignedText(uint64_t entries, const std::string& last) {
  return FormatRecord(kHeadKind, {{"entries", std::to_string(entries)}, {"last-blake3", last}});
}

Result<Head> ReadHead(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxHeadBytes));
  Head head;
  auto signed_fields =
      ParseRecord(text, kHeadKind, {"entries", "last-blake3", "key-id", "public-key", "signature"}, path);
  auto values = signed_fields.ok() ? signed_fields
                                   : ParseRecord(text, kHeadKind, {"entries", "last-blake3"}, path);
  if (!values.ok()) {
    return Status::Integrity("the audit head " + path + " is damaged (" + values.status().message() +
                             "): it was edited; the log cannot be trusted past its last check");
  }
  try {
    head.entries = std::stoull((*values)[0]);
  } catch (...) {
    return Status::Integrity("the audit head " + path + " has no valid entry count: it was edited");
  }
  head.last = (*values)[1];
  if (signed_fields.ok()) {
    head.key_id = (*values)[2];
    head.public_key = (*values)[3];
    head.signature = (*values)[4];
  }
  return head;
}

Status WriteHead(const std::string& path, uint64_t entries, const std::string& last,
                 const SecretKey* sign_key) {
  std::vector<std::pair<std::string, std::string>> fields = {{"entries", std::to_string(entries)},
                                                             {"last-blake3", last}};
  if (sign_key != nullptr) {
    std::string message = SignedText(entries, last);
    auto signature = sign_key->Sign({reinterpret_cast<const uint8_t*>(message.data()), message.size()});
    fields.push_back({"key-id", sign_key->public_key().id()});
    fields.push_back({"public-key", ToBase64(sign_key->public_key().bytes())});
    fields.push_back({"signature", ToBase64(signature)});
  }
  std::string text = FormatRecord(kHeadKind, fields);
  return WriteFileAtomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, 0600,
                         true);
}

// The lines of `text`; *complete is false when the last one lacks its newline.
std::vector<std::string> SplitLines(const std::string& text, bool* complete) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      *complete = false;
      return lines;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  *complete = true;
  return lines;
}

Result<std::string> ReadLog(const std::string& log) {
  struct stat st;
  if (::stat(log.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("audit log " + log + " does not exist");
    return ErrnoStatus("read audit log", log, errno);
  }
  return ReadSmallFile(log, kMaxLogBytes);
}

Result<AuditEntry> ParseLine(const std::string& line, uint64_t number, std::string* prev) {
  AuditEntry entry;
  try {
    auto j = nlohmann::json::parse(line);
    entry.seq = j.at("seq").get<uint64_t>();
    entry.time = j.at("time").get<std::string>();
    entry.user = j.at("user").get<std::string>();
    entry.host = j.at("host").get<std::string>();
    entry.operation = j.at("operation").get<std::string>();
    entry.corpus = j.at("corpus").is_null() ? "" : j.at("corpus").get<std::string>();
    entry.args = j.at("args").get<std::vector<std::string>>();
    entry.outcome = j.at("outcome").get<std::string>();
    *prev = j.at("prev").get<std::string>();
  } catch (const std::exception& e) {
    return Status::Integrity("line " + std::to_string(number) +
                             " is not a valid audit entry (" + e.what() + "): it was edited");
  }
  return entry;
}

// Checks the chain of `lines`; returns the digest of the last line.
Result<std::string> CheckChain(const std::vector<std::string>& lines) {
  std::string expected_prev = kZeroDigest;
  for (size_t i = 0; i < lines.size(); ++i) {
    const uint64_t number = i + 1;
    std::string prev;
    ASSIGN_OR_RETURN(AuditEntry entry, ParseLine(lines[i], number, &prev));
    if (prev != expected_prev) {
      return Status::Integrity(
          "line " + std::to_string(number) + " does not chain to " +
          (number == 1 ? std::string("the start of the log") : "line " + std::to_string(i)) +
          ": " + (number == 1 ? std::string("entries before it were removed")
                              : "line " + std::to_string(i) +
                                    " was edited, or entries were removed or reordered there"));
    }
    if (entry.seq != number) {
      return Status::Integrity("line " + std::to_string(number) + " holds entry " +
                               std::to_string(entry.seq) + ": entries were removed or reordered");
    }
    expected_prev = LineDigest(lines[i]);
  }
  return expected_prev;
}

// The head (or anchor) at `path`; nullopt when there is none.
Result<std::optional<Head>> ReadHeadIfPresent(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::optional<Head>();
  ASSIGN_OR_RETURN(Head head, ReadHead(path));
  return std::optional<Head>(std::move(head));
}

// OK for an unsigned head; Integrity when its signature does not verify.
Status CheckHeadSignature(const Head& head, const std::string& path) {
  if (head.signature.empty()) return Status::Ok();
  auto key_bytes = FromBase64(head.public_key, PublicKey::kSize);
  auto signature = FromBase64(head.signature, SecretKey::kSignatureSize);
  if (!key_bytes.ok() || !signature.ok()) {
    return Status::Integrity("the signature of the audit head " + path + " is damaged");
  }
  std::array<uint8_t, PublicKey::kSize> raw{};
  std::copy(key_bytes->begin(), key_bytes->end(), raw.begin());
  PublicKey key(raw);
  std::string message = SignedText(head.entries, head.last);
  if (key.id() != head.key_id ||
      !VerifyDetached(key, {reinterpret_cast<const uint8_t*>(message.data()), message.size()},
                      *signature)) {
    return Status::Integrity("the signature of the audit head " + path +
                             " does not verify: the head was edited");
  }
  return Status::Ok();
}

// The log still holds what `record` (its head or anchor, at `path`) says: its first
// `entries` lines, the last of them with digest `last`.
Status CheckLogHolds(const Head& record, const std::vector<std::string>& lines,
                     const std::string& path, const std::string& log) {
  const std::string n = std::to_string(record.entries);
  if (record.entries > lines.size()) {
    return Status::Integrity("the audit log " + log + " holds " + std::to_string(lines.size()) +
                             " entries but " + path + " records " + n +
                             ": entries were removed (the log was cut or emptied, or removed "
                             "and started again)");
  }
  const std::string& digest =
      record.entries == 0 ? kZeroDigest : LineDigest(lines[record.entries - 1]);
  if (digest != record.last) {
    return Status::Integrity("entry " + n + " of the audit log " + log + " does not match " +
                             path + ": it was edited, or the log was removed and started again");
  }
  return Status::Ok();
}

// When a key signs the log, a head or anchor that it did not sign is refused: whoever
// cut the log could have written it.
Status CheckSigner(const Head& record, const std::string& path, const SecretKey* key) {
  if (key == nullptr) return Status::Ok();
  const std::string remedy =
      ": not appending. Check the log with `reducto audit verify --trusted-key KEY.pub`; if "
      "audit_sign_key was only just set, move the log, its head and its anchor aside (keep "
      "them as evidence) to start a new, signed log";
  if (record.signature.empty()) {
    return Status::Integrity(path + " is not signed, but audit_sign_key is set" + remedy);
  }
  RETURN_IF_ERROR(CheckHeadSignature(record, path));
  if (record.key_id != key->public_key().id()) {
    return Status::Integrity(path + " is signed by " + record.key_id + ", not by audit_sign_key " +
                             key->public_key().id() + remedy);
  }
  return Status::Ok();
}

// Before an append: the head and the anchor agree with the log and its signer.
Status CheckBeforeAppend(const std::string& log, const std::vector<std::string>& lines,
                         const AuditLogOptions& options) {
  const std::string head_path = AuditHeadPath(log);
  ASSIGN_OR_RETURN(std::optional<Head> head, ReadHeadIfPresent(head_path));
  if (!head && !lines.empty()) {
    return Status::Integrity("the head " + head_path + " of the audit log " + log +
                             " is missing: not appending; run `reducto audit verify`");
  }
  if (head) {
    RETURN_IF_ERROR(CheckLogHolds(*head, lines, head_path, log));
    // One entry ahead of the head is an append interrupted before its head update.
    if (lines.size() > head->entries + 1) {
      return Status::Integrity("the audit log " + log + " does not match its head " + head_path +
                               ": entries were added outside reducto; not appending; run "
                               "`reducto audit verify`");
    }
    RETURN_IF_ERROR(CheckSigner(*head, head_path, options.sign_key));
  }
  if (options.anchor.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(std::optional<Head> anchor, ReadHeadIfPresent(options.anchor));
  if (!anchor) return Status::Ok();
  RETURN_IF_ERROR(CheckLogHolds(*anchor, lines, "its anchor " + options.anchor, log));
  return CheckSigner(*anchor, options.anchor, options.sign_key);
}

// After the line is written: the head, then the anchor (created with its directory).
Status UpdateHeads(const std::string& log, uint64_t entries, const std::string& last,
                   const AuditLogOptions& options) {
  RETURN_IF_ERROR(WriteHead(AuditHeadPath(log), entries, last, options.sign_key));
  if (options.anchor.empty()) return Status::Ok();
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(options.anchor).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  return WriteHead(options.anchor, entries, last, options.sign_key)
      .WithContext("the entry was appended, but its anchor was not updated");
}

}  // namespace

std::string AuditHeadPath(const std::string& log) { return log + ".head"; }

std::string AuditAnchorName(const std::string& log) {
  std::error_code ec;
  std::string absolute = std::filesystem::absolute(log, ec).lexically_normal().string();
  if (ec) absolute = log;
  std::string digest = LineDigest(absolute);
  return digest.substr(0, 16) + ".head";
}

Status AppendAuditEntry(const std::string& log, AuditEntry entry, const AuditLogOptions& options) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(log).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  int fd = ::open(log.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("open audit log", log, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }  // Also releases the lock.
  } closer{fd};
  if (::flock(fd, LOCK_EX) != 0) return ErrnoStatus("lock audit log", log, errno);
  // Under the lock: the chain must be intact to be extended.
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(log, kMaxLogBytes));
  bool complete = true;
  std::vector<std::string> lines = SplitLines(text, &complete);
  if (!complete) {
    return Status::Integrity("the audit log " + log + " ends inside an entry: run `reducto audit "
                             "verify` and keep the log as evidence");
  }
  Result<std::string> last = CheckChain(lines);
  if (!last.ok()) return last.status().WithContext("not appending to the audit log " + log);
  RETURN_IF_ERROR(CheckBeforeAppend(log, lines, options));
  entry.seq = lines.size() + 1;
  if (entry.time.empty()) entry.time = NowRfc3339();
  if (entry.user.empty()) entry.user = UserName();
  if (entry.host.empty()) entry.host = HostName();
  std::string line = FormatLine(entry, *last) + "\n";
  ssize_t written = ::write(fd, line.data(), line.size());
  if (written != static_cast<ssize_t>(line.size())) {
    return ErrnoStatus("append to audit log", log, written < 0 ? errno : ENOSPC);
  }
  if (::fsync(fd) != 0) return ErrnoStatus("sync audit log", log, errno);
  line.pop_back();
  return UpdateHeads(log, entry.seq, LineDigest(line), options);
}

namespace {

// The anchor's record against the verified log; OK when there is no anchor.
Status VerifyAnchor(const std::string& anchor, const std::vector<std::string>& lines,
                    const std::string& log) {
  if (anchor.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(std::optional<Head> record, ReadHeadIfPresent(anchor));
  if (!record) return Status::Ok();
  RETURN_IF_ERROR(CheckHeadSignature(*record, anchor));
  return CheckLogHolds(*record, lines, "its anchor " + anchor, log);
}

// The lines of a log that `anchor` says existed: a missing log is Integrity then.
Result<std::vector<std::string>> ReadLogLines(const std::string& log, const std::string& anchor) {
  Result<std::string> text = ReadLog(log);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound && !anchor.empty()) {
    ASSIGN_OR_RETURN(std::optional<Head> record, ReadHeadIfPresent(anchor));
    if (record && record->entries > 0) {
      return Status::Integrity("the audit log " + log + " is missing, but its anchor " + anchor +
                               " records " + std::to_string(record->entries) +
                               " entries: the log was removed");
    }
  }
  if (!text.ok()) return text.status();
  bool complete = true;
  std::vector<std::string> lines = SplitLines(*text, &complete);
  if (!complete) {
    return Status::Integrity("line " + std::to_string(lines.size()) +
                             " is incomplete: the log was cut in the middle of an entry");
  }
  return lines;
}

// Trusted only when the head is signed by one of `trusted_keys` (if any are given).
Status CheckTrustedSigner(const AuditVerifyResult& result, const std::string& head_path,
                          const std::vector<PublicKey>& trusted_keys) {
  if (trusted_keys.empty()) return Status::Ok();
  for (const PublicKey& key : trusted_keys) {
    if (result.signed_head && key.id() == result.signer) return Status::Ok();
  }
  return Status::Permission("the audit head " + head_path + " is " +
                            (result.signed_head ? "signed by " + result.signer + ", not"
                                                : "not signed by") +
                            " a trusted key: set `audit_sign_key` where the log is written");
}

}  // namespace

Result<AuditVerifyResult> VerifyAuditLog(const std::string& log,
                                         const std::vector<PublicKey>& trusted_keys,
                                         const std::string& anchor) {
  ASSIGN_OR_RETURN(std::vector<std::string> lines, ReadLogLines(log, anchor));
  ASSIGN_OR_RETURN(std::string last, CheckChain(lines));
  const std::string head_path = AuditHeadPath(log);
  struct stat st;
  if (::stat(head_path.c_str(), &st) != 0) {
    RETURN_IF_ERROR(VerifyAnchor(anchor, lines, log));  // Removed with its log, perhaps.
    return Status::NotFound("the head " + head_path + " of the audit log is missing: the end of "
                            "the log cannot be checked (it was removed)");
  }
  ASSIGN_OR_RETURN(Head head, ReadHead(head_path));
  if (head.entries > lines.size()) {
    return Status::Integrity("the log has " + std::to_string(lines.size()) +
                             " entries but its head records " + std::to_string(head.entries) +
                             ": the last " + std::to_string(head.entries - lines.size()) +
                             " entries were removed");
  }
  if (head.entries < lines.size()) {
    return Status::Integrity("the log has " + std::to_string(lines.size()) +
                             " entries but its head records " + std::to_string(head.entries) +
                             ": entries after " + std::to_string(head.entries) +
                             " were added outside reducto (or an append was interrupted)");
  }
  if (head.last != last) {
    return Status::Integrity("line " + std::to_string(lines.size()) +
                             " (the last entry) does not match the head: it was edited or replaced");
  }
  RETURN_IF_ERROR(CheckHeadSignature(head, head_path));
  RETURN_IF_ERROR(VerifyAnchor(anchor, lines, log));
  AuditVerifyResult result;
  result.entries = lines.size();
  result.signed_head = !head.signature.empty();
  result.signer = head.key_id;
  RETURN_IF_ERROR(CheckTrustedSigner(result, head_path, trusted_keys));
  return result;
}

Result<std::vector<AuditEntry>> ReadAuditLog(const std::string& log) {
  ASSIGN_OR_RETURN(std::string text, ReadLog(log));
  bool complete = true;
  std::vector<std::string> lines = SplitLines(text, &complete);
  std::vector<AuditEntry> entries;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string prev;
    ASSIGN_OR_RETURN(AuditEntry entry, ParseLine(lines[i], i + 1, &prev));
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace reducto
