// reducto corpus optimize: the corpus that covers the most sample bytes within a size
// budget (docs/corpus.md, "Optimized corpora").
#include "command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "reducto/corpus.h"
#include "session.h"

namespace reducto::cli {
namespace {

struct CorpusOptimizeCommand {
  ChunkingFlags chunking;
  std::string budget;
  std::string output;
  std::vector<std::string> samples;
  std::vector<std::string> sign_keys;
  bool force = false;
  bool no_fine_index = false;
  bool json = false;
  std::optional<uint64_t> max_counted_chunks;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    OptimizeOptions options;
    ASSIGN_OR_RETURN(auto params, chunking.Resolve(settings));
    options.chunking = params;
    auto size = ParseSize(budget);
    if (!size.ok()) return size.status().WithContext("--budget");
    options.budget = *size;
    options.overwrite = force;
    options.sign_keys = sign_keys;
    options.fine_index = !no_fine_index;
    if (max_counted_chunks) options.max_counted_chunks = *max_counted_chunks;
    auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(std::unique_ptr<Session> session, OpenSession(settings));
    ASSIGN_OR_RETURN(auto report, session->OptimizeCorpus(samples, output, options));
    if (json) {
      std::fputs(report.ToJson().c_str(), stdout);
    } else if (!ctx.quiet) {
      std::fputs(report.ToText().c_str(), stdout);
    }
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) return Status::Io("cannot write to stdout");
    if (!ctx.quiet) {
      std::fprintf(stderr, "corpus %s optimized at %s in %.1f s", report.corpus.id.c_str(),
                   report.corpus.path.c_str(), SecondsSince(start));
      ReportSigners(report.corpus, sign_keys, ", ", "");
      std::fputc('\n', stderr);
    }
    return Status::Ok();
  }
};

}  // namespace

void RegisterCorpusOptimizeCommand(CLI::App* corpus, Context& ctx) {
  static CorpusOptimizeCommand optimize;
  auto* cmd = AddCommand(corpus, ctx, optimize, "optimize",
                         "build the corpus that covers the most sample bytes within a size budget");
  cmd->add_option("--budget", optimize.budget,
                  "most bytes the corpus directory may take, all files counted (e.g. 64M)")
      ->required();
  cmd->add_option("-o,--output", optimize.output, "corpus directory to create")->required();
  cmd->add_option("samples", optimize.samples, "sample files or directories (recursive)")->required();
  cmd->add_flag("-f,--force", optimize.force, "replace an existing corpus at the output path");
  RegisterNoFineIndexFlag(cmd, &optimize.no_fine_index, "it would take about 22% of the budget");
  cmd->add_flag("--json", optimize.json, "print the report as JSON");
  cmd->add_option("--max-counted-chunks", optimize.max_counted_chunks,
                  "distinct chunks counted in memory (about 100 bytes each) before the counts "
                  "spill to a scratch database beside the output (default 4194304)");
  RegisterSignKeyOption(cmd, &optimize.sign_keys);
  optimize.chunking.Register(cmd);
}

}  // namespace reducto::cli
