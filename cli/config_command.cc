// reducto config show: the effective settings and the layer each came from.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "command.h"

namespace reducto::cli {
namespace {

using Json = nlohmann::ordered_json;

// The value of `setting` in `settings` as JSON: null when unset, sizes in bytes,
// durations in seconds, path lists as arrays.
Json SettingJson(const Settings& settings, const Setting& setting) {
  return std::visit(
      [&](auto member) -> Json {
        const auto& value = settings.*member;
        using T = std::remove_cvref_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::optional<std::string>> ||
                      std::is_same_v<T, std::optional<int>> ||
                      std::is_same_v<T, std::optional<uint64_t>> ||
                      std::is_same_v<T, std::optional<double>>) {
          return value ? Json(*value) : Json();
        } else {
          return Json(value);
        }
      },
      setting.field);
}

// `value` as the configuration file would write it ("unset" for null), so that a line of
// the output is a line of a config.toml.
std::string TomlText(const Setting& setting, const Json& value) {
  if (value.is_null()) return "unset";
  if (setting.kind == SettingKind::kDuration) return "\"" + value.dump() + "s\"";
  // JSON's strings and arrays of strings are TOML's basic strings and arrays.
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (value.is_array()) {
    std::string spaced;
    for (size_t i = 0; i < text.size(); ++i) {
      spaced += text[i];
      if (text[i] == ',' && i + 1 < text.size() && text[i + 1] == '"') spaced += ' ';
    }
    text = spaced;
  }
  return text;
}

// "default", "file /path/config.toml", "environment REDUCTO_THREADS", "flag --level".
std::string SourceText(const Settings& settings, const Setting& setting) {
  switch (settings.LayerOf(setting.key)) {
    case SettingLayer::kDefault: return "default";
    case SettingLayer::kFile: return "file " + settings.source;
    case SettingLayer::kEnvironment: return "environment " + std::string(setting.env);
    case SettingLayer::kFlag: return "flag " + settings.SourceOf(setting.key);
  }
  return "";
}

struct ConfigShowCommand {
  bool json = false;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    std::optional<std::string> looked_for = ctx.config_path ? ctx.config_path : DefaultConfigPath();
    std::string out = json ? JsonReport(settings, looked_for) : TextReport(settings, looked_for);
    if (std::fputs(out.c_str(), stdout) < 0 || std::fflush(stdout) != 0) {
      return Status::Io("cannot write to stdout");
    }
    return Status::Ok();
  }

  static std::string TextReport(const Settings& settings,
                                const std::optional<std::string>& looked_for) {
    std::string out;
    if (!settings.source.empty()) {
      out += "# configuration file " + settings.source + "\n";
    } else if (looked_for) {
      out += "# no configuration file (" + *looked_for + " does not exist)\n";
    } else {
      out += "# no configuration file (neither XDG_CONFIG_HOME nor HOME is set)\n";
    }
    std::vector<std::pair<std::string, std::string>> lines;
    size_t width = 0;
    for (const Setting& setting : SettingTable()) {
      std::string line = std::string(setting.key) + " = " +
                         TomlText(setting, SettingJson(settings, setting));
      width = std::max(width, line.size());
      lines.emplace_back(std::move(line), SourceText(settings, setting));
    }
    for (const auto& [line, source] : lines) {
      out += line + std::string(width - line.size() + 3, ' ') + "(" + source + ")\n";
    }
    return out;
  }

  static std::string JsonReport(const Settings& settings,
                                const std::optional<std::string>& looked_for) {
    Json j;
    j["config_file"] = settings.source.empty() ? Json() : Json(settings.source);
    if (settings.source.empty()) {
      j["config_file_looked_for"] = looked_for ? Json(*looked_for) : Json();
    }
    Json rows = Json::array();
    for (const Setting& setting : SettingTable()) {
      Json row;
      row["key"] = setting.key;
      row["value"] = SettingJson(settings, setting);
      switch (settings.LayerOf(setting.key)) {
        case SettingLayer::kDefault: row["source"] = "default"; break;
        case SettingLayer::kFile:
          row["source"] = "file";
          row["file"] = settings.source;
          break;
        case SettingLayer::kEnvironment:
          row["source"] = "environment";
          row["variable"] = setting.env;
          break;
        case SettingLayer::kFlag:
          row["source"] = "flag";
          row["flag"] = settings.SourceOf(setting.key);
          break;
      }
      rows.push_back(std::move(row));
    }
    j["settings"] = std::move(rows);
    return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  }
};

}  // namespace

void RegisterConfigCommands(CLI::App* app, Context& ctx) {
  auto* config = app->add_subcommand("config", "inspect the configuration");
  config->require_subcommand(1);

  static ConfigShowCommand show;
  auto* cmd = AddCommand(config, ctx, show, "show",
                         "print every setting's effective value and where it came from: a flag "
                         "given here, an environment variable, the configuration file or the "
                         "default");
  cmd->add_flag("--json", show.json, "one JSON object: the file read and each setting's value and source");
  // Every setting that has a flag takes it here too, to show what a command given it uses.
  for (const Setting& setting : SettingTable()) {
    if (!setting.flag.empty()) AddSettingFlag(cmd, setting.key);
  }
}

}  // namespace reducto::cli
