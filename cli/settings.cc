#include "settings.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <toml++/toml.h>

#include <CLI/CLI.hpp>

#include "reducto/corpus.h"

namespace reducto::cli {

std::optional<std::string> XdgReductoDirectory(const char* variable, const char* under_home) {
  if (const char* xdg = std::getenv(variable); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/reducto";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/" + under_home + "/reducto";
  }
  return std::nullopt;
}

namespace {

std::optional<std::string> DefaultConfigPath() {
  std::optional<std::string> dir = XdgReductoDirectory("XDG_CONFIG_HOME", ".config");
  if (!dir) return std::nullopt;
  return *dir + "/config.toml";
}

Result<int64_t> ParseInt(const std::string& text, const std::string& what) {
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') return Status::InvalidArgument(what + " must be an integer, got '" + text + "'");
  return static_cast<int64_t>(v);
}

// A TOML value that may be an integer or a size string ("8K").
Result<uint64_t> SizeValue(const toml::node& node, const std::string& key) {
  if (auto v = node.value<int64_t>(); v && *v >= 0) return static_cast<uint64_t>(*v);
  if (auto text = node.value<std::string>()) {
    auto size = ParseSize(*text);
    if (!size.ok()) return size.status().WithContext(key);
    return size;
  }
  return Status::InvalidArgument(key + " must be a size such as 8192 or \"8K\"");
}

Status ApplyChunkingTable(const toml::table& table, const std::string& file, Settings* s) {
  for (const auto& [key, node] : table) {
    std::string k(key.str());
    std::string where = file + ": chunking." + k;
    if (k == "avg") {
      ASSIGN_OR_RETURN(s->avg_size, SizeValue(node, where));
    } else if (k == "min") {
      ASSIGN_OR_RETURN(uint64_t v, SizeValue(node, where));
      s->min_size = v;
    } else if (k == "max") {
      ASSIGN_OR_RETURN(uint64_t v, SizeValue(node, where));
      s->max_size = v;
    } else if (k == "normalization") {
      auto v = node.value<int64_t>();
      if (!v) return Status::InvalidArgument(where + " must be an integer 0..3");
      s->normalization = static_cast<int>(*v);
    } else {
      return Status::InvalidArgument("unknown key chunking." + k + " in " + file +
                                     " (known: avg, min, max, normalization)");
    }
  }
  return Status::Ok();
}

// [retention]: durations kept as text; `reducto gc` parses them (ParseDuration).
Status ApplyRetentionTable(const toml::table& table, const std::string& file, Settings* s) {
  for (const auto& [key, node] : table) {
    std::string k(key.str());
    auto v = node.value<std::string>();
    if (k != "corpus_max_age" && k != "leftover_max_age") {
      return Status::InvalidArgument("unknown key retention." + k + " in " + file +
                                     " (known: corpus_max_age, leftover_max_age)");
    }
    if (!v) return Status::InvalidArgument(file + ": retention." + k + " must be a duration such as \"90d\"");
    if (k == "corpus_max_age") s->corpus_max_age = *v;
    else s->leftover_max_age = *v;
  }
  return Status::Ok();
}

// `trusted_keys = ["release.pub", ...]`: paths relative to the file's directory.
Status ApplyTrustedKeys(const toml::node& node, const std::string& path, Settings* s) {
  const toml::array* array = node.as_array();
  std::string error = path + ": trusted_keys must be an array of public key file paths, " +
                      "e.g. trusted_keys = [\"release.pub\"]";
  if (array == nullptr) return Status::InvalidArgument(error);
  std::filesystem::path base = std::filesystem::path(path).parent_path();
  s->trusted_keys.clear();
  for (const toml::node& element : *array) {
    auto v = element.value<std::string>();
    if (!v || v->empty()) return Status::InvalidArgument(error);
    s->trusted_keys.push_back((base / *v).lexically_normal().string());
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
  for (const auto& [key, node] : root) {
    std::string k(key.str());
    if (k == "corpus") {
      auto v = node.value<std::string>();
      if (!v) return Status::InvalidArgument(path + ": corpus must be a string (a corpus directory)");
      s->corpus = *v;
      s->corpus_source = "`corpus` in " + path;
    } else if (k == "fallback") {
      auto v = node.value<std::string>();
      ASSIGN_OR_RETURN(s->fallback_standalone, ParseFallback(v.value_or(""), path + ": fallback"));
    } else if (k == "level") {
      auto v = node.value<int64_t>();
      if (!v) return Status::InvalidArgument(path + ": level must be an integer 1..22");
      s->level = static_cast<int>(*v);
    } else if (k == "block_size") {
      ASSIGN_OR_RETURN(s->block_size, SizeValue(node, path + ": block_size"));
    } else if (k == "cache_size") {
      ASSIGN_OR_RETURN(s->cache_size, SizeValue(node, path + ": cache_size"));
      RETURN_IF_ERROR(CheckCacheSize(s->cache_size, path + ": cache_size"));
    } else if (k == "max_output") {
      ASSIGN_OR_RETURN(s->max_output, SizeValue(node, path + ": max_output"));
    } else if (k == "threads") {
      auto v = node.value<int64_t>();
      if (!v || *v < 0 || *v > kMaxThreads) {
        return Status::InvalidArgument(path + ": threads must be an integer 0.." +
                                       std::to_string(kMaxThreads) + " (0: one per core)");
      }
      s->threads = static_cast<int>(*v);
    } else if (k == "chunking" && node.is_table()) {
      RETURN_IF_ERROR(ApplyChunkingTable(*node.as_table(), path, s));
    } else if (k == "audit_log" || k == "audit_sign_key") {
      auto v = node.value<std::string>();
      if (!v) return Status::InvalidArgument(path + ": " + k + " must be a path (or \"off\")");
      (k == "audit_log" ? s->audit_log : s->audit_sign_key) = *v;
    } else if (k == "retention" && node.is_table()) {
      RETURN_IF_ERROR(ApplyRetentionTable(*node.as_table(), path, s));
    } else if (k == "trusted_keys") {
      RETURN_IF_ERROR(ApplyTrustedKeys(node, path, s));
    } else if (k == "usage") {
      auto v = node.value<bool>();
      if (!v) return Status::InvalidArgument(path + ": usage must be true or false");
      s->usage = *v;
    } else {
      return Status::InvalidArgument(
          "unknown key '" + k + "' in " + path +
          " (known: corpus, fallback, level, block_size, threads, cache_size, max_output, "
          "trusted_keys, usage, audit_log, "
          "audit_sign_key, [chunking], [retention])");
    }
  }
  s->source = path;
  return Status::Ok();
}

Status ApplyEnvironment(Settings* s) {
  if (const char* v = std::getenv("REDUCTO_CORPUS"); v != nullptr && *v != '\0') {
    s->corpus = v;
    s->corpus_source = "REDUCTO_CORPUS";
  }
  if (const char* v = std::getenv("REDUCTO_FALLBACK"); v != nullptr && *v != '\0') {
    ASSIGN_OR_RETURN(s->fallback_standalone, ParseFallback(v, "REDUCTO_FALLBACK"));
  }
  if (const char* v = std::getenv("REDUCTO_LEVEL"); v != nullptr && *v != '\0') {
    ASSIGN_OR_RETURN(int64_t level, ParseInt(v, "REDUCTO_LEVEL"));
    s->level = static_cast<int>(level);
  }
  if (const char* v = std::getenv("REDUCTO_AUDIT_LOG"); v != nullptr && *v != '\0') s->audit_log = v;
  if (const char* v = std::getenv("REDUCTO_THREADS"); v != nullptr && *v != '\0') {
    ASSIGN_OR_RETURN(int64_t threads, ParseInt(v, "REDUCTO_THREADS"));
    if (threads < 0 || threads > kMaxThreads) {
      return Status::InvalidArgument("REDUCTO_THREADS must be 0.." + std::to_string(kMaxThreads) +
                                     " (0: one per core)");
    }
    s->threads = static_cast<int>(threads);
  }
  if (const char* v = std::getenv("REDUCTO_CACHE_SIZE"); v != nullptr && *v != '\0') {
    auto size = ParseSize(v);
    if (!size.ok()) return size.status().WithContext("REDUCTO_CACHE_SIZE");
    RETURN_IF_ERROR(CheckCacheSize(*size, "REDUCTO_CACHE_SIZE"));
    s->cache_size = *size;
  }
  if (const char* v = std::getenv("REDUCTO_MAX_OUTPUT"); v != nullptr && *v != '\0') {
    auto size = ParseSize(v);
    if (!size.ok()) return size.status().WithContext("REDUCTO_MAX_OUTPUT");
    s->max_output = *size;
  }
  if (const char* v = std::getenv("REDUCTO_BLOCK_SIZE"); v != nullptr && *v != '\0') {
    auto size = ParseSize(v);
    if (!size.ok()) return size.status().WithContext("REDUCTO_BLOCK_SIZE");
    s->block_size = *size;
  }
  if (const char* v = std::getenv("REDUCTO_AVG_SIZE"); v != nullptr && *v != '\0') {
    auto size = ParseSize(v);
    if (!size.ok()) return size.status().WithContext("REDUCTO_AVG_SIZE");
    s->avg_size = *size;
  }
  if (const char* v = std::getenv("REDUCTO_USAGE"); v != nullptr && *v != '\0') {
    std::string text = v;
    if (text == "1" || text == "true" || text == "on") {
      s->usage = true;
    } else if (text == "0" || text == "false" || text == "off") {
      s->usage = false;
    } else {
      return Status::InvalidArgument("REDUCTO_USAGE must be 1 or 0 (true/false, on/off), got '" + text + "'");
    }
  }
  if (const char* v = std::getenv("REDUCTO_TRUSTED_KEYS"); v != nullptr && *v != '\0') {
    s->trusted_keys.clear();
    std::string list = v;
    for (size_t start = 0; start <= list.size();) {
      size_t end = std::min(list.find(':', start), list.size());
      if (end > start) s->trusted_keys.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Settings> LoadSettings(const std::optional<std::string>& explicit_path) {
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
  return settings;
}

Result<bool> ParseFallback(const std::string& text, const std::string& where) {
  if (text == "standalone") return true;
  if (text == "error") return false;
  return Status::InvalidArgument(where + " takes \"error\" (fail when the corpus cannot be "
                                 "found, the default) or \"standalone\", got '" + text + "'");
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

Status CheckCacheSize(uint64_t size, const std::string& where) {
  if (size >= kMinCorpusCacheSize) return Status::Ok();
  return Status::InvalidArgument(where + " " + std::to_string(size) + " is below the smallest " +
                                 "corpus cache, " + HumanBytes(kMinCorpusCacheSize) + ": give " +
                                 "16M or more, or leave it unset for the default (" +
                                 HumanBytes(kDefaultCorpusCacheSize) + ")");
}

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

}  // namespace reducto::cli
