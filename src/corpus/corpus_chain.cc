// ReadCorpusChain: a version and its ancestors, each found beside the corpus that
// names it and accepted only with the manifest digest that corpus pins.
#include "corpus/corpus_chain.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <optional>

#include "corpus/corpus_format.h"
#include "corpus/manifest.h"
#include "storage/local_directory_storage.h"

namespace reducto {
namespace {

std::string Needed(const CorpusInfo& child) {
  return "corpus " + child.id + " at " + child.path + " is a new version of corpus " +
         *child.parent_id + " (manifest blake3 " + ToHex(*child.parent_manifest_digest) + ")";
}

// The parent of `child` among the corpora beside it, by id and pinned manifest digest.
Result<CorpusInfo> FindParent(const CorpusInfo& child) {
  const std::string store = StoreOf(child.path);
  auto dirs = ListCorpora(store);
  if (!dirs.ok()) return dirs.status().WithContext(Needed(child) + ", looked for in " + store);
  std::optional<CorpusInfo> impostor;  // The parent's id, another manifest.
  for (const std::string& dir : *dirs) {
    if (SameDirectory(dir, child.path)) continue;
    auto candidate = ReadManifestFile(dir);  // Unreadable neighbours are simply not it.
    if (!candidate.ok() || candidate->id != *child.parent_id) continue;
    if (!DigestEqual(candidate->manifest_digest, *child.parent_manifest_digest)) {
      impostor = std::move(candidate).value();
      continue;
    }
    // The manifest is the pinned one; now its own segment files must be whole too.
    auto parent = ReadCorpusInfo(dir);
    if (!parent.ok()) return parent.status().WithContext("parent of " + child.path);
    if (!DigestEqual(parent->manifest_digest, *child.parent_manifest_digest)) continue;
    return std::move(parent).value();
  }
  if (impostor) {
    return Status::Integrity(Needed(child) + ", but the corpus with that id at " + impostor->path +
                             " has manifest blake3 " + ToHex(impostor->manifest_digest) +
                             ": it was replaced or edited; put the original parent back "
                             "(re-fetch it) or rebuild " +
                             child.path);
  }
  return Status::NotFound(Needed(child) + ", which is not in " + store +
                          ": copy or fetch the parent corpus into " + store +
                          " (a version's ancestors must sit beside it)");
}

// `child`'s segment list must begin with `parent`'s, each naming the corpus that holds
// it, and both must chunk alike (the child's index was built by the parent's chunks).
Status CheckVersionOf(const CorpusInfo& child, const CorpusInfo& parent) {
  auto disagree = [&](const std::string& what) {
    return Status::Corrupt(child.path + "/" + kManifestFileName + " disagrees with its parent " +
                           parent.path + ": " + what +
                           ": the version is damaged; rebuild or re-fetch it");
  };
  if (!(child.chunking == parent.chunking)) return disagree("the chunking parameters differ");
  size_t inherited = child.segment_owners.size();
  if (inherited != parent.segments.size()) {
    return disagree("it lists " + std::to_string(inherited) +
                    " inherited segment(s), the parent has " +
                    std::to_string(parent.segments.size()));
  }
  for (size_t i = 0; i < inherited; ++i) {
    const CorpusSegment& mine = child.segments[i];
    const CorpusSegment& theirs = parent.segments[i];
    const std::string& owner =
        i < parent.segment_owners.size() ? parent.segment_owners[i] : parent.id;
    if (mine.file != theirs.file || mine.base != theirs.base || mine.size != theirs.size ||
        !DigestEqual(mine.blake3, theirs.blake3) || child.segment_owners[i] != owner ||
        !SameFineIndex(mine.fine, theirs.fine) || !SamePieceTable(mine.pieces, theirs.pieces)) {
      return disagree("segment " + std::to_string(i) + " (" + mine.file + " of corpus " +
                      child.segment_owners[i] + ") is not the parent's (" + theirs.file +
                      " of corpus " + owner + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

bool SameFineIndex(const std::optional<FineIndexFile>& a, const std::optional<FineIndexFile>& b) {
  if (!a || !b) return !a && !b;
  return a->file == b->file && a->size == b->size && a->stride == b->stride &&
         DigestEqual(a->blake3, b->blake3);
}

bool SamePieceTable(const std::optional<PieceTableFile>& a,
                    const std::optional<PieceTableFile>& b) {
  if (!a || !b) return !a && !b;
  return a->file == b->file && a->size == b->size && a->piece_size == b->piece_size &&
         DigestEqual(a->blake3, b->blake3);
}

std::string StoreOf(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::string store = std::filesystem::path(path).parent_path().string();
  return store.empty() ? "." : store;
}

bool SameDirectory(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

std::vector<std::string> SegmentDirs(const std::vector<CorpusInfo>& chain) {
  std::map<std::string, std::string> dirs;  // Corpus id -> directory.
  for (const CorpusInfo& member : chain) dirs.emplace(member.id, member.path);
  std::vector<std::string> result;
  const CorpusInfo& info = chain.front();
  for (size_t i = 0; i < info.segments.size(); ++i) {
    result.push_back(i < info.segment_owners.size() ? dirs.at(info.segment_owners[i]) : info.path);
  }
  return result;
}

std::vector<std::string> SegmentPaths(const std::vector<CorpusInfo>& chain) {
  std::vector<std::string> paths = SegmentDirs(chain);
  for (size_t i = 0; i < paths.size(); ++i) paths[i] += "/" + chain.front().segments[i].file;
  return paths;
}

namespace {

// A member whose files are in the local directory info.path.
ChainMember LocalMember(CorpusInfo info) {
  CorpusSource source{std::make_shared<LocalDirectoryStorage>(info.path),
                      info.path + "/" + kIndexDirName};
  return ChainMember{std::move(info), std::move(source)};
}

// The chain from `root`, each parent found by `find_parent` (which returns it read and
// with the pinned id and manifest digest).
Result<std::vector<ChainMember>> FollowParents(
    ChainMember root, const std::function<Result<ChainMember>(const CorpusInfo&)>& find_parent) {
  const std::string where = root.info.path;
  std::vector<ChainMember> chain;
  chain.push_back(std::move(root));
  while (chain.back().info.is_version()) {
    if (chain.size() >= kMaxCorpusChain) {
      return Status::Corrupt("corpus " + where + " has more than " +
                             std::to_string(kMaxCorpusChain) +
                             " ancestors: rebuild it with `reducto corpus build`");
    }
    ASSIGN_OR_RETURN(ChainMember parent, find_parent(chain.back().info));
    RETURN_IF_ERROR(CheckVersionOf(chain.back().info, parent.info));
    for (const ChainMember& member : chain) {
      if (member.info.id == parent.info.id) {
        return Status::Corrupt("corpus " + member.info.path + " is its own ancestor (through " +
                               parent.info.path +
                               "): the store is damaged; rebuild the corpora");
      }
    }
    chain.push_back(std::move(parent));
  }
  return chain;
}

}  // namespace

Result<std::vector<ChainMember>> ReadLocalCorpusChain(const std::string& dir) {
  ASSIGN_OR_RETURN(CorpusInfo info, ReadCorpusInfo(dir));
  return FollowParents(LocalMember(std::move(info)),
                       [](const CorpusInfo& child) -> Result<ChainMember> {
                         ASSIGN_OR_RETURN(CorpusInfo parent, FindParent(child));
                         return LocalMember(std::move(parent));
                       });
}

Result<std::vector<ChainMember>> ReadCorpusChain(CorpusSource root,
                                                 const ParentFinder& find_parent) {
  ASSIGN_OR_RETURN(CorpusInfo info, ReadCorpusInfo(*root.storage));
  auto find = [&](const CorpusInfo& child) -> Result<ChainMember> {
    if (!find_parent) {
      return Status::NotFound(Needed(child) +
                              ", and no way to find its ancestors was given: open it from its "
                              "directory, beside its parent");
    }
    ASSIGN_OR_RETURN(CorpusSource source, find_parent(child));
    Result<CorpusInfo> parent = ReadCorpusInfo(*source.storage);
    if (!parent.ok()) return parent.status().WithContext("parent of " + child.path);
    if (parent->id != *child.parent_id ||
        !DigestEqual(parent->manifest_digest, *child.parent_manifest_digest)) {
      return Status::Integrity(Needed(child) + ", but " + parent->path + " holds corpus " +
                               parent->id + " with manifest blake3 " +
                               ToHex(parent->manifest_digest) +
                               ": put the original parent back (re-fetch it) or rebuild " +
                               child.path);
    }
    return ChainMember{std::move(parent).value(), std::move(source)};
  };
  return FollowParents(ChainMember{std::move(info), std::move(root)}, find);
}

Result<std::vector<CorpusInfo>> ReadCorpusChain(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<ChainMember> members, ReadLocalCorpusChain(dir));
  std::vector<CorpusInfo> chain;
  for (ChainMember& member : members) chain.push_back(std::move(member.info));
  return chain;
}

std::vector<const Storage*> SegmentStorages(const std::vector<ChainMember>& chain) {
  std::map<std::string, const Storage*> storages;  // Corpus id -> its storage.
  for (const ChainMember& member : chain) {
    storages.emplace(member.info.id, member.source.storage.get());
  }
  const CorpusInfo& info = chain.front().info;
  std::vector<const Storage*> result;
  for (size_t i = 0; i < info.segments.size(); ++i) {
    result.push_back(i < info.segment_owners.size() ? storages.at(info.segment_owners[i])
                                                    : chain.front().source.storage.get());
  }
  return result;
}

}  // namespace reducto
