#include "crypto/text_record.h"

#include <sodium.h>

#include <algorithm>

namespace reducto {
namespace {

// Printable ASCII other than space: what base64, hex, UUIDs and key ids are made of.
bool IsValueText(const std::string& value) {
  if (value.empty()) return false;
  for (char c : value) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

}  // namespace

std::string FormatRecord(const std::string& first_line,
                         const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = first_line + "\n";
  for (const auto& [name, value] : fields) out += name + " " + value + "\n";
  return out;
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

Result<std::vector<std::string>> ParseRecord(const std::string& text, const std::string& first_line,
                                             const std::vector<std::string>& names,
                                             const std::string& where) {
  if (text.empty() || text.back() != '\n') {
    return Status::Corrupt(where + " does not end with a complete line");
  }
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (lines[0] != first_line) {
    return Status::Corrupt(where + ": line 1 should be '" + first_line + "'");
  }
  if (lines.size() != names.size() + 1) {
    return Status::Corrupt(where + " has " + std::to_string(lines.size()) + " lines, expected " +
                           std::to_string(names.size() + 1));
  }
  std::vector<std::string> values;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& line = lines[i + 1];
    std::string prefix = names[i] + " ";
    std::string value = line.substr(std::min(prefix.size(), line.size()));
    if (line.compare(0, prefix.size(), prefix) != 0 || !IsValueText(value)) {
      return Status::Corrupt(where + ": line " + std::to_string(i + 2) + " should be '" + names[i] +
                             " <value>'");
    }
    values.push_back(std::move(value));
  }
  return values;
}

std::string ToBase64(std::span<const uint8_t> bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), kVariant);
  out.resize(out.size() - 1);  // The terminating NUL.
  return out;
}

Result<std::vector<uint8_t>> FromBase64(const std::string& text, size_t size) {
  std::vector<uint8_t> out(size + 1);  // One spare byte: longer input must not fit.
  size_t decoded = 0;
  const char* end = nullptr;
  int rc = sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &decoded,
                             &end, sodium_base64_VARIANT_ORIGINAL);
  if (rc != 0 || end != text.data() + text.size() || decoded != size) {
    return Status::InvalidArgument("is not " + std::to_string(size) + " bytes of base64");
  }
  out.resize(size);
  return out;
}

Result<Digest> DigestFromLowerHex(const std::string& text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Status::InvalidArgument("is not 64 lowercase hex digits");
    }
  }
  return DigestFromHex(text);
}

}  // namespace reducto
