// BuildCorpus: chunk the inputs, store each distinct chunk once, index it, write the
// manifest last, and publish the directory, signed, with one rename (corpus_publisher.h).
#include "corpus/corpus_builder.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chunking/chunk_reader.h"
#include "corpus/chunk_index.h"
#include "corpus/corpus_format.h"
#include "corpus/corpus_publisher.h"
#include "corpus/manifest.h"
#include "corpus/pack_writer.h"
#include "corpus/signatures.h"
#include "hashing/weak_key.h"
#include "reducto/corpus.h"
#include "reducto/io.h"
#include "util/file.h"

namespace reducto {
namespace {

namespace fs = std::filesystem;

// Read-ahead per input. Small, because the reader's buffer is allocated (and zeroed)
// per input and a directory may hold many small files; 1 MiB reads are already cheap.
constexpr size_t kInputWindowBytes = 1u << 20;

Status ValidateChunking(const ChunkerParams& params) {
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

struct Input {
  std::string path;  // "-" for stdin.
};

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
Status ListDirectory(const std::string& dir, const FileId& exclude, std::vector<Input>* out) {
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

Result<std::vector<Input>> ExpandInputs(const std::vector<std::string>& inputs,
                                        const std::string& out_dir) {
  if (inputs.empty()) {
    return Status::InvalidArgument(
        "no inputs to build a corpus from: pass files, directories or - for stdin");
  }
  FileId exclude = IdentifyDirectory(out_dir);
  std::vector<Input> files;
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

Status MakeDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) return ErrnoStatus("create directory", path, errno);
  return Status::Ok();
}

}  // namespace

CorpusBuilder::CorpusBuilder(std::string dir, const ChunkerParams& params)
    : dir_(std::move(dir)), params_(params) {}

CorpusBuilder::~CorpusBuilder() = default;

Status CorpusBuilder::Start() {
  RETURN_IF_ERROR(MakeDirectory(dir_ + "/" + kPackDirName));
  ASSIGN_OR_RETURN(pack_, PackWriter::Create(dir_ + "/" + SegmentFileName(0), 0));
  ASSIGN_OR_RETURN(index_, ChunkIndexWriter::Create(dir_ + "/" + kIndexDirName));
  return Status::Ok();
}

Status CorpusBuilder::AddInput(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenSource(path));
  ChunkReader reader(params_, *source, kInputWindowBytes);
  ChunkView chunk;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&chunk));
    if (!more) return Status::Ok();
    RETURN_IF_ERROR(AddChunk(chunk.bytes));
  }
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
  CorpusInfo info;
  info.id = NewCorpusId();
  info.created = NowRfc3339();
  info.builder = std::string("reducto ") + REDUCTO_VERSION;
  info.chunking = params_;
  info.segments.push_back({SegmentFileName(0), 0, pack_->size(), pack_->digest()});
  info.input_bytes = input_bytes_;
  info.chunk_count = chunk_count_;
  info.unique_chunks = unique_chunks_;
  info.index_entries = index.entries;
  info.index_digest = index.digest;
  std::string manifest = SerializeManifest(info);
  return WriteFileAtomic(dir_ + "/" + kManifestFileName,
                         {reinterpret_cast<const uint8_t*>(manifest.data()), manifest.size()});
}

Status CorpusBuilder::AddChunk(std::span<const uint8_t> bytes) {
  ++chunk_count_;
  input_bytes_ += bytes.size();
  uint64_t weak_key = WeakKey(bytes);
  ChunkCandidate chunk;
  chunk.digest = Blake3(bytes);
  chunk.length = static_cast<uint32_t>(bytes.size());
  candidates_.clear();
  RETURN_IF_ERROR(index_->Lookup(weak_key, &candidates_));
  for (const ChunkCandidate& c : candidates_) {
    if (c.length == chunk.length && DigestEqual(c.digest, chunk.digest)) return Status::Ok();
  }
  RETURN_IF_ERROR(pack_->Append(bytes, &chunk.address));
  ++unique_chunks_;
  return index_->Add(weak_key, chunk);
}

Result<CorpusInfo> BuildAndPublishCorpus(const std::string& out, bool overwrite,
                                         const ChunkerParams& params,
                                         const std::vector<SecretKey>& sign_keys,
                                         const std::function<Status(CorpusBuilder&)>& fill) {
  ASSIGN_OR_RETURN(CorpusStaging staging, CorpusStaging::Create(out, overwrite));
  {
    CorpusBuilder builder(staging.dir(), params);
    RETURN_IF_ERROR(builder.Start());
    RETURN_IF_ERROR(fill(builder));
    RETURN_IF_ERROR(builder.Finish());
  }
  return staging.Publish(sign_keys);
}

Result<CorpusInfo> BuildCorpus(const std::vector<std::string>& inputs, const std::string& out_dir,
                               const CorpusBuildOptions& options) {
  RETURN_IF_ERROR(ValidateChunking(options.chunking));
  ASSIGN_OR_RETURN(std::string out, CheckCorpusDestination(out_dir, options.overwrite));
  ASSIGN_OR_RETURN(std::vector<SecretKey> sign_keys, ReadSigningKeys(options.sign_keys));
  ASSIGN_OR_RETURN(std::vector<Input> files, ExpandInputs(inputs, out));
  return BuildAndPublishCorpus(out, options.overwrite, options.chunking, sign_keys,
                               [&](CorpusBuilder& builder) -> Status {
                                 for (const Input& file : files) {
                                   RETURN_IF_ERROR(builder.AddInput(file.path));
                                 }
                                 return Status::Ok();
                               });
}

}  // namespace reducto
