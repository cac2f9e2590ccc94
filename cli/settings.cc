#include "settings.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <list>
#include <toml++/toml.h>

#include "reducto/chunker.h"
#include "reducto/corpus.h"
#include "reducto/prune.h"

namespace reducto::cli {

const std::vector<Setting>& SettingTable() {
  using K = SettingKind;
  constexpr int64_t kMaxChunk = ChunkerParams::kMaxAllowed;
  static_assert(kMaxThreads == 256 && kMaxChunk == 16 << 20, "the messages below say so");
  // The order is the order of the keys in the message for an unknown key.
  static const std::vector<Setting> table = {
      {.key = "corpus", .kind = K::kText, .field = &Settings::corpus, .env = "REDUCTO_CORPUS",
       .flag = "-c,--corpus", .value_name = "DIR", .help = "corpus directory",
       .expected = "a string (a corpus directory)"},
      {.key = "fallback", .kind = K::kChoice, .field = &Settings::fallback,
       .env = "REDUCTO_FALLBACK", .flag = "--fallback", .value_name = "MODE",
       .help = "when the corpus cannot be found: error (the default) or standalone (write a "
               "container that needs no corpus, with the ratio of zstd alone)",
       .expected = "\"error\" (fail when the corpus cannot be found, the default) or "
                   "\"standalone\"",
       .choices = "error|standalone"},
      {.key = "level", .kind = K::kInteger, .field = &Settings::level, .env = "REDUCTO_LEVEL",
       .flag = "--level,-l", .value_name = "N",
       .help = "zstd level 1..22 (default 3; 9 with --profile max)",
       .expected = "an integer 1..22", .min = 1, .max = 22},
      {.key = "block_size", .kind = K::kSize, .field = &Settings::block_size,
       .env = "REDUCTO_BLOCK_SIZE", .flag = "--block-size", .value_name = "SIZE",
       .help = "output bytes per container block (default 4M)",
       .expected = "a size from 64K to 64M", .min = 64 << 10, .max = 64 << 20},
      {.key = "threads", .kind = K::kInteger, .field = &Settings::threads,
       .env = "REDUCTO_THREADS", .flag = "--threads,-T", .value_name = "N",
       .help = "threads (default: one per core; the output is the same for any count)",
       .expected = "an integer 0..256 (0: one per core)",
       .min = 0, .max = kMaxThreads},
      {.key = "cache_size", .kind = K::kSize, .field = &Settings::cache_size,
       .env = "REDUCTO_CACHE_SIZE", .flag = "--cache-size", .value_name = "SIZE",
       .help = "memory for the corpus index cache and mapped pack pages (default 128M; "
               "capped to a quarter of the available memory)",
       .expected = "a size such as 8192 or \"8K\"", .check = CheckCacheSize},
      {.key = "max_output", .kind = K::kSize, .field = &Settings::max_output,
       .env = "REDUCTO_MAX_OUTPUT", .flag = "--max-output", .value_name = "SIZE",
       .help = "refuse a container that would produce more than SIZE bytes (default: no limit)",
       .expected = "a size such as 8192 or \"8K\""},
      {.key = "trusted_keys", .kind = K::kPathList, .field = &Settings::trusted_keys,
       .env = "REDUCTO_TRUSTED_KEYS", .flag = "--trusted-key", .value_name = "FILE",
       .help = "public key file (NAME.pub) whose signature makes a corpus trusted; "
               "repeatable; replaces `trusted_keys` of the config and REDUCTO_TRUSTED_KEYS",
       .expected = "an array of public key file paths, e.g. trusted_keys = [\"release.pub\"]"},
      {.key = "repositories", .kind = K::kPathList, .field = &Settings::repositories,
       .env = "REDUCTO_REPOS", .flag = "--repo", .value_name = "URL",
       .help = "repository (https://, http:// or file:// URL) that corpora not found locally "
               "are fetched from, in priority order; repeatable; replaces `repositories` of "
               "the config and REDUCTO_REPOS (URLs separated by spaces)",
       .expected = "an array of repository URLs, e.g. repositories = [\"https://host/repo\"]"},
      {.key = "repo_token_file", .kind = K::kText, .field = &Settings::repo_token_file,
       .env = "REDUCTO_REPO_TOKEN_FILE", .flag = "--repo-token-file", .value_name = "FILE",
       .help = "file holding the bearer token sent to the repositories (never logged)",
       .expected = "a path"},
      {.key = "repo_token_env", .kind = K::kText, .field = &Settings::repo_token_env,
       .flag = "--repo-token-env", .value_name = "NAME",
       .help = "environment variable holding the bearer token sent to the repositories",
       .expected = "an environment variable name"},
      {.key = "repo_ca_file", .kind = K::kText, .field = &Settings::repo_ca_file,
       .env = "REDUCTO_REPO_CA_FILE", .flag = "--repo-ca-file", .value_name = "FILE",
       .help = "CA certificates (PEM) that repository servers' certificates are checked "
               "against, besides the system's (verification is always on)",
       .expected = "a path"},
      {.key = "repo_timeout", .kind = K::kInteger, .field = &Settings::repo_timeout,
       .env = "REDUCTO_REPO_TIMEOUT", .flag = "--repo-timeout", .value_name = "SECONDS",
       .help = "give up connecting to a repository, or on a transfer that stalls, after "
               "SECONDS (default 20; each request is retried 3 times)",
       .expected = "an integer 1..3600", .min = 1, .max = 3600},
      {.key = "cache_dir", .kind = K::kText, .field = &Settings::cache_dir,
       .env = "REDUCTO_CACHE_DIR", .flag = "--cache-dir", .value_name = "DIR",
       .help = "where corpus pieces fetched from repositories are kept (default "
               "$XDG_CACHE_HOME/reducto, else ~/.cache/reducto)",
       .expected = "a directory"},
      {.key = "cache_limit", .kind = K::kSize, .field = &Settings::cache_limit,
       .env = "REDUCTO_CACHE_LIMIT", .flag = "--cache-limit", .value_name = "SIZE",
       .help = "disk space the cache may take; the least recently used corpora are removed "
               "beyond it (default 10G; 0: no limit)",
       .expected = "a size such as \"10G\""},
      {.key = "usage", .kind = K::kBoolean, .field = &Settings::usage, .env = "REDUCTO_USAGE",
       .flag = "--no-usage", .flag_value = "false",
       .help = "do not record which corpus chunks this compression used (the usage store "
               "beside the corpus, read by `corpus prune --unused-since`)",
       .expected = "true or false"},
      {.key = "audit_log", .kind = K::kText, .field = &Settings::audit_log,
       .env = "REDUCTO_AUDIT_LOG", .expected = "a path (or \"off\")"},
      {.key = "audit_sign_key", .kind = K::kText, .field = &Settings::audit_sign_key,
       .expected = "a path (or \"off\")"},
      {.key = "chunking.avg", .kind = K::kSize, .field = &Settings::avg_size,
       .env = "REDUCTO_AVG_SIZE", .flag = "--avg", .value_name = "SIZE",
       .help = "average chunk size (e.g. 8K)", .expected = "a size of at most 16M",
       .max = kMaxChunk},
      {.key = "chunking.min", .kind = K::kSize, .field = &Settings::min_size, .flag = "--min",
       .value_name = "SIZE", .help = "minimum chunk size (default avg/2)",
       .expected = "a size of at most 16M", .max = kMaxChunk},
      {.key = "chunking.max", .kind = K::kSize, .field = &Settings::max_size, .flag = "--max",
       .value_name = "SIZE", .help = "maximum chunk size (default avg*2)",
       .expected = "a size of at most 16M", .max = kMaxChunk},
      {.key = "chunking.normalization", .kind = K::kInteger, .field = &Settings::normalization,
       .flag = "--normalization", .value_name = "N",
       .help = "FastCDC normalization level 0..3 (default 1)",
       .expected = "an integer 0..3 (1 is the default)", .min = 0, .max = 3},
      {.key = "retention.corpus_max_age", .kind = K::kDuration,
       .field = &Settings::corpus_max_age, .flag = "--max-age", .value_name = "DURATION",
       .help = "delete corpora created longer ago (e.g. 90d; config retention.corpus_max_age)",
       .expected = "a duration such as \"90d\""},
      {.key = "retention.leftover_max_age", .kind = K::kDuration,
       .field = &Settings::leftover_max_age, .flag = "--leftover-age", .value_name = "DURATION",
       .help = "remove leftovers untouched this long (default 1h; retention.leftover_max_age)",
       .expected = "a duration such as \"1h\""},
      // `reducto report`'s prices and volumes (include/reducto/report.h, ReportInputs).
      {.key = "price_transfer_gb", .kind = K::kDecimal, .field = &Settings::price_transfer_gb,
       .env = "REDUCTO_PRICE_TRANSFER_GB", .flag = "--price-transfer-gb", .value_name = "PRICE",
       .help = "price of sending 1 GB (1e9 bytes) over the network, for report",
       .expected = "a price of at least 0 per GB, such as 0.09"},
      {.key = "price_storage_gb_month", .kind = K::kDecimal,
       .field = &Settings::price_storage_gb_month, .env = "REDUCTO_PRICE_STORAGE_GB_MONTH",
       .flag = "--price-storage-gb-month", .value_name = "PRICE",
       .help = "price of storing 1 GB (1e9 bytes) for a month, for report",
       .expected = "a price of at least 0 per GB-month, such as 0.023"},
      {.key = "transfers_per_month", .kind = K::kDecimal, .field = &Settings::transfers_per_month,
       .env = "REDUCTO_TRANSFERS_PER_MONTH", .flag = "--transfers-per-month", .value_name = "N",
       .help = "containers sent per month, all receivers together (a file sent to 3 "
               "receivers is 3), for report",
       .expected = "a number of at least 0"},
      {.key = "receivers", .kind = K::kInteger, .field = &Settings::receivers,
       .env = "REDUCTO_RECEIVERS", .flag = "--receivers", .value_name = "N",
       .help = "places the corpus is distributed to, for report",
       .expected = "an integer 1..1000000000", .min = 1, .max = 1000000000},
      {.key = "corpus_size", .kind = K::kSize, .field = &Settings::corpus_size,
       .env = "REDUCTO_CORPUS_SIZE", .flag = "--corpus-size", .value_name = "SIZE",
       .help = "bytes of the corpus, for report (default: the pack size of -c CORPUS)",
       .expected = "a size such as \"2G\""},
      {.key = "corpus_changes_per_month", .kind = K::kDecimal,
       .field = &Settings::corpus_changes_per_month, .env = "REDUCTO_CORPUS_CHANGES_PER_MONTH",
       .flag = "--corpus-changes-per-month", .value_name = "N",
       .help = "new corpora distributed per month (0.25: quarterly), for report",
       .expected = "a number of at least 0"},
      {.key = "keep_months", .kind = K::kDecimal, .field = &Settings::keep_months,
       .env = "REDUCTO_KEEP_MONTHS", .flag = "--keep-months", .value_name = "N",
       .help = "months the receivers keep what they receive, as containers instead of "
               "originals (default 0: nothing kept, no storage saved), for report",
       .expected = "a number of at least 0"},
      {.key = "corpus_copies", .kind = K::kInteger, .field = &Settings::corpus_copies,
       .env = "REDUCTO_CORPUS_COPIES", .flag = "--corpus-copies", .value_name = "N",
       .help = "places that store the corpus, for report (default: receivers + 1)",
       .expected = "an integer 1..1000000000", .min = 1, .max = 1000000000},
  };
  return table;
}

const Setting& FindSetting(std::string_view key) {
  for (const Setting& setting : SettingTable()) {
    if (setting.key == key) return setting;
  }
  std::fprintf(stderr, "reducto: internal error: no setting %.*s\n", static_cast<int>(key.size()),
               key.data());
  std::abort();
}

std::string Settings::SourceOf(std::string_view key) const {
  auto it = sources.find(key);
  return it == sources.end() ? "" : it->second;
}

SettingLayer Settings::LayerOf(std::string_view key) const {
  auto it = layers.find(key);
  return it == layers.end() ? SettingLayer::kDefault : it->second;
}

namespace {

std::string Text(const std::string& v) { return v; }
std::string Text(int v) { return std::to_string(v); }
std::string Text(uint64_t v) { return std::to_string(v); }
std::string Text(double v) { return DecimalText(v); }
std::string Text(bool v) { return v ? "true" : "false"; }
std::string Text(const std::vector<std::string>& v) {
  std::string text;
  for (const std::string& item : v) text += (text.empty() ? "" : ", ") + item;
  return text;
}
template <typename T>
std::string Text(const std::optional<T>& v) {
  return v ? Text(*v) : "unset";
}

}  // namespace

std::string SettingText(const Settings& settings, const Setting& setting) {
  return std::visit([&](auto member) { return Text(settings.*member); }, setting.field);
}

std::optional<std::string> XdgReductoDirectory(const char* variable, const char* under_home) {
  if (const char* xdg = std::getenv(variable); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/reducto";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/" + under_home + "/reducto";
  }
  return std::nullopt;
}

std::optional<std::string> DefaultConfigPath() {
  std::optional<std::string> dir = XdgReductoDirectory("XDG_CONFIG_HOME", ".config");
  if (!dir) return std::nullopt;
  return *dir + "/config.toml";
}

namespace {

// A parsed value, before it is stored in its Settings member.
using SettingValue =
    std::variant<std::string, int64_t, uint64_t, bool, std::vector<std::string>, double>;

// "<where> must be <expected>, got <shown>".
Status Invalid(const Setting& setting, const std::string& where, const std::string& shown) {
  return Status::InvalidArgument(where + " must be " + std::string(setting.expected) + ", got " +
                                 shown);
}

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Parses `text` as `setting`'s kind and checks its range; errors name `where` and show
// the value as `shown` (as the user wrote it: 'text', or the TOML value).
// REQUIRES: setting.kind != kPathList
Result<SettingValue> ParseText(const Setting& setting, const std::string& text,
                               const std::string& where, const std::string& shown) {
  switch (setting.kind) {
    case SettingKind::kText:
      return SettingValue(text);
    case SettingKind::kChoice: {
      std::string_view choices = setting.choices;
      for (size_t start = 0; start <= choices.size();) {
        size_t end = std::min(choices.find('|', start), choices.size());
        if (choices.substr(start, end - start) == text) return SettingValue(text);
        start = end + 1;
      }
      return Invalid(setting, where, shown);
    }
    case SettingKind::kInteger: {
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno != 0 || v < setting.min || v > setting.max) {
        return Invalid(setting, where, shown);
      }
      return SettingValue(static_cast<int64_t>(v));
    }
    case SettingKind::kSize: {
      Result<uint64_t> size = ParseSize(text);
      if (!size.ok()) return size.status().WithContext(where);
      if (*size < static_cast<uint64_t>(setting.min) ||
          (setting.max != INT64_MAX && *size > static_cast<uint64_t>(setting.max))) {
        return Invalid(setting, where, shown);
      }
      if (setting.check != nullptr) RETURN_IF_ERROR(setting.check(*size, where));
      return SettingValue(*size);
    }
    case SettingKind::kBoolean: {
      Result<bool> value = ParseBoolean(text);
      if (!value.ok()) return Invalid(setting, where, shown);
      return SettingValue(*value);
    }
    case SettingKind::kDuration: {
      Result<uint64_t> seconds = ParseDuration(text);
      if (!seconds.ok()) return seconds.status().WithContext(where);
      return SettingValue(*seconds);
    }
    case SettingKind::kDecimal: {
      // from_chars, not strtod: a decimal point whatever the locale.
      double v = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
          !std::isfinite(v) || v < static_cast<double>(setting.min) ||
          v > static_cast<double>(setting.max)) {
        return Invalid(setting, where, shown);
      }
      return SettingValue(v);
    }
    case SettingKind::kPathList:
      break;
  }
  std::abort();
}

// The parsed `value` into `setting`'s member of `s`, recording `source` and `layer`.
void Store(const Setting& setting, SettingValue value, const std::string& source,
           SettingLayer layer, Settings* s) {
  std::visit(
      [&](auto member) {
        auto& target = s->*member;
        using Target = std::remove_reference_t<decltype(target)>;
        if constexpr (std::is_same_v<Target, std::optional<std::string>> ||
                      std::is_same_v<Target, std::string>) {
          target = std::get<std::string>(std::move(value));
        } else if constexpr (std::is_same_v<Target, std::optional<int>> ||
                             std::is_same_v<Target, int>) {
          target = static_cast<int>(std::get<int64_t>(value));
        } else if constexpr (std::is_same_v<Target, std::optional<uint64_t>> ||
                             std::is_same_v<Target, uint64_t>) {
          target = std::get<uint64_t>(value);
        } else if constexpr (std::is_same_v<Target, bool>) {
          target = std::get<bool>(value);
        } else if constexpr (std::is_same_v<Target, std::optional<double>> ||
                             std::is_same_v<Target, double>) {
          target = std::get<double>(value);
        } else {
          target = std::get<std::vector<std::string>>(std::move(value));
        }
      },
      setting.field);
  s->sources[std::string(setting.key)] = source;
  s->layers[std::string(setting.key)] = layer;
}

// --- The file ---

// A TOML value as the file shows it, for messages.
std::string ShowToml(const toml::node& node) {
  if (auto v = node.value_exact<std::string>()) return "\"" + *v + "\"";
  if (auto v = node.value_exact<int64_t>()) return std::to_string(*v);
  if (auto v = node.value_exact<bool>()) return *v ? "true" : "false";
  if (auto v = node.value_exact<double>()) return DecimalText(*v);
  if (node.is_array()) return "an array";
  if (node.is_table()) return "a table";
  return "a value of another type";
}

// The text of a TOML value whose type fits `kind`; nullopt otherwise.
std::optional<std::string> TomlText(SettingKind kind, const toml::node& node) {
  switch (kind) {
    case SettingKind::kInteger:
      if (auto v = node.value_exact<int64_t>()) return std::to_string(*v);
      return std::nullopt;
    case SettingKind::kSize:
      if (auto v = node.value_exact<int64_t>(); v && *v >= 0) return std::to_string(*v);
      return node.value_exact<std::string>();
    case SettingKind::kBoolean:
      if (auto v = node.value_exact<bool>()) return *v ? "true" : "false";
      return std::nullopt;
    case SettingKind::kDecimal:
      if (auto v = node.value_exact<int64_t>()) return std::to_string(*v);
      if (auto v = node.value_exact<double>()) return DecimalText(*v);
      return std::nullopt;
    default:
      return node.value_exact<std::string>();
  }
}

// `trusted_keys = ["release.pub", ...]`: paths relative to the file's directory.
Result<SettingValue> PathListFromToml(const Setting& setting, const toml::node& node,
                                      const std::string& path, const std::string& where) {
  const toml::array* array = node.as_array();
  if (array == nullptr) return Invalid(setting, where, ShowToml(node));
  std::filesystem::path base = std::filesystem::path(path).parent_path();
  std::vector<std::string> paths;
  for (const toml::node& element : *array) {
    auto v = element.value_exact<std::string>();
    if (!v || v->empty()) return Invalid(setting, where, ShowToml(element) + " in the array");
    // A URL (repositories) is not a path: it is not relative to the file.
    paths.push_back(v->find("://") != std::string::npos ? *v
                                                        : (base / *v).lexically_normal().string());
  }
  return SettingValue(std::move(paths));
}

Status ApplyFileValue(const Setting& setting, const toml::node& node, const std::string& path,
                      Settings* s) {
  const std::string where = path + ": " + std::string(setting.key);
  const std::string source = "`" + std::string(setting.key) + "` in " + path;
  if (setting.kind == SettingKind::kPathList) {
    ASSIGN_OR_RETURN(SettingValue value, PathListFromToml(setting, node, path, where));
    Store(setting, std::move(value), source, SettingLayer::kFile, s);
    return Status::Ok();
  }
  std::optional<std::string> text = TomlText(setting.kind, node);
  if (!text) return Invalid(setting, where, ShowToml(node));
  ASSIGN_OR_RETURN(SettingValue value, ParseText(setting, *text, where, ShowToml(node)));
  Store(setting, std::move(value), source, SettingLayer::kFile, s);
  return Status::Ok();
}

// The keys of the file under `prefix` ("" for the top level; "chunking." for
// [chunking]), tables as [name], for the message about an unknown key.
std::string KnownKeys(std::string_view prefix) {
  std::vector<std::string> keys;
  for (const Setting& setting : SettingTable()) {
    if (!setting.key.starts_with(prefix)) continue;
    std::string_view rest = setting.key.substr(prefix.size());
    size_t dot = rest.find('.');
    std::string key = dot == std::string_view::npos ? std::string(rest)
                                                    : "[" + std::string(rest.substr(0, dot)) + "]";
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  std::stable_partition(keys.begin(), keys.end(), [](const std::string& k) { return k[0] != '['; });
  std::string text;
  for (const std::string& key : keys) text += (text.empty() ? "" : ", ") + key;
  return text;
}

// Whether some key of the table is under [name].
bool IsTableName(std::string_view name) {
  return std::any_of(SettingTable().begin(), SettingTable().end(), [&](const Setting& setting) {
    return setting.key.size() > name.size() && setting.key.starts_with(name) &&
           setting.key[name.size()] == '.';
  });
}

const Setting* FindKey(std::string_view key) {
  for (const Setting& setting : SettingTable()) {
    if (setting.key == key) return &setting;
  }
  return nullptr;
}

Status ApplyTable(const toml::table& table, const std::string& prefix, const std::string& path,
                  Settings* s) {
  for (const auto& [name, node] : table) {
    const std::string key = prefix + std::string(name.str());
    if (const Setting* setting = FindKey(key)) {
      RETURN_IF_ERROR(ApplyFileValue(*setting, node, path, s));
    } else if (prefix.empty() && IsTableName(key) && node.is_table()) {
      RETURN_IF_ERROR(ApplyTable(*node.as_table(), key + ".", path, s));
    } else if (prefix.empty()) {
      return Status::InvalidArgument("unknown key '" + key + "' in " + path + " (known: " +
                                     KnownKeys("") + ")");
    } else {
      return Status::InvalidArgument("unknown key " + key + " in " + path + " (known: " +
                                     KnownKeys(prefix) + ")");
    }
  }
  return Status::Ok();
}

Status ApplyFile(const std::string& path, Settings* s) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::InvalidArgument("cannot parse " + path + " at line " + std::to_string(where.line) +
                                   ": " + std::string(e.description()) + " (fix the file or pass --config)");
  }
  RETURN_IF_ERROR(ApplyTable(root, "", path, s));
  s->source = path;
  return Status::Ok();
}

// --- The environment ---

Status ApplyEnvironment(Settings* s) {
  for (const Setting& setting : SettingTable()) {
    if (setting.env.empty()) continue;
    const std::string name(setting.env);
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') continue;
    if (setting.kind == SettingKind::kPathList) {
      std::vector<std::string> paths;
      std::string list = v;
      // Paths are separated by ':' (as PATH), URLs by spaces.
      const char separator = list.find("://") != std::string::npos ? ' ' : ':';
      for (size_t start = 0; start <= list.size();) {
        size_t end = std::min(list.find(separator, start), list.size());
        if (end > start) paths.push_back(list.substr(start, end - start));
        start = end + 1;
      }
      Store(setting, std::move(paths), name, SettingLayer::kEnvironment, s);
      continue;
    }
    ASSIGN_OR_RETURN(SettingValue value, ParseText(setting, v, name, Quoted(v)));
    Store(setting, std::move(value), name, SettingLayer::kEnvironment, s);
  }
  return Status::Ok();
}

// --- The flags ---

// A setting flag added to a command, and what it was given.
struct SettingFlag {
  const Setting* setting;
  std::string name;                   // The first of its names, for messages and sources.
  std::optional<std::string> value;   // A flag with a value.
  std::vector<std::string> values;    // A repeatable flag (kPathList).
  std::optional<std::string> fixed;   // A flag without a value: what it gives.
  bool given = false;                 // ... and whether it was.
};

// The setting flags of each command. CLI11 writes into the entries as it parses, so they
// must not move: a list per command, and commands live as long as the program.
std::map<const CLI::App*, std::list<SettingFlag>>& FlagsByCommand() {
  static std::map<const CLI::App*, std::list<SettingFlag>> flags;
  return flags;
}

std::string FirstName(std::string_view names) {
  return std::string(names.substr(0, names.find(',')));
}

Status ApplyFlags(const CLI::App* command, Settings* s) {
  auto it = FlagsByCommand().find(command);
  if (it == FlagsByCommand().end()) return Status::Ok();
  for (const SettingFlag& flag : it->second) {
    const Setting& setting = *flag.setting;
    std::optional<std::string> text = flag.given ? flag.fixed : flag.value;
    if (setting.kind == SettingKind::kPathList && !flag.values.empty()) {
      Store(setting, flag.values, flag.name, SettingLayer::kFlag, s);
    } else if (text) {
      ASSIGN_OR_RETURN(SettingValue value,
                       ParseText(setting, *text, flag.name, Quoted(*text)));
      Store(setting, std::move(value), flag.name, SettingLayer::kFlag, s);
    }
  }
  return Status::Ok();
}

}  // namespace

CLI::Option* AddSettingFlag(CLI::App* command, std::string_view key, const std::string& help) {
  const Setting& setting = FindSetting(key);
  SettingFlag& flag = FlagsByCommand()[command].emplace_back();
  flag.setting = &setting;
  flag.name = FirstName(setting.flag);
  const std::string names(setting.flag);
  const std::string text = help.empty() ? std::string(setting.help) : help;
  if (!setting.flag_value.empty()) {
    flag.fixed = std::string(setting.flag_value);
    return command->add_flag(names, flag.given, text);
  }
  if (setting.kind == SettingKind::kPathList) {
    return command->add_option(names, flag.values, text)
        ->allow_extra_args(false)
        ->option_text(std::string(setting.value_name) + " ...");
  }
  return command->add_option(names, flag.value, text)->option_text(std::string(setting.value_name));
}

CLI::Option* AddSettingAlias(CLI::App* command, std::string_view key, const std::string& name,
                             const std::string& value, const std::string& help) {
  SettingFlag& flag = FlagsByCommand()[command].emplace_back();
  flag.setting = &FindSetting(key);
  flag.name = FirstName(name);
  flag.fixed = value;
  return command->add_flag(name, flag.given, help);
}

Result<Settings> LoadSettings(const std::optional<std::string>& explicit_path,
                              const CLI::App* command) {
  Settings settings;
  if (explicit_path) {
    if (!std::filesystem::is_regular_file(*explicit_path)) {
      return Status::NotFound("configuration file " + *explicit_path + " not found");
    }
    RETURN_IF_ERROR(ApplyFile(*explicit_path, &settings));
  } else if (auto path = DefaultConfigPath(); path && std::filesystem::is_regular_file(*path)) {
    RETURN_IF_ERROR(ApplyFile(*path, &settings));
  }
  RETURN_IF_ERROR(ApplyEnvironment(&settings));
  if (command != nullptr) RETURN_IF_ERROR(ApplyFlags(command, &settings));
  return settings;
}

Result<uint64_t> ParseSize(const std::string& text) {
  // CLI11's size transformer: a number with an optional unit, K = 1024, case-insensitive.
  static const CLI::AsSizeValue kSize(/*kb_is_1000=*/false);
  std::string value = text;
  std::string error;
  try {
    error = kSize(value);
  } catch (const CLI::ValidationError& e) {
    error = e.what();
  }
  // CLI11 would wrap a negative number around; a size starts with a digit.
  bool starts_with_digit = !text.empty() && std::isdigit(static_cast<unsigned char>(text[0]));
  if (!error.empty() || value.empty() || !starts_with_digit) {
    return Status::InvalidArgument("'" + text + "' is not a size: use a number with an optional K, M, G or T suffix");
  }
  return static_cast<uint64_t>(std::stoull(value));
}

std::string DecimalText(double value) {
  char text[32];
  auto [end, error] = std::to_chars(text, text + sizeof text, value);
  return error == std::errc() ? std::string(text, end) : "?";
}

Result<bool> ParseBoolean(const std::string& text) {
  if (text == "true" || text == "1" || text == "on") return true;
  if (text == "false" || text == "0" || text == "off") return false;
  return Status::InvalidArgument("not a boolean");
}

Result<ChunkerParams> ChunkingOf(const Settings& settings) {
  // The table bounds each size by 16M, so each fits in 32 bits.
  ChunkerParams params = ChunkerParams::ForAverage(static_cast<uint32_t>(settings.avg_size),
                                                   settings.normalization);
  if (settings.min_size) params.min_size = static_cast<uint32_t>(*settings.min_size);
  if (settings.max_size) params.max_size = static_cast<uint32_t>(*settings.max_size);
  RETURN_IF_ERROR(params.Validate());
  return params;
}

Status ApplySettingText(std::string_view key, const std::string& text, const std::string& where,
                        Settings* settings) {
  const std::vector<Setting>& table = SettingTable();
  auto setting = std::find_if(table.begin(), table.end(),
                              [&](const Setting& row) { return row.key == key; });
  if (setting == table.end()) {
    std::string keys;
    for (const Setting& row : table) keys += (keys.empty() ? "" : ", ") + std::string(row.key);
    return Status::InvalidArgument(where + ": no setting '" + std::string(key) + "'; the keys are " +
                                   keys);
  }
  // A program sets these explicitly (the C ABI's settings and params), as a flag does.
  if (setting->kind == SettingKind::kPathList) {
    Store(*setting, std::vector<std::string>{text}, where, SettingLayer::kFlag, settings);
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(SettingValue value, ParseText(*setting, text, where, Quoted(text)));
  Store(*setting, std::move(value), where, SettingLayer::kFlag, settings);
  return Status::Ok();
}

Status CheckCacheSize(uint64_t size, const std::string& where) {
  if (size >= kMinCorpusCacheSize) return Status::Ok();
  return Status::InvalidArgument(where + " " + std::to_string(size) + " is below the smallest " +
                                 "corpus cache, " + HumanBytes(kMinCorpusCacheSize) + ": give " +
                                 "16M or more, or leave it unset for the default (" +
                                 HumanBytes(kDefaultCorpusCacheSize) + ")");
}

}  // namespace reducto::cli
