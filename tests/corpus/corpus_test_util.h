// Helpers for the corpus tests: an independent model of what a corpus build must
// produce, and snapshots of directory trees.
#ifndef REDUCTO_TESTS_CORPUS_CORPUS_TEST_UTIL_H_
#define REDUCTO_TESTS_CORPUS_CORPUS_TEST_UTIL_H_

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "chunking/chunk_reader.h"
#include "reducto/chunker.h"
#include "reducto/digest.h"
#include "reducto/io.h"
#include "test_support.h"

namespace reducto::testing {

// The parameters the corpus tests build with: small chunks, many of them.
inline ChunkerParams TestParams() { return ChunkerParams::ForAverage(4096); }

struct ModelChunk {
  std::vector<uint8_t> bytes;
  Digest digest{};
  uint64_t address = 0;  // Where the model stored it (first occurrence).
};

// What BuildCorpus must produce from `inputs` (each chunked on its own): every chunk
// in input order, and the pack (distinct chunks, first-seen order).
struct CorpusModel {
  std::vector<ModelChunk> chunks;
  std::vector<uint8_t> pack;
  uint64_t unique_chunks = 0;
  uint64_t input_bytes = 0;
};

inline std::vector<std::vector<uint8_t>> ChunkAll(const ChunkerParams& params,
                                                  const std::vector<uint8_t>& data) {
  auto source = MemorySource(data);
  ChunkReader reader(params, *source);
  std::vector<std::vector<uint8_t>> out;
  ChunkView view;
  for (;;) {
    auto more = reader.Next(&view);
    if (!more.ok() || !*more) break;
    out.emplace_back(view.bytes.begin(), view.bytes.end());
  }
  return out;
}

inline CorpusModel ModelCorpus(const ChunkerParams& params,
                               const std::vector<std::vector<uint8_t>>& inputs) {
  CorpusModel model;
  std::map<Digest, uint64_t> stored;
  for (const auto& input : inputs) {
    model.input_bytes += input.size();
    for (auto& bytes : ChunkAll(params, input)) {
      ModelChunk chunk;
      chunk.digest = Blake3(bytes);
      auto [it, inserted] = stored.emplace(chunk.digest, model.pack.size());
      if (inserted) {
        model.pack.insert(model.pack.end(), bytes.begin(), bytes.end());
        ++model.unique_chunks;
      }
      chunk.address = it->second;
      chunk.bytes = std::move(bytes);
      model.chunks.push_back(std::move(chunk));
    }
  }
  return model;
}

// Every entry under `root`: relative path -> "type size mtime_ns content-digest".
inline std::map<std::string, std::string> SnapshotTree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    struct stat st;
    if (::lstat(entry.path().c_str(), &st) != 0) continue;
    std::string desc = std::to_string(st.st_mode) + " " + std::to_string(st.st_size) + " " +
                       std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode)) desc += " " + ToHex(Blake3(ReadFile(entry.path().string())));
    out[std::filesystem::relative(entry.path(), root).string()] = desc;
  }
  return out;
}

// Names in `dir` (not recursive), sorted.
inline std::set<std::string> ListNames(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

}  // namespace reducto::testing

#endif  // REDUCTO_TESTS_CORPUS_CORPUS_TEST_UTIL_H_
