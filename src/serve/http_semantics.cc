#include "serve/http_semantics.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace reducto::serve {
namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A whole string of decimal digits; nullopt for anything else (signs, spaces, overflow).
std::optional<uint64_t> Decimal(std::string_view s) {
  uint64_t value = 0;
  if (s.empty()) return std::nullopt;
  auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (err != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// One range spec ("a-b", "a-", "-n") against `size`: the clamped range, an empty
// optional when it is valid but outside the file, or false in `valid` when malformed.
std::optional<ByteRange> RangeSpec(std::string_view spec, uint64_t size, bool& valid) {
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return valid = false, std::nullopt;
  std::string_view first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
  if (first_text.empty()) {  // A suffix: the last n bytes.
    std::optional<uint64_t> n = Decimal(last_text);
    if (!n) return valid = false, std::nullopt;
    if (*n == 0 || size == 0) return std::nullopt;
    uint64_t length = *n < size ? *n : size;
    return ByteRange{size - length, length};
  }
  std::optional<uint64_t> first = Decimal(first_text);
  std::optional<uint64_t> last = last_text.empty() ? std::optional<uint64_t>(UINT64_MAX)
                                                   : Decimal(last_text);
  if (!first || !last || *last < *first) return valid = false, std::nullopt;
  if (*first >= size) return std::nullopt;
  uint64_t end = *last < size - 1 ? *last : size - 1;
  return ByteRange{*first, end - *first + 1};
}

}  // namespace

RangeRequest ParseRange(std::string_view header, uint64_t size) {
  header = Trim(header);
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return {};
  header.remove_prefix(kUnit.size());
  RangeRequest request;
  size_t specs = 0;
  while (true) {
    size_t comma = header.find(',');
    std::string_view spec = Trim(header.substr(0, comma));
    if (!spec.empty()) {  // RFC 9110 allows empty list elements.
      if (++specs > kMaxRanges) return {};
      bool valid = true;
      std::optional<ByteRange> range = RangeSpec(spec, size, valid);
      if (!valid) return {};
      if (range) request.ranges.push_back(*range);
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (specs == 0) return {};
  request.outcome = request.ranges.empty() ? RangeOutcome::kUnsatisfiable : RangeOutcome::kPartial;
  return request;
}

std::string HttpDate(int64_t seconds) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  // Names spelled out rather than strftime's %a and %b, which follow the locale.
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  text = Trim(text);
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions.
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  auto number = [&](size_t pos, size_t len) { return Decimal(text.substr(pos, len)); };
  std::optional<uint64_t> day = number(5, 2), year = number(12, 4), hour = number(17, 2),
                          minute = number(20, 2), second = number(23, 2);
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = i;
  }
  if (!day || !year || !hour || !minute || !second || month < 0 || text[7] != ' ' ||
      text[11] != ' ' || text[16] != ' ' || text[19] != ':' || text[22] != ':') {
    return std::nullopt;
  }
  struct tm tm {};
  tm.tm_mday = static_cast<int>(*day);
  tm.tm_mon = month;
  tm.tm_year = static_cast<int>(*year) - 1900;
  tm.tm_hour = static_cast<int>(*hour);
  tm.tm_min = static_cast<int>(*minute);
  tm.tm_sec = static_cast<int>(*second);
  return static_cast<int64_t>(timegm(&tm));
}

bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  auto opaque = [](std::string_view tag) {
    tag = Trim(tag);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    return tag;
  };
  if (Trim(header) == "*") return true;
  while (true) {
    size_t comma = header.find(',');
    if (opaque(header.substr(0, comma)) == opaque(etag)) return true;
    if (comma == std::string_view::npos) return false;
    header.remove_prefix(comma + 1);
  }
}

}  // namespace reducto::serve
