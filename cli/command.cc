#include "command.h"

#include <algorithm>
#include <cstdio>

namespace reducto::cli {

namespace {
std::string& LastFailureText() {
  static std::string text;
  return text;
}
std::string& LastFailureCodeText() {
  static std::string text;
  return text;
}
}  // namespace

const std::string& LastFailure() { return LastFailureText(); }
const std::string& LastFailureCode() { return LastFailureCodeText(); }

std::string CommandPath(const CLI::App& command) {
  std::string path = command.get_name();
  for (const CLI::App* parent = command.get_parent();
       parent != nullptr && parent->get_parent() != nullptr; parent = parent->get_parent()) {
    path = parent->get_name() + " " + path;
  }
  return path;
}

int ExitCodeFor(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

int ReportFailure(const Status& status) {
  LastFailureText() = status.ToString();
  LastFailureCodeText() = StatusLabel(status.code());
  std::fprintf(stderr, "reducto: %s\n", status.ToString().c_str());
  return ExitCodeFor(status);
}

Result<Settings> Context::LoadSettings() const {
  ASSIGN_OR_RETURN(Settings settings, cli::LoadSettings(config_path, command));
  if (verbose && !settings_reported_) {
    settings_reported_ = true;
    for (const Setting& setting : SettingTable()) {
      std::string source = settings.SourceOf(setting.key);
      if (source.empty()) continue;
      Detail(*this, "setting " + std::string(setting.key) + " = " +
                        SettingText(settings, setting) + " (from " + source + ")");
    }
  }
  return settings;
}

void Detail(const Context& ctx, const std::string& text) {
  if (ctx.verbose) std::fprintf(stderr, "reducto: %s\n", text.c_str());
}

void RegisterOutputFlags(CLI::App* command, Context& ctx) {
  command->add_flag("-q,--quiet", ctx.quiet, "print nothing but errors");
  command->add_flag("-v,--verbose", ctx.verbose, "more detail on stderr");
  RegisterMetricsFlags(command, ctx.metrics);
}

void RegisterNoFineIndexFlag(CLI::App* cmd, bool* no_fine_index, const char* cost) {
  cmd->add_flag("--no-fine-index", *no_fine_index,
                std::string("do not write a fine index (") + cost +
                    "; it finds content that moved anywhere in the corpus)");
}

void ChunkingFlags::Register(CLI::App* cmd) {
  for (const char* key : {"chunking.avg", "chunking.min", "chunking.max", "chunking.normalization"}) {
    AddSettingFlag(cmd, key);
  }
}

Result<ChunkerParams> ChunkingFlags::Resolve(const Settings& settings) const {
  return ChunkingOf(settings);
}

std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t k = 0; k < row.size(); ++k) widths[k] = std::max(widths[k], row[k].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t k = 0; k < row.size(); ++k) {
      out += row[k];
      if (k + 1 < row.size()) out += std::string(widths[k] - row[k].size() + 2, ' ');
    }
    out += "\n";
  }
  return out;
}

std::string Ratio(uint64_t original, uint64_t compressed) {
  char buf[32];
  if (compressed == 0) return "n/a";
  std::snprintf(buf, sizeof buf, "%.2fx", static_cast<double>(original) / static_cast<double>(compressed));
  return buf;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace reducto::cli
