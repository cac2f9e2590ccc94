#include "file_arguments.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "command.h"
#include "reducto/io.h"

namespace reducto::cli {

Status CheckOneStdinReader(const std::vector<InputFile>& files) {
  const InputFile* first = nullptr;
  for (const InputFile& file : files) {
    if (!NamesStandardInput(file.path)) continue;
    if (first == nullptr) {
      first = &file;
      continue;
    }
    return Status::InvalidArgument(
        "both " + first->argument + " (" + first->path + ") and " + file.argument + " (" +
        file.path + ") would read standard input, and the first would take what the second "
        "expects: give one of them a file, e.g. the data as an input file");
  }
  return Status::Ok();
}

void FileArguments::Register(CLI::App* command, const std::string& input_help) {
  command->add_option("inputs", inputs, input_help)->type_name("FILE");
  command->add_option("-o,--output", output,
                      "output file, or - for stdout (default for one input; several inputs "
                      "are each written to a file named after the input)")
      ->type_name("FILE");
  command->add_flag("-f,--force", force, "overwrite the output file (never the input)");
  auto* rm = command->add_flag("--rm", remove_inputs,
                               "remove each input file once its output file is written");
  command->add_flag("-k,--keep", keep_inputs, "keep the input files (the default)")->excludes(rm);
}

std::vector<std::string> FileArguments::Inputs() const {
  return inputs.empty() ? std::vector<std::string>{"-"} : inputs;
}

Status FileArguments::Check() const {
  std::vector<std::string> all = Inputs();
  bool several = all.size() > 1;
  if (several && output) {
    return Status::InvalidArgument("-o names one output, but " + std::to_string(all.size()) +
                                   " inputs were given: drop -o, and each output is named after "
                                   "its input");
  }
  bool reads_stdin = std::any_of(all.begin(), all.end(), [](const std::string& path) {
    return NamesStandardInput(path);
  });
  if (several && reads_stdin) {
    return Status::InvalidArgument("standard input cannot be one of several inputs (its output "
                                   "would have no name): give it alone, with -o FILE or to stdout");
  }
  if (remove_inputs && (reads_stdin || output.value_or("-") == "-") && !several) {
    std::string why = reads_stdin ? "the input is stdin" : "the output goes to stdout";
    return Status::InvalidArgument("--rm removes an input file once its output file is written, "
                                   "and here " + why + ": pass an input file and -o FILE");
  }
  if (reads_stdin && ::isatty(STDIN_FILENO)) {
    return Status::InvalidArgument("stdin is a terminal: give an input file, or pipe the data in "
                                   "(cat FILE | reducto ...)");
  }
  return Status::Ok();
}

namespace {

// Removes `input` after its output was published.
Status RemoveInput(const std::string& input) {
  if (::unlink(input.c_str()) == 0) return Status::Ok();
  std::string reason = std::strerror(errno);
  return Status::Io("the output of " + input + " was written, but " + input +
                    " could not be removed (--rm): " + reason);
}

}  // namespace

CommandResult FileArguments::ForEachInput(
    const std::function<Result<std::string>(const std::string&)>& name_output,
    const std::function<Status(const std::string&, const std::string&)>& one) const {
  std::vector<std::string> all = Inputs();
  int worst = kExitOk;
  for (const std::string& input : all) {
    Result<std::string> named = all.size() == 1 ? Result<std::string>(output.value_or("-"))
                                                : name_output(input);
    Status status = named.ok() ? one(input, *named) : named.status().WithContext(input);
    if (status.ok() && remove_inputs) status = RemoveInput(input);
    if (!status.ok()) worst = std::max(worst, ReportFailure(status));
  }
  return CommandResult::Reported(worst);
}

Result<std::string> CompressedName(const std::string& input) {
  if (input.ends_with(kContainerSuffix)) {
    return Status::InvalidArgument("it already ends in " + std::string(kContainerSuffix) +
                                   " and is probably a container: to compress it anyway, give "
                                   "it alone with -o FILE");
  }
  return input + kContainerSuffix;
}

Result<std::string> DecompressedName(const std::string& input) {
  size_t suffix = std::min(input.size(), sizeof kContainerSuffix - 1);
  std::string stem = input.substr(0, input.size() - suffix);
  if (!input.ends_with(kContainerSuffix) || std::filesystem::path(stem).filename().empty()) {
    return Status::InvalidArgument("the name does not end in " + std::string(kContainerSuffix) +
                                   ", so its output has no name: give it alone with -o FILE");
  }
  return stem;
}

}  // namespace reducto::cli
