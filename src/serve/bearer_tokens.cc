// ReadBearerTokenFile (reducto/serve.h).
#include <set>
#include <string>

#include "reducto/serve.h"
#include "util/file.h"

namespace reducto {
namespace {

// A token file is a few lines; anything larger is not one.
constexpr size_t kMaxTokenFileBytes = 1 << 20;

std::string Trimmed(const std::string& line) {
  size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  size_t last = line.find_last_not_of(" \t\r");
  return line.substr(first, last - first + 1);
}

}  // namespace

Result<std::set<std::string>> ReadBearerTokenFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxTokenFileBytes));
  std::set<std::string> tokens;
  size_t line_number = 0, start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string token = Trimmed(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    if (token.empty() || token[0] == '#') continue;
    for (char c : token) {
      auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u == 0x7f) {
        // The message names the line, never the token.
        return Status::InvalidArgument("token file " + path + ", line " +
                                       std::to_string(line_number) +
                                       ": a token may not contain spaces or control characters");
      }
    }
    tokens.insert(std::move(token));
  }
  if (tokens.empty()) {
    return Status::InvalidArgument("token file " + path +
                                   " holds no token: put one bearer token per line");
  }
  return tokens;
}

}  // namespace reducto
