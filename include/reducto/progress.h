// Progress of a long operation (Compress, Decompress, BuildCorpus, UpdateCorpus), for a
// front end to render: a line on a terminal, or machine-readable events.
//
// Thread safety: an observer is called from the thread that called the operation only,
// one call at a time, and never after the operation returned.
#ifndef REDUCTO_PROGRESS_H_
#define REDUCTO_PROGRESS_H_

#include <cstdint>
#include <string>

namespace reducto {

// Where an operation stands. Counts only grow from one report to the next.
struct Progress {
  // Bytes of the operation's input consumed: target bytes for Compress, container
  // bytes for Decompress, bytes of the inputs chunked for a corpus build. Against the
  // input's size (which the caller knows, when it is a file) this gives the fraction
  // done.
  uint64_t input_bytes = 0;
  // Bytes of the original decided so far: those Compress has encoded into blocks (by
  // segment), those the container's blocks read so far declare for Decompress (written
  // once verified); the pack bytes stored so far for a corpus build.
  uint64_t output_bytes = 0;
  uint64_t blocks = 0;  // Blocks encoded, or read from the container; 0 for a build.
};

class ProgressObserver {
 public:
  virtual ~ProgressObserver() = default;
  // Called as Compress finishes segments of up to 32 MiB (one call may cover several),
  // after each block that Decompress read, or every few MiB of a build's input; at
  // least once before the operation returns successfully, with the final counts. Must
  // be cheap: rate-limit any rendering here.
  virtual void OnProgress(const Progress& progress) = 0;
};

// A byte count as front ends show it and the library's messages say it: "512 B",
// "1.5 MiB" (binary units, one decimal, up to EiB).
std::string HumanBytes(uint64_t bytes);

}  // namespace reducto

#endif  // REDUCTO_PROGRESS_H_
