// The library session (reducto/session.h) of a command: the origin rule, usage
// recording and the audit log, made from the settings and the command's flags. The
// policies themselves live in the library, so that every front end applies them alike;
// the command line only says which flags feed them (docs/security.md, "Corpus origin").
#ifndef REDUCTO_CLI_SESSION_H_
#define REDUCTO_CLI_SESSION_H_

#include <CLI/CLI.hpp>
#include <memory>

#include "reducto/session.h"
#include "reducto/status.h"
#include "settings.h"
#include "trust.h"

namespace reducto::cli {

// --trusted-key and --insecure-skip-verify, for the commands that use a corpus.
struct CorpusUseFlags {
  TrustFlags trust;
  bool insecure_skip_verify = false;

  void Register(CLI::App* cmd);
};

// What a command's session does besides auditing.
struct SessionUse {
  // The command uses corpora: the trusted keys (flags over settings) and
  // --insecure-skip-verify (a warning on stderr) set the origin rule. Unset: no trusted
  // keys, so the rule is "made here".
  const CorpusUseFlags* origin = nullptr;
  // Record the corpus usage of compressions (UsageFlags::Enabled).
  bool record_usage = false;
  // The session writes the command's audit entry: it reads the audit signing key.
  bool audit = false;
  // Corpora not found locally come from the cache and the repositories of the settings.
  bool remote = false;
};

// The bearer token for the repositories: from the file, or the environment variable,
// that the settings name (repo_token_file, repo_token_env); empty when neither is set.
// InvalidArgument as RemoteSettingsOf.
Result<std::string> RepositoryToken(const Settings& settings);

// The repositories, token, CA file, timeout, cache directory and limit of `settings`.
// InvalidArgument when the token file cannot be read or is empty, or the token's
// environment variable is unset or empty (the message names the file or variable, never
// the token).
Result<RemoteSettings> RemoteSettingsOf(const Settings& settings);

// The session for a command. The command line writes one audit entry per command
// (RecordInAuditLog), so the session's operations do not write their own. Errors: the
// trusted key files'. A secret audit key that cannot be read is a warning (the log is
// then not signed).
Result<std::unique_ptr<Session>> OpenSession(const Settings& settings, SessionUse use = {});

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_SESSION_H_
