#include "session.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "metrics_output.h"

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

Result<std::string> RepositoryToken(const Settings& settings) {
  std::string token;
  std::string from;
  if (settings.repo_token_file) {
    from = "the token file " + *settings.repo_token_file;
    std::ifstream in(*settings.repo_token_file);
    if (!in) {
      return Status::InvalidArgument("cannot read " + from + " (repo_token_file): " +
                                     std::strerror(errno));
    }
    std::getline(in, token);
  } else if (settings.repo_token_env) {
    from = "the environment variable " + *settings.repo_token_env + " (repo_token_env)";
    const char* value = std::getenv(settings.repo_token_env->c_str());
    token = value == nullptr ? "" : value;
  } else {
    return token;
  }
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) {
    return Status::InvalidArgument(from + " holds no token: put the repository's bearer token "
                                   "there, or drop the setting");
  }
  return token;
}

Result<RemoteSettings> RemoteSettingsOf(const Settings& settings) {
  RemoteSettings remote;
  ASSIGN_OR_RETURN(std::string token, RepositoryToken(settings));
  for (const std::string& url : settings.repositories) {
    RepositoryConfig repository;
    repository.url = url;
    repository.token = token;
    repository.ca_file = settings.repo_ca_file.value_or("");
    repository.connect_timeout_seconds = settings.repo_timeout;
    repository.stall_seconds = settings.repo_timeout;
    remote.repositories.push_back(std::move(repository));
  }
  remote.cache_dir = settings.cache_dir.value_or("");
  remote.cache_limit = settings.cache_limit;
  remote.metrics = CommandMetrics();
  return remote;
}

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
  if (use.remote) {
    ASSIGN_OR_RETURN(session.remote, RemoteSettingsOf(settings));
  }
  return std::make_unique<Session>(std::move(session));
}

}  // namespace reducto::cli
