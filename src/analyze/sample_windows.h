// Where `reducto analyze` samples an input (reducto/analyze.h).
#ifndef REDUCTO_ANALYZE_SAMPLE_WINDOWS_H_
#define REDUCTO_ANALYZE_SAMPLE_WINDOWS_H_

#include <cstdint>
#include <vector>

#include "reducto/analyze.h"

namespace reducto {

struct SampleWindow {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// The windows of an input of `size` bytes that Analyze compresses: one window of the
// whole input when the sample would be half of it or more, else ceil(sample /
// window_bytes) windows of window_bytes each (the last sample byte rounds up to a whole
// window), one centred in each of as many equal strides of the input. Sorted, disjoint.
// Empty when `size` is 0.
std::vector<SampleWindow> PlanSampleWindows(uint64_t size, const AnalyzeOptions& options);

}  // namespace reducto

#endif  // REDUCTO_ANALYZE_SAMPLE_WINDOWS_H_
