#include "corpus_origin.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace reducto::cli {
namespace {

constexpr char kMadeHereFile[] = "corpora-made-here";

// One line per corpus: "<id> <BLAKE3 of manifest.json in hex>".
std::string MadeHereLine(const CorpusInfo& info) {
  return info.id + " " + ToHex(info.manifest_digest);
}

bool MadeHere(const CorpusInfo& info) {
  std::optional<std::string> state = StateDirectory();
  if (!state) return false;
  std::ifstream in(*state + "/" + kMadeHereFile);
  const std::string wanted = MadeHereLine(info);
  for (std::string line; std::getline(in, line);) {
    if (line == wanted) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> StateDirectory() {
  return XdgReductoDirectory("XDG_STATE_HOME", ".local/state");
}

void RememberMadeHere(const CorpusInfo& info) {
  std::optional<std::string> state = StateDirectory();
  std::error_code error;
  if (state) std::filesystem::create_directories(*state, error);
  const std::string path = state.value_or("") + "/" + kMadeHereFile;
  std::ofstream out;
  if (state && !error) out.open(path, std::ios::app);
  if (out << MadeHereLine(info) << '\n' << std::flush) return;
  std::fprintf(stderr,
               "reducto: warning: could not record corpus %s in %s: compress and decompress will "
               "ask for a trusted key (or --insecure-skip-verify) to use it\n",
               info.id.c_str(), state ? path.c_str() : "the state directory (no HOME)");
}

std::string MadeHereRecordPath() {
  std::optional<std::string> state = StateDirectory();
  return state ? *state + "/" + kMadeHereFile : "";
}

Status CheckMadeHere(const CorpusInfo& info) {
  if (MadeHere(info)) return Status::Ok();
  const std::string record = MadeHereRecordPath();
  struct passwd* pw = ::getpwuid(::geteuid());
  const std::string user = pw != nullptr ? pw->pw_name : std::to_string(::geteuid());
  return Status::Permission(
      "corpus " + info.id + " at " + info.path + " is not in the record of corpora made here (" +
      (record.empty() ? std::string("no state directory: HOME is not set") : record) +
      ", for user " + user +
      "): it was made by another user or machine, under another XDG_STATE_HOME (sudo, a CI "
      "step, a systemd unit), or its manifest changed since. See who signed it (reducto corpus "
      "info " + info.path + "), then pass --trusted-key KEY.pub or set trusted_keys (the set-up "
      "for fleets and services: docs/security.md); or pass --insecure-skip-verify to use it "
      "unverified");
}

void CorpusUseFlags::Register(CLI::App* cmd) {
  trust.Register(cmd);
  cmd->add_flag("--insecure-skip-verify", insecure_skip_verify,
                "use a corpus without checking where it comes from or who signed it "
                "(recorded in the audit log)");
}

void CorpusUseFlags::WarnSkipping() {
  std::fprintf(stderr,
               "reducto: WARNING: --insecure-skip-verify: the corpus is used without checking "
               "its origin or signatures; this is recorded in the audit log\n");
}

Status CorpusUseFlags::Check(const Settings& settings, const std::string& dir) const {
  if (insecure_skip_verify) {
    WarnSkipping();
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(std::vector<PublicKey> trusted, trust.Resolve(settings));
  Result<CorpusInfo> info = ReadCorpusInfo(dir);
  if (!info.ok()) return Status::Ok();
  return trusted.empty() ? CheckMadeHere(*info) : CheckCorpusTrust(*info, trusted);
}

}  // namespace reducto::cli
