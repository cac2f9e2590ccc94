// From a request target to an open file below the store, refusing every way out of it.
#ifndef REDUCTO_SERVE_STORE_PATH_H_
#define REDUCTO_SERVE_STORE_PATH_H_

#include <string>
#include <string_view>
#include <vector>

#include "reducto/status.h"

namespace reducto::serve {

// The path segments of a request target ("/corpora/7f/pack/000001.pz?x" gives
// corpora, 7f, pack, 000001.pz), each percent-decoded. InvalidArgument (the server
// answers 400) for anything that could name a file outside the store or name one file
// two ways: no leading '/', an empty, "." or ".." segment (also when encoded), a
// backslash, a NUL or other control character, an encoded '/' or '\', or bad
// percent-encoding. The query string is ignored.
Result<std::vector<std::string>> SplitTarget(std::string_view target);

// Opens `segments` below the directory `store_fd` one component at a time with
// O_NOFOLLOW, so a symbolic link anywhere on the path, inside the store or pointing out
// of it, fails. Returns a read-only descriptor of a regular file (the caller closes it).
// NotFound for a missing name, a symbolic link, a directory or any other non-regular
// file; Permission or Io when the system refuses.
Result<int> OpenStoreFile(int store_fd, const std::vector<std::string>& segments);

}  // namespace reducto::serve

#endif  // REDUCTO_SERVE_STORE_PATH_H_
