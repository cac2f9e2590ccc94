// Helpers shared by the tests: deterministic data and scratch directories.
#ifndef REDUCTO_TESTS_TEST_SUPPORT_H_
#define REDUCTO_TESTS_TEST_SUPPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "random_bytes.h"

namespace reducto::testing {


// A fresh empty directory under $TMPDIR, removed with its contents on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::vector<uint8_t>& data);
std::vector<uint8_t> ReadFile(const std::string& path);

// ../shared relative to the source tree (the reference vectors and test data).
std::string SharedDir();

}  // namespace reducto::testing

#endif  // REDUCTO_TESTS_TEST_SUPPORT_H_
