// BuildCorpus: chunk the inputs, store each distinct chunk once, index it, write the
// manifest last, and publish the directory, signed, with one rename (corpus_publisher.h).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corpus_build/corpus_builder.h"

#include "chunking/chunk_reader.h"
#include "corpus/chunk_index.h"
#include "corpus/corpus_chain.h"
#include "corpus/corpus_format.h"
#include "corpus_build/corpus_publisher.h"
#include "corpus/corpus_reader.h"
#include "corpus/fine_index.h"
#include "corpus/manifest.h"
#include "corpus_build/pack_writer.h"
#include "corpus/signatures.h"
#include "hashing/weak_key.h"
#include "repository/piece_table.h"
#include "reducto/corpus.h"
#include "reducto/io.h"
#include "util/file.h"
#include "util/clock.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;

// Read-ahead per input. Small, because the reader's buffer is allocated (and zeroed)
// per input and a directory may hold many small files; 1 MiB reads are already cheap.
constexpr size_t kInputWindowBytes = 1u << 20;

}  // namespace

Status ValidateCorpusChunking(const ChunkerParams& params) {
  Status valid = params.Validate();
  if (!valid.ok()) return valid.WithContext("invalid chunking for a corpus");
  if (params.avg_size < kCorpusMinAvgChunk || params.avg_size > kCorpusMaxAvgChunk) {
    return Status::InvalidArgument(
        "average chunk size " + std::to_string(params.avg_size) +
        " is outside 4 KiB..64 KiB, the range allowed for corpora: pass --avg between 4K and 64K");
  }
  return Status::Ok();
}

// ---- inputs ----

namespace {

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool valid = false;
};

FileId IdentifyDirectory(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return {};
  return {st.st_dev, st.st_ino, true};
}

// Appends the regular files under `dir` (recursively, symbolic links not followed,
// sockets, FIFOs and devices skipped), sorted byte-wise by path. The directory
// `exclude` (the corpus being replaced, when it lies inside an input) is skipped.
Status ListDirectory(const std::string& dir, const FileId& exclude, std::vector<CorpusInput>* out) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return ErrnoStatus("list directory", dir, ec.value());
  std::string current = dir;  // The directory the iterator reads from, for messages.
  while (it != fs::recursive_directory_iterator()) {
    fs::file_status status = it->symlink_status(ec);
    if (ec) return ErrnoStatus("inspect", it->path().string(), ec.value());
    if (fs::is_directory(status)) {
      FileId id = IdentifyDirectory(it->path().string());
      if (exclude.valid && id.valid && id.dev == exclude.dev && id.ino == exclude.ino) {
        it.disable_recursion_pending();
      }
      current = it->path().string();
    } else if (fs::is_regular_file(status)) {
      files.push_back(it->path().string());
    }
    it.increment(ec);
    if (ec) return ErrnoStatus("list directory", current, ec.value());
  }
  std::sort(files.begin(), files.end());  // std::string compares bytes as unsigned char.
  for (std::string& f : files) out->push_back({std::move(f)});
  return Status::Ok();
}

}  // namespace

Result<std::vector<CorpusInput>> ExpandCorpusInputs(const std::vector<std::string>& inputs,
                                        const std::string& out_dir) {
  if (inputs.empty()) {
    return Status::InvalidArgument(
        "no inputs to build a corpus from: pass files, directories or - for stdin");
  }
  FileId exclude = IdentifyDirectory(out_dir);
  std::vector<CorpusInput> files;
  bool stdin_seen = false;
  for (const std::string& input : inputs) {
    if (input == "-") {
      if (stdin_seen) {
        return Status::InvalidArgument("stdin (-) is given more than once: pass it at most once");
      }
      stdin_seen = true;
      files.push_back({input});
      continue;
    }
    struct stat st;
    if (::stat(input.c_str(), &st) != 0) return ErrnoStatus("read input", input, errno);
    if (S_ISDIR(st.st_mode)) {
      RETURN_IF_ERROR(ListDirectory(input, exclude, &files));
    } else {
      files.push_back({input});  // Files, and FIFOs such as <(command) named explicitly.
    }
  }
  return files;
}

// ---- the build directory ----

namespace {

Status MakeDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) return ErrnoStatus("create directory", path, errno);
  return Status::Ok();
}

}  // namespace

CorpusBuilder::CorpusBuilder(std::string dir, const ChunkerParams& params, ChunkFilter keep,
                             const CorpusReader* parent, const CorpusKeys* keys)
    : dir_(std::move(dir)),
      storage_(dir_),
      params_(params),
      keep_(std::move(keep)),
      parent_(parent),
      keys_(keys) {}

Status CorpusBuilder::Start() {
  RETURN_IF_ERROR(MakeDirectory(dir_ + "/" + kPackDirName));
  ASSIGN_OR_RETURN(pack_, PackWriter::Create(dir_ + "/" + OwnSegmentFile(), OwnSegmentBase(),
                                             keys_, OwnSegmentNumber()));
  ASSIGN_OR_RETURN(index_, ChunkIndexWriter::Create(dir_ + "/" + kIndexDirName,
                                                    keys_ ? &keys_->index_key() : nullptr));
  return Status::Ok();
}

Status CorpusBuilder::AddInput(const CorpusInput& input) {
  ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenSource(input.path));
  ChunkReader reader(params_, *source, kInputWindowBytes);
  ChunkView chunk;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&chunk));
    if (!more) return Status::Ok();
    RETURN_IF_ERROR(AddChunk(chunk.bytes));
    if (progress_ != nullptr && input_bytes_ >= next_progress_) ReportProgress();
  }
}

void CorpusBuilder::ReportProgress() {
  // As often as the codec reports a block of the default size.
  constexpr uint64_t kProgressInterval = 4u << 20;
  if (progress_ == nullptr) return;
  next_progress_ = input_bytes_ + kProgressInterval;
  Progress progress;
  progress.input_bytes = input_bytes_;
  progress.output_bytes = pack_->size();
  progress_->OnProgress(progress);
}

Status CorpusBuilder::Finish() {
  RETURN_IF_ERROR(pack_->Finish());
  ASSIGN_OR_RETURN(IndexSummary index, index_->Finish());
  index_.reset();
  if (index.entries != unique_chunks_) {
    return Status::Io("the chunk index holds " + std::to_string(index.entries) + " entries but " +
                      std::to_string(unique_chunks_) +
                      " chunks were stored: the build is broken; please report this");
  }
  RETURN_IF_ERROR(SyncDirectory(dir_ + "/" + kPackDirName));
  RETURN_IF_ERROR(SyncDirectory(dir_ + "/" + kIndexDirName));
  ASSIGN_OR_RETURN(std::optional<FineIndexFile> fine, WriteOwnFineIndex());
  ASSIGN_OR_RETURN(PieceTableFile pieces, WriteOwnPieceTable());
  CorpusInfo info;
  info.id = NewCorpusId();
  info.created = NowRfc3339();
  info.builder = std::string("reducto ") + REDUCTO_VERSION;
  info.chunking = params_;
  if (keys_ != nullptr) info.encryption = keys_->pack_cipher();
  if (parent_ != nullptr) InheritSegments(parent_->info(), &info);
  info.segments.push_back(
      {OwnSegmentFile(), OwnSegmentBase(), pack_->size(), pack_->digest(), std::move(fine),
       std::move(pieces)});
  info.input_bytes = input_bytes_;
  info.chunk_count = chunk_count_;
  info.unique_chunks = unique_chunks_;
  info.index_entries = index.entries;
  info.index_digest = index.digest;
  std::string manifest = SerializeManifest(info);
  return storage_.Publish(kManifestFileName, {reinterpret_cast<const uint8_t*>(manifest.data()),
                                              manifest.size()});
}

// The fine index of the own segment, read back from the file just written (plain
// corpora only: the fine index would show which windows an encrypted pack holds).
Result<std::optional<FineIndexFile>> CorpusBuilder::WriteOwnFineIndex() {
  if (keys_ != nullptr || !fine_index_) return std::optional<FineIndexFile>();
  ASSIGN_OR_RETURN(std::unique_ptr<StorageFile> pack,
                   storage_.Open(OwnSegmentFile(), FileAccess::kView));
  std::optional<std::span<const uint8_t>> bytes = pack->view();
  if (!bytes) return Status::Io("cannot map " + storage_.PathOf(OwnSegmentFile()));
  RETURN_IF_ERROR(MakeDirectory(dir_ + "/" + kFineDirName));
  // The pack is read once, in order; its pages are given back as it goes, so that a
  // pack larger than memory is indexed in bounded memory.
  ASSIGN_OR_RETURN(FineIndexFile fine,
                   WriteFineIndex(*bytes, storage_, FineFileName(OwnSegmentNumber()),
                                  kFineDefaultStride, kFineDefaultMaxBytes,
                                  [&pack] { pack->DropResidentPages(); }));
  RETURN_IF_ERROR(SyncDirectory(dir_ + "/" + kFineDirName));
  if (fine.stride == 0) return std::optional<FineIndexFile>();
  return std::optional<FineIndexFile>(std::move(fine));
}

// The piece table of the own segment file as stored (ciphertext for an encrypted
// corpus: a receiver verifies the bytes it fetched before it decrypts them). Written
// for every segment, whatever the fine index setting.
Result<PieceTableFile> CorpusBuilder::WriteOwnPieceTable() {
  ASSIGN_OR_RETURN(std::unique_ptr<StorageFile> pack,
                   storage_.Open(OwnSegmentFile(), FileAccess::kView));
  std::optional<std::span<const uint8_t>> bytes = pack->view();
  if (!bytes) return Status::Io("cannot map " + storage_.PathOf(OwnSegmentFile()));
  RETURN_IF_ERROR(MakeDirectory(dir_ + "/" + kPiecesDirName));
  const std::string table =
      SerializePieceTable(ComputePieceTable(*bytes, kDefaultPieceSize));
  std::span<const uint8_t> file(reinterpret_cast<const uint8_t*>(table.data()), table.size());
  const std::string name = PieceTableFileName(OwnSegmentNumber());
  RETURN_IF_ERROR(storage_.Publish(name, file));
  RETURN_IF_ERROR(SyncDirectory(dir_ + "/" + kPiecesDirName));
  return PieceTableFile{name, file.size(), Blake3(file), kDefaultPieceSize};
}

// The own segment is numbered by its place in the address space: pack/000000.seg for
// a root, pack/000001.seg for a first version, and so on.
std::string CorpusBuilder::OwnSegmentFile() const {
  return SegmentFileName(OwnSegmentNumber());
}

uint32_t CorpusBuilder::OwnSegmentNumber() const {
  return static_cast<uint32_t>(parent_ == nullptr ? 0 : parent_->info().segments.size());
}

uint64_t CorpusBuilder::OwnSegmentBase() const {
  return parent_ == nullptr ? 0 : parent_->size();
}

// A version's manifest: the parent's id and digest, and the parent's segments, each
// naming the corpus whose directory holds it.
void CorpusBuilder::InheritSegments(const CorpusInfo& parent, CorpusInfo* info) {
  info->parent_id = parent.id;
  info->parent_manifest_digest = parent.manifest_digest;
  info->segments = parent.segments;
  info->segment_owners = parent.segment_owners;
  info->segment_owners.resize(parent.segments.size(), parent.id);
}

Status CorpusBuilder::AddChunk(std::span<const uint8_t> bytes) {
  ++chunk_count_;
  input_bytes_ += bytes.size();
  ChunkCandidate chunk;
  chunk.digest = Blake3(bytes);
  chunk.length = static_cast<uint32_t>(bytes.size());
  if (keep_) {
    ASSIGN_OR_RETURN(bool keep, keep_(chunk.digest, chunk.length));
    if (!keep) return Status::Ok();
  }
  uint64_t weak_key = WeakKey(bytes);
  candidates_.clear();
  if (parent_ != nullptr) RETURN_IF_ERROR(parent_->Lookup(weak_key, &candidates_));
  RETURN_IF_ERROR(index_->Lookup(weak_key, &candidates_));
  for (const ChunkCandidate& c : candidates_) {
    if (c.length == chunk.length && DigestEqual(c.digest, chunk.digest)) return Status::Ok();
  }
  RETURN_IF_ERROR(pack_->Append(bytes, &chunk.address));
  ++unique_chunks_;
  return index_->Add(weak_key, chunk);
}


namespace {

// Builds into a staging directory beside `out` and publishes it (BuildCorpus and
// UpdateCorpus differ only in what they check first and in `parent`).
Result<CorpusInfo> BuildAndPublish(const std::vector<std::string>& inputs, const std::string& out,
                                   const ChunkerParams& params, const CorpusReader* parent,
                                   bool overwrite, const std::vector<SecretKey>& sign_keys,
                                   const EnvelopeKey* encrypt_key, bool fine_index,
                                   ProgressObserver* progress) {
  ASSIGN_OR_RETURN(std::vector<CorpusInput> files, ExpandCorpusInputs(inputs, out));
  return BuildAndPublishCorpus(out, overwrite, params, sign_keys,
                               [&](CorpusBuilder& builder) -> Status {
                                 builder.set_progress(progress);
                                 for (const CorpusInput& file : files) {
                                   RETURN_IF_ERROR(builder.AddInput(file));
                                 }
                                 builder.ReportProgress();
                                 return Status::Ok();
                               },
                               parent, encrypt_key, fine_index);
}

// InvalidArgument when a chunking field that the caller set differs from the parent's.
Status CheckInheritedChunking(const CorpusInfo& parent, const CorpusUpdateOptions& options) {
  const ChunkerParams& p = parent.chunking;
  auto check = [&](const char* flag, std::optional<int64_t> wanted, int64_t actual) {
    if (!wanted || *wanted == actual) return Status::Ok();
    return Status::InvalidArgument(
        std::string(flag) + " " + std::to_string(*wanted) + " conflicts with the chunking of " +
        parent.path + " (" + flag + " " + std::to_string(actual) +
        "): a new version always chunks like its parent, so that the parent's chunks are found "
        "again; drop " + flag + " (or build an unrelated corpus with `reducto corpus build`)");
  };
  auto wide = [](const auto& v) -> std::optional<int64_t> {
    return v ? std::optional<int64_t>(*v) : std::nullopt;
  };
  RETURN_IF_ERROR(check("--avg", wide(options.avg_size), p.avg_size));
  RETURN_IF_ERROR(check("--min", wide(options.min_size), p.min_size));
  RETURN_IF_ERROR(check("--max", wide(options.max_size), p.max_size));
  return check("--normalization", wide(options.normalization), p.normalization);
}

// The version must sit beside its parent (readers look for a parent there), and an
// overwrite must not replace the parent or one of its ancestors.
Status CheckVersionDestination(const CorpusReader& parent, const std::string& out) {
  const std::string parent_store = StoreOf(parent.info().path);
  if (!SameDirectory(StoreOf(out), parent_store)) {
    return Status::InvalidArgument(
        "the new version " + out + " must be in the same directory as its parent " +
        parent.info().path + " (readers find a parent beside its versions): pass -o " +
        parent_store + "/NAME, or copy the parent next to " + out);
  }
  ASSIGN_OR_RETURN(std::vector<CorpusInfo> chain, ReadCorpusChain(parent.info().path));
  for (const CorpusInfo& member : chain) {
    if (SameDirectory(out, member.path)) {
      return Status::InvalidArgument(out + " is corpus " + member.id +
                                     ", which the new version builds on: choose another -o");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<CorpusInfo> BuildAndPublishCorpus(const std::string& out, bool overwrite,
                                         const ChunkerParams& params,
                                         const std::vector<SecretKey>& sign_keys,
                                         const std::function<Status(CorpusBuilder&)>& fill,
                                         const CorpusReader* parent,
                                         const EnvelopeKey* encrypt_key, bool fine_index) {
  ASSIGN_OR_RETURN(CorpusStaging staging, CorpusStaging::Create(out, overwrite));
  std::optional<CorpusKeys> keys;
  if (encrypt_key != nullptr) {
    ASSIGN_OR_RETURN(keys, CorpusKeys::Create(staging.dir() + "/" + kDataKeyFileName, *encrypt_key));
  }
  {
    CorpusBuilder builder(staging.dir(), params, nullptr, parent, keys ? &*keys : nullptr);
    builder.set_fine_index(fine_index);
    RETURN_IF_ERROR(builder.Start());
    RETURN_IF_ERROR(fill(builder));
    RETURN_IF_ERROR(builder.Finish());
  }
  return staging.Publish(sign_keys);
}

Result<CorpusInfo> BuildCorpus(const std::vector<std::string>& inputs, const std::string& out_dir,
                               const CorpusBuildOptions& options) {
  RETURN_IF_ERROR(ValidateCorpusChunking(options.chunking));
  ASSIGN_OR_RETURN(std::string out, CheckCorpusDestination(out_dir, options.overwrite));
  ASSIGN_OR_RETURN(std::vector<SecretKey> sign_keys, ReadSigningKeys(options.sign_keys));
  if (options.encrypt_key != nullptr && options.encrypt_key->empty()) {
    return Status::InvalidArgument("encrypting a corpus needs a key file or a passphrase");
  }
  return BuildAndPublish(inputs, out, options.chunking, nullptr, options.overwrite, sign_keys,
                         options.encrypt_key, options.fine_index, options.progress);
}

Result<CorpusInfo> UpdateCorpus(const std::string& parent_dir,
                                const std::vector<std::string>& inputs, const std::string& out_dir,
                                const CorpusUpdateOptions& options) {
  ASSIGN_OR_RETURN(CorpusInfo parent_info, ReadCorpusInfo(parent_dir));
  RETURN_IF_ERROR(RefuseEncrypted(parent_info, "make a new version of"));
  ASSIGN_OR_RETURN(std::unique_ptr<CorpusReader> parent, CorpusReader::Open(parent_dir));
  RETURN_IF_ERROR(CheckInheritedChunking(parent->info(), options));
  RETURN_IF_ERROR(ValidateCorpusChunking(parent->info().chunking));
  ASSIGN_OR_RETURN(std::string out, CheckCorpusDestination(out_dir, options.overwrite));
  RETURN_IF_ERROR(CheckVersionDestination(*parent, out));
  ASSIGN_OR_RETURN(std::vector<SecretKey> sign_keys, ReadSigningKeys(options.sign_keys));
  if (!sign_keys.empty()) {
    // The signature will vouch, through the pinned digests, for the ancestors' bytes.
    Status verified = VerifyCorpus(parent_dir);
    if (!verified.ok()) {
      return verified.WithContext("refusing to sign a new version of a damaged corpus");
    }
  }
  return BuildAndPublish(inputs, out, parent->info().chunking, parent.get(), options.overwrite,
                         sign_keys, nullptr, options.fine_index, options.progress);
}

}  // namespace reducto
