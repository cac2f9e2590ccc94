#include "command_line.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>

namespace reducto::cli {
namespace {

// Every subcommand of `command`, parsed or not.
std::vector<const CLI::App*> Subcommands(const CLI::App& command) {
  return command.get_subcommands([](const CLI::App*) { return true; });
}

// "reducto corpus build" for the `build` under `corpus`.
std::string FullName(const CLI::App& command) {
  std::string name;
  for (const CLI::App* c = &command; c->get_parent() != nullptr; c = c->get_parent()) {
    name = " " + c->get_name() + name;
  }
  return "reducto" + name;
}

// The candidate nearest to `word`, when near enough to be a likely typo; else "".
std::string Nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string Join(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : ", ") + w;
  return text;
}

std::vector<std::string> Names(const std::vector<const CLI::App*>& commands) {
  std::vector<std::string> names;
  for (const CLI::App* c : commands) names.push_back(c->get_name());
  std::sort(names.begin(), names.end());
  return names;
}

Status UnknownCommand(const CLI::App& parent, const std::string& word) {
  std::vector<std::string> names = Names(Subcommands(parent));
  std::string nearest = Nearest(word, names);
  std::string where = parent.get_parent() == nullptr ? "a reducto command"
                                                      : "a command of " + FullName(parent);
  std::string suggestion = nearest.empty() ? "." : ": did you mean " + nearest + "?";
  return Status::InvalidArgument(
      "'" + word + "' is not " + where + suggestion + " The commands: " + Join(names) +
      " (`reducto help " +
      (parent.get_parent() == nullptr ? "" : parent.get_name() + " ") + "CMD` describes one)");
}

Status MissingCommand(const CLI::App& parent) {
  std::string help = parent.get_parent() == nullptr ? "reducto --help" : "reducto help " +
                                                                            parent.get_name();
  return Status::InvalidArgument(FullName(parent) + " needs a command: " +
                                 Join(Names(Subcommands(parent))) + " (`" + help +
                                 "` describes them)");
}

// `-19` and the like: a number where an option was expected.
bool IsNegativeNumber(const std::string& arg) {
  return arg.size() > 1 && arg[0] == '-' &&
         std::all_of(arg.begin() + 1, arg.end(), [](char c) { return std::isdigit(c) != 0; });
}

Status NotAnOption(const std::string& arg) {
  std::string number = arg.substr(1);
  return Status::InvalidArgument(arg + " is not an option: to compress at zstd level " + number +
                                 ", pass -l " + number + " (or --level " + number + ")");
}

// The option `name` ("-c", "--corpus") of `command` or of a command above it (global
// options may follow a subcommand); nullptr when none has it.
const CLI::Option* FindOption(const CLI::App& command, const std::string& name) {
  for (const CLI::App* c = &command; c != nullptr; c = c->get_parent()) {
    if (const CLI::Option* option = c->get_option_no_throw(name)) return option;
  }
  return nullptr;
}

Status UnknownOption(const CLI::App& command, const std::string& name) {
  std::vector<std::string> names;
  for (const CLI::App* c = &command; c != nullptr; c = c->get_parent()) {
    for (const CLI::Option* option : c->get_options()) {
      for (const std::string& lname : option->get_lnames()) names.push_back("--" + lname);
    }
  }
  std::string nearest = Nearest(name, names);
  const size_t program = std::string("reducto ").size();
  std::string help = command.get_parent() == nullptr
                         ? "reducto --help"
                         : "reducto help " + FullName(command).substr(program);
  return Status::InvalidArgument(FullName(command) + " has no option " + name +
                                 (nearest.empty() ? "" : ": did you mean " + nearest + "?") +
                                 " (`" + help + "` lists the options)");
}

bool IsHelpOrVersion(const std::string& arg) {
  return arg == "-h" || arg == "--help" || arg == "--help-all" || arg == "-V" || arg == "--version";
}

// Checks the option at args[*i]; advances *i past its value when the value is the next
// argument.
Status CheckOption(const CLI::App& command, const std::vector<std::string>& args, size_t* i) {
  const std::string& arg = args[*i];
  const bool long_name = arg.starts_with("--");
  std::string name = long_name ? arg.substr(0, arg.find('=')) : arg.substr(0, 2);
  const CLI::Option* option = FindOption(command, name);
  if (option == nullptr) return UnknownOption(command, name);
  const bool value_attached = long_name ? arg.find('=') != std::string::npos : arg.size() > 2;
  if (option->get_expected_max() > 0 && !value_attached) ++*i;
  return Status::Ok();
}

}  // namespace

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> RewriteHelpCommand(std::vector<std::string> args) {
  if (args.empty() || args[0] != "help") return args;
  args.erase(args.begin());
  args.push_back("--help");
  return args;
}

Status CheckCommandLine(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* command = &app;
  bool help = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (IsHelpOrVersion(arg)) {
      help = true;
    } else if (IsNegativeNumber(arg)) {
      return NotAnOption(arg);
    } else if (arg.size() > 1 && arg[0] == '-') {
      RETURN_IF_ERROR(CheckOption(*command, args, &i));
    } else if (std::vector<const CLI::App*> subs = Subcommands(*command); !subs.empty()) {
      auto sub = std::find_if(subs.begin(), subs.end(),
                              [&](const CLI::App* s) { return s->get_name() == arg; });
      if (sub == subs.end()) return UnknownCommand(*command, arg);
      command = *sub;
    }
  }
  if (!help && !Subcommands(*command).empty()) return MissingCommand(*command);
  return Status::Ok();
}

std::string SelectedCommand(const CLI::App& app) {
  std::string name;
  const CLI::App* command = &app;
  for (auto parsed = command->get_subcommands(); !parsed.empty();
       parsed = command->get_subcommands()) {
    command = parsed.back();
    name += (name.empty() ? "" : " ") + command->get_name();
  }
  return name;
}

namespace {

// What a value is, by the option's or positional's name: the first that matches of
// "<command> <name>" and "<name>".
const std::map<std::string, std::string>& ValueNames() {
  static const std::map<std::string, std::string> names = {
      {"--config", "FILE"},         {"--corpus", "DIR"},          {"--output", "FILE"},
      {"input", "FILE"},            {"inputs", "FILE"},           {"samples", "FILE"},
      {"dir", "DIR"},               {"files", "FILE"},            {"store", "DIR"},
      {"log", "FILE"},
      {"--from", "DIR"},            {"--level", "N"},             {"--threads", "N"},
      {"--normalization", "N"},     {"--max-counted-chunks", "N"}, {"--profile", "PROFILE"},
      {"--fallback", "MODE"},       {"--block-size", "SIZE"},     {"--cache-size", "SIZE"},
      {"--max-output", "SIZE"},     {"--avg", "SIZE"},            {"--min", "SIZE"},
      {"--max", "SIZE"},            {"--budget", "SIZE"},         {"--keep-for", "FILE"},
      {"--unused-since", "DURATION"}, {"--since", "DURATION"},    {"--max-age", "DURATION"},
      {"--leftover-age", "DURATION"}, {"--trusted-key", "FILE"},  {"--sign-key", "FILE"},
      {"--encrypt-key", "FILE"},    {"--decrypt-key", "FILE"},    {"--corpus-key", "FILE"},
      {"--passphrase-file", "FILE"}, {"--corpus-passphrase-file", "FILE"},
      {"--passphrase-env", "VAR"},  {"--corpus-passphrase-env", "VAR"},
      {"--operation", "OPERATION"}, {"--outcome", "OUTCOME"},
      {"corpus build --output", "DIR"}, {"corpus update --output", "DIR"},
      {"corpus optimize --output", "DIR"}, {"corpus prune --output", "DIR"},
      {"key generate --output", "NAME"}, {"audit show --corpus", "ID"},
  };
  return names;
}

std::string ValueName(const CLI::App& command, const CLI::Option& option) {
  std::string name = option.get_name(/*positional=*/option.get_positional());
  std::string path = FullName(command).substr(std::string("reducto").size());
  if (!path.empty()) path = path.substr(1) + " ";
  for (const std::string& key : {path + name, name}) {
    if (auto it = ValueNames().find(key); it != ValueNames().end()) return it->second;
  }
  return "VALUE";
}

}  // namespace

void NameOptionValues(CLI::App* app) {
  for (CLI::Option* option : app->get_options()) {
    if (option->get_expected_max() == 0 || !option->get_option_text().empty()) continue;
    const bool repeatable = option->get_items_expected_max() > 1;
    option->option_text(ValueName(*app, *option) + (repeatable ? " ..." : ""));
  }
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) {
    NameOptionValues(sub);
  }
}

}  // namespace reducto::cli
