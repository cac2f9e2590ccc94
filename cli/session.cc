#include "session.h"

#include <cstdio>

namespace reducto::cli {

void CorpusUseFlags::Register(CLI::App* cmd) {
  trust.Register(cmd);
  cmd->add_flag("--insecure-skip-verify", insecure_skip_verify,
                "use a corpus without checking where it comes from or who signed it "
                "(recorded in the audit log)");
}

namespace {

// The audit log's signing key, or none (with a warning) when it cannot be read.
std::shared_ptr<const SecretKey> AuditSignKey(const Settings& settings) {
  if (!settings.audit_sign_key) return nullptr;
  auto key = ReadSecretKeyFile(*settings.audit_sign_key);
  if (key.ok()) return std::make_shared<const SecretKey>(std::move(key).value());
  std::fprintf(stderr, "reducto: warning: audit log not signed: %s\n",
               key.status().ToString().c_str());
  return nullptr;
}

}  // namespace

Result<std::unique_ptr<Session>> OpenSession(const Settings& settings, SessionUse use) {
  SessionSettings session;
  if (use.origin != nullptr) {
    ASSIGN_OR_RETURN(session.trusted_keys, use.origin->trust.Resolve(settings));
    session.skip_origin_check = use.origin->insecure_skip_verify;
    if (session.skip_origin_check) {
      std::fprintf(stderr,
                   "reducto: WARNING: --insecure-skip-verify: the corpus is used without "
                   "checking its origin or signatures; this is recorded in the audit log\n");
    }
  }
  session.record_usage = use.record_usage;
  session.audit_log = settings.audit_log;
  if (use.audit) session.audit_sign_key = AuditSignKey(settings);
  session.audit_each_operation = false;
  return std::make_unique<Session>(std::move(session));
}

}  // namespace reducto::cli
