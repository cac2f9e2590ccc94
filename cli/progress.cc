#include "progress.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "metrics_output.h"
#include "settings.h"

namespace reducto::cli {
namespace {

// How often the line is redrawn; the first time, too, so that quick runs show nothing.
constexpr std::chrono::milliseconds kRedrawInterval{250};

// The size of the file at `path` ("-": standard input), if it is a regular file.
std::optional<uint64_t> RegularFileSize(const std::string& path) {
  struct stat st {};
  int rc = path == "-" ? ::fstat(STDIN_FILENO, &st) : ::stat(path.c_str(), &st);
  if (rc != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

// "1:05" or "1:02:05".
std::string Duration(double seconds) {
  auto s = static_cast<unsigned long long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%llu:%02llu", s / 60, s % 60);
  }
  return text;
}

}  // namespace

TerminalProgress::TerminalProgress(const std::string& input, bool quiet)
    : TerminalProgress(input == "-" ? "stdin" : input, std::vector<std::string>{input}, quiet) {}

TerminalProgress::TerminalProgress(const std::string& label,
                                   const std::vector<std::string>& inputs, bool quiet)
    : enabled_(!quiet && ::isatty(STDERR_FILENO) == 1),
      name_(label),
      start_(std::chrono::steady_clock::now()),
      // The first report is drawn at once (then every kRedrawInterval), so that a
      // terminal shows what runs as soon as a block or 4 MiB of input is done; the
      // summary line erases it.
      next_draw_(start_) {
  if (!enabled_) return;
  NoteProgressLineDrawn();
  uint64_t total = 0;
  for (const std::string& input : inputs) {
    std::optional<uint64_t> size = RegularFileSize(input);
    if (!size) return;
    total += *size;
  }
  input_size_ = total;
}

void TerminalProgress::OnProgress(const Progress& progress) {
  auto now = std::chrono::steady_clock::now();
  if (now < next_draw_) return;
  next_draw_ = now + kRedrawInterval;
  double seconds = std::chrono::duration<double>(now - start_).count();
  // \r returns to the line's start, \033[K erases what a longer line left.
  std::fprintf(stderr, "\r%s\033[K", Line(progress, seconds).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

std::string TerminalProgress::Line(const Progress& progress, double seconds) const {
  const double rate = seconds > 0 ? static_cast<double>(progress.input_bytes) / seconds : 0;
  std::string line = name_ + ": " + HumanBytes(progress.input_bytes);
  if (input_size_ && *input_size_ >= progress.input_bytes && *input_size_ > 0) {
    char percent[16];
    std::snprintf(percent, sizeof percent, " (%.0f%%)",
                  100.0 * static_cast<double>(progress.input_bytes) /
                      static_cast<double>(*input_size_));
    line += " of " + HumanBytes(*input_size_) + percent;
  }
  line += ", " + HumanBytes(static_cast<uint64_t>(rate)) + "/s";
  if (input_size_ && rate > 0 && *input_size_ >= progress.input_bytes) {
    line += ", " + Duration(static_cast<double>(*input_size_ - progress.input_bytes) / rate) +
            " left";
  }
  return line;
}

void TerminalProgress::Finish() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace reducto::cli
