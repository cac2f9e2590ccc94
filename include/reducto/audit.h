// The tamper-evident audit log (docs/audit.md): one JSON line per operation, each
// carrying the BLAKE3 of the line before it, and a head file beside the log (entry
// count and last digest, optionally signed) that anchors the end of the chain.
//
// Thread safety: Append may be called by many threads and processes at once on one
// log (it takes an exclusive lock); the others only read.
#ifndef REDUCTO_AUDIT_H_
#define REDUCTO_AUDIT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reducto/signing.h"
#include "reducto/status.h"

namespace reducto {

struct AuditEntry {
  uint64_t seq = 0;              // 1-based; set by AppendAuditEntry.
  std::string time;              // RFC 3339 UTC; set by AppendAuditEntry when empty.
  std::string user;              // Set by AppendAuditEntry when empty.
  std::string host;              // Set by AppendAuditEntry when empty.
  std::string operation;         // "compress", "corpus build", ...
  std::string corpus;            // Corpus id, or empty.
  std::vector<std::string> args; // The command's options and arguments, as given.
  std::string outcome;           // "ok", or "failed: <message>".
};

// `<log>.head`: where the head of `log` is anchored.
std::string AuditHeadPath(const std::string& log);

// Appends `entry` to the log at `log` (creating it and its directory, mode 0600),
// chained to the last entry, synced, and updates the head (signed with `sign_key` when
// given). Fails without appending when the log or its head do not match: an
// append never extends a chain that verify would refuse.
Status AppendAuditEntry(const std::string& log, AuditEntry entry,
                        const SecretKey* sign_key = nullptr);

struct AuditVerifyResult {
  uint64_t entries = 0;
  bool signed_head = false;
  std::string signer;  // Key id of the head's signature, when signed.
};

// Checks every line (valid JSON, seq in order, `prev` = BLAKE3 of the line before) and
// the head (entry count, last digest, signature). With `trusted_keys`, the head must be
// signed by one of them. Integrity naming the first bad line and what is wrong with it
// (edited, removed, reordered, truncated); NotFound when the log or its head is missing.
Result<AuditVerifyResult> VerifyAuditLog(const std::string& log,
                                         const std::vector<PublicKey>& trusted_keys = {});

// The entries of the log, in order (no chain checks: VerifyAuditLog does those).
Result<std::vector<AuditEntry>> ReadAuditLog(const std::string& log);

}  // namespace reducto

#endif  // REDUCTO_AUDIT_H_
