// Key helpers shared by the encryption tests.
#ifndef REDUCTO_TESTS_CRYPTO_KEY_TEST_UTIL_H_
#define REDUCTO_TESTS_CRYPTO_KEY_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>

#include "reducto/encryption.h"
#include "test_support.h"

namespace reducto::testing {

// A new symmetric key file `name` in `dir` (reducto key generate --symmetric), read back.
inline EnvelopeKey KeyFileKey(const ScratchDir& dir, const std::string& name) {
  EXPECT_TRUE(GenerateSymmetricKeyFile(dir.Join(name), false).ok());
  auto key = ReadSymmetricKeyFile(dir.Join(name));
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  EnvelopeKey out;
  if (key.ok()) out.key.emplace(std::move(key).value());
  return out;
}

}  // namespace reducto::testing

#endif  // REDUCTO_TESTS_CRYPTO_KEY_TEST_UTIL_H_
