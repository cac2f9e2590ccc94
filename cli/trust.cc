#include "trust.h"

namespace reducto::cli {

void TrustFlags::Register(CLI::App* cmd) { AddSettingFlag(cmd, "trusted_keys"); }

Result<std::vector<PublicKey>> TrustFlags::Resolve(const Settings& settings) const {
  std::vector<PublicKey> trusted;
  for (const std::string& path : settings.trusted_keys) {
    auto key = ReadPublicKeyFile(path);
    if (!key.ok()) return key.status().WithContext("trusted key");
    trusted.push_back(*key);
  }
  return trusted;
}

void RegisterSignKeyOption(CLI::App* cmd, std::vector<std::string>* keys) {
  cmd->add_option("--sign-key", *keys,
                  "secret key file (from `reducto key generate`) to sign with; repeatable")
      ->allow_extra_args(false);
}

std::string DescribeSigner(const SignatureCheck& check) {
  if (!check.valid) return check.key_id + " (INVALID)";
  return check.key_id + (check.trusted ? " (valid, trusted)" : " (valid)");
}

std::string DescribeSigners(const std::vector<SignatureCheck>& checks) {
  std::string out;
  for (const SignatureCheck& check : checks) {
    out += (out.empty() ? "" : ", ") + DescribeSigner(check);
  }
  return out.empty() ? "none" : out;
}

void ReportSigners(const CorpusInfo& info, const std::vector<std::string>& sign_keys,
                   const char* prefix, const char* suffix) {
  if (sign_keys.empty()) return;
  auto signatures = CheckCorpusSignatures(info, {});
  if (signatures.ok()) {
    std::fprintf(stderr, "%ssigned by %s%s", prefix, DescribeSigners(*signatures).c_str(), suffix);
  }
}

nlohmann::ordered_json SignaturesJson(const std::vector<SignatureCheck>& checks) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const SignatureCheck& check : checks) {
    nlohmann::ordered_json j;
    j["key_id"] = check.key_id;
    j["file"] = check.file;
    j["valid"] = check.valid;
    j["trusted"] = check.trusted;
    if (!check.valid) j["problem"] = check.problem.message();
    out.push_back(std::move(j));
  }
  return out;
}

Result<std::vector<PublicKey>> TrustFlags::Load(const Context& ctx) const {
  ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
  return Resolve(settings);
}

}  // namespace reducto::cli
