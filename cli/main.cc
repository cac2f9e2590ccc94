// reducto: the command line. Uses only the public API in include/reducto/.
//
// Exit status: 0 success, 1 the operation failed (the message says why and what to
// do), 2 the command line was wrong, 128+N killed by signal N (no partial output).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "command.h"
#include "command_line.h"
#include "reducto/io.h"

namespace reducto::cli {
namespace {

void RegisterCommands(CLI::App* app, Context& ctx) {
  RegisterChunkCommand(app, ctx);
  RegisterCorpusCommands(app, ctx);
  RegisterCorpusPruneCommand(app->get_subcommand("corpus"), ctx);
  RegisterCorpusPublishCommand(app->get_subcommand("corpus"), ctx);
  RegisterRetentionCommands(app, app->get_subcommand("corpus"), ctx);
  RegisterKeyCommands(app, ctx);
  RegisterCodecCommands(app, ctx);
  RegisterAnalyzeCommand(app, ctx);
  RegisterListCommand(app, ctx);
  RegisterAuditCommands(app, ctx);
  RegisterConfigCommands(app, ctx);
  RegisterCacheCommands(app, app->get_subcommand("corpus"), ctx);
  RegisterServeCommand(app, ctx);
  RegisterReportCommand(app, ctx);
}

// A command line CLI11 refused: "reducto: <what>", and where to read the options.
int ParseFailure(const CLI::App& app, const CLI::ParseError& error) {
  std::string command = SelectedCommand(app);
  std::string help = command.empty() ? "reducto --help" : "reducto help " + command;
  std::fprintf(stderr, "reducto: %s (`%s` lists the options)\n", error.what(), help.c_str());
  return kExitUsage;
}

int Main(int argc, char** argv) {
  InstallInterruptCleanup();
  CLI::App app{"reducto: compress files against a shared reference corpus, send only what is new",
               "reducto"};
  app.set_version_flag("-V,--version", "reducto " REDUCTO_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // Global flags may follow the subcommand.
  Context ctx;
  app.add_option("--config", ctx.config_path,
                 "TOML configuration file (default $XDG_CONFIG_HOME/reducto/config.toml)");
  app.add_flag("-q,--quiet", ctx.quiet, "print nothing but errors");
  app.add_flag("-v,--verbose", ctx.verbose,
               "more detail on stderr: where the settings and the corpus come from, threads, "
               "timings");
  RegisterMetricsFlags(&app, ctx.metrics);
  RegisterCommands(&app, ctx);
  NameOptionValues(&app);

  std::vector<std::string> args =
      RewriteHelpCommand(std::vector<std::string>(argv + 1, argv + argc));
  if (Status s = CheckCommandLine(app, args); !s.ok()) {
    std::fprintf(stderr, "reducto: %s\n", s.message().c_str());
    return kExitUsage;
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first.
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return ParseFailure(app, e);
  }
  return ctx.exit_code;
}

}  // namespace
}  // namespace reducto::cli

int main(int argc, char** argv) { return reducto::cli::Main(argc, argv); }
