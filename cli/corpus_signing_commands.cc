// reducto corpus sign | verify | list
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "command.h"
#include "session.h"
#include "encryption_flags.h"
#include "progress.h"
#include "reducto/corpus.h"
#include "reducto/signing.h"
#include "trust.h"

namespace reducto::cli {
namespace {

// Dumps JSON, replacing bytes that are not UTF-8 (file names may hold any bytes).
std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Status WriteStdout(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  return std::fflush(stdout) == 0 && !std::ferror(stdout)
             ? Status::Ok()
             : Status::Io("cannot write to stdout");
}

struct CorpusSignCommand {
  std::string dir;
  std::vector<std::string> sign_keys;
  EncryptionFlags corpus_key;

  Status Run(const Context& ctx) const {
    if (sign_keys.empty()) {
      return Status::InvalidArgument(
          "corpus sign needs --sign-key KEY (a secret key file from `reducto key generate`)");
    }
    ASSIGN_OR_RETURN(auto unlock, corpus_key.Load());
    for (const std::string& path : sign_keys) {
      ASSIGN_OR_RETURN(auto key, ReadSecretKeyFile(path));
      ASSIGN_OR_RETURN(auto file, SignCorpus(dir, key, &unlock));
      if (!ctx.quiet)
        std::printf("signed %s with key %s: %s\n", dir.c_str(), key.id().c_str(), file.c_str());
    }
    return WriteStdout("");
  }
};

// Prints one line per check and remembers the first failure. The checks counted are
// the OK and FAILED lines it printed, so the summary agrees with them; NOTE lines are
// advice, not checks.
class VerifyReport {
 public:
  explicit VerifyReport(bool quiet) : quiet_(quiet) {}

  void Ok(const char* check, const std::string& detail) {
    ++checks_;
    Add("OK", check, detail);
  }
  void Note(const char* check, const std::string& detail) {
    ++notes_;
    Add("NOTE", check, detail);
  }
  void Failed(const char* check, const Status& status) {
    ++checks_;
    Add("FAILED", check, status.message());
    if (failures_++ == 0) first_ = status;
  }
  // OK, or the first failure, its message prefixed with the counts.
  Status Finish(const std::string& dir) {
    if (failures_ == 0) {
      if (!quiet_) {
        std::printf("corpus %s verified: %d of %d checks passed%s\n", dir.c_str(), checks_,
                    checks_, NotesText().c_str());
      }
      return WriteStdout("");
    }
    std::fflush(stdout);
    return first_.WithContext("corpus " + dir + " failed " + std::to_string(failures_) + " of " +
                              std::to_string(checks_) + " checks" + NotesText() + "; the first");
  }

 private:
  void Add(const char* outcome, const char* check, const std::string& detail) const {
    if (!quiet_) std::printf("%-7s %-15s %s\n", outcome, check, detail.c_str());
  }

  // " (2 notes)": the NOTE lines, so that every line printed is accounted for.
  std::string NotesText() const {
    if (notes_ == 0) return "";
    return " (" + std::to_string(notes_) + (notes_ == 1 ? " note)" : " notes)");
  }

  bool quiet_;
  int checks_ = 0;
  int notes_ = 0;
  int failures_ = 0;
  Status first_;
};

struct CorpusVerifyCommand {
  std::string dir;
  TrustFlags trust;
  EncryptionFlags corpus_key;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(auto unlock, corpus_key.Load());
    ASSIGN_OR_RETURN(auto trusted, trust.Load(ctx));
    VerifyReport report(ctx.quiet);
    auto info = ReadCorpusInfo(dir);
    if (!info.ok()) {
      report.Failed("manifest", info.status());
      return report.Finish(dir);
    }
    if (!ctx.quiet) std::printf("corpus %s at %s\n", info->id.c_str(), dir.c_str());
    report.Ok("manifest", dir + "/manifest.json, blake3 " + ToHex(info->manifest_digest));
    CheckSignatures(*info, trusted, report);
    CheckAncestors(*info, report);
    TerminalProgress progress(dir, std::vector<std::string>{}, ctx.NoProgressLine());
    ProgressCounter counted(progress.observer());
    Status s = VerifyCorpus(dir, &unlock, counted.observer());
    progress.Finish();
    if (s.ok()) {
      report.Ok("pack and index", std::to_string(info->segments.size()) + " segment(s), " +
                                      std::to_string(info->pack_bytes()) + " bytes, " +
                                      std::to_string(info->index_entries) + " index entries, " +
                                      std::to_string(info->fine_index_count()) +
                                      " fine index(es): every digest matches");
    } else {
      report.Failed("pack and index", s);
    }
    return report.Finish(dir);
  }

  // A version: reports where its ancestors were found (their bytes are checked with
  // the pack and index).
  static void CheckAncestors(const CorpusInfo& info, VerifyReport& report) {
    if (!info.is_version()) return;
    auto chain = ReadCorpusChain(info.path);
    if (!chain.ok()) {
      report.Failed("ancestors", chain.status());
      return;
    }
    std::string found;
    for (size_t i = 1; i < chain->size(); ++i) {
      found += (i > 1 ? ", " : "") + (*chain)[i].id + " at " + (*chain)[i].path;
    }
    report.Ok("ancestors", found + ": manifest digests match");
  }

  // Without trusted keys, compress and decompress use only a corpus made here (the
  // same manifest digest in the record): verify applies the same rule.
  static void CheckOrigin(const CorpusInfo& info, VerifyReport& report) {
    const Session made_here{SessionSettings()};  // No trusted keys: the made-here rule.
    if (Status s = made_here.CheckOrigin(info); !s.ok()) {
      report.Failed("trust", s);
      return;
    }
    report.Ok("trust", "no trusted keys configured; made by this user on this machine (" +
                           made_here.MadeHereRecordPath() + "), manifest unchanged since");
  }

  // Reports each signature file and the trust policy.
  static void CheckSignatures(const CorpusInfo& info, const std::vector<PublicKey>& trusted,
                             VerifyReport& report) {
    auto signatures = CheckCorpusSignatures(info, trusted);
    if (!signatures.ok()) {
      report.Failed("signatures", signatures.status());
      return;
    }
    for (const SignatureCheck& check : *signatures) {
      if (check.valid) {
        report.Ok("signature", check.file + ": key " + check.key_id +
                                   (check.trusted ? ", trusted" : ", valid (not a trusted key)"));
      } else {
        report.Failed("signature", check.problem);
      }
    }
    if (signatures->empty()) {
      report.Note("signatures",
                  "none: sign with `reducto corpus sign " + info.path + " --sign-key KEY`");
    }
    if (trusted.empty()) {
      CheckOrigin(info, report);
      return;
    }
    auto by_trusted = std::find_if(signatures->begin(), signatures->end(),
                                   [](const SignatureCheck& c) { return c.trusted; });
    if (by_trusted != signatures->end()) {
      report.Ok("trust", "signed by trusted key " + by_trusted->key_id);
    } else {
      report.Failed("trust", CheckCorpusTrust(info, trusted));
    }
  }
};

// One row of `corpus list`: a corpus, or a directory whose manifest does not read.
struct ListedCorpus {
  std::string path;
  Result<CorpusInfo> info;
  std::vector<SignatureCheck> signatures;
};

struct CorpusListCommand {
  std::string store = ".";
  bool json = false;
  TrustFlags trust;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(auto trusted, trust.Load(ctx));
    ASSIGN_OR_RETURN(auto dirs, ListCorpora(store));
    std::vector<ListedCorpus> corpora;
    for (const std::string& dir : dirs) {
      ListedCorpus corpus{dir, ReadCorpusInfo(dir), {}};
      if (corpus.info.ok()) {
        auto checks = CheckCorpusSignatures(*corpus.info, trusted);
        if (checks.ok()) corpus.signatures = std::move(checks).value();
      }
      corpora.push_back(std::move(corpus));
    }
    for (const ListedCorpus& c : corpora) {
      if (!c.info.ok()) {
        std::fprintf(stderr, "reducto: warning: %s: %s\n", c.path.c_str(),
                     c.info.status().ToString().c_str());
      }
    }
    if (corpora.empty() && !json) return WriteStdout("no corpora in " + store + "\n");
    return WriteStdout(json ? Json(corpora) : Table(corpora));
  }

  static std::string Table(const std::vector<ListedCorpus>& corpora) {
    std::vector<std::vector<std::string>> rows = {
        {"ID", "PARENT", "CREATED", "PACK", "NEW", "AVG", "SIGNERS", "PATH"}};
    for (const ListedCorpus& c : corpora) {
      if (!c.info.ok()) {
        rows.push_back({"(unreadable)", "-", "-", "-", "-", "-", "-", c.path});
        continue;
      }
      const CorpusInfo& i = *c.info;
      rows.push_back({i.id, i.parent_id.value_or("-"), i.created, HumanBytes(i.pack_bytes()),
                      HumanBytes(i.own_pack_bytes()), HumanBytes(i.chunking.avg_size),
                      DescribeSigners(c.signatures), c.path});
    }
    return FormatTable(rows);
  }

  static std::string Json(const std::vector<ListedCorpus>& corpora) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const ListedCorpus& c : corpora) {
      nlohmann::ordered_json j;
      j["path"] = c.path;
      if (!c.info.ok()) {
        j["error"] = c.info.status().ToString();
        out.push_back(std::move(j));
        continue;
      }
      const CorpusInfo& i = *c.info;
      j["id"] = i.id;
      j["parent"] = i.parent_id ? nlohmann::ordered_json(*i.parent_id) : nlohmann::ordered_json();
      j["created"] = i.created;
      j["builder"] = i.builder;
      j["manifest_digest"] = ToHex(i.manifest_digest);
      if (i.parent_manifest_digest) j["parent_manifest_digest"] = ToHex(*i.parent_manifest_digest);
      j["pack_bytes"] = i.pack_bytes();
      j["new_bytes"] = i.own_pack_bytes();
      j["input_bytes"] = i.input_bytes;
      j["chunking"] = {
          {"min", i.chunking.min_size}, {"avg", i.chunking.avg_size}, {"max", i.chunking.max_size}};
      j["signatures"] = SignaturesJson(c.signatures);
      out.push_back(std::move(j));
    }
    return Dump(out);
  }
};

}  // namespace

void RegisterCorpusSigningCommands(CLI::App* corpus, Context& ctx) {
  static CorpusSignCommand sign;
  auto* sign_cmd = AddCommand(corpus, ctx, sign, "sign",
                              "verify a corpus and add a detached signature by a key");
  sign_cmd->add_option("dir", sign.dir, "corpus directory")->required();
  RegisterSignKeyOption(sign_cmd, &sign.sign_keys);
  sign.corpus_key.Register(sign_cmd, "--corpus-key");

  static CorpusVerifyCommand verify;
  auto* verify_cmd = AddCommand(corpus, ctx, verify, "verify",
                                "check a corpus's signatures, manifest, pack and index");
  verify_cmd->add_option("dir", verify.dir, "corpus directory")->required();
  verify.trust.Register(verify_cmd);
  verify.corpus_key.Register(verify_cmd, "--corpus-key");

  static CorpusListCommand list;
  auto* list_cmd = AddCommand(corpus, ctx, list, "list",
                              "list the corpora in a directory (default: the current one)");
  list_cmd->add_option("store", list.store, "directory that holds corpora");
  list_cmd->add_flag("--json", list.json, "print JSON");
  list.trust.Register(list_cmd);
}

}  // namespace reducto::cli
