// Time as the formats write it.
#ifndef REDUCTO_UTIL_CLOCK_H_
#define REDUCTO_UTIL_CLOCK_H_

#include <string>

namespace reducto {

// The current time as RFC 3339 UTC with second precision ("2024-05-01T12:00:00Z"), as
// manifests and audit entries record it.
std::string NowRfc3339();

}  // namespace reducto

#endif  // REDUCTO_UTIL_CLOCK_H_
