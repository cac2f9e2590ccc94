// Settings of the command line, from three layers with documented precedence:
// command-line flags over environment variables over the TOML configuration file
// (--config FILE, else $XDG_CONFIG_HOME/reducto/config.toml, else
// ~/.config/reducto/config.toml) over built-in defaults.
#ifndef REDUCTO_CLI_SETTINGS_H_
#define REDUCTO_CLI_SETTINGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reducto/status.h"

namespace reducto::cli {

// The most threads a run may ask for.
inline constexpr int kMaxThreads = 256;

struct Settings {
  std::optional<std::string> corpus;  // Default corpus directory (key `corpus`).
  // Where `corpus` came from, for messages: "REDUCTO_CORPUS" or "`corpus` in FILE".
  std::string corpus_source;
  // When the corpus cannot be found, compress writes a standalone container instead of
  // failing (key `fallback` = "standalone" | "error", env REDUCTO_FALLBACK, --fallback).
  bool fallback_standalone = false;
  std::optional<int> level;           // zstd level (key `level`); unset: the profile's.
  uint64_t block_size = 4u << 20;     // Container block size (key `block_size`).
  int threads = 0;                    // compress/decompress threads, 0 = one per core (key `threads`).
  uint64_t cache_size = 0;            // Corpus cache, 0 = the library default (key `cache_size`).
  uint64_t max_output = 0;            // decompress output limit, 0 = none (key `max_output`).
  uint64_t avg_size = 8192;           // Chunking for corpus build / chunk ([chunking]).
  std::optional<uint64_t> min_size;
  std::optional<uint64_t> max_size;
  int normalization = 1;
  // Public key files whose signatures make a corpus trusted (key `trusted_keys`, an
  // array; env REDUCTO_TRUSTED_KEYS, colon-separated; --trusted-key replaces both).
  // Relative paths in the file are relative to the file's directory.
  std::vector<std::string> trusted_keys;
  // Record which corpus chunks compress uses, in the usage store beside the corpus
  // (key `usage`, a boolean; env REDUCTO_USAGE=0/1; --no-usage turns it off).
  bool usage = true;
  // [retention]: what `reducto gc` deletes (durations as "90d"; ParseDuration).
  std::optional<std::string> corpus_max_age;    // retention.corpus_max_age; unset: keep.
  std::string leftover_max_age = "1h";          // retention.leftover_max_age.
  // The audit log (key `audit_log`, env REDUCTO_AUDIT_LOG; "off" disables it); unset:
  // $XDG_STATE_HOME/reducto/audit.log. `audit_sign_key`: secret key that signs its head.
  std::optional<std::string> audit_log;
  std::optional<std::string> audit_sign_key;
  std::string source;                 // Which file the settings came from, if any.
};

// Reads the file (if `explicit_path` is set it must exist; the default path may be
// absent), then applies the REDUCTO_* environment variables.
Result<Settings> LoadSettings(const std::optional<std::string>& explicit_path);

// $`variable`/reducto, else $HOME/`under_home`/reducto (the XDG base directories);
// nullopt without either.
std::optional<std::string> XdgReductoDirectory(const char* variable, const char* under_home);

// "standalone" (true) or "error" (false), the values of --fallback, `fallback` and
// REDUCTO_FALLBACK; InvalidArgument naming `where` otherwise.
Result<bool> ParseFallback(const std::string& text, const std::string& where);

// "8192", "8K", "8KiB", "4M", "1G" (binary multiples). InvalidArgument otherwise.
Result<uint64_t> ParseSize(const std::string& text);
// InvalidArgument when a corpus cache of `size` bytes (from `where`: a flag, variable or
// key) is below kMinCorpusCacheSize, 0 included (0 used to mean the default, silently).
Status CheckCacheSize(uint64_t size, const std::string& where);
std::string HumanBytes(uint64_t bytes);

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_SETTINGS_H_
