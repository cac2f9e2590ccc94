// reducto corpus build | info (sign, verify, list: corpus_signing_commands.cc)
#include "command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "reducto/corpus.h"
#include "reducto/signing.h"
#include "session.h"
#include "encryption_flags.h"
#include "progress.h"
#include "reducto/encryption.h"

namespace reducto::cli {
namespace {

struct CorpusBuildCommand {
  ChunkingFlags chunking;
  std::string output;
  std::vector<std::string> inputs;
  std::vector<std::string> sign_keys;
  EncryptionFlags encryption;
  bool force = false;
  bool no_fine_index = false;

  Status Run(const Context& ctx) const {
    std::vector<InputFile> read = encryption.Files();
    for (const std::string& input : inputs) read.push_back({"the input", input});
    RETURN_IF_ERROR(CheckOneStdinReader(read));
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    CorpusBuildOptions options;
    ASSIGN_OR_RETURN(auto params, chunking.Resolve(settings));
    options.chunking = params;
    options.overwrite = force;
    options.sign_keys = sign_keys;
    options.fine_index = !no_fine_index;
    ASSIGN_OR_RETURN(auto key, encryption.Load());
    if (!key.empty()) options.encrypt_key = &key;
    auto start = std::chrono::steady_clock::now();
    TerminalProgress progress(output, inputs, ctx.NoProgressLine());
    ProgressCounter counted(progress.observer());
    options.progress = counted.observer();
    ASSIGN_OR_RETURN(std::unique_ptr<Session> session, OpenSession(settings));
    auto info = session->BuildCorpus(inputs, output, options);
    progress.Finish();
    if (!info.ok()) return info.status();
    if (!ctx.quiet) {
      std::fprintf(stderr, "corpus %s built at %s in %.1f s: %s of input, %llu chunks, %llu unique, pack %s\n",
                   info->id.c_str(), output.c_str(), SecondsSince(start), HumanBytes(info->input_bytes).c_str(),
                   static_cast<unsigned long long>(info->chunk_count),
                   static_cast<unsigned long long>(info->unique_chunks), HumanBytes(info->pack_bytes()).c_str());
      ReportSigners(*info, sign_keys);
    }
    return Status::Ok();
  }
};

struct CorpusInfoCommand {
  std::string dir;
  bool json = false;
  TrustFlags trust;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(auto trusted, trust.Load(ctx));
    ASSIGN_OR_RETURN(auto info, ReadCorpusInfo(dir));
    ASSIGN_OR_RETURN(auto signatures, CheckCorpusSignatures(info, trusted));
    Result<std::string> text =
        json ? JsonWithSignatures(info, signatures) : TextWithSignatures(info, signatures);
    if (!text.ok()) return text.status();
    return Print(*text);
  }

  // The manifest's lines, then one line per signature file.
  static std::string TextWithSignatures(const CorpusInfo& info,
                                        const std::vector<SignatureCheck>& signatures) {
    std::string text = info.ToText();
    char head[32];
    std::snprintf(head, sizeof head, "%-10s %zu\n", "signatures", signatures.size());
    text += head;
    for (const SignatureCheck& check : signatures) {
      text += "  " + DescribeSigner(check) + "  " + check.file + "\n";
    }
    return text;
  }

  // ToJson() plus "signatures": [...].
  static Result<std::string> JsonWithSignatures(const CorpusInfo& info,
                                                const std::vector<SignatureCheck>& signatures) {
    try {
      auto j = nlohmann::ordered_json::parse(info.ToJson());
      j["signatures"] = SignaturesJson(signatures);
      return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    } catch (const nlohmann::ordered_json::exception& e) {
      return Status::Io(std::string("cannot print the corpus as JSON: ") + e.what());
    }
  }

  static Status Print(const std::string& text) {
    std::fputs(text.c_str(), stdout);
    if (!text.empty() && text.back() != '\n') std::fputc('\n', stdout);
    return std::fflush(stdout) == 0 && !std::ferror(stdout) ? Status::Ok() : Status::Io("cannot write to stdout");
  }
};

}  // namespace

void RegisterCorpusCommands(CLI::App* app, Context& ctx) {
  auto* corpus = app->add_subcommand("corpus", "build and inspect corpora");
  corpus->require_subcommand(1);

  static CorpusBuildCommand build;
  auto* build_cmd = AddCommand(corpus, ctx, build, "build", "build a corpus from files, directories or stdin");
  build_cmd->add_option("-o,--output", build.output, "corpus directory to create")->required();
  build_cmd->add_option("inputs", build.inputs, "files, directories (recursive) or - for stdin")->required();
  build_cmd->add_flag("-f,--force", build.force, "replace an existing corpus at the output path");
  RegisterNoFineIndexFlag(build_cmd, &build.no_fine_index);
  RegisterSignKeyOption(build_cmd, &build.sign_keys);
  build.encryption.Register(build_cmd, "--encrypt-key");
  build.chunking.Register(build_cmd);

  static CorpusInfoCommand info;
  auto* info_cmd = AddCommand(corpus, ctx, info, "info", "print a corpus manifest");
  info_cmd->add_option("dir", info.dir, "corpus directory")->required();
  info_cmd->add_flag("--json", info.json, "print JSON");
  info.trust.Register(info_cmd);

  RegisterCorpusSigningCommands(corpus, ctx);
  RegisterCorpusUpdateCommand(corpus, ctx);
  RegisterCorpusOptimizeCommand(corpus, ctx);
}

}  // namespace reducto::cli
