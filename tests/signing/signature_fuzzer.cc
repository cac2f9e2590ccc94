// libFuzzer target for the parsers of untrusted key and signature files (a corpus's
// signatures/*.sig may come from any repository): the record layout, base64 and hex.
// Every input must be refused cleanly or parse; never crash, never read out of bounds
// (run with -fsanitize=address,undefined). When a record parses, it is formatted again
// and must reproduce the input byte for byte: parsing is strict, so that any change to
// a file is refused or changes a value that the signature check compares.
//
// Not built by default (it needs clang): a build with `-fsanitize=fuzzer` links this
// file with the core library, e.g.
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
//     tests/signing/signature_fuzzer.cc <core library> -lsodium -o signature_fuzzer
//   ./signature_fuzzer -max_len=4096
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "crypto/text_record.h"

namespace {

const std::vector<std::string> kSignatureFields = {"key-id", "public-key", "corpus-id",
                                                   "manifest-blake3", "signature"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto values = reducto::ParseRecord(text, "reducto-corpus-signature v1", kSignatureFields, "fuzz");
  if (!values.ok()) return 0;
  std::vector<std::pair<std::string, std::string>> fields;
  for (size_t i = 0; i < kSignatureFields.size(); ++i) {
    fields.emplace_back(kSignatureFields[i], (*values)[i]);
  }
  if (reducto::FormatRecord("reducto-corpus-signature v1", fields) != text) std::abort();
  for (size_t n : {size_t{32}, size_t{64}}) {
    auto bytes = reducto::FromBase64((*values)[1], n);
    if (bytes.ok() && reducto::ToBase64(*bytes) != (*values)[1]) std::abort();  // Canonical.
  }
  auto digest = reducto::DigestFromLowerHex((*values)[3]);
  if (digest.ok() && reducto::ToHex(*digest) != (*values)[3]) std::abort();
  return 0;
}
