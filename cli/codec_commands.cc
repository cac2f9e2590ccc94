// reducto compress | decompress
#include "command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "reducto/codec.h"
#include "reducto/corpus.h"
#include "reducto/io.h"
#include "encryption_flags.h"
#include "reducto/encryption.h"
#include "corpus_origin.h"
#include "usage_recording.h"

namespace reducto::cli {
namespace {

// Opens the output, refusing to put binary data on a terminal.
Result<std::unique_ptr<ByteSink>> OpenOutput(const std::string& path, bool force) {
  if (path == "-" && ::isatty(STDOUT_FILENO) && !force) {
    return Status::InvalidArgument("refusing to write binary data to a terminal: pass -o FILE or redirect stdout");
  }
  return OpenSink(path, force);
}

// --threads and --cache-size, shared by compress and decompress.
struct ResourceFlags {
  std::optional<int> threads;
  std::optional<std::string> cache_size;

  void Register(CLI::App* command) {
    command->add_option("-T,--threads", threads,
                        "threads (default: one per core; the output is the same for any count)")
        ->check(CLI::Range(0, kMaxThreads));
    command->add_option("--cache-size", cache_size,
                        "memory for the corpus index cache and mapped pack pages (default 128M; "
                        "capped to a quarter of the available memory)");
  }

  // Fills `threads` and `cache_size` of compress or decompress options.
  template <typename Options>
  Status Apply(const Settings& settings, Options* options) const {
    options->threads = threads.value_or(settings.threads);
    options->cache_size = settings.cache_size;
    if (cache_size) {
      ASSIGN_OR_RETURN(options->cache_size, ParseSize(*cache_size));
    }
    return Status::Ok();
  }
};

// Says when memory was too short for the corpus cache asked for, and what that cost:
// how often the mapped pack pages had to be dropped.
void ReportCache(uint64_t requested, uint64_t used, uint64_t drops) {
  if (used == 0 || used >= std::max<uint64_t>(requested, kDefaultCorpusCacheSize)) return;
  std::fprintf(stderr,
               "reducto: note: memory is short: the corpus cache was limited to %s (asked %s), and "
               "its mapped pages were dropped %llu times; free memory for more speed\n",
               HumanBytes(used).c_str(), HumanBytes(std::max<uint64_t>(requested, kDefaultCorpusCacheSize)).c_str(),
               static_cast<unsigned long long>(drops));
}

struct CompressCommand {
  std::optional<std::string> corpus;
  std::string input = "-";
  std::string output = "-";
  std::optional<int> level;
  std::string profile = "default";
  std::optional<std::string> block_size;
  bool standalone = false;
  std::optional<std::string> fallback;  // --fallback error|standalone.
  bool no_fallback = false;             // --fallback error, kept for old scripts.
  bool force = false;
  ResourceFlags resources;
  CorpusUseFlags origin;
  UsageFlags usage;
  EncryptionFlags encryption;
  EncryptionFlags corpus_key;

  int Run(Context& ctx) const {
    auto settings = ctx.LoadSettings();
    if (!settings.ok()) return Fail(settings.status());
    auto key = encryption.Load();
    if (!key.ok()) return Fail(key.status());
    auto unlock = corpus_key.Load();
    if (!unlock.ok()) return Fail(unlock.status());
    auto fall_back = FallBackToStandalone(*settings);
    if (!fall_back.ok()) return Fail(fall_back.status());
    CompressOptions options;
    // Without --corpus-key, the container's key unlocks an encrypted corpus too.
    options.corpus_key = unlock->empty() ? &*key : &*unlock;
    if (Status s = resources.Apply(*settings, &options); !s.ok()) return Fail(s);
    bool record_usage = !standalone && usage.Enabled(*settings);
    CorpusUsageRecorder recorder;
    options.level = level ? level : settings->level;
    auto parsed_profile = ParseProfile(profile);
    if (!parsed_profile.ok()) return Fail(parsed_profile.status());
    options.profile = *parsed_profile;
    options.standalone = standalone;
    options.fallback_to_standalone = *fall_back;
    uint64_t block = settings->block_size;
    if (block_size) {
      auto parsed = ParseSize(*block_size);
      if (!parsed.ok()) return Fail(parsed.status());
      block = *parsed;
    }
    if (block > UINT32_MAX) return Fail(Status::InvalidArgument("--block-size must be at most 64M"));
    options.block_size = static_cast<uint32_t>(block);
    std::string corpus_dir = corpus.value_or(settings->corpus.value_or(""));
    if (corpus_dir.empty() && !standalone) {
      return Fail(Status::InvalidArgument(
          "compress needs a corpus: pass -c DIR (or set `corpus` in the config file or REDUCTO_CORPUS), "
          "or pass --standalone for a container that needs none"));
    }
    if (!standalone) ctx.audit.corpus_dir = corpus_dir;
    ReportSettings(ctx, *settings, corpus_dir, options);
    if (Status s = origin.Apply(*settings, &options); !s.ok()) return Fail(s);
    if (record_usage) {
      recorder = MakeUsageRecorder(corpus_dir);
      options.use_observer = &recorder;
    }
    auto source = OpenSource(input);
    if (!source.ok()) return Fail(source.status());
    auto sink = OpenOutput(output, force);
    if (!sink.ok()) return Fail(sink.status());
    // Encrypted, the container goes through the envelope; its Commit() commits the file.
    std::unique_ptr<ByteSink> encrypted;
    if (!key->empty()) {
      auto wrapped = EncryptingSink(**sink, *key);
      if (!wrapped.ok()) return Fail(wrapped.status());
      encrypted = std::move(wrapped).value();
    }
    ByteSink& out = encrypted ? *encrypted : **sink;
    auto start = std::chrono::steady_clock::now();
    auto stats = Compress(standalone ? "" : corpus_dir, **source, out, options);
    if (!stats.ok()) return Fail(NameCorpusSource(stats.status(), *settings));
    if (Status s = out.Commit(); !s.ok()) return Fail(s);
    if (record_usage) RecordUsageOrWarn(recorder, corpus_dir, *stats);
    if (stats->fell_back) ReportFallBack(ctx, corpus_dir, *settings);
    if (!ctx.quiet) PrintSummary(*stats, SecondsSince(start));
    if (!ctx.quiet) ReportCache(options.cache_size, stats->cache_size, stats->cache_drops);
    return 0;
  }

  // --fallback, else --no-fallback, else the settings (`fallback`, REDUCTO_FALLBACK).
  Result<bool> FallBackToStandalone(const Settings& settings) const {
    if (fallback) return ParseFallback(*fallback, "--fallback");
    return no_fallback ? false : settings.fallback_standalone;
  }

  // Where the corpus directory came from: -c, the config file or the environment.
  std::string CorpusSource(const Settings& settings) const {
    return corpus ? "-c" : settings.corpus_source;
  }

  // A corpus that cannot be found: says where its path came from when -c did not give it.
  Status NameCorpusSource(const Status& status, const Settings& settings) const {
    if (status.code() != StatusCode::kNotFound || corpus || standalone) return status;
    return status.WithContext("the corpus directory of " + settings.corpus_source);
  }

  void ReportFallBack(Context& ctx, const std::string& corpus_dir, const Settings& settings) const {
    std::string what = "corpus " + corpus_dir + " (from " + CorpusSource(settings) +
                       ") not found: wrote a standalone container (fallback: standalone)";
    ctx.audit.outcome_note = "fell back to a standalone container: " + what;
    std::fprintf(stderr, "reducto: warning: %s (literals only; it decompresses without a "
                         "corpus)\n", what.c_str());
  }

  // -v: where the settings and the corpus come from, and what the run will use.
  void ReportSettings(const Context& ctx, const Settings& settings, const std::string& corpus_dir,
                      const CompressOptions& options) const {
    if (!ctx.verbose) return;
    std::string file = settings.source.empty() ? "built-in defaults" : settings.source;
    Detail(ctx, "settings from " + file + " and the environment");
    Detail(ctx, standalone ? std::string("corpus: none (--standalone)")
                           : "corpus " + corpus_dir + " (from " + CorpusSource(settings) + ")");
    Detail(ctx, "profile " + profile + ", level " +
                    std::to_string(options.level.value_or(DefaultLevel(options.profile))) +
                    ", block size " + HumanBytes(options.block_size) + ", threads " +
                    (options.threads == 0 ? "one per core" : std::to_string(options.threads)));
  }

  void PrintSummary(const CompressStats& stats, double seconds) const {
    double copied = stats.input_bytes ? 100.0 * static_cast<double>(stats.copy_bytes) / static_cast<double>(stats.input_bytes) : 0;
    double delta = stats.input_bytes ? 100.0 * static_cast<double>(stats.delta_bytes) / static_cast<double>(stats.input_bytes) : 0;
    char delta_text[64] = "";
    if (stats.delta_bytes > 0) std::snprintf(delta_text, sizeof delta_text, " and %.1f%% delta-encoded", delta);
    std::fprintf(stderr, "%s: %s -> %s (%s), %.1f%% copied%s from %s, %.2f s\n", input == "-" ? "stdin" : input.c_str(),
                 HumanBytes(stats.input_bytes).c_str(), HumanBytes(stats.output_bytes).c_str(),
                 Ratio(stats.input_bytes, stats.output_bytes).c_str(), copied, delta_text,
                 stats.standalone ? "no corpus (standalone)" : ("corpus " + stats.corpus_id).c_str(), seconds);
  }
};

struct DecompressCommand {
  std::optional<std::string> corpus;
  std::string input = "-";
  std::string output = "-";
  std::optional<std::string> max_output;
  bool force = false;
  bool test = false;  // -t: verify everything, write nothing.
  ResourceFlags resources;
  CorpusUseFlags origin;
  EncryptionFlags encryption;
  EncryptionFlags corpus_key;

  int Run(Context& ctx) const {
    auto settings = ctx.LoadSettings();
    if (!settings.ok()) return Fail(settings.status());
    auto key = encryption.Load();
    if (!key.ok()) return Fail(key.status());
    auto unlock = corpus_key.Load();
    if (!unlock.ok()) return Fail(unlock.status());
    DecompressOptions options;
    // Without --corpus-key, the container's key unlocks an encrypted corpus too.
    options.corpus_key = unlock->empty() ? &*key : &*unlock;
    if (Status s = resources.Apply(*settings, &options); !s.ok()) return Fail(s);
    std::string corpus_dir = corpus.value_or(settings->corpus.value_or(""));
    if (Status s = origin.Apply(*settings, &options); !s.ok()) return Fail(s);
    options.max_output = settings->max_output;
    if (max_output) {
      auto limit = ParseSize(*max_output);
      if (!limit.ok()) return Fail(limit.status().WithContext("--max-output"));
      options.max_output = *limit;
    }
    ctx.audit.corpus_dir = corpus_dir;
    Detail(ctx, "corpus " + (corpus_dir.empty() ? "none given" : corpus_dir) + " (from " +
                    (corpus ? "-c" : settings->corpus_source) + "), threads " +
                    (options.threads == 0 ? "one per core" : std::to_string(options.threads)));
    auto source = OpenSource(input);
    if (!source.ok()) return Fail(source.status());
    if (test && output != "-") {
      return Fail(Status::InvalidArgument("-t writes nothing: drop -o " + output));
    }
    // -t: every block rebuilt and verified, the bytes dropped.
    auto sink = test ? OpenSink("/dev/null", true) : OpenOutput(output, force);
    if (!sink.ok()) return Fail(sink.status());
    auto start = std::chrono::steady_clock::now();
    // Plain containers pass through the decrypting source unchanged.
    std::unique_ptr<ByteSource> decrypted = DecryptingSource(**source, *key);
    auto stats = Decompress(corpus_dir, *decrypted, **sink, options);
    if (!stats.ok()) return Fail(stats.status());
    ctx.audit.corpus_id = stats->corpus_id;
    if (Status s = (*sink)->Commit(); !s.ok()) return Fail(s);
    if (test && !ctx.quiet) {
      std::fprintf(stderr, "%s: OK: %s, %llu blocks and the whole output verified\n",
                   input == "-" ? "stdin" : input.c_str(), HumanBytes(stats->output_bytes).c_str(),
                   static_cast<unsigned long long>(stats->blocks));
    } else if (!ctx.quiet) {
      std::fprintf(stderr, "%s: %s -> %s, %llu blocks verified, %.2f s\n", input == "-" ? "stdin" : input.c_str(),
                   HumanBytes(stats->input_bytes).c_str(), HumanBytes(stats->output_bytes).c_str(),
                   static_cast<unsigned long long>(stats->blocks), SecondsSince(start));
      ReportCache(options.cache_size, stats->cache_size, stats->cache_drops);
    }
    return 0;
  }
};

// The options of decompress that say how to read a container (not where to write it).
void RegisterReadOptions(CLI::App* d, DecompressCommand& decompress) {
  d->add_option("-c,--corpus", decompress.corpus,
                "corpus directory, or a store that holds the container's corpus (not needed "
                "for standalone containers)");
  d->add_option("--max-output", decompress.max_output,
                "refuse a container that would produce more than SIZE bytes (default: no limit)");
  decompress.resources.Register(d);
  decompress.origin.Register(d);
  decompress.encryption.Register(d, "--decrypt-key");
  decompress.corpus_key.Register(d, "--corpus-key");
}

// reducto test FILE...: decompress -t of each; the worst exit status.
struct TestCommand {
  std::vector<std::string> inputs;
  DecompressCommand decompress;

  int Run(Context& ctx) const {
    int worst = kExitOk;
    for (const std::string& file : inputs) {
      DecompressCommand one = decompress;
      one.input = file;
      one.test = true;
      worst = std::max(worst, one.Run(ctx));
    }
    return worst;
  }
};

}  // namespace

void RegisterCodecCommands(CLI::App* app, Context& ctx) {
  static CompressCommand compress;
  auto* c = AddCommand(app, ctx, compress, "compress", "compress a file or stdin against a corpus");
  c->add_option("-c,--corpus", compress.corpus, "corpus directory");
  c->add_option("input", compress.input, "file, or - for stdin (default)");
  c->add_option("-o,--output", compress.output, "output file, or - for stdout (default)");
  c->add_option("-l,--level", compress.level, "zstd level 1..22 (default 3; 9 with --profile max)");
  c->add_option("--profile", compress.profile,
                "how hard to search the corpus: fast (whole chunks), default, max");
  c->add_option("--block-size", compress.block_size, "output bytes per container block (default 4M)");
  c->add_flag("--standalone", compress.standalone, "literals only: decodable without any corpus");
  c->add_option("--fallback", compress.fallback,
                "when the corpus cannot be found: error (the default) or standalone (write a "
                "container that needs no corpus, with the ratio of zstd alone)")
      ->check(CLI::IsMember({"error", "standalone"}));
  c->add_flag("--no-fallback", compress.no_fallback,
              "the same as --fallback error (the default; kept for old scripts)")
      ->excludes("--fallback");
  c->add_flag("-f,--force", compress.force, "overwrite the output file");
  compress.resources.Register(c);
  compress.origin.Register(c);
  compress.usage.Register(c);
  compress.encryption.Register(c, "--encrypt-key");
  compress.corpus_key.Register(c, "--corpus-key");

  static DecompressCommand decompress;
  auto* d = AddCommand(app, ctx, decompress, "decompress", "rebuild and verify the original from a container");
  d->add_option("input", decompress.input, "container file, or - for stdin (default)");
  d->add_option("-o,--output", decompress.output, "output file, or - for stdout (default)");
  d->add_flag("-f,--force", decompress.force, "overwrite the output file");
  d->add_flag("-t,--test", decompress.test,
              "verify the container fully (every block and the whole output), write nothing");
  RegisterReadOptions(d, decompress);

  static TestCommand test;
  auto* t = AddCommand(app, ctx, test, "test",
                       "verify containers fully against their corpus, write nothing");
  t->add_option("inputs", test.inputs, "container files")->required();
  RegisterReadOptions(t, test.decompress);
}

}  // namespace reducto::cli
