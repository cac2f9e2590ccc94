// The words of the command line before CLI11 parses them: `reducto help CMD`, unknown
// commands and options named with the nearest valid one, numbers mistaken for options
// (`-19`), and the value names the help shows (FILE, DIR, SIZE, N).
#ifndef REDUCTO_CLI_COMMAND_LINE_H_
#define REDUCTO_CLI_COMMAND_LINE_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "reducto/status.h"

namespace reducto::cli {

// `help [CMD [SUBCMD]]` becomes `[CMD [SUBCMD]] --help`; other arguments are returned
// unchanged. `args` excludes the program name.
std::vector<std::string> RewriteHelpCommand(std::vector<std::string> args);

// Checks the commands and options of `args` against `app`'s tree before CLI11 does:
// InvalidArgument naming the word that was not understood, the valid ones and the
// nearest of them; OK when nothing is wrong that this can see (CLI11 checks the rest).
Status CheckCommandLine(const CLI::App& app, const std::vector<std::string>& args);

// The command (e.g. "corpus build") that CLI11 was parsing when it failed: the last
// subcommand it selected, or "" for the top level.
std::string SelectedCommand(const CLI::App& app);

// Sets each option's value name in help (FILE, DIR, SIZE, N, ...) unless one was set.
void NameOptionValues(CLI::App* app);

// The number of single-character insertions, deletions and substitutions that turn
// `a` into `b` (Levenshtein distance).
size_t EditDistance(const std::string& a, const std::string& b);

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_COMMAND_LINE_H_
