// reducto corpus update --from OLD -o NEW INPUT...: a new version of a corpus that
// stores only what OLD lacks (docs/corpus.md, "Versions").
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "reducto/corpus.h"
#include "reducto/signing.h"
#include "session.h"
#include "progress.h"

namespace reducto::cli {
namespace {

// Bytes of the regular files under `dir`: what copying the directory transfers.
uint64_t DirectoryBytes(const std::string& dir) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      uint64_t size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

// --avg, --min, --max, --normalization of corpus update: not settings (the chunking is
// the parent's) but what the caller expects it to be.
struct ChunkingClaims {
  std::optional<std::string> avg, min, max;
  std::optional<int> normalization;
};

// The claims, for CorpusUpdateOptions to check against the parent.
Status ReadChunkingClaims(const ChunkingClaims& flags, CorpusUpdateOptions* options) {
  auto size = [](const std::optional<std::string>& text,
                 std::optional<uint32_t>* out) -> Status {
    if (!text) return Status::Ok();
    ASSIGN_OR_RETURN(uint64_t value, ParseSize(*text));
    if (value >= (uint64_t{1} << 32)) return Status::InvalidArgument("chunk sizes must be at most 16M");
    *out = static_cast<uint32_t>(value);
    return Status::Ok();
  };
  RETURN_IF_ERROR(size(flags.avg, &options->avg_size));
  RETURN_IF_ERROR(size(flags.min, &options->min_size));
  RETURN_IF_ERROR(size(flags.max, &options->max_size));
  options->normalization = flags.normalization;
  return Status::Ok();
}

struct CorpusUpdateCommand {
  std::string from;
  std::string output;
  std::vector<std::string> inputs;
  std::vector<std::string> sign_keys;
  ChunkingClaims chunking;
  CorpusUseFlags origin;
  bool force = false;
  bool no_fine_index = false;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                     OpenSession(settings, SessionUse{&origin}));
    CorpusUpdateOptions options;
    RETURN_IF_ERROR(ReadChunkingClaims(chunking, &options));
    options.overwrite = force;
    options.sign_keys = sign_keys;
    options.fine_index = !no_fine_index;
    auto start = std::chrono::steady_clock::now();
    TerminalProgress progress(output, inputs, ctx.NoProgressLine());
    ProgressCounter counted(progress.observer());
    options.progress = counted.observer();
    auto info = session->UpdateCorpus(from, inputs, output, options);
    progress.Finish();
    if (!info.ok()) return info.status();
    if (ctx.quiet) return Status::Ok();
    uint64_t own = info->own_pack_bytes();
    uint64_t directory = DirectoryBytes(info->path);
    std::fprintf(stderr,
                 "corpus %s built at %s in %.1f s: a new version of %s (%s)\n"
                 "input %s in %llu chunks, %llu new\n"
                 "new bytes: %s (%llu bytes) in the new pack segment, %s (%llu bytes) with its indexes "
                 "and manifest: what a receiver that has %s must fetch\n"
                 "address space: %s (%llu bytes) in %zu segments, of which the parent's %s\n",
                 info->id.c_str(), info->path.c_str(), SecondsSince(start),
                 info->parent_id.value_or("?").c_str(), from.c_str(),
                 HumanBytes(info->input_bytes).c_str(),
                 static_cast<unsigned long long>(info->chunk_count),
                 static_cast<unsigned long long>(info->unique_chunks), HumanBytes(own).c_str(),
                 static_cast<unsigned long long>(own), HumanBytes(directory).c_str(),
                 static_cast<unsigned long long>(directory), from.c_str(),
                 HumanBytes(info->pack_bytes()).c_str(),
                 static_cast<unsigned long long>(info->pack_bytes()), info->segments.size(),
                 HumanBytes(info->pack_bytes() - own).c_str());
    ReportSigners(*info, sign_keys);
    return Status::Ok();
  }
};

}  // namespace

void RegisterCorpusUpdateCommand(CLI::App* corpus, Context& ctx) {
  static CorpusUpdateCommand update;
  auto* cmd = AddCommand(corpus, ctx, update, "update",
                         "make a new version of a corpus that stores only what it lacks");
  cmd->add_option("--from", update.from, "the corpus to make a new version of (the parent)")
      ->required();
  cmd->add_option("-o,--output", update.output,
                  "corpus directory to create, in the same directory as the parent")
      ->required();
  cmd->add_option("inputs", update.inputs, "files, directories (recursive) or - for stdin")
      ->required();
  cmd->add_flag("-f,--force", update.force, "replace an existing corpus at the output path");
  RegisterNoFineIndexFlag(cmd, &update.no_fine_index);
  update.origin.Register(cmd);
  RegisterSignKeyOption(cmd, &update.sign_keys);
  // The chunking is the parent's; these only state what the caller expects.
  const char* inherited = "(inherited from the parent; when given, must equal the parent's)";
  cmd->add_option("--avg", update.chunking.avg, std::string("average chunk size ") + inherited);
  cmd->add_option("--min", update.chunking.min, std::string("minimum chunk size ") + inherited);
  cmd->add_option("--max", update.chunking.max, std::string("maximum chunk size ") + inherited);
  cmd->add_option("--normalization", update.chunking.normalization,
                  std::string("FastCDC normalization level ") + inherited);
}

}  // namespace reducto::cli
