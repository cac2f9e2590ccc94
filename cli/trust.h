// What the commands that sign, verify or use corpora share: the --trusted-key flag
// (over REDUCTO_TRUSTED_KEYS over `trusted_keys` in the config) and the way signature
// checks are printed.
#ifndef REDUCTO_CLI_TRUST_H_
#define REDUCTO_CLI_TRUST_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reducto/signing.h"
#include "reducto/status.h"
#include "command.h"
#include "settings.h"

namespace reducto::cli {

// --trusted-key PUB, repeatable: the setting `trusted_keys` as a flag.
struct TrustFlags {
  void Register(CLI::App* cmd);
  // Reads the trusted public keys of the settings (the flags' when given). An empty
  // result means no trust policy. Errors name the key file and what to pass instead.
  Result<std::vector<PublicKey>> Resolve(const Settings& settings) const;
  // Resolve() against the settings that `ctx` loads, for commands that need no others.
  Result<std::vector<PublicKey>> Load(const Context& ctx) const;
};

// --sign-key KEY, repeatable.
void RegisterSignKeyOption(CLI::App* cmd, std::vector<std::string>* keys);

// "3f2a9c0d1e4b5a67 (valid, trusted)", "... (valid)" or "... (INVALID)".
std::string DescribeSigner(const SignatureCheck& check);
// The signers, comma-separated, or "none".
std::string DescribeSigners(const std::vector<SignatureCheck>& checks);
// After a command that signed a new corpus with `sign_keys`: "signed by ..." on stderr,
// preceded by `prefix` (nothing when no key was given).
void ReportSigners(const CorpusInfo& info, const std::vector<std::string>& sign_keys,
                   const char* prefix = "", const char* suffix = "\n");
// [{"key_id", "file", "valid", "trusted", "problem"}...]; "problem" only when invalid.
nlohmann::ordered_json SignaturesJson(const std::vector<SignatureCheck>& checks);

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_TRUST_H_
