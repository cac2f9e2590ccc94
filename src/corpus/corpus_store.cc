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

namespace {

// What to do when the corpus `id` is not where the user looked.
std::string HowToGet(const std::string& id) {
  return ": pass -c with the directory of corpus " + id + ", or of a store that holds it "
         "(`reducto corpus list STORE` shows each corpus's id); or get a copy of corpus " + id +
         " from whoever made the container";
}

}  // namespace

Result<std::string> LocateCorpus(const std::string& dir, const std::string& id) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return dir;  // Opening it says what is wrong.
    return Status::NotFound("corpus " + id + " is needed, and " + dir + " does not exist" +
                            HowToGet(id));
  }
  std::string manifest = dir + "/" + kManifestFileName;
  if (!S_ISDIR(st.st_mode) || ::stat(manifest.c_str(), &st) == 0) return dir;
  ASSIGN_OR_RETURN(std::vector<std::string> corpora, ListCorpora(dir));
  for (const std::string& corpus : corpora) {
    auto info = ReadCorpusInfo(corpus);
    if (info.ok() && info->id == id) return corpus;
  }
  return Status::NotFound("corpus " + id + " is needed, and " + dir + " is neither that corpus "
                          "nor a store that holds it (it holds " +
                          std::to_string(corpora.size()) + " corpora)" + HowToGet(id));
}

}  // namespace reducto
