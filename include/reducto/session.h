// EXPERIMENTAL (docs/api.md): new; its settings may still change.
//
// The policies that every front end (the command line, the C ABI, Python, `serve`)
// applies the same way, in one object made from the settings:
//
// - origin (docs/security.md, "Corpus origin"): a corpus is used only when it has a
//   valid signature by a trusted key, or, without trusted keys, when it was made here
//   (built, updated, optimized or pruned by this user on this machine, as recorded in
//   the state directory); `skip_origin_check` turns this off;
// - usage (docs/corpus.md, "Usage store"): which corpus bytes each compression used is
//   recorded beside the corpus, for `corpus prune --unused-since`;
// - audit (docs/audit.md): each operation that makes, changes, uses, checks or deletes a
//   corpus appends an entry to the tamper-evident audit log.
//
// A program that calls Compress() or BuildCorpus() directly gets none of these; one that
// calls them through a Session gets the same refusals, records and entries as the
// command line.
//
// Thread safety: a Session is immutable after construction; its methods may be called
// from many threads (the audit log and the usage store take their own locks).
#ifndef REDUCTO_SESSION_H_
#define REDUCTO_SESSION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reducto/audit.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/corpus_handle.h"
#include "reducto/io.h"
#include "reducto/prune.h"
#include "reducto/remote.h"
#include "reducto/signing.h"
#include "reducto/status.h"
#include "reducto/usage.h"

namespace reducto {

struct SessionSettings {
  // Where the record of corpora made here, the usage warnings given and the audit
  // anchors are kept. Unset: $XDG_STATE_HOME/reducto, else ~/.local/state/reducto (none
  // without either variable). Empty: no state directory (no corpus counts as made here).
  std::optional<std::string> state_dir;
  // Public keys whose signature makes a corpus trusted. Empty: the made-here rule.
  std::vector<PublicKey> trusted_keys;
  // Use corpora without checking their origin (--insecure-skip-verify).
  bool skip_origin_check = false;
  // Record which corpus bytes compressions use.
  bool record_usage = true;
  // The audit log. Unset: <state_dir>/audit.log; empty or "off": no audit log.
  std::optional<std::string> audit_log;
  // Signs the audit log's head and anchor (AuditLogOptions::sign_key).
  std::shared_ptr<const SecretKey> audit_sign_key;
  // Append an audit entry for each operation of this session (true), or only through
  // Record() (false: the front end writes one entry per command of its own).
  bool audit_each_operation = true;
  // The front end's invocation, recorded in each entry's `args` (the command line's
  // options and arguments; never a secret).
  std::vector<std::string> audit_args;
  // Corpora not found locally come from this cache and these repositories
  // (reducto/remote.h); unset: only local directories and stores.
  std::optional<RemoteSettings> remote;
  // Where warnings go (one line, without a prefix or newline); unset: stderr, as
  // "reducto: warning: <line>".
  std::function<void(const std::string&)> warn;
};

// The operations that reach the audit log: everything that makes, changes, uses,
// checks or deletes a corpus ("compress", "corpus build", ..., "gc", "test").
bool IsAuditedOperation(const std::string& operation);

class Session {
 public:
  explicit Session(SessionSettings settings);
  // The corpora and resolvers a session opens refer to it: it stays where it is made.
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const SessionSettings& settings() const { return settings_; }
  // The state directory in effect ("" when there is none).
  const std::string& state_dir() const { return state_dir_; }
  // The audit log in effect ("" when auditing is off).
  const std::string& audit_log() const { return audit_log_; }
  // Where the corpora made here are recorded ("" without a state directory).
  std::string MadeHereRecordPath() const;

  // ---- origin ----
  // OK when the corpus may be used: skip_origin_check, a valid signature by a trusted
  // key, or (without trusted keys) made here. Else Permission, naming the record looked
  // up or the keys, and how to trust the corpus.
  Status CheckOrigin(const CorpusInfo& info) const;
  // Records that `info` was made here. A failure is a warning: the corpus exists, and
  // using it will ask for a trusted key instead.
  void RememberMadeHere(const CorpusInfo& info) const;
  // Corpus::Open's options with the origin rule as the policy.
  CorpusOpenOptions OpenOptions(uint64_t cache_size = 0, const EnvelopeKey* key = nullptr) const;
  // Corpus::Open with the origin rule; with `fall_back`, OpenCorpusOrFallBack (an empty
  // handle when `dir` does not exist: write standalone containers).
  Result<CorpusHandle> OpenCorpus(const std::string& dir, uint64_t cache_size = 0,
                                  const EnvelopeKey* key = nullptr,
                                  bool fall_back = false) const;
  // A resolver over `locations` (corpus directories or stores) that opens corpora with
  // the origin rule; each corpus is opened once while a handle to it is held, so the
  // containers of one command share it. With `remote` settings, a RemoteCorpusResolver
  // in front of it: the cache and the repositories after the locations, the signatures
  // of the trusted keys fetched with a manifest. It refers to this session: keep the
  // session.
  std::unique_ptr<CorpusResolver> Resolver(std::vector<std::string> locations,
                                           uint64_t cache_size = 0,
                                           const EnvelopeKey* key = nullptr) const;

  // ---- operations, each with the origin rule, usage recording and an audit entry ----
  Result<CompressStats> Compress(const Corpus& corpus, ByteSource& in, ByteSink& out,
                                 CompressOptions options) const;
  // As reducto::Compress(corpus_dir, ...): opens the corpus, or falls back.
  Result<CompressStats> Compress(const std::string& corpus_dir, ByteSource& in, ByteSink& out,
                                 CompressOptions options) const;
  // The corpus a container names is asked of `corpora` (made by Resolver(), so that it
  // applies the origin rule, or any resolver: the rule is applied again).
  Result<DecompressStats> Decompress(CorpusResolver& corpora, ByteSource& in, ByteSink& out,
                                     DecompressOptions options) const;
  // Against one open corpus (opened by OpenCorpus, or any: the rule is applied again);
  // the container must name it.
  Result<DecompressStats> Decompress(const Corpus& corpus, ByteSource& in, ByteSink& out,
                                     DecompressOptions options) const;
  // As above, with Resolver({corpus_dir}, options.cache_size, options.corpus_key).
  Result<DecompressStats> Decompress(const std::string& corpus_dir, ByteSource& in,
                                     ByteSink& out, DecompressOptions options) const;
  Result<CorpusInfo> BuildCorpus(const std::vector<std::string>& inputs,
                                 const std::string& out_dir,
                                 const CorpusBuildOptions& options) const;
  // The parent must pass the origin rule.
  Result<CorpusInfo> UpdateCorpus(const std::string& parent_dir,
                                  const std::vector<std::string>& inputs,
                                  const std::string& out_dir,
                                  const CorpusUpdateOptions& options) const;
  Result<OptimizeReport> OptimizeCorpus(const std::vector<std::string>& samples,
                                        const std::string& out_dir,
                                        const OptimizeOptions& options) const;
  // The source must pass the origin rule.
  Result<CorpusPruneResult> PruneCorpus(const std::string& source_dir,
                                        const std::string& out_dir,
                                        const CorpusPruneOptions& options) const;

  // reducto::VerifyCorpus (every byte against its digest), then the origin rule: a
  // corpus whose bytes are right but that this session would not use fails with
  // Permission. Audited as "corpus verify".
  Status VerifyCorpus(const std::string& dir, const EnvelopeKey* key = nullptr) const;

  // ---- audit ----
  // Appends `entry` (its args are settings().audit_args when empty) to the audit log,
  // signed and anchored; a failure is a warning naming the operation, and returned.
  // OK and nothing written when auditing is off.
  Status Record(AuditEntry entry) const;
  // The anchor of the audit log (AuditLogOptions::anchor): a copy of its head in the
  // state directory; "" without one.
  std::string AuditAnchorPath() const;

 private:
  // Record() of `operation` on `corpus_id` with `status`'s outcome, when
  // audit_each_operation.
  void RecordOperation(const std::string& operation, const std::string& corpus_id,
                       const Status& status, const std::string& note = "") const;
  void Warn(const std::string& line) const;
  void RecordUsage(const CorpusUsageRecorder& recorder, const std::string& corpus_dir,
                   const CompressStats& stats) const;

  SessionSettings settings_;
  std::string state_dir_;
  std::string audit_log_;
};

}  // namespace reducto

#endif  // REDUCTO_SESSION_H_
