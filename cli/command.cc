#include "command.h"

#include <algorithm>
#include <cstdio>

namespace reducto::cli {

namespace {
std::string& LastFailureText() {
  static std::string text;
  return text;
}
}  // namespace

const std::string& LastFailure() { return LastFailureText(); }

int ExitCodeFor(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

int ReportFailure(const Status& status) {
  LastFailureText() = status.ToString();
  std::fprintf(stderr, "reducto: %s\n", status.ToString().c_str());
  return ExitCodeFor(status);
}

void Detail(const Context& ctx, const std::string& text) {
  if (ctx.verbose) std::fprintf(stderr, "reducto: %s\n", text.c_str());
}

void RegisterOutputFlags(CLI::App* command, Context& ctx) {
  command->add_flag("-q,--quiet", ctx.quiet, "print nothing but errors");
  command->add_flag("-v,--verbose", ctx.verbose, "more detail on stderr");
}

void RegisterNoFineIndexFlag(CLI::App* cmd, bool* no_fine_index, const char* cost) {
  cmd->add_flag("--no-fine-index", *no_fine_index,
                std::string("do not write a fine index (") + cost +
                    "; it finds content that moved anywhere in the corpus)");
}

void ChunkingFlags::Register(CLI::App* cmd) {
  cmd->add_option("--avg", avg, "average chunk size (e.g. 8K)");
  cmd->add_option("--min", min, "minimum chunk size (default avg/2)");
  cmd->add_option("--max", max, "maximum chunk size (default avg*2)");
  cmd->add_option("--normalization", normalization, "FastCDC normalization level 0..3 (default 1)");
}

Result<ChunkerParams> ChunkingFlags::Resolve(const Settings& settings) const {
  uint64_t avg_size = settings.avg_size;
  if (avg) {
    ASSIGN_OR_RETURN(avg_size, ParseSize(*avg));
  }
  std::optional<uint64_t> min_size = settings.min_size, max_size = settings.max_size;
  if (min) {
    ASSIGN_OR_RETURN(min_size, ParseSize(*min));
  }
  if (max) {
    ASSIGN_OR_RETURN(max_size, ParseSize(*max));
  }
  constexpr uint64_t kLimit = uint64_t{1} << 32;
  if (avg_size >= kLimit || min_size.value_or(0) >= kLimit || max_size.value_or(0) >= kLimit) {
    return Status::InvalidArgument("chunk sizes must be at most 16M");
  }
  ChunkerParams params = ChunkerParams::ForAverage(static_cast<uint32_t>(avg_size),
                                                   normalization.value_or(settings.normalization));
  if (min_size) params.min_size = static_cast<uint32_t>(*min_size);
  if (max_size) params.max_size = static_cast<uint32_t>(*max_size);
  RETURN_IF_ERROR(params.Validate());
  return params;
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
