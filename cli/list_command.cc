// reducto list FILE...: what containers hold, like `zstd -l` (DescribeContainer).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "command.h"
#include "encryption_flags.h"
#include "reducto/codec.h"
#include "reducto/digest.h"

namespace reducto::cli {
namespace {

// One container: its description, or why it could not be read.
struct ListedContainer {
  std::string file;
  Result<ContainerDescription> description;
};

std::string Encryption(const ContainerDescription& d) {
  if (!d.readable) return "encrypted (locked)";
  return d.encrypted ? "encrypted" : "none";
}

std::vector<std::string> Row(const ListedContainer& c) {
  const ContainerDescription& d = *c.description;
  if (!d.readable) {
    return {c.file, HumanBytes(d.container_bytes), "?", "?", "?", "?", "?", Encryption(d), "?"};
  }
  return {c.file,
          HumanBytes(d.container_bytes),
          HumanBytes(d.original_bytes),
          Ratio(d.original_bytes, d.container_bytes),
          d.standalone ? "none (standalone)" : d.corpus_id,
          std::to_string(d.level),
          std::to_string(d.blocks),
          Encryption(d),
          d.standalone ? "-" : HumanBytes(d.corpus_bytes_referenced)};
}

nlohmann::ordered_json Json(const ListedContainer& c) {
  nlohmann::ordered_json j;
  j["file"] = c.file;
  if (!c.description.ok()) {
    j["error"] = c.description.status().ToString();
    return j;
  }
  const ContainerDescription& d = *c.description;
  j["container_bytes"] = d.container_bytes;
  j["encrypted"] = d.encrypted;
  if (!d.readable) {
    j["locked"] = d.lock;
    return j;
  }
  j["original_bytes"] = d.original_bytes;
  j["format_version"] = d.format_version;
  j["standalone"] = d.standalone;
  j["corpus"] = d.standalone ? nlohmann::ordered_json() : nlohmann::ordered_json(d.corpus_id);
  if (!d.standalone) j["corpus_manifest_digest"] = ToHex(d.corpus_manifest_digest);
  j["level"] = d.level;
  j["chunking"] = {
      {"min", d.chunking.min_size}, {"avg", d.chunking.avg_size}, {"max", d.chunking.max_size}};
  j["block_size"] = d.block_size;
  j["blocks"] = d.blocks;
  j["literal_bytes"] = d.literal_bytes;
  j["copy_bytes"] = d.copy_bytes;
  j["delta_bytes"] = d.delta_bytes;
  j["corpus_bytes_referenced"] = d.corpus_bytes_referenced;
  return j;
}

struct ListCommand {
  std::vector<std::string> files;
  bool json = false;
  EncryptionFlags encryption;

  CommandResult Run(const Context&) const {
    ASSIGN_OR_RETURN(auto key, encryption.Load());
    std::vector<ListedContainer> listed;
    for (const std::string& file : files) listed.push_back({file, Describe(file, key)});
    int exit_code = ReportProblems(listed);
    std::string text = json ? Dump(listed) : Text(listed);
    std::fputs(text.c_str(), stdout);
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      return Status::Io("cannot write to stdout");
    }
    return CommandResult::Reported(exit_code);
  }

  static Result<ContainerDescription> Describe(const std::string& file, const EnvelopeKey& key) {
    ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenSource(file));
    const EnvelopeKey* unlock = key.empty() ? nullptr : &key;
    ASSIGN_OR_RETURN(ContainerDescription d, DescribeContainer(*source, unlock));
    if (!d.readable) {
      std::error_code ec;
      d.container_bytes = std::filesystem::file_size(file, ec);
    }
    return d;
  }

  // Containers that do not read fail the command (each is reported as it comes, the
  // exit status is 1 whatever their codes); locked ones are a note. The exit status.
  static int ReportProblems(const std::vector<ListedContainer>& listed) {
    int exit_code = kExitOk;
    for (const ListedContainer& c : listed) {
      if (!c.description.ok()) {
        ReportFailure(c.description.status());
        exit_code = kExitFailure;
      } else if (!c.description->readable) {
        std::fprintf(stderr, "reducto: note: %s (to list what it holds)\n",
                     c.description->lock.c_str());
      }
    }
    return exit_code;
  }

  static std::string Text(const std::vector<ListedContainer>& listed) {
    std::vector<std::vector<std::string>> rows = {{"FILE", "SIZE", "ORIGINAL", "RATIO", "CORPUS",
                                                   "LEVEL", "BLOCKS", "ENCRYPTION",
                                                   "CORPUS BYTES"}};
    for (const ListedContainer& c : listed) {
      if (c.description.ok()) rows.push_back(Row(c));
    }
    return rows.size() > 1 ? FormatTable(rows) : "";
  }

  static std::string Dump(const std::vector<ListedContainer>& listed) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const ListedContainer& c : listed) out.push_back(Json(c));
    return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  }
};

}  // namespace

void RegisterListCommand(CLI::App* app, Context& ctx) {
  static ListCommand list;
  auto* cmd = AddCommand(app, ctx, list, "list",
                         "what containers hold: size, original size, ratio, corpus, level, "
                         "blocks, encryption, corpus bytes referenced (no corpus needed)");
  cmd->add_option("files", list.files, "container files")->required();
  cmd->add_flag("--json", list.json, "print JSON");
  list.encryption.Register(cmd, "--decrypt-key");
}

}  // namespace reducto::cli
