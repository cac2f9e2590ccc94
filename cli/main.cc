// reducto: the command line. Uses only the public API in include/reducto/.
//
// Exit status: 0 success, 1 the operation failed (the message says why and what to
// do), 2 the command line was wrong, 128+N killed by signal N (no partial output).
#include <CLI/CLI.hpp>

#include "command.h"
#include "reducto/io.h"

namespace reducto::cli {
namespace {

int Main(int argc, char** argv) {
  InstallInterruptCleanup();
  CLI::App app{"reducto: compress files against a shared reference corpus, send only what is new"};
  app.set_version_flag("--version", "reducto " REDUCTO_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // Global flags may follow the subcommand.
  Context ctx;
  app.add_option("--config", ctx.config_path,
                 "TOML configuration file (default $XDG_CONFIG_HOME/reducto/config.toml)");
  app.add_flag("-q,--quiet", ctx.quiet, "print nothing but errors");
  app.add_flag("-v,--verbose", ctx.verbose,
               "more detail on stderr: where the settings and the corpus come from, threads, "
               "timings");

  RegisterChunkCommand(&app, ctx);
  RegisterCorpusCommands(&app, ctx);
  RegisterCorpusPruneCommand(app.get_subcommand("corpus"), ctx);
  RegisterRetentionCommands(&app, app.get_subcommand("corpus"), ctx);
  RegisterKeyCommands(&app, ctx);
  RegisterCodecCommands(&app, ctx);
  RegisterAuditCommands(&app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return ctx.exit_code;
}

}  // namespace
}  // namespace reducto::cli

int main(int argc, char** argv) { return reducto::cli::Main(argc, argv); }
