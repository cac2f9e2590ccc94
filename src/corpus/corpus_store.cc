// ListCorpora: the corpora in a directory of corpora.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "corpus/corpus_format.h"
#include "reducto/corpus.h"
#include "util/file.h"

namespace reducto {

Result<std::vector<std::string>> ListCorpora(const std::string& store) {
  namespace fs = std::filesystem;
  struct stat st;
  if (::stat(store.c_str(), &st) != 0) return ErrnoStatus("list corpora in", store, errno);
  if (!S_ISDIR(st.st_mode)) {
    return Status::NotFound(store + " is not a directory: pass a directory that holds corpora");
  }
  std::vector<std::string> corpora;
  std::error_code ec;
  fs::directory_iterator it(store, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.find(".tmp-") != std::string::npos || name.find(".old-") != std::string::npos)
      continue;
    std::string dir = store + (store.ends_with('/') ? "" : "/") + name;
    std::string manifest = dir + "/" + kManifestFileName;
    std::error_code entry_ec;  // An entry that vanished or dangles is simply no corpus.
    if (it->is_directory(entry_ec) && ::stat(manifest.c_str(), &st) == 0) corpora.push_back(dir);
  }
  if (ec) return ErrnoStatus("list corpora in", store, ec.value());
  std::sort(corpora.begin(), corpora.end());
  return corpora;
}

}  // namespace reducto
