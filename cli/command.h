// What every subcommand of the reducto CLI shares: the global flags, settings and
// the way a failure becomes a message and an exit status.
//
// Each subcommand lives in its own file and registers itself with Register*Command();
// main.cc only wires them together.
#ifndef REDUCTO_CLI_COMMAND_H_
#define REDUCTO_CLI_COMMAND_H_

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "reducto/chunker.h"
#include "reducto/status.h"
#include "metrics_output.h"
#include "settings.h"

namespace reducto::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// The exit status for a failed `status`: kExitUsage for InvalidArgument (the command
// line or a setting was wrong), kExitFailure otherwise.
int ExitCodeFor(const Status& status);
// Prints "reducto: <code>: <message>" to stderr and remembers it (LastFailure);
// returns ExitCodeFor(status). REQUIRES: !status.ok()
int ReportFailure(const Status& status);
// The last status ReportFailure() printed ("" when none): the audit log records it.
const std::string& LastFailure();
// Its code ("not_found", ...; "" when none): the exported metrics' status.
const std::string& LastFailureCode();
// "compress", "corpus build": the command's names from below the top level.
std::string CommandPath(const CLI::App& command);

// How a command's Run() ended. Most commands return a Status (it converts implicitly,
// so Run() can use RETURN_IF_ERROR and ASSIGN_OR_RETURN), which AddCommand reports.
// A command that goes on past a failure (one of several inputs, one of several
// containers) reports each as it comes (ReportFailure) and returns Reported(code).
class CommandResult {
 public:
  CommandResult(Status status)  // NOLINT: implicit by design, see above.
      : status_(std::move(status)) {}
  // Failures already printed; the command exits with `exit_code`.
  static CommandResult Reported(int exit_code) {
    CommandResult result{Status::Ok()};
    result.reported_exit_code_ = exit_code;
    return result;
  }

  // Prints a failure not yet reported; the exit status.
  int Finish() const {
    if (!status_.ok()) return ReportFailure(status_);
    return reported_exit_code_;
  }

 private:
  Status status_;
  int reported_exit_code_ = kExitOk;
};

// What a command tells the audit log beyond its arguments and exit status.
struct AuditNote {
  // The corpus the command used, when the options do not say (it came from the config
  // file or the environment, or from a store): its directory, or its id when known.
  std::string corpus_dir;
  std::string corpus_id;
  // Appended to a successful outcome ("ok: <note>"), e.g. that compress fell back.
  std::string outcome_note;
};

// Shared by all subcommands; the chosen subcommand's callback sets exit_code.
struct Context {
  std::optional<std::string> config_path;
  bool quiet = false;
  bool verbose = false;  // -v: more detail on stderr (settings, corpus, threads, timings).
  int exit_code = kExitUsage;
  AuditNote audit;
  MetricsRequest metrics;  // --metrics-json, --metrics-prom, --metrics-push, --progress.

  // No progress line on the terminal: -q, or --progress json or none.
  bool NoProgressLine() const { return quiet || metrics.progress != "auto"; }
  const CLI::App* command = nullptr;  // The subcommand running (set by AddCommand).

  // Its setting flags over environment over configuration file over defaults
  // (settings.h). With -v, the first load prints each setting not at its default, its
  // value and where it came from.
  Result<Settings> LoadSettings() const;

 private:
  mutable bool settings_reported_ = false;
};

// With -v: prints "reducto: <text>" to stderr.
void Detail(const Context& ctx, const std::string& text);

// After a subcommand ran: appends its entry to the audit log when it is one of the
// audited operations (cli/audit_commands.cc, docs/audit.md).
void RecordInAuditLog(const Context& ctx, const CLI::App& command, int exit_code);

// Lists -q, -v and the metrics flags in `command`'s help (the top level's flags, which
// every command takes).
void RegisterOutputFlags(CLI::App* command, Context& ctx);

// Adds `name` as a subcommand whose callback runs `command` (its Run(ctx) returns a
// Status or a CommandResult), prints its failure, stores the exit status in ctx and
// records the run in the audit log. The one place a command's Status becomes a message
// and an exit status.
template <typename Command>
CLI::App* AddCommand(CLI::App* parent, Context& ctx, Command& command, const std::string& name,
                     const std::string& description) {
  CLI::App* sub = parent->add_subcommand(name, description);
  RegisterOutputFlags(sub, ctx);
  sub->callback([&ctx, &command, sub] {
    ctx.command = sub;
    if (Status started = StartCommandMetrics(ctx.metrics, CommandPath(*sub), ctx.quiet);
        !started.ok()) {
      ctx.exit_code = ReportFailure(started);
      return;
    }
    ctx.exit_code = CommandResult(command.Run(ctx)).Finish();
    ctx.exit_code = FinishCommandMetrics(ctx.metrics, ctx.exit_code, LastFailureCode());
    RecordInAuditLog(ctx, *sub, ctx.exit_code);
  });
  return sub;
}

// --avg/--min/--max/--normalization: the chunking settings as flags.
struct ChunkingFlags {
  void Register(CLI::App* cmd);
  // The chunking the settings give. InvalidArgument for sizes that do not go together.
  Result<ChunkerParams> Resolve(const Settings& settings) const;
};

// --no-fine-index, for the commands that build a corpus (docs/corpus.md, "Fine index").
void RegisterNoFineIndexFlag(CLI::App* cmd, bool* no_fine_index,
                             const char* cost = "about 29% of the pack");

std::string Ratio(uint64_t original, uint64_t compressed);
// `rows` (the first is the header) as left-aligned columns two spaces apart, one line
// each. REQUIRES: rows is not empty and every row has the first row's length.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);
double SecondsSince(std::chrono::steady_clock::time_point start);

void RegisterChunkCommand(CLI::App* app, Context& ctx);
void RegisterCorpusCommands(CLI::App* app, Context& ctx);
// sign, verify and list, under the `corpus` subcommand.
void RegisterCorpusSigningCommands(CLI::App* corpus, Context& ctx);
// update, under the `corpus` subcommand.
void RegisterCorpusUpdateCommand(CLI::App* corpus, Context& ctx);
// optimize, under the `corpus` subcommand.
void RegisterCorpusOptimizeCommand(CLI::App* corpus, Context& ctx);
void RegisterKeyCommands(CLI::App* app, Context& ctx);
// prune, under the `corpus` subcommand.
void RegisterCorpusPruneCommand(CLI::App* corpus, Context& ctx);
// publish, under the `corpus` subcommand.
void RegisterCorpusPublishCommand(CLI::App* corpus, Context& ctx);
// corpus delete, and gc at the top level.
void RegisterRetentionCommands(CLI::App* app, CLI::App* corpus, Context& ctx);
// compress, decompress and test.
void RegisterCodecCommands(CLI::App* app, Context& ctx);
// analyze: a dry run of compress (cli/analyze_command.cc).
void RegisterAnalyzeCommand(CLI::App* app, Context& ctx);
// list: what containers hold.
void RegisterListCommand(CLI::App* app, Context& ctx);
// audit verify | show.
void RegisterAuditCommands(CLI::App* app, Context& ctx);
// config show: the effective settings and where each came from.
void RegisterConfigCommands(CLI::App* app, Context& ctx);
// --repo, --repo-token-file, --repo-token-env, --repo-ca-file, --repo-timeout,
// --cache-dir, --cache-limit: for the commands that fetch corpora (cli/codec_commands.cc).
void RegisterRepositoryOptions(CLI::App* command);
// reducto corpus fetch, reducto cache info|prune (cli/cache_commands.cc).
void RegisterCacheCommands(CLI::App* app, CLI::App* corpus, Context& ctx);
// serve: a repository directory over HTTP (docs/serve.md).
void RegisterServeCommand(CLI::App* app, Context& ctx);
// report: the economics of a corpus from the metrics of real runs (cli/report_command.cc).
void RegisterReportCommand(CLI::App* app, Context& ctx);

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_COMMAND_H_
