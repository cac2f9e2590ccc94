#include <filesystem>

#include "corpus/corpus_handle_access.h"
#include "reducto/signing.h"

namespace reducto {

const CorpusReader& ReaderOf(const Corpus& corpus) { return *corpus.reader_; }

CorpusHandle MakeCorpusHandle(std::unique_ptr<CorpusReader> reader) {
  return CorpusHandle(new Corpus(std::move(reader)));
}

Corpus::Corpus(std::unique_ptr<CorpusReader> reader) : reader_(std::move(reader)) {}

Corpus::~Corpus() = default;

const CorpusInfo& Corpus::info() const { return reader_->info(); }

uint64_t Corpus::cache_size() const { return reader_->cache_bytes(); }

namespace {

// NotFound for a corpus directory that does not exist, naming the path looked for and
// what to pass instead.
Status MissingCorpusDirectory(const std::string& dir) {
  std::error_code ec;
  std::string absolute = std::filesystem::absolute(dir, ec).lexically_normal().string();
  std::string tried = ec || absolute == dir ? "" : " (looked for " + absolute + ")";
  return Status::NotFound("corpus " + dir + " not found: no such directory" + tried +
                          ": pass the right corpus directory (`reducto corpus list STORE` "
                          "lists the corpora of a store), or --standalone for a container "
                          "that needs no corpus");
}

}  // namespace

Result<CorpusHandle> Corpus::Open(const std::string& dir, const CorpusOpenOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec) && !ec) return MissingCorpusDirectory(dir);
  ASSIGN_OR_RETURN(std::unique_ptr<CorpusReader> reader,
                   CorpusReader::Open(dir, CorpusReaderOptions{options.cache_size, options.key}));
  RETURN_IF_ERROR(CheckCorpusTrust(reader->info(), options.trusted_keys));
  if (options.policy) RETURN_IF_ERROR(options.policy(reader->info()));
  return CorpusHandle(new Corpus(std::move(reader)));
}

Result<CorpusHandle> OpenCorpusOrFallBack(const std::string& dir,
                                          const CorpusOpenOptions& options, bool fall_back) {
  if (dir.empty()) {
    return Status::InvalidArgument(
        "compress needs a corpus directory: pass -c DIR, or --standalone for a container "
        "that needs no corpus");
  }
  std::error_code ec;
  if (fall_back && !std::filesystem::exists(dir, ec) && !ec) return CorpusHandle();
  return Corpus::Open(dir, options);
}

LocalCorpusResolver::LocalCorpusResolver(CorpusOpenOptions options,
                                         std::vector<std::string> locations)
    : options_(std::move(options)), locations_(std::move(locations)) {}

Result<std::string> LocalCorpusResolver::Locate(const CorpusReference& reference) const {
  if (!reference.location.empty()) {
    if (reference.id.empty()) return reference.location;
    return LocateCorpus(reference.location, reference.id);
  }
  const std::string needed = "this container needs corpus " + reference.id;
  if (locations_.empty()) {
    return Status::NotFound(needed + ": pass -c DIR with that corpus, or -c STORE with a "
                            "store that holds it (`reducto corpus list STORE` shows the ids)");
  }
  Status first_miss;
  for (const std::string& location : locations_) {
    Result<std::string> found = LocateCorpus(location, reference.id);
    if (found.ok() || found.status().code() != StatusCode::kNotFound) return found;
    if (first_miss.ok()) first_miss = found.status();
  }
  return first_miss;
}

namespace {

// The key under which an open corpus is kept: its directory, made absolute and free of
// symbolic links when it exists.
std::string CanonicalDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::canonical(dir, ec);
  return ec ? dir : canonical.string();
}

// Whether `corpus` is still what `dir` holds: the manifest there has the same digest
// (`expected` when the reference pins one). A corpus replaced at the same path is
// opened again.
bool StillCurrent(const Corpus& corpus, const std::string& dir,
                  const std::optional<Digest>& expected) {
  if (expected) return DigestEqual(*expected, corpus.info().manifest_digest);
  Result<CorpusInfo> info = ReadCorpusInfo(dir);
  return info.ok() && DigestEqual(info->manifest_digest, corpus.info().manifest_digest);
}

}  // namespace

Result<CorpusHandle> LocalCorpusResolver::Resolve(const CorpusReference& reference) {
  ASSIGN_OR_RETURN(std::string dir, Locate(reference));
  Result<CorpusHandle> handle = OpenOnce(dir, reference.manifest_digest);
  if (!handle.ok() && reference.location.empty()) {
    return handle.status().WithContext("this container needs corpus " + reference.id);
  }
  return handle;
}

Result<CorpusHandle> LocalCorpusResolver::OpenOnce(const std::string& dir,
                                                   const std::optional<Digest>& digest) {
  const std::string key = CanonicalDirectory(dir);
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = open_.find(key); it != open_.end()) {
    if (CorpusHandle held = it->second.lock();
        held && StillCurrent(*held, dir, digest)) {
      return held;
    }
  }
  ASSIGN_OR_RETURN(CorpusHandle opened, Corpus::Open(dir, options_));
  std::erase_if(open_, [](const auto& entry) { return entry.second.expired(); });
  open_[key] = opened;
  return opened;
}

}  // namespace reducto
