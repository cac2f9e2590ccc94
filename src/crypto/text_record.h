// The text layout shared by key files and signature files: a first line naming the
// kind and version, then one "<name> <value>" line per field in a fixed order, each
// ending in "\n" (docs/keys.md). Parsing is strict, so that any change to a file is
// either rejected here or changes a value that the caller checks.
#ifndef REDUCTO_CRYPTO_TEXT_RECORD_H_
#define REDUCTO_CRYPTO_TEXT_RECORD_H_

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "reducto/digest.h"
#include "reducto/status.h"

namespace reducto {

// "<kind> <version>\n<name> <value>\n..."
std::string FormatRecord(const std::string& first_line,
                         const std::vector<std::pair<std::string, std::string>>& fields);

// The text before the first "\n" (all of it when there is none).
std::string FirstLine(const std::string& text);

// The values of `names`, in order, when `text` is exactly `first_line` followed by
// one "<name> <value>" line per name (value non-empty, printable ASCII without
// spaces), every line ending in "\n". Corrupt otherwise, naming `where` and the line.
Result<std::vector<std::string>> ParseRecord(const std::string& text, const std::string& first_line,
                                             const std::vector<std::string>& names,
                                             const std::string& where);

// Base64, RFC 4648 alphabet with padding (libsodium's ORIGINAL variant).
std::string ToBase64(std::span<const uint8_t> bytes);
// Exactly `size` bytes from canonical base64; InvalidArgument otherwise.
Result<std::vector<uint8_t>> FromBase64(const std::string& text, size_t size);
// A digest from exactly 64 lowercase hex digits; InvalidArgument otherwise.
Result<Digest> DigestFromLowerHex(const std::string& text);

}  // namespace reducto

#endif  // REDUCTO_CRYPTO_TEXT_RECORD_H_
