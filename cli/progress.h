// Progress on a terminal for compress, decompress and corpus build/update: bytes done,
// rate and, when the input's size is known, the fraction done and the time left, on one
// line of stderr redrawn a few times per second. Silent unless stderr is a terminal and
// -q is off.
#ifndef REDUCTO_CLI_PROGRESS_H_
#define REDUCTO_CLI_PROGRESS_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "reducto/progress.h"

namespace reducto::cli {

class TerminalProgress final : public ProgressObserver {
 public:
  // `input` is the path the operation reads ("-" for stdin): its size, when it is a
  // regular file, gives the fraction done and the time left.
  TerminalProgress(const std::string& input, bool quiet);
  // For several inputs, shown as `label`: the size is known when every input is a
  // regular file (not a directory, not a pipe).
  TerminalProgress(const std::string& label, const std::vector<std::string>& inputs,
                   bool quiet);
  ~TerminalProgress() override { Finish(); }
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;

  // This, for CompressOptions::progress / DecompressOptions::progress, or nullptr when
  // nothing is to be shown (so the library does not even call).
  ProgressObserver* observer() { return enabled_ ? this : nullptr; }

  void OnProgress(const Progress& progress) override;

  // Erases the line, if one was drawn: call before printing anything else to stderr.
  void Finish();

 private:
  std::string Line(const Progress& progress, double seconds) const;

  bool enabled_ = false;
  bool drawn_ = false;
  std::string name_;                   // "stdin" or the path.
  std::optional<uint64_t> input_size_;  // Known for regular files.
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point next_draw_;
};

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_PROGRESS_H_
