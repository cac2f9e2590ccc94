// Settings of the command line, from three layers with documented precedence:
// command-line flags over environment variables over the TOML configuration file
// (--config FILE, else $XDG_CONFIG_HOME/reducto/config.toml, else
// ~/.config/reducto/config.toml) over built-in defaults.
//
// Every setting is one row of one table (SettingTable() in settings.cc): its config
// key, environment variable, flag, kind of value and range, and the Settings member it
// fills. The three layers read that table only, so a value is parsed and range-checked
// the same way wherever it comes from, and every error names where it came from
// ("FILE: threads", "REDUCTO_THREADS", "--threads"). Adding a setting is adding a row
// (and a member here, and a line in the README's configuration table).
#ifndef REDUCTO_CLI_SETTINGS_H_
#define REDUCTO_CLI_SETTINGS_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "reducto/chunker.h"
#include "reducto/progress.h"
#include "reducto/status.h"

namespace reducto::cli {

// The most threads a run may ask for.
inline constexpr int kMaxThreads = 256;

// Which layer gave a setting its value (settings.h, first paragraph).
enum class SettingLayer { kDefault, kFile, kEnvironment, kFlag };

struct Settings {
  std::optional<std::string> corpus;  // Default corpus directory (key `corpus`).
  // When the corpus cannot be found: "error" (fail) or "standalone" (compress writes a
  // standalone container instead).
  std::string fallback = "error";
  std::optional<int> level;           // zstd level; unset: the profile's.
  uint64_t block_size = 4u << 20;     // Container block size.
  int threads = 0;                    // compress/decompress threads, 0 = one per core.
  uint64_t cache_size = 0;            // Corpus cache, 0 = the library default.
  uint64_t max_output = 0;            // decompress output limit, 0 = none.
  uint64_t avg_size = 8192;           // Chunking for corpus build / chunk ([chunking]).
  std::optional<uint64_t> min_size;
  std::optional<uint64_t> max_size;
  int normalization = 1;
  // Public key files whose signatures make a corpus trusted. Relative paths in the
  // file are relative to the file's directory; each layer replaces the one below.
  std::vector<std::string> trusted_keys;
  // Repositories that corpora not found locally are fetched from (docs/repositories.md),
  // the bearer token (from a file, or an environment variable named here), extra CA
  // certificates, the timeout in seconds; the cache of fetched pieces and its size limit.
  std::vector<std::string> repositories;
  std::optional<std::string> repo_token_file;
  std::optional<std::string> repo_token_env;
  std::optional<std::string> repo_ca_file;
  int repo_timeout = 20;
  std::optional<std::string> cache_dir;
  uint64_t cache_limit = uint64_t{10} << 30;
  // Record which corpus chunks compress uses, in the usage store beside the corpus.
  bool usage = true;
  // [retention]: what `reducto gc` deletes, in seconds.
  std::optional<uint64_t> corpus_max_age;   // unset: keep corpora whatever their age.
  uint64_t leftover_max_age = 3600;
  // The audit log ("off" disables it); unset: $XDG_STATE_HOME/reducto/audit.log.
  // `audit_sign_key`: secret key that signs its head.
  std::optional<std::string> audit_log;
  std::optional<std::string> audit_sign_key;
  // `reducto report`: prices (per decimal GB) and volumes (include/reducto/report.h,
  // ReportInputs). Unset: the report asks for them; each is needed.
  std::optional<double> price_transfer_gb;
  std::optional<double> price_storage_gb_month;
  std::optional<double> transfers_per_month;
  std::optional<int> receivers;
  std::optional<uint64_t> corpus_size;  // unset: the size of the corpus's pack (-c).
  std::optional<double> corpus_changes_per_month;
  double keep_months = 0;
  std::optional<int> corpus_copies;  // unset: receivers + 1.

  std::string source;  // Which file the settings came from, if any.
  // Where each setting not at its default came from, by config key: "`corpus` in
  // FILE", "REDUCTO_CORPUS" or "-c".
  std::map<std::string, std::string, std::less<>> sources;
  // The layer of each setting in `sources`, by config key.
  std::map<std::string, SettingLayer, std::less<>> layers;

  // Where the setting `key` came from (see `sources`); "" for the default.
  std::string SourceOf(std::string_view key) const;
  // The layer that gave the setting `key`; kDefault when none did.
  SettingLayer LayerOf(std::string_view key) const;
  // Whether a flag gave the setting `key`.
  bool FromFlag(std::string_view key) const { return SourceOf(key).starts_with("-"); }
};

// What values a setting takes. Text layers (environment, flags) parse the text; the
// file's TOML values are taken as that text when their TOML type fits the kind.
enum class SettingKind {
  kText,      // Any string (a path, a directory).
  kChoice,    // One of `choices`.
  kInteger,   // A decimal integer in min..max (TOML: an integer).
  kSize,      // ParseSize() (TOML: also a non-negative integer), in min..max.
  kBoolean,   // true/false; in text also 1/0 and on/off (TOML: a boolean).
  kDuration,  // ParseDuration() ("90d"), stored in seconds.
  kDecimal,   // A decimal number such as 0.09 in min..max, not NaN or infinite (TOML: a
              // float or an integer).
  kPathList,  // TOML: an array of paths relative to the file; environment: colon-
              // separated; flag: repeatable. Each layer replaces the one below.
};

// The Settings member a row fills, by type.
using SettingField =
    std::variant<std::optional<std::string> Settings::*, std::string Settings::*,
                 std::optional<int> Settings::*, int Settings::*, uint64_t Settings::*,
                 std::optional<uint64_t> Settings::*, bool Settings::*,
                 std::vector<std::string> Settings::*, double Settings::*,
                 std::optional<double> Settings::*>;

// One setting: a row of the table.
struct Setting {
  std::string_view key = {};  // In the config file; "chunking.avg" is `avg` under [chunking].
  SettingKind kind = SettingKind::kText;
  SettingField field = {};
  std::string_view env = {};   // Environment variable; "" when none.
  std::string_view flag = {};  // CLI11 names, e.g. "--threads,-T"; messages and sources name
                          // the flag by the first. "" when none.
  // For a flag that takes no value, the value it gives (--no-usage: "false").
  std::string_view flag_value = {};
  std::string_view value_name = {};  // In help: N, SIZE, DIR, FILE, ...
  std::string_view help = {};
  // What a value must be, for messages: "<where> must be <expected>, got <value>".
  std::string_view expected = {};
  int64_t min = 0;  // kInteger, kSize and kDecimal: the range, inclusive.
  int64_t max = INT64_MAX;
  std::string_view choices = {};  // kChoice: "error|standalone".
  // More than a range: InvalidArgument naming `where`, e.g. CheckCacheSize.
  Status (*check)(uint64_t value, const std::string& where) = nullptr;
};

// Every setting, in the order the config file's keys are listed in messages.
const std::vector<Setting>& SettingTable();
// The row whose config key is `key`. REQUIRES: there is one.
const Setting& FindSetting(std::string_view key);

// The value of `setting` in `settings` as text ("unset" for an unset optional; lists
// joined by ", "; durations in seconds).
std::string SettingText(const Settings& settings, const Setting& setting);

// Adds the flag of the setting `key` to `command`, with the row's help unless `help`
// is given. Its value, when given, is the top layer of LoadSettings(…, command).
CLI::Option* AddSettingFlag(CLI::App* command, std::string_view key, const std::string& help = "");
// Adds `name`, a flag without a value that gives the setting `key` the text `value`,
// as its own flag would (e.g. --no-fallback: fallback "error").
CLI::Option* AddSettingAlias(CLI::App* command, std::string_view key, const std::string& name,
                             const std::string& value, const std::string& help);

// $XDG_CONFIG_HOME/reducto/config.toml, else ~/.config/reducto/config.toml; nullopt
// without either variable. The file read when --config is not given (if it exists).
std::optional<std::string> DefaultConfigPath();

// Reads the file (if `explicit_path` is set it must exist; the default path may be
// absent), then applies the REDUCTO_* environment variables, then the setting flags
// given to `command` (none when it is null).
Result<Settings> LoadSettings(const std::optional<std::string>& explicit_path,
                              const CLI::App* command = nullptr);

// Parses `text` as the value of the setting `key` the way its environment variable is
// parsed (a path list: one path), and stores it in `settings` with `where` as its
// source, in the flag layer (a value the caller gave). InvalidArgument naming `where`
// for a bad value, and for a key that is not a setting (listing the keys). The C ABI's
// reducto_params_set.
Status ApplySettingText(std::string_view key, const std::string& text, const std::string& where,
                        Settings* settings);

// $`variable`/reducto, else $HOME/`under_home`/reducto (the XDG base directories);
// nullopt without either.
std::optional<std::string> XdgReductoDirectory(const char* variable, const char* under_home);

// true/1/on or false/0/off; InvalidArgument ("not a boolean") otherwise.
Result<bool> ParseBoolean(const std::string& text);
// The chunking the settings' chunking.* keys give. InvalidArgument for sizes that do not
// go together (ChunkerParams::Validate).
Result<ChunkerParams> ChunkingOf(const Settings& settings);

// `value` in the fewest digits that read back as it: "0.09", "12", "1e+21".
std::string DecimalText(double value);

// "8192", "8K", "8KiB", "4M", "1G" (binary multiples). InvalidArgument otherwise.
Result<uint64_t> ParseSize(const std::string& text);
// InvalidArgument when a corpus cache of `size` bytes (from `where`: a flag, variable or
// key) is below kMinCorpusCacheSize, 0 included (0 used to mean the default, silently).
Status CheckCacheSize(uint64_t size, const std::string& where);

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_SETTINGS_H_
