// libFuzzer target for the manifest parser (manifest.json may come from an untrusted
// repository). Every input must be refused cleanly or parse; what parses must
// serialize and parse again to the same manifest.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "corpus/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto info = reducto::ParseManifest(text, "fuzz");
  if (!info.ok()) return 0;
  std::string again = reducto::SerializeManifest(*info);
  auto reparsed = reducto::ParseManifest(again, "fuzz (serialized)");
  if (!reparsed.ok() || reducto::SerializeManifest(*reparsed) != again) std::abort();
  return 0;
}
