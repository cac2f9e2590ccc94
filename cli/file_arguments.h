// The files that compress and decompress read and write: one input or several, the
// name of each output, --rm, and the checks that standard input is read by one thing
// only and is not a terminal.
#ifndef REDUCTO_CLI_FILE_ARGUMENTS_H_
#define REDUCTO_CLI_FILE_ARGUMENTS_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "reducto/status.h"

namespace reducto::cli {

// The suffix of a container file: compress names a.rdc after a, decompress strips it.
inline constexpr char kContainerSuffix[] = ".rdc";

// A file that a command reads, with the argument that names it, for messages.
struct InputFile {
  std::string argument;  // "input", "--passphrase-file", ...
  std::string path;
};

// InvalidArgument naming both when two of `files` read standard input ("-", or a path
// to the same open file such as /dev/stdin): the first would take what the second
// expects. Checked before anything is read.
Status CheckOneStdinReader(const std::vector<InputFile>& files);

// The input files and the output of compress or decompress.
struct FileArguments {
  std::vector<std::string> inputs;  // Empty: stdin.
  std::optional<std::string> output;
  bool force = false;
  bool remove_inputs = false;
  bool keep_inputs = false;  // -k: the default, accepted for zstd's users.

  // Adds the input positional, -o, -f, --rm and -k to `command`.
  void Register(CLI::App* command, const std::string& input_help);
  // The inputs, "-" (stdin) when none was given.
  std::vector<std::string> Inputs() const;
  // InvalidArgument for a combination that cannot work: -o or "-" with several inputs,
  // --rm without a file to remove or with output to stdout, stdin on a terminal.
  Status Check() const;
  // Runs `one(input, output)` for each input, whose output is -o (default stdout) for
  // a single input and `name_output(input)` for several. A failure is reported
  // (ReportFailure) and the next input still runs; with --rm an input is removed once
  // its output is published. Returns the highest exit status of a failed input, or
  // kExitOk.
  CommandResult ForEachInput(
      const std::function<Result<std::string>(const std::string&)>& name_output,
      const std::function<Status(const std::string&, const std::string&)>& one) const;
};

// compress's output for `input` when several are given: "a" -> "a.rdc".
Result<std::string> CompressedName(const std::string& input);
// decompress's: "a.rdc" -> "a"; InvalidArgument for a name without the suffix.
Result<std::string> DecompressedName(const std::string& input);

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_FILE_ARGUMENTS_H_
