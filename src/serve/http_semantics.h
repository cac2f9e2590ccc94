// The parts of HTTP's range and conditional-request rules (RFC 9110, sections 13 and
// 14) that StoreServer applies itself: cpp-httplib 0.11 neither checks a range against
// the length of streamed content nor knows validators.
#ifndef REDUCTO_SERVE_HTTP_SEMANTICS_H_
#define REDUCTO_SERVE_HTTP_SEMANTICS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reducto::serve {

// A satisfiable byte range: [first, first + length), length > 0.
struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
};

// More ranges than this in one request and the Range header is ignored (the whole file
// is sent), as RFC 9110 allows: it bounds the work one request can ask for.
constexpr size_t kMaxRanges = 256;

enum class RangeOutcome {
  kWhole,          // No usable Range header: send the whole file (200).
  kPartial,        // Send `ranges` (206).
  kUnsatisfiable,  // Valid syntax but no range overlaps the file (416).
};

struct RangeRequest {
  RangeOutcome outcome = RangeOutcome::kWhole;
  std::vector<ByteRange> ranges;  // kPartial only, in the order asked, clamped to the file.
};

// Interprets a Range header value for a file of `size` bytes. A value that is not
// "bytes=" followed by valid range specs is ignored (kWhole), as RFC 9110 says.
RangeRequest ParseRange(std::string_view header, uint64_t size);

// "Sun, 06 Nov 1994 08:49:37 GMT" for `seconds` since the epoch.
std::string HttpDate(int64_t seconds);
// The seconds since the epoch of an IMF-fixdate; nullopt for anything else.
std::optional<int64_t> ParseHttpDate(std::string_view text);

// Whether an If-None-Match value ("*", or a list of entity tags) matches `etag`, by the
// weak comparison RFC 9110 prescribes for it.
bool IfNoneMatchMatches(std::string_view header, std::string_view etag);

}  // namespace reducto::serve

#endif  // REDUCTO_SERVE_HTTP_SEMANTICS_H_
