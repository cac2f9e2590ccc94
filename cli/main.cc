// reducto: the command line. Uses only the public API in include/reducto/.
//
// Exit status: 0 success, 1 the operation failed (the message says why and what to
// do), 2 the command line was wrong, 128+N killed by signal N (no partial output).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "reducto/chunker.h"
#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/digest.h"
#include "reducto/io.h"
#include "settings.h"

namespace reducto::cli {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Fail(const Status& status) {
  std::fprintf(stderr, "reducto: %s\n", status.ToString().c_str());
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

struct GlobalFlags {
  std::optional<std::string> config;
  bool quiet = false;
};

struct ChunkingFlags {
  std::optional<std::string> avg, min, max;
  std::optional<int> normalization;

  void Register(CLI::App* cmd) {
    cmd->add_option("--avg", avg, "average chunk size (e.g. 8K)");
    cmd->add_option("--min", min, "minimum chunk size (default avg/2)");
    cmd->add_option("--max", max, "maximum chunk size (default avg*2)");
    cmd->add_option("--normalization", normalization, "FastCDC normalization level 0..3 (default 1)");
  }

  // Flags over settings (environment, file) over defaults.
  Result<ChunkerParams> Resolve(const Settings& settings) const {
    uint64_t avg_size = settings.avg_size;
    if (avg) {
      ASSIGN_OR_RETURN(avg_size, ParseSize(*avg));
    }
    std::optional<uint64_t> min_size = settings.min_size, max_size = settings.max_size;
    if (min) {
      ASSIGN_OR_RETURN(min_size, ParseSize(*min));
    }
    if (max) {
      ASSIGN_OR_RETURN(max_size, ParseSize(*max));
    }
    constexpr uint64_t kLimit = uint64_t{1} << 32;
    if (avg_size >= kLimit || min_size.value_or(0) >= kLimit || max_size.value_or(0) >= kLimit) {
      return Status::InvalidArgument("chunk sizes must be at most 16M");
    }
    ChunkerParams params = ChunkerParams::ForAverage(static_cast<uint32_t>(avg_size),
                                                     normalization.value_or(settings.normalization));
    if (min_size) params.min_size = static_cast<uint32_t>(*min_size);
    if (max_size) params.max_size = static_cast<uint32_t>(*max_size);
    RETURN_IF_ERROR(params.Validate());
    return params;
  }
};

std::string Ratio(uint64_t original, uint64_t compressed) {
  char buf[32];
  if (compressed == 0) return "n/a";
  std::snprintf(buf, sizeof buf, "%.2fx", static_cast<double>(original) / static_cast<double>(compressed));
  return buf;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- reducto chunk ----

struct ChunkCommand {
  ChunkingFlags chunking;
  std::string input = "-";
  bool json = false;

  int Run(const Settings& settings) const {
    auto params = chunking.Resolve(settings);
    if (!params.ok()) return Fail(params.status());
    auto source = OpenSource(input);
    if (!source.ok()) return Fail(source.status());
    Status status = ChunkStream(*params, **source, [&](uint64_t offset, std::span<const uint8_t> bytes) {
      std::string hex = ToHex(Blake3(bytes));
      if (json) {
        std::printf("{\"offset\":%llu,\"length\":%zu,\"blake3\":\"%s\"}\n",
                    static_cast<unsigned long long>(offset), bytes.size(), hex.c_str());
      } else {
        std::printf("%llu\t%zu\t%s\n", static_cast<unsigned long long>(offset), bytes.size(), hex.c_str());
      }
      if (std::ferror(stdout)) return Status::Io("cannot write to stdout");
      return Status::Ok();
    });
    if (status.ok() && std::fflush(stdout) != 0) status = Status::Io("cannot write to stdout");
    return status.ok() ? 0 : Fail(status);
  }
};

// ---- reducto corpus build / info ----

struct CorpusBuildCommand {
  ChunkingFlags chunking;
  std::string output;
  std::vector<std::string> inputs;
  bool force = false;

  int Run(const Settings& settings, const GlobalFlags& global) const {
    CorpusBuildOptions options;
    auto params = chunking.Resolve(settings);
    if (!params.ok()) return Fail(params.status());
    options.chunking = *params;
    options.overwrite = force;
    auto start = std::chrono::steady_clock::now();
    auto info = BuildCorpus(inputs, output, options);
    if (!info.ok()) return Fail(info.status());
    if (!global.quiet) {
      std::fprintf(stderr, "corpus %s built at %s in %.1f s: %s of input, %llu chunks, %llu unique, pack %s\n",
                   info->id.c_str(), output.c_str(), SecondsSince(start), HumanBytes(info->input_bytes).c_str(),
                   static_cast<unsigned long long>(info->chunk_count),
                   static_cast<unsigned long long>(info->unique_chunks), HumanBytes(info->pack_bytes()).c_str());
    }
    return 0;
  }
};

struct CorpusInfoCommand {
  std::string dir;
  bool json = false;

  int Run() const {
    auto info = ReadCorpusInfo(dir);
    if (!info.ok()) return Fail(info.status());
    std::string text = json ? info->ToJson() : info->ToText();
    std::fputs(text.c_str(), stdout);
    if (!text.empty() && text.back() != '\n') std::fputc('\n', stdout);
    return std::fflush(stdout) == 0 && !std::ferror(stdout) ? 0 : Fail(Status::Io("cannot write to stdout"));
  }
};

// ---- reducto compress / decompress ----

// Opens the output, refusing to put binary data on a terminal.
Result<std::unique_ptr<ByteSink>> OpenOutput(const std::string& path, bool force) {
  if (path == "-" && ::isatty(STDOUT_FILENO) && !force) {
    return Status::InvalidArgument("refusing to write binary data to a terminal: pass -o FILE or redirect stdout");
  }
  return OpenSink(path, force);
}

struct CompressCommand {
  std::optional<std::string> corpus;
  std::string input = "-";
  std::string output = "-";
  std::optional<int> level;
  std::optional<std::string> block_size;
  bool standalone = false;
  bool no_fallback = false;
  bool force = false;

  int Run(const Settings& settings, const GlobalFlags& global) const {
    CompressOptions options;
    options.level = level.value_or(settings.level);
    options.standalone = standalone;
    options.fallback_to_standalone = !no_fallback;
    uint64_t block = settings.block_size;
    if (block_size) {
      auto parsed = ParseSize(*block_size);
      if (!parsed.ok()) return Fail(parsed.status());
      block = *parsed;
    }
    if (block > UINT32_MAX) return Fail(Status::InvalidArgument("--block-size must be at most 64M"));
    options.block_size = static_cast<uint32_t>(block);
    std::string corpus_dir = corpus.value_or(settings.corpus.value_or(""));
    if (corpus_dir.empty() && !standalone) {
      return Fail(Status::InvalidArgument(
          "compress needs a corpus: pass -c DIR (or set `corpus` in the config file or REDUCTO_CORPUS), "
          "or pass --standalone for a container that needs none"));
    }
    auto source = OpenSource(input);
    if (!source.ok()) return Fail(source.status());
    auto sink = OpenOutput(output, force);
    if (!sink.ok()) return Fail(sink.status());
    auto start = std::chrono::steady_clock::now();
    auto stats = Compress(standalone ? "" : corpus_dir, **source, **sink, options);
    if (!stats.ok()) return Fail(stats.status());
    if (Status s = (*sink)->Commit(); !s.ok()) return Fail(s);
    if (stats->fell_back) {
      std::fprintf(stderr, "reducto: warning: corpus %s not found; wrote a standalone container "
                           "(literals only). Pass --no-fallback to make this an error.\n", corpus_dir.c_str());
    }
    if (!global.quiet) PrintSummary(*stats, SecondsSince(start));
    return 0;
  }

  void PrintSummary(const CompressStats& stats, double seconds) const {
    double copied = stats.input_bytes ? 100.0 * static_cast<double>(stats.copy_bytes) / static_cast<double>(stats.input_bytes) : 0;
    std::fprintf(stderr, "%s: %s -> %s (%s), %.1f%% copied from %s, %.2f s\n", input == "-" ? "stdin" : input.c_str(),
                 HumanBytes(stats.input_bytes).c_str(), HumanBytes(stats.output_bytes).c_str(),
                 Ratio(stats.input_bytes, stats.output_bytes).c_str(), copied,
                 stats.standalone ? "no corpus (standalone)" : ("corpus " + stats.corpus_id).c_str(), seconds);
  }
};

struct DecompressCommand {
  std::optional<std::string> corpus;
  std::string input = "-";
  std::string output = "-";
  bool force = false;

  int Run(const Settings& settings, const GlobalFlags& global) const {
    auto source = OpenSource(input);
    if (!source.ok()) return Fail(source.status());
    auto sink = OpenOutput(output, force);
    if (!sink.ok()) return Fail(sink.status());
    auto start = std::chrono::steady_clock::now();
    auto stats = Decompress(corpus.value_or(settings.corpus.value_or("")), **source, **sink);
    if (!stats.ok()) return Fail(stats.status());
    if (Status s = (*sink)->Commit(); !s.ok()) return Fail(s);
    if (!global.quiet) {
      std::fprintf(stderr, "%s: %s -> %s, %llu blocks verified, %.2f s\n", input == "-" ? "stdin" : input.c_str(),
                   HumanBytes(stats->input_bytes).c_str(), HumanBytes(stats->output_bytes).c_str(),
                   static_cast<unsigned long long>(stats->blocks), SecondsSince(start));
    }
    return 0;
  }
};

int Main(int argc, char** argv) {
  InstallInterruptCleanup();
  CLI::App app{"reducto: compress files against a shared reference corpus, send only what is new"};
  app.set_version_flag("--version", "reducto " REDUCTO_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // Global flags may follow the subcommand.
  GlobalFlags global;
  app.add_option("--config", global.config, "TOML configuration file (default $XDG_CONFIG_HOME/reducto/config.toml)");
  app.add_flag("-q,--quiet", global.quiet, "print nothing but errors");

  ChunkCommand chunk;
  auto* chunk_cmd = app.add_subcommand("chunk", "print the FastCDC chunks of a file: offset, length, BLAKE3");
  chunk.chunking.Register(chunk_cmd);
  chunk_cmd->add_option("input", chunk.input, "file, or - for stdin")->required();
  chunk_cmd->add_flag("--json", chunk.json, "one JSON object per line");

  auto* corpus_cmd = app.add_subcommand("corpus", "build and inspect corpora");
  corpus_cmd->require_subcommand(1);
  CorpusBuildCommand build;
  auto* build_cmd = corpus_cmd->add_subcommand("build", "build a corpus from files, directories or stdin");
  build_cmd->add_option("-o,--output", build.output, "corpus directory to create")->required();
  build_cmd->add_option("inputs", build.inputs, "files, directories (recursive) or - for stdin")->required();
  build_cmd->add_flag("-f,--force", build.force, "replace an existing corpus at the output path");
  build.chunking.Register(build_cmd);
  CorpusInfoCommand info;
  auto* info_cmd = corpus_cmd->add_subcommand("info", "print a corpus manifest");
  info_cmd->add_option("dir", info.dir, "corpus directory")->required();
  info_cmd->add_flag("--json", info.json, "print JSON");

  CompressCommand compress;
  auto* compress_cmd = app.add_subcommand("compress", "compress a file or stdin against a corpus");
  compress_cmd->add_option("-c,--corpus", compress.corpus, "corpus directory");
  compress_cmd->add_option("input", compress.input, "file, or - for stdin (default)");
  compress_cmd->add_option("-o,--output", compress.output, "output file, or - for stdout (default)");
  compress_cmd->add_option("-l,--level", compress.level, "zstd level 1..22 (default 3)");
  compress_cmd->add_option("--block-size", compress.block_size, "output bytes per container block (default 4M)");
  compress_cmd->add_flag("--standalone", compress.standalone, "literals only: decodable without any corpus");
  compress_cmd->add_flag("--no-fallback", compress.no_fallback, "fail instead of writing a standalone container when the corpus is missing");
  compress_cmd->add_flag("-f,--force", compress.force, "overwrite the output file");

  DecompressCommand decompress;
  auto* decompress_cmd = app.add_subcommand("decompress", "rebuild and verify the original from a container");
  decompress_cmd->add_option("-c,--corpus", decompress.corpus, "corpus directory (not needed for standalone containers)");
  decompress_cmd->add_option("input", decompress.input, "container file, or - for stdin (default)");
  decompress_cmd->add_option("-o,--output", decompress.output, "output file, or - for stdout (default)");
  decompress_cmd->add_flag("-f,--force", decompress.force, "overwrite the output file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  auto settings = LoadSettings(global.config);
  if (!settings.ok()) return Fail(settings.status());

  if (chunk_cmd->parsed()) return chunk.Run(*settings);
  if (build_cmd->parsed()) return build.Run(*settings, global);
  if (info_cmd->parsed()) return info.Run();
  if (compress_cmd->parsed()) return compress.Run(*settings, global);
  if (decompress_cmd->parsed()) return decompress.Run(*settings, global);
  return kExitUsage;
}

}  // namespace
}  // namespace reducto::cli

int main(int argc, char** argv) { return reducto::cli::Main(argc, argv); }
