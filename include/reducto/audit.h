// The tamper-evident audit log (docs/audit.md): one JSON line per operation, each
// carrying the BLAKE3 of the line before it, a head file beside the log (entry count
// and last digest, optionally signed) that anchors the end of the chain, and
// optionally a copy of the head in a second place (the anchor).
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
// A file name for the anchor of `log` (a second copy of its head, kept in another
// directory: AuditLogOptions::anchor), unique to the log's absolute path.
std::string AuditAnchorName(const std::string& log);

struct AuditLogOptions {
  // A second copy of the head, kept outside the log's directory (the command line keeps
  // it in $XDG_STATE_HOME/reducto/audit-anchors/). The log must still hold the entries
  // it records, so a log removed and restarted together with its head is refused by
  // Append and reported by Verify. Empty: no anchor.
  std::string anchor;
  // Signs the head and the anchor on every append. When set, Append refuses a head or
  // anchor that is not signed by this key (an unsigned head written by someone who
  // cut the log must not be adopted and re-signed).
  const SecretKey* sign_key = nullptr;
};

// Appends `entry` to the log at `log` (creating it and its directory, mode 0600),
// chained to the last entry, synced, and updates the head and the anchor. Fails
// without appending (Integrity) when the log does not hold what its head or anchor
// record (edited, cut, emptied, or removed and restarted), or a head is not signed by
// options.sign_key: an append never extends a chain that verify would refuse.
Status AppendAuditEntry(const std::string& log, AuditEntry entry,
                        const AuditLogOptions& options = {});

struct AuditVerifyResult {
  uint64_t entries = 0;
  bool signed_head = false;
  std::string signer;  // Key id of the head's signature, when signed.
};

// Checks every line (valid JSON, seq in order, `prev` = BLAKE3 of the line before) and
// the head (entry count, last digest, signature). With `trusted_keys`, the head must be
// signed by one of them. With `anchor` (AuditLogOptions::anchor), the log must also
// hold the entries the anchor records. Integrity naming the first bad line and what is
// wrong with it (edited, removed, reordered, truncated, restarted); NotFound when the
// log or its head is missing and no anchor says it existed.
Result<AuditVerifyResult> VerifyAuditLog(const std::string& log,
                                         const std::vector<PublicKey>& trusted_keys = {},
                                         const std::string& anchor = "");

// The entries of the log, in order (no chain checks: VerifyAuditLog does those).
Result<std::vector<AuditEntry>> ReadAuditLog(const std::string& log);

}  // namespace reducto

#endif  // REDUCTO_AUDIT_H_
