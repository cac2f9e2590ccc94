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
#include "file_arguments.h"
#include "reducto/encryption.h"
#include "session.h"
#include "match_warning.h"
#include "progress.h"
#include "usage_recording.h"

namespace reducto::cli {
namespace {

// Opens the output of `input`, read through `source`, refusing to put binary data on a
// terminal. A file output never replaces the input and takes a named input's
// permission bits and modification time.
Result<std::unique_ptr<ByteSink>> OpenOutput(const std::string& path, const std::string& input,
                                             const ByteSource& source, bool force) {
  if (path == "-" && ::isatty(STDOUT_FILENO) && !force) {
    return Status::InvalidArgument("refusing to write binary data to a terminal: pass -o FILE or redirect stdout");
  }
  SinkOptions options;
  options.overwrite = force;
  options.input = source.file_info();
  options.keep_input_attributes = input != "-" && options.input.has_value();
  return OpenSink(path, options);
}

// Refuses, before anything is read, inputs and outputs that cannot work together: two
// readers of stdin among the inputs and key files, and what FileArguments::Check() says.
Status CheckFiles(const FileArguments& files, const EncryptionFlags& container_key,
                  const EncryptionFlags& corpus_key) {
  std::vector<InputFile> read;
  for (const std::string& input : files.Inputs()) read.push_back({"the input", input});
  for (const EncryptionFlags* flags : {&container_key, &corpus_key}) {
    for (InputFile& file : flags->Files()) read.push_back(std::move(file));
  }
  RETURN_IF_ERROR(CheckOneStdinReader(read));
  return files.Check();
}

// The name of `input` in messages.
std::string InputName(const std::string& input) { return input == "-" ? "stdin" : input; }

// --threads and --cache-size, shared by compress and decompress.
struct ResourceFlags {
  void Register(CLI::App* command) {
    AddSettingFlag(command, "threads");
    AddSettingFlag(command, "cache_size");
  }

  // Fills `threads` and `cache_size` of compress or decompress options.
  template <typename Options>
  Status Apply(const Settings& settings, Options* options) const {
    options->threads = settings.threads;
    options->cache_size = settings.cache_size;
    return Status::Ok();
  }
};

// After a run against a corpus: says when the cache was cut for want of memory (and how
// often its mapped pack pages were dropped then), and with -v when they were dropped
// with the cache asked for (read again through page faults: the dump pair decompressed
// in 0.36 s with the default cache and 0.19 s with 1G, docs/benchmarks.md).
void ReportCache(uint64_t requested, uint64_t used, uint64_t drops, bool verbose) {
  if (used == 0) return;
  const uint64_t asked = requested == 0 ? kDefaultCorpusCacheSize : requested;
  if (used < asked) {
    std::fprintf(stderr,
                 "reducto: note: memory is short: the corpus cache was limited to %s (asked %s), "
                 "and its mapped pages were dropped %llu times; free memory for more speed\n",
                 HumanBytes(used).c_str(), HumanBytes(asked).c_str(),
                 static_cast<unsigned long long>(drops));
  } else if (verbose && drops > 0) {
    std::fprintf(stderr,
                 "reducto: note: the corpus's mapped pages passed the %s cache and were "
                 "dropped %llu times; a larger --cache-size is faster where memory allows\n",
                 HumanBytes(used).c_str(), static_cast<unsigned long long>(drops));
  }
}

// A damaged pack does not spoil the container (those chunks were not copied), but the
// corpus needs attention; said even with -q.
void WarnDamaged(const CompressStats& stats, const std::string& corpus_dir, uint64_t count,
                 const char* what) {
  std::fprintf(stderr,
               "reducto: warning: corpus %s at %s failed a check: %llu %s, so they were not "
               "used (the container is right, but larger). Run `reducto corpus verify %s`, "
               "then rebuild the corpus or fetch it again\n",
               stats.corpus_id.c_str(), corpus_dir.c_str(),
               static_cast<unsigned long long>(count), what, corpus_dir.c_str());
}

void WarnIfCorpusDamaged(const CompressStats& stats, const std::string& corpus_dir) {
  if (stats.damaged_chunks > 0) {
    WarnDamaged(stats, corpus_dir, stats.damaged_chunks,
                "chunks of its pack differ from the digests its index holds for them");
  }
  if (stats.damaged_ranges > 0) {
    WarnDamaged(stats, corpus_dir, stats.damaged_ranges,
                "ranges of its pack differ from the digests its manifest signs");
  }
}

// What every input of one compress command shares. It must not move once Prepare()
// filled it: options.corpus_key points at its keys.
struct CompressSetup {
  EnvelopeKey key;
  EnvelopeKey unlock;
  CompressOptions options;
  std::string corpus_dir;
  std::string corpus_source;  // Where corpus_dir came from: -c, the config file, ...
  bool corpus_from_flag = false;
  std::unique_ptr<Session> session;  // The origin rule and usage recording.
  CorpusHandle corpus;        // Opened once for every input; empty when standalone.
  bool fell_back = false;     // The corpus directory is missing: standalone containers.
};

struct CompressCommand {
  FileArguments files;
  std::string profile = "default";
  bool standalone = false;
  ResourceFlags resources;
  CorpusUseFlags origin;
  UsageFlags usage;
  EncryptionFlags encryption;
  EncryptionFlags corpus_key;

  CommandResult Run(Context& ctx) const {
    RETURN_IF_ERROR(CheckFiles(files, encryption, corpus_key));
    CompressSetup setup;
    RETURN_IF_ERROR(Prepare(ctx, &setup));
    SetProgressTotalOf(files.Inputs());
    return files.ForEachInput(CompressedName, [&](const std::string& in, const std::string& out) {
      return CompressOne(ctx, setup, in, out);
    });
  }

  // The settings, keys and options that all inputs share.
  Status Prepare(Context& ctx, CompressSetup* setup) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    ASSIGN_OR_RETURN(setup->key, encryption.Load());
    ASSIGN_OR_RETURN(setup->unlock, corpus_key.Load());
    CompressOptions& options = setup->options;
    // Without --corpus-key, the container's key unlocks an encrypted corpus too.
    options.corpus_key = setup->unlock.empty() ? &setup->key : &setup->unlock;
    RETURN_IF_ERROR(resources.Apply(settings, &options));
    options.level = settings.level;
    ASSIGN_OR_RETURN(options.profile, ParseProfile(profile));
    options.standalone = standalone;
    // `fallback` (--fallback, --no-fallback, REDUCTO_FALLBACK, the file).
    options.fallback_to_standalone = settings.fallback == "standalone";
    options.block_size = static_cast<uint32_t>(settings.block_size);  // At most 64M.
    options.metrics = CommandMetrics();
    SetRunLabel("profile", profile);
    setup->corpus_dir = settings.corpus.value_or("");
    setup->corpus_source = settings.SourceOf("corpus");
    setup->corpus_from_flag = settings.FromFlag("corpus");
    if (setup->corpus_dir.empty() && !standalone) {
      return Status::InvalidArgument(
          "compress needs a corpus: pass -c DIR (or set `corpus` in the config file or REDUCTO_CORPUS), "
          "or pass --standalone for a container that needs none");
    }
    if (!standalone) ctx.audit.corpus_dir = setup->corpus_dir;
    ReportSettings(ctx, settings, *setup);
    ASSIGN_OR_RETURN(setup->session,
                     OpenSession(settings, SessionUse{&origin, usage.Enabled(settings)}));
    return standalone ? Status::Ok() : OpenCorpus(setup);
  }

  // Opens the corpus once for all inputs, with the session's origin rule; a corpus
  // directory that does not exist at all may fall back to standalone containers (one
  // that exists but does not open is an error the user must see).
  Status OpenCorpus(CompressSetup* setup) const {
    const CompressOptions& options = setup->options;
    auto corpus = setup->session->OpenCorpus(setup->corpus_dir, options.cache_size,
                                             options.corpus_key, options.fallback_to_standalone);
    if (!corpus.ok()) return NameCorpusSource(corpus.status(), *setup);
    setup->corpus = std::move(corpus).value();
    setup->fell_back = !setup->corpus;  // An empty handle: the directory does not exist.
    return Status::Ok();
  }

  // Compresses `input` into `output`.
  Status CompressOne(Context& ctx, const CompressSetup& setup, const std::string& input,
                     const std::string& output) const {
    CompressOptions options = setup.options;
    auto source = OpenSource(input);
    if (!source.ok()) return source.status();
    auto sink = OpenOutput(output, input, **source, files.force);
    if (!sink.ok()) return sink.status();
    // Encrypted, the container goes through the envelope; its Commit() commits the file.
    std::unique_ptr<ByteSink> encrypted;
    if (!setup.key.empty()) {
      auto wrapped = EncryptingSink(**sink, setup.key);
      if (!wrapped.ok()) return wrapped.status();
      encrypted = std::move(wrapped).value();
    }
    ByteSink& out = encrypted ? *encrypted : **sink;
    auto start = std::chrono::steady_clock::now();
    TerminalProgress progress(input, ctx.NoProgressLine());
    options.progress = progress.observer();
    auto stats = setup.corpus ? setup.session->Compress(*setup.corpus, **source, out, options)
                              : CompressStandalone(**source, out, options);
    progress.Finish();
    if (!stats.ok()) return stats.status();
    stats->fell_back = setup.fell_back;
    SetRunLabel("corpus_id", stats->corpus_id);
    RETURN_IF_ERROR(out.Commit());
    WarnIfCorpusDamaged(*stats, setup.corpus_dir);
    if (stats->fell_back) ReportFallBack(ctx, setup);
    if (ctx.quiet) return Status::Ok();
    if (input == "-" && stats->input_bytes == 0 && !(*source)->file_info()) {
      std::fprintf(stderr, "reducto: note: stdin was empty: the container holds an empty input\n");
    }
    PrintSummary(*stats, SecondsSince(start), input);
    WarnIfPoorMatch(*stats, input);
    ReportCache(options.cache_size, stats->cache_size, stats->cache_drops, ctx.verbose);
    return Status::Ok();
  }

  // A corpus that cannot be found: says where its path came from when -c did not give it.
  Status NameCorpusSource(const Status& status, const CompressSetup& setup) const {
    if (status.code() != StatusCode::kNotFound || setup.corpus_from_flag || standalone) {
      return status;
    }
    return status.WithContext("the corpus directory of " + setup.corpus_source);
  }

  void ReportFallBack(Context& ctx, const CompressSetup& setup) const {
    std::string what = "corpus " + setup.corpus_dir + " (from " + setup.corpus_source +
                       ") not found: wrote a standalone container (fallback: standalone)";
    ctx.audit.outcome_note = "fell back to a standalone container: " + what;
    std::fprintf(stderr, "reducto: warning: %s (literals only; it decompresses without a "
                         "corpus)\n", what.c_str());
  }

  // -v: where the settings and the corpus come from, and what the run will use.
  void ReportSettings(const Context& ctx, const Settings& settings,
                      const CompressSetup& setup) const {
    if (!ctx.verbose) return;
    const CompressOptions& options = setup.options;
    std::string file = settings.source.empty() ? "built-in defaults" : settings.source;
    Detail(ctx, "settings from " + file + " and the environment");
    Detail(ctx, standalone ? std::string("corpus: none (--standalone)")
                           : "corpus " + setup.corpus_dir + " (from " + setup.corpus_source + ")");
    Detail(ctx, "profile " + profile + ", level " +
                    std::to_string(options.level.value_or(DefaultLevel(options.profile))) +
                    ", block size " + HumanBytes(options.block_size) + ", threads " +
                    (options.threads == 0 ? "one per core" : std::to_string(options.threads)));
  }

  void PrintSummary(const CompressStats& stats, double seconds, const std::string& input) const {
    double copied = stats.input_bytes ? 100.0 * static_cast<double>(stats.copy_bytes) / static_cast<double>(stats.input_bytes) : 0;
    double delta = stats.input_bytes ? 100.0 * static_cast<double>(stats.delta_bytes) / static_cast<double>(stats.input_bytes) : 0;
    char delta_text[64] = "";
    if (stats.delta_bytes > 0) std::snprintf(delta_text, sizeof delta_text, " and %.1f%% delta-encoded", delta);
    std::fprintf(stderr, "%s: %s -> %s (%s), %.1f%% copied%s from %s, %.2f s\n",
                 InputName(input).c_str(),
                 HumanBytes(stats.input_bytes).c_str(), HumanBytes(stats.output_bytes).c_str(),
                 Ratio(stats.input_bytes, stats.output_bytes).c_str(), copied, delta_text,
                 stats.standalone ? "no corpus (standalone)" : ("corpus " + stats.corpus_id).c_str(), seconds);
  }
};

// What every input of one decompress command shares; must not move once filled, as
// options.corpus_key points at its keys.
void ReportFetched(const Context& ctx, CorpusResolver& corpora);

struct DecompressSetup {
  EnvelopeKey key;
  EnvelopeKey unlock;
  DecompressOptions options;
  std::string corpus_dir;
  std::unique_ptr<Session> session;  // The origin rule.
  // Opens each corpus the containers name once, for all of them; fetches from the
  // repositories what no local directory holds.
  std::unique_ptr<CorpusResolver> corpora;
};

struct DecompressCommand {
  FileArguments files;
  bool test = false;  // -t: verify everything, write nothing.
  ResourceFlags resources;
  CorpusUseFlags origin;
  EncryptionFlags encryption;
  EncryptionFlags corpus_key;

  CommandResult Run(Context& ctx) const {
    RETURN_IF_ERROR(CheckFiles(files, encryption, corpus_key));
    if (test && (files.output || files.remove_inputs)) {
      return Status::InvalidArgument("-t writes nothing (and removes nothing): drop -o and "
                                     "--rm");
    }
    DecompressSetup setup;
    RETURN_IF_ERROR(Prepare(ctx, &setup));
    SetProgressTotalOf(files.Inputs());
    auto name_output = test ? NoOutputName : DecompressedName;
    return files.ForEachInput(name_output, [&](const std::string& in, const std::string& out) {
      return DecompressOne(ctx, setup, in, out);
    });
  }

  // -t writes no file: any name will do.
  static Result<std::string> NoOutputName(const std::string&) { return std::string("-"); }

  // The settings, keys and options that all inputs share.
  Status Prepare(Context& ctx, DecompressSetup* setup) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    ASSIGN_OR_RETURN(setup->key, encryption.Load());
    ASSIGN_OR_RETURN(setup->unlock, corpus_key.Load());
    DecompressOptions& options = setup->options;
    // Without --corpus-key, the container's key unlocks an encrypted corpus too.
    options.corpus_key = setup->unlock.empty() ? &setup->key : &setup->unlock;
    RETURN_IF_ERROR(resources.Apply(settings, &options));
    setup->corpus_dir = settings.corpus.value_or("");
    ctx.audit.corpus_dir = setup->corpus_dir;
    Detail(ctx, "corpus " + (setup->corpus_dir.empty() ? "none given" : setup->corpus_dir) +
                    " (from " + settings.SourceOf("corpus") + "), threads " +
                    (options.threads == 0 ? "one per core" : std::to_string(options.threads)));
    options.max_output = settings.max_output;
    options.metrics = CommandMetrics();
    ASSIGN_OR_RETURN(setup->session,
                     OpenSession(settings, SessionUse{.origin = &origin, .remote = true}));
    std::vector<std::string> locations;
    if (!setup->corpus_dir.empty()) locations.push_back(setup->corpus_dir);
    setup->corpora =
        setup->session->Resolver(std::move(locations), options.cache_size, options.corpus_key);
    return Status::Ok();
  }

  // Decompresses `input` into `output`.
  Status DecompressOne(Context& ctx, const DecompressSetup& setup, const std::string& input,
                       const std::string& output) const {
    auto source = OpenSource(input);
    if (!source.ok()) return source.status();
    // -t: every block rebuilt and verified, the bytes dropped.
    auto sink = test ? OpenSink("/dev/null", true) : OpenOutput(output, input, **source, files.force);
    if (!sink.ok()) return sink.status();
    auto start = std::chrono::steady_clock::now();
    // Plain containers pass through the decrypting source unchanged.
    std::unique_ptr<ByteSource> decrypted = DecryptingSource(**source, setup.key);
    TerminalProgress progress(input, ctx.NoProgressLine());
    DecompressOptions options = setup.options;
    options.progress = progress.observer();
    auto stats = setup.session->Decompress(*setup.corpora, *decrypted, **sink, options);
    progress.Finish();
    if (!stats.ok()) return stats.status();
    ctx.audit.corpus_id = stats->corpus_id;
    SetRunLabel("corpus_id", stats->corpus_id);
    RETURN_IF_ERROR((*sink)->Commit());
    ReportFetched(ctx, *setup.corpora);
    if (test && !ctx.quiet) {
      std::fprintf(stderr, "%s: OK: %s, %llu blocks and the whole output verified\n",
                   InputName(input).c_str(), HumanBytes(stats->output_bytes).c_str(),
                   static_cast<unsigned long long>(stats->blocks));
    } else if (!ctx.quiet) {
      std::fprintf(stderr, "%s: %s -> %s, %llu blocks verified, %.2f s\n", InputName(input).c_str(),
                   HumanBytes(stats->input_bytes).c_str(), HumanBytes(stats->output_bytes).c_str(),
                   static_cast<unsigned long long>(stats->blocks), SecondsSince(start));
      ReportCache(setup.options.cache_size, stats->cache_size, stats->cache_drops, ctx.verbose);
    }
    return Status::Ok();
  }
};

// What the repositories and the cache gave, when a corpus came from them.
void ReportFetched(const Context& ctx, CorpusResolver& corpora) {
  auto* remote = dynamic_cast<RemoteCorpusResolver*>(&corpora);
  if (remote == nullptr || ctx.quiet) return;
  FetchTotals totals = remote->totals();
  if (totals.pieces_fetched == 0 && totals.pieces_cached == 0) return;
  std::fprintf(stderr, "corpus pieces: %llu fetched (%s in %llu requests, %llu retried), %llu "
               "from the cache\n",
               static_cast<unsigned long long>(totals.pieces_fetched),
               HumanBytes(totals.bytes_fetched).c_str(),
               static_cast<unsigned long long>(totals.requests),
               static_cast<unsigned long long>(totals.retries),
               static_cast<unsigned long long>(totals.pieces_cached));
}

// The options of decompress that say how to read a container (not where to write it).
void RegisterReadOptions(CLI::App* d, DecompressCommand& decompress) {
  RegisterRepositoryOptions(d);
  AddSettingFlag(d, "corpus",
                 "corpus directory, or a store that holds the container's corpus (not needed "
                 "for standalone containers)");
  AddSettingFlag(d, "max_output");
  decompress.resources.Register(d);
  decompress.origin.Register(d);
  decompress.encryption.Register(d, "--decrypt-key");
  decompress.corpus_key.Register(d, "--corpus-key");
}

// reducto test FILE...: decompress -t of each; the worst exit status.
struct TestCommand {
  std::vector<std::string> inputs;
  DecompressCommand decompress;

  CommandResult Run(Context& ctx) const {
    DecompressCommand all = decompress;
    all.files.inputs = inputs;
    all.test = true;
    return all.Run(ctx);
  }
};

}  // namespace

void RegisterRepositoryOptions(CLI::App* command) {
  for (const char* key : {"repositories", "repo_token_file", "repo_token_env", "repo_ca_file",
                          "repo_timeout", "cache_dir", "cache_limit"}) {
    AddSettingFlag(command, key);
  }
}

void RegisterCodecCommands(CLI::App* app, Context& ctx) {
  static CompressCommand compress;
  auto* c = AddCommand(app, ctx, compress, "compress", "compress a file or stdin against a corpus");
  AddSettingFlag(c, "corpus");
  compress.files.Register(c, "files, or - for stdin (the default); several are each written "
                             "to FILE.rdc");
  AddSettingFlag(c, "level");
  c->add_option("--profile", compress.profile,
                "how hard to search the corpus: fast (whole chunks), default, max");
  AddSettingFlag(c, "block_size");
  c->add_flag("--standalone", compress.standalone, "literals only: decodable without any corpus");
  AddSettingFlag(c, "fallback");
  AddSettingAlias(c, "fallback", "--no-fallback", "error",
                  "the same as --fallback error (the default; kept for old scripts)")
      ->excludes("--fallback");
  compress.resources.Register(c);
  compress.origin.Register(c);
  compress.usage.Register(c);
  compress.encryption.Register(c, "--encrypt-key");
  compress.corpus_key.Register(c, "--corpus-key");

  static DecompressCommand decompress;
  auto* d = AddCommand(app, ctx, decompress, "decompress", "rebuild and verify the original from a container");
  decompress.files.Register(d, "containers, or - for stdin (the default); several are each "
                                "written to their name without .rdc");
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
