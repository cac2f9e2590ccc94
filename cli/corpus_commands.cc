// reducto corpus build | info
#include "command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "reducto/corpus.h"

namespace reducto::cli {
namespace {

struct CorpusBuildCommand {
  ChunkingFlags chunking;
  std::string output;
  std::vector<std::string> inputs;
  bool force = false;

  int Run(const Context& ctx) const {
    auto settings = ctx.LoadSettings();
    if (!settings.ok()) return Fail(settings.status());
    CorpusBuildOptions options;
    auto params = chunking.Resolve(*settings);
    if (!params.ok()) return Fail(params.status());
    options.chunking = *params;
    options.overwrite = force;
    auto start = std::chrono::steady_clock::now();
    auto info = BuildCorpus(inputs, output, options);
    if (!info.ok()) return Fail(info.status());
    if (!ctx.quiet) {
      std::fprintf(stderr, "corpus %s built at %s in %.1f s: %s of input, %llu chunks, %llu unique, pack %s\n",
                   info->id.c_str(), output.c_str(), SecondsSince(start), HumanBytes(info->input_bytes).c_str(),
                   static_cast<unsigned long long>(info->chunk_count),
                   static_cast<unsigned long long>(info->unique_chunks), HumanBytes(info->pack_bytes()).c_str());
    }
    return 0;
  }
};

struct CorpusInfoCommand {
  std::string dir;
  bool json = false;

  int Run(const Context&) const {
    auto info = ReadCorpusInfo(dir);
    if (!info.ok()) return Fail(info.status());
    std::string text = json ? info->ToJson() : info->ToText();
    std::fputs(text.c_str(), stdout);
    if (!text.empty() && text.back() != '\n') std::fputc('\n', stdout);
    return std::fflush(stdout) == 0 && !std::ferror(stdout) ? 0 : Fail(Status::Io("cannot write to stdout"));
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
  build.chunking.Register(build_cmd);

  static CorpusInfoCommand info;
  auto* info_cmd = AddCommand(corpus, ctx, info, "info", "print a corpus manifest");
  info_cmd->add_option("dir", info.dir, "corpus directory")->required();
  info_cmd->add_flag("--json", info.json, "print JSON");
}

}  // namespace reducto::cli
